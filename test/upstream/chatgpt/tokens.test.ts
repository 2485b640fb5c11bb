/**
 * Token lifecycle against the simulator's auth server: proactive refresh, refresh
 * after a 401, single-flight under concurrency, persistence of the rotated tokens,
 * and the needs_login state after a permanent failure.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../../support/gateway';

let gw: TestGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

const ask = (g: TestGateway, key: string, text = 'hi') => g.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: text } });

describe('token refresh', () => {
  test('refreshes shortly before expiry, persists the rotated tokens, and uses the new access token', async () => {
    gw = await startGateway({ accessTtlSeconds: 60 });
    const key = gw.key();
    const before = gw.accounts.list()[0]!;
    const res = await ask(gw, key);
    expect(res.status).toBe(200);
    expect(gw.sim.refreshCount).toBe(1);
    const after = gw.accounts.list()[0]!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.lastRefreshAt).not.toBeNull();
    const upstreamCall = gw.sim.requests.find((r) => r.path === '/backend-api/codex/responses')!;
    expect(upstreamCall.headers.authorization).toBe(`Bearer ${after.accessToken}`);
    expect(upstreamCall.headers['chatgpt-account-id']).toBe(after.chatgptAccountId);
  });

  test('20 concurrent requests with an expired token cause exactly one refresh and all succeed', async () => {
    gw = await startGateway({ accessTtlSeconds: 0 });
    const key = gw.key();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(gw!, key, `concurrent ${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(gw.sim.refreshCount).toBe(1);
    // Every /oauth/token call was a successful rotation: no reuse was ever attempted.
    expect(gw.sim.stats.tokenRequests).toBe(1);
  });

  test('a 401 from the upstream triggers one refresh and the request is retried transparently', async () => {
    gw = await startGateway();
    const key = gw.key();
    const account = gw.accounts.list()[0]!;
    // A token the upstream does not know but that looks valid to us (far-future exp).
    const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 86400, 'https://api.openai.com/auth': { chatgpt_account_id: account.chatgptAccountId } })).toString('base64url');
    gw.accounts.saveTokens(account.id, { ...account, accessToken: `eyJhbGciOiJSUzI1NiJ9.${payload}.forged`, accessExpiresAt: Date.now() + 86_400_000 });
    const res = await ask(gw, key);
    expect(res.status).toBe(200);
    expect(gw.sim.refreshCount).toBe(1);
    const calls = gw.sim.requests.filter((r) => r.path === '/backend-api/codex/responses');
    expect(calls.length).toBe(2);
    expect(calls[0]!.headers.authorization).toContain('.forged');
    expect(calls[1]!.headers.authorization).toBe(`Bearer ${gw.accounts.list()[0]!.accessToken}`);
    // With a fresh, long-lived token the next request needs no refresh.
    expect((await ask(gw, key)).status).toBe(200);
    expect(gw.sim.refreshCount).toBe(1);
  });

  test('a refresh token the auth server rejects marks the account needs_login with a clear message', async () => {
    gw = await startGateway({ accessTtlSeconds: 0 });
    const key = gw.key();
    const account = gw.accounts.list()[0]!;
    gw.accounts.saveTokens(account.id, { ...account, refreshToken: 'rt_unknown_to_the_auth_server' });
    const res = await ask(gw, key);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('upstream_account_unavailable');
    expect(body.error.message).toContain('log in again');
    const after = gw.accounts.list()[0]!;
    expect(after.status).toBe('needs_login');
    expect(after.statusMessage).toContain('codexin login');
    const ready = await gw.call('/readyz');
    expect(ready.status).toBe(503);
    const readiness = (await ready.json()) as { upstream: { accounts: { needs_login: number }; message: string } };
    expect(readiness.upstream.accounts.needs_login).toBe(1);
    expect(readiness.upstream.message).toContain('login');
  });
});
