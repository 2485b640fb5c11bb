/** The single binary's quota counters: usage_daily (migration 7) instead of sums over the usage rows. */
import { describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { migrate, openDatabase, type Db } from '../../src/store/db';
import { MIGRATIONS } from '../../src/store/migrations';
import { SqliteUsageStore, type UsageEntry } from '../../src/store/usage';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2025-01-13 00:00 UTC: a fixed week, whatever day the tests run. */
const MONDAY = Date.UTC(2025, 0, 13);

function entry(keyId: string | null, input: number, output: number): UsageEntry {
  return {
    keyId,
    accountId: 'acct_1',
    route: '/v1/responses',
    model: 'gpt-5.5',
    status: 200,
    usage: { input_tokens: input, input_tokens_details: { cached_tokens: 0 }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input + output },
    latencyMs: 1,
    ttfbMs: 1,
    requestId: null,
  };
}

/** What a sum over the rows says: the figure usage_daily must reproduce. */
function summed(db: Db, keyId: string, since: number, until = Number.MAX_SAFE_INTEGER): number {
  return (db.query('SELECT coalesce(sum(input_tokens + output_tokens), 0) AS n FROM usage WHERE key_id = $k AND at >= $since AND at < $until').get({ k: keyId, since, until }) as { n: number }).n;
}

/** Records every SQL text the store prepares on this connection. */
function watchStatements(db: Db): string[] {
  const seen: string[] = [];
  const query = db.query.bind(db);
  db.query = ((sql: string) => {
    seen.push(sql);
    return query(sql);
  }) as Db['query'];
  return seen;
}

const readsUsageRows = (sql: string) => /\bFROM usage\b(?!_daily)/.test(sql);

describe('migration 7', () => {
  test('a version-6 database gains usage_daily, backfilled per key and UTC day from its usage rows', () => {
    const db = new Database(':memory:', { strict: true });
    for (const step of MIGRATIONS.slice(0, 6)) step(db);
    db.exec('PRAGMA user_version = 6');
    const insert = db.query('INSERT INTO usage (at, key_id, route, status, input_tokens, output_tokens) VALUES ($at, $key, $route, 200, $in, $out)');
    insert.run({ at: MONDAY + HOUR, key: 'key_a', route: '/v1/responses', in: 10, out: 5 });
    insert.run({ at: MONDAY + DAY - 1, key: 'key_a', route: '/v1/responses', in: 1, out: 1 });
    insert.run({ at: MONDAY + DAY, key: 'key_a', route: '/v1/responses', in: 3, out: 0 });
    insert.run({ at: MONDAY + HOUR, key: null, route: '/v1/responses', in: 100, out: 100 });
    insert.run({ at: MONDAY + HOUR, key: 'key_b', route: '/v1/models', in: 0, out: 0 });
    migrate(db);
    const rows = db.query('SELECT key_id, day, tokens FROM usage_daily ORDER BY key_id, day').all();
    const monday = MONDAY / DAY;
    expect(rows).toEqual([
      { key_id: 'key_a', day: monday, tokens: 17 },
      { key_id: 'key_a', day: monday + 1, tokens: 3 },
    ]);
    // The store's quotas from the backfilled counters equal the sums over the old rows.
    const usage = new SqliteUsageStore(db);
    expect(usage.tokensOf('key_a', null, MONDAY + DAY + HOUR)).toEqual({ day: 3, week: summed(db, 'key_a', MONDAY) });
    expect(usage.tokensOf('key_b', null, MONDAY + DAY + HOUR)).toEqual({ day: 0, week: 0 });
  });
});

describe('SqliteUsageStore quota counters', () => {
  test('each batch adds to usage_daily in its transaction; tokensOf equals a sum over the rows, a reset in the middle of a day included', () => {
    const db = openDatabase(':memory:');
    const usage = new SqliteUsageStore(db, { flushMs: 60_000 });
    const at = (day: number, hour: number) => MONDAY + day * DAY + hour * HOUR;
    usage.record(entry('key_r', 90, 10), at(0, 10)); // Monday
    usage.record(entry('key_r', 50, 0), at(1, 9)); // Tuesday, before the reset
    usage.record(entry('key_r', 7, 0), at(1, 12) - 1); // the last millisecond before it
    usage.record(entry('key_r', 15, 5), at(1, 12)); // at the reset: counts
    usage.record(entry('key_r', 30, 0), at(1, 18));
    usage.record(entry('key_r', 4, 1), at(2, 8)); // Wednesday
    usage.record(entry('key_x', 1_000, 0), at(2, 8)); // another key
    usage.record(entry(null, 1_000, 0), at(2, 8)); // no key
    expect(usage.flush()).toBe(true);
    expect(db.query('SELECT sum(tokens) AS n FROM usage_daily WHERE key_id = $k').get({ k: 'key_r' })).toEqual({ n: summed(db, 'key_r', 0) });

    const now = at(2, 12);
    const resetAt = at(1, 12);
    const fresh = new SqliteUsageStore(db);
    expect(fresh.tokensOf('key_r', resetAt, now)).toEqual({ day: summed(db, 'key_r', at(2, 0)), week: summed(db, 'key_r', resetAt) });
    expect(fresh.tokensOf('key_r', resetAt, now)).toEqual({ day: 5, week: 55 });
    expect(new SqliteUsageStore(db).tokensOf('key_r', null, now)).toEqual({ day: 5, week: summed(db, 'key_r', MONDAY) });
    // A reset earlier today leaves today's tokens after it.
    expect(new SqliteUsageStore(db).tokensOf('key_r', at(2, 8) + 1, now)).toEqual({ day: 0, week: 0 });
    expect(new SqliteUsageStore(db).tokensOf('key_r', at(2, 8), now)).toEqual({ day: 5, week: 5 });
    // A reset last week: this week counts whole.
    expect(new SqliteUsageStore(db).tokensOf('key_r', MONDAY - DAY / 2, now)).toEqual({ day: 5, week: 212 });

    // Recorded after the counters were loaded: counted at once, and still equal to the rows once written.
    fresh.record(entry('key_r', 2, 1), now);
    expect(fresh.tokensOf('key_r', resetAt, now)).toEqual({ day: 8, week: 58 });
    fresh.flush();
    expect(new SqliteUsageStore(db).tokensOf('key_r', resetAt, now)).toEqual({ day: summed(db, 'key_r', at(2, 0)), week: summed(db, 'key_r', resetAt) });
  });

  test('admission never sums the usage rows: 140k rows, and the quota read touches at most a week of counters', () => {
    const db = openDatabase(':memory:');
    const writer = new SqliteUsageStore(db, { flushMs: 60_000, maxPending: 200_000 });
    const now = MONDAY + 3 * DAY + 12 * HOUR; // Thursday
    for (let i = 0; i < 140_000; i++) writer.record(entry(i % 7 ? 'key_busy' : 'key_quiet', 3, 2), MONDAY - 30 * DAY + Math.floor((i / 140_000) * 34 * DAY));
    expect(writer.flush()).toBe(true);
    expect((db.query('SELECT count(*) AS n FROM usage').get() as { n: number }).n).toBe(140_000);
    expect((db.query(`SELECT count(*) AS n FROM usage_daily WHERE key_id = 'key_busy'`).get() as { n: number }).n).toBeGreaterThan(30);

    const usage = new SqliteUsageStore(db);
    const seen = watchStatements(db);
    const used = usage.tokensOf('key_busy', null, now);
    expect(used.week).toBe(summed(db, 'key_busy', MONDAY));
    expect(used.day).toBe(summed(db, 'key_busy', MONDAY + 3 * DAY));
    seen.length = 0;
    usage.tokensOf('key_busy', null, now);
    usage.tokensOf('key_busy', null, now);
    usage.record(entry('key_busy', 1, 1), now);
    expect(usage.tokensOf('key_busy', null, now).day).toBe(used.day + 2);
    expect(seen).toEqual([]); // loaded once: later admissions read memory only

    const other = new SqliteUsageStore(db);
    seen.length = 0;
    other.tokensOf('key_quiet', null, now);
    expect(seen.filter(readsUsageRows)).toEqual([]);
    const read = seen.find((s) => s.includes('usage_daily'))!;
    const plan = db.query(`EXPLAIN QUERY PLAN ${read}`).all({ key: 'key_quiet', from: MONDAY / DAY }).map((r) => JSON.stringify(r)).join();
    expect(plan).toContain('PRIMARY KEY');

    // Rows put in the table behind the counters' back do not count: the figure comes from usage_daily.
    db.query(`INSERT INTO usage (at, key_id, route, status, input_tokens) VALUES ($at, 'key_quiet', '/v1/responses', 200, 1000000)`).run({ at: now - HOUR });
    expect(new SqliteUsageStore(db).tokensOf('key_quiet', null, now).day).toBe(other.tokensOf('key_quiet', null, now).day);
  });
});
