import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { RedisLimits } from '../../src/coord/redis-limits';
import { DegradableLimits } from '../../src/coord/degradable-limits';
import { createLogger } from '../../src/log';
import { Metrics } from '../../src/observe/metrics';
import { startRedis, type RedisServer } from '../support/services';
import { measureP50, sharedLimitsSuite } from './suite';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('RedisLimits', () => {
  sharedLimitsSuite(async (opts) => [new RedisLimits(redis.url, opts), new RedisLimits(redis.url, opts)]);

  test('a server that forgot the scripts (restart, SCRIPT FLUSH) gets them again', async () => {
    const limits = new RedisLimits(redis.url);
    expect((await limits.takeRequests('flush', 5, 1)).admitted).toBe(true);
    const admin = new Bun.RedisClient(redis.url);
    await admin.send('SCRIPT', ['FLUSH']);
    admin.close();
    expect(await limits.takeRequests('flush', 5, 1)).toMatchObject({ admitted: true, used: 2 });
    await limits.close();
  });

  test('p50 on loopback (printed)', async () => {
    const limits = new RedisLimits(redis.url);
    expect(await measureP50('Redis', limits)).toBeGreaterThan(0);
    await limits.close();
  });
});

describe('Redis down', () => {
  function degradable() {
    const lines: { level: string; msg: string }[] = [];
    const logger = createLogger('info', (line) => lines.push(JSON.parse(line)));
    const metrics = new Metrics(null);
    const limits = new DegradableLimits(new RedisLimits(redis.url, { deadlineMs: 250 }), { instances: { live: () => 2 }, logger, gauge: metrics.sharedLimitsDegraded, probeMs: 50 });
    const gauge = async () => (await metrics.registry.getSingleMetricAsString('codexin_shared_limits_degraded')).split('\n').at(-1);
    return { lines, limits, gauge };
  }

  async function recover(limits: DegradableLimits): Promise<void> {
    const deadline = Date.now() + 8_000;
    while (limits.degraded && Date.now() < deadline) {
      await limits.takeRequests('probe', 100, 1);
      await Bun.sleep(60);
    }
  }

  test('frozen: answers within the deadline from a 1/N share, the gauge and one warn say so; recovers on thaw', async () => {
    const { lines, limits, gauge } = degradable();
    const key = `frozen_${Date.now()}`;
    expect((await limits.takeRequests(key, 6, 1)).admitted).toBe(true);
    expect(await gauge()).toBe('codexin_shared_limits_degraded 0');
    redis.freeze();
    try {
      const started = performance.now();
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push((await limits.takeRequests(key, 6, 1)).admitted);
      expect(performance.now() - started).toBeLessThan(1_000); // one deadline, then memory
      expect(answers).toEqual([true, true, true, false, false]); // ceil(6 / 2) = 3
      expect(limits.degraded).toBe(true);
      expect(await gauge()).toBe('codexin_shared_limits_degraded 1');
      const warns = lines.filter((l) => l.level === 'warn');
      expect(warns).toHaveLength(1);
      expect(warns[0]!.msg).toContain('Redis did not answer');
    } finally {
      redis.thaw();
    }
    await recover(limits);
    expect(limits.degraded).toBe(false);
    expect(await gauge()).toBe('codexin_shared_limits_degraded 0');
    expect(lines.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual([expect.stringContaining('answers again')]);
    await limits.close();
  });

  test('stopped: fails fast to the share, leases too; back to exact after a restart', async () => {
    const { lines, limits } = degradable();
    const key = `stopped_${Date.now()}`;
    const held = await limits.takeLease(key, 4);
    expect(held).not.toBeNull();
    await redis.stop(); // and it stays down while we ask
    const started = performance.now();
    const leases = [await limits.takeLease(key, 4), await limits.takeLease(key, 4), await limits.takeLease(key, 4)];
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(leases.map((l) => l !== null)).toEqual([true, true, false]); // ceil(4 / 2) = 2 in memory
    expect(limits.degraded).toBe(true);
    held!.release(); // cannot reach Redis: harmless, the lease would expire there
    await redis.restart(); // with an empty store (no persistence): the window below starts afresh
    await recover(limits);
    expect(limits.degraded).toBe(false);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(await limits.takeRequests(key, 2, 1)).toMatchObject({ admitted: true, used: 1 });
    await limits.close();
  });
});
