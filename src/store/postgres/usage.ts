/**
 * Usage metering for many CodexIn instances on one PostgreSQL database.
 *
 * Each instance queues its rows (usage-queue.ts) and writes them in batches at most
 * every FLUSH_MS. A batch is one statement that inserts the rows and adds their tokens
 * to the per-key, per-UTC-day counters (usage_daily), so the counters never disagree
 * with the rows. Every row carries the random `row_uid` it got when it was queued:
 * a batch retried after an ambiguous failure (a deadline that expired while the commit
 * went through, a connection lost before the answer) inserts nothing twice and so
 * counts nothing twice.
 *
 * Quotas: tokensOf reads the key's counters of this week (at most 7 rows by primary
 * key, one round trip) plus this instance's rows not written yet. Another instance's
 * usage shows once that instance has flushed: up to FLUSH_MS (500 ms) later, longer
 * while it cannot write. A quota can be overrun by what the other instances served in
 * that window.
 *
 * Every statement runs under a deadline: a frozen or unreachable server fails a flush
 * (rows stay queued, health says not writable) instead of hanging it. close() flushes
 * but leaves the pool, which the caller owns, open.
 */
import type { RecentRequest, RecentRequestsQuery } from '../usage-queries';
import type { QuotaTokens, UsageByDay, UsageEntry, UsageStore, UsageStoreOptions, UsageTotals, UsageWriteHealth, UsageWriteListener } from '../usage';
import { DAY, UsageQueue, daysSinceReset, resetSplitsWeek, startOfUtcWeekDay, type QueuedUsageRow } from '../usage-queue';
import { DEFAULT_DEADLINE_MS, withDeadline, type Pg } from './database';

export interface PgUsageStoreOptions extends UsageStoreOptions {
  /** How long any one statement may take. */
  deadlineMs?: number;
  /** How long /readyz waits for the server to answer. */
  readyDeadlineMs?: number;
}

/** Rows per INSERT: 15 parameters a row stays far below PostgreSQL's 65 535 per statement. */
const ROWS_PER_STATEMENT = 1_000;
/**
 * After this long, a day's tokens before a usage reset are taken as final: rows from
 * before the reset have been flushed by then (unless their instance could not write
 * for longer, whose late rows the reset day would then count).
 */
const RESET_SETTLE_MS = 60_000;

type Query<T> = Promise<T> & { cancel(): unknown };

export class PgUsageStore implements UsageStore {
  private readonly queue: UsageQueue;
  private readonly deadlineMs: number;
  private readonly readyDeadlineMs: number;
  /** The flush running now: one at a time, so batches go in in order and never race each other. */
  private flushing: Promise<boolean> | null = null;
  /** Per key: its reset day's tokens before the reset, once settled. */
  private readonly beforeReset = new Map<string, { resetAt: number; tokens: number }>();
  /** Per key: the counters it last read, answered while the database cannot be read. */
  private readonly lastRead = new Map<string, { resetAt: number | null; weekStart: number; days: Map<number, number> }>();

  constructor(
    private readonly sql: Pg,
    opts: PgUsageStoreOptions = {},
  ) {
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.readyDeadlineMs = opts.readyDeadlineMs ?? Math.min(1_000, this.deadlineMs);
    this.queue = new UsageQueue({ ...opts, onDue: () => void this.flush() });
  }

  get listener(): UsageWriteListener | null {
    return this.queue.listener;
  }

  set listener(listener: UsageWriteListener | null) {
    this.queue.listener = listener;
  }

  record(e: UsageEntry, at = Date.now()): void {
    this.queue.push(e, at);
  }

  /** Writes every queued row (waiting for a flush already running first); false when the database refused some (they stay queued). */
  async flush(): Promise<boolean> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return true;
    this.flushing = this.writeQueued();
    try {
      return await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  private async writeQueued(): Promise<boolean> {
    const batch = this.queue.take();
    let written = 0;
    try {
      while (written < batch.length) {
        const chunk = batch.slice(written, written + ROWS_PER_STATEMENT);
        await this.writeBatch(chunk);
        written += chunk.length;
      }
    } catch (error) {
      this.queue.failed(batch.slice(written), error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    this.queue.succeeded(batch.length);
    return true;
  }

  /**
   * Inserts the rows and adds their tokens to usage_daily in one statement. Rows whose
   * row_uid is already in the table are skipped and add nothing, so calling this again
   * with the same rows is harmless. Counters are upserted in key and day order, so two
   * instances writing batches for the same keys do not deadlock.
   */
  async writeBatch(rows: readonly QueuedUsageRow[]): Promise<void> {
    if (rows.length === 0) return;
    const values = rows.map(({ uid, at, e }) => ({
      row_uid: uid,
      at,
      key_id: e.keyId,
      account_id: e.accountId,
      route: e.route,
      model: e.model,
      status: e.status,
      input_tokens: e.usage?.input_tokens ?? 0,
      cached_tokens: e.usage?.input_tokens_details.cached_tokens ?? 0,
      output_tokens: e.usage?.output_tokens ?? 0,
      reasoning_tokens: e.usage?.output_tokens_details.reasoning_tokens ?? 0,
      latency_ms: e.latencyMs === null ? null : Math.round(e.latencyMs),
      ttfb_ms: e.ttfbMs === null ? null : Math.round(e.ttfbMs),
      request_id: e.requestId,
      error_code: e.errorCode ?? null,
    }));
    await this.run(
      'a usage batch',
      this.deadlineMs,
      this.sql`
        WITH ins AS (
          INSERT INTO usage ${this.sql(values)}
          ON CONFLICT (row_uid) DO NOTHING
          RETURNING key_id, at, input_tokens + output_tokens AS tokens
        )
        INSERT INTO usage_daily (key_id, day, tokens)
        SELECT key_id, floor(at / ${DAY})::int AS day, sum(tokens) FROM ins
        WHERE key_id IS NOT NULL
        GROUP BY 1, 2 HAVING sum(tokens) > 0
        ORDER BY 1, 2
        ON CONFLICT (key_id, day) DO UPDATE SET tokens = usage_daily.tokens + excluded.tokens`,
    );
  }

  /** A cheap round trip under a short deadline: whether a batch could go in now. */
  async canWrite(): Promise<{ ok: boolean; error: string | null }> {
    try {
      await this.run('a readiness check', this.readyDeadlineMs, this.sql`SELECT 1`);
      return { ok: true, error: null };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  health(): UsageWriteHealth {
    return this.queue.health();
  }

  /** The final flush (SIGTERM): false when rows could not be written; the pool stays open. */
  close(): Promise<boolean> {
    return this.flush();
  }

  /**
   * The key's quota tokens today and this week (UTC) from `resetAt`, as every instance
   * has written them, plus this instance's rows still queued. One indexed read of at
   * most 7 counter rows; a reset that split a day of this week also sums that day's
   * rows before the reset (index usage_key_at) until that figure settles, then it is
   * remembered.
   *
   * While the database cannot be read this fails open: it answers the key's counters as
   * last read (none, for a key not read before) plus this instance's queued rows, so
   * requests are still served; usage from other instances in the meantime is not seen.
   */
  async tokensOf(keyId: string, resetAt: number | null, now = Date.now()): Promise<QuotaTokens> {
    // Rows being written now are neither queued nor surely in the table: let that write settle.
    if (this.flushing) await this.flushing;
    const today = Math.floor(now / DAY);
    const weekStart = startOfUtcWeekDay(today);
    const from = Math.max(weekStart, resetAt === null ? 0 : Math.floor(resetAt / DAY));
    const split = resetSplitsWeek(resetAt, weekStart);
    const cached = this.beforeReset.get(keyId);
    const known = split && cached?.resetAt === resetAt ? cached.tokens : null;
    const needBefore = split && known === null;
    const resetDayStart = split ? Math.floor(resetAt / DAY) * DAY : 0;
    let days: Map<number, number>;
    try {
      const rows = (await this.run(
        'a quota read',
        this.deadlineMs,
        this.sql`
          SELECT false AS before, day, tokens FROM usage_daily WHERE key_id = ${keyId} AND day >= ${from}
          UNION ALL
          SELECT true, NULL, coalesce(sum(input_tokens + output_tokens), 0) FROM usage
          WHERE ${needBefore}::boolean AND key_id = ${keyId} AND at >= ${resetDayStart} AND at < ${resetAt ?? 0}`,
      )) as { before: boolean; day: number | null; tokens: number }[];
      let before = known ?? 0;
      const daily: { day: number; tokens: number }[] = [];
      for (const row of rows) {
        if (row.before) before = needBefore ? row.tokens : before;
        else if (row.day !== null) daily.push({ day: row.day, tokens: row.tokens });
      }
      if (needBefore && now - resetAt! >= RESET_SETTLE_MS) this.beforeReset.set(keyId, { resetAt: resetAt!, tokens: before });
      days = daysSinceReset(daily, resetAt, weekStart, before);
      this.lastRead.set(keyId, { resetAt, weekStart, days: new Map(days) });
    } catch {
      const last = this.lastRead.get(keyId);
      days = last && last.resetAt === resetAt && last.weekStart === weekStart ? new Map(last.days) : new Map();
    }
    this.queue.tokensByDay(keyId, Math.max(weekStart * DAY, resetAt ?? 0), days);
    let day = 0;
    let week = 0;
    for (const [d, n] of days) {
      if (d < weekStart) continue;
      week += n;
      if (d === today) day += n;
    }
    return { day, week };
  }

  async totalsForKey(keyId: string, since = 0): Promise<UsageTotals> {
    await this.flush();
    const rows = (await this.run(
      'a usage read',
      this.deadlineMs,
      this.sql`
        SELECT count(*)::int AS requests, coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(cached_tokens), 0) AS cached_tokens,
               coalesce(sum(output_tokens), 0) AS output_tokens, coalesce(sum(reasoning_tokens), 0) AS reasoning_tokens
        FROM usage WHERE key_id = ${keyId} AND at >= ${since}`,
    )) as UsageTotals[];
    return { ...rows[0]! };
  }

  async tokensForKey(keyId: string, since: number): Promise<number> {
    await this.flush();
    const rows = (await this.run(
      'a usage read',
      this.deadlineMs,
      this.sql`SELECT coalesce(sum(input_tokens + output_tokens), 0) AS n FROM usage WHERE key_id = ${keyId} AND at >= ${since}`,
    )) as { n: number }[];
    return rows[0]!.n;
  }

  async byDay(group: 'key' | 'account', since: number, id?: string): Promise<UsageByDay[]> {
    await this.flush();
    // The column is one of two constants, never client input.
    const column = group === 'key' ? 'key_id' : 'account_id';
    const query = this.sql.unsafe(
      `SELECT to_char(to_timestamp(floor(at / 1000)) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, ${column} AS id, count(*)::int AS requests,
              sum(input_tokens) AS input_tokens, sum(cached_tokens) AS cached_tokens, sum(output_tokens) AS output_tokens,
              sum(reasoning_tokens) AS reasoning_tokens
       FROM usage WHERE at >= $1 AND ($2::text IS NULL OR ${column} = $2::text)
       GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST`,
      [since, id ?? null],
    );
    const rows = (await this.run('a usage read', this.deadlineMs, query)) as UsageByDay[];
    return rows.map((r) => ({ ...r }));
  }

  /** The dashboard's most recent requests of every instance, newest first, paged by row id (as usage-queries.ts). */
  async recentRequests(q: RecentRequestsQuery): Promise<RecentRequest[]> {
    await this.flush();
    const sql = this.sql;
    const outcome = q.outcome ?? 'all';
    const rows = (await this.run(
      'a usage read',
      this.deadlineMs,
      sql`
        SELECT id::float8 AS id, at, request_id, key_id, account_id, route, model, status, error_code, latency_ms, ttfb_ms,
               input_tokens, cached_tokens, output_tokens, reasoning_tokens
        FROM usage
        WHERE true
          ${q.before === undefined ? sql`` : sql`AND id < ${q.before}::bigint`}
          ${q.keyId === undefined ? sql`` : sql`AND key_id = ${q.keyId}`}
          ${outcome === 'ok' ? sql`AND status < 400` : outcome === 'error' ? sql`AND status >= 400` : sql``}
        ORDER BY id DESC LIMIT ${q.limit}`,
    )) as RecentRequest[];
    return rows.map((r) => ({ ...r }));
  }

  /** Runs one statement under the deadline, cancelling it on the server when the deadline passes. */
  private run<T>(what: string, ms: number, query: Query<T>): Promise<T> {
    return withDeadline(what, ms, query, () => query.cancel());
  }
}
