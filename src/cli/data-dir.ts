/** Opens the data directory's database: one place that knows the file layout. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { closeDatabase, openDatabase, type Db } from '../store/db';
import type { Config } from '../config';

export function openDataDir(config: Config): Db {
  if (config.dataDir === ':memory:') return openDatabase(':memory:');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  return openDatabase(join(config.dataDir, 'codexin.db'));
}

/** Runs one command's work against the data dir's database, closing it however the work ends. */
export function withDataDir<T>(config: Config, work: (db: Db) => T): T {
  const db = openDataDir(config);
  try {
    return work(db);
  } finally {
    closeDatabase(db);
  }
}
