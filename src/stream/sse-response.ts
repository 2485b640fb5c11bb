/**
 * Events → the bytes of an SSE response body.
 *
 * Pull-based: each read of the body pulls one event (or one keep-alive) from the source,
 * so a slow client slows the upstream down instead of making CodexIn buffer the stream.
 * When the client disconnects the body is cancelled, and the cancel is passed on as
 * `return()` to the source, which ends the upstream request.
 */
import type { ResponseObject, ResponseStreamEvent } from '../openai/responses-types';
import { TERMINAL_EVENT_TYPES } from '../openai/responses-types';
import { KEEPALIVE, withKeepalive } from './keepalive';
import { encodeSseEvent, SSE_KEEPALIVE } from './sse-encode';

export interface SseEndInfo {
  /** The terminal event's response (completed, incomplete or failed), for usage metering; null if none was sent. */
  completed: ResponseObject | null;
  /** The client went away before the stream ended. */
  aborted: boolean;
  /** The source threw: the stream was cut with a network error. */
  error?: unknown;
}

export interface SseStreamOptions<T = ResponseStreamEvent> {
  /** Silence after which a `: keepalive` comment is sent; 0 or less disables keep-alives. */
  keepaliveMs: number;
  /** Frames one event (default: `event: <type>` + `data: <json>`); chat completions pass their own. */
  encode?: (event: T) => string;
  /** Called exactly once when the stream ends, however it ends. */
  onEnd?: (info: SseEndInfo) => void;
  /** Written after the last event when the source ends normally (e.g. `data: [DONE]` for chat). */
  trailer?: string;
}

/** The response of a terminal Responses event, whatever the stream's item type. */
function terminalResponse(value: unknown): ResponseObject | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const event = value as Partial<ResponseStreamEvent>;
  return typeof event.type === 'string' && TERMINAL_EVENT_TYPES.has(event.type) && event.response ? event.response : undefined;
}

/** Responses events, framed by encodeSseEvent unless `encode` says otherwise. */
export function sseStream(events: AsyncIterable<ResponseStreamEvent>, opts: SseStreamOptions<ResponseStreamEvent>): ReadableStream<Uint8Array>;
/** Any other items (e.g. chat.completion.chunk objects), with their own `encode`. */
export function sseStream<T>(events: AsyncIterable<T>, opts: SseStreamOptions<T> & { encode: (event: T) => string }): ReadableStream<Uint8Array>;
export function sseStream<T>(events: AsyncIterable<T>, opts: SseStreamOptions<T>): ReadableStream<Uint8Array> {
  const source: AsyncIterator<T | typeof KEEPALIVE> = opts.keepaliveMs > 0 ? withKeepalive(events, opts.keepaliveMs) : events[Symbol.asyncIterator]();
  // The overloads allow the default encoder only when T is ResponseStreamEvent.
  const encode = opts.encode ?? (encodeSseEvent as unknown as (event: T) => string);
  const bytes = new TextEncoder();
  let completed: ResponseObject | null = null;
  let ended = false;

  const end = (info: Omit<SseEndInfo, 'completed'>): void => {
    if (ended) return;
    ended = true;
    // Metering must not break the stream it meters: a throwing callback is the caller's bug,
    // reported asynchronously rather than turned into a cut response.
    try {
      opts.onEnd?.({ completed, ...info });
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: IteratorResult<T | typeof KEEPALIVE>;
        try {
          result = await source.next();
        } catch (error) {
          end({ aborted: false, error });
          controller.error(error);
          return;
        }
        if (ended) return; // cancelled while the pull was in flight
        if (result.done) {
          if (opts.trailer) controller.enqueue(bytes.encode(opts.trailer));
          controller.close();
          end({ aborted: false });
          return;
        }
        const event = result.value;
        if (event === KEEPALIVE) {
          controller.enqueue(bytes.encode(SSE_KEEPALIVE));
          return;
        }
        completed = terminalResponse(event) ?? completed;
        controller.enqueue(bytes.encode(encode(event)));
      },
      cancel() {
        end({ aborted: true });
        // Not awaited: the source may be waiting on the upstream, and the cancel itself is what frees it.
        void Promise.resolve(source.return?.()).catch(() => {});
      },
    },
    // No read-ahead: nothing is pulled from the upstream until the client reads.
    { highWaterMark: 0 },
  );
}
