/**
 * Turns a lazy sequence of steps into an SSE body. Pull-based so a slow or
 * cancelled client stops generation, and so `cancel()` tells us the client left
 * before the stream ended.
 */
import type { JsonObject } from './http';
import { sleep } from './http';

export type Step = { kind: 'event'; event: JsonObject } | { kind: 'pause'; ms: number } | { kind: 'drop' };

export const ev = (event: JsonObject): Step => ({ kind: 'event', event });

export interface SseOptions {
  steps: Iterable<Step>;
  /** Wait before every event but the first. */
  delayMs: number;
  /** During a pause, write an SSE comment this often (unset: true silence). */
  keepaliveMs?: number;
  /** Over a real socket the drop must be a silent reset (an Error would be logged by Bun). */
  viaServer: boolean;
  onAbort: () => void;
}

const encoder = new TextEncoder();

export function frame(event: JsonObject): string {
  const data = JSON.stringify(event);
  return typeof event.type === 'string' ? `event: ${event.type}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}

/** Fills `sequence_number` where absent, keeping `type` first like the real stream. */
export class Sequencer {
  private next = 0;
  stamp(event: JsonObject): JsonObject {
    if (typeof event.sequence_number === 'number') {
      this.next = event.sequence_number + 1;
      return event;
    }
    const { type, ...rest } = event;
    const stamped: JsonObject = type === undefined ? {} : { type };
    stamped.sequence_number = this.next++;
    return Object.assign(stamped, rest);
  }
}

export function sseBody(opts: SseOptions): { body: ReadableStream<Uint8Array>; abort: () => void } {
  const it = opts.steps[Symbol.iterator]();
  const seq = new Sequencer();
  let sent = 0;
  let finished = false;
  let cancelled = false;
  const abort = (): void => {
    if (finished || cancelled) return;
    cancelled = true;
    opts.onAbort();
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (cancelled) return;
        const step = it.next();
        if (step.done) {
          finished = true;
          controller.close();
          return;
        }
        const s = step.value;
        if (s.kind === 'pause') {
          await pause(s.ms, opts.keepaliveMs, () => cancelled, (text) => controller.enqueue(encoder.encode(text)));
          continue;
        }
        if (s.kind === 'drop') {
          // Give the socket time to flush what was already written, then cut it.
          await sleep(20);
          finished = true;
          controller.error(opts.viaServer ? undefined : new Error('simulated upstream connection drop'));
          return;
        }
        if (sent > 0) await sleep(opts.delayMs);
        if (cancelled) return;
        sent += 1;
        controller.enqueue(encoder.encode(frame(seq.stamp(s.event))));
        return;
      }
    },
    cancel() {
      abort();
    },
  });
  return { body, abort };
}

async function pause(ms: number, keepaliveMs: number | undefined, cancelled: () => boolean, write: (text: string) => void): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0 || cancelled()) return;
    if (!keepaliveMs || keepaliveMs <= 0) {
      await sleep(Math.min(left, 50));
      continue;
    }
    await sleep(Math.min(left, keepaliveMs));
    if (!cancelled() && until - Date.now() > 0) write(': keepalive\n\n');
  }
}

/** Events of a plan, for answers that are not streamed (OpenAI-mode `stream:false`). */
export function collect(steps: Iterable<Step>): { events: JsonObject[]; dropped: boolean } {
  const events: JsonObject[] = [];
  const seq = new Sequencer();
  for (const s of steps) {
    if (s.kind === 'drop') return { events, dropped: true };
    if (s.kind === 'event') events.push(seq.stamp(s.event));
  }
  return { events, dropped: false };
}
