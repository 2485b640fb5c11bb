/**
 * One admission for every model call: compact, bursts against a token quota, and
 * n image generations admitted up front.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());
beforeEach(() => gw.sim.reset());

const compactBody = { model: 'gpt-5.5', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'compact me' }] }], instructions: 'x' };
const compact = (key: string) => gw.call('/v1/responses/compact', { key, method: 'POST', json: compactBody });
const idOf = (name: string) => gw.keys.list().find((k) => k.name === name)!.id;
const upstreamCalls = (path: string) => gw.sim.requests.filter((r) => r.path === path).length;

describe('compact is admitted and metered like any call', () => {
  test('rpm: over the limit → 429 with the usual headers, and each call leaves a usage row', async () => {
    const key = gw.key([], { name: 'compact-rpm', rpm: 2 });
    const ok = await compact(key);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect((await compact(key)).status).toBe(200);
    const limited = await compact(key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    expect(upstreamCalls('/backend-api/codex/responses/compact')).toBe(2);
    const rows = gw.usage.byDay('key', 0, idOf('compact-rpm'));
    expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(2);
    gw.usage.flush();
    const route = gw.db.query("SELECT route, status FROM usage WHERE key_id = $id").all({ id: idOf('compact-rpm') }) as { route: string; status: number }[];
    expect(route).toEqual([
      { route: '/v1/responses/compact', status: 200 },
      { route: '/v1/responses/compact', status: 200 },
    ]);
  });

  test('concurrency: a compact while the key streams is refused', async () => {
    const key = gw.key([], { name: 'compact-conc', maxConcurrent: 1 });
    gw.sim.enqueue({ kind: 'silence', afterEvents: 2, ms: 300 });
    const stream = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'slow', stream: true } });
    expect(stream.status).toBe(200);
    const refused = await compact(key);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('concurrency_limit_exceeded');
    await stream.text();
    expect((await compact(key)).status).toBe(200);
  });

  test('an exhausted token quota refuses compaction before it reaches the upstream', async () => {
    const key = gw.key([], { name: 'compact-quota', tokenQuotaDaily: 5 });
    expect((await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'spend the quota' } })).status).toBe(200);
    const before = upstreamCalls('/backend-api/codex/responses/compact');
    const refused = await compact(key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('token_quota_exceeded');
    expect(upstreamCalls('/backend-api/codex/responses/compact')).toBe(before);
  });
});

describe('token quotas under concurrency', () => {
  test('30 parallel requests against a 1,000-token daily quota overshoot by at most one request', async () => {
    const key = gw.key([], { name: 'burst', tokenQuotaDaily: 1000 });
    const results = await Promise.all(
      Array.from({ length: 30 }, () => gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'burst request, please answer' } })),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok.length + refused.length).toBe(30);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(((await r.json()) as { error: { code: string } }).error.code).toBe('token_quota_exceeded');
    const used = gw.usage.tokensForKey(idOf('burst'), 0); // flushes the queued rows
    const perRequest = (gw.db.query('SELECT max(input_tokens + output_tokens) AS m FROM usage WHERE key_id = $id').get({ id: idOf('burst') }) as { m: number }).m;
    expect(perRequest).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(1000 + perRequest);
  });

  test('sequential requests stop at the quota too, and the meter keeps the in-memory count equal to the table', async () => {
    const key = gw.key([], { name: 'sequential', tokenQuotaDaily: 400 });
    let status = 200;
    let calls = 0;
    while (status === 200 && calls < 20) {
      status = (await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'one more' } })).status;
      calls++;
    }
    expect(status).toBe(429);
    const record = gw.keys.get(idOf('sequential'))!;
    expect(gw.usage.tokensOf(record.id, record.usageResetAt).day).toBe(gw.usage.tokensForKey(record.id, 0));
  });
});

describe('n image generations are admitted up front', () => {
  test('n over the key\'s rpm → 429 before any image is generated', async () => {
    const key = gw.key(['advanced'], { name: 'images-rpm', rpm: 2 });
    const res = await gw.call('/v1/images/generations', { key, method: 'POST', json: { prompt: 'three foxes', n: 3 } });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    expect(upstreamCalls('/backend-api/codex/responses')).toBe(0);
    const two = await gw.call('/v1/images/generations', { key, method: 'POST', json: { prompt: 'two foxes', n: 2 } });
    expect(two.status).toBe(200);
    expect(((await two.json()) as { data: unknown[] }).data).toHaveLength(2);
    expect(two.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(upstreamCalls('/backend-api/codex/responses')).toBe(2);
  });

  test('ten clients asking for 2 images each with rpm 10: the refused ones never reach the upstream', async () => {
    const key = gw.key(['advanced'], { name: 'images-burst', rpm: 10 });
    const results = await Promise.all(Array.from({ length: 10 }, () => gw.call('/v1/images/generations', { key, method: 'POST', json: { prompt: 'fox', n: 2 } })));
    const ok = results.filter((r) => r.status === 200).length;
    expect(ok).toBe(5);
    expect(results.filter((r) => r.status === 429).length).toBe(5);
    expect(upstreamCalls('/backend-api/codex/responses')).toBe(10);
  });
});
