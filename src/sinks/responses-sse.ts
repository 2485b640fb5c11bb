/** Responses events as SSE: `event: <type>` + `data: <json>` per event. */
import { encodeSseEvent } from '../stream/sse-encode';
import type { SseFormat } from './sse-body';

export function responsesSseFormat(): SseFormat {
  return { event: encodeSseEvent, trailer: () => '' };
}
