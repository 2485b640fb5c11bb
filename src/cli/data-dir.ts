/** Opens the data directory's database: one place that knows the file layout. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { closeDatabase, openDatabase, type Db } from '../store/db';
import { ConfigError, type Config } from '../config';

export function openDataDir(config: Config): Db {
  if (config.dataDir === ':memory:') return openDatabase(':memory:');
  const file = join(config.dataDir, 'codexin.db');
  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    return openDatabase(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`--data-dir: cannot use ${config.dataDir} (${reason}); give a writable directory`);
  }
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
