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
 * Resolves with the final response (`completed`, or `incomplete`, which is a result and not
 * an error: the client decides what to do with a truncated answer). Rejects with an ApiError
 * (502) when the response failed or the stream ended without a terminal event.
 */
export async function aggregateResponse(events: AsyncIterable<ResponseStreamEvent>): Promise<ResponseObject> {
  let terminal: ResponseStreamEvent | undefined;
  let error: StreamErrorBody | undefined;
  // Kept in case a stream that skipped normalization sends an empty terminal output.
  const done = new Map<number, ResponseItem>();
  for await (const event of events) {
    if (event.type === 'error') error ??= normalizeErrorEvent(event);
    else if (event.type === 'response.output_item.done' && event.item && typeof event.output_index === 'number') done.set(event.output_index, event.item);
    else if (TERMINAL_EVENT_TYPES.has(event.type)) {
      terminal = event;
      break;
    }
  }
  const response = terminal?.response;
  if (!terminal || !response) {
    if (error) throw failure(error, undefined);
    throw new ApiError(502, 'upstream_error', 'The upstream stream ended without a final response. Retry the request.', { code: 'stream_incomplete' });
  }
  if (terminal.type === 'response.failed') throw failure(error, response);
  const output = Array.isArray(response.output) && response.output.length > 0 ? response.output : [...done.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  const final: ResponseObject = { ...response, output };
  return { ...final, output_text: outputText(final) };
}

function failure(error: StreamErrorBody | undefined, response: ResponseObject | undefined): ApiError {
  const responseError = response?.error ?? undefined;
  const message = error?.message ?? responseError?.message ?? 'The upstream response failed without giving a reason.';
  const code = error?.code ?? (typeof responseError?.code === 'string' ? responseError.code : null);
  // Extra upstream fields (resets_at, plan_type, ...) stay inside the client's `error` object.
  const { type: _type, code: _code, message: _message, param: _param, ...extra } = error ?? {};
  return new ApiError(502, error?.type ?? 'upstream_error', message, { code, param: error?.param ?? null, extra });
}
