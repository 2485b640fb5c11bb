/**
 * normalizeEvents(): whatever an upstream streams → a Responses event stream that
 * openai-node's strict `responses.stream()` (≥ 7.5), the Python helper, the AI SDK,
 * Hermes and Codex CLI all accept. The rules live in normalizer.ts (response level)
 * and normalize-items.ts (items); this file drives them over the async source and turns
 * the ways a stream can break into an explicit failure:
 * - `sequence_number` is renumbered from 0, +1 per emitted event;
 * - the upstream throwing (network failure) or ending without a terminal event becomes
 *   `error` + `response.failed`, never a silent cut;
 * - an AbortError, or the consumer returning early, just stops, and cancels the upstream.
 */
import type { ResponseStreamEvent } from '../openai/responses-types';
import { eagerReturn } from './eager-return';
import { ResponseNormalizer, type NormalizeOptions } from './normalizer';

export type { NormalizeOptions } from './normalizer';

function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

function errorText(error: unknown): string {
  // Bun's fetch errors end with a debugging hint ("For more information, pass `verbose: true`...") meant for developers, not API clients.
  if (error instanceof Error) return (error.message || error.name).replace(/\.? For more information, pass `verbose: true`.*$/s, '');
  return String(error);
}

export function normalizeEvents(upstream: AsyncIterable<ResponseStreamEvent>, opts: NormalizeOptions): AsyncGenerator<ResponseStreamEvent, void, undefined> {
  const iterator = upstream[Symbol.asyncIterator]();
  let cancelled = false;

  async function* run(): AsyncGenerator<ResponseStreamEvent, void, undefined> {
    const normalizer = new ResponseNormalizer(opts);
    let sequence = 0;
    let upstreamFinished = false;
    const stamp = (event: ResponseStreamEvent): ResponseStreamEvent => ({ ...event, sequence_number: sequence++ });
    try {
      while (!normalizer.finished) {
        let result: IteratorResult<ResponseStreamEvent>;
        try {
          result = await iterator.next();
        } catch (error) {
          upstreamFinished = true;
          // The consumer went away (its abort reached the fetch): nobody is listening.
          if (cancelled || isAbortError(error)) return;
          const events = normalizer.abort(
            'upstream_stream_error',
            `The connection to the upstream failed mid-response (${errorText(error)}). The response is incomplete; retry the request.`,
          );
          for (const event of events) yield stamp(event);
          return;
        }
        if (cancelled) return;
        if (result.done) {
          upstreamFinished = true;
          const events = normalizer.abort(
            'stream_incomplete',
            'The upstream closed the stream before the response finished (no response.completed). The response is incomplete; retry the request.',
          );
          for (const event of events) yield stamp(event);
          return;
        }
        for (const event of normalizer.push(result.value)) yield stamp(event);
      }
    } finally {
      // After the terminal event (or an early return) the rest of the upstream is not wanted:
      // cancel it so the fetch ends. A cancel already requested by eagerReturn is not repeated,
      // since the upstream may still be busy answering the pending read.
      if (!upstreamFinished && !cancelled) {
        try {
          await iterator.return?.();
        } catch {
          // A failing cancel changes nothing for the client, whose stream is complete.
        }
      }
    }
  }

  return eagerReturn(run(), () => {
    cancelled = true;
    return iterator.return?.();
  });
}
