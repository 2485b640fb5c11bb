/**
 * Chooses which ChatGPT account serves a request. Among usable accounts (active,
 * not cooling down) a conversation goes to the account of highest rendezvous weight
 * for its affinity key, hash(key, account id): every instance behind a load balancer
 * computes the same choice with no shared state, so the upstream prompt cache keeps
 * hitting, and conversations spread evenly. When an account leaves the pool (cooled,
 * disabled, removed, or excluded after a failure) only its own conversations move,
 * each to its next-highest weight; the others stay where they were.
 */
import type { AccountRecord, AccountStore } from '../store/accounts';

// The database copy of "last used" (shown in accounts list) is refreshed at most this
// often per account, off the hot path; memory has the exact time.
const PERSIST_LAST_USED_MS = 30_000;

/** What the pool needs of the account store. */
export type PoolAccounts = Pick<AccountStore, 'list' | 'markUsed' | 'setCooldown'>;

/**
 * The rendezvous weight of an account for a conversation: a stable 64-bit hash
 * (wyhash, the same on every instance and across restarts) of the key and the id.
 * The NUL separator keeps ("ab", "c") and ("a", "bc") apart.
 */
export function affinityWeight(affinityKey: string, accountId: string): bigint {
  return Bun.hash.wyhash(`${affinityKey}\0${accountId}`);
}

/** The candidate of highest weight for this key; ties (astronomically rare) go to the smaller id, so the answer never depends on list order. */
export function rendezvousPick<T extends { id: string }>(affinityKey: string, candidates: readonly T[]): T | null {
  let best: T | null = null;
  let bestWeight = -1n;
  for (const candidate of candidates) {
    const weight = affinityWeight(affinityKey, candidate.id);
    if (weight > bestWeight || (weight === bestWeight && best !== null && candidate.id < best.id)) {
      best = candidate;
      bestWeight = weight;
    }
  }
  return best;
}

export class AccountPool {
  private readonly lastUsed = new Map<string, number>();

  constructor(private readonly accounts: PoolAccounts) {}

  usable(now = Date.now()): AccountRecord[] {
    return this.accounts.list().filter((a) => a.status === 'active' && (a.cooldownUntil === null || a.cooldownUntil <= now));
  }

  /** The account for this conversation, or null when none is usable. */
  pick(affinityKey: string, exclude: ReadonlySet<string> = new Set(), now = Date.now()): AccountRecord | null {
    const chosen = rendezvousPick(
      affinityKey,
      this.usable(now).filter((a) => !exclude.has(a.id)),
    );
    if (!chosen) return null;
    const previous = this.lastUsed.get(chosen.id) ?? chosen.lastUsedAt ?? 0;
    this.lastUsed.set(chosen.id, now);
    if (now - previous >= PERSIST_LAST_USED_MS || chosen.lastUsedAt === null) {
      try {
        const written = this.accounts.markUsed(chosen.id, now);
        // A store over the network answers later; its failure is as harmless as a synchronous one.
        if (written instanceof Promise) written.catch(() => {});
      } catch {
        // A locked or read-only database must not fail the call: memory has the time, the next write catches up.
      }
    }
    return chosen;
  }

  /** Written through (shared with every instance); a failed write leaves this call's outcome as it was. */
  coolDown(accountId: string, until: number): void {
    try {
      const written = this.accounts.setCooldown(accountId, until);
      if (written instanceof Promise) written.catch(() => {});
    } catch {
      // The cooldown is advisory: the next 429 sets it again.
    }
  }

  /** When every active account is cooling down: the earliest time one comes back. */
  earliestReset(now = Date.now()): number | null {
    const cooling = this.accounts.list().filter((a) => a.status === 'active' && a.cooldownUntil !== null && a.cooldownUntil > now);
    return cooling.length ? Math.min(...cooling.map((a) => a.cooldownUntil!)) : null;
  }
}
