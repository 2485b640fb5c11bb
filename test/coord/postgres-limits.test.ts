import { describe, expect, test } from 'bun:test';
import { openPostgres, type Pg } from '../../src/store/postgres/database';
import { PostgresLimits } from '../../src/coord/postgres-limits';
import { DegradableLimits } from '../../src/coord/degradable-limits';
import { InstanceRegistry } from '../../src/coord/instances';
import { createLogger, silentLogger } from '../../src/log';
import { Metrics } from '../../src/observe/metrics';
import { startSharedLimits } from '../../src/coord/start-shared-limits';
import { postgresForFile, startPostgres } from '../support/services';
import { measureP50, sharedLimitsSuite } from './suite';

const postgres = postgresForFile();
const pools = postgres.pools;

async function pools2(): Promise<[Pg, Pg]> {
  const url = await postgres.server.createDatabase();
  const pair: [Pg, Pg] = [await openPostgres(url, { max: 4 }), await openPostgres(url, { max: 4 })];
  pools.push(...pair);
  return pair;
}

describe('PostgresLimits', () => {
  sharedLimitsSuite(async (opts) => {
    const [x, y] = await pools2();
    return [new PostgresLimits(x, opts), new PostgresLimits(y, opts)];
  });

  test('the counter row matches the window through expiry and refunds, and a busy window costs no count over its rows', async () => {
    const [x] = await pools2();
    const limits = new PostgresLimits(x, { windowMs: 300 });
    const refunds = [];
    for (let i = 0; i < 5; i++) refunds.push((await limits.takeRequests('k', 100, 2)).refund);
    refunds[0]!();
    await Bun.sleep(100);
    const [{ hits }] = await x`SELECT count(*)::int AS hits FROM rate_hits WHERE key_id = 'k'`;
    const [{ n }] = await x`SELECT n FROM rate_counts WHERE key_id = 'k'`;
    expect([hits, n]).toEqual([8, 8]);
    await Bun.sleep(350);
    const after = await limits.takeRequests('k', 100, 1);
    expect(after.used).toBe(1);
    const [{ n: counted }] = await x`SELECT n FROM rate_counts WHERE key_id = 'k'`;
    expect(counted).toBe(1);
    const [plan] = await x`SELECT prosrc FROM pg_proc WHERE proname = 'codexin_take_requests'`;
    expect(plan.prosrc).not.toMatch(/count\(\*\)/);
    await limits.close();
  });

  test('p50 on loopback (printed)', async () => {
    const [x] = await pools2();
    expect(await measureP50('PostgreSQL', new PostgresLimits(x))).toBeGreaterThan(0);
  });
});

describe('startSharedLimits', () => {
  test('without a Redis URL: PostgreSQL limits, this instance registered, its row gone on close', async () => {
    const [x] = await pools2();
    const setup = await startSharedLimits({ sql: x, logger: silentLogger, metrics: new Metrics(null) });
    expect(setup.limits.kind).toBe('postgres');
    expect(setup.instances.live()).toBe(1);
    expect((await setup.limits.takeRequests('k', 1, 1)).admitted).toBe(true);
    expect((await setup.limits.takeRequests('k', 1, 1)).admitted).toBe(false);
    await setup.close();
    expect((await x`SELECT count(*)::int AS n FROM instances`)[0].n).toBe(0);
  });
});

describe('instance registry', () => {
  test('instances count each other; one that stops is gone at once, one that dies ages out', async () => {
    const [x, y] = await pools2();
    const one = new InstanceRegistry(x, { heartbeatMs: 60_000, liveMs: 500 });
    const two = new InstanceRegistry(y, { heartbeatMs: 60_000, liveMs: 500 });
    await one.start();
    expect(one.live()).toBe(1);
    await two.start();
    expect(two.live()).toBe(2);
    expect(await one.beat()).toBe(2);
    await two.stop();
    expect(await one.beat()).toBe(1);
    const three = new InstanceRegistry(y, { heartbeatMs: 60_000, liveMs: 500 });
    await three.beat(); // beats once, then "crashes"
    expect(await one.beat()).toBe(2);
    await Bun.sleep(600);
    expect(await one.beat()).toBe(1);
    await one.stop();
  });
});

describe('PostgreSQL down', () => {
  test('frozen: answers within the deadline from a 1/N share, says so once, and recovers', async () => {
    // A server of its own: freezing the shared one would stall the other tests' pools.
    const own = await startPostgres();
    try {
      const sql = await openPostgres(await own.createDatabase(), { max: 4 });
      const lines: { level: string; msg: string }[] = [];
      const logger = createLogger('info', (line) => lines.push(JSON.parse(line)));
      const gauge = { value: -1, set(v: number) { this.value = v; } };
      const limits = new DegradableLimits(new PostgresLimits(sql, { deadlineMs: 300 }), { instances: { live: () => 3 }, logger, gauge, probeMs: 50 });
      expect(gauge.value).toBe(0);
      expect((await limits.takeRequests('k', 7, 1)).admitted).toBe(true);
      own.freeze();
      const started = performance.now();
      const first = await limits.takeRequests('k', 7, 1);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(first.admitted).toBe(true); // ceil(7 / 3) = 3 here
      expect(limits.degraded).toBe(true);
      expect(gauge.value).toBe(1);
      const more = [];
      for (let i = 0; i < 4; i++) more.push((await limits.takeRequests('k', 7, 1)).admitted);
      expect(more).toEqual([true, true, false, false]);
      expect(await limits.takeLease('k', 2)).not.toBeNull(); // ceil(2 / 3) = 1
      expect(await limits.takeLease('k', 2)).toBeNull();
      expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
      expect(lines[0]!.msg).toContain('PostgreSQL did not answer');
      own.thaw();
      const deadline = Date.now() + 5_000;
      while (limits.degraded && Date.now() < deadline) {
        await limits.takeRequests('other', 100, 1);
        await Bun.sleep(60);
      }
      expect(limits.degraded).toBe(false);
      expect(gauge.value).toBe(0);
      expect(lines.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual([expect.stringContaining('answers again')]);
      // Exact again: the server's window holds the hit from before the freeze (and the
      // one that timed out, if the server ran it after the thaw: a late hit only under-admits).
      const after = await limits.takeRequests('k', 7, 1);
      expect(after.admitted).toBe(true);
      expect([2, 3]).toContain(after.used);
      await limits.close();
      await sql.close({ timeout: 0 });
    } finally {
      own.thaw();
      await own.stop();
    }
  });
});
