/**
 * The simulator: one instance of ChatGPT's backend, its auth server, the blob
 * store and (for `--upstream openai`) the public Responses API, behind a single
 * fetch handler that tests call in-process or over loopback via start().
 */
import { AccountRegistry } from './accounts';
import { codexCompact, codexModels, codexResponses, whamUsageRoute } from './backend';
import { buildCatalog, DEFAULT_MODELS } from './catalog';
import { confirmUpload, createFile, downloadBlob, FileStore, uploadBlob } from './files';
import { decodeRequest, detail, record, type Ctx } from './http';
import { deviceApprove, devicePage, deviceToken, deviceUserCode, DeviceStore, oauthAuthorize, oauthToken } from './oauth';
import { openaiResponses } from './openai-mode';
import type { SimState } from './state';
import { transcribe } from './transcribe';
import type { RunningSimulator, Simulator, SimulatorOptions, StartOptions } from './types';

type Handler = (state: SimState, ctx: Ctx) => Response | Promise<Response>;

const ROUTES: { method: string; path: RegExp; handler: Handler }[] = [
  { method: 'POST', path: /^\/backend-api\/codex\/responses$/, handler: codexResponses },
  { method: 'POST', path: /^\/backend-api\/codex\/responses\/compact$/, handler: codexCompact },
  { method: 'GET', path: /^\/backend-api\/codex\/models$/, handler: codexModels },
  { method: 'GET', path: /^\/backend-api\/wham\/usage$/, handler: whamUsageRoute },
  { method: 'POST', path: /^\/backend-api\/files$/, handler: createFile },
  { method: 'POST', path: /^\/backend-api\/files\/([^/]+)\/uploaded$/, handler: confirmUpload },
  { method: 'POST', path: /^\/backend-api\/transcribe$/, handler: transcribe },
  { method: 'PUT', path: /^\/upload\/([^/]+)$/, handler: uploadBlob },
  { method: 'GET', path: /^\/download\/([^/]+)$/, handler: downloadBlob },
  { method: 'POST', path: /^\/oauth\/token$/, handler: oauthToken },
  { method: 'GET', path: /^\/oauth\/authorize$/, handler: oauthAuthorize },
  { method: 'POST', path: /^\/api\/accounts\/deviceauth\/usercode$/, handler: deviceUserCode },
  { method: 'POST', path: /^\/api\/accounts\/deviceauth\/token$/, handler: deviceToken },
  { method: 'GET', path: /^\/codex\/device$/, handler: devicePage },
  { method: 'POST', path: /^\/codex\/device$/, handler: deviceApprove },
  { method: 'POST', path: /^\/v1\/responses$/, handler: openaiResponses },
];

function route(state: SimState, ctx: Ctx): Response | Promise<Response> {
  let pathMatched = false;
  for (const r of ROUTES) {
    const m = r.path.exec(ctx.url.pathname);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== ctx.req.method) continue;
    ctx.params = m.slice(1).map(decodeURIComponent);
    return r.handler(state, ctx);
  }
  return pathMatched ? detail(405, 'Method Not Allowed') : detail(404, 'Not Found');
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const plan = options.plan ?? 'plus';
  const models = options.models ?? [...DEFAULT_MODELS];
  const state: SimState = {
    plan,
    models,
    silenceKeepaliveMs: options.silenceKeepaliveMs,
    accounts: new AccountRegistry(plan),
    devices: new DeviceStore(),
    files: new FileStore(),
    catalog: buildCatalog(models),
    queue: [],
    defaultScenario: null,
    filesQueue: [],
    transcribeQueue: [],
    requests: [],
    aborts: [],
    refreshCount: 0,
    stats: { tokenRequests: 0, responses: 0 },
    promptCache: new Map(),
  };

  async function handle(req: Request, viaServer: boolean): Promise<Response> {
    const ctx = await decodeRequest(req, viaServer);
    state.requests.push(record(ctx));
    return route(state, ctx);
  }

  return {
    fetch: (req) => handle(req, false),

    async start(opts: StartOptions = {}): Promise<RunningSimulator> {
      const server = Bun.serve({
        hostname: opts.hostname ?? '127.0.0.1',
        port: opts.port ?? 0,
        // Silence scenarios outlast Bun's 10 s default idle timeout on purpose.
        idleTimeout: 0,
        fetch: (req) => handle(req, true),
        error: (error) => detail(500, `simulator error: ${error.message}`),
      });
      const host = server.hostname?.includes(':') ? `[${server.hostname}]` : server.hostname;
      return {
        url: `http://${host}:${server.port}`,
        stop: async () => {
          await server.stop(true);
        },
      };
    },

    issueAccount: (opts) => state.accounts.issue(opts),
    enqueue: (...scenarios) => void state.queue.push(...scenarios),
    setDefault: (scenario) => void (state.defaultScenario = scenario),
    enqueueFiles: (...scenarios) => void state.filesQueue.push(...scenarios),
    enqueueTranscribe: (...scenarios) => void state.transcribeQueue.push(...scenarios),

    get requests() {
      return state.requests;
    },
    get aborts() {
      return state.aborts;
    },
    get refreshCount() {
      return state.refreshCount;
    },
    get stats() {
      return state.stats;
    },

    approveDevice: (userCode) => state.devices.approve(userCode),

    reset() {
      // Scripting and observations go; accounts, files and device logins are the world and stay.
      state.queue.length = 0;
      state.defaultScenario = null;
      state.filesQueue.length = 0;
      state.transcribeQueue.length = 0;
      state.requests.length = 0;
      state.aborts.length = 0;
      state.refreshCount = 0;
      state.stats.tokenRequests = 0;
      state.stats.responses = 0;
      state.promptCache.clear();
    },
  };
}
