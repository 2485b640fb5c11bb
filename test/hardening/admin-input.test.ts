/**
 * The admin API refuses values its strict integer columns cannot hold (400 naming
 * the field, never a 500 from SQLite) and never lets the last admin key lock the
 * operators out (409).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { expectError } from './envelope';

let gw: TestGateway;
let admin: string;
beforeAll(async () => {
  gw = await startGateway();
  admin = gw.key(['admin']);
});
afterAll(() => gw.stop());

// (A numeric string such as "5" is coerced by Elysia and accepted: harmless.)
const huge = [1e308, 2 ** 63, 2 ** 53, -1, 0, 1.5, 'five', true, [], {}, null];
const fields = ['rpm', 'token_quota_daily', 'token_quota_weekly', 'max_concurrent'];

describe('POST /admin/keys and PATCH /admin/keys/:id with numbers out of range', () => {
  for (const field of fields) {
    for (const value of huge) {
      // null clears a limit; 2**53 is past MAX_SAFE_INTEGER (fine for rpm's bound too).
      if (value === null) continue;
      test(`${field}: ${JSON.stringify(value)} is 400 naming the field`, async () => {
        await expectError(await gw.call('/admin/keys', { method: 'POST', key: admin, json: { name: 'x', [field]: value } }), 400, 'invalid_request', field);
        const created = (await (await gw.call('/admin/keys', { method: 'POST', key: admin, json: { name: 'target' } })).json()) as { id: string };
        await expectError(await gw.call(`/admin/keys/${created.id}`, { method: 'PATCH', key: admin, json: { [field]: value } }), 400, 'invalid_request', field);
      });
    }
  }
  for (const value of [1.5, 1e308, 2 ** 63, -5, 'tomorrow']) {
    test(`expires_at: ${JSON.stringify(value)} is 400`, async () => {
      const created = (await (await gw.call('/admin/keys', { method: 'POST', key: admin, json: { name: 'target' } })).json()) as { id: string };
      await expectError(await gw.call(`/admin/keys/${created.id}`, { method: 'PATCH', key: admin, json: { expires_at: value } }), 400, 'invalid_request', 'expires_at');
    });
  }
  for (const value of [1e308, 2 ** 63, 0.5, 0]) {
    test(`expires_in_seconds: ${value} is 400`, async () => {
      await expectError(await gw.call('/admin/keys', { method: 'POST', key: admin, json: { name: 'x', expires_in_seconds: value } }), 400, 'invalid_request', 'expires_in_seconds');
    });
  }
  test('values in range are stored exactly', async () => {
    const res = await gw.call('/admin/keys', { method: 'POST', key: admin, json: { name: 'big', rpm: 1_000_000, token_quota_daily: Number.MAX_SAFE_INTEGER, expires_in_seconds: 86_400 } });
    expect(res.status).toBe(201);
    const key = (await res.json()) as { id: string; rpm: number; token_quota_daily: number };
    expect(key.rpm).toBe(1_000_000);
    expect(key.token_quota_daily).toBe(Number.MAX_SAFE_INTEGER);
    const patched = await gw.call(`/admin/keys/${key.id}`, { method: 'PATCH', key: admin, json: { expires_at: 253_402_300_799_999 } });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { expires_at: number }).expires_at).toBe(253_402_300_799_999);
  });
  test('a huge name or model list is 400, not stored', async () => {
    await expectError(await gw.call('/admin/keys', { method: 'POST', key: admin, json: { name: 'n'.repeat(100_000) } }), 400, 'invalid_request', 'name');
    await expectError(await gw.call('/admin/keys', { method: 'POST', key: admin, json: { name: 'x', models: ['m'.repeat(10_000)] } }), 400, 'invalid_request', 'models.0');
  });
});

describe('the last admin key', () => {
  test('cannot revoke itself, drop its admin scope or expire itself; another admin key lifts the refusal', async () => {
    const g = await startGateway();
    try {
      const only = g.key(['admin']);
      const me = (await (await g.call('/v1/me', { key: only })).json()) as { id: string };
      await expectError(await g.call(`/admin/keys/${me.id}`, { method: 'DELETE', key: only }), 409, 'last_admin_key', 'id');
      await expectError(await g.call(`/admin/keys/${me.id}`, { method: 'PATCH', key: only, json: { scopes: ['advanced'] } }), 409, 'last_admin_key', 'id');
      await expectError(await g.call(`/admin/keys/${me.id}`, { method: 'PATCH', key: only, json: { expires_at: 1 } }), 409, 'last_admin_key', 'id');
      // A revoked admin key does not count as a second admin.
      const other = (await (await g.call('/admin/keys', { method: 'POST', key: only, json: { name: 'second', scopes: ['admin'] } })).json()) as { id: string; key: string };
      expect((await g.call(`/admin/keys/${other.id}`, { method: 'PATCH', key: only, json: { name: 'renamed' } })).status).toBe(200);
      expect((await g.call(`/admin/keys/${me.id}`, { method: 'PATCH', key: only, json: { scopes: ['admin', 'advanced'] } })).status).toBe(200);
      expect((await g.call(`/admin/keys/${me.id}`, { method: 'DELETE', key: only })).status).toBe(200);
      await expectError(await g.call(`/admin/keys/${other.id}`, { method: 'DELETE', key: other.key }), 409, 'last_admin_key', 'id');
      expect((await g.call('/admin/keys', { key: other.key })).status).toBe(200);
    } finally {
      await g.stop();
    }
  });
});
