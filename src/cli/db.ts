/**
 * `codexin db copy --from sqlite:PATH --to postgres://…`: moves a single-binary install
 * into PostgreSQL. The source is only read (never migrated, never locked); a running
 * `serve` is no obstacle because the copy reads one WAL snapshot. The copying itself is
 * src/store/postgres/copy-from-sqlite.ts.
 */
import { Database } from 'bun:sqlite';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../config';
import { DeadlineError, openPostgres, redactDatabaseUrl } from '../store/postgres/database';
import { copySqliteToPostgres, type CopyResult } from '../store/postgres/copy-from-sqlite';
import { parseCommandArgs, printResult } from './args';
import { DB_FILE } from './data-dir';
import { serveLockHolder } from './serve-lock';

const USAGE = 'usage: codexin db copy --from sqlite:PATH --to postgres://USER@HOST:PORT/DB [--json]';
const SHA256 = /^[0-9a-f]{64}$/;

interface Source {
  db: Database;
  /** The codexin.db file. */
  file: string;
  /** The data dir around it: serve.lock and files/ live here. */
  dataDir: string;
}

function sourcePath(from: string | boolean | undefined): string {
  if (typeof from !== 'string' || from === '') throw new ConfigError(`db copy: --from is required; ${USAGE}`);
  if (!from.startsWith('sqlite:')) throw new ConfigError(`--from: "${from}" is not sqlite:PATH (PATH is a data dir or its ${DB_FILE})`);
  let path = from.slice('sqlite:'.length);
  if (path.startsWith('//')) path = path.slice(2); // sqlite:///abs/path
  if (path === '') throw new ConfigError(`--from: give a path after "sqlite:" (a data dir or its ${DB_FILE})`);
  return resolve(path);
}

/** Validates the target URL; messages show it only redacted (it may carry a password). */
function targetUrl(to: string | boolean | undefined): string {
  if (typeof to !== 'string' || to === '') throw new ConfigError(`db copy: --to is required; ${USAGE}`);
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    throw new ConfigError('--to: not a URL (expected postgres://USER@HOST:PORT/DB)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`--to: ${redactDatabaseUrl(to)} is not a postgres:// URL`);
  }
  if (!url.hostname) throw new ConfigError(`--to: ${redactDatabaseUrl(to)} names no host (expected postgres://USER@HOST:PORT/DB)`);
  if (url.pathname.replace(/^\/+/, '') === '') throw new ConfigError(`--to: ${redactDatabaseUrl(to)} names no database (expected postgres://USER@HOST:PORT/DB)`);
  return to;
}

function openSource(path: string): Source {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? `--from: ${path} does not exist` : `--from: cannot read ${path} (${code ?? (error as Error).message})`);
  }
  const file = isDir ? join(path, DB_FILE) : path;
  if (isDir && !existsSync(file)) throw new ConfigError(`--from: ${path} holds no ${DB_FILE} (give a CodexIn data dir or its ${DB_FILE})`);
  let db: Database;
  try {
    db = new Database(file, { readonly: true, strict: true });
  } catch (error) {
    throw new ConfigError(`--from: cannot open ${file} read-only (${(error as Error).message})`);
  }
  try {
    // A serve may be committing: wait for its write lock rather than fail.
    db.exec('PRAGMA busy_timeout = 5000');
    db.query('SELECT count(*) AS n FROM sqlite_master').get();
  } catch (error) {
    db.close();
    throw new ConfigError(`--from: ${file} is not a readable SQLite database (${(error as Error).message})`);
  }
  return { db, file, dataDir: isDir ? path : dirname(path) };
}

/**
 * A running serve is allowed only when the read transaction is a true snapshot (WAL):
 * returns the notice to print then, or null when no serve holds the data dir.
 */
function snapshotNotice(source: Source): string | null {
  const { held, owner } = serveLockHolder(source.dataDir);
  if (!held) return null;
  const who = owner ? `pid ${owner.pid}` : 'pid unknown';
  const mode = (source.db.query('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;
  if (mode.toLowerCase() !== 'wal') {
    throw new Error(`a codexin serve (${who}) is using ${source.dataDir} and its database is not in WAL mode, so a copy would not be a consistent snapshot: stop the serve first`);
  }
  return `a codexin serve (${who}) is using ${source.dataDir}: copying a consistent snapshot of its database as of now (one read transaction); what it writes from now on is not copied, so for the final move stop it and copy into a fresh database`;
}

/** Blob bytes by hash from the data dir's files/, read only (no temp-file cleanup, no mkdir). */
function blobReader(dataDir: string): (sha256: string) => Uint8Array | null {
  return (sha256) => {
    if (!SHA256.test(sha256)) return null;
    try {
      return new Uint8Array(readFileSync(join(dataDir, 'files', sha256)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };
}

/** An error message with the URL's password taken out, in case a driver message quotes it. */
function scrub(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // not a URL: nothing to scrub
  }
  return password ? message.split(password).join('***') : message;
}

function secretKeyReminder(dataDir: string): string {
  return `The accounts' tokens moved sealed: every CodexIn instance on this database needs the source's secret key (${join(dataDir, 'secret.key')}, unless you gave your own), as --secret-key-file FILE or its contents in CODEXIN_SECRET_KEY.`;
}

function describe(result: CopyResult, from: string, to: string, dataDir: string): string {
  const rows = Object.entries(result.counts).map(([table, n]) => `  ${table.padEnd(12)} ${n}`);
  const lines = [`Copied ${from} into ${to} (one transaction):`, ...rows];
  if (result.missingBlobs.length) {
    lines.push('', `${result.missingBlobs.length} file${result.missingBlobs.length === 1 ? "'s" : "s'"} bytes were missing under ${join(dataDir, 'files')} (copied without them): ${result.missingBlobs.join(', ')}`);
  }
  if (result.counts.accounts > 0) lines.push('', secretKeyReminder(dataDir));
  return lines.join('\n');
}

async function copyCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  const json = values.json === true;
  const path = sourcePath(values.from);
  const url = targetUrl(values.to);
  const shownUrl = redactDatabaseUrl(url);
  const source = openSource(path);
  try {
    const notice = snapshotNotice(source);
    if (notice) process.stderr.write(`codexin: ${notice}\n`);
    let target;
    try {
      target = await openPostgres(url, { max: 2, deadlineMs: 10_000 });
    } catch (error) {
      throw new Error(scrub((error as Error).message, url));
    }
    let abandoned = false;
    try {
      const result = await copySqliteToPostgres(source.db, blobReader(source.dataDir), target, { sourceName: source.file, dataDir: source.dataDir });
      printResult(
        json,
        {
          from: source.file,
          to: shownUrl,
          snapshot_of_running_serve: notice !== null,
          tables: result.counts,
          missing_blobs: result.missingBlobs,
          secret_key: result.counts.accounts > 0 ? secretKeyReminder(source.dataDir) : null,
        },
        () => describe(result, source.file, shownUrl, source.dataDir),
      );
      return 0;
    } catch (error) {
      // A frozen server would not answer the rollback either: drop the connections (PostgreSQL rolls back by itself).
      abandoned = error instanceof DeadlineError;
      throw new Error(scrub(`copy into ${shownUrl} failed, nothing was copied: ${(error as Error).message}`, url));
    } finally {
      await target.close({ timeout: abandoned ? 0 : 5 }).catch(() => {});
    }
  } finally {
    source.db.close();
  }
}

export async function dbCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, { from: { type: 'string' }, to: { type: 'string' } });
  if (sub !== 'copy') throw new ConfigError(sub ? `db: unknown subcommand "${sub}"; ${USAGE}` : USAGE);
  if (positionals.length) throw new ConfigError(`db copy: unexpected argument "${positionals[0]}"; ${USAGE}`);
  return copyCommand(values);
}
