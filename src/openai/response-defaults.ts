/**
 * The complete Response object, whatever the upstream filled in.
 *
 * The OpenAI spec's `Response` and Open Responses' `ResponseResource` both require
 * fields a sparse upstream never sends (tools, tool_choice, temperature, top_p, text,
 * truncation, ...): generated clients and the Open Responses suite reject a Response
 * without them. `requestEcho()` takes them from the client's request, and
 * `completeResponse()` fills whatever is still missing with the API's documented
 * defaults. Pure functions over plain data.
 */
import type { JsonObject, ResponseObject, ResponsesRequest } from './responses-types';

/** Request fields a Response echoes as sent (or null when absent). */
const ECHOED_AS_SENT = [
  'instructions',
  'tool_choice',
  'parallel_tool_calls',
  'reasoning',
  'text',
  'truncation',
  'temperature',
  'top_p',
  'presence_penalty',
  'frequency_penalty',
  'max_output_tokens',
  'max_tool_calls',
  'previous_response_id',
  'metadata',
  'background',
  'service_tier',
  'user',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'top_logprobs',
] as const;

/** Fields the ChatGPT adapter fills in on the upstream request when the client left them out. */
const REWRITTEN_BY_ADAPTER = ['instructions', 'prompt_cache_key'] as const;

/** The API's defaults for every field the two schemas require; `null` where the spec allows it and has no default. */
const DEFAULTS: Readonly<JsonObject> = {
  instructions: null,
  tools: [],
  tool_choice: 'auto',
  parallel_tool_calls: true,
  reasoning: null,
  truncation: 'disabled',
  temperature: 1,
  top_p: 1,
  presence_penalty: 0,
  frequency_penalty: 0,
  max_output_tokens: null,
  max_tool_calls: null,
  previous_response_id: null,
  metadata: {},
  // Nothing is stored: the upstream requires store:false, so a Response never claims otherwise.
  store: false,
  background: false,
  service_tier: 'auto',
  safety_identifier: null,
  prompt_cache_key: null,
  top_logprobs: 0,
};

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A tool as a Response lists it. Function tools carry every field both schemas require:
 * `strict` (the API's default for Responses function tools is true), `parameters` and
 * `description` (null when the request had none).
 */
export function echoedTool(tool: unknown): unknown {
  if (!isObject(tool) || tool.type !== 'function') return tool;
  return { ...tool, description: tool.description ?? null, parameters: tool.parameters ?? null, strict: tool.strict ?? true };
}

function completeText(text: unknown): JsonObject {
  const given = isObject(text) ? text : {};
  return { ...given, format: isObject(given.format) ? given.format : { type: 'text' }, verbosity: typeof given.verbosity === 'string' ? given.verbosity : 'medium' };
}

function completeReasoning(reasoning: unknown): JsonObject | null {
  if (!isObject(reasoning)) return null;
  return { ...reasoning, effort: reasoning.effort ?? null, summary: reasoning.summary ?? null };
}

/** The fields of a Response that come from the request, as the client sent them. */
export function requestEcho(request: ResponsesRequest): Partial<ResponseObject> {
  const echo: JsonObject = {};
  for (const name of ECHOED_AS_SENT) {
    if (request[name] !== undefined && request[name] !== null) echo[name] = request[name];
  }
  if (Array.isArray(request.tools)) echo.tools = request.tools.map(echoedTool);
  // The upstream echoes the request as the adapter rewrote it ("" instructions, a derived
  // cache key): what the client did not send is null, not the adapter's stand-in.
  for (const name of REWRITTEN_BY_ADAPTER) echo[name] ??= null;
  return echo as Partial<ResponseObject>;
}

function completeUsage(usage: unknown): unknown {
  if (!isObject(usage)) return null;
  const input = isObject(usage.input_tokens_details) ? usage.input_tokens_details : {};
  const output = isObject(usage.output_tokens_details) ? usage.output_tokens_details : {};
  return {
    ...usage,
    input_tokens_details: { ...input, cached_tokens: input.cached_tokens ?? 0 },
    output_tokens_details: { ...output, reasoning_tokens: output.reasoning_tokens ?? 0 },
  };
}

/**
 * `response` with every field the spec requires present: missing or null-but-not-nullable
 * fields get the API default; `completed_at` is set on completion (now, unless given).
 */
export function completeResponse(response: ResponseObject, now: () => number = () => Math.floor(Date.now() / 1000)): ResponseObject {
  const complete: JsonObject = { ...response };
  for (const [name, value] of Object.entries(DEFAULTS)) {
    if (complete[name] === undefined || (complete[name] === null && value !== null)) complete[name] = structuredClone(value);
  }
  complete.store = false;
  complete.tools = Array.isArray(complete.tools) ? complete.tools.map(echoedTool) : [];
  complete.text = completeText(complete.text);
  complete.reasoning = completeReasoning(complete.reasoning);
  // `user` is a string when present (the spec does not make it nullable).
  if (typeof complete.user !== 'string') delete complete.user;
  // null before the response ends, as the API sends it (the spec's schema says object; Open Responses allows null).
  complete.usage = completeUsage(complete.usage);
  complete.completed_at = response.status === 'completed' ? (typeof response.completed_at === 'number' ? response.completed_at : now()) : null;
  return complete as ResponseObject;
}
