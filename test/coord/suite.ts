/**
 * The behaviour every SharedLimits backend owes, run against real servers by
 * postgres-limits.test.ts and redis-limits.test.ts: two instances (two pools or two
 * clients) on one server agree exactly.
 */
import { expect, test } from 'bun:test';
import type { SharedLimits, SharedLimitsOptions } from '../../src/coord/shared-limits';

export interface Backend extends SharedLimits {
  held: number;
  abandon(): void;
  renew(): Promise<void>;
}

/** Two instances sharing one fresh store. */
export type MakePair = (opts?: SharedLimitsOptions) => Promise<[Backend, Backend]>;

let keyCounter = 0;
const freshKey = () => `key_${process.pid}_${++keyCounter}_${Date.now()}`;

export function sharedLimitsSuite(makePair: MakePair): void {
  test('two instances alternating: limit 6 admits exactly 6 of 12, with used and resetMs', async () => {
    const [a, b] = await makePair();
    const key = freshKey();
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await (i % 2 ? b : a).takeRequests(key, 6, 1));
    expect(answers.filter((w) => w.admitted).length).toBe(6);
    expect(answers.slice(0, 6).every((w) => w.admitted)).toBe(true);
    expect(answers.map((w) => w.used)).toEqual([1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6]);
    for (const w of answers) {
      expect(w.resetMs).toBeGreaterThan(50_000);
      expect(w.resetMs).toBeLessThanOrEqual(60_000);
    }
    await Promise.all([a.close(), b.close()]);
  });

  test('a concurrent burst of 20 over two instances admits exactly 6', async () => {
    const [a, b] = await makePair();
    const key = freshKey();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).takeRequests(key, 6, 1)));
    expect(answers.filter((w) => w.admitted).length).toBe(6);
    await Promise.all([a.close(), b.close()]);
  });

  test('calls are admitted all or none, and a refund gives the hits back', async () => {
    const [a, b] = await makePair();
    const key = freshKey();
    const three = await a.takeRequests(key, 4, 3);
    expect(three).toMatchObject({ admitted: true, used: 3 });
    expect(await b.takeRequests(key, 4, 2)).toMatchObject({ admitted: false, used: 3 });
    three.refund();
    three.refund();
    await Bun.sleep(100); // the refund is fire-and-forget
    expect(await b.takeRequests(key, 4, 4)).toMatchObject({ admitted: true, used: 4 });
    await Promise.all([a.close(), b.close()]);
  });

  test('the window slides: hits older than the window no longer count', async () => {
    const [a, b] = await makePair({ windowMs: 800 });
    const key = freshKey();
    expect((await a.takeRequests(key, 2, 1)).admitted).toBe(true);
    await Bun.sleep(300);
    expect((await b.takeRequests(key, 2, 1)).admitted).toBe(true);
    const refused = await a.takeRequests(key, 2, 1);
    expect(refused.admitted).toBe(false);
    // The first hit leaves about 500 ms from now.
    expect(refused.resetMs).toBeGreaterThan(300);
    expect(refused.resetMs).toBeLessThanOrEqual(520);
    await Bun.sleep(refused.resetMs + 50);
    expect(await b.takeRequests(key, 2, 1)).toMatchObject({ admitted: true, used: 2 });
    expect((await a.takeRequests(key, 2, 1)).admitted).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });

  test('leases: limit 1 held by one instance, refused to the other, free again on release', async () => {
    const [a, b] = await makePair();
    const key = freshKey();
    const first = await a.takeLease(key, 1);
    expect(first).not.toBeNull();
    expect(await b.takeLease(key, 1)).toBeNull();
    expect(await a.takeLease(key, 1)).toBeNull();
    first!.release();
    first!.release();
    await Bun.sleep(100); // the release is fire-and-forget
    const second = await b.takeLease(key, 1);
    expect(second).not.toBeNull();
    expect(await a.takeLease(key, 1)).toBeNull();
    second!.release();
    await Promise.all([a.close(), b.close()]);
  });

  test('a concurrent burst of 10 lease requests for 3 slots grants exactly 3', async () => {
    const [a, b] = await makePair();
    const key = freshKey();
    const leases = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).takeLease(key, 3)));
    expect(leases.filter((l) => l !== null).length).toBe(3);
    await Promise.all([a.close(), b.close()]);
  });

  test('a held lease is renewed past its TTL; a holder that stops renewing frees its slot after the TTL', async () => {
    const [a, b] = await makePair({ leaseTtlMs: 600 });
    const key = freshKey();
    expect(await a.takeLease(key, 1)).not.toBeNull();
    await Bun.sleep(1_000); // renewed every 200 ms
    expect(await b.takeLease(key, 1)).toBeNull();
    a.abandon(); // crashed: neither renews nor releases
    expect(await b.takeLease(key, 1)).toBeNull();
    await Bun.sleep(700);
    expect(await b.takeLease(key, 1)).not.toBeNull();
    await Promise.all([a.close(), b.close()]);
  });

  test('close releases the leases an instance holds', async () => {
    const [a, b] = await makePair();
    const key = freshKey();
    expect(await a.takeLease(key, 2)).not.toBeNull();
    expect(await a.takeLease(key, 2)).not.toBeNull();
    expect(a.held).toBe(2);
    await a.close();
    expect(await b.takeLease(key, 2)).not.toBeNull();
    expect(await b.takeLease(key, 2)).not.toBeNull();
    await b.close();
  });
}

/** p50 of sequential takeRequests on loopback, printed (not asserted). */
export async function measureP50(label: string, limits: SharedLimits, n = 300): Promise<number> {
  const times: number[] = [];
  const key = freshKey();
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await limits.takeRequests(key, 1_000_000, 1);
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  const p50 = times[Math.floor(n / 2)]!;
  console.log(`${label} takeRequests p50 ${p50.toFixed(3)} ms, p99 ${times[Math.floor(n * 0.99)]!.toFixed(3)} ms over ${n} sequential calls`);
  return p50;
}
