/**
 * `codexin serve`: opens the data dir, wires the app, listens, and shuts down
 * gracefully on SIGTERM/SIGINT (in-flight streams get a grace period).
 */
import { resolveConfig, ConfigError } from '../config';
import { loggerFor } from '../log';
import { createApp } from '../app';
import { SqliteKeyStore } from '../store/keys';
import { SqliteModelStore } from '../store/models';
import { closeDatabase } from '../store/db';
import { SqliteAccountStore } from '../store/accounts';
import { UsageStore } from '../store/usage';
import { buildUpstream } from '../upstream/factory';
import { SqliteFileStore } from '../store/files';
import { openBlobStore } from '../store/blobs';
import { FileService } from '../service/files';
import { requestBodyLimit } from '../routes/files';
import { listen } from '../http/server';
import { Observer } from '../observe/observer';
import { Metrics } from '../observe/metrics';
import { KeyLimiter } from '../call/admission';
import { createResponsesSocket } from '../ws/responses-socket';
import { VERSION } from '../version';
import { parseCommandArgs } from './args';
import { openServeDataDir } from './data-dir';

const SHUTDOWN_GRACE_MS = 10_000;
// How soon an account change made by a CLI command (accounts import/remove) reaches the running server.
const ACCOUNT_SYNC_MS = 1_000;

export async function serveCommand(argv: string[]): Promise<number> {
  const { positionals, configFlags } = parseCommandArgs(argv);
  if (positionals.length) throw new ConfigError(`serve: unexpected argument "${positionals[0]}"`);
  const config = resolveConfig(configFlags);
  const logger = loggerFor(config);
  // Installed before anything starts, so a signal during startup still shuts down cleanly.
  let signalled: (signal: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => (signalled = resolve));
  process.once('SIGTERM', () => signalled('SIGTERM'));
  process.once('SIGINT', () => signalled('SIGINT'));
  const { db, lock } = openServeDataDir(config, (message) => logger.warn(message));
  // The server never waits long for a lock another process holds (a CLI command, a backup):
  // a wait blocks the whole event loop. Writes on the request path are written behind and
  // retried; anything else fails after this instead of freezing every stream.
  db.exec('PRAGMA busy_timeout = 250');
  // A wrong or missing secret key stops the server before it writes anything.
  const accounts = new SqliteAccountStore(db);
  try {
    accounts.assertReadable();
  } catch (error) {
    closeDatabase(db);
    lock?.release();
    throw error;
  }
  const keys = new SqliteKeyStore(db);
  const models = new SqliteModelStore(db);
  models.seed();

  if (keys.count() === 0) {
    const { record, secret } = keys.create({ name: 'admin', scopes: ['admin', 'advanced'] });
    process.stdout.write(
      [
        'No API keys yet: created an admin key. Copy it now, it is shown only once:',
        '',
        `  ${secret}`,
        '',
        `(key id ${record.id}; manage keys with "codexin keys create|list|revoke")`,
        '',
      ].join('\n'),
    );
  }

  const syncAccounts = setInterval(() => {
    try {
      accounts.syncExternalChanges();
    } catch (error) {
      logger.warn('account changes made beside the server were not loaded', { error: (error as Error).message });
    }
  }, ACCOUNT_SYNC_MS);
  syncAccounts.unref();
  const usage = new UsageStore(db);
  const observer = new Observer(logger, new Metrics(accounts));
  const limiter = new KeyLimiter(usage);
  const built = await buildUpstream(config, accounts, logger, observer.metrics);
  const files = new FileService(new SqliteFileStore(db), openBlobStore(config.dataDir), config.maxFileBytes);
  const socket = createResponsesSocket({ upstream: built.upstream, models, usage, limiter, observer, keys, fileInputs: files, upstreamIdleMs: config.upstreamIdleMs, maxFrameBytes: config.maxBodyBytes });
  const app = createApp({
    socket,
    config,
    db,
    keys,
    models,
    accounts,
    usage,
    logger,
    upstream: built.upstream,
    assets: built.assets,
    files,
    upstreamReadiness: built.readiness,
    limiter,
    observer,
    simulated: built.simulated,
    authUrl: built.authUrl,
  });

  let server;
  try {
    server = listen(app, socket, { hostname: config.host, port: config.port, maxRequestBodySize: requestBodyLimit(config) });
  } catch (error) {
    await built.stop();
    clearInterval(syncAccounts);
    closeDatabase(db);
    lock?.release();
    throw new ConfigError(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${server.port}`;
  process.stdout.write(`CodexIn ${VERSION} listening on ${url} (upstream: ${config.upstream}${built.simulated ? ' = SIMULATOR, canned replies' : ''}, data: ${config.dataDir})\n`);
  logger.info('listening', { url, upstream: config.upstream, max_concurrent_upstream_requests: limiter.capacity.limit });

  const signal = await stopRequested;
  logger.info('shutting down', { signal });
  const force = setTimeout(() => server.stop(true), SHUTDOWN_GRACE_MS);
  await server.stop(false);
  clearTimeout(force);
  await built.stop();
  clearInterval(syncAccounts);
  keys.flushTouches();
  // The last usage rows are written behind the requests: flush them before the database closes.
  if (!usage.close()) logger.error('usage rows could not be written at shutdown', { pending_rows: usage.health().pending, error: usage.health().lastError });
  closeDatabase(db);
  lock?.release();
  return 0;
}
