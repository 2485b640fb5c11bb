/**
 * KeyLimiter with shared limits: two instances (two limiters, two pools) on one database
 * refuse with the same 429 as one process alone: status, code, message and headers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { KeyLimiter, type Admission } from '../../src/call/admission';
import { UpstreamCapacity } from '../../src/call/capacity';
import { PostgresLimits } from '../../src/coord/postgres-limits';
import type { ApiError } from '../../src/openai/api-error';
import { openPostgres, type Pg } from '../../src/store/postgres/database';
import type { KeyRecord } from '../../src/store/keys';
import type { UsageStore } from '../../src/store/usage';
import { startPostgres, type PostgresServer } from '../support/services';

let pg: PostgresServer;
const pools: Pg[] = [];
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close({ timeout: 0 })));
  await pg.stop();
});

/** A usage store answering as the PostgreSQL one will: with a promise. */
function usageAnswering(tokens: { day: number; week: number }): UsageStore {
  return { tokensOf: async () => tokens } as unknown as UsageStore;
}

let counter = 0;
function key(limits: Partial<KeyRecord>): KeyRecord {
  return {
    id: `key_${++counter}_${Date.now()}`,
    name: 'k',
    prefix: 'sk-x',
    scopes: [],
    createdAt: 0,
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
    usageResetAt: null,
    rpm: null,
    tokenQuotaDaily: null,
    tokenQuotaWeekly: null,
    maxConcurrent: null,
    allowedModels: null,
    ...limits,
  };
}

async function refusal(admission: Promise<Admission> | Admission | (() => Promise<Admission> | Admission)): Promise<ApiError> {
  try {
    await (typeof admission === 'function' ? admission() : admission);
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('admitted, expected a refusal');
}

const shape = (e: ApiError) => ({ status: e.status, type: e.type, code: e.code, message: e.message, headers: e.headers });

async function instances(usage = usageAnswering({ day: 0, week: 0 })): Promise<[KeyLimiter, KeyLimiter, PostgresLimits, PostgresLimits]> {
  const url = await pg.createDatabase();
  const [x, y] = [await openPostgres(url, { max: 4 }), await openPostgres(url, { max: 4 })];
  pools.push(x, y);
  const [sa, sb] = [new PostgresLimits(x), new PostgresLimits(y)];
  return [new KeyLimiter(usage, new UpstreamCapacity(100), { shared: sa }), new KeyLimiter(usage, new UpstreamCapacity(100), { shared: sb }), sa, sb];
}

describe('KeyLimiter with shared limits', () => {
  test('rpm across two instances: the same headers and the same 429 as one process', async () => {
    const [a, b] = await instances();
    const local = new KeyLimiter(usageAnswering({ day: 0, week: 0 }), new UpstreamCapacity(100));
    const k = key({ rpm: 2 });
    const first = await a.admit(k);
    const localFirst = await local.admit(k);
    expect(first.headers).toEqual(localFirst.headers);
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': '1m0s' });
    const second = await b.admit(k);
    expect(second.headers['x-ratelimit-remaining-requests']).toBe('0');
    await local.admit(k);
    const shared = await refusal(a.admit(k));
    const alone = await refusal(() => local.admit(k));
    expect(shape(shared)).toEqual(shape(alone));
    expect(shape(shared)).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', headers: { 'retry-after': '60', 'x-ratelimit-remaining-requests': '0' } });
    for (const admission of [first, second]) admission.release();
  });

  test('concurrency across two instances: refused on the other one, free again on release', async () => {
    const [a, b] = await instances();
    const local = new KeyLimiter(usageAnswering({ day: 0, week: 0 }), new UpstreamCapacity(100));
    const k = key({ maxConcurrent: 1 });
    const held = await a.admit(k);
    const localHeld = await local.admit(k);
    const shared = await refusal(b.admit(k));
    expect(shape(shared)).toEqual(shape(await refusal(() => local.admit(k))));
    expect(shape(shared)).toMatchObject({ status: 429, code: 'concurrency_limit_exceeded', headers: { 'retry-after': '1' } });
    expect(b.activeFor(k.id)).toBe(0); // the refused one holds nothing
    held.release();
    localHeld.release();
    await Bun.sleep(100); // the lease's delete is fire-and-forget
    (await b.admit(k)).release();
  });

  test('a request refused for concurrency does not count against rpm', async () => {
    const [a, b] = await instances();
    const k = key({ rpm: 3, maxConcurrent: 1 });
    const held = await a.admit(k);
    expect((await refusal(b.admit(k))).code).toBe('concurrency_limit_exceeded');
    expect((await refusal(b.admit(k))).code).toBe('concurrency_limit_exceeded');
    held.release();
    await Bun.sleep(100);
    const next = await b.admit(k);
    expect(next.headers['x-ratelimit-remaining-requests']).toBe('1');
    next.release();
  });

  test('token quotas stay per process, awaited from a usage store that answers with a promise', async () => {
    const [a] = await instances(usageAnswering({ day: 1_000, week: 1_000 }));
    const spent = await refusal(a.admit(key({ rpm: 5, tokenQuotaDaily: 1_000 })));
    expect(shape(spent)).toMatchObject({ status: 429, code: 'token_quota_exceeded', headers: { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-limit-requests': '5' } });
    const local = new KeyLimiter(usageAnswering({ day: 10, week: 10 }), new UpstreamCapacity(100));
    const k = key({ tokenQuotaDaily: 1_000 });
    const ok = await local.admit(k);
    expect(ok.headers['x-ratelimit-remaining-tokens']).toBe('990');
    const next = await local.admit(k); // the first one's reservation (512 output tokens estimated) is held
    expect(next.headers['x-ratelimit-remaining-tokens']).toBe(String(990 - 512));
    ok.release();
    next.release();
  });

  test('keys without rpm or concurrency limits never touch the shared server and admit synchronously', async () => {
    const [a] = await instances({ tokensOf: () => ({ day: 0, week: 0 }) } as unknown as UsageStore);
    const admission = a.admit(key({ tokenQuotaDaily: 10_000 }));
    expect(admission instanceof Promise).toBe(false);
    (admission as Admission).release();
  });

  test('50 concurrent admissions over two instances with rpm 10 and 4 slots: 4 admitted, and only they count against rpm', async () => {
    const [a, b, sa] = await instances();
    const k = key({ rpm: 10, maxConcurrent: 4 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => (i % 2 ? b : a).admit(k)));
    const admitted = results.filter((r): r is PromiseFulfilledResult<Admission> => r.status === 'fulfilled');
    expect(admitted.length).toBe(4);
    await Bun.sleep(200); // refunds of the ones refused for concurrency are fire-and-forget
    expect((await sa.takeRequests(k.id, 10, 0)).used).toBe(4);
    for (const r of admitted) r.value.release();
  });
});
