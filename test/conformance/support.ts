/**
 * Helpers of the conformance tests: an SSE reader independent of CodexIn's own
 * parser, and upstream streams that send sparse response objects (only what the
 * spec cannot do without: id, object, created_at, status, model), the shape a
 * minimal Responses upstream streams.
 */
import { makePng, pngDataUrl } from '../e2e/responses/helpers';

export type Json = Record<string, any>;

export const TINY_PNG_DATA_URL = pngDataUrl(makePng(2, 2, [200, 30, 30]));

/** The JSON events of an SSE body, in order (`[DONE]` and comments skipped). */
export async function readSse(res: Response): Promise<Json[]> {
  const text = (await res.text()).replace(/\r\n?/g, '\n');
  const events: Json[] = [];
  for (const block of text.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data === '' || data === '[DONE]') continue;
    events.push(JSON.parse(data) as Json);
  }
  return events;
}

function sparse(id: string, status: string): Json {
  return { id, object: 'response', created_at: 1_760_000_000, status, model: 'gpt-5.5' };
}

/** A text reply from an upstream whose response objects name nothing optional, and whose completed output is empty. */
export function sparseTextEvents(text: string): Json[] {
  const id = 'resp_sparse_text';
  return [
    { type: 'response.created', response: sparse(id, 'in_progress') },
    { type: 'response.in_progress', response: sparse(id, 'in_progress') },
    { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'msg_sparse', role: 'assistant', content: [] } },
    { type: 'response.output_text.delta', output_index: 0, item_id: 'msg_sparse', content_index: 0, delta: text },
    { type: 'response.output_item.done', output_index: 0, item: { type: 'message', id: 'msg_sparse', role: 'assistant', content: [{ type: 'output_text', text }] } },
    { type: 'response.completed', response: { ...sparse(id, 'completed'), output: [], usage: { input_tokens: 3, output_tokens: 2 } } },
  ];
}

/** A function call sent only as `output_item.done` (no argument events), then a sparse completion. */
export function sparseToolEvents(name: string, args: string): Json[] {
  const id = 'resp_sparse_tool';
  return [
    { type: 'response.created', response: sparse(id, 'in_progress') },
    { type: 'response.output_item.done', output_index: 0, item: { type: 'function_call', id: 'fc_sparse', call_id: 'call_sparse', name, arguments: args } },
    { type: 'response.completed', response: { ...sparse(id, 'completed'), output: [] } },
  ];
}
