/** The admin API (admin scope only) and /v1/me. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let admin: string;
let basic: string;
beforeAll(async () => {
  gw = await startGateway({ accounts: 2 });
  admin = gw.key(['admin']);
  basic = gw.key();
});
afterAll(() => gw.stop());

const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T;

describe('admin API', () => {
  test('every admin route refuses a non-admin key with 403', async () => {
    const calls: [string, string][] = [
      ['GET', '/admin/keys'],
      ['POST', '/admin/keys'],
      ['GET', '/admin/keys/key_x'],
      ['PATCH', '/admin/keys/key_x'],
      ['POST', '/admin/keys/key_x/reset-usage'],
      ['DELETE', '/admin/keys/key_x'],
      ['GET', '/admin/accounts'],
      ['POST', '/admin/accounts/a/disable'],
      ['DELETE', '/admin/accounts/a'],
      ['GET', '/admin/usage'],
      ['GET', '/admin/models'],
      ['PATCH', '/admin/models/gpt-5.5'],
      ['POST', '/admin/models/refresh'],
      ['GET', '/metrics'],
    ];
    for (const [method, path] of calls) {
      const res = await gw.call(path, { key: basic, method, ...(method === 'POST' || method === 'PATCH' ? { json: {} } : {}) });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 403`);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('admin_access_required');
    }
  });

  test('keys: create, get, update scopes and limits, revoke', async () => {
    const created = await gw.call('/admin/keys', { key: admin, method: 'POST', json: { name: 'alice', rpm: 10, models: ['gpt-5.5'] } });
    expect(created.status).toBe(201);
    const body = await json<{ id: string; key: string; scopes: string[]; rpm: number }>(created);
    expect(body.key).toMatch(/^ci_[A-Za-z0-9_-]{43}$/);
    expect(body.scopes).toEqual([]);
    // The new key works, but not on advanced-scope checks until granted.
    expect((await gw.call('/v1/models', { key: body.key })).status).toBe(200);
    const patched = await gw.call(`/admin/keys/${body.id}`, { key: admin, method: 'PATCH', json: { scopes: ['advanced'], rpm: null, token_quota_daily: 5000, max_concurrent: 2 } });
    expect(patched.status).toBe(200);
    const view = await json<Record<string, unknown>>(patched);
    expect(view).toMatchObject({ scopes: ['advanced'], rpm: null, token_quota_daily: 5000, max_concurrent: 2, models: ['gpt-5.5'] });
    expect(JSON.stringify(view)).not.toContain(body.key);
    // Every /v1 call of the key is a request: the /v1/models one above (its row is written once
    // the answer is sent, so it may land a moment later), then a model call.
    const requestsOf = async () => (await json<{ usage: { requests: number } }>(await gw.call(`/admin/keys/${body.id}`, { key: admin }))).usage.requests;
    for (let i = 0; i < 20 && (await requestsOf()) === 0; i++) await Bun.sleep(5);
    expect(await requestsOf()).toBe(1);
    await gw.call('/v1/responses', { key: body.key, method: 'POST', json: { model: 'gpt-5.5', input: 'count me' } });
    expect((await json<{ usage: { requests: number; output_tokens: number } }>(await gw.call(`/admin/keys/${body.id}`, { key: admin }))).usage.requests).toBe(2);
    expect((await gw.call(`/admin/keys/${body.id}`, { key: admin, method: 'DELETE' })).status).toBe(200);
    expect((await gw.call('/v1/models', { key: body.key })).status).toBe(401);
    expect((await gw.call('/admin/keys/key_nope', { key: admin, method: 'PATCH', json: { rpm: 1 } })).status).toBe(404);
    const invalid = await gw.call('/admin/keys', { key: admin, method: 'POST', json: { name: '', scopes: ['root'] } });
    expect(invalid.status).toBe(400);
  });

  test('accounts: listed with state and quota, never tokens; disable, enable, remove', async () => {
    await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.5', input: 'make quota headers' } });
    const list = await json<{ data: { id: string; status: string; quota: Record<string, string> | null }[] }>(await gw.call('/admin/accounts', { key: admin }));
    expect(list.data).toHaveLength(2);
    const text = JSON.stringify(list);
    for (const a of gw.accounts.list()) {
      expect(text).not.toContain(a.accessToken);
      expect(text).not.toContain(a.refreshToken);
    }
    expect(list.data.some((a) => a.quota !== null)).toBe(true);
    const target = list.data[1]!.id;
    expect((await json<{ status: string }>(await gw.call(`/admin/accounts/${target}/disable`, { key: admin, method: 'POST' }))).status).toBe('disabled');
    expect((await json<{ status: string }>(await gw.call(`/admin/accounts/${target}/enable`, { key: admin, method: 'POST' }))).status).toBe('active');
    expect((await gw.call(`/admin/accounts/${target}`, { key: admin, method: 'DELETE' })).status).toBe(200);
    expect((await json<{ data: unknown[] }>(await gw.call('/admin/accounts', { key: admin }))).data).toHaveLength(1);
    expect((await gw.call(`/admin/accounts/${target}/disable`, { key: admin, method: 'POST' })).status).toBe(404);
  });

  test('usage by day, per key and per account, tokens by kind', async () => {
    gw.sim.enqueue({ kind: 'text', text: 'measured', reasoning: 'think' });
    await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.5', input: 'usage please', reasoning: { effort: 'low' } } });
    const basicId = gw.keys.list().find((k) => k.scopes.length === 0 && k.name === 'test')!.id;
    const byKey = await json<{ data: { day: string; id: string; requests: number; input_tokens: number; output_tokens: number; reasoning_tokens: number; cached_tokens: number }[] }>(
      await gw.call(`/admin/usage?group=key&id=${basicId}&days=1`, { key: admin }),
    );
    expect(byKey.data).toHaveLength(1);
    const row = byKey.data[0]!;
    expect(row.day).toBe(new Date().toISOString().slice(0, 10));
    expect(row.requests).toBeGreaterThanOrEqual(2);
    expect(row.input_tokens).toBeGreaterThan(0);
    expect(row.output_tokens).toBeGreaterThan(0);
    expect(row.reasoning_tokens).toBeGreaterThan(0);
    const byAccount = await json<{ data: { id: string }[] }>(await gw.call('/admin/usage?group=account', { key: admin }));
    expect(byAccount.data.length).toBeGreaterThan(0);
    expect((await gw.call('/admin/usage?group=nope', { key: admin })).status).toBe(400);
  });

  test('models: disable hides a model from /v1/models and refuses it; refresh merges the upstream catalog', async () => {
    const disabled = await gw.call('/admin/models/gpt-5.4', { key: admin, method: 'PATCH', json: { enabled: false } });
    expect((await json<{ enabled: boolean }>(disabled)).enabled).toBe(false);
    const listed = await json<{ data: { id: string }[] }>(await gw.call('/v1/models', { key: basic }));
    expect(listed.data.map((m) => m.id)).not.toContain('gpt-5.4');
    expect((await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.4', input: 'x' } })).status).toBe(404);
    await gw.call('/admin/models/gpt-5.4', { key: admin, method: 'PATCH', json: { enabled: true } });
    const refreshed = await gw.call('/admin/models/refresh', { key: admin, method: 'POST' });
    expect(refreshed.status).toBe(200);
    const result = await json<{ added: string[]; updated: string[]; data: { id: string }[] }>(refreshed);
    // The simulator lists gpt-5.5 … codex-auto-review (hidden): the hidden one is not added.
    expect(result.updated).toContain('gpt-5.5');
    expect(result.data.map((m) => m.id)).not.toContain('codex-auto-review');
    expect(gw.sim.requests.some((r) => r.path === '/backend-api/codex/models' && r.query.client_version)).toBe(true);
  });
});

describe('/v1/me', () => {
  test("shows the caller's own key, limits, usage and paste-ready config, without secrets", async () => {
    const key = gw.key(['advanced'], { name: 'me', rpm: 30, tokenQuotaDaily: 100000 });
    await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'about me' } });
    const res = await gw.call('/v1/me', { key, headers: { host: 'codexin.example:8787' } });
    expect(res.status).toBe(200);
    const me = await json<{ name: string; scopes: string[]; rpm: number; token_quota_daily: number; usage: { today: { requests: number }; total: { requests: number } }; client_config: { base_url: string; codex_config_toml: string; env: Record<string, string> } }>(res);
    expect(me.name).toBe('me');
    expect(me.scopes).toEqual(['advanced']);
    expect(me.rpm).toBe(30);
    expect(me.token_quota_daily).toBe(100000);
    expect(me.usage.today.requests).toBe(1);
    expect(me.usage.total.requests).toBe(1);
    expect(me.client_config.base_url).toBe('http://codexin.example:8787/v1');
    expect(me.client_config.codex_config_toml).toContain('base_url = "http://codexin.example:8787/v1"');
    expect(me.client_config.codex_config_toml).toContain('wire_api = "responses"');
    expect(JSON.stringify(me)).not.toContain(key);
    expect((await gw.call('/v1/me')).status).toBe(401);
  });
});
