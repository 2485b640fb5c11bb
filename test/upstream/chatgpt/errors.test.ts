import { describe, expect, test } from 'bun:test';
import { mapUpstreamError, usageLimitOf } from '../../../src/upstream/chatgpt/errors';

const now = 1_800_000_000_000;

describe('mapUpstreamError', () => {
  test('400 FastAPI detail becomes an invalid_request_error with the same message', () => {
    const e = mapUpstreamError(400, '{"detail":"Unsupported parameter: max_output_tokens"}', new Headers(), now);
    expect(e.status).toBe(400);
    expect(e.toEnvelope()).toEqual({ error: { message: 'Unsupported parameter: max_output_tokens', type: 'invalid_request_error', param: null, code: null } });
  });

  test('429 usage_limit_reached keeps the upstream body fields and sets retry-after from resets_at', () => {
    const body = JSON.stringify({ error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: 'plus', resets_at: now / 1000 + 3600, resets_in_seconds: 3600 } });
    const e = mapUpstreamError(429, body, new Headers(), now);
    expect(e.status).toBe(429);
    const env = e.toEnvelope();
    expect(env.error.type).toBe('usage_limit_reached');
    expect(env.error.plan_type).toBe('plus');
    expect(env.error.resets_at).toBe(now / 1000 + 3600);
    expect(e.headers['retry-after']).toBe('3600');
    expect(e.headers['x-should-retry']).toBe('false');
    expect(usageLimitOf(429, body, now)?.resetsAt).toBe(now + 3_600_000);
  });

  test('a plain 429 is a rate_limit_error with a short retry-after', () => {
    const e = mapUpstreamError(429, '{"error":{"type":"rate_limit_error","code":"rate_limit_exceeded","message":"Rate limit reached."}}', new Headers({ 'retry-after': '7' }), now);
    expect(e.type).toBe('rate_limit_error');
    expect(e.headers['retry-after']).toBe('7');
    expect(e.headers['x-should-retry']).toBeUndefined();
    expect(usageLimitOf(429, '{"error":{"type":"rate_limit_error"}}', now)).toBeNull();
  });

  test("401 is the account's problem, not the caller's: 502", () => {
    const e = mapUpstreamError(401, '{"detail":"Unauthorized"}', new Headers(), now);
    expect(e.status).toBe(502);
    expect(e.code).toBe('upstream_unauthorized');
  });

  test('503 overload keeps its code; other 5xx become 502 upstream_error', () => {
    const overloaded = mapUpstreamError(503, '{"error":{"type":"service_unavailable_error","code":"server_is_overloaded","message":"Our servers are currently overloaded. Please try again later."}}', new Headers(), now);
    expect(overloaded.status).toBe(503);
    expect(overloaded.code).toBe('server_is_overloaded');
    const e = mapUpstreamError(500, 'oops', new Headers(), now);
    expect(e.status).toBe(502);
    expect(e.type).toBe('upstream_error');
  });
});
