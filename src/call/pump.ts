/**
 * One pump per stream: a single loop that reads upstream chunks, decodes SSE
 * synchronously, normalizes (ResponseNormalizer), numbers the events, meters the
 * terminal one, and writes each to a synchronous sink. One timer per stream serves
 * both the keepalive (client side: quiet for keepaliveMs) and the idle limit
 * (upstream side: nothing for idleMs → error + response.failed). Cancelling the
 * upstream reader is the only way a stream stops early: the client leaving, the idle
 * limit and the end of the response all go through it, which ends the fetch.
 *
 * The ways a stream can break become an explicit failure, never a silent cut:
 * the upstream throwing (network failure) or ending without a terminal event gives
 * `error` + `response.failed`; a client that left just stops the pump.
 */
import type { ResponseObject, ResponseStreamEvent } from '../openai/responses-types';
import { TERMINAL_EVENT_TYPES } from '../openai/responses-types';
import { ResponseNormalizer, type NormalizeOptions } from '../stream/normalizer';
import { ResponseEventDecoder } from '../stream/sse-parse';
import type { Sink } from '../sinks/sink';
import { clientSafeEvent } from '../upstream/client-safe';

/** Where the events come from: the upstream's SSE body (decoded here), or parsed events. */
export type PumpSource = { body: ReadableStream<Uint8Array> } | { events: AsyncIterable<ResponseStreamEvent> };

export interface PumpOptions extends NormalizeOptions {
  /** Upstream silence after which the response is failed (0: no limit). */
  idleMs: number;
  /** Client-side silence after which the sink sends a keepalive (0: none). */
  keepaliveMs: number;
}

export interface PumpEnd {
  /** The terminal event's response, null if none was produced. */
  final: ResponseObject | null;
  /** The pump stopped because cancel() was called (the client left). */
  cancelled: boolean;
}

export interface Pump {
  /** Resolves when the stream is over, however it ended; never rejects. */
  readonly done: Promise<PumpEnd>;
  /** Stops the stream (client gone): the upstream read is cancelled. Idempotent. */
  cancel(): void;
}

function errorText(error: unknown): string {
  // Bun's fetch errors end with a debugging hint ("For more information, pass `verbose: true`...") meant for developers, not API clients.
  if (error instanceof Error) return (error.message || error.name).replace(/\.? For more information, pass `verbose: true`.*$/s, '');
  return String(error);
}

/** Reads one batch of upstream events, or null at the end of the stream. */
interface Reader {
  read(): Promise<ResponseStreamEvent[] | null>;
  cancel(): void;
}

function bodyReader(body: ReadableStream<Uint8Array>): Reader {
  const reader = body.getReader();
  const decoder = new ResponseEventDecoder();
  let ended = false;
  return {
    async read() {
      if (ended) return null;
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        const rest = decoder.end();
        return rest.length ? rest : null;
      }
      return decoder.push(value);
    },
    cancel() {
      ended = true;
      reader.cancel().catch(() => {});
    },
  };
}

function iteratorReader(events: AsyncIterable<ResponseStreamEvent>): Reader {
  const iterator = events[Symbol.asyncIterator]();
  let ended = false;
  let cancelPending: (() => void) | null = null;
  return {
    async read() {
      if (ended) return null;
      const next = iterator.next();
      // cancel() must free a pending read, as a body reader's cancel does.
      const cancelled = new Promise<null>((resolve) => (cancelPending = () => resolve(null)));
      const result = await Promise.race([next, cancelled]);
      cancelPending = null;
      if (result === null || result.done) {
        ended = true;
        return null;
      }
      return [result.value];
    },
    cancel() {
      ended = true;
      cancelPending?.();
      Promise.resolve(iterator.return?.()).catch(() => {});
    },
  };
}

export function startPump(source: PumpSource, sink: Sink, opts: PumpOptions): Pump {
  const reader = 'body' in source ? bodyReader(source.body) : iteratorReader(source.events);
  const normalizer = new ResponseNormalizer(opts);
  let sequence = 0;
  let final: ResponseObject | null = null;
  let cancelled = false;
  let idle = false;
  let upstreamDone = false;
  let lastUpstream = performance.now();
  let lastWrite = lastUpstream;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const write = (events: ResponseStreamEvent[]): void => {
    for (const event of events) {
      event.sequence_number = sequence++;
      if (TERMINAL_EVENT_TYPES.has(event.type)) final = event.response ?? null;
      sink.event(event);
    }
    if (events.length) lastWrite = performance.now();
  };

  // One lazily re-armed timer: chunks only move timestamps; the timer checks them when it fires.
  const arm = (): void => {
    const dues: number[] = [];
    if (opts.keepaliveMs > 0) dues.push(lastWrite + opts.keepaliveMs);
    if (opts.idleMs > 0) dues.push(lastUpstream + opts.idleMs);
    if (!dues.length) return;
    timer = setTimeout(tick, Math.max(1, Math.min(...dues) - performance.now()));
  };
  const tick = (): void => {
    timer = null;
    if (cancelled || upstreamDone) return;
    const now = performance.now();
    if (opts.idleMs > 0 && now - lastUpstream >= opts.idleMs) {
      idle = true;
      reader.cancel();
      return;
    }
    if (opts.keepaliveMs > 0 && now - lastWrite >= opts.keepaliveMs) {
      sink.keepalive();
      lastWrite = now;
    }
    arm();
  };

  const run = async (): Promise<PumpEnd> => {
    arm();
    try {
      while (!normalizer.finished) {
        const batch = await reader.read();
        if (cancelled) break;
        if (idle) {
          upstreamDone = true;
          write(normalizer.abort('upstream_stream_error', `The connection to the upstream failed mid-response (the upstream sent nothing for ${Math.round(opts.idleMs / 1000)} s). The response is incomplete; retry the request.`));
          break;
        }
        if (batch === null) {
          upstreamDone = true;
          write(normalizer.abort('stream_incomplete', 'The upstream closed the stream before the response finished (no response.completed). The response is incomplete; retry the request.'));
          break;
        }
        lastUpstream = performance.now();
        for (const event of batch) {
          // Upstream error text reaches clients only redacted and capped (a no-op for other events).
          write(normalizer.push(clientSafeEvent(event)));
          if (normalizer.finished) break;
        }
        const behind = sink.backpressure();
        if (behind) await behind;
      }
    } catch (error) {
      upstreamDone = true;
      // An AbortError is the client's request signal reaching the fetch: the client left.
      if (error instanceof Error && error.name === 'AbortError') cancelled = true;
      if (!cancelled) {
        write(normalizer.abort('upstream_stream_error', `The connection to the upstream failed mid-response (${errorText(error)}). The response is incomplete; retry the request.`));
      }
    } finally {
      if (timer) clearTimeout(timer);
      // After the terminal event the rest of the upstream is not wanted: end the fetch.
      if (!upstreamDone) reader.cancel();
      sink.end();
    }
    return { final, cancelled };
  };

  const done = run();
  return {
    done,
    cancel() {
      if (cancelled) return;
      cancelled = true;
      reader.cancel();
    },
  };
}
