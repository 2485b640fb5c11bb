/**
 * Opens the CodexIn SQLite database and brings its schema up to date.
 * Only `store/` touches SQLite; everything else goes through the typed stores.
 */
import { Database } from 'bun:sqlite';
import { MIGRATIONS } from './migrations';

export type Db = Database;

/** Opens (creating if needed) the database at `path`, or an in-memory one for ':memory:'. */
export function openDatabase(path: string): Db {
  const db = new Database(path, { create: true, strict: true });
  if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
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
