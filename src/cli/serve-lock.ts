/**
 * One `serve` per data dir. Two servers on one database would both refresh the same
 * token and split the rate-limit counters, so `serve` holds `<data-dir>/serve.lock`
 * for its whole life; CLI commands never take it and keep working beside it.
 *
 * The lock is SQLite's own file lock on a tiny side database (fcntl on POSIX,
 * LockFileEx on Windows): an OS-level lock that the kernel drops when the process
 * dies, kill -9 included, and that works in the compiled binary without FFI (Bun has
 * no flock binding). The holder keeps a write transaction open (a RESERVED lock):
 * other writers are refused at once, while readers can still see the holder's PID.
 * Nothing else in the process may open this file: closing any descriptor of it would
 * drop the POSIX lock.
 */
import { Database } from 'bun:sqlite';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { ConfigError } from '../config';
import { createPrivateFile, DB_FILE_MODE } from '../store/db';
import { chmodSync, existsSync } from 'node:fs';

export const LOCK_FILE = 'serve.lock';

export interface DataDirLock {
  release(): void;
}

export interface Owner {
  pid: number;
  host: string;
  started_at: number;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /database is locked/i.test((error as Error).message);
}

function refusal(dir: string, owner: Owner | null): ConfigError {
  const who = owner ? `pid ${owner.pid}${owner.host !== hostname() ? ` on ${owner.host}` : ''}, started ${new Date(owner.started_at).toISOString()}` : 'pid unknown';
  return new ConfigError(`another codexin serve (${who}) is using the data dir ${dir}; stop it first, or give this one its own --data-dir`);
}

function readOwner(db: Database): Owner | null {
  try {
    return db.query('SELECT pid, host, started_at FROM owner LIMIT 1').get() as Owner | null;
  } catch {
    return null;
  }
}

/** Takes the data dir's serve lock, or throws a ConfigError (exit 2) naming the process that holds it. */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  createPrivateFile(path);
  chmodSync(path, DB_FILE_MODE);
  const db = new Database(path, { create: true });
  // The holder must never wait: a second serve is refused at once.
  db.exec('PRAGMA busy_timeout = 0');
  db.exec('PRAGMA journal_mode = DELETE');
  const take = () => {
    try {
      db.exec('BEGIN IMMEDIATE');
      return true;
    } catch (error) {
      if (isBusy(error)) return false;
      throw error;
    }
  };
  if (!take()) {
    const owner = readOwner(db);
    db.close();
    throw refusal(dir, owner);
  }
  // Record who we are (committed, so a refused serve can read it), then hold the lock again.
  db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL, host TEXT NOT NULL, started_at INTEGER NOT NULL)');
  db.exec('DELETE FROM owner');
  db.query('INSERT INTO owner (pid, host, started_at) VALUES (?, ?, ?)').run(process.pid, hostname(), Date.now());
  db.exec('COMMIT');
  if (!take()) {
    // Another serve slipped in between our commit and our re-lock: it owns the dir now.
    const owner = readOwner(db);
    db.close();
    throw refusal(dir, owner);
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}

/**
 * Whether a serve holds the data dir's lock right now, without keeping it: the probe
 * tries the lock and lets go at once (a serve starting in that instant is refused as
 * if two had raced). `owner` is the holder's record when one is held.
 */
export function serveLockHolder(dir: string): { held: boolean; owner: Owner | null } {
  const path = join(dir, LOCK_FILE);
  if (!existsSync(path)) return { held: false, owner: null };
  const db = new Database(path, { readwrite: true, create: false });
  try {
    db.exec('PRAGMA busy_timeout = 0');
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if (isBusy(error)) return { held: true, owner: readOwner(db) };
      throw error;
    }
    db.exec('ROLLBACK');
    return { held: false, owner: null };
  } finally {
    db.close();
  }
}
