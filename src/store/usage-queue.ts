/**
 * The write-behind queue both usage stores share: rows wait here until a flush hands
 * them to the backend's batch writer. It owns what must behave the same whatever the
 * database is: the cap on waiting rows (the oldest are dropped and counted), the flush
 * timer, putting a failed batch back in front and retrying it, the rate-limited
 * failure report and the recovery report, and the health that /readyz shows.
 *
 * Each row gets a random `uid` when it is queued. PostgreSQL stores it (UNIQUE), so a
 * batch retried after an ambiguous failure (the commit may have happened before the
 * connection broke) inserts every row at most once; SQLite commits locally and needs it not.
 */
import type { UsageEntry, UsageWriteHealth, UsageWriteListener } from './usage';

export const FLUSH_MS = 500;
export const MAX_PENDING = 100_000;
export const DAY = 86_400_000;
/** A failure streak is reported once, then at most this often. */
const FAILURE_REPORT_MS = 30_000;

export interface QueuedUsageRow {
  uid: string;
  at: number;
  e: UsageEntry;
}

export interface UsageQueueOptions {
  flushMs?: number;
  maxPending?: number;
  /** Called when the timer fires: the store flushes. */
  onDue: () => void;
}

/** The input + output tokens a row counts against its key's quotas. */
export function quotaTokens(e: UsageEntry): number {
  return e.usage ? e.usage.input_tokens + e.usage.output_tokens : 0;
}

export class UsageQueue {
  private rows: QueuedUsageRow[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failing = false;
  private lastError: string | null = null;
  private lastFailureReport = 0;
  private dropped = 0;
  private readonly flushMs: number;
  private readonly maxPending: number;
  private readonly onDue: () => void;
  listener: UsageWriteListener | null = null;

  constructor(opts: UsageQueueOptions) {
    this.flushMs = opts.flushMs ?? FLUSH_MS;
    this.maxPending = opts.maxPending ?? MAX_PENDING;
    this.onDue = opts.onDue;
  }

  get length(): number {
    return this.rows.length;
  }

  /** Queues one row and makes sure a flush is due within flushMs. */
  push(e: UsageEntry, at: number): QueuedUsageRow {
    if (this.rows.length >= this.maxPending) {
      this.rows.shift();
      this.dropped++;
    }
    const row = { uid: crypto.randomUUID(), at, e };
    this.rows.push(row);
    this.schedule(false);
    return row;
  }

  /** Takes every queued row for writing (and cancels the timer: the caller is flushing now). */
  take(): QueuedUsageRow[] {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.rows;
    this.rows = [];
    return batch;
  }

  /** Puts rows the database refused back in front (oldest first), reports, and retries later. */
  failed(unwritten: QueuedUsageRow[], error: Error): void {
    this.rows = unwritten.concat(this.rows);
    if (this.rows.length > this.maxPending) {
      this.dropped += this.rows.length - this.maxPending;
      this.rows.splice(0, this.rows.length - this.maxPending);
    }
    this.lastError = error.message;
    const now = Date.now();
    if (!this.failing || now - this.lastFailureReport >= FAILURE_REPORT_MS) {
      this.lastFailureReport = now;
      this.listener?.failed(error, this.rows.length);
    }
    this.failing = true;
    // A retry alone must not keep a process alive that is otherwise done.
    this.schedule(true);
  }

  /** A batch went in: ends a failure streak. */
  succeeded(written: number): void {
    if (!this.failing) return;
    this.failing = false;
    this.lastError = null;
    this.listener?.recovered(written);
  }

  health(): UsageWriteHealth {
    return { writable: !this.failing, pending: this.rows.length, dropped: this.dropped, lastError: this.lastError };
  }

  /** Adds the tokens of the key's queued rows at or after `since` to `into`, per UTC day. */
  tokensByDay(keyId: string, since: number, into: Map<number, number> = new Map()): Map<number, number> {
    for (const { at, e } of this.rows) {
      if (e.keyId !== keyId || !e.usage || at < since) continue;
      const day = Math.floor(at / DAY);
      into.set(day, (into.get(day) ?? 0) + quotaTokens(e));
    }
    return into;
  }

  private schedule(unref: boolean): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onDue();
    }, this.flushMs);
    if (unref) this.timer.unref?.();
  }
}

/** Monday (UTC) of the week of `day` (days since the epoch). */
export function startOfUtcWeekDay(day: number): number {
  const weekday = (new Date(day * DAY).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday;
}

/**
 * The key's quota tokens per day of this week, counted from `resetAt`, from its
 * per-day counters: days before the reset day drop out, and the reset day keeps only
 * what came after the reset (its counter minus the tokens of that day before the reset).
 */
export function daysSinceReset(
  daily: ReadonlyArray<{ day: number; tokens: number }>,
  resetAt: number | null,
  weekStartDay: number,
  tokensBeforeResetThatDay: number,
): Map<number, number> {
  const resetDay = resetAt === null ? null : Math.floor(resetAt / DAY);
  const days = new Map<number, number>();
  for (const { day, tokens } of daily) {
    if (day < weekStartDay || (resetDay !== null && day < resetDay)) continue;
    days.set(day, day === resetDay ? Math.max(0, tokens - tokensBeforeResetThatDay) : tokens);
  }
  return days;
}

/** Whether the reset splits a day of this week, so that day's tokens before the reset must be known. */
export function resetSplitsWeek(resetAt: number | null, weekStartDay: number): resetAt is number {
  return resetAt !== null && Math.floor(resetAt / DAY) >= weekStartDay && resetAt % DAY !== 0;
}
