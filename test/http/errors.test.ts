/**
 * Every error status of the foundation, with the exact OpenAI envelope and an
 * x-request-id on each response.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let basicKey: string;
let adminKey: string;

beforeAll(async () => {
  gw = await startGateway();
  basicKey = gw.key();
  adminKey = gw.key(['admin']);
});
afterAll(() => gw.stop());

async function expectEnvelope(res: Response, status: number, type: string, code: string | null, param: string | null = null) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error.message).toBe('string');
  expect((body.error.message as string).length).toBeGreaterThan(10);
  expect(body.error.type).toBe(type);
  expect(body.error.code).toBe(code);
  expect(body.error.param).toBe(param);
  return body.error;
}

describe('401: missing, invalid, revoked and expired keys', () => {
  test('no key', async () => {
    await expectEnvelope(await gw.call('/v1/models'), 401, 'authentication_error', 'missing_api_key');
  });
  test('unknown key (Bearer and x-api-key)', async () => {
    await expectEnvelope(await gw.call('/v1/models', { key: 'ci_notarealkeynotarealkeynotarealkeynotareal' }), 401, 'authentication_error', 'invalid_api_key');
    await expectEnvelope(await gw.call('/v1/models', { headers: { 'x-api-key': 'ci_nope' } }), 401, 'authentication_error', 'invalid_api_key');
  });
  test('a valid key works as Bearer (any case) and as x-api-key', async () => {
    expect((await gw.call('/v1/models', { headers: { authorization: `bearer ${basicKey}` } })).status).toBe(200);
    expect((await gw.call('/v1/models', { headers: { 'x-api-key': basicKey } })).status).toBe(200);
  });
  test('revoked key', async () => {
    const secret = gw.key();
    const id = gw.keys.list().at(-1)!.id;
    expect((await gw.call('/v1/models', { key: secret })).status).toBe(200);
    gw.keys.revoke(id);
    await expectEnvelope(await gw.call('/v1/models', { key: secret }), 401, 'authentication_error', 'key_revoked');
  });
  test('expired key', async () => {
    const secret = gw.keys.create({ name: 'short', expiresAt: Date.now() - 1 }).secret;
    await expectEnvelope(await gw.call('/v1/models', { key: secret }), 401, 'authentication_error', 'key_expired');
  });
  test('the key is never taken from the query string', async () => {
    await expectEnvelope(await gw.call(`/v1/models?api_key=${basicKey}&access_token=${basicKey}`), 401, 'authentication_error', 'missing_api_key');
  });
});

describe('403: missing scope', () => {
  test('a basic key cannot use the admin API; an admin key can', async () => {
    await expectEnvelope(await gw.call('/admin/keys', { key: basicKey }), 403, 'permission_error', 'admin_access_required');
    const ok = await gw.call('/admin/keys', { key: adminKey });
    expect(ok.status).toBe(200);
    const list = (await ok.json()) as { data: Record<string, unknown>[] };
    expect(list.data.length).toBeGreaterThan(0);
    expect(JSON.stringify(list)).not.toContain(basicKey);
  });
  test('a key limited to some models gets 403 for others', async () => {
    const limited = gw.key([], { name: 'limited', allowedModels: ['gpt-5.4-mini'] });
    const err = await expectEnvelope(await gw.call('/v1/responses', { key: limited, method: 'POST', json: { model: 'gpt-5.5', input: 'hi' } }), 403, 'permission_error', 'model_not_allowed', 'model');
    expect(err.message).toContain('gpt-5.4-mini');
  });
});

describe('400: validation and bad JSON', () => {
  test('a body that misses a required field names it', async () => {
    const err = await expectEnvelope(await gw.call('/v1/responses', { key: basicKey, method: 'POST', json: { input: 'hi' } }), 400, 'invalid_request_error', 'invalid_request', 'model');
    expect(err.message).toContain('model');
  });
  test('a field of the wrong type names it', async () => {
    await expectEnvelope(await gw.call('/v1/responses', { key: basicKey, method: 'POST', json: { model: 'gpt-5.5', input: 'x', stream: 'yes' } }), 400, 'invalid_request_error', 'invalid_request', 'stream');
  });
  test('malformed JSON', async () => {
    await expectEnvelope(
      await gw.call('/v1/responses', { key: basicKey, method: 'POST', body: '{"model": ', headers: { 'content-type': 'application/json' } }),
      400,
      'invalid_request_error',
      'invalid_json',
    );
  });
  test('empty body', async () => {
    await expectEnvelope(await gw.call('/v1/responses', { key: basicKey, method: 'POST', body: '', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request_error', 'invalid_json');
  });
});

describe('404, 405, 413, 415', () => {
  test('404 unknown route', async () => {
    await expectEnvelope(await gw.call('/v1/nope', { key: basicKey }), 404, 'invalid_request_error', 'unknown_url');
  });
  test('404 unknown model', async () => {
    await expectEnvelope(await gw.call('/v1/models/gpt-0', { key: basicKey }), 404, 'invalid_request_error', 'model_not_found', 'model');
    await expectEnvelope(await gw.call('/v1/responses', { key: basicKey, method: 'POST', json: { model: 'gpt-0', input: 'x' } }), 404, 'invalid_request_error', 'model_not_found', 'model');
  });
  test('405 wrong method on a known route, with Allow', async () => {
    const res = await gw.call('/v1/models', { key: basicKey, method: 'DELETE' });
    expect(res.headers.get('allow')).toBe('GET');
    await expectEnvelope(res, 405, 'invalid_request_error', 'method_not_allowed');
  });
  test('413 body larger than the limit', async () => {
    const big = 'x'.repeat(gw.config.maxBodyBytes + 10);
    await expectEnvelope(
      await gw.call('/v1/responses', { key: basicKey, method: 'POST', body: JSON.stringify({ model: 'gpt-5.5', input: big }), headers: { 'content-type': 'application/json' } }),
      413,
      'invalid_request_error',
      'request_too_large',
    );
  });
  test('415 non-JSON content type', async () => {
    await expectEnvelope(
      await gw.call('/v1/responses', { key: basicKey, method: 'POST', body: 'model=gpt-5.5', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'invalid_request_error',
      'unsupported_media_type',
    );
  });
});

describe('429 and 5xx from the upstream', () => {
  test('429 usage limit: the upstream type is kept and retry-after is set', async () => {
    gw.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 120 });
    const res = await gw.call('/v1/responses', { key: basicKey, method: 'POST', json: { model: 'gpt-5.5', input: 'hi' } });
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(100);
    expect(retryAfter).toBeLessThanOrEqual(121);
    await expectEnvelope(res, 429, 'usage_limit_reached', 'usage_limit_reached');
    // The only account is now cooling down: the next request fails fast with the same advice.
    const again = await gw.call('/v1/responses', { key: basicKey, method: 'POST', json: { model: 'gpt-5.5', input: 'hi' } });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(100);
    for (const a of gw.accounts.list()) gw.accounts.setCooldown(a.id, null);
  });
  test('5xx upstream: 502 upstream_error after bounded retries', async () => {
    gw.sim.enqueue(
      { kind: 'http_error', status: 500, body: { detail: 'boom' } },
      { kind: 'http_error', status: 500, body: { detail: 'boom' } },
      { kind: 'http_error', status: 500, body: { detail: 'boom' } },
    );
    await expectEnvelope(await gw.call('/v1/responses', { key: basicKey, method: 'POST', json: { model: 'gpt-5.5', input: 'hi' } }), 502, 'upstream_error', 'upstream_error');
  });
  test('a single 5xx is retried transparently', async () => {
    gw.sim.enqueue({ kind: 'http_error', status: 502, body: { detail: 'bad gateway' } });
    const res = await gw.call('/v1/responses', { key: basicKey, method: 'POST', json: { model: 'gpt-5.5', input: 'hello' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { output_text: string }).output_text).toContain('hello');
  });
});

describe('success responses carry x-request-id too', () => {
  test('healthz, models, docs', async () => {
    for (const path of ['/healthz', '/docs', '/docs/json']) {
      const res = await gw.call(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    }
    const models = await gw.call('/v1/models', { key: basicKey });
    expect(models.headers.get('x-request-id')).toMatch(/^req_/);
    const list = (await models.json()) as { object: string; data: { id: string; object: string; created: number; owned_by: string; context_window: number }[] };
    expect(list.object).toBe('list');
    expect(list.data[0]!.id).toBe('gpt-5.5');
    for (const m of list.data) {
      expect(m.object).toBe('model');
      expect(Number.isInteger(m.created)).toBe(true);
      expect(m.context_window).toBeGreaterThan(100000);
    }
  });
  test('readyz reports the database and the account state', async () => {
    const res = await gw.call('/readyz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; database: boolean; upstream: { ready: boolean; accounts: { total: number; active: number } } };
    expect(body.status).toBe('ready');
    expect(body.database).toBe(true);
    expect(body.upstream.accounts.total).toBe(1);
  });
});
