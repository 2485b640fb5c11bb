/** /metrics after a known sequence of requests, and the one-line-per-request log. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let admin: string;
let basic: string;
beforeAll(async () => {
  gw = await startGateway({ env: { CODEXIN_METRICS_TOKEN: 'scrape-secret-123' } });
  admin = gw.key(['admin']);
  basic = gw.key();
});
afterAll(() => gw.stop());

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const lines = text.split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
  const match = lines.find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return match ? Number(match.slice(match.lastIndexOf(' ') + 1)) : NaN;
}

describe('metrics', () => {
  test('count requests, tokens, upstream answers and account state after a known sequence', async () => {
    gw.sim.enqueue({ kind: 'text', text: 'one two three' });
    await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.5', input: 'first' } });
    gw.sim.enqueue({ kind: 'text', text: 'streamed' });
    const stream = await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.5', input: 'second', stream: true } });
    await stream.text();
    await gw.call('/v1/chat/completions', { key: basic, method: 'POST', json: { model: 'gpt-5.5', messages: [{ role: 'user', content: 'third' }] } });
    await gw.call('/v1/models', { key: basic });
    await gw.call('/v1/models');
    gw.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 300 });
    await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.5', input: 'limited' } });

    const res = await gw.call('/metrics', { key: admin });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(metricValue(text, 'codexin_requests_total', { route: '/v1/responses', status: '200', model: 'gpt-5.5' })).toBe(2);
    expect(metricValue(text, 'codexin_requests_total', { route: '/v1/chat/completions', status: '200', model: 'gpt-5.5' })).toBe(1);
    expect(metricValue(text, 'codexin_requests_total', { route: '/v1/models', status: '200' })).toBe(1);
    expect(metricValue(text, 'codexin_requests_total', { route: '/v1/models', status: '401' })).toBe(1);
    expect(metricValue(text, 'codexin_requests_total', { route: '/v1/responses', status: '429' })).toBe(1);
    expect(metricValue(text, 'codexin_request_duration_seconds_count', { route: '/v1/responses' })).toBe(3);
    expect(metricValue(text, 'codexin_upstream_ttfb_seconds_count', { route: '/v1/responses' })).toBe(2);
    const account = gw.accounts.list()[0]!.id;
    expect(metricValue(text, 'codexin_upstream_responses_total', { account, status: '200' })).toBe(3);
    expect(metricValue(text, 'codexin_upstream_responses_total', { account, status: '429' })).toBe(1);
    expect(metricValue(text, 'codexin_account_cooling_down', { account })).toBe(1);
    expect(metricValue(text, 'codexin_account_cooldown_seconds', { account })).toBeGreaterThan(290);
    expect(metricValue(text, 'codexin_active_streams')).toBe(0);
    // Tokens equal what was metered into the usage table.
    const totals = gw.usage.totalsForKey(gw.keys.list().find((k) => k.scopes.length === 0)!.id);
    expect(metricValue(text, 'codexin_tokens_total', { kind: 'input', model: 'gpt-5.5' })).toBe(totals.input_tokens);
    expect(metricValue(text, 'codexin_tokens_total', { kind: 'output', model: 'gpt-5.5' })).toBe(totals.output_tokens);
    expect(metricValue(text, 'codexin_tokens_total', { kind: 'cached', model: 'gpt-5.5' })).toBe(totals.cached_tokens);
    for (const a of gw.accounts.list()) gw.accounts.setCooldown(a.id, null);
  });

  test('a scraper token reads /metrics without an admin key; anything else is refused', async () => {
    expect((await gw.call('/metrics', { headers: { authorization: 'Bearer scrape-secret-123' } })).status).toBe(200);
    expect((await gw.call('/metrics', { headers: { authorization: 'Bearer scrape-secret-12' } })).status).toBe(401);
    expect((await gw.call('/metrics')).status).toBe(401);
    expect((await gw.call('/metrics', { key: basic })).status).toBe(403);
  });
});

describe('request log', () => {
  test('one JSON line per request with ids, route, model, status, timings and tokens, and no secrets', async () => {
    // Access-log lines are written after the response is handed over: let earlier ones land first.
    await Bun.sleep(30);
    gw.logs.length = 0;
    const res = await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.5', input: 'a private prompt that must not be logged' } });
    const requestId = res.headers.get('x-request-id')!;
    await res.text();
    await gw.call('/v1/models', { key: basic });
    await Bun.sleep(30);
    const lines = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    expect(lines).toHaveLength(2);
    const line = lines.find((l) => l.request_id === requestId)!;
    const keyId = gw.keys.list().find((k) => k.scopes.length === 0)!.id;
    expect(line).toMatchObject({ level: 'info', route: '/v1/responses', method: 'POST', status: 200, model: 'gpt-5.5', key_id: keyId, account_id: gw.accounts.list()[0]!.id });
    for (const field of ['latency_ms', 'ttfb_ms', 'input_tokens', 'output_tokens', 'cached_tokens', 'reasoning_tokens']) expect(typeof line[field]).toBe('number');
    expect(lines.find((l) => l.route === '/v1/models')).toMatchObject({ status: 200, key_id: keyId });
    const all = gw.logs.join('\n');
    expect(all).not.toContain('a private prompt');
    expect(all).not.toContain(basic);
    expect(all).not.toContain(admin);
    for (const a of gw.accounts.list()) {
      expect(all).not.toContain(a.accessToken);
      expect(all).not.toContain(a.refreshToken);
    }
  });

  test('Server-Timing on proxied responses, streaming or not', async () => {
    const plain = await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.5', input: 'x' } });
    expect(plain.headers.get('server-timing')).toMatch(/^auth;dur=[\d.]+, upstream;dur=[\d.]+;desc="[^"]+", total;dur=[\d.]+$/);
    const stream = await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.5', input: 'x', stream: true } });
    expect(stream.headers.get('server-timing')).toContain('upstream;dur=');
    await stream.text();
  });
});
