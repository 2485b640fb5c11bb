/**
 * What `serve` runs on: the data dir's SQLite file (one server per data dir, held by
 * the serve lock), or a PostgreSQL database shared by any number of servers, with
 * the shared limits (PostgreSQL or Redis) that keep rpm and concurrency exact across
 * them. Everything is opened and loaded before the first request, and closed in the
 * order that loses nothing: usage rows and last-used times are flushed first.
 */
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../observe/metrics';
import { SqliteAccountStore, type AccountStore } from '../store/accounts';
import { openBlobStore, type BlobStore } from '../store/blobs';
import { closeDatabase, sqliteProblem } from '../store/db';
import { SqliteFileStore, type FileStore } from '../store/files';
import { SqliteKeyStore, type KeyStore } from '../store/keys';
import { SqliteModelStore, type ModelStore } from '../store/models';
import { closePgStores, openPgStores, verifySharedSecretKey } from '../store/postgres/backend';
import { pgCall, redactDatabaseUrl } from '../store/postgres/database';
import { PgBlobStore, PgFileStore } from '../store/postgres/files';
import { PgUsageStore } from '../store/postgres/usage';
import { SqliteUsageStore, type UsageStore } from '../store/usage';
import type { SharedLimits } from '../coord/shared-limits';
import { startSharedLimits } from '../coord/start-shared-limits';
import { openServeDataDir } from './data-dir';

export interface ServeBackend {
  /** Where the state lives, for the start-up line (no password). */
  where: string;
  keys: KeyStore;
  models: ModelStore;
  accounts: AccountStore;
  usage: UsageStore;
  files: FileStore;
  blobs: BlobStore;
  /** rpm and concurrency across instances; null for the single binary (memory is exact there). */
  shared: SharedLimits | null;
  metrics: Metrics;
  /** Why the database cannot be used right now, or null (for /readyz). */
  databaseProblem(): Promise<string | null>;
  /** Flushes what is written behind and closes everything. */
  close(): Promise<void>;
}

// How soon an account change made by a CLI command (accounts import/remove) reaches a SQLite server.
const ACCOUNT_SYNC_MS = 1_000;

/** `metricsFor` builds the metrics once the accounts they report on are loaded (shared limits report into them). */
export async function openServeBackend(config: Config, logger: Logger, metricsFor: (accounts: AccountStore) => Metrics): Promise<ServeBackend> {
  return config.databaseUrl ? openShared(config, config.databaseUrl, logger, metricsFor) : openSingle(config, logger, metricsFor);
}

function openSingle(config: Config, logger: Logger, metricsFor: (accounts: AccountStore) => Metrics): ServeBackend {
  const { db, lock } = openServeDataDir(config, (message) => logger.warn(message));
  // The server never waits long for a lock another process holds (a CLI command, a backup):
  // a wait blocks the whole event loop. Writes on the request path are written behind and
  // retried; anything else fails after this instead of freezing every stream.
  db.exec('PRAGMA busy_timeout = 250');
  const release = () => {
    closeDatabase(db);
    lock?.release();
  };
  let accounts: SqliteAccountStore;
  try {
    accounts = new SqliteAccountStore(db);
    // A wrong or missing secret key stops the server before it writes anything.
    accounts.assertReadable();
  } catch (error) {
    release();
    throw error;
  }
  const keys = new SqliteKeyStore(db);
  const usage = new SqliteUsageStore(db);
  const sync = setInterval(() => {
    try {
      accounts.syncExternalChanges();
    } catch (error) {
      logger.warn('account changes made beside the server were not loaded', { error: (error as Error).message });
    }
  }, ACCOUNT_SYNC_MS);
  sync.unref();
  return {
    where: config.dataDir,
    keys,
    models: new SqliteModelStore(db),
    accounts,
    usage,
    files: new SqliteFileStore(db),
    blobs: openBlobStore(config.dataDir),
    shared: null,
    metrics: metricsFor(accounts),
    databaseProblem: async () => sqliteProblem(db),
    async close() {
      clearInterval(sync);
      keys.flushTouches();
      if (!usage.close()) logger.error('usage rows could not be written at shutdown', { pending_rows: usage.health().pending, error: usage.health().lastError });
      release();
    },
  };
}

async function openShared(config: Config, url: string, logger: Logger, metricsFor: (accounts: AccountStore) => Metrics): Promise<ServeBackend> {
  const stores = await openPgStores(url, config.secretKey, { logger });
  let shared: Awaited<ReturnType<typeof startSharedLimits>> | null = null;
  let metrics: Metrics;
  try {
    // A wrong or missing secret key stops the server before it writes anything, and so does a key
    // other than the one the database was set up with (its tokens would lock the other instances out).
    stores.accounts.assertReadable();
    await verifySharedSecretKey(stores.sql, stores.secrets());
    metrics = metricsFor(stores.accounts);
    shared = await startSharedLimits({ sql: stores.sql, redisUrl: config.redisUrl, logger, metrics });
  } catch (error) {
    await closePgStores(stores);
    throw error;
  }
  const usage = new PgUsageStore(stores.sql);
  const limits = shared;
  return {
    where: redactDatabaseUrl(url),
    keys: stores.keys,
    models: stores.models,
    accounts: stores.accounts,
    usage,
    files: new PgFileStore(stores.sql),
    blobs: new PgBlobStore(stores.sql),
    shared: limits.limits,
    metrics,
    async databaseProblem() {
      try {
        await pgCall(stores.sql, 'the readiness check', () => stores.sql`SELECT 1`, 1_000);
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    },
    async close() {
      await limits.close().catch(() => {});
      if (!(await usage.close())) logger.error('usage rows could not be written at shutdown', { pending_rows: usage.health().pending, error: usage.health().lastError });
      await closePgStores(stores);
    },
  };
}
