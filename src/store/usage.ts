/**
 * Per-request usage metering: one row per finished request, written behind the
 * request.
 *
 * record() never touches the database: it appends the row to a queue (usage-queue.ts)
 * and, in the single binary, adds its tokens to the in-memory per-key counters that
 * admission reads. The queue is written in one batch at most every FLUSH_MS, before any
 * read of the table, and on close(). A write that fails (database locked by another
 * process, read-only, disk full, PostgreSQL down) keeps the rows queued and retries on
 * the next flush; it never turns a served answer into an error. Each batch also adds
 * its tokens to the per-key, per-UTC-day counters (usage_daily) in the same
 * transaction, so quotas never sum the usage rows.
 *
 * SqliteUsageStore (here) is the single binary's; PgUsageStore (postgres/usage.ts)
 * serves many instances on one PostgreSQL database.
 *
 * Crash window: rows recorded in the last FLUSH_MS (or, while the database cannot be
 * written, every row queued since the first failure, up to MAX_PENDING) are lost if
 * the process dies without close(). Quotas then under-count by those tokens.
 */
import type { Db } from './db';
import type { Usage } from '../openai/responses-types';
import type { Awaitable } from './awaitable';
import { recentRequests, type RecentRequest, type RecentRequestsQuery } from './usage-queries';
import { DAY, UsageQueue, daysSinceReset, quotaTokens, resetSplitsWeek, startOfUtcWeekDay } from './usage-queue';

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

/** A key's quota tokens today and this week (UTC). */
export interface QuotaTokens {
  day: number;
  week: number;
}

/**
 * Usage metering, whatever the database: SQLite answers synchronously, PostgreSQL with
 * promises; callers `await` what returns Awaitable. record() and health() never wait.
 */
export interface UsageStore {
  listener: UsageWriteListener | null;
  /** Queues one row; its tokens count against the key's quotas at once. */
  record(e: UsageEntry, at?: number): void;
  /** Writes the queued rows; false (rows kept for a retry) when the database refuses. */
  flush(): Awaitable<boolean>;
  /** Whether a write could go through now (for /readyz); never waits long. */
  canWrite(): Awaitable<{ ok: boolean; error: string | null }>;
  health(): UsageWriteHealth;
  /** The final flush, at shutdown. */
  close(): Awaitable<boolean>;
  /** Input + output tokens of the key today and this week (UTC), counted from `resetAt`. */
  tokensOf(keyId: string, resetAt: number | null, now?: number): Awaitable<QuotaTokens>;
  totalsForKey(keyId: string, since?: number): Awaitable<UsageTotals>;
  /** Input + output tokens the key used since `since`, as written to the table. */
  tokensForKey(keyId: string, since: number): Awaitable<number>;
  /** Usage per UTC day, per key or per account, tokens by kind. */
  byDay(group: 'key' | 'account', since: number, id?: string): Awaitable<UsageByDay[]>;
  /** The dashboard's most recent requests, newest first (flushes first). */
  recentRequests(q: RecentRequestsQuery): Awaitable<RecentRequest[]>;
}

/** A key's input + output tokens per UTC day, counted since the key's usage reset. */
interface KeyTokens {
  resetAt: number | null;
  loadedSince: number;
  days: Map<number, number>;
}

/**
 * The single binary's store. Quota counters live in memory: loaded once per key from
 * the per-day counter rows (usage_daily, kept in the same transaction as each batch)
 * and bumped by record(), so admission never reads the database on its path.
 */
export class SqliteUsageStore implements UsageStore {
  private readonly queue: UsageQueue;
  private readonly tokens = new Map<string, KeyTokens>();

  constructor(
    private readonly db: Db,
    opts: UsageStoreOptions = {},
  ) {
    this.queue = new UsageQueue({ ...opts, onDue: () => this.flush() });
  }

  get listener(): UsageWriteListener | null {
    return this.queue.listener;
  }

  set listener(listener: UsageWriteListener | null) {
    this.queue.listener = listener;
  }

  record(e: UsageEntry, at = Date.now()): void {
    this.queue.push(e, at);
    if (e.keyId && e.usage) {
      const counter = this.tokens.get(e.keyId);
      if (counter && at >= (counter.resetAt ?? 0)) {
        const day = Math.floor(at / DAY);
        counter.days.set(day, (counter.days.get(day) ?? 0) + quotaTokens(e));
      }
    }
  }

  /** Writes the queued rows and their per-day counters in one transaction; returns false (rows kept) when the database refuses. */
  flush(opts: { wait?: boolean } = {}): boolean {
    const batch = this.queue.take();
    if (batch.length === 0) return true;
    try {
      const restore = opts.wait ? null : this.noWaiting();
      try {
        const insert = this.db.query(
          `INSERT INTO usage (at, key_id, account_id, route, model, status, input_tokens, cached_tokens, output_tokens, reasoning_tokens, latency_ms, ttfb_ms, request_id, error_code)
           VALUES ($at, $key, $account, $route, $model, $status, $in, $cached, $out, $reasoning, $latency, $ttfb, $rid, $error)`,
        );
        const bump = this.db.query(
          `INSERT INTO usage_daily (key_id, day, tokens) VALUES ($key, $day, $tokens)
           ON CONFLICT (key_id, day) DO UPDATE SET tokens = usage_daily.tokens + excluded.tokens`,
        );
        this.db.transaction(() => {
          const daily = new Map<string, { key: string; day: number; tokens: number }>();
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
            const tokens = quotaTokens(e);
            if (!e.keyId || tokens === 0) continue;
            const day = Math.floor(at / DAY);
            const slot = daily.get(`${e.keyId}\n${day}`) ?? { key: e.keyId, day, tokens: 0 };
            slot.tokens += tokens;
            daily.set(`${e.keyId}\n${day}`, slot);
          }
          for (const slot of daily.values()) bump.run(slot);
        }).immediate();
      } finally {
        restore?.();
      }
    } catch (error) {
      this.queue.failed(batch, error as Error);
      return false;
    }
    this.queue.succeeded(batch.length);
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
    return this.queue.health();
  }

  /** Final flush (waits for locks as long as busy_timeout allows). */
  close(): boolean {
    return this.flush({ wait: true });
  }

  /**
   * Input + output tokens of the key today and this week (UTC), counted from `resetAt`:
   * from memory, loaded once per key (and again after a usage reset).
   */
  tokensOf(keyId: string, resetAt: number | null, now = Date.now()): QuotaTokens {
    const today = Math.floor(now / DAY);
    const weekStart = startOfUtcWeekDay(today);
    let counter = this.tokens.get(keyId);
    if (!counter || counter.resetAt !== resetAt || counter.loadedSince > weekStart * DAY) {
      counter = this.loadTokens(keyId, resetAt, weekStart);
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

  /**
   * This week's counters of the key from usage_daily (at most 7 rows by primary key).
   * Only a reset that split a day of this week reads usage rows: that day's rows before
   * the reset (index usage_key_at), once per key and reset.
   */
  private loadTokens(keyId: string, resetAt: number | null, weekStartDay: number): KeyTokens {
    this.flush();
    const daily = this.db
      .query('SELECT day, tokens FROM usage_daily WHERE key_id = $key AND day >= $from')
      .all({ key: keyId, from: Math.max(weekStartDay, resetAt === null ? 0 : Math.floor(resetAt / DAY)) }) as { day: number; tokens: number }[];
    let before = 0;
    if (resetSplitsWeek(resetAt, weekStartDay)) {
      const dayStart = Math.floor(resetAt / DAY) * DAY;
      before = (
        this.db
          .query('SELECT coalesce(sum(input_tokens + output_tokens), 0) AS n FROM usage WHERE key_id = $key AND at >= $start AND at < $reset')
          .get({ key: keyId, start: dayStart, reset: resetAt }) as { n: number }
      ).n;
    }
    const days = daysSinceReset(daily, resetAt, weekStartDay, before);
    // Rows that could not be written yet still count.
    this.queue.tokensByDay(keyId, Math.max(weekStartDay * DAY, resetAt ?? 0), days);
    return { resetAt, loadedSince: weekStartDay * DAY, days };
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

  tokensForKey(keyId: string, since: number): number {
    this.flush();
    return (this.db.query('SELECT coalesce(sum(input_tokens + output_tokens), 0) AS n FROM usage WHERE key_id = $key AND at >= $since').get({ key: keyId, since }) as { n: number }).n;
  }

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

  recentRequests(q: RecentRequestsQuery): RecentRequest[] {
    // Rows are written behind the requests: the latest must be in the table before it is read.
    this.flush();
    return recentRequests(this.db, q);
  }
}

/**
 * Transitional: serve.ts still constructs the SQLite store by its old name. The wiring
 * that picks SQLite or PostgreSQL should name `SqliteUsageStore`; then this goes.
 */
export const UsageStore = SqliteUsageStore;

export interface UsageByDay extends UsageTotals {
  day: string;
  id: string | null;
}
