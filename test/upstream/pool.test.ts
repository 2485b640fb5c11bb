/**
 * Account affinity by rendezvous hashing: instances that share nothing but the
 * account list agree on every conversation's account, the load spreads evenly,
 * an account leaving the pool moves only its own conversations, and `exclude`
 * (an account that just failed) falls back to the next-highest weight.
 */
import { describe, expect, test } from 'bun:test';
import type { AccountRecord } from '../../src/store/accounts';
import { AccountPool, affinityWeight, type PoolAccounts } from '../../src/upstream/pool';

function account(id: string, change: Partial<AccountRecord> = {}): AccountRecord {
  return {
    id,
    label: id,
    chatgptAccountId: `chatgpt-${id}`,
    email: null,
    plan: 'pro',
    accessToken: 'at',
    refreshToken: 'rt',
    idToken: 'it',
    accessExpiresAt: null,
    lastRefreshAt: null,
    refreshStartedAt: null,
    status: 'active',
    statusMessage: null,
    cooldownUntil: null,
    lastUsedAt: null,
    quota: null,
    createdAt: 0,
    ...change,
  };
}

/** One instance's view of the shared accounts table (its own copies: nothing in memory is shared). */
class FakeAccounts implements PoolAccounts {
  readonly writes: { id: string; at: number }[] = [];
  private records: AccountRecord[];

  constructor(records: AccountRecord[]) {
    this.records = records.map((r) => ({ ...r }));
  }

  list(): AccountRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** 'async': the write answers with a rejected promise, as a PostgreSQL store past its deadline. */
  failWrites: boolean | 'async' = false;

  markUsed(id: string, now = Date.now()): void | Promise<void> {
    if (this.failWrites === 'async') return Promise.reject(new Error('PostgreSQL did not answer within 2000 ms'));
    if (this.failWrites) throw new Error('database is locked');
    this.writes.push({ id, at: now });
    this.update(id, { lastUsedAt: now });
  }

  setCooldown(id: string, until: number | null): void {
    this.update(id, { cooldownUntil: until });
  }

  update(id: string, change: Partial<AccountRecord>): void {
    this.records = this.records.map((r) => (r.id === id ? { ...r, ...change } : r));
  }

  remove(id: string): void {
    this.records = this.records.filter((r) => r.id !== id);
  }
}

const IDS = ['acct_Qm3x9', 'acct_b7Lp2', 'acct_Zt04k', 'acct_9vYhE'];
const KEYS = Array.from({ length: 1_000 }, (_, i) => `conversation-${i}`);
const NOW = 1_750_000_000_000;

function assignments(pool: AccountPool, keys = KEYS, exclude: ReadonlySet<string> = new Set(), now = NOW): Map<string, string | null> {
  return new Map(keys.map((k) => [k, pool.pick(k, exclude, now)?.id ?? null]));
}

function counts(assigned: Map<string, string | null>): Map<string | null, number> {
  const n = new Map<string | null, number>();
  for (const id of assigned.values()) n.set(id, (n.get(id) ?? 0) + 1);
  return n;
}

describe('AccountPool affinity (rendezvous hashing)', () => {
  test('two instances over the same accounts pick the same account for each of 1,000 conversations, whatever their list order', () => {
    const records = IDS.map((id) => account(id));
    const first = new AccountPool(new FakeAccounts(records));
    const second = new AccountPool(new FakeAccounts([...records].reverse()));
    const a = assignments(first);
    const b = assignments(second);
    expect([...a.values()].every((id) => id !== null)).toBe(true);
    expect(b).toEqual(a);
    // And again later: a pick does not depend on what was picked before or when.
    expect(assignments(first, KEYS, new Set(), NOW + 3_600_000)).toEqual(a);
  });

  test('1,000 conversations spread over 4 accounts roughly evenly (each 15% to 35%)', () => {
    const byAccount = counts(assignments(new AccountPool(new FakeAccounts(IDS.map((id) => account(id))))));
    expect([...byAccount.keys()].sort()).toEqual([...IDS].sort());
    for (const id of IDS) {
      expect(byAccount.get(id)!, id).toBeGreaterThanOrEqual(150);
      expect(byAccount.get(id)!, id).toBeLessThanOrEqual(350);
    }
  });

  test('cooling one account moves only the conversations that were on it, spread over the rest; they return when it is back', () => {
    const accounts = new FakeAccounts(IDS.map((id) => account(id)));
    const pool = new AccountPool(accounts);
    const before = assignments(pool);
    const cooled = IDS[1]!;
    pool.coolDown(cooled, NOW + 60_000);
    const during = assignments(pool);
    let moved = 0;
    for (const key of KEYS) {
      if (before.get(key) === cooled) {
        moved++;
        expect(during.get(key)).not.toBe(cooled);
        expect(during.get(key)).not.toBeNull();
      } else {
        expect(during.get(key), key).toBe(before.get(key)!);
      }
    }
    expect(moved).toBeGreaterThan(0);
    // The moved conversations are shared by the remaining accounts, not piled onto one.
    const movedTo = counts(new Map(KEYS.filter((k) => before.get(k) === cooled).map((k) => [k, during.get(k)!])));
    expect(movedTo.size).toBe(IDS.length - 1);
    // Once the cooldown has passed, every conversation is back where it was.
    expect(assignments(pool, KEYS, new Set(), NOW + 60_000)).toEqual(before);
  });

  test('a disabled or removed account moves only its own conversations too', () => {
    const accounts = new FakeAccounts(IDS.map((id) => account(id)));
    const pool = new AccountPool(accounts);
    const before = assignments(pool);
    accounts.update(IDS[0]!, { status: 'disabled' });
    accounts.remove(IDS[2]!);
    const after = assignments(pool);
    for (const key of KEYS) {
      const was = before.get(key)!;
      if (was === IDS[0] || was === IDS[2]) expect([IDS[1], IDS[3]]).toContain(after.get(key)!);
      else expect(after.get(key)).toBe(was);
    }
  });

  test('exclude falls back to the next-highest weight, then the next; nothing left → null', () => {
    const pool = new AccountPool(new FakeAccounts(IDS.map((id) => account(id))));
    for (const key of KEYS.slice(0, 200)) {
      const ranked = [...IDS].sort((x, y) => (affinityWeight(key, y) > affinityWeight(key, x) ? 1 : -1));
      expect(pool.pick(key, new Set(), NOW)!.id).toBe(ranked[0]!);
      expect(pool.pick(key, new Set([ranked[0]!]), NOW)!.id).toBe(ranked[1]!);
      expect(pool.pick(key, new Set([ranked[0]!, ranked[1]!]), NOW)!.id).toBe(ranked[2]!);
      // Excluding an account the key does not prefer changes nothing.
      expect(pool.pick(key, new Set([ranked[3]!]), NOW)!.id).toBe(ranked[0]!);
    }
    expect(pool.pick('conversation-0', new Set(IDS), NOW)).toBeNull();
  });

  test('the weight is a stable hash of key and account id, with the pair boundary kept', () => {
    expect(affinityWeight('conversation-1', 'acct_x')).toBe(affinityWeight('conversation-1', 'acct_x'));
    expect(affinityWeight('ab', 'c')).not.toBe(affinityWeight('a', 'bc'));
    expect(affinityWeight('conversation-1', 'acct_x')).not.toBe(affinityWeight('conversation-2', 'acct_x'));
  });

  test('"last used" is written behind: on first use, then only after 30 s without a pick of that account; a failed write does not fail the pick', async () => {
    const accounts = new FakeAccounts([account(IDS[0]!)]);
    const pool = new AccountPool(accounts);
    pool.pick('c1', new Set(), NOW);
    pool.pick('c2', new Set(), NOW + 10_000);
    pool.pick('c3', new Set(), NOW + 39_999);
    expect(accounts.writes).toEqual([{ id: IDS[0]!, at: NOW }]);
    pool.pick('c4', new Set(), NOW + 69_999);
    expect(accounts.writes.at(-1)).toEqual({ id: IDS[0]!, at: NOW + 69_999 });
    accounts.failWrites = true;
    expect(pool.pick('c5', new Set(), NOW + 120_000)!.id).toBe(IDS[0]!);
    accounts.failWrites = 'async';
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      expect(pool.pick('c6', new Set(), NOW + 240_000)!.id).toBe(IDS[0]!);
      await Bun.sleep(10);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
