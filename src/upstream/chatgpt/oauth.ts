/**
 * The ChatGPT OAuth calls CodexIn makes: refresh-token grants and device-code login
 * (research/chatgpt-upstream-protocol.md §4.2, §4.4). Only this module and the
 * client talk to the auth server.
 */
import type { AccountTokens } from '../../store/accounts';
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
    throw new RefreshError(`token refresh failed: auth server unreachable (${(error as Error).message})`, false, null, false);
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

export interface DeviceCode {
  deviceAuthId: string;
  userCode: string;
  intervalMs: number;
  verificationUrl: string;
}

export async function startDeviceLogin(authUrl: string, fetchImpl: typeof fetch = fetch): Promise<DeviceCode> {
  const response = await fetchImpl(`${authUrl}/api/accounts/deviceauth/usercode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: CODEX_CLIENT_ID }),
  });
  if (response.status === 404) throw new Error('device code login is not enabled on this auth server');
  if (!response.ok) throw new Error(`device code request failed with HTTP ${response.status}`);
  const body = (await response.json()) as Record<string, unknown>;
  const userCode = (body.user_code ?? body.usercode) as string | undefined;
  if (typeof body.device_auth_id !== 'string' || typeof userCode !== 'string') throw new Error('the auth server sent no device code');
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
    const response = await fetchImpl(`${authUrl}/api/accounts/deviceauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ device_auth_id: code.deviceAuthId, user_code: code.userCode }),
    });
    if (response.ok) {
      const grant = (await response.json()) as Record<string, unknown>;
      const exchange = await fetchImpl(`${authUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: String(grant.authorization_code ?? ''),
          redirect_uri: `${authUrl}/deviceauth/callback`,
          client_id: CODEX_CLIENT_ID,
          code_verifier: String(grant.code_verifier ?? ''),
        }),
      });
      if (!exchange.ok) throw new Error(`code exchange failed with HTTP ${exchange.status}`);
      const body = (await exchange.json()) as Record<string, unknown>;
      if (typeof body.refresh_token !== 'string' || typeof body.id_token !== 'string') throw new Error('the auth server sent incomplete tokens');
      return tokensFrom(body, { refreshToken: body.refresh_token, idToken: body.id_token });
    }
    if (response.status !== 403 && response.status !== 404) throw new Error(`device login failed with HTTP ${response.status}`);
    await Bun.sleep(code.intervalMs);
  }
  throw new Error('device login timed out: the code was not approved in time');
}
