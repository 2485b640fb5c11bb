/** Per-key limits: each answers 429 (or 403/401) with headers computed for that key. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

const ask = (key: string, body: Record<string, unknown> = {}) => gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'limit test', ...body } });

describe('per-key limits', () => {
  test('requests per minute', async () => {
    const key = gw.key([], { name: 'rpm', rpm: 2 });
    const first = await ask(key);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect((await ask(key)).headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const limited = await ask(key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(55);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+m)?\d+s$/);
    const body = (await limited.json()) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    // Another key is not affected.
    expect((await ask(gw.key())).status).toBe(200);
  });

  test('daily token quota: counted from recorded usage, resettable by the admin', async () => {
    const key = gw.key([], { name: 'quota', tokenQuotaDaily: 30 });
    const id = gw.keys.list().at(-1)!.id;
    gw.sim.enqueue({ kind: 'text', text: 'a fairly long answer that uses up output tokens for the quota' });
    const first = await ask(key, { input: 'use some tokens please, quite a few of them' });
    expect(first.status).toBe(200);
    const used = gw.usage.tokensForKey(id, 0);
    expect(used).toBeGreaterThan(30);
    const limited = await ask(key);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-limit-tokens')).toBe('30');
    expect(limited.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('token_quota_exceeded');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const admin = gw.key(['admin']);
    expect((await gw.call(`/admin/keys/${id}/reset-usage`, { key: admin, method: 'POST' })).status).toBe(200);
    const after = await ask(key);
    expect(after.status).toBe(200);
    expect(Number(after.headers.get('x-ratelimit-remaining-tokens'))).toBe(30);
  });

  test('weekly token quota', async () => {
    const key = gw.key([], { name: 'weekly', tokenQuotaWeekly: 10 });
    expect((await ask(key)).status).toBe(200);
    const limited = await ask(key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(7 * 86_400);
  });

  test('concurrent streams', async () => {
    const key = gw.key([], { name: 'concurrency', maxConcurrent: 1 });
    gw.sim.enqueue({ kind: 'silence', afterEvents: 2, ms: 400 });
    const slow = await ask(key, { stream: true });
    expect(slow.status).toBe(200);
    const blocked = await ask(key);
    expect(blocked.status).toBe(429);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('concurrency_limit_exceeded');
    expect(blocked.headers.get('retry-after')).toBe('1');
    await slow.text(); // the stream ends: its slot is released
    expect((await ask(key)).status).toBe(200);
  });

  test('a stream the client abandons releases its slot', async () => {
    const key = gw.key([], { name: 'abandon', maxConcurrent: 1 });
    gw.sim.enqueue({ kind: 'silence', afterEvents: 2, ms: 5000 });
    const controller = new AbortController();
    const slow = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'x', stream: true }, signal: controller.signal });
    const reader = slow.body!.getReader();
    await reader.read();
    await reader.cancel();
    controller.abort();
    await Bun.sleep(50);
    expect((await ask(key)).status).toBe(200);
  });

  test('model allow-list and expiry', async () => {
    const limited = gw.key([], { name: 'models', allowedModels: ['gpt-5.4-mini'] });
    expect((await ask(limited, { model: 'gpt-5.4-mini' })).status).toBe(200);
    const denied = await ask(limited, { model: 'gpt-5.5' });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('model_not_allowed');
    const expiring = gw.keys.create({ name: 'expiring', expiresAt: Date.now() + 150 }).secret;
    expect((await ask(expiring)).status).toBe(200);
    await Bun.sleep(200);
    const expired = await ask(expiring);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { code: string } }).error.code).toBe('key_expired');
  });

  test('limits also apply to chat completions and carry the same headers', async () => {
    const key = gw.key([], { name: 'chat-rpm', rpm: 1 });
    const ok = await gw.call('/v1/chat/completions', { key, method: 'POST', json: { model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('1');
    expect(ok.headers.get('server-timing')).toMatch(/auth;dur=[\d.]+, upstream;dur=[\d.]+.*total;dur=[\d.]+/);
    expect((await gw.call('/v1/chat/completions', { key, method: 'POST', json: { model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(429);
  });
});

describe('process-wide upstream capacity', () => {
  test('past the fetch limit a request gets 503 at once instead of hanging, and the slot comes back', async () => {
    const { KeyLimiter } = await import('../../src/call/admission');
    const { UpstreamCapacity, fetchLimitFromEnv } = await import('../../src/call/capacity');
    expect(fetchLimitFromEnv({})).toBe(256);
    expect(fetchLimitFromEnv({ BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' })).toBe(65535);
    expect(fetchLimitFromEnv({ BUN_CONFIG_MAX_HTTP_REQUESTS: 'lots' })).toBe(256);
    const limiter = new KeyLimiter(gw.usage, new UpstreamCapacity(10));
    expect(limiter.capacity.limit).toBe(2);
    const key = gw.keys.create({ name: 'no limits' }).record;
    const a = await limiter.admit(key);
    const b = await limiter.admit(key);
    let error: unknown;
    try {
      await limiter.admit(key);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ status: 503, code: 'server_at_capacity' });
    expect((error as { message: string }).message).toContain('BUN_CONFIG_MAX_HTTP_REQUESTS');
    // A refused request holds nothing: the key's own concurrency count is unchanged.
    expect(limiter.activeFor(key.id)).toBe(2);
    a.release();
    a.release();
    expect(limiter.capacity.active).toBe(1);
    (await limiter.admit(key)).release();
    b.release();
    expect(limiter.capacity.active).toBe(0);
  });
});
