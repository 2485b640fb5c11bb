/**
 * The ChatGPT OAuth calls CodexIn makes: refresh-token grants, the browser login
 * (authorization code + PKCE, as Codex CLI does) and device-code login
 * (research/chatgpt-upstream-protocol.md §4.2-§4.4). Only this module and the
 * client talk to the auth server.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AccountTokens } from '../../store/accounts';
import { proxyFor } from '../proxy-env';
import { chatGptClaims } from './jwt';

export const CODEX_CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';

/** Why a refresh failed: `permanent` means the user has to log in again. */
export class RefreshError extends Error {
  override name = 'RefreshError';
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly code: string | null,
    /** False when no answer came back: the auth server may have rotated the token anyway. */
    readonly answered = true,
  ) {
    super(message);
  }
}

const PERMANENT_CODES = new Set(['refresh_token_expired', 'refresh_token_reused', 'refresh_token_invalidated', 'invalid_grant']);

function errorCode(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  if (typeof b.error === 'string') return b.error;
  if (b.error && typeof b.error === 'object' && typeof (b.error as Record<string, unknown>).code === 'string') {
    return (b.error as Record<string, string>).code!;
  }
  return typeof b.code === 'string' ? b.code : null;
}

function tokensFrom(body: Record<string, unknown>, previous: Pick<AccountTokens, 'refreshToken' | 'idToken'>): AccountTokens {
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || !accessToken) throw new RefreshError('the auth server answered without an access_token', false, null);
  const exp = chatGptClaims(accessToken).exp;
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : null;
  return {
    accessToken,
    refreshToken: typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : previous.refreshToken,
    idToken: typeof body.id_token === 'string' && body.id_token ? body.id_token : previous.idToken,
    accessExpiresAt: exp !== null ? exp * 1000 : expiresIn !== null ? Date.now() + expiresIn * 1000 : null,
  };
}

export async function refreshTokens(
  authUrl: string,
  current: Pick<AccountTokens, 'refreshToken' | 'idToken'>,
  fetchImpl: typeof fetch = fetch,
): Promise<AccountTokens> {
  let response: Response;
  try {
    response = await fetchImpl(`${authUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ client_id: CODEX_CLIENT_ID, grant_type: 'refresh_token', refresh_token: current.refreshToken }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new RefreshError(`token refresh failed, will retry: ${unreachableMessage(authUrl, error)}`, false, null, false);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new RefreshError(`token refresh failed: the auth server's answer was cut off (${(error as Error).message})`, false, null, false);
  }
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Non-JSON answers (an HTML error page) fall through to the status checks.
  }
  if (response.ok && body && typeof body === 'object') return tokensFrom(body as Record<string, unknown>, current);
  const code = errorCode(body);
  if (response.status === 401 || response.status === 400 || (code !== null && PERMANENT_CODES.has(code))) {
    const why =
      code === 'refresh_token_reused'
        ? 'the refresh token was already used (another program, e.g. a running Codex CLI, shares this login)'
        : code === 'refresh_token_expired'
          ? 'the refresh token expired'
          : code === 'refresh_token_invalidated'
            ? 'the refresh token was revoked'
            : `the auth server rejected the refresh token (HTTP ${response.status}${code ? `, ${code}` : ''})`;
    return Promise.reject(new RefreshError(`${why}; log in again with "codexin login" or re-import a fresh auth.json`, true, code));
  }
  throw new RefreshError(`token refresh failed with HTTP ${response.status}; will retry`, false, code);
}

/** A login that cannot go on; the message says what failed and what to check. */
export class LoginError extends Error {
  override name = 'LoginError';
}

/** Why the auth server could not be reached, and what to check, in one sentence. */
export function unreachableMessage(authUrl: string, error: unknown): string {
  const e = error as Error & { code?: string };
  const cause = e?.code && !String(e.message).includes(e.code) ? `${e.code}: ${e.message}` : String(e?.message ?? error);
  const proxy = proxyFor(authUrl);
  return [
    `cannot reach the ChatGPT auth server ${authUrl} (${cause}).`,
    'Check the network connection and DNS,',
    proxy ? `the proxy ${proxy} (from HTTPS_PROXY/HTTP_PROXY),` : 'whether this host needs a proxy (set HTTPS_PROXY=http://proxy:port),',
    'and --auth-url.',
  ].join(' ');
}

async function authServerFetch(authUrl: string, path: string, init: RequestInit, fetchImpl: typeof fetch): Promise<Response> {
  try {
    return await fetchImpl(`${authUrl}${path}`, { signal: AbortSignal.timeout(30_000), ...init });
  } catch (error) {
    throw new LoginError(unreachableMessage(authUrl, error));
  }
}

async function tokensFromExchange(exchange: Response): Promise<AccountTokens> {
  const text = await exchange.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // An HTML error page: the status says enough.
  }
  if (!exchange.ok) {
    const code = errorCode(body);
    const description = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
    throw new LoginError(`the auth server refused the login code (HTTP ${exchange.status}${code ? `, ${code}` : ''}${description}); start the login again`);
  }
  if (typeof body.refresh_token !== 'string' || typeof body.id_token !== 'string' || typeof body.access_token !== 'string') {
    throw new LoginError('the auth server sent incomplete tokens (no access, refresh or id token)');
  }
  return tokensFrom(body, { refreshToken: body.refresh_token, idToken: body.id_token });
}

/** Exchanges an authorization code (browser or device login) for the account's tokens. */
export async function exchangeAuthorizationCode(
  authUrl: string,
  grant: { code: string; codeVerifier: string; redirectUri: string },
  fetchImpl: typeof fetch = fetch,
): Promise<AccountTokens> {
  const exchange = await authServerFetch(
    authUrl,
    '/oauth/token',
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: grant.code, redirect_uri: grant.redirectUri, client_id: CODEX_CLIENT_ID, code_verifier: grant.codeVerifier }),
    },
    fetchImpl,
  );
  return tokensFromExchange(exchange);
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** The PKCE pair of one login: 64 random bytes as the verifier, its SHA-256 as the S256 challenge. */
export function createPkce(): Pkce {
  const verifier = randomBytes(64).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The loopback redirect registered for the Codex client id: only port 1455 is accepted by auth.openai.com. */
export const BROWSER_LOGIN_PORT = 1455;

/** The sign-in page URL with the parameters Codex CLI sends (§4.3). */
export function browserAuthorizeUrl(authUrl: string, login: { redirectUri: string; challenge: string; state: string }): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: CODEX_CLIENT_ID,
    redirect_uri: login.redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: login.challenge,
    code_challenge_method: 'S256',
    id_token_add_organizations: 'true',
    codex_cli_simplified_flow: 'true',
    state: login.state,
    originator: 'codex_cli_rs',
  });
  // URLSearchParams writes spaces as "+"; the auth server expects %20 like Codex sends.
  return `${authUrl}/oauth/authorize?${query.toString().replace(/\+/g, '%20')}`;
}

export interface DeviceCode {
  deviceAuthId: string;
  userCode: string;
  intervalMs: number;
  verificationUrl: string;
}

const DEVICE_LOGIN_HINT = 'enable "Device code login" in ChatGPT → Settings → Security, or log in in a browser with "codexin login"';

export async function startDeviceLogin(authUrl: string, fetchImpl: typeof fetch = fetch): Promise<DeviceCode> {
  const response = await authServerFetch(
    authUrl,
    '/api/accounts/deviceauth/usercode',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: CODEX_CLIENT_ID }) },
    fetchImpl,
  );
  if (response.status === 404) throw new LoginError(`device code login is not enabled (HTTP 404 from ${authUrl}): ${DEVICE_LOGIN_HINT}`);
  if (!response.ok) throw new LoginError(`the auth server refused a device code (HTTP ${response.status}): ${DEVICE_LOGIN_HINT}`);
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const userCode = (body.user_code ?? body.usercode) as string | undefined;
  if (typeof body.device_auth_id !== 'string' || typeof userCode !== 'string') throw new LoginError(`the auth server sent no device code: ${DEVICE_LOGIN_HINT}`);
  // The interval arrives as a string ("5").
  const interval = Number(body.interval ?? 5);
  return { deviceAuthId: body.device_auth_id, userCode, intervalMs: (Number.isFinite(interval) && interval > 0 ? interval : 5) * 1000, verificationUrl: `${authUrl}/codex/device` };
}

/** Polls until the user approves the code, then exchanges it for tokens. */
export async function completeDeviceLogin(
  authUrl: string,
  code: DeviceCode,
  opts: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
): Promise<AccountTokens> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
  while (Date.now() < deadline) {
    const response = await authServerFetch(
      authUrl,
      '/api/accounts/deviceauth/token',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device_auth_id: code.deviceAuthId, user_code: code.userCode }) },
      fetchImpl,
    );
    if (response.ok) {
      const grant = (await response.json()) as Record<string, unknown>;
      return exchangeAuthorizationCode(
        authUrl,
        { code: String(grant.authorization_code ?? ''), codeVerifier: String(grant.code_verifier ?? ''), redirectUri: `${authUrl}/deviceauth/callback` },
        fetchImpl,
      );
    }
    if (response.status !== 403 && response.status !== 404) throw new LoginError(`device login failed with HTTP ${response.status}; start it again`);
    await response.body?.cancel();
    await Bun.sleep(code.intervalMs);
  }
  throw new LoginError('device login timed out: the code was not approved within 15 minutes; start it again');
}
