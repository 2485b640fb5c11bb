/**
 * An in-process CodexIn wired exactly like `serve`, with an in-memory database and
 * the upstream simulator on a loopback port. Tests drive it with app.handle().
 */
import { createApp, type App } from '../../src/app';
import { openDatabase, sqliteProblem, type Db } from '../../src/store/db';
import { SqliteKeyStore, type KeyScope, type KeyStore } from '../../src/store/keys';
import { SqliteModelStore } from '../../src/store/models';
import { attachSecretKey, loadSecretBox } from '../../src/store/secret-key';
import { SqliteAccountStore } from '../../src/store/accounts';
import { SqliteUsageStore } from '../../src/store/usage';
import { createLogger, type Logger } from '../../src/log';
import { resolveConfig, type Config } from '../../src/config';
import { AccountPool } from '../../src/upstream/pool';
import { TokenManager } from '../../src/upstream/chatgpt/token-manager';
import { ChatGptUpstream } from '../../src/upstream/chatgpt/client';
import { accountsReadiness } from '../../src/upstream/factory';
import { parseAuthJson } from '../../src/upstream/chatgpt/auth-json';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import { listen as listenHttp } from '../../src/http/server';
import { createResponsesSocket, type ResponsesSocket } from '../../src/ws/responses-socket';
import { Observer } from '../../src/observe/observer';
import { Metrics } from '../../src/observe/metrics';
import { KeyLimiter } from '../../src/call/admission';
import { ChatGptAssets } from '../../src/upstream/chatgpt/assets';
import { SqliteFileStore } from '../../src/store/files';
import { MemoryBlobStore } from '../../src/store/blobs';
import { FileService } from '../../src/service/files';
import { requestBodyLimit } from '../../src/routes/files';

export interface TestGateway {
  app: App;
  sim: Simulator;
  simUrl: string;
  db: Db;
  keys: SqliteKeyStore;
  accounts: SqliteAccountStore;
  usage: SqliteUsageStore;
  observer: Observer;
  /** Uploaded files (bytes in memory). */
  files: FileService;
  config: Config;
  /** The WebSocket transport served by listen(). */
  socket: ResponsesSocket;
  logs: string[];
  /** A fresh API key secret with the given scopes. */
  key(scopes?: KeyScope[], extra?: Parameters<KeyStore['create']>[0]): string;
  /** Adds one more simulated ChatGPT account; returns its CodexIn account id. */
  addAccount(opts?: { accessTtlSeconds?: number; accountId?: string }): string;
  call(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>;
  /** Serves the app on a loopback port (needed for WebSocket and real-client tests); returns its base URL. */
  listen(): string;
  stop(): Promise<void>;
}

export async function startGateway(opts: { accounts?: number; accessTtlSeconds?: number; env?: Record<string, string>; dbPath?: string } = {}): Promise<TestGateway> {
  const sim = createSimulator();
  const running = await sim.start({ hostname: '127.0.0.1', port: 0 });
  const config = resolveConfig({ 'data-dir': ':memory:', 'upstream-url': `${running.url}/backend-api`, 'auth-url': running.url }, { CODEXIN_KEEPALIVE_MS: '15000', ...opts.env });
  const logs: string[] = [];
  const logger: Logger = createLogger('debug', (line) => logs.push(line));
  const db = openDatabase(opts.dbPath ?? ':memory:');
  // A file database needs a secret key for its tokens, as openDataDir gives serve: a key of this run's.
  if (opts.dbPath) attachSecretKey(db, () => loadSecretBox({ kind: 'ephemeral' }, () => false));
  // As serve does: never wait long on a lock another process holds.
  db.exec('PRAGMA busy_timeout = 250');
  const keys = new SqliteKeyStore(db);
  const models = new SqliteModelStore(db);
  models.seed();
  const accounts = new SqliteAccountStore(db);
  const usage = new SqliteUsageStore(db);
  const addAccount = (o: { accessTtlSeconds?: number; accountId?: string } = {}) => {
    const issued = sim.issueAccount({ accessTtlSeconds: o.accessTtlSeconds ?? opts.accessTtlSeconds, accountId: o.accountId });
    return accounts.upsert(parseAuthJson(JSON.stringify(issued.authJson))).record.id;
  };
  for (let i = 0; i < (opts.accounts ?? 1); i++) addAccount();
  const pool = new AccountPool(accounts);
  const tokens = new TokenManager(accounts, config.authUrl, logger);
  const observer = new Observer(logger, new Metrics(accounts));
  const limiter = new KeyLimiter(usage);
  const upstream = new ChatGptUpstream({
    baseUrl: config.upstreamUrl,
    accounts,
    pool,
    tokens,
    logger,
    headerTimeoutMs: config.upstreamTimeoutMs,
    onUpstreamResponse: (account, status) => observer.metrics.upstream.inc({ account, status: String(status) }),
  });
  const assets = new ChatGptAssets({ baseUrl: config.upstreamUrl, accounts, pool, tokens, logger });
  const files = new FileService(new SqliteFileStore(db), new MemoryBlobStore(), config.maxFileBytes);
  const socket = createResponsesSocket({ upstream, models, usage, limiter, observer, keys, fileInputs: files, upstreamIdleMs: config.upstreamIdleMs, maxFrameBytes: config.maxBodyBytes });
  const app = createApp({ config, databaseProblem: async () => sqliteProblem(db), keys, models, accounts, usage, logger, upstream, assets, files, limiter, observer, socket, upstreamReadiness: () => accountsReadiness('chatgpt', accounts) });
  let server: ReturnType<typeof listenHttp> | null = null;
  const key = (scopes: KeyScope[] = [], extra?: Parameters<KeyStore['create']>[0]) => keys.create({ name: 'test', ...extra, scopes }).secret;
  return {
    app,
    sim,
    simUrl: running.url,
    db,
    keys,
    accounts,
    usage,
    observer,
    files,
    config,
    socket,
    logs,
    key,
    addAccount,
    call(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.key) headers.set('authorization', `Bearer ${init.key}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return app.handle(new Request(`http://localhost${path}`, { ...init, headers, body }));
    },
    listen() {
      if (!server) {
        server = listenHttp(app, socket, { hostname: '127.0.0.1', port: 0, maxRequestBodySize: requestBodyLimit(config) });
      }
      return `http://127.0.0.1:${server.port}`;
    },
    async stop() {
      await server?.stop(true);
      await running.stop();
      db.close();
    },
  };
}
