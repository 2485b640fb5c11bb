/**
 * A finished Responses object → one `chat.completion` (the `stream:false` chat reply).
 * The caller handles `status: "failed"` (it is an error, not a completion).
 */

import type { ChatCompletion, ChatCompletionMessage, ChatToolCall } from '../openai/chat-types';
import type { ResponseObject } from '../openai/responses-types';
import {
  SECTION_SEPARATOR,
  chatCompletionId,
  chatUsage,
  finishReason,
  isToolCallItem,
  messageText,
  reasoningSummaries,
  refusalText,
  toolCallArguments,
} from './chat-output';

const nonEmpty = (text: string) => text !== '';

export function responseToChatCompletion(
  response: ResponseObject,
  opts: { model: string; id?: string; created?: number; legacyFunctions?: boolean },
): ChatCompletion {
  const output = Array.isArray(response.output) ? response.output : [];

  const text = output.map(messageText).filter(nonEmpty).join(SECTION_SEPARATOR);
  const refusal = output.map(refusalText).filter(nonEmpty).join(SECTION_SEPARATOR);
  const reasoning = output.flatMap(reasoningSummaries).filter(nonEmpty).join(SECTION_SEPARATOR);
  const toolCalls: ChatToolCall[] = output.filter(isToolCallItem).map((item) => ({
    id: item.call_id ?? item.id ?? '',
    type: 'function',
    function: { name: item.name ?? '', arguments: toolCallArguments(item) },
  }));

  const message: ChatCompletionMessage = {
    role: 'assistant',
    // Chat convention: content is null when the turn is only tool calls (or a refusal).
    content: text === '' && (toolCalls.length > 0 || refusal !== '') ? null : text,
    refusal: refusal === '' ? null : refusal,
  };
  // A `functions` request is answered in its own terms (openai@4's runFunctions reads only
  // function_call); it asked for one call at a time (parallel_tool_calls: false upstream).
  if (toolCalls.length > 0 && opts.legacyFunctions) message.function_call = toolCalls[0]!.function;
  else if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning !== '') message.reasoning_content = reasoning;

  const completion: ChatCompletion = {
    id: opts.id ?? chatCompletionId(response.id),
    object: 'chat.completion',
    created: opts.created ?? response.created_at ?? Math.floor(Date.now() / 1000),
    model: opts.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(response, toolCalls.length > 0, opts.legacyFunctions) }],
  };
  if (response.usage) completion.usage = chatUsage(response.usage);
  if (typeof response.service_tier === 'string') completion.service_tier = response.service_tier;
  return completion;
}
