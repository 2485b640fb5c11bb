/**
 * The request rules of `POST /backend-api/codex/responses` with the backend's
 * verbatim error bodies (protocol §3.3). They run in the order the real backend
 * reports them, so a body breaking several rules gets the same first error.
 */
import { detail, isObject, type JsonObject } from './http';

/**
 * Deliberately strict: the real backend rejects some of these and silently ignores
 * others (third-party proxies strip the whole set, §3.3). Rejecting all of them, even
 * when present with a null value, proves our adapter never forwards one.
 */
export const UNSUPPORTED_PARAMETERS = [
  'max_output_tokens',
  'max_completion_tokens',
  'context_management',
  'temperature',
  'top_p',
  'truncation',
  'user',
  'safety_identifier',
  'prompt_cache_retention',
  'prompt_cache_options',
  'stream_options',
  'generate',
  'previous_response_id',
  'metadata',
];

export type RuleResult = { ok: true; body: JsonObject; model: string } | { ok: false; response: Response };

const fail = (status: number, message: string): RuleResult => ({ ok: false, response: detail(status, message) });

export function checkResponsesRequest(body: unknown, models: readonly string[]): RuleResult {
  if (!isObject(body)) return fail(400, 'Could not parse request body as JSON');
  if (body.stream !== true) return fail(400, 'Stream must be set to true');
  if (body.store !== false) return fail(400, 'Store must be set to false');
  // Absent instructions are fine since Codex CLI 0.169 stopped sending them (§3.3 update).
  if ('instructions' in body && typeof body.instructions !== 'string') return fail(400, 'Instructions are required');
  for (const name of UNSUPPORTED_PARAMETERS) {
    if (name in body) return fail(400, `Unsupported parameter: ${name}`);
  }
  if (Array.isArray(body.input) && body.input.some((item) => isObject(item) && item.role === 'system')) {
    return fail(400, 'System messages are not allowed');
  }
  return checkModel(body, models);
}

export function checkModel(body: JsonObject, models: readonly string[]): RuleResult {
  const model = body.model;
  if (typeof model !== 'string' || !models.includes(model)) {
    return fail(400, `The '${String(model)}' model is not supported when using Codex with a ChatGPT account.`);
  }
  return { ok: true, body, model };
}
