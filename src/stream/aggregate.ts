/**
 * A normalized event stream → the one Response object a `stream: false` client gets
 * (the ChatGPT backend only streams, so non-streaming requests are served this way).
 */
import { ApiError } from '../openai/api-error';
import type { ResponseItem, ResponseObject, ResponseStreamEvent } from '../openai/responses-types';
import { TERMINAL_EVENT_TYPES } from '../openai/responses-types';
import { normalizeErrorEvent, type StreamErrorBody } from './stream-error';

/** The concatenated text of every output_text part of every message, as the SDKs compute `output_text`. */
export function outputText(response: ResponseObject): string {
  let text = '';
  for (const item of response.output ?? []) {
    if (item.type !== 'message' || !Array.isArray(item.content)) continue;
    for (const part of item.content) {
      if (part?.type === 'output_text' && typeof part.text === 'string') text += part.text;
    }
  }
  return text;
}

/**
 * Collects a normalized event stream, synchronously. result() gives the final response
 * (`completed`, or `incomplete`, which is a result and not an error: the client decides
 * what to do with a truncated answer), or throws an ApiError (502) when the response
 * failed or the stream ended without a terminal event.
 */
export class ResponseAggregator {
  private terminal: ResponseStreamEvent | undefined;
  private error: StreamErrorBody | undefined;
  // Kept in case a stream that skipped normalization sends an empty terminal output.
  private readonly done = new Map<number, ResponseItem>();

  get finished(): boolean {
    return this.terminal !== undefined;
  }

  push(event: ResponseStreamEvent): void {
    if (this.terminal) return;
    if (event.type === 'error') this.error ??= normalizeErrorEvent(event);
    else if (event.type === 'response.output_item.done' && event.item && typeof event.output_index === 'number') this.done.set(event.output_index, event.item);
    else if (TERMINAL_EVENT_TYPES.has(event.type)) this.terminal = event;
  }

  result(): ResponseObject {
    const { terminal, error } = this;
    const response = terminal?.response;
    if (!terminal || !response) {
      if (error) throw failure(error, undefined);
      throw new ApiError(502, 'upstream_error', 'The upstream stream ended without a final response. Retry the request.', { code: 'stream_incomplete' });
    }
    if (terminal.type === 'response.failed') throw failure(error, response);
    const output = Array.isArray(response.output) && response.output.length > 0 ? response.output : [...this.done.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
    const final: ResponseObject = { ...response, output };
    return { ...final, output_text: outputText(final) };
  }
}

/** The same over an async event source (tests, recorded streams). */
export async function aggregateResponse(events: AsyncIterable<ResponseStreamEvent>): Promise<ResponseObject> {
  const aggregator = new ResponseAggregator();
  for await (const event of events) {
    aggregator.push(event);
    if (aggregator.finished) break;
  }
  return aggregator.result();
}

function failure(error: StreamErrorBody | undefined, response: ResponseObject | undefined): ApiError {
  const responseError = response?.error ?? undefined;
  const message = error?.message ?? responseError?.message ?? 'The upstream response failed without giving a reason.';
  const code = error?.code ?? (typeof responseError?.code === 'string' ? responseError.code : null);
  // Extra upstream fields (resets_at, plan_type, ...) stay inside the client's `error` object.
  const { type: _type, code: _code, message: _message, param: _param, ...extra } = error ?? {};
  return new ApiError(502, error?.type ?? 'upstream_error', message, { code, param: error?.param ?? null, extra });
}
