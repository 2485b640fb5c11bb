/**
 * A sink is an edge format: it takes normalized Responses events, synchronously,
 * and writes them to its consumer (an SSE body, a WebSocket, an aggregate). The pump
 * (call/pump.ts) is its only caller.
 */
import type { ResponseStreamEvent } from '../openai/responses-types';

export interface Sink {
  /** One normalized event, in order, sequence-numbered. Nothing follows the terminal event. */
  event(event: ResponseStreamEvent): void;
  /** The stream has been quiet for the keepalive interval. */
  keepalive(): void;
  /** The stream is over (after the terminal event, or cancelled). Called once. */
  end(): void;
  /** A promise while the consumer is behind (the pump waits before reading more); null when it keeps up. */
  backpressure(): Promise<unknown> | null;
}
