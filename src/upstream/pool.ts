/**
 * Chooses which ChatGPT account serves a request. Among usable accounts (active,
 * not cooling down) it keeps a conversation on the account that served it before,
 * so the upstream prompt cache keeps hitting, and otherwise picks the least
 * recently used one to spread load.
 */
import type { AccountRecord, AccountStore } from '../store/accounts';

const AFFINITY_LIMIT = 10_000;
// "Last used" drives the least-recently-used choice from memory; the database copy
// (shown in accounts list) is refreshed at most this often, off the hot path.
const PERSIST_LAST_USED_MS = 30_000;

export class AccountPool {
  // Insertion-ordered: the oldest entry is evicted first.
  private readonly affinity = new Map<string, string>();
  private readonly lastUsed = new Map<string, number>();

  constructor(private readonly accounts: AccountStore) {}

  usable(now = Date.now()): AccountRecord[] {
    return this.accounts.list().filter((a) => a.status === 'active' && (a.cooldownUntil === null || a.cooldownUntil <= now));
  }

  /** The account for this conversation, or null when none is usable. */
  pick(affinityKey: string, exclude: ReadonlySet<string> = new Set(), now = Date.now()): AccountRecord | null {
    const candidates = this.usable(now).filter((a) => !exclude.has(a.id));
    if (candidates.length === 0) return null;
    const preferred = this.affinity.get(affinityKey);
    const sticky = preferred ? candidates.find((a) => a.id === preferred) : undefined;
    const usedAt = (a: AccountRecord) => this.lastUsed.get(a.id) ?? a.lastUsedAt ?? 0;
    const chosen = sticky ?? candidates.reduce((best, a) => (usedAt(a) < usedAt(best) ? a : best));
    this.remember(affinityKey, chosen.id);
    const previous = usedAt(chosen);
    this.lastUsed.set(chosen.id, now);
    if (now - previous >= PERSIST_LAST_USED_MS || chosen.lastUsedAt === null) {
      try {
        this.accounts.markUsed(chosen.id, now);
      } catch {
        // A locked or read-only database must not fail the call: memory has the time, the next write catches up.
      }
    }
    return chosen;
  }

  private remember(key: string, accountId: string): void {
    this.affinity.delete(key);
    this.affinity.set(key, accountId);
    if (this.affinity.size > AFFINITY_LIMIT) this.affinity.delete(this.affinity.keys().next().value!);
  }

  coolDown(accountId: string, until: number): void {
    this.accounts.setCooldown(accountId, until);
  }

  /** When every active account is cooling down: the earliest time one comes back. */
  earliestReset(now = Date.now()): number | null {
    const cooling = this.accounts.list().filter((a) => a.status === 'active' && a.cooldownUntil !== null && a.cooldownUntil > now);
    return cooling.length ? Math.min(...cooling.map((a) => a.cooldownUntil!)) : null;
  }
}
