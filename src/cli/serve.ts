/**
 * `codexin serve`: opens the data dir (or the shared database), wires the app,
 * listens, and shuts down gracefully on SIGTERM/SIGINT (in-flight streams get a grace
 * period; usage rows are flushed before the database closes).
 */
import { resolveConfig, ConfigError } from '../config';
import { loggerFor } from '../log';
import { createApp } from '../app';
import { buildUpstream } from '../upstream/factory';
import { FileService } from '../service/files';
import { requestBodyLimit } from '../routes/files';
import { listen } from '../http/server';
import { Observer } from '../observe/observer';
import { Metrics } from '../observe/metrics';
import { KeyLimiter } from '../call/admission';
import { createResponsesSocket } from '../ws/responses-socket';
import { VERSION } from '../version';
import { parseCommandArgs } from './args';
import { openServeBackend } from './serve-backend';

const SHUTDOWN_GRACE_MS = 10_000;

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
  const backend = await openServeBackend(config, logger, (accounts) => new Metrics(accounts));
  const { keys, models, accounts, usage } = backend;
  await models.seed();

  const first = await keys.createFirst({ name: 'admin', scopes: ['admin', 'advanced'] });
  if (first) {
    const { record, secret } = first;
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

  const observer = new Observer(logger, backend.metrics);
  const limiter = new KeyLimiter(usage, undefined, { shared: backend.shared ?? undefined });
  const built = await buildUpstream(config, accounts, logger, observer.metrics);
  const files = new FileService(backend.files, backend.blobs, config.maxFileBytes);
  const socket = createResponsesSocket({ upstream: built.upstream, models, usage, limiter, observer, keys, fileInputs: files, upstreamIdleMs: config.upstreamIdleMs, maxFrameBytes: config.maxBodyBytes });
  const app = createApp({
    socket,
    config,
    databaseProblem: () => backend.databaseProblem(),
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
    await backend.close();
    throw new ConfigError(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${server.port}`;
  process.stdout.write(`CodexIn ${VERSION} listening on ${url} (upstream: ${config.upstream}${built.simulated ? ' = SIMULATOR, canned replies' : ''}, data: ${backend.where})\n`);
  logger.info('listening', { url, upstream: config.upstream, max_concurrent_upstream_requests: limiter.capacity.limit });

  const signal = await stopRequested;
  logger.info('shutting down', { signal });
  const force = setTimeout(() => server.stop(true), SHUTDOWN_GRACE_MS);
  await server.stop(false);
  clearTimeout(force);
  await built.stop();
  // The last usage rows and last-used times are written behind the requests: flushed before the database closes.
  await backend.close();
  return 0;
}
