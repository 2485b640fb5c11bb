/**
 * POST /v1/responses/compact's answer: the upstream's compacted items → the API's
 * compaction resource (`CompactResource`: id, object "response.compaction",
 * created_at, output, usage). The ChatGPT backend answers a bare `{"output": [...]}`
 * whose items may lack ids and statuses; both schemas require them. Pure.
 */
import type { JsonObject, ResponseItem, ResponsesRequest, Usage } from '../openai/responses-types';
import { newItemId, newResponseId } from '../stream/ids';
import { normalizeUsage } from '../stream/usage';

/** Request fields remote compaction uses; any other field with a value is dropped by the ChatGPT backend's compact route. */
export const COMPACT_REQUEST_FIELDS = ['model', 'input', 'instructions', 'tools', 'parallel_tool_calls', 'reasoning', 'text'] as const;

/** Fields that have no meaning for a unary compaction call, so dropping them is not worth naming. */
const TRANSPORT_FIELDS = new Set(['stream', 'store', 'include', 'prompt_cache_key', 'client_metadata']);

export interface CompactResource {
  id: string;
  object: 'response.compaction';
  created_at: number;
  output: ResponseItem[];
  usage: Usage;
}

/** The request fields a compaction drops, for `x-codexin-ignored-params` (null counts as absent). */
export function compactIgnoredParams(request: ResponsesRequest): string[] {
  const used = new Set<string>(COMPACT_REQUEST_FIELDS);
  return Object.keys(request).filter((name) => !used.has(name) && !TRANSPORT_FIELDS.has(name) && request[name] !== null && request[name] !== undefined);
}

/** Item types whose spec schema carries a status. */
const STATUS_TYPES = new Set(['message', 'function_call', 'function_call_output', 'custom_tool_call', 'reasoning']);

function completeItem(item: ResponseItem): ResponseItem {
  const complete: ResponseItem = { ...item };
  if (typeof complete.id !== 'string' || complete.id === '') complete.id = newItemId(item.type);
  if (STATUS_TYPES.has(item.type) && typeof complete.status !== 'string') complete.status = 'completed';
  if (item.type === 'reasoning' && !Array.isArray(complete.summary)) complete.summary = [];
  return complete;
}

/** The compaction resource from what the upstream answered (its id, created_at and usage kept when given). */
export function compactionResource(upstream: JsonObject & { output: ResponseItem[] }, now: number = Math.floor(Date.now() / 1000)): CompactResource {
  return {
    id: typeof upstream.id === 'string' && upstream.id !== '' ? upstream.id : newResponseId(),
    object: 'response.compaction',
    created_at: typeof upstream.created_at === 'number' && Number.isFinite(upstream.created_at) ? Math.floor(upstream.created_at) : now,
    output: upstream.output.filter((item): item is ResponseItem => typeof item === 'object' && item !== null && typeof item.type === 'string').map(completeItem),
    usage: normalizeUsage(upstream.usage),
  };
}
