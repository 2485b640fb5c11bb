/**
 * SSE framing for what CodexIn sends. Responses streams name each event after its
 * JSON `type` (openai-node and the AI SDK read the `event:` line; Codex reads the JSON);
 * Chat Completions chunks carry only `data:`.
 *
 * JSON.stringify never emits a raw newline, so one `data:` line per event is always valid.
 */
import type { ResponseStreamEvent } from '../openai/responses-types';

export function encodeSseEvent(event: ResponseStreamEvent): string {
  // A line break inside the name would end the field early and corrupt the frame.
  const name = event.type.replace(/[\r\n]/g, '');
  return `event: ${name}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function encodeSseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** A comment line: every SSE parser ignores it, but proxies and idle timers see traffic. */
export const SSE_KEEPALIVE = ': keepalive\n\n';

/** The Chat Completions end marker. Responses streams must not send it (they end on the terminal event). */
export const SSE_DONE = 'data: [DONE]\n\n';
