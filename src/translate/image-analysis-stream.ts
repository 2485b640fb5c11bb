/**
 * Responses events → the image-analysis helper's own small SSE vocabulary, so a
 * caller needs no Responses parser:
 *
 *   event: delta  data: {"type":"delta","text":"..."}                       (repeated)
 *   event: done   data: {"type":"done","id","model","text","usage"}          (last, on success)
 *   event: error  data: {"type":"error","error":{"message","type","code"}}  (last, on failure)
 *
 * Exactly one `done` or `error` ends every stream. Synchronous and pure: the analysis sink drives it.
 */
import type { ResponseStreamEvent, Usage } from '../openai/responses-types';
import { normalizeErrorEvent, type StreamErrorBody } from '../stream/stream-error';
import { outputText } from '../stream/aggregate';

export type AnalysisEvent =
  | { type: 'delta'; text: string }
  | { type: 'done'; id: string; model: string; text: string; usage: Usage | null }
  | { type: 'error'; error: { message: string; type: string; code: string | null } };

/** The synchronous translation: push each event, then end() for the closing `error` of a cut stream. */
export class AnalysisTranslator {
  private text = '';
  private error: StreamErrorBody | undefined;
  private finished = false;

  constructor(private readonly model: string) {}

  push(event: ResponseStreamEvent): AnalysisEvent[] {
    if (this.finished) return [];
    if (event.type === 'response.output_text.delta' && typeof event.delta === 'string') {
      this.text += event.delta;
      return [{ type: 'delta', text: event.delta }];
    }
    if (event.type === 'error') {
      this.error ??= normalizeErrorEvent(event);
    } else if (event.type === 'response.completed' || event.type === 'response.incomplete') {
      this.finished = true;
      const response = event.response;
      const final = response ? outputText(response) || this.text : this.text;
      return [{ type: 'done', id: response?.id ?? '', model: this.model, text: final, usage: response?.usage ?? null }];
    } else if (event.type === 'response.failed') {
      this.finished = true;
      const failure = event.response?.error;
      const error = this.error;
      return [
        {
          type: 'error',
          error: {
            message: error?.message ?? failure?.message ?? 'The upstream response failed without giving a reason.',
            type: error?.type ?? 'upstream_error',
            code: error?.code ?? (typeof failure?.code === 'string' ? failure.code : null),
          },
        },
      ];
    }
    return [];
  }

  /** The closing event of a stream that ended without a terminal event; null after one. */
  end(): AnalysisEvent | null {
    if (this.finished) return null;
    this.finished = true;
    return { type: 'error', error: { message: 'The upstream stream ended without a final response. Retry the request.', type: 'upstream_error', code: 'stream_incomplete' } };
  }
}

export function encodeAnalysisSse(event: AnalysisEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
