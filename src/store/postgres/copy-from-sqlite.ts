/**
 * Copies a single-binary install (its SQLite database and its file blobs) into an
 * empty PostgreSQL database, all or nothing: one PostgreSQL transaction, fed from
 * one SQLite read transaction. In WAL mode that read transaction is a consistent
 * snapshot, so a `serve` may keep writing beside the copy; its later rows are simply
 * not part of it.
 *
 * Rows move as they are (the PostgreSQL schema keeps SQLite's column names and value
 * shapes): sealed tokens stay sealed (their ciphertext is bound to row id + column,
 * not to the database), INTEGER ms land in double precision, BLOBs in bytea. Tables
 * are read in rowid order a chunk at a time, so a large usage table never sits in
 * memory whole.
 */
import type { Database } from 'bun:sqlite';
import type { TransactionSQL } from 'bun';
import { MIGRATIONS } from '../migrations';
import { TOKEN_COLUMNS } from '../account-rows';
import { isSealed } from '../secret-box';
import { DeadlineError, withDeadline, type Pg } from './database';

/** The tables copied row for row, in this order (keys before what refers to them). */
export const COPIED_TABLES = ['keys', 'models', 'accounts', 'usage', 'files'] as const;
export type CopiedTable = (typeof COPIED_TABLES)[number];

export interface CopyCounts {
  keys: number;
  models: number;
  accounts: number;
  usage: number;
  /** Rebuilt from the copied usage rows (one row per key and UTC day). */
  usage_daily: number;
  files: number;
  /** Distinct file contents stored in `blobs`. */
  blobs: number;
}

export interface CopyResult {
  counts: CopyCounts;
  /** SHA-256s that files rows name but whose bytes were not found (the source had lost them too). */
  missingBlobs: string[];
}

export interface CopyOptions {
  /** Rows per INSERT (and per SQLite read). */
  batchRows?: number;
  /** Bytes of blobs per INSERT (a single larger blob goes alone). */
  batchBlobBytes?: number;
  /** Deadline of each PostgreSQL statement. */
  statementMs?: number;
  /** Names the source in messages (its database file). */
  sourceName?: string;
  /** Its data dir, for the commands messages suggest. */
  dataDir?: string;
}

/** Tables that must be empty in the target: a copy never merges into an install. */
const MUST_BE_EMPTY = ['keys', 'accounts', 'usage', 'usage_daily', 'files'] as const;

/** Tables a target may already hold rows of (the built-in model catalog, seeded by serve). */
const UPSERTED: ReadonlySet<CopiedTable> = new Set(['models']);

/** Sequences advanced past the copied ids, so the next insert continues after them. */
const SEQUENCES: ReadonlyArray<{ table: CopiedTable; column: string }> = [
  { table: 'usage', column: 'id' },
  { table: 'files', column: 'seq' },
];

type SqliteValue = string | number | bigint | boolean | null | Uint8Array;
type Row = Record<string, SqliteValue | Buffer>;

/**
 * Every statement runs under a deadline. When one expires the whole copy is given up
 * at once (the caller closes the pool): waiting for a frozen server to answer the
 * ROLLBACK would hang the command, and PostgreSQL rolls back a dropped transaction
 * by itself.
 */
class Deadlines {
  private fail: (error: Error) => void = () => {};
  readonly expired: Promise<never>;

  constructor(private readonly ms: number) {
    this.expired = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.expired.catch(() => {});
  }

  async run<T>(what: string, query: PromiseLike<T> & { cancel(): unknown }): Promise<T> {
    try {
      return await withDeadline(what, this.ms, Promise.resolve(query), () => query.cancel());
    } catch (error) {
      if (error instanceof DeadlineError) this.fail(error);
      throw error;
    }
  }
}

function sqliteColumns(db: Database, table: string): string[] {
  return (db.query(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);
}

/** Refuses a source this build would read wrongly: another schema version, or tokens an older CodexIn left unsealed. */
function checkSource(db: Database, sourceName: string, dataDir: string): void {
  const version = (db.query('PRAGMA user_version').get() as { user_version: number }).user_version;
  const hasKeys = db.query("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'keys'").get() !== null;
  if (version === 0 && !hasKeys) throw new Error(`${sourceName} is not a CodexIn database (it has no CodexIn tables)`);
  if (version > MIGRATIONS.length) {
    throw new Error(`${sourceName} has schema version ${version}, newer than this CodexIn build knows (${MIGRATIONS.length}); copy it with the codexin that wrote it`);
  }
  if (version < MIGRATIONS.length) {
    // Migrating is a write, and this command only reads its source: the ordinary
    // commands migrate (and seal old plaintext tokens) under their own rules.
    throw new Error(
      `${sourceName} has schema version ${version}, older than this build's ${MIGRATIONS.length}: run any codexin command on it first (e.g. codexin accounts list --data-dir ${dataDir}), which brings it up to date, then copy again`,
    );
  }
  for (const row of db.query(`SELECT id, ${TOKEN_COLUMNS.join(', ')} FROM accounts`).all() as Record<string, string>[]) {
    if (TOKEN_COLUMNS.some((c) => !isSealed(row[c]!))) {
      throw new Error(
        `${sourceName} still holds account tokens in plaintext (written by an older CodexIn): run "codexin accounts list --data-dir ${dataDir}" once, which seals them, then copy again`,
      );
    }
  }
}

async function refuseUnlessEmpty(tx: TransactionSQL, deadlines: Deadlines): Promise<void> {
  // No instance may write while the copy checks and fills the tables.
  await deadlines.run('locking the tables', tx`LOCK TABLE keys, accounts, usage, usage_daily, files, models, blobs IN EXCLUSIVE MODE`);
  const held: string[] = [];
  for (const table of MUST_BE_EMPTY) {
    const rows = (await deadlines.run(`counting ${table}`, tx`SELECT count(*)::int AS n FROM ${tx(table)}`)) as unknown as { n: number }[];
    const n = rows[0]!.n;
    if (n > 0) held.push(`${table}: ${n} row${n === 1 ? '' : 's'}`);
  }
  if (held.length) {
    throw new Error(`the target database already holds data (${held.join(', ')}); copy into an empty database (drop and create it again)`);
  }
}

async function pgColumns(tx: TransactionSQL, deadlines: Deadlines, table: string): Promise<Set<string>> {
  const rows = (await deadlines.run(
    `reading the columns of ${table}`,
    tx`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table}`,
  )) as unknown as { column_name: string }[];
  return new Set(rows.map((r) => r.column_name));
}

/** The target's bytea wants a Buffer; every other SQLite value goes as it is. */
function toPg(value: SqliteValue): SqliteValue | Buffer {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}

async function copyTable(source: Database, tx: TransactionSQL, deadlines: Deadlines, table: CopiedTable, batchRows: number): Promise<number> {
  const columns = sqliteColumns(source, table);
  const target = await pgColumns(tx, deadlines, table);
  const missing = columns.filter((c) => !target.has(c));
  if (missing.length) throw new Error(`the PostgreSQL table ${table} has no column ${missing.join(', ')}: this build cannot copy it`);
  // A target that has served already holds the seeded catalog: the source's version of a model wins.
  const onConflict = UPSERTED.has(table)
    ? tx.unsafe(`ON CONFLICT (id) DO UPDATE SET ${columns.filter((c) => c !== 'id').map((c) => `"${c}" = excluded."${c}"`).join(', ')}`)
    : tx.unsafe('');
  const read = source.query(`SELECT rowid AS copy_rowid_, ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}" WHERE rowid > ? ORDER BY rowid LIMIT ?`);
  let after = Number.MIN_SAFE_INTEGER;
  let copied = 0;
  for (;;) {
    const chunk = read.all(after, batchRows) as Record<string, SqliteValue>[];
    if (chunk.length === 0) break;
    after = Number(chunk[chunk.length - 1]!.copy_rowid_);
    const rows: Row[] = chunk.map((r) => Object.fromEntries(columns.map((c) => [c, toPg(r[c] ?? null)])));
    await deadlines.run(`inserting ${table} rows`, tx`INSERT INTO ${tx(table)} ${tx(rows, ...columns)} ${onConflict}`);
    copied += rows.length;
    if (chunk.length < batchRows) break;
  }
  return copied;
}

async function copyBlobs(
  source: Database,
  tx: TransactionSQL,
  deadlines: Deadlines,
  readBlob: (sha256: string) => Uint8Array | null,
  batchBlobBytes: number,
  batchRows: number,
): Promise<{ stored: number; missing: string[] }> {
  const read = source.query('SELECT DISTINCT sha256 FROM files WHERE sha256 > ? ORDER BY sha256 LIMIT ?');
  const missing: string[] = [];
  let stored = 0;
  let pending: { sha256: string; bytes: Buffer }[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    // Content-addressed: the same hash is the same bytes, whoever stored it first.
    await deadlines.run('inserting blobs', tx`INSERT INTO blobs ${tx(pending, 'sha256', 'bytes')} ON CONFLICT (sha256) DO NOTHING`);
    stored += pending.length;
    pending = [];
    pendingBytes = 0;
  };
  let after = '';
  for (;;) {
    const hashes = (read.all(after, batchRows) as { sha256: string }[]).map((r) => r.sha256);
    if (hashes.length === 0) break;
    after = hashes[hashes.length - 1]!;
    for (const sha256 of hashes) {
      const bytes = readBlob(sha256);
      if (!bytes) {
        missing.push(sha256);
        continue;
      }
      if (pendingBytes > 0 && pendingBytes + bytes.byteLength > batchBlobBytes) await flush();
      pending.push({ sha256, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
      pendingBytes += bytes.byteLength;
    }
    if (hashes.length < batchRows) break;
  }
  await flush();
  return { stored, missing };
}

/**
 * Copies everything into `target` (already migrated by openPostgres). Throws, with
 * nothing written, when the source is not this build's schema or the target is not
 * empty; a DeadlineError means the caller must close the pool without waiting.
 */
export async function copySqliteToPostgres(
  source: Database,
  readBlob: (sha256: string) => Uint8Array | null,
  target: Pg,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  const batchRows = opts.batchRows ?? 1_000;
  const batchBlobBytes = opts.batchBlobBytes ?? 16 * 1024 * 1024;
  const deadlines = new Deadlines(opts.statementMs ?? 60_000);
  const sourceName = opts.sourceName ?? 'the SQLite database';
  // The snapshot starts at the first read after BEGIN and holds until COMMIT.
  source.exec('BEGIN');
  try {
    checkSource(source, sourceName, opts.dataDir ?? 'DIR');
    const work = target.begin(async (tx) => {
      await refuseUnlessEmpty(tx, deadlines);
      const counts: CopyCounts = { keys: 0, models: 0, accounts: 0, usage: 0, usage_daily: 0, files: 0, blobs: 0 };
      for (const table of COPIED_TABLES) counts[table] = await copyTable(source, tx, deadlines, table, batchRows);
      const blobs = await copyBlobs(source, tx, deadlines, readBlob, batchBlobBytes, batchRows);
      counts.blobs = blobs.stored;
      // A key's quota tokens per UTC day are its input + output tokens (as the SQLite store counts them).
      const daily = (await deadlines.run(
        'rebuilding usage_daily',
        tx`WITH inserted AS (
             INSERT INTO usage_daily (key_id, day, tokens)
             SELECT key_id, floor(at / 86400000)::int, sum(input_tokens + output_tokens)
             FROM usage WHERE key_id IS NOT NULL
             GROUP BY 1, 2
             RETURNING 1
           )
           SELECT count(*)::int AS n FROM inserted`,
      )) as unknown as { n: number }[];
      counts.usage_daily = daily[0]!.n;
      for (const { table, column } of SEQUENCES) {
        await deadlines.run(
          `advancing ${table}.${column}`,
          tx`SELECT setval(pg_get_serial_sequence(${table}, ${column}), coalesce((SELECT max(${tx(column)}) FROM ${tx(table)}), 0)::bigint + 1, false)`,
        );
      }
      return { counts, missingBlobs: blobs.missing };
    });
    work.catch(() => {});
    return await Promise.race([work, deadlines.expired]);
  } finally {
    source.exec('ROLLBACK');
  }
}
