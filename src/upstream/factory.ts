/**
 * Builds the configured Upstream (chatgpt, openai or the in-process simulator) and
 * its readiness report. The only place that knows which implementation runs.
 */
import { ConfigError, type Config } from '../config';
import type { Logger } from '../log';
import type { AccountStore } from '../store/accounts';
import type { UpstreamReadiness } from '../http/health';
import type { AssetsUpstream, Upstream } from './types';
import { AccountPool } from './pool';
import { TokenManager } from './chatgpt/token-manager';
import { ChatGptUpstream } from './chatgpt/client';
import { OpenAiUpstream } from './openai/client';
import { ChatGptAssets } from './chatgpt/assets';
import { OpenAiAssets } from './openai/assets';
import { createSimulator } from './mock';
import type { Metrics } from '../observe/metrics';

export interface BuiltUpstream {
  upstream: Upstream;
  /** Files and transcription of the same upstream. */
  assets: AssetsUpstream;
  readiness: () => UpstreamReadiness;
  /** Set when the upstream is the simulator: shown to users so nobody mistakes it for a model. */
  simulated: boolean;
  /** The auth server for logins and refreshes: the simulator's own with `--upstream mock`. */
  authUrl: string;
  stop(): Promise<void>;
}

export function accountsReadiness(kind: string, accounts: AccountStore, now = Date.now()): UpstreamReadiness {
  const all = accounts.list();
  const summary = {
    total: all.length,
    active: all.filter((a) => a.status === 'active' && !(a.cooldownUntil && a.cooldownUntil > now)).length,
    needs_login: all.filter((a) => a.status === 'needs_login').length,
    cooling_down: all.filter((a) => a.status === 'active' && a.cooldownUntil !== null && a.cooldownUntil > now).length,
    disabled: all.filter((a) => a.status === 'disabled').length,
  };
  const message =
    summary.total === 0
      ? 'no ChatGPT account: run "codexin accounts import ~/.codex/auth.json" or "codexin login"'
      : summary.active === 0
        ? summary.needs_login > 0
          ? 'every account needs a new login: run "codexin login" or re-import auth.json'
          : 'every account is cooling down or disabled'
        : undefined;
  return { ready: summary.active > 0, kind, accounts: summary, ...(message ? { message } : {}) };
}

export async function buildUpstream(
  config: Config,
  accounts: AccountStore,
  logger: Logger,
  metrics: Metrics,
  env: Record<string, string | undefined> = process.env,
): Promise<BuiltUpstream> {
  if (config.upstream === 'openai') {
    const apiKey = env.OPENAI_API_KEY;
    if (!apiKey) throw new ConfigError('--upstream openai needs OPENAI_API_KEY in the environment');
    return {
      upstream: new OpenAiUpstream(config.upstreamUrl, apiKey, config.upstreamTimeoutMs),
      assets: new OpenAiAssets(config.upstreamUrl, apiKey),
      readiness: () => ({ ready: true, kind: 'openai', accounts: { total: 0, active: 0, needs_login: 0, cooling_down: 0, disabled: 0 } }),
      simulated: false,
      authUrl: config.authUrl,
      stop: async () => {},
    };
  }
  let baseUrl = config.upstreamUrl;
  let authUrl = config.authUrl;
  let stop = async () => {};
  if (config.upstream === 'mock') {
    const simulator = createSimulator();
    const running = await simulator.start({ hostname: '127.0.0.1', port: 0 });
    baseUrl = `${running.url}/backend-api`;
    authUrl = running.url;
    stop = running.stop;
    const issued = simulator.issueAccount({ accountId: 'simulated-account', plan: 'pro', email: 'demo@simulator.invalid' });
    const { parseAuthJson } = await import('./chatgpt/auth-json');
    await accounts.upsert({ ...parseAuthJson(JSON.stringify(issued.authJson)), label: 'simulated account' });
    logger.warn('upstream is the built-in SIMULATOR: replies are canned, not from a model', { url: running.url });
  }
  const pool = new AccountPool(accounts);
  const tokens = new TokenManager(accounts, authUrl, logger);
  return {
    upstream: new ChatGptUpstream({
      baseUrl,
      accounts,
      pool,
      tokens,
      logger,
      headerTimeoutMs: config.upstreamTimeoutMs,
      onUpstreamResponse: (account, status) => metrics.upstream.inc({ account, status: String(status) }),
    }),
    assets: new ChatGptAssets({ baseUrl, accounts, pool, tokens, logger }),
    readiness: () => accountsReadiness(config.upstream, accounts),
    simulated: config.upstream === 'mock',
    authUrl,
    stop,
  };
}
