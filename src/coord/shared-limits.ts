/**
 * Per-key limits that hold across CodexIn instances sharing one database: requests per
 * sliding minute and calls in flight. The server (PostgreSQL or Redis) owns the clock and
 * serialises each key, so N instances together admit exactly what one would.
 *
 * Token quotas are not here: they are counted from usage rows, and the process-wide
 * upstream capacity is a property of one process.
 */

export const WINDOW_MS = 60_000;
/** A lease not renewed for this long is free again: a crashed holder's slot comes back. */
export const LEASE_TTL_MS = 30_000;

export interface RequestWindow {
  admitted: boolean;
  /** Hits of the key in the window after this attempt (an attempt refused adds none). */
  used: number;
  /** Until the oldest hit in the window leaves it (the window's length when it is empty). */
  resetMs: number;
  /**
   * Takes back the hits this attempt added, for a request refused later for another
   * reason (quota, concurrency), which does not count against rpm. Best effort, idempotent.
   */
  refund(): void;
}

export interface Lease {
  /** Frees the slot. Idempotent; the slot frees after the TTL anyway if this cannot reach the server. */
  release(): void;
}

export interface SharedLimits {
  readonly kind: 'postgres' | 'redis';
  /** Admits `calls` hits at once if the key's window has room for all of them. */
  takeRequests(keyId: string, limit: number, calls: number): Promise<RequestWindow>;
  /** One of the key's `limit` concurrency slots, or null when all are held. Renewed while held. */
  takeLease(keyId: string, limit: number): Promise<Lease | null>;
  /** A cheap round trip with no effect, to learn whether the server answers again. */
  ping(): Promise<void>;
  /** Stops renewing; held leases are released where the server can be reached. */
  close(): Promise<void>;
}

export interface SharedLimitsOptions {
  /** Sliding window length; tests shorten it. */
  windowMs?: number;
  leaseTtlMs?: number;
  /** Deadline of each round trip. */
  deadlineMs?: number;
}

export const noRefund = (): void => {};
