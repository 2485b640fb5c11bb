/**
 * A Chat Completions request body → the one canonical Responses request (DESIGN.md §1).
 *
 * Pure: no defaults that depend on the upstream (reasoning effort, `store`, `stream`,
 * `include` are the upstream adapter's business). What cannot be expressed is either
 * rejected with a 400 that says what to do, or dropped and reported in `ignoredParams`
 * so the route can tell the client.
 */

import { badRequest } from '../openai/api-error';
import type { ChatCompletionRequest } from '../openai/chat-types';
import type { JsonObject, ResponsesRequest } from '../openai/responses-types';
import { chatMessagesToInput } from './chat-messages';
import {
  chatToolChoiceToResponses,
  chatToolsToResponses,
  legacyFunctionCallToToolChoice,
  legacyFunctionsToTools,
} from './chat-tools';

/**
 * Chat parameters dropped on purpose. The ChatGPT Codex backend answers 400
 * `{"detail":"Unsupported parameter: …"}` for output-length limits and strips or rejects
 * sampling controls, `user`, `metadata`, `safety_identifier`, `prompt_cache_retention`
 * (research/chatgpt-upstream-protocol.md §3.3); `store` must be false there and is set by
 * the upstream adapter; the rest (stop sequences, penalties, seed, logit bias, predicted
 * outputs, web-search options, output modalities) have no Responses equivalent the
 * backend honours. Forwarding any of them would fail the whole request, so we drop them
 * and list the ones the client sent.
 */
export const IGNORED_CHAT_PARAMS = [
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'logit_bias',
  'user',
  'metadata',
  'store',
  'safety_identifier',
  'prompt_cache_retention',
  'prediction',
  'web_search_options',
  'modalities',
] as const;

/**
 * Keys this module reads itself. Any other top-level key is forwarded unchanged, so a
 * Responses-only field a client adds (e.g. `include`, `truncation`) still reaches the
 * upstream; `stream` and `stream_options` belong to the route.
 */
const HANDLED_KEYS = new Set<string>([
  ...IGNORED_CHAT_PARAMS,
  'model',
  'messages',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'reasoning',
  'verbosity',
  'prompt_cache_key',
  'service_tier',
  'n',
  'logprobs',
  'top_logprobs',
  'audio',
]);

const present = (value: unknown): boolean => value !== undefined && value !== null;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Refuse what we cannot honour and the client would otherwise silently not get. */
function rejectUnsupported(body: ChatCompletionRequest): void {
  if (present(body.n) && body.n !== 1) {
    throw badRequest('n > 1 is not supported: the upstream returns one choice per request; send n=1 or make separate requests.', 'n', 'unsupported_parameter');
  }
  if (body.logprobs === true) {
    throw badRequest('logprobs is not supported by this model backend: remove logprobs and top_logprobs.', 'logprobs', 'unsupported_parameter');
  }
  if (present(body.audio) || (Array.isArray(body.modalities) && body.modalities.includes('audio'))) {
    throw badRequest('Audio output is not supported: remove audio and request modalities ["text"].', 'audio', 'unsupported_parameter');
  }
}

/** `response_format` + `verbosity` → Responses `text`. */
function textConfig(body: ChatCompletionRequest): JsonObject | undefined {
  const text: JsonObject = {};
  const format: unknown = body.response_format;
  if (present(format)) {
    if (!isObject(format)) throw badRequest('response_format must be an object.', 'response_format', 'invalid_type');
    if (format.type === 'json_object') {
      text.format = { type: 'json_object' };
    } else if (format.type === 'json_schema') {
      const spec = format.json_schema;
      if (!isObject(spec) || typeof spec.name !== 'string' || spec.name === '') {
        throw badRequest('response_format.json_schema.name is required.', 'response_format.json_schema.name', 'missing_required_parameter');
      }
      const out: JsonObject = { type: 'json_schema', name: spec.name, schema: spec.schema ?? {} };
      if (present(spec.strict)) out.strict = spec.strict;
      if (present(spec.description)) out.description = spec.description;
      text.format = out;
    } else if (format.type !== 'text') {
      throw badRequest(
        `response_format.type "${String(format.type)}" is not supported: use text, json_object or json_schema.`,
        'response_format.type',
        'invalid_value',
      );
    }
  }
  if (present(body.verbosity)) text.verbosity = body.verbosity;
  return Object.keys(text).length > 0 ? text : undefined;
}

/** `reasoning_effort`, or the `reasoning: {effort, summary}` object some clients send instead. */
function reasoningConfig(body: ChatCompletionRequest): ResponsesRequest['reasoning'] {
  const reasoning: { effort?: string; summary?: string } = {};
  const object = body.reasoning;
  if (isObject(object)) {
    if (typeof object.effort === 'string') reasoning.effort = object.effort;
    if (typeof object.summary === 'string') reasoning.summary = object.summary;
  }
  if (typeof body.reasoning_effort === 'string') reasoning.effort = body.reasoning_effort;
  return Object.keys(reasoning).length > 0 ? reasoning : undefined;
}

/**
 * `legacyFunctions`: the request used `functions` (not `tools`), so the reply must use
 * `function_call` and finish_reason "function_call".
 */
export function chatRequestToResponses(body: ChatCompletionRequest): { request: ResponsesRequest; ignoredParams: string[]; legacyFunctions: boolean } {
  if (!isObject(body)) throw badRequest('The request body must be a JSON object.', null, 'invalid_type');
  if (typeof body.model !== 'string' || body.model === '') throw badRequest('model is required.', 'model', 'missing_required_parameter');
  rejectUnsupported(body);

  // store:false is what happens anyway; only a client asking for storage is told it does not get it.
  const ignoredParams: string[] = IGNORED_CHAT_PARAMS.filter((name) => present(body[name]) && !(name === 'store' && body.store === false));
  // top_logprobs without logprobs:true is harmless noise (logprobs:true was rejected above).
  if (present(body.top_logprobs)) ignoredParams.push('top_logprobs');

  let tools: ResponsesRequest['tools'];
  let customToolNames = new Set<string>();
  const legacyFunctions = !present(body.tools) && present(body.functions);
  if (present(body.tools)) {
    ({ tools, customToolNames } = chatToolsToResponses(body.tools));
  } else if (legacyFunctions) {
    tools = legacyFunctionsToTools(body.functions);
  }

  const { instructions, input } = chatMessagesToInput(body.messages, customToolNames);
  const request: ResponsesRequest = { model: body.model, input };
  if (instructions !== undefined) request.instructions = instructions;
  if (tools !== undefined) request.tools = tools;

  if (present(body.tool_choice)) request.tool_choice = chatToolChoiceToResponses(body.tool_choice as NonNullable<ChatCompletionRequest['tool_choice']>);
  else if (present(body.function_call)) request.tool_choice = legacyFunctionCallToToolChoice(body.function_call);
  if (typeof body.parallel_tool_calls === 'boolean') request.parallel_tool_calls = body.parallel_tool_calls;
  // The legacy reply holds one function_call: ask for one call at a time.
  if (legacyFunctions) request.parallel_tool_calls = false;

  const text = textConfig(body);
  if (text) request.text = text;
  const reasoning = reasoningConfig(body);
  if (reasoning) request.reasoning = reasoning;
  if (typeof body.prompt_cache_key === 'string') request.prompt_cache_key = body.prompt_cache_key;
  if (typeof body.service_tier === 'string') request.service_tier = body.service_tier;

  for (const [key, value] of Object.entries(body)) {
    if (HANDLED_KEYS.has(key) || value === undefined) continue;
    if (key in request) {
      // e.g. a client-sent `input` or `instructions` next to `messages`: ours wins.
      ignoredParams.push(key);
      continue;
    }
    request[key] = value;
  }

  return { request, ignoredParams, legacyFunctions };
}

/**
 * Cursor BYOK posts a Responses-shaped body (`input`, no `messages`) to
 * /chat/completions and expects Chat SSE back (research/client-traffic.md §0 item 7, §3).
 */
export function isResponsesShapedBody(body: unknown): boolean {
  return isObject(body) && body.input !== undefined && body.messages === undefined;
}

/**
 * A Responses-shaped chat body as the canonical request. Chat's schema does not type
 * `input`, so it is checked here: anything but a string or a list of items is a 400
 * that points at `messages`, not a crash further down.
 */
export function responsesShapedRequest(body: JsonObject): ResponsesRequest {
  const { stream: _stream, stream_options: _options, ...rest } = body;
  const input = rest.input;
  const items = Array.isArray(input) && input.every(isObject);
  if (typeof input !== 'string' && !items) {
    throw badRequest(
      "'input' must be a string or an array of Responses input items. For Chat Completions, send 'messages': [{\"role\":\"user\",\"content\":\"...\"}] instead.",
      'input',
      'invalid_type',
    );
  }
  if (typeof rest.model !== 'string' || rest.model === '') throw badRequest('model is required.', 'model', 'missing_required_parameter');
  return rest as ResponsesRequest;
}
