/**
 * The stores a CLI command works on: the data dir's SQLite file, or the shared
 * PostgreSQL database with --database-url. A command opens them, does its work and
 * closes them however the work ends; a store it does not use is never opened (`keys
 * create` does not need the secret key).
 */
import type { Config } from '../config';
import { SqliteAccountStore, type AccountStore } from '../store/accounts';
import { closeDatabase } from '../store/db';
import { SqliteKeyStore, type KeyStore } from '../store/keys';
import { SqliteModelStore, type ModelStore } from '../store/models';
import { closePgStores, openPgStores } from '../store/postgres/backend';
import { openDataDir } from './data-dir';

export interface CommandStores {
  keys(): KeyStore;
  accounts(): AccountStore;
  models(): ModelStore;
}

function memo<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

export async function withStores<T>(config: Config, work: (stores: CommandStores) => Promise<T> | T): Promise<T> {
  if (config.databaseUrl) {
    // One connection is plenty for a command; no change feed: it exits before it would hear anything.
    const pg = await openPgStores(config.databaseUrl, config.secretKey, { max: 2, listen: false });
    try {
      return await work({ keys: () => pg.keys, accounts: () => pg.accounts, models: () => pg.models });
    } finally {
      await closePgStores(pg);
    }
  }
  const db = openDataDir(config);
  try {
    return await work({
      keys: memo(() => new SqliteKeyStore(db)),
      accounts: memo(() => new SqliteAccountStore(db)),
      models: memo(() => new SqliteModelStore(db)),
    });
  } finally {
    closeDatabase(db);
  }
}
