/**
 * The PostgreSQL key, model and account stores, two instances on one real database:
 * what one writes, the other serves from memory shortly after; compare-and-set token
 * writes and the per-account refresh lock hold across them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { startPostgres, type PostgresServer } from '../../support/services';
import { closePgStores, openPgStores, type PgStores } from '../../../src/store/postgres/backend';
import { DatabaseUnavailableError } from '../../../src/store/postgres/database';
import type { ImportAccountInput } from '../../../src/store/accounts';
import type { KeyRecord } from '../../../src/store/keys';

let pg: PostgresServer;
const opened: PgStores[] = [];
const secretKey = { kind: 'inline' as const, text: randomBytes(32).toString('base64') };

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  for (const s of opened) await closePgStores(s).catch(() => {});
  await pg.stop();
});

let lastUrl = '';
async function pair(): Promise<[PgStores, PgStores]> {
  const url = (lastUrl = await pg.createDatabase());
  const a = await openPgStores(url, secretKey, { max: 4 });
  const b = await openPgStores(url, secretKey, { max: 4 });
  opened.push(a, b);
  return [a, b];
}

async function eventually<T>(probe: () => T | undefined | null | false, ms = 1_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(5);
  }
}

const account = (n: number): ImportAccountInput => ({
  chatgptAccountId: `acc-${n}`,
  email: `u${n}@example.com`,
  plan: 'plus',
  accessToken: `eyJ.access-${n}-${randomBytes(8).toString('hex')}`,
  refreshToken: `rt_${n}_${randomBytes(8).toString('hex')}`,
  idToken: `eyJ.id-${n}-${randomBytes(8).toString('hex')}`,
  accessExpiresAt: Date.now() + 3_600_000,
});

describe('keys across instances', () => {
  test('a key created on one instance authenticates on the other from memory within a second; a revoke is seen too', async () => {
    const [a, b] = await pair();
    const { secret, record } = await a.keys.create({ name: 'k', rpm: 5 });
    const started = Date.now();
    await eventually(() => b.keys.authenticate(secret).ok);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(b.keys.get(record.id)?.rpm).toBe(5);
    const heard: (KeyRecord | null)[] = [];
    b.keys.onChange((key) => heard.push(key));
    await a.keys.revoke(record.id);
    const lookup = await eventually(() => {
      const l = b.keys.authenticate(secret);
      return !l.ok && l.reason === 'revoked' ? l : null;
    });
    expect(lookup.ok).toBe(false);
    expect(heard.some((k) => k?.revokedAt !== null)).toBe(true);
  });

  test('a secret memory does not know yet is found in the database once; an unknown one stays unknown', async () => {
    const [a, b] = await pair();
    await b.feed.stop(); // b hears nothing: only the remote lookup can find the new key
    const { secret } = await a.keys.create({ name: 'fresh' });
    expect(b.keys.authenticate(secret).ok).toBe(false);
    expect((await b.keys.authenticateRemote(secret)).ok).toBe(true);
    expect(b.keys.authenticate(secret).ok).toBe(true);
    const bogus = 'ci_' + randomBytes(32).toString('base64url');
    expect(await b.keys.authenticateRemote(bogus)).toEqual({ ok: false, reason: 'unknown' });
  });

  test('a change made while an instance had lost its LISTEN connection is loaded when it reconnects', async () => {
    const [a, b] = await pair();
    const listeners = async () =>
      (await a.sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`) as { pid: number }[];
    const before = await listeners();
    expect(before.length).toBe(2);
    // Cut every LISTEN connection, and make a change before they are back: its NOTIFY reaches nobody.
    await a.sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`;
    const { record } = await a.keys.create({ name: 'made during the gap', rpm: 7 });
    await eventually(() => b.keys.get(record.id)?.rpm === 7, 10_000);
  });

  test('instances starting together create exactly one first admin key', async () => {
    const url = await pg.createDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPgStores(url, secretKey, { max: 4 })));
    opened.push(...stores);
    const results = await Promise.all(stores.map((s) => s.keys.createFirst({ name: 'admin', scopes: ['admin'] })));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    for (const s of stores) expect(s.keys.count()).toBe(1);
  });

  test('last-used times are written behind and never go backwards', async () => {
    const [a, b] = await pair();
    const { record } = await a.keys.create({ name: 'k' });
    const later = Date.now() + 10_000;
    a.keys.touch(a.keys.get(record.id)!, later);
    b.keys.touch(b.keys.get(record.id)!, later - 5_000);
    await a.keys.flushTouches();
    await b.keys.flushTouches();
    const [row] = await a.sql`SELECT last_used_at FROM keys WHERE id = ${record.id}`;
    expect(row.last_used_at).toBe(later);
  });
});

describe('models across instances', () => {
  test('seeding twice keeps one catalog; a model disabled on one is disabled on the other', async () => {
    const [a, b] = await pair();
    await a.models.seed();
    await b.models.seed();
    expect(a.models.listAll().map((m) => m.id)).toEqual(b.models.listAll().map((m) => m.id));
    const first = a.models.listAll()[0]!.id;
    await a.models.setEnabled(first, false);
    await eventually(() => !b.models.listEnabled().some((m) => m.id === first));
    const merged = await b.models.mergeCatalog([{ slug: 'gpt-new', displayName: 'New', contextWindow: 1000, defaultReasoningEffort: null }]);
    expect(merged.added).toEqual(['gpt-new']);
    await eventually(() => a.models.get('gpt-new'));
  });
});

describe('accounts across instances', () => {
  test('an import on one is served by the other with the same tokens; tokens are sealed in the database', async () => {
    const [a, b] = await pair();
    const input = account(1);
    const { record, created } = await a.accounts.upsert(input);
    expect(created).toBe(true);
    const seen = await eventually(() => b.accounts.get(record.id));
    expect(seen.refreshToken).toBe(input.refreshToken);
    const [row] = await a.sql`SELECT refresh_token, access_token FROM accounts`;
    expect(row.refresh_token).not.toContain(input.refreshToken);
    expect(row.refresh_token.startsWith('enc:v1:')).toBe(true);
  });

  test('a refresh saved by a peer wins: the compare-and-set refuses tokens derived from a spent token', async () => {
    const [a, b] = await pair();
    const input = account(2);
    const { record } = await a.accounts.upsert(input);
    await eventually(() => b.accounts.get(record.id));
    const first = { ...account(2), refreshToken: 'rt_new_a' };
    const second = { ...account(2), refreshToken: 'rt_new_b' };
    const [ra, rb] = await Promise.all([a.accounts.saveRefreshedTokens(record.id, input.refreshToken, first), b.accounts.saveRefreshedTokens(record.id, input.refreshToken, second)]);
    expect([ra.saved, rb.saved].filter(Boolean)).toHaveLength(1);
    const stored = (await a.accounts.reread(record.id))!;
    expect(stored.refreshToken).toBe(ra.saved ? 'rt_new_a' : 'rt_new_b');
    const loser = ra.saved ? rb : ra;
    expect(loser.saved === false && loser.current?.refreshToken).toBe(stored.refreshToken);
  });

  test('exclusiveRefresh keeps a second instance out until the first one ends', async () => {
    const [a, b] = await pair();
    const { record } = await a.accounts.upsert(account(3));
    const order: string[] = [];
    const first = a.accounts.exclusiveRefresh(record.id, async () => {
      order.push('a start');
      await Bun.sleep(300);
      order.push('a end');
    });
    await Bun.sleep(50);
    const second = b.accounts.exclusiveRefresh(record.id, async () => {
      order.push('b start');
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['a start', 'a end', 'b start']);
    // A different account is not held up.
    const other = await a.accounts.upsert(account(4));
    const t0 = Date.now();
    await Promise.all([
      a.accounts.exclusiveRefresh(record.id, () => Bun.sleep(200)),
      b.accounts.exclusiveRefresh(other.record.id, async () => {}),
    ]);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  test('a cooldown set by a peer is never shortened; status changes are shared', async () => {
    const [a, b] = await pair();
    const { record } = await a.accounts.upsert(account(5));
    const now = Date.now();
    await a.accounts.setCooldown(record.id, now + 60_000);
    await b.accounts.setCooldown(record.id, now + 10_000);
    expect((await b.accounts.reread(record.id))!.cooldownUntil).toBe(now + 60_000);
    await eventually(() => a.accounts.get(record.id)?.cooldownUntil === now + 60_000);
    await a.accounts.setStatus(record.id, 'disabled', 'by test');
    await eventually(() => b.accounts.get(record.id)?.status === 'disabled');
    expect(await b.accounts.remove(record.id)).toBe(true);
    await eventually(() => a.accounts.get(record.id) === null);
  });

  test('a store opened with another secret key refuses to serve the accounts', async () => {
    const [a] = await pair();
    await a.accounts.upsert(account(6));
    const other = await openPgStores(lastUrl, { kind: 'inline', text: randomBytes(32).toString('base64') });
    opened.push(other);
    expect(() => other.accounts.assertReadable()).toThrow(/acct_/);
  });
});

describe('when PostgreSQL stops answering', () => {
  test('writes fail within the deadline as unavailable, and reads keep coming from memory', async () => {
    const server = await startPostgres();
    try {
      const url = await server.createDatabase();
      const s = await openPgStores(url, secretKey, { deadlineMs: 300 });
      const { secret, record } = await s.keys.create({ name: 'k' });
      server.freeze();
      const started = Date.now();
      const error = await Promise.resolve(s.keys.revoke(record.id)).catch((e: Error) => e);
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(s.keys.authenticate(secret).ok).toBe(true);
      server.thaw();
      await closePgStores(s);
    } finally {
      await server.stop();
    }
  });
});
