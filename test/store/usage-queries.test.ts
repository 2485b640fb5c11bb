/** Migration 5 (usage.error_code) on an existing database, and the recent-requests query over it. */
import { describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { migrate, openDatabase } from '../../src/store/db';
import { MIGRATIONS } from '../../src/store/migrations';
import { SqliteUsageStore } from '../../src/store/usage';
import { recentRequests } from '../../src/store/usage-queries';

const entry = { keyId: 'key_a', accountId: 'acct_a', route: '/v1/responses', model: 'gpt-5.5', usage: null, latencyMs: 40, ttfbMs: 10, requestId: 'req_1' };

describe('migration 5', () => {
  test('a version-4 database keeps its usage rows and gains error_code (null for old rows) and an index on time', () => {
    const db = new Database(':memory:', { strict: true });
    for (const step of MIGRATIONS.slice(0, 4)) step(db);
    db.exec('PRAGMA user_version = 4');
    db.query(`INSERT INTO usage (at, key_id, route, status) VALUES (1000, 'key_old', '/v1/chat/completions', 200)`).run();
    migrate(db);
    const rows = recentRequests(db, { limit: 10 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ key_id: 'key_old', route: '/v1/chat/completions', status: 200, error_code: null });
    const indexes = db.query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage'`).all() as { name: string }[];
    expect(indexes.map((i) => i.name)).toContain('usage_at');
    expect(db.query(`EXPLAIN QUERY PLAN SELECT count(*) FROM usage WHERE at >= 5`).all().map((r) => JSON.stringify(r)).join()).toContain('usage_at');
  });
});

describe('recentRequests', () => {
  test('newest first, error code kept, filtered by outcome and key, paged by id', () => {
    const db = openDatabase(':memory:');
    const usage = new SqliteUsageStore(db);
    usage.record({ ...entry, status: 200 }, 1000);
    usage.record({ ...entry, status: 429, errorCode: 'usage_limit_reached' }, 2000);
    usage.record({ ...entry, keyId: 'key_b', status: 499, errorCode: 'client_closed_request' }, 3000);
    usage.flush();

    const all = recentRequests(db, { limit: 10 });
    expect(all.map((r) => [r.at, r.status, r.error_code])).toEqual([
      [3000, 499, 'client_closed_request'],
      [2000, 429, 'usage_limit_reached'],
      [1000, 200, null],
    ]);
    expect(recentRequests(db, { limit: 10, outcome: 'ok' }).map((r) => r.status)).toEqual([200]);
    expect(recentRequests(db, { limit: 10, outcome: 'error' }).map((r) => r.status)).toEqual([499, 429]);
    expect(recentRequests(db, { limit: 10, keyId: 'key_b' }).map((r) => r.key_id)).toEqual(['key_b']);
    const page2 = recentRequests(db, { limit: 2, before: all[1]!.id });
    expect(page2.map((r) => r.at)).toEqual([1000]);
  });
});
