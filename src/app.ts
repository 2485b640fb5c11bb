/**
 * createApp(deps) builds the whole HTTP surface as one Elysia instance without
 * listening, so tests drive it with app.handle() and the CLI serves it.
 * Dependencies are passed in explicitly: no module-level singletons.
 *
 * Plugin order is the request's path: request id → errors → docs/health → auth'd routes.
 */
import { Elysia } from 'elysia';
import type { Config } from './config';
import type { KeyStore } from './store/keys';
import type { ModelStore } from './store/models';
import type { Logger } from './log';
import { requestIdPlugin } from './http/request-id';
import { accessLogPlugin } from './http/access-log';
import type { KeyLimiter } from './call/admission';
import { watchUsageWrites } from './observe/usage-writes';
import type { Observer } from './observe/observer';
import { errorPlugin } from './http/errors';
import { docsPlugin } from './http/docs';
import { healthPlugin, type UpstreamReadiness } from './http/health';
import { authPlugin } from './http/auth';
import { modelsRoutes } from './routes/models';
import { responsesRoutes } from './routes/responses';
import { adminRoutes } from './routes/admin';
import { chatRoutes } from './routes/chat';
import { meRoutes } from './routes/me';
import { metricsRoutes } from './routes/metrics';
import { filesRoutes } from './routes/files';
import { audioRoutes } from './routes/audio';
import { imagesRoutes } from './routes/images';
import { adminRequestsRoutes } from './routes/admin-requests';
import { adminLoginsRoutes } from './routes/admin-logins';
import { uiRoutes } from './routes/ui';
import { DeviceLogins } from './service/device-logins';
import type { FileService } from './service/files';
import type { AssetsUpstream, Upstream } from './upstream/types';
import type { UsageStore } from './store/usage';
import type { AccountStore } from './store/accounts';
import type { ResponsesSocket } from './ws/responses-socket';

export interface AppDeps {
  config: Config;
  /** Why the database cannot be used right now, or null (for /readyz). */
  databaseProblem: () => Promise<string | null>;
  keys: KeyStore;
  models: ModelStore;
  accounts: AccountStore;
  usage: UsageStore;
  logger: Logger;
  upstream: Upstream;
  /** The upstream's file service and transcription. */
  assets: AssetsUpstream;
  /** Uploaded files (owner-scoped). */
  files: FileService;
  upstreamReadiness: () => UpstreamReadiness;
  limiter: KeyLimiter;
  observer: Observer;
  /** The Responses WebSocket transport that GET /v1/responses upgrades to (the same one listen() serves). */
  socket?: ResponsesSocket;
  /** True when the upstream is the built-in simulator: every reply says so. */
  simulated?: boolean;
  /** Where device logins go (the simulator's auth server with `--upstream mock`); default config.authUrl. */
  authUrl?: string;
}

export function createApp(deps: AppDeps) {
  watchUsageWrites(deps.usage, deps.observer);
  const auth = authPlugin(deps.keys);
  const responsesDeps = {
    upstream: deps.upstream,
    models: deps.models,
    usage: deps.usage,
    limiter: deps.limiter,
    observer: deps.observer,
    fileInputs: deps.files,
    upstreamIdleMs: deps.config.upstreamIdleMs,
    keepaliveMs: deps.config.keepaliveMs,
    maxBodyBytes: deps.config.maxBodyBytes,
    socket: deps.socket,
  };
  const app = new Elysia({ name: 'codexin' });
  return app
    .use(requestIdPlugin)
    .onRequest(({ set }) => {
      if (deps.simulated) set.headers['x-codexin-upstream'] = 'simulator';
    })
    .use(errorPlugin(deps.logger, () => app.routes))
    .use(accessLogPlugin(deps.observer, deps.usage))
    .use(docsPlugin)
    .use(uiRoutes)
    .use(healthPlugin(deps.databaseProblem, deps.usage, deps.upstreamReadiness))
    .use(modelsRoutes(auth, deps.models, deps.simulated === true))
    .use(responsesRoutes(auth, responsesDeps))
    .use(chatRoutes(auth, responsesDeps))
    .use(filesRoutes(auth, { files: deps.files, keys: deps.keys }))
    .use(audioRoutes(auth, { assets: deps.assets, keys: deps.keys, usage: deps.usage, limiter: deps.limiter }))
    .use(imagesRoutes(auth, { ...responsesDeps, files: deps.files, assets: deps.assets, keys: deps.keys }))
    .use(meRoutes(auth, { usage: deps.usage, models: deps.models, limiter: deps.limiter, trustProxy: deps.config.trustProxy }))
    .use(metricsRoutes({ keys: deps.keys, metrics: deps.observer.metrics, metricsToken: deps.config.metricsToken }))
    .use(
      adminRoutes(auth, {
        keys: deps.keys,
        accounts: deps.accounts,
        usage: deps.usage,
        models: deps.models,
        upstream: deps.upstream,
        limiter: deps.limiter,
        maxBodyBytes: deps.config.maxBodyBytes,
      }),
    )
    .use(adminRequestsRoutes(auth, { usage: deps.usage }))
    .use(adminLoginsRoutes(auth, { logins: new DeviceLogins(deps.accounts, deps.authUrl ?? deps.config.authUrl), maxBodyBytes: deps.config.maxBodyBytes }));
}

export type App = ReturnType<typeof createApp>;
