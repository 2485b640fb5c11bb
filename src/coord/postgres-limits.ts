/**
 * Shared limits in PostgreSQL: `rate_hits` rows for the sliding window and `leases` rows
 * for calls in flight, each decision one call of a PL/pgSQL function (migrations 3 and 4) that
 * serialises the key under an advisory lock and uses the database's clock, so instances
 * with skewed clocks still agree.
 */
import type { Pg } from '../store/postgres/database';
import { withDeadline } from '../store/postgres/database';
import { LeaseKeeper, type HeldLease } from './lease-keeper';
import { LEASE_TTL_MS, noRefund, WINDOW_MS, type Lease, type RequestWindow, type SharedLimits, type SharedLimitsOptions } from './shared-limits';

export const LIMITS_DEADLINE_MS = 1_000;

interface TakeRow {
  o_admitted: boolean;
  o_used: number;
  o_reset_ms: number;
  o_at: number;
}

export class PostgresLimits implements SharedLimits {
  readonly kind = 'postgres' as const;
  private readonly windowMs: number;
  private readonly ttlMs: number;
  private readonly deadlineMs: number;
  private readonly leases: LeaseKeeper;

  constructor(
    private readonly sql: Pg,
    opts: SharedLimitsOptions & { instanceId?: string; onError?: (error: Error) => void } = {},
  ) {
    this.windowMs = opts.windowMs ?? WINDOW_MS;
    this.ttlMs = opts.leaseTtlMs ?? LEASE_TTL_MS;
    this.deadlineMs = opts.deadlineMs ?? LIMITS_DEADLINE_MS;
    this.leases = new LeaseKeeper(
      {
        renew: (held) => this.run('lease renewal', this.sql`UPDATE leases SET expires_at = floor(extract(epoch FROM clock_timestamp()) * 1000) + ${this.ttlMs} WHERE id = ANY(${this.sql.array(held.map((l) => l.id), 'TEXT')})`),
        remove: (lease) => this.run('a lease release', this.sql`DELETE FROM leases WHERE id = ${lease.id}`),
      },
      this.ttlMs,
      opts.instanceId ?? crypto.randomUUID(),
      opts.onError,
    );
  }

  async takeRequests(keyId: string, limit: number, calls: number): Promise<RequestWindow> {
    const rows = await this.run('a rate-limit check', this.sql`SELECT * FROM codexin_take_requests(${keyId}, ${limit}, ${calls}, ${this.windowMs})`);
    const row = rows[0] as TakeRow;
    let refunded = !row.o_admitted;
    return {
      admitted: row.o_admitted,
      used: row.o_used,
      resetMs: Math.max(0, row.o_reset_ms),
      refund: refunded
        ? noRefund
        : () => {
            if (refunded) return;
            refunded = true;
            // Hits of one attempt share their timestamp; any `calls` rows of it are as good.
            this.run('a rate-limit refund', this.sql`SELECT codexin_refund_requests(${keyId}, ${row.o_at}, ${calls})`).catch(() => {});
          },
    };
  }

  async takeLease(keyId: string, limit: number): Promise<Lease | null> {
    const lease: HeldLease = { id: this.leases.nextId(), keyId };
    const rows = await this.run('a concurrency lease', this.sql`SELECT codexin_take_lease(${keyId}, ${limit}, ${lease.id}, ${this.ttlMs}) AS ok`);
    return (rows[0] as { ok: boolean }).ok ? this.leases.hold(lease) : null;
  }

  async ping(): Promise<void> {
    await this.run('a ping', this.sql`SELECT 1`);
  }

  /** Leases held now. */
  get held(): number {
    return this.leases.size;
  }

  /** Renews every held lease now (the timer does this every TTL/3). */
  renew(): Promise<void> {
    return this.leases.renewAll();
  }

  /** Stops renewing as a crashed instance would: its slots free after the TTL. Tests use it. */
  abandon(): void {
    this.leases.abandon();
  }

  async close(): Promise<void> {
    await this.leases.releaseAll();
  }

  private run<T>(what: string, query: Promise<T> & { cancel(): unknown }): Promise<T> {
    return withDeadline(what, this.deadlineMs, query, () => query.cancel());
  }
}
