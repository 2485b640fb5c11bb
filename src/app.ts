/**
 * createApp(deps) builds the whole HTTP surface as one Elysia instance without
 * listening, so tests drive it with app.handle() and the CLI serves it.
 * Dependencies are passed in explicitly: no module-level singletons.
 *
 * Plugin order is the request's path: request id → errors → docs/health → auth'd routes.
 */
import { Elysia } from 'elysia';
import type { Config } from './config';
import type { Db } from './store/db';
import type { KeyStore } from './store/keys';
import type { ModelStore } from './store/models';
import type { Logger } from './log';
import { requestIdPlugin } from './http/request-id';
import { errorPlugin } from './http/errors';
import { docsPlugin } from './http/docs';
import { healthPlugin, type UpstreamReadiness } from './http/health';
import { authPlugin } from './http/auth';
import { modelsRoutes } from './routes/models';

export interface AppDeps {
  config: Config;
  db: Db;
  keys: KeyStore;
  models: ModelStore;
  logger: Logger;
  upstreamReadiness: () => UpstreamReadiness;
}

export function createApp(deps: AppDeps) {
  const auth = authPlugin(deps.keys);
  const app = new Elysia({ name: 'codexin' });
  return app
    .use(requestIdPlugin)
    .use(errorPlugin(deps.logger, () => app.routes))
    .use(docsPlugin)
    .use(healthPlugin(deps.db, deps.upstreamReadiness))
    .use(modelsRoutes(auth, deps.models));
}

export type App = ReturnType<typeof createApp>;
