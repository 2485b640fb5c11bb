/**
 * Reading a Responses result in Chat Completions terms: the text, refusal, reasoning
 * and tool calls an output item contributes, the finish reason and the usage.
 * Shared by the non-stream translation and the stream translation so both produce
 * the same message for the same output.
 */

import type { ChatFinishReason, ChatUsage } from '../openai/chat-types';
import type { ResponseItem, ResponseObject, Usage } from '../openai/responses-types';

/**
 * Chat has one `content` string where Responses may have several message items (e.g. a
 * `commentary` preamble then the `final_answer`), and one `reasoning_content` for many
 * summary parts. Sections are joined with a blank line so they do not run together.
 */
export const SECTION_SEPARATOR = '\n\n';

const partsOf = (item: ResponseItem) => (Array.isArray(item.content) ? item.content : []);

/** The visible text of a `message` item: its `output_text` parts, in order. */
export function messageText(item: ResponseItem): string {
  if (item.type !== 'message') return '';
  return partsOf(item)
    .filter((part) => part.type === 'output_text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('');
}

/** The refusal text of a `message` item (Responses `refusal` parts carry it in `refusal`). */
export function refusalText(item: ResponseItem): string {
  if (item.type !== 'message') return '';
  return partsOf(item)
    .filter((part) => part.type === 'refusal' && typeof part.refusal === 'string')
    .map((part) => part.refusal as string)
    .join('');
}

/** The summary texts of a `reasoning` item, one per summary part. */
export function reasoningSummaries(item: ResponseItem): string[] {
  if (item.type !== 'reasoning' || !Array.isArray(item.summary)) return [];
  return item.summary.map((part) => (typeof part.text === 'string' ? part.text : ''));
}

/**
 * Function calls and freeform (custom) tool calls both surface as Chat function tool
 * calls: chat clients only know function calls, and a custom call's `input` is the
 * whole argument string.
 */
export const isToolCallItem = (item: ResponseItem): boolean =>
  item.type === 'function_call' || item.type === 'custom_tool_call';

export function toolCallArguments(item: ResponseItem): string {
  const value = item.type === 'custom_tool_call' ? item.input : item.arguments;
  return typeof value === 'string' ? value : '';
}

export function finishReason(
  response: Pick<ResponseObject, 'status' | 'incomplete_details'> | undefined,
  hasToolCalls: boolean,
  legacyFunctions = false,
): ChatFinishReason {
  if (hasToolCalls) return legacyFunctions ? 'function_call' : 'tool_calls';
  if (response?.status === 'incomplete') {
    const reason = response.incomplete_details?.reason;
    if (reason === 'max_output_tokens') return 'length';
    if (reason === 'content_filter') return 'content_filter';
  }
  return 'stop';
}

export function chatUsage(usage: Usage | null | undefined): ChatUsage {
  const prompt = usage?.input_tokens ?? 0;
  const completion = usage?.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage?.total_tokens ?? prompt + completion,
    prompt_tokens_details: { cached_tokens: usage?.input_tokens_details?.cached_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage?.output_tokens_details?.reasoning_tokens ?? 0 },
  };
}

/** `resp_abc` → `chatcmpl-abc`: stable, so logs of both APIs can be matched. */
export const chatCompletionId = (responseId: string): string => `chatcmpl-${responseId.replace(/^resp_/, '')}`;
