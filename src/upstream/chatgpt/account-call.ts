/**
 * One authenticated call (or a short sequence of calls) to the ChatGPT backend
 * outside the Responses path: the file service and transcription. Same account
 * rules as the Responses adapter: pick a usable account, use a fresh token, on a
 * 401 refresh once and retry, on a usage-limit 429 cool the account down and try
 * the next one; any other error becomes an ApiError via errors.ts.
 *
 * A sequence (create → upload → confirm) stays on one account: the file belongs to it.
 */
import { ApiError } from '../../openai/api-error';
import type { AccountRecord, AccountStore } from '../../store/accounts';
import type { Logger } from '../../log';
import type { AccountPool } from '../pool';
import type { UpstreamCallContext } from '../types';
import type { TokenManager } from './token-manager';
import { RefreshError } from './oauth';
import { chatGptHeaders, headerSafeForward } from './request';
import { errorBodyText, mapUpstreamError, retryAfterHeaders, usageLimitOf } from './errors';
import { clientSafeText } from '../client-safe';

/** The backend's per-request timeout for these routes (protocol §5.1). */
const REQUEST_TIMEOUT_MS = 60_000;

export interface AccountCallDeps {
  baseUrl: string;
  accounts: AccountStore;
  pool: AccountPool;
  tokens: TokenManager;
  logger: Logger;
  fetchImpl?: typeof fetch;
}

export interface SessionRequest {
  method: 'GET' | 'POST';
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** A multipart body; fetch sets the content type with its boundary. */
  form?: FormData;
  headers?: Record<string, string>;
}

/** Thrown inside a session when the account hit its usage limit: the next account gets a go. */
class AccountExhausted extends Error {
  constructor(
    readonly apiError: ApiError,
    readonly resetsAt: number,
  ) {
    super(apiError.message);
  }
}

export function cancelled(): ApiError {
  return new ApiError(499, 'request_cancelled', 'The client closed the request.');
}

export class AccountSession {
  constructor(
    private readonly deps: AccountCallDeps,
    public account: AccountRecord,
    private readonly ctx: UpstreamCallContext,
    private readonly sessionId: string,
  ) {}

  get fetchImpl(): typeof fetch {
    return this.deps.fetchImpl ?? fetch;
  }

  /** Sends one request to `<baseUrl><path>`; answers 2xx or throws an ApiError. */
  async request(path: string, req: SessionRequest): Promise<Response> {
    let response = await this.send(path, req);
    if (response.status === 401) {
      await response.body?.cancel();
      this.account = await this.deps.tokens.afterUnauthorized(this.account.id, this.account.accessToken);
      response = await this.send(path, req);
    }
    if (response.ok) return response;
    const text = await errorBodyText(response);
    const limit = usageLimitOf(response.status, text);
    const error = mapUpstreamError(response.status, text, response.headers);
    if (limit) throw new AccountExhausted(error, limit.resetsAt);
    throw error;
  }

  private async send(path: string, req: SessionRequest): Promise<Response> {
    const headers = chatGptHeaders({
      accessToken: this.account.accessToken,
      chatgptAccountId: this.account.chatgptAccountId,
      sessionId: this.sessionId,
      forward: this.ctx.forwardHeaders,
    });
    headers.accept = 'application/json';
    if (req.form) delete headers['content-type'];
    Object.assign(headers, req.headers);
    try {
      return await this.fetchImpl(`${this.deps.baseUrl}${path}`, {
        method: req.method,
        headers,
        body: req.form ?? (req.json === undefined ? undefined : JSON.stringify(req.json)),
        signal: AbortSignal.any([this.ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
    } catch (error) {
      if (this.ctx.signal.aborted) throw cancelled();
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      this.deps.logger.warn('upstream unreachable', { account_id: this.account.id, path, error: timedOut ? 'timeout' : (error as Error).message });
      throw new ApiError(502, 'upstream_error', timedOut ? 'The upstream did not answer in time; retry shortly.' : 'The upstream could not be reached; retry shortly.', {
        code: timedOut ? 'upstream_timeout' : 'upstream_unreachable',
      });
    }
  }
}

function unusable(error: unknown): ApiError {
  const message = clientSafeText(error instanceof Error ? error.message : String(error));
  return new ApiError(503, 'service_unavailable_error', `No usable ChatGPT account: ${message}`, { code: 'upstream_account_unavailable' });
}

/** Every account was tried or none is usable: say when to come back. */
function noAccountError(pool: AccountPool, lastError: ApiError | null): ApiError {
  const reset = pool.earliestReset();
  if (reset !== null) {
    const headers = retryAfterHeaders((reset - Date.now()) / 1000);
    if (lastError?.status === 429) return new ApiError(429, lastError.type, lastError.message, { code: lastError.code, extra: lastError.extra, headers });
    return new ApiError(429, 'usage_limit_reached', `Every ChatGPT account on this server has reached its usage limit; the first resets at ${new Date(reset).toISOString()}.`, {
      code: 'usage_limit_reached',
      headers,
      extra: { resets_at: Math.ceil(reset / 1000) },
    });
  }
  return (
    lastError ??
    new ApiError(503, 'service_unavailable_error', 'No ChatGPT account is configured on this server; the operator should run "codexin accounts import" or "codexin login".', {
      code: 'no_upstream_account',
    })
  );
}

/** Runs `work` on one account, moving to the next when an account is exhausted or cannot log in. */
export async function withAccount<T>(deps: AccountCallDeps, ctx: UpstreamCallContext, affinityKey: string, work: (session: AccountSession) => Promise<T>): Promise<T> {
  const tried = new Set<string>();
  let lastError: ApiError | null = null;
  const sessionId = crypto.randomUUID();
  ctx = { ...ctx, forwardHeaders: headerSafeForward(ctx.forwardHeaders) };
  for (;;) {
    if (ctx.signal.aborted) throw cancelled();
    const picked = deps.pool.pick(affinityKey, tried);
    if (!picked) throw noAccountError(deps.pool, lastError);
    tried.add(picked.id);
    let account: AccountRecord;
    try {
      account = await deps.tokens.fresh(picked.id);
    } catch (error) {
      lastError = unusable(error);
      continue;
    }
    try {
      return await work(new AccountSession(deps, account, ctx, sessionId));
    } catch (error) {
      if (error instanceof AccountExhausted) {
        deps.pool.coolDown(picked.id, error.resetsAt);
        deps.logger.warn('account usage limit reached', { account_id: picked.id, resets_at: new Date(error.resetsAt).toISOString() });
        lastError = error.apiError;
        continue;
      }
      if (error instanceof RefreshError) {
        lastError = unusable(error);
        continue;
      }
      throw error;
    }
  }
}
