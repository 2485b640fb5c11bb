/**
 * Responses events as WebSocket text frames, one JSON frame per event. A client that
 * reads slower than the model writes makes the socket buffer grow; past HIGH_WATER
 * the sink asks the pump to wait for Bun's `drain` before reading the upstream again.
 */
import type { ServerWebSocket } from 'bun';
import type { Sink } from './sink';

/** Bytes buffered for a slow reader before the pump stops pulling from the upstream. */
export const HIGH_WATER_BYTES = 1 << 20;

export interface FrameSocket {
  readonly socket: ServerWebSocket<unknown>;
  /** True once the client has gone: nothing more is sent. */
  closed(): boolean;
  /** Resolves at the socket's next `drain` (or close). */
  drained(): Promise<void>;
}

export function wsFrameSink(target: FrameSocket): Sink {
  return {
    event(event) {
      if (!target.closed()) target.socket.send(JSON.stringify(event));
    },
    // A WebSocket needs no keepalive frames: Bun answers pings, and Codex sends them.
    keepalive() {},
    end() {},
    backpressure() {
      if (target.closed() || target.socket.getBufferedAmount() < HIGH_WATER_BYTES) return null;
      return target.drained();
    },
  };
}
