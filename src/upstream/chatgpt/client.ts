/**
 * The ChatGPT Codex backend as an Upstream. One request may try several accounts,
 * but only before the first byte reaches the client: an exhausted account (429
 * usage_limit_reached) cools down until its reset and the next one is tried; a 401
 * refreshes the token once; a 5xx or network failure is retried with backoff.
 */
import { ApiError } from '../../openai/api-error';
import type { ResponseItem, ResponsesRequest, JsonObject } from '../../openai/responses-types';
import type { CompactResult, Upstream, UpstreamCallContext, UpstreamModel, UpstreamStream } from '../types';
import { COMPACT_REQUEST_FIELDS, compactIgnoredParams } from '../../translate/compaction';
import type { AccountRecord, AccountStore } from '../../store/accounts';
import type { Logger } from '../../log';
import type { AccountPool } from '../pool';
import type { TokenManager } from './token-manager';
import { RefreshError } from './oauth';
import { chatGptHeaders, headerSafeForward, toChatGptRequest, toHeaderValue, CODEX_CLIENT_VERSION } from './request';
import { errorBodyText, mapUpstreamError, retryAfterHeaders, usageLimitOf } from './errors';
import { clientSafeText } from '../client-safe';
import { fetchWithHeaderDeadline, UpstreamTimeout } from '../header-deadline';

const DEFAULT_HEADER_TIMEOUT_MS = 120_000;

const MAX_TRANSIENT_RETRIES = 2;
const BACKOFF_MS = 250;
/** Response headers the client may see; the x-codex-* quota headers are the operator's business. */
const CLIENT_HEADERS = ['x-codex-turn-state', 'openai-model', 'x-reasoning-included'];

export interface ChatGptUpstreamDeps {
  baseUrl: string;
  accounts: AccountStore;
  pool: AccountPool;
  tokens: TokenManager;
  logger: Logger;
  /** How long to wait for the upstream's response headers before giving up (default 120 s). */
  headerTimeoutMs?: number;
  /** Told about every upstream HTTP answer, for per-account status metrics. */
  onUpstreamResponse?: (accountId: string, status: number) => void;
  fetchImpl?: typeof fetch;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function quotaHeaders(headers: Headers): Record<string, string> | null {
  const quota: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith('x-codex-')) quota[name] = value;
  });
  return Object.keys(quota).length ? quota : null;
}

export class ChatGptUpstream implements Upstream {
  readonly kind = 'chatgpt' as const;
  private readonly fetchImpl: typeof fetch;
  private readonly savedQuota = new Map<string, { usage: string; at: number }>();

  constructor(private readonly deps: ChatGptUpstreamDeps) {
    this.fetchImpl = deps.fetchImpl ?? fetch;
  }

  async createResponse(request: ResponsesRequest, ctx: UpstreamCallContext): Promise<UpstreamStream> {
    const { body, promptCacheKey, dropped } = toChatGptRequest(request, ctx.keyId);
    const { response, account } = await this.send('/codex/responses', body, ctx, promptCacheKey);
    if (!response.body) throw new ApiError(502, 'upstream_error', 'The upstream answered with an empty body.', { code: 'upstream_error' });
    // Parameters the backend would reject are dropped on purpose: say so.
    const headers: Record<string, string> = dropped.length ? { 'x-codexin-ignored-params': dropped.join(', ') } : {};
    for (const name of CLIENT_HEADERS) {
      const v = response.headers.get(name);
      if (v) headers[name] = v;
    }
    return { body: response.body, headers, accountId: account.id };
  }

  async compact(request: ResponsesRequest, ctx: UpstreamCallContext): Promise<CompactResult> {
    const { body, promptCacheKey } = toChatGptRequest(request, ctx.keyId);
    // The compact route is unary JSON: it takes no stream/store/include fields.
    const compactBody: JsonObject = {};
    for (const name of COMPACT_REQUEST_FIELDS) {
      if (body[name] !== undefined) compactBody[name] = body[name];
    }
    const { response } = await this.send('/codex/responses/compact', compactBody, ctx, promptCacheKey, 'application/json');
    const parsed = (await response.json().catch(() => null)) as { output?: unknown } | null;
    if (!parsed || !Array.isArray(parsed.output)) throw new ApiError(502, 'upstream_error', 'The upstream sent an unreadable compaction result.', { code: 'upstream_error' });
    return { ...(parsed as { output: ResponseItem[] }), ignoredParams: compactIgnoredParams(request) };
  }

  async listModels(): Promise<UpstreamModel[]> {
    const account = this.deps.pool.usable()[0];
    if (!account) throw this.noAccountError(null);
    const fresh = await this.deps.tokens.fresh(account.id);
    const response = await this.fetchImpl(`${this.deps.baseUrl}/codex/models?client_version=${CODEX_CLIENT_VERSION}`, {
      headers: chatGptHeaders({ accessToken: fresh.accessToken, chatgptAccountId: fresh.chatgptAccountId, sessionId: crypto.randomUUID() }),
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok) throw mapUpstreamError(response.status, await errorBodyText(response), response.headers);
    const body = (await response.json()) as { models?: Record<string, unknown>[] };
    return (body.models ?? [])
      .filter((m) => typeof m.slug === 'string')
      .map((m) => ({
        slug: m.slug as string,
        displayName: typeof m.display_name === 'string' ? m.display_name : (m.slug as string),
        // The catalog's context_window is a strict INTEGER column: 1e308 or 1.5 from the upstream would fail the merge.
        contextWindow: Number.isSafeInteger(m.context_window) && (m.context_window as number) > 0 && (m.context_window as number) <= 100_000_000 ? (m.context_window as number) : 272000,
        defaultReasoningEffort: typeof m.default_reasoning_level === 'string' ? m.default_reasoning_level : null,
        listed: m.visibility === undefined || m.visibility === 'list',
      }));
  }

  private async send(
    path: string,
    body: JsonObject,
    ctx: UpstreamCallContext,
    affinityKey: string,
    accept = 'text/event-stream',
  ): Promise<{ response: Response; account: AccountRecord }> {
    const tried = new Set<string>();
    let transientFailures = 0;
    let lastError: ApiError | null = null;
    const payload = JSON.stringify(body);
    // Client-sourced header values are checked once, before any attempt (a bad one is the client's 400).
    ctx = { ...ctx, forwardHeaders: headerSafeForward(ctx.forwardHeaders) };
    const sessionId = toHeaderValue(affinityKey, 'prompt_cache_key');
    for (;;) {
      if (ctx.signal.aborted) throw new ApiError(499, 'request_cancelled', 'The client closed the request.');
      const picked = this.deps.pool.pick(affinityKey, tried);
      if (!picked) throw this.noAccountError(lastError);
      let account: AccountRecord;
      try {
        account = await this.deps.tokens.fresh(picked.id);
      } catch (error) {
        tried.add(picked.id);
        lastError = this.refreshFailure(error);
        continue;
      }
      let response: Response;
      try {
        response = await this.post(path, payload, account, ctx, sessionId, accept);
        if (response.status === 401) {
          await response.body?.cancel();
          account = await this.deps.tokens.afterUnauthorized(account.id, account.accessToken);
          response = await this.post(path, payload, account, ctx, sessionId, accept);
        }
      } catch (error) {
        if (ctx.signal.aborted) throw new ApiError(499, 'request_cancelled', 'The client closed the request.');
        if (error instanceof UpstreamTimeout) {
          this.deps.logger.warn('upstream timed out', { account_id: account.id, after_ms: error.afterMs });
          throw new ApiError(504, 'upstream_error', `The upstream did not answer within ${Math.round(error.afterMs / 1000)} s; retry shortly.`, { code: 'upstream_timeout' });
        }
        if (error instanceof RefreshError) {
          tried.add(account.id);
          lastError = this.refreshFailure(error);
          continue;
        }
        if (transientFailures++ < MAX_TRANSIENT_RETRIES) {
          await Bun.sleep(BACKOFF_MS * transientFailures);
          continue;
        }
        this.deps.logger.warn('upstream unreachable', { account_id: account.id, error: isAbort(error) ? 'timeout' : (error as Error).message });
        throw new ApiError(502, 'upstream_error', 'The upstream could not be reached; retry shortly.', { code: 'upstream_unreachable' });
      }
      this.deps.onUpstreamResponse?.(account.id, response.status);
      const quota = quotaHeaders(response.headers);
      if (quota) this.rememberQuota(account.id, quota);
      if (response.ok) return { response, account };

      const text = await errorBodyText(response);
      const limit = usageLimitOf(response.status, text);
      if (limit) {
        this.deps.pool.coolDown(account.id, limit.resetsAt);
        this.deps.logger.warn('account usage limit reached', { account_id: account.id, resets_at: new Date(limit.resetsAt).toISOString() });
        tried.add(account.id);
        lastError = mapUpstreamError(response.status, text, response.headers);
        continue;
      }
      if (response.status >= 500 && transientFailures++ < MAX_TRANSIENT_RETRIES) {
        await Bun.sleep(BACKOFF_MS * transientFailures);
        continue;
      }
      throw mapUpstreamError(response.status, text, response.headers);
    }
  }

  /** Writes an account's quota snapshot only when a usage figure moved, or every 30 s: not once per request. */
  private rememberQuota(accountId: string, quota: Record<string, string>): void {
    const usage = Object.entries(quota)
      .filter(([name]) => name.endsWith('used-percent') || name.includes('credits'))
      .sort()
      .join('|');
    const last = this.savedQuota.get(accountId);
    const now = Date.now();
    if (last && last.usage === usage && now - last.at < 30_000) return;
    this.savedQuota.set(accountId, { usage, at: now });
    // A snapshot for the operator, written behind: a database that cannot be written must not fail the call.
    void Promise.resolve()
      .then(() => this.deps.accounts.saveQuota(accountId, quota))
      .catch(() => this.savedQuota.delete(accountId));
  }

  private post(path: string, payload: string, account: AccountRecord, ctx: UpstreamCallContext, sessionId: string, accept: string): Promise<Response> {
    const headers = chatGptHeaders({
      accessToken: account.accessToken,
      chatgptAccountId: account.chatgptAccountId,
      sessionId: ctx.forwardHeaders?.['session_id'] ?? sessionId,
      forward: ctx.forwardHeaders,
    });
    headers.accept = accept;
    return fetchWithHeaderDeadline(this.fetchImpl, `${this.deps.baseUrl}${path}`, { method: 'POST', headers, body: payload }, ctx.signal, this.deps.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS);
  }

  private refreshFailure(error: unknown): ApiError {
    const message = clientSafeText(error instanceof Error ? error.message : String(error));
    return new ApiError(503, 'service_unavailable_error', `No usable ChatGPT account: ${message}`, { code: 'upstream_account_unavailable' });
  }

  /** Every account was tried or none is usable: say when to come back. */
  private noAccountError(lastError: ApiError | null): ApiError {
    const reset = this.deps.pool.earliestReset();
    if (reset !== null) {
      const seconds = (reset - Date.now()) / 1000;
      if (lastError?.status === 429) return new ApiError(429, lastError.type, lastError.message, { code: lastError.code, extra: lastError.extra, headers: retryAfterHeaders(seconds) });
      return new ApiError(429, 'usage_limit_reached', `Every ChatGPT account on this server has reached its usage limit; the first resets at ${new Date(reset).toISOString()}.`, {
        code: 'usage_limit_reached',
        headers: retryAfterHeaders(seconds),
        extra: { resets_at: Math.ceil(reset / 1000) },
      });
    }
    if (lastError) return lastError;
    return new ApiError(503, 'service_unavailable_error', 'No ChatGPT account is configured on this server; the operator should run "codexin accounts import" or "codexin login".', {
      code: 'no_upstream_account',
    });
  }
}
