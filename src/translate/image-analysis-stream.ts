/**
 * Responses events → the image-analysis helper's own small SSE vocabulary, so a
 * caller needs no Responses parser:
 *
 *   event: delta  data: {"type":"delta","text":"..."}                       (repeated)
 *   event: done   data: {"type":"done","id","model","text","usage"}          (last, on success)
 *   event: error  data: {"type":"error","error":{"message","type","code"}}  (last, on failure)
 *
 * Exactly one `done` or `error` ends every stream. Pure over its input iterable.
 */
import type { ResponseStreamEvent, Usage } from '../openai/responses-types';
import { normalizeErrorEvent, type StreamErrorBody } from '../stream/stream-error';
import { outputText } from '../stream/aggregate';

export type AnalysisEvent =
  | { type: 'delta'; text: string }
  | { type: 'done'; id: string; model: string; text: string; usage: Usage | null }
  | { type: 'error'; error: { message: string; type: string; code: string | null } };

export async function* analysisEvents(events: AsyncIterable<ResponseStreamEvent>, model: string): AsyncGenerator<AnalysisEvent, void, undefined> {
  let text = '';
  let error: StreamErrorBody | undefined;
  for await (const event of events) {
    if (event.type === 'response.output_text.delta' && typeof event.delta === 'string') {
      text += event.delta;
      yield { type: 'delta', text: event.delta };
    } else if (event.type === 'error') {
      error ??= normalizeErrorEvent(event);
    } else if (event.type === 'response.completed' || event.type === 'response.incomplete') {
      const response = event.response;
      const final = response ? outputText(response) || text : text;
      yield { type: 'done', id: response?.id ?? '', model, text: final, usage: response?.usage ?? null };
      return;
    } else if (event.type === 'response.failed') {
      const failure = event.response?.error;
      yield {
        type: 'error',
        error: {
          message: error?.message ?? failure?.message ?? 'The upstream response failed without giving a reason.',
          type: error?.type ?? 'upstream_error',
          code: error?.code ?? (typeof failure?.code === 'string' ? failure.code : null),
        },
      };
      return;
    }
  }
  yield { type: 'error', error: { message: 'The upstream stream ended without a final response. Retry the request.', type: 'upstream_error', code: 'stream_incomplete' } };
}

export function encodeAnalysisSse(event: AnalysisEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
