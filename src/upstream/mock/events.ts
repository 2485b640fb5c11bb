/**
 * Builders for the Responses event model in the backend's real shapes (protocol
 * §2.5 and the captured streams in shared/fixtures). Everything is a generator so
 * a long stream is produced only as fast as the client reads it.
 */
import type { ContentPart, ResponseItem, Usage } from '../../openai/responses-types';
import type { JsonObject } from './http';
import { newCallId, newId, obfuscation, opaqueBlob } from './ids';
import { mockPngBase64 } from './png';
import { rateLimitsEvent, type QuotaSnapshot } from './ratelimits';
import { ev, type Step } from './streams';

/** What one response is about; fixed before the first event. */
export interface Turn {
  id: string;
  createdAt: number;
  model: string;
  request: JsonObject;
  inputTokens: number;
  cachedTokens: number;
  /**
   * ChatGPT mode: the quota sent as `codex.rate_limits`, and `response.completed`
   * carries an empty `output` (§3.4). OpenAI mode (null): the full output, no quota event.
   */
  quota: QuotaSnapshot | null;
}

export type ItemSpec =
  | { type: 'reasoning'; summary: string | null; encrypted: boolean; tokens: number }
  | { type: 'message'; phase: 'commentary' | 'final_answer'; chunks: Iterable<string> }
  | { type: 'function_call'; name: string; arguments: string; deltas: boolean }
  | { type: 'custom_tool_call'; name: string; input: string }
  | { type: 'image_generation'; prompt: string; partialImages: number };

/** Output size tallied while items stream, for the final usage. */
interface Tally {
  chars: number;
  reasoningTokens: number;
}

export function chunkText(text: string, size: number): string[] {
  const n = Math.max(1, Math.floor(size));
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += n) chunks.push(text.slice(i, i + n));
  return chunks;
}

export function responseObject(turn: Turn, status: string, output: ResponseItem[], usage: Usage | null, error: JsonObject | null = null): JsonObject {
  const r = turn.request;
  const text = typeof r.text === 'object' && r.text !== null ? (r.text as JsonObject) : {};
  return {
    id: turn.id,
    object: 'response',
    created_at: turn.createdAt,
    status,
    background: false,
    error,
    incomplete_details: null,
    instructions: typeof r.instructions === 'string' ? r.instructions : null,
    max_output_tokens: r.max_output_tokens ?? null,
    max_tool_calls: null,
    model: turn.model,
    output,
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: null,
    prompt_cache_key: r.prompt_cache_key ?? null,
    reasoning: r.reasoning ? { effort: null, summary: null, ...(r.reasoning as JsonObject) } : { effort: null, summary: null },
    safety_identifier: null,
    service_tier: r.service_tier ?? 'auto',
    store: r.store ?? (turn.quota ? false : true),
    temperature: r.temperature ?? 1.0,
    text: { format: { type: 'text' }, verbosity: 'medium', ...text },
    tool_choice: r.tool_choice ?? 'auto',
    tools: Array.isArray(r.tools) ? r.tools : [],
    top_logprobs: 0,
    top_p: r.top_p ?? 1.0,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: {},
  };
}

export function usageFor(turn: Turn, tally: Tally): Usage {
  const output = Math.ceil(tally.chars / 4) + tally.reasoningTokens;
  return {
    input_tokens: turn.inputTokens,
    input_tokens_details: { cached_tokens: turn.cachedTokens },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: tally.reasoningTokens },
    total_tokens: turn.inputTokens + output,
  };
}

/** `response.created`, `response.in_progress` and, in ChatGPT mode, `codex.rate_limits`. */
export function* openingSteps(turn: Turn): Generator<Step> {
  yield ev({ type: 'response.created', response: responseObject(turn, 'in_progress', [], null) });
  yield ev({ type: 'response.in_progress', response: responseObject(turn, 'in_progress', [], null) });
  if (turn.quota) yield ev(rateLimitsEvent(turn.quota));
}

/** A complete, successful stream made of the given items. */
export function* turnSteps(turn: Turn, specs: ItemSpec[]): Generator<Step> {
  yield* openingSteps(turn);
  const tally: Tally = { chars: 0, reasoningTokens: 0 };
  const output: ResponseItem[] = [];
  for (const [index, spec] of specs.entries()) output.push(yield* itemSteps(spec, index, tally));
  const completed = responseObject(turn, 'completed', turn.quota ? [] : output, usageFor(turn, tally));
  yield ev({ type: 'response.completed', response: completed });
}

// The `error.type` that accompanies each code in captured streams; unknown codes are request errors.
const ERROR_TYPE_OF_CODE: Record<string, string> = {
  server_error: 'server_error',
  server_is_overloaded: 'service_unavailable_error',
  rate_limit_exceeded: 'rate_limit_error',
  insufficient_quota: 'insufficient_quota',
};

/** `error` then `response.failed`, the backend's in-stream failure pair (fixture openai-error.1). */
export function failureSteps(turn: Turn, code: string, message: string): Step[] {
  return [
    ev({ type: 'error', error: { type: ERROR_TYPE_OF_CODE[code] ?? 'invalid_request_error', code, message, param: null } }),
    ev({ type: 'response.failed', response: responseObject(turn, 'failed', [], null, { code, message }) }),
  ];
}

function itemSteps(spec: ItemSpec, index: number, tally: Tally): Generator<Step, ResponseItem> {
  switch (spec.type) {
    case 'reasoning':
      return reasoningSteps(spec, index, tally);
    case 'message':
      return messageSteps(spec, index, tally);
    case 'function_call':
      return functionCallSteps(spec, index, tally);
    case 'custom_tool_call':
      return customToolCallSteps(spec, index, tally);
    case 'image_generation':
      return imageSteps(spec, index);
  }
}

function* reasoningSteps(spec: Extract<ItemSpec, { type: 'reasoning' }>, index: number, tally: Tally): Generator<Step, ResponseItem> {
  const id = newId('rs');
  const encrypted = spec.encrypted ? { encrypted_content: opaqueBlob() } : {};
  yield ev({ type: 'response.output_item.added', output_index: index, item: { id, type: 'reasoning', ...encrypted, summary: [] } });
  const summary: ContentPart[] = [];
  if (spec.summary !== null) {
    const base = { item_id: id, output_index: index, summary_index: 0 };
    yield ev({ type: 'response.reasoning_summary_part.added', ...base, part: { type: 'summary_text', text: '' } });
    for (const delta of chunkText(spec.summary, 8)) {
      yield ev({ type: 'response.reasoning_summary_text.delta', ...base, delta, obfuscation: obfuscation(delta) });
    }
    yield ev({ type: 'response.reasoning_summary_text.done', ...base, text: spec.summary });
    yield ev({ type: 'response.reasoning_summary_part.done', ...base, part: { type: 'summary_text', text: spec.summary } });
    summary.push({ type: 'summary_text', text: spec.summary });
  }
  tally.reasoningTokens += spec.tokens;
  const item: ResponseItem = { id, type: 'reasoning', ...encrypted, summary };
  yield ev({ type: 'response.output_item.done', output_index: index, item });
  return item;
}

function* messageSteps(spec: Extract<ItemSpec, { type: 'message' }>, index: number, tally: Tally): Generator<Step, ResponseItem> {
  const id = newId('msg');
  const base = { item_id: id, output_index: index, content_index: 0 };
  yield ev({
    type: 'response.output_item.added',
    output_index: index,
    item: { id, type: 'message', status: 'in_progress', content: [], phase: spec.phase, role: 'assistant' },
  });
  yield ev({ type: 'response.content_part.added', ...base, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
  let text = '';
  for (const delta of spec.chunks) {
    text += delta;
    yield ev({ type: 'response.output_text.delta', ...base, delta, logprobs: [], obfuscation: obfuscation(delta) });
  }
  tally.chars += text.length;
  const part = { type: 'output_text', annotations: [], logprobs: [], text };
  yield ev({ type: 'response.output_text.done', ...base, text, logprobs: [] });
  yield ev({ type: 'response.content_part.done', ...base, part });
  const item: ResponseItem = { id, type: 'message', status: 'completed', content: [part], phase: spec.phase, role: 'assistant' };
  yield ev({ type: 'response.output_item.done', output_index: index, item });
  return item;
}

function* functionCallSteps(spec: Extract<ItemSpec, { type: 'function_call' }>, index: number, tally: Tally): Generator<Step, ResponseItem> {
  const id = newId('fc');
  const callId = newCallId();
  yield ev({
    type: 'response.output_item.added',
    output_index: index,
    item: { id, type: 'function_call', status: 'in_progress', arguments: '', call_id: callId, name: spec.name },
  });
  if (spec.deltas) {
    for (const delta of chunkText(spec.arguments, 8)) {
      yield ev({ type: 'response.function_call_arguments.delta', item_id: id, output_index: index, delta, obfuscation: obfuscation(delta) });
    }
    yield ev({ type: 'response.function_call_arguments.done', item_id: id, output_index: index, arguments: spec.arguments });
  }
  tally.chars += spec.arguments.length + spec.name.length;
  const item: ResponseItem = { id, type: 'function_call', status: 'completed', arguments: spec.arguments, call_id: callId, name: spec.name };
  yield ev({ type: 'response.output_item.done', output_index: index, item });
  return item;
}

function* customToolCallSteps(spec: Extract<ItemSpec, { type: 'custom_tool_call' }>, index: number, tally: Tally): Generator<Step, ResponseItem> {
  const id = newId('ctc');
  const callId = newCallId();
  yield ev({
    type: 'response.output_item.added',
    output_index: index,
    item: { id, type: 'custom_tool_call', status: 'in_progress', call_id: callId, name: spec.name, input: '' },
  });
  for (const delta of chunkText(spec.input, 16)) {
    yield ev({ type: 'response.custom_tool_call_input.delta', item_id: id, call_id: callId, output_index: index, delta, obfuscation: obfuscation(delta) });
  }
  yield ev({ type: 'response.custom_tool_call_input.done', item_id: id, call_id: callId, output_index: index, input: spec.input });
  tally.chars += spec.input.length + spec.name.length;
  const item: ResponseItem = { id, type: 'custom_tool_call', status: 'completed', call_id: callId, name: spec.name, input: spec.input };
  yield ev({ type: 'response.output_item.done', output_index: index, item });
  return item;
}

function* imageSteps(spec: Extract<ItemSpec, { type: 'image_generation' }>, index: number): Generator<Step, ResponseItem> {
  const id = newId('ig');
  const base = { output_index: index, item_id: id };
  const png = mockPngBase64();
  yield ev({ type: 'response.output_item.added', output_index: index, item: { id, type: 'image_generation_call', status: 'in_progress' } });
  yield ev({ type: 'response.image_generation_call.in_progress', ...base });
  yield ev({ type: 'response.image_generation_call.generating', ...base });
  for (let i = 0; i < spec.partialImages; i++) {
    yield ev({ type: 'response.image_generation_call.partial_image', ...base, partial_image_index: i, partial_image_b64: png, output_format: 'png', size: '1024x1024', quality: 'low', background: 'opaque' });
  }
  yield ev({ type: 'response.image_generation_call.completed', ...base });
  const item: ResponseItem = {
    id,
    type: 'image_generation_call',
    status: 'completed',
    background: 'opaque',
    output_format: 'png',
    quality: 'low',
    size: '1024x1024',
    revised_prompt: `A simple illustration of: ${spec.prompt}`,
    result: png,
  };
  yield ev({ type: 'response.output_item.done', output_index: index, item });
  return item;
}
