/**
 * The account pool with three simulated ChatGPT accounts: session affinity, failover
 * on a usage limit before any byte reaches the client, all-cooling 429, and disabled
 * accounts getting no traffic.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

function accountOfLastCall(g: TestGateway): string {
  const call = g.sim.requests.filter((r) => r.path === '/backend-api/codex/responses').at(-1)!;
  return call.headers['chatgpt-account-id']!;
}

const ask = (g: TestGateway, key: string, body: Record<string, unknown>) => g.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', ...body } });

describe('account pool', () => {
  test('a conversation sticks to one account while other conversations spread over the pool', async () => {
    gw = await startGateway({ accounts: 3 });
    const key = gw.key();
    const served: string[] = [];
    for (let turn = 0; turn < 4; turn++) {
      expect((await ask(gw, key, { input: `turn ${turn}`, prompt_cache_key: 'conversation-A' })).status).toBe(200);
      served.push(accountOfLastCall(gw));
      // Unrelated traffic in between must not pull the conversation elsewhere. Three per turn:
      // twelve conversations all hashing to one of three accounts is a 1-in-177,147 chance.
      for (let n = 0; n < 3; n++) {
        expect((await ask(gw, key, { input: `other ${turn}.${n}`, prompt_cache_key: `other-${turn}-${n}` })).status).toBe(200);
      }
    }
    expect(new Set(served).size).toBe(1);
    const others = gw.sim.requests.filter((r) => r.path === '/backend-api/codex/responses' && (r.body as { prompt_cache_key: string }).prompt_cache_key.startsWith('other-'));
    expect(new Set(others.map((r) => r.headers['chatgpt-account-id'])).size).toBeGreaterThan(1);
    // Conversations without a client cache key get a derived one, so they stick too.
    await ask(gw, key, { input: [{ role: 'user', content: 'derived start' }] });
    const first = accountOfLastCall(gw);
    await ask(gw, key, { input: [{ role: 'user', content: 'derived start' }, { role: 'assistant', content: 'Echo' }, { role: 'user', content: 'next' }] });
    expect(accountOfLastCall(gw)).toBe(first);
  });

  test('a usage limit on one account is retried on another; the client sees a normal response', async () => {
    gw = await startGateway({ accounts: 2 });
    const key = gw.key();
    await ask(gw, key, { input: 'warm up', prompt_cache_key: 'conv' });
    const sticky = accountOfLastCall(gw);
    gw.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 600 });
    const res = await ask(gw, key, { input: 'after the limit', prompt_cache_key: 'conv' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { output_text: string }).output_text).toContain('after the limit');
    const calls = gw.sim.requests.filter((r) => r.path === '/backend-api/codex/responses');
    expect(calls.at(-2)!.headers['chatgpt-account-id']).toBe(sticky);
    expect(calls.at(-1)!.headers['chatgpt-account-id']).not.toBe(sticky);
    const cooled = gw.accounts.list().find((a) => a.chatgptAccountId === sticky)!;
    expect(cooled.cooldownUntil! - Date.now()).toBeGreaterThan(590_000);
    // The conversation moves to the healthy account and stays there.
    await ask(gw, key, { input: 'again', prompt_cache_key: 'conv' });
    expect(accountOfLastCall(gw)).not.toBe(sticky);
  });

  test('when every account is cooling down: 429 with retry-after for the earliest reset, no upstream call', async () => {
    gw = await startGateway({ accounts: 2 });
    const key = gw.key();
    gw.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 3600 }, { kind: 'usage_limit', resetsInSeconds: 900 });
    const res = await ask(gw, key, { input: 'x' });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(890);
    expect(retryAfter).toBeLessThanOrEqual(901);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('usage_limit_reached');
    const before = gw.sim.requests.length;
    const again = await ask(gw, key, { input: 'y' });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(901);
    expect(gw.sim.requests.length).toBe(before);
  });

  test('a disabled account gets no traffic; enabling it brings it back', async () => {
    gw = await startGateway({ accounts: 2 });
    const key = gw.key();
    const admin = gw.key(['admin']);
    const [a, b] = gw.accounts.list();
    const disabled = await gw.call(`/admin/accounts/${a!.id}/disable`, { key: admin, method: 'POST' });
    expect(disabled.status).toBe(200);
    expect(((await disabled.json()) as { status: string }).status).toBe('disabled');
    for (let i = 0; i < 6; i++) {
      expect((await ask(gw, key, { input: `q${i}`, prompt_cache_key: `c${i}` })).status).toBe(200);
      expect(accountOfLastCall(gw)).toBe(b!.chatgptAccountId);
    }
    await gw.call(`/admin/accounts/${a!.id}/enable`, { key: admin, method: 'POST' });
    const used = new Set<string>();
    // Twenty conversations, so that none landing on the re-enabled account (2^-20) is not a flake.
    for (let i = 0; i < 20; i++) {
      await ask(gw, key, { input: `r${i}`, prompt_cache_key: `d${i}` });
      used.add(accountOfLastCall(gw));
    }
    expect(used.has(a!.chatgptAccountId)).toBe(true);
  });

  test('quota headers from the upstream are tracked per account', async () => {
    gw = await startGateway();
    const key = gw.key();
    await ask(gw, key, { input: 'x' });
    const quota = gw.accounts.list()[0]!.quota!;
    expect(Number(quota['x-codex-primary-used-percent'])).toBeGreaterThanOrEqual(0);
    expect(quota['x-codex-primary-window-minutes']).toBeDefined();
  });
});
