/**
 * Opens the CodexIn SQLite database and brings its schema up to date.
 * Only `store/` touches SQLite; everything else goes through the typed stores.
 */
import { Database } from 'bun:sqlite';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { MIGRATIONS } from './migrations';

export type Db = Database;

/** The database and its WAL and shared-memory files hold secrets: owner-only. */
export const DB_FILE_MODE = 0o600;
export const DB_SIDE_FILES = ['-wal', '-shm'] as const;

/**
 * Creates the file owner-only before SQLite opens it (SQLite would create it 0644)
 * and tightens one left by an older version. SQLite gives the WAL and shared-memory
 * files the database file's mode, so they are born 0600 too.
 */
function restrictFileModes(path: string): void {
  createPrivateFile(path);
  for (const file of [path, ...DB_SIDE_FILES.map((suffix) => path + suffix)]) {
    try {
      chmodSync(file, DB_FILE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Creates `path` owner-only if it does not exist. An existing file is never opened
 * here: closing a descriptor of a file drops every POSIX lock this process holds on
 * it, including SQLite's.
 */
export function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', DB_FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Opens (creating if needed) the database at `path`, or an in-memory one for ':memory:'. */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') restrictFileModes(path);
  const db = new Database(path, { create: true, strict: true });
  if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
  // Deleted and overwritten content (rotated-away tokens) is zeroed, not left in free pages.
  db.exec('PRAGMA secure_delete = ON');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  // Several CLI invocations (keys create while serve runs) share one file.
  db.exec('PRAGMA busy_timeout = 5000');
  migrate(db);
  return db;
}

/** Applies every migration newer than `PRAGMA user_version`, each in its own transaction. */
export function migrate(db: Db): void {
  const current = (db.query('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this CodexIn build knows (${MIGRATIONS.length}); upgrade codexin`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    const step = MIGRATIONS[version]!;
    db.transaction(() => {
      step(db);
      db.exec(`PRAGMA user_version = ${version + 1}`);
    }).immediate();
  }
}

/** Flushes the WAL so a stopped server leaves one self-contained file behind. */
export function closeDatabase(db: Db): void {
  try {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } catch {
    // An in-memory or read-only database has nothing to checkpoint.
  }
  db.close();
}

/** Why the database cannot be read right now, or null. */
export function sqliteProblem(db: Db): string | null {
  try {
    db.query('SELECT 1').get();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
