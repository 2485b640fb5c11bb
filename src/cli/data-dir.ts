/** Opens the data directory's database: one place that knows the file layout. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Db } from '../store/db';
import type { Config } from '../config';

export function openDataDir(config: Config): Db {
  if (config.dataDir === ':memory:') return openDatabase(':memory:');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  return openDatabase(join(config.dataDir, 'codexin.db'));
}
