/** Usage metering across instances: two PgUsageStores on one real PostgreSQL database. */
import { describe, expect, test } from 'bun:test';
import { postgresForFile } from '../../support/services';
import { openPostgres, type Pg } from '../../../src/store/postgres/database';
import { PgUsageStore } from '../../../src/store/postgres/usage';
import type { UsageEntry } from '../../../src/store/usage';

const DAY = 86_400_000;

function entry(keyId: string | null, input: number, output: number, extra: Partial<UsageEntry> = {}): UsageEntry {
  return {
    keyId,
    accountId: 'acct_1',
    route: '/v1/responses',
    model: 'gpt-5.5',
    status: 200,
    usage: { input_tokens: input, input_tokens_details: { cached_tokens: 1 }, output_tokens: output, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: input + output },
    latencyMs: 40,
    ttfbMs: 10,
    requestId: `req_${Math.random().toString(36).slice(2)}`,
    ...extra,
  };
}

const postgres = postgresForFile();
const pools = postgres.pools;

/** Two instances' pools on one fresh database. */
async function twoInstances(opts: { deadlineMs?: number } = {}): Promise<{ a: PgUsageStore; b: PgUsageStore; sqlA: Pg; sqlB: Pg }> {
  const url = await postgres.server.createDatabase();
  const sqlA = await openPostgres(url, { max: 4 });
  const sqlB = await openPostgres(url, { max: 4 });
  pools.push(sqlA, sqlB);
  return { a: new PgUsageStore(sqlA, { flushMs: 60_000, ...opts }), b: new PgUsageStore(sqlB, { flushMs: 60_000, ...opts }), sqlA, sqlB };
}

async function countRows(sql: Pg): Promise<number> {
  return ((await sql`SELECT count(*)::int AS n FROM usage`)[0] as { n: number }).n;
}

describe('PgUsageStore: two instances on one database', () => {
  test('rows recorded on either show in totals, byDay and recent requests of both', async () => {
    const { a, b } = await twoInstances();
    const now = Date.now();
    a.record(entry('key_1', 100, 10), now - 3);
    a.record(entry('key_2', 5, 5, { status: 429, errorCode: 'rate_limit_exceeded', usage: null }), now - 2);
    b.record(entry('key_1', 200, 20), now - 1);
    // Reads flush this instance's queue; the other instance's rows are there once it flushed.
    expect(await a.flush()).toBe(true);
    expect(await b.flush()).toBe(true);
    expect(await a.totalsForKey('key_1')).toEqual({ requests: 2, input_tokens: 300, cached_tokens: 2, output_tokens: 30, reasoning_tokens: 4 });
    expect(await b.totalsForKey('key_1')).toEqual(await a.totalsForKey('key_1'));
    expect(await b.tokensForKey('key_1', 0)).toBe(330);
    expect(await b.totalsForKey('key_1', now - 1)).toMatchObject({ requests: 1, input_tokens: 200 });

    const today = new Date(now).toISOString().slice(0, 10);
    const byKey = await b.byDay('key', now - DAY);
    expect(byKey).toEqual([
      { day: today, id: 'key_1', requests: 2, input_tokens: 300, cached_tokens: 2, output_tokens: 30, reasoning_tokens: 4 },
      { day: today, id: 'key_2', requests: 1, input_tokens: 0, cached_tokens: 0, output_tokens: 0, reasoning_tokens: 0 },
    ]);
    expect(await a.byDay('account', now - DAY, 'acct_1')).toEqual([{ day: today, id: 'acct_1', requests: 3, input_tokens: 300, cached_tokens: 2, output_tokens: 30, reasoning_tokens: 4 }]);
    expect(await a.byDay('key', now - DAY, 'key_2')).toHaveLength(1);

    for (const store of [a, b]) {
      const all = await store.recentRequests({ limit: 10 });
      expect(all.map((r) => r.key_id)).toEqual(['key_1', 'key_2', 'key_1']);
      expect(typeof all[0]!.id).toBe('number');
      expect(all[1]).toMatchObject({ status: 429, error_code: 'rate_limit_exceeded', latency_ms: 40, ttfb_ms: 10 });
      expect((await store.recentRequests({ limit: 10, outcome: 'error' })).map((r) => r.status)).toEqual([429]);
      expect((await store.recentRequests({ limit: 10, outcome: 'ok' })).map((r) => r.status)).toEqual([200, 200]);
      expect((await store.recentRequests({ limit: 10, keyId: 'key_2' })).map((r) => r.key_id)).toEqual(['key_2']);
      const page2 = await store.recentRequests({ limit: 2, before: all[1]!.id });
      expect(page2.map((r) => r.id)).toEqual([all[2]!.id]);
    }
  });

  test('tokensOf on one instance counts the other instance\'s flushed usage and its own queued rows', async () => {
    const { a, b } = await twoInstances();
    const now = Date.now();
    a.record(entry('key_q', 1_000, 500), now);
    a.record(entry('key_q', 1, 1), now - 8 * DAY); // last week: out of both figures
    a.record(entry('key_other', 7, 7), now);
    expect(await b.tokensOf('key_q', null, now)).toEqual({ day: 0, week: 0 }); // A has not flushed yet
    expect(await a.flush()).toBe(true);
    expect(await b.tokensOf('key_q', null, now)).toEqual({ day: 1_500, week: 1_500 });
    b.record(entry('key_q', 10, 5), now); // B's own, not written yet
    expect(await b.tokensOf('key_q', null, now)).toEqual({ day: 1_515, week: 1_515 });
    expect(b.health().pending).toBe(1);
    // A day earlier this week counts for the week only (unless today is Monday).
    const weekday = (new Date(now).getUTCDay() + 6) % 7;
    if (weekday > 0) {
      a.record(entry('key_q', 100, 0), now - DAY);
      await a.flush();
      expect(await b.tokensOf('key_q', null, now)).toEqual({ day: 1_515, week: 1_615 });
    }
  });

  test('a usage reset in the middle of the day counts only what came after it, as a sum over the rows would', async () => {
    const { a, b, sqlA } = await twoInstances();
    const now = Date.now();
    const dayStart = Math.floor(now / DAY) * DAY;
    const resetAt = Math.max(dayStart + 1, now - 2 * 60_000); // settled: over a minute ago
    a.record(entry('key_r', 300, 0), dayStart); // before the reset, same day
    a.record(entry('key_r', 40, 2), resetAt); // at the reset: counts
    b.record(entry('key_r', 7, 0), now);
    await a.flush();
    await b.flush();
    const sum = ((await sqlA`SELECT sum(input_tokens + output_tokens) AS n FROM usage WHERE key_id = 'key_r' AND at >= ${resetAt}`)[0] as { n: number }).n;
    expect(sum).toBe(49);
    expect(await a.tokensOf('key_r', resetAt, now)).toEqual({ day: 49, week: 49 });
    // Settled: the reset day's tokens before the reset are remembered, later rows still come from the counters.
    b.record(entry('key_r', 1, 0), now);
    await b.flush();
    expect(await a.tokensOf('key_r', resetAt, now)).toEqual({ day: 50, week: 50 });
    expect(await a.tokensOf('key_r', null, now)).toEqual({ day: 350, week: 350 });
  });

  test('a queue longer than one statement takes is written whole, its counters summed per key and day', async () => {
    const { a, b, sqlB } = await twoInstances();
    const now = Date.now();
    for (let i = 0; i < 2_500; i++) a.record(entry(i % 2 ? 'key_odd' : 'key_even', 3, 1), now);
    expect(await a.flush()).toBe(true);
    expect(await countRows(sqlB)).toBe(2_500);
    expect(await b.tokensOf('key_odd', null, now)).toEqual({ day: 5_000, week: 5_000 });
    expect(await b.tokensOf('key_even', null, now)).toEqual({ day: 5_000, week: 5_000 });
  });

  test('a batch written twice (a retry after an ambiguous failure) is counted once', async () => {
    const { a, b, sqlA } = await twoInstances();
    const now = Date.now();
    a.record(entry('key_i', 60, 40), now);
    a.record(entry('key_i', 1, 1), now);
    const batch = (a as unknown as { queue: { take(): Parameters<PgUsageStore['writeBatch']>[0] } }).queue.take();
    await a.writeBatch(batch);
    await a.writeBatch(batch); // the answer to the first was lost: the same rows again
    await Promise.all([a.writeBatch(batch), b.writeBatch(batch)]); // even at once, from two instances
    expect(await countRows(sqlA)).toBe(2);
    expect(await b.tokensOf('key_i', null, now)).toEqual({ day: 102, week: 102 });
    const daily = await sqlA`SELECT key_id, tokens FROM usage_daily`;
    expect([...daily]).toEqual([{ key_id: 'key_i', tokens: 102 }]);
  });
});

// These stop and freeze the file's one server: they run last.
describe('PgUsageStore when PostgreSQL is away', () => {
  test('frozen: a flush fails within the deadline and keeps the rows; after the thaw they are written once', async () => {
    const { a, b, sqlB } = await twoInstances({ deadlineMs: 800 });
    a.record(entry('key_f', 10, 10));
    expect(await a.flush()).toBe(true);
    postgres.server.freeze();
    try {
      a.record(entry('key_f', 1, 1));
      a.record(entry('key_f', 2, 2));
      let started = Date.now();
      expect(await a.flush()).toBe(false);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(a.health()).toMatchObject({ writable: false, pending: 2 });
      expect(a.health().lastError).toContain('did not answer');
      started = Date.now();
      expect((await a.canWrite()).ok).toBe(false);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      postgres.server.thaw();
    }
    // The frozen INSERT may still have gone in after the thaw: the retry must not count it twice.
    expect(await a.flush()).toBe(true);
    expect(a.health()).toMatchObject({ writable: true, pending: 0, lastError: null });
    expect(await b.tokensOf('key_f', null)).toEqual({ day: 26, week: 26 });
    expect(await countRows(sqlB)).toBe(3);
  });

  test('stopped: rows stay queued, not writable, readiness fails; after a restart the flush writes every row once', async () => {
    const { a, b, sqlB } = await twoInstances({ deadlineMs: 1_000 });
    const failures: number[] = [];
    const recoveries: number[] = [];
    a.listener = { failed: (_e, pending) => failures.push(pending), recovered: (n) => recoveries.push(n) };
    a.record(entry('key_s', 10, 10));
    expect(await a.flush()).toBe(true);
    expect((await a.canWrite()).ok).toBe(true);
    expect(await a.tokensOf('key_s', null)).toEqual({ day: 20, week: 20 });

    await postgres.server.stop();
    try {
      for (let i = 0; i < 5; i++) a.record(entry('key_s', 1, 1));
      expect(await a.flush()).toBe(false);
      a.record(entry('key_s', 1, 1)); // more rows while it is down: still queued, none lost
      expect(await a.flush()).toBe(false);
      expect(a.health()).toMatchObject({ writable: false, pending: 6, dropped: 0 });
      expect((await a.canWrite()).ok).toBe(false);
      expect(failures).toEqual([5]); // the streak is reported once, not per retry
      // Quotas fail open: the counters as last read plus the rows this instance could not write.
      expect(await a.tokensOf('key_s', null)).toEqual({ day: 32, week: 32 });
      expect(await a.tokensOf('key_never_read', null)).toEqual({ day: 0, week: 0 });
    } finally {
      await postgres.server.restart();
    }
    let ok = false;
    for (let attempt = 0; attempt < 20 && !ok; attempt++) {
      ok = await a.flush(); // the pool reconnects; a first attempt may still meet a dead connection
      if (!ok) await Bun.sleep(100);
    }
    expect(ok).toBe(true);
    expect(recoveries).toEqual([6]);
    expect(a.health()).toMatchObject({ writable: true, pending: 0 });
    expect(await countRows(sqlB)).toBe(7);
    expect(await b.tokensOf('key_s', null)).toEqual({ day: 32, week: 32 });
    expect(await b.totalsForKey('key_s')).toMatchObject({ requests: 7, input_tokens: 16, output_tokens: 16 });
  });
});
