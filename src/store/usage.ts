/**
 * Per-request usage metering: one row per finished request, written behind the
 * request.
 *
 * record() never touches the disk: it appends the row to a queue and adds its tokens
 * to the in-memory per-key counters that admission reads. The queue is written in one
 * transaction at most every FLUSH_MS, before any read of the table, and on close().
 * A write that fails (database locked by another process, read-only, disk full) keeps
 * the rows queued and retries on the next flush; it never turns a served answer into an
 * error. Writes do not wait on locks (busy_timeout 0 while flushing): a locked database
 * costs one failed attempt, not a frozen event loop.
 *
 * Crash window: rows recorded in the last FLUSH_MS (or, while the database cannot be
 * written, every row queued since the first failure, up to MAX_PENDING) are lost if
 * the process dies without close(). Quotas then under-count by those tokens.
 */
import type { Db } from './db';
import type { Usage } from '../openai/responses-types';

export interface UsageEntry {
  keyId: string | null;
  accountId: string | null;
  route: string;
  model: string | null;
  status: number;
  usage: Usage | null;
  latencyMs: number | null;
  ttfbMs: number | null;
  requestId: string | null;
  /** The code of the error the client got (e.g. rate_limit_exceeded); null on success. */
  errorCode?: string | null;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

export interface UsageWriteHealth {
  /** False while queued rows cannot be written. */
  writable: boolean;
  pending: number;
  /** Rows given up on because the queue was full (the database stayed unwritable). */
  dropped: number;
  lastError: string | null;
}

export interface UsageStoreOptions {
  flushMs?: number;
  maxPending?: number;
}

/** Told about each failed flush (the first of a streak, and then at most every 30 s) and about recovery. */
export interface UsageWriteListener {
  failed(error: Error, pending: number): void;
  recovered(written: number): void;
}

const FLUSH_MS = 500;
const MAX_PENDING = 100_000;
const DAY = 86_400_000;

interface PendingRow {
  at: number;
  e: UsageEntry;
}

/** A key's input + output tokens per UTC day, counted since the key's usage reset. */
interface KeyTokens {
  resetAt: number | null;
  loadedSince: number;
  days: Map<number, number>;
}

function startOfUtcWeekDay(day: number): number {
  const weekday = (new Date(day * DAY).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday;
}

export class UsageStore {
  private pending: PendingRow[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failing = false;
  private lastError: string | null = null;
  private lastFailureReport = 0;
  private dropped = 0;
  private readonly tokens = new Map<string, KeyTokens>();
  private readonly flushMs: number;
  private readonly maxPending: number;
  listener: UsageWriteListener | null = null;

  constructor(
    private readonly db: Db,
    opts: UsageStoreOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? FLUSH_MS;
    this.maxPending = opts.maxPending ?? MAX_PENDING;
  }

  /** Queues one row; its tokens count against the key's quotas at once. */
  record(e: UsageEntry, at = Date.now()): void {
    if (this.pending.length >= this.maxPending) {
      this.pending.shift();
      this.dropped++;
    }
    this.pending.push({ at, e });
    if (e.keyId && e.usage) {
      const counter = this.tokens.get(e.keyId);
      if (counter) {
        const day = Math.floor(at / DAY);
        counter.days.set(day, (counter.days.get(day) ?? 0) + e.usage.input_tokens + e.usage.output_tokens);
      }
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.flushMs);
  }

  /** Writes the queued rows in one transaction; returns false (rows kept) when the database refuses. */
  flush(opts: { wait?: boolean } = {}): boolean {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return true;
    const batch = this.pending;
    this.pending = [];
    try {
      const restore = opts.wait ? null : this.noWaiting();
      try {
        const insert = this.db.query(
          `INSERT INTO usage (at, key_id, account_id, route, model, status, input_tokens, cached_tokens, output_tokens, reasoning_tokens, latency_ms, ttfb_ms, request_id, error_code)
           VALUES ($at, $key, $account, $route, $model, $status, $in, $cached, $out, $reasoning, $latency, $ttfb, $rid, $error)`,
        );
        this.db.transaction(() => {
          for (const { at, e } of batch) {
            insert.run({
              at,
              key: e.keyId,
              account: e.accountId,
              route: e.route,
              model: e.model,
              status: e.status,
              in: e.usage?.input_tokens ?? 0,
              cached: e.usage?.input_tokens_details.cached_tokens ?? 0,
              out: e.usage?.output_tokens ?? 0,
              reasoning: e.usage?.output_tokens_details.reasoning_tokens ?? 0,
              latency: e.latencyMs,
              ttfb: e.ttfbMs,
              rid: e.requestId,
              error: e.errorCode ?? null,
            });
          }
        }).immediate();
      } finally {
        restore?.();
      }
    } catch (error) {
      this.pending = batch.concat(this.pending);
      if (this.pending.length > this.maxPending) {
        this.dropped += this.pending.length - this.maxPending;
        this.pending.splice(0, this.pending.length - this.maxPending);
      }
      this.lastError = (error as Error).message;
      const now = Date.now();
      if (!this.failing || now - this.lastFailureReport >= 30_000) {
        this.lastFailureReport = now;
        this.listener?.failed(error as Error, this.pending.length);
      }
      this.failing = true;
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.flushMs);
      this.timer.unref?.();
      return false;
    }
    if (this.failing) {
      this.failing = false;
      this.lastError = null;
      this.listener?.recovered(batch.length);
    }
    return true;
  }

  /** Whether a write could start now (not read-only, not locked by another process); never waits. */
  canWrite(): { ok: boolean; error: string | null } {
    try {
      const restore = this.noWaiting();
      try {
        this.db.exec('BEGIN IMMEDIATE');
        this.db.exec('ROLLBACK');
      } finally {
        restore();
      }
      return { ok: true, error: null };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  /** Turns lock waits off for this connection; returns the function that turns them back on. */
  private noWaiting(): () => void {
    const previous = (this.db.query('PRAGMA busy_timeout').get() as { timeout: number }).timeout;
    this.db.exec('PRAGMA busy_timeout = 0');
    return () => this.db.exec(`PRAGMA busy_timeout = ${previous}`);
  }

  health(): UsageWriteHealth {
    return { writable: !this.failing, pending: this.pending.length, dropped: this.dropped, lastError: this.lastError };
  }

  /** Final flush (waits for locks as long as busy_timeout allows). */
  close(): boolean {
    return this.flush({ wait: true });
  }

  /**
   * Input + output tokens of the key today and this week (UTC), counted from `resetAt`:
   * from memory, loaded from the table once per key (and again after a usage reset).
   */
  tokensOf(keyId: string, resetAt: number | null, now = Date.now()): { day: number; week: number } {
    const today = Math.floor(now / DAY);
    const weekStart = startOfUtcWeekDay(today);
    let counter = this.tokens.get(keyId);
    if (!counter || counter.resetAt !== resetAt || counter.loadedSince > weekStart * DAY) {
      counter = this.loadTokens(keyId, resetAt, weekStart * DAY);
      this.tokens.set(keyId, counter);
    }
    let day = 0;
    let week = 0;
    for (const [d, n] of counter.days) {
      if (d < weekStart) counter.days.delete(d);
      else {
        week += n;
        if (d === today) day += n;
      }
    }
    return { day, week };
  }

  private loadTokens(keyId: string, resetAt: number | null, weekStartMs: number): KeyTokens {
    this.flush();
    const rows = this.db
      .query(`SELECT at / ${DAY} AS day, coalesce(sum(input_tokens + output_tokens), 0) AS n FROM usage WHERE key_id = $key AND at >= $since GROUP BY day`)
      .all({ key: keyId, since: Math.max(weekStartMs, resetAt ?? 0) }) as { day: number; n: number }[];
    // Rows that could not be written yet still count.
    const days = new Map(rows.map((r) => [r.day, r.n]));
    for (const { at, e } of this.pending) {
      if (e.keyId !== keyId || !e.usage || at < Math.max(weekStartMs, resetAt ?? 0)) continue;
      const day = Math.floor(at / DAY);
      days.set(day, (days.get(day) ?? 0) + e.usage.input_tokens + e.usage.output_tokens);
    }
    return { resetAt, loadedSince: weekStartMs, days };
  }

  totalsForKey(keyId: string, since = 0): UsageTotals {
    this.flush();
    return this.db
      .query(
        `SELECT count(*) AS requests, coalesce(sum(input_tokens),0) AS input_tokens, coalesce(sum(cached_tokens),0) AS cached_tokens,
                coalesce(sum(output_tokens),0) AS output_tokens, coalesce(sum(reasoning_tokens),0) AS reasoning_tokens
         FROM usage WHERE key_id = $key AND at >= $since`,
      )
      .get({ key: keyId, since }) as UsageTotals;
  }

  /** Input + output tokens the key used since `since`, as written to the table. */
  tokensForKey(keyId: string, since: number): number {
    this.flush();
    return (this.db.query('SELECT coalesce(sum(input_tokens + output_tokens), 0) AS n FROM usage WHERE key_id = $key AND at >= $since').get({ key: keyId, since }) as { n: number }).n;
  }

  /** Usage per UTC day, per key or per account, tokens by kind. */
  byDay(group: 'key' | 'account', since: number, id?: string): UsageByDay[] {
    this.flush();
    const column = group === 'key' ? 'key_id' : 'account_id';
    return this.db
      .query(
        `SELECT strftime('%Y-%m-%d', at / 1000, 'unixepoch') AS day, ${column} AS id, count(*) AS requests,
                sum(input_tokens) AS input_tokens, sum(cached_tokens) AS cached_tokens, sum(output_tokens) AS output_tokens,
                sum(reasoning_tokens) AS reasoning_tokens
         FROM usage WHERE at >= $since AND ($id IS NULL OR ${column} = $id)
         GROUP BY day, ${column} ORDER BY day, ${column}`,
      )
      .all({ since, id: id ?? null }) as UsageByDay[];
  }
}

export interface UsageByDay extends UsageTotals {
  day: string;
  id: string | null;
}
