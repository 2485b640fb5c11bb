/**
 * Chat Completions chunks as SSE (bare `data:` lines, then `data: [DONE]`), from the
 * synchronous chat stream translator.
 */
import { ChatStreamTranslator, encodeChatSse, type ChatStreamOptions } from '../translate/chat-stream';
import { SSE_DONE } from '../stream/sse-encode';
import type { SseFormat } from './sse-body';

export function chatSseFormat(opts: ChatStreamOptions): SseFormat {
  const translator = new ChatStreamTranslator(opts);
  return {
    event(event) {
      let text = '';
      for (const chunk of translator.push(event)) text += encodeChatSse(chunk);
      return text;
    },
    trailer() {
      return (translator.finished ? '' : encodeChatSse(translator.truncated())) + SSE_DONE;
    },
  };
}
