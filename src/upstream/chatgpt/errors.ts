/**
 * Upstream HTTP errors → OpenAI error envelopes a client can act on.
 *
 * | upstream                         | client gets                                            |
 * |----------------------------------|--------------------------------------------------------|
 * | 400 / 422 {"detail": msg}        | 400 invalid_request_error, message = msg               |
 * | 404 naming a model               | 404 invalid_request_error, model_not_found             |
 * | 404 other ("Not Found")          | 502 upstream_error, upstream_not_found (wrong URL)     |
 * | 401 / 403 (after one refresh)    | 502 upstream_error (the account, not the caller's key) |
 * | 429 usage_limit_reached          | 429, body's type/plan_type/resets_at kept, retry-after |
 * | 429 other                        | 429 rate_limit_error, retry-after                      |
 * | 503 server_is_overloaded         | 503 service_unavailable_error                          |
 * | other 5xx                        | 502 upstream_error                                     |
 *
 * Every upstream-sourced string is redacted of tokens and capped (../client-safe.ts).
 */
import { ApiError } from '../../openai/api-error';
import { clientSafeFields, clientSafeText } from '../client-safe';

export { errorBodyText } from '../client-safe';

export interface UsageLimit {
  resetsAt: number; // unix ms
  planType: string | null;
}

function parseBody(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Usage windows are at most a week; an upstream figure outside [now, now + 31 days]
 * (1e308, negative, NaN) is a bug that must not become an invalid Date or a header of
 * 300 digits, so it is clamped.
 */
export const MAX_RESET_MS = 31 * 86_400_000;

function clampReset(resetsAt: number, now: number): number {
  if (!Number.isFinite(resetsAt)) return now + MAX_RESET_MS;
  return Math.min(Math.max(resetsAt, now + 1000), now + MAX_RESET_MS);
}

/** Reads a usage-limit 429 (the account is exhausted until resets_at). */
export function usageLimitOf(status: number, text: string, now = Date.now()): UsageLimit | null {
  if (status !== 429) return null;
  const err = parseBody(text)?.error as Record<string, unknown> | undefined;
  if (!err || (err.type !== 'usage_limit_reached' && err.code !== 'usage_limit_reached')) return null;
  const resetsAt =
    typeof err.resets_at === 'number' ? err.resets_at * 1000 : typeof err.resets_in_seconds === 'number' ? now + err.resets_in_seconds * 1000 : now + 60_000;
  return { resetsAt: clampReset(resetsAt, now), planType: typeof err.plan_type === 'string' ? clientSafeText(err.plan_type, 100) : null };
}

export function retryAfterHeaders(seconds: number): Record<string, string> {
  const s = Number.isFinite(seconds) ? Math.min(Math.max(1, Math.ceil(seconds)), MAX_RESET_MS / 1000) : 1;
  const headers: Record<string, string> = { 'retry-after': String(s), 'retry-after-ms': String(s * 1000) };
  // SDKs retry 429s by default; a subscription window of minutes or hours is not worth hammering.
  if (s > 60) headers['x-should-retry'] = 'false';
  return headers;
}

export function mapUpstreamError(status: number, text: string, headers: Headers, now = Date.now()): ApiError {
  const body = parseBody(text);
  const detail = typeof body?.detail === 'string' ? body.detail : null;
  const err = body?.error && typeof body.error === 'object' ? (body.error as Record<string, unknown>) : null;
  const rawMessage = detail ?? (typeof err?.message === 'string' ? err.message : null);
  const upstreamMessage = rawMessage === null ? null : clientSafeText(rawMessage);
  const upstreamCode = typeof err?.code === 'string' ? clientSafeText(err.code, 100) : null;

  if (status === 429) {
    const limit = usageLimitOf(status, text, now);
    if (limit && err) {
      const { message, type, ...rest } = err;
      return new ApiError(429, 'usage_limit_reached', typeof message === 'string' ? clientSafeText(message) : 'The usage limit has been reached', {
        code: 'usage_limit_reached',
        headers: retryAfterHeaders((limit.resetsAt - now) / 1000),
        extra: { ...clientSafeFields(rest), ...(typeof rest.resets_at === 'number' ? { resets_at: Math.ceil(limit.resetsAt / 1000) } : {}), type: typeof type === 'string' ? clientSafeText(type, 100) : 'usage_limit_reached' },
      });
    }
    const retryAfter = Number(headers.get('retry-after') ?? '1');
    return new ApiError(429, 'rate_limit_error', upstreamMessage ?? 'The upstream is rate limiting this account; retry shortly.', {
      code: upstreamCode ?? 'rate_limit_exceeded',
      headers: retryAfterHeaders(Number.isFinite(retryAfter) ? retryAfter : 1),
    });
  }
  if (status === 404) {
    // The backend answers 404 for a model it does not serve, and a bare "Not Found" for a
    // path it does not have: the first is the caller's to fix, the second the operator's.
    if (upstreamMessage && /model/i.test(upstreamMessage)) {
      return new ApiError(404, 'invalid_request_error', upstreamMessage, { code: 'model_not_found', param: 'model' });
    }
    return new ApiError(502, 'upstream_error', 'The upstream has no such endpoint (HTTP 404 Not Found); the operator should check --upstream-url.', { code: 'upstream_not_found' });
  }
  if (status === 400 || status === 422) {
    return new ApiError(400, 'invalid_request_error', upstreamMessage ?? `The upstream rejected the request (HTTP ${status}).`, {
      code: upstreamCode,
      param: typeof err?.param === 'string' ? clientSafeText(err.param, 200) : null,
    });
  }
  if (status === 401 || status === 403) {
    return new ApiError(502, 'upstream_error', `The ChatGPT account behind this server was rejected by the upstream (HTTP ${status}); the operator should check "codexin accounts list".`, {
      code: 'upstream_unauthorized',
    });
  }
  if (status === 503) {
    return new ApiError(503, 'service_unavailable_error', upstreamMessage ?? 'The upstream is overloaded; retry shortly.', {
      code: upstreamCode ?? 'server_is_overloaded',
      headers: retryAfterHeaders(Number(headers.get('retry-after') ?? '2') || 2),
    });
  }
  return new ApiError(502, 'upstream_error', `The upstream failed (HTTP ${status})${upstreamMessage ? `: ${upstreamMessage}` : ''}; retry shortly.`, {
    code: 'upstream_error',
  });
}
