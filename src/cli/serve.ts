/**
 * `codexin serve`: opens the data dir, wires the app, listens, and shuts down
 * gracefully on SIGTERM/SIGINT (in-flight streams get a grace period).
 */
import { resolveConfig, ConfigError } from '../config';
import { createLogger } from '../log';
import { createApp } from '../app';
import { KeyStore } from '../store/keys';
import { ModelStore } from '../store/models';
import { closeDatabase } from '../store/db';
import { VERSION } from '../version';
import { parseCommandArgs } from './args';
import { openDataDir } from './data-dir';

const SHUTDOWN_GRACE_MS = 10_000;

export async function serveCommand(argv: string[]): Promise<number> {
  const { positionals, configFlags } = parseCommandArgs(argv);
  if (positionals.length) throw new ConfigError(`serve: unexpected argument "${positionals[0]}"`);
  const config = resolveConfig(configFlags);
  const logger = createLogger(config.logLevel);
  const db = openDataDir(config);
  const keys = new KeyStore(db);
  const models = new ModelStore(db);
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

  const app = createApp({
    config,
    db,
    keys,
    models,
    logger,
    upstreamReadiness: () => ({
      ready: false,
      kind: config.upstream,
      accounts: { total: 0, active: 0, needs_login: 0, cooling_down: 0, disabled: 0 },
      message: 'no upstream configured yet',
    }),
  });

  let server;
  try {
    server = Bun.serve({
      hostname: config.host,
      port: config.port,
      // A modest global idle timeout guards against idle sockets; streaming routes lift it per request.
      idleTimeout: 120,
      maxRequestBodySize: config.maxBodyBytes,
      reusePort: false,
      development: false,
      fetch: (request, srv) => app.handle(request),
    });
  } catch (error) {
    closeDatabase(db);
    throw new ConfigError(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${server.port}`;
  process.stdout.write(`CodexIn ${VERSION} listening on ${url} (upstream: ${config.upstream}, data: ${config.dataDir})\n`);
  logger.info('listening', { url, upstream: config.upstream });

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { signal });
      const force = setTimeout(() => server.stop(true), SHUTDOWN_GRACE_MS);
      await server.stop(false);
      clearTimeout(force);
      closeDatabase(db);
      resolve();
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
  return 0;
}
