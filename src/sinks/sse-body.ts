/**
 * An SSE response body fed by a pump. Bun's `type: "direct"` stream: the pump's
 * sink writes strings straight into the response (no chunk objects, no queue), and
 * flushes once per upstream chunk; a write or flush that returns a promise (slow
 * client) is the sink's backpressure, so the pump stops reading the upstream. The client going away
 * cancels the body, which cancels the pump, which cancels the upstream read.
 */
import type { ResponseStreamEvent } from '../openai/responses-types';
import type { Pump } from '../call/pump';
import type { Sink } from './sink';

/** A synchronous edge format: events in, SSE text out. */
export interface SseFormat {
  /** The frames for one event ('' when the format has nothing to say about it). */
  event(event: ResponseStreamEvent): string;
  /** Written after the stream when it was not cancelled (chat's `data: [DONE]`). */
  trailer(): string;
}

export const SSE_KEEPALIVE = ': keepalive\n\n';

/** The part of Bun's direct-stream controller this uses. */
interface DirectController {
  write(chunk: string): number | Promise<number>;
  flush(): number | Promise<number> | undefined;
  close(): void;
}

export interface PipedCall {
  pipe(sink: Sink, opts: { keepaliveMs: number }): Pump;
  /** The body was cancelled before it was ever read. */
  abandon(): void;
}

export function sseBody(format: SseFormat, call: PipedCall, keepaliveMs: number): ReadableStream<Uint8Array> {
  let pump: Pump | null = null;
  let gone = false;
  const source = {
    type: 'direct' as const,
    async pull(controller: DirectController) {
      // Bun's direct write() returns a promise while the client is behind: that is the backpressure.
      let behind: Promise<unknown> | null = null;
      const write = (text: string): void => {
        const written = controller.write(text);
        if (written instanceof Promise) behind = written;
      };
      const sink: Sink = {
        event(event) {
          const text = format.event(event);
          if (text && !gone) write(text);
        },
        keepalive() {
          if (gone) return;
          write(SSE_KEEPALIVE);
          void controller.flush();
        },
        end() {},
        backpressure() {
          if (gone) return null;
          const flushed = controller.flush();
          const wait = flushed instanceof Promise ? (behind ? Promise.all([behind, flushed]) : flushed) : behind;
          behind = null;
          return wait;
        },
      };
      pump = call.pipe(sink, { keepaliveMs });
      const end = await pump.done;
      if (gone) return;
      if (!end.cancelled) {
        const tail = format.trailer();
        if (tail) void controller.write(tail);
      }
      controller.close();
    },
    cancel() {
      gone = true;
      if (pump) pump.cancel();
      else call.abandon();
    },
  };
  // Bun's types know `type: "direct"` only on its own overload; the source is shaped for it.
  return new ReadableStream(source as unknown as ConstructorParameters<typeof ReadableStream<Uint8Array>>[0]);
}
