/**
 * `null` means "not given" wherever the OpenAI spec makes a request field nullable.
 * SDKs send explicit nulls (pydantic `model_dump()` history, the Python SDK's
 * `responses.parse` tools), and the ChatGPT backend rejects some of them, so they are
 * removed before the request goes on: at the top level, in every tool, input item and
 * content part, and inside `text` and `reasoning`. Pure.
 *
 * Kept on purpose: top-level `reasoning: null` (it means "no reasoning", which decides
 * whether encrypted reasoning is requested) and a message's `content: null`.
 */
import type { JsonObject, ResponsesRequest } from './responses-types';

const MEANINGFUL_NULLS = new Set(['reasoning']);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutNullFields(value: JsonObject, keep: ReadonlySet<string> = new Set()): JsonObject {
  const out: JsonObject = {};
  for (const [name, field] of Object.entries(value)) if (field !== null || keep.has(name)) out[name] = field;
  return out;
}

const KEEP_CONTENT = new Set(['content']);

function inputItem(item: unknown): unknown {
  if (!isObject(item)) return item;
  const out = withoutNullFields(item, KEEP_CONTENT);
  if (Array.isArray(out.content)) out.content = out.content.map((part) => (isObject(part) ? withoutNullFields(part) : part));
  return out;
}

export function nullsAsAbsent<T extends JsonObject>(request: T): T & ResponsesRequest {
  const out = withoutNullFields(request, MEANINGFUL_NULLS);
  if (Array.isArray(out.tools)) out.tools = out.tools.map((tool) => (isObject(tool) ? withoutNullFields(tool) : tool));
  if (Array.isArray(out.input)) out.input = out.input.map(inputItem);
  if (isObject(out.text)) out.text = withoutNullFields(out.text);
  if (isObject(out.reasoning)) out.reasoning = withoutNullFields(out.reasoning);
  return out as T & ResponsesRequest;
}
