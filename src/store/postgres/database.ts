/**
 * The PostgreSQL connection pool (Bun's built-in client) and its schema. Every
 * statement CodexIn sends runs under a deadline: a frozen or unreachable server fails
 * the operation after `deadlineMs` instead of hanging the request that asked.
 *
 * Migrations run under a session advisory lock, so instances that start at the same
 * moment apply each step once, one after the other.
 */
import { SQL } from 'bun';
import { PG_MIGRATIONS } from './migrations';

export type Pg = SQL;

/** The one channel every CodexIn instance listens on; payloads say what changed ("keys:<id>", "accounts:<id>", "models"). */
export const CHANGES_CHANNEL = 'codexin_changes';

/** Arbitrary, fixed: the advisory-lock id that serialises schema migrations across instances. */
const MIGRATION_LOCK = 727_001;

export const DEFAULT_DEADLINE_MS = 2_000;

export class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`PostgreSQL did not answer ${what} within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * Resolves as `work` does, or rejects with DeadlineError after `ms`. A query still
 * running is cancelled when the caller passes it as `cancel`.
 */
export async function withDeadline<T>(what: string, ms: number, work: Promise<T>, cancel?: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cancel?.();
      reject(new DeadlineError(what, ms));
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PgOptions {
  /** Pool size; the default leaves room for a refresh holding a connection during its round trip. */
  max?: number;
  deadlineMs?: number;
}

/** Redacts the password of a postgres:// URL for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

/** Connects, brings the schema up to date and returns the pool. */
export async function openPostgres(url: string, opts: PgOptions = {}): Promise<Pg> {
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const sql = new SQL(url, {
    max: opts.max ?? 10,
    idleTimeout: 60,
    connectionTimeout: Math.max(1, Math.ceil(deadlineMs / 1000)),
  });
  deadlines.set(sql, deadlineMs);
  try {
    await withDeadline('the first connection', deadlineMs * 5, sql`SELECT 1`);
    await migratePostgres(sql);
  } catch (error) {
    await sql.close({ timeout: 0 }).catch(() => {});
    throw new Error(`cannot open the database ${redactDatabaseUrl(url)}: ${(error as Error).message}`);
  }
  return sql;
}

export async function schemaVersion(sql: Pg): Promise<number> {
  const rows = await sql`SELECT coalesce(max(version), 0)::int AS v FROM codexin_schema`;
  return (rows[0] as { v: number }).v;
}

/** Applies every step newer than the recorded version, each in its own transaction, under the migration lock. */
export async function migratePostgres(sql: Pg): Promise<void> {
  const conn = await sql.reserve();
  try {
    await conn`SELECT pg_advisory_lock(${MIGRATION_LOCK})`;
    try {
      await conn`CREATE TABLE IF NOT EXISTS codexin_schema (version integer PRIMARY KEY, applied_at bigint NOT NULL)`;
      const current = (await conn`SELECT coalesce(max(version), 0)::int AS v FROM codexin_schema`)[0] as { v: number };
      if (current.v > PG_MIGRATIONS.length) {
        throw new Error(`database schema version ${current.v} is newer than this CodexIn build knows (${PG_MIGRATIONS.length}); upgrade codexin`);
      }
      for (let version = current.v; version < PG_MIGRATIONS.length; version++) {
        await conn.begin(async (tx) => {
          await tx.unsafe(PG_MIGRATIONS[version]!);
          await tx`INSERT INTO codexin_schema (version, applied_at) VALUES (${version + 1}, ${Date.now()})`;
        });
      }
    } finally {
      await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } finally {
    conn.release();
  }
}

/**
 * The database could not be reached or did not answer in time. Admin writes answer
 * 503 with it; the request path keeps serving from memory.
 */
export class DatabaseUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Whether an error means "no answer from the server" rather than "the server said no". */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof DeadlineError || error instanceof DatabaseUnavailableError) return true;
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  return /CONNECTION|CLOSED|TIMEOUT|ECONN|ENOTFOUND|EPIPE|ETIMEDOUT|EHOSTUNREACH/.test(code);
}

const deadlines = new WeakMap<Pg, number>();

/** The deadline `sql` was opened with. */
export function deadlineOf(sql: Pg): number {
  return deadlines.get(sql) ?? DEFAULT_DEADLINE_MS;
}

/**
 * Runs one operation on `sql` under its deadline (or `ms`); an unreachable or frozen
 * server becomes DatabaseUnavailableError.
 */
export async function pgCall<T>(sql: Pg, what: string, work: () => Promise<T>, ms = deadlineOf(sql)): Promise<T> {
  try {
    return await withDeadline(what, ms, work());
  } catch (error) {
    if (isUnavailable(error)) throw new DatabaseUnavailableError(error instanceof DeadlineError ? error.message : `PostgreSQL is unreachable (${what}): ${(error as Error).message}`);
    throw error;
  }
}
