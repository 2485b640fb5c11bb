/**
 * The simulated auth server (auth.openai.com): refresh-token rotation with reuse
 * detection (§4.2), the browser login's authorize redirect (§4.3; the simulated
 * user signs in at once) and the device-code login (§4.4).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CODEX_CLIENT_ID, type TokenSet } from './accounts';
import { formOrJson, json, type Ctx } from './http';
import { alnum } from './ids';
import type { SimState } from './state';

interface DeviceAuth {
  deviceAuthId: string;
  userCode: string;
  approved: boolean;
  authorizationCode: string;
  codeVerifier: string;
  codeChallenge: string;
}

interface BrowserGrant {
  codeChallenge: string;
  redirectUri: string;
}

/** Pending logins of both kinds: device codes, and authorization codes the browser login issued. */
export class DeviceStore {
  private readonly byId = new Map<string, DeviceAuth>();
  /** authorization_code → its PKCE verifier; deleted on first exchange. */
  private readonly codes = new Map<string, string>();
  /** authorization_code of a browser login → what the exchange must prove; deleted on first exchange. */
  private readonly browserCodes = new Map<string, BrowserGrant>();

  create(): DeviceAuth {
    const codeVerifier = randomBytes(64).toString('base64url');
    const auth: DeviceAuth = {
      deviceAuthId: `deviceauth_${randomUUID()}`,
      userCode: `${alnum(4)}-${alnum(5)}`.toUpperCase(),
      approved: false,
      authorizationCode: `ac_${randomBytes(24).toString('base64url')}`,
      codeVerifier,
      codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    };
    this.byId.set(auth.deviceAuthId, auth);
    return auth;
  }

  get(deviceAuthId: string): DeviceAuth | undefined {
    return this.byId.get(deviceAuthId);
  }

  approve(userCode: string): void {
    const wanted = userCode.trim().toUpperCase();
    const auth = [...this.byId.values()].find((a) => a.userCode === wanted);
    if (!auth) throw new Error(`no pending device login with user code ${userCode}`);
    auth.approved = true;
    this.codes.set(auth.authorizationCode, auth.codeVerifier);
  }

  issueBrowserCode(grant: BrowserGrant): string {
    const code = `ac_${randomBytes(24).toString('base64url')}`;
    this.browserCodes.set(code, grant);
    return code;
  }

  /** A browser code is redeemed with the verifier of its challenge and the redirect it was issued for; single use. */
  redeemBrowserCode(code: string, verifier: string, redirectUri: string): boolean | null {
    const grant = this.browserCodes.get(code);
    if (!grant) return null;
    this.browserCodes.delete(code);
    return grant.redirectUri === redirectUri && createHash('sha256').update(verifier).digest('base64url') === grant.codeChallenge;
  }

  /** Single use: a second exchange of the same code fails, as OAuth requires. */
  redeem(code: string, verifier: string): boolean {
    const expected = this.codes.get(code);
    if (expected === undefined || expected !== verifier) return false;
    this.codes.delete(code);
    return true;
  }
}

function tokenBody(tokens: TokenSet): Record<string, unknown> {
  return {
    id_token: tokens.idToken,
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    expires_in: tokens.expiresIn,
    token_type: 'Bearer',
    scope: 'openid profile email offline_access',
  };
}

const REFRESH_ERRORS = {
  refresh_token_reused: 'Your refresh token has already been used to generate a new access token. Please try signing in again.',
  refresh_token_invalidated: 'Your refresh token has been invalidated. Please try signing in again.',
} as const;

const oauthError = (status: number, error: string, description: string): Response => json({ error, error_description: description }, status);

export function oauthToken(state: SimState, ctx: Ctx): Response {
  state.stats.tokenRequests += 1;
  const form = formOrJson(ctx);
  if (form.client_id !== CODEX_CLIENT_ID) return oauthError(401, 'invalid_client', 'Unknown or missing client_id.');

  if (form.grant_type === 'refresh_token') {
    if (!form.refresh_token) return oauthError(400, 'invalid_request', 'Missing refresh_token.');
    const result = state.accounts.rotate(form.refresh_token);
    if (!result.ok) return json({ error: { code: result.code, message: REFRESH_ERRORS[result.code] } }, 401);
    state.refreshCount += 1;
    return json(tokenBody(result.tokens));
  }

  if (form.grant_type === 'authorization_code') {
    const browser = form.code && form.code_verifier && form.redirect_uri ? state.devices.redeemBrowserCode(form.code, form.code_verifier, form.redirect_uri) : null;
    if (browser === false) return oauthError(400, 'invalid_grant', 'Invalid authorization code, code_verifier or redirect_uri.');
    if (browser === true) return json(tokenBody(state.accounts.register({}).tokens));
    if (form.redirect_uri !== `${ctx.origin}/deviceauth/callback`) return oauthError(400, 'invalid_grant', 'redirect_uri does not match.');
    if (!form.code || !form.code_verifier || !state.devices.redeem(form.code, form.code_verifier)) {
      return oauthError(400, 'invalid_grant', 'Invalid authorization code or code_verifier.');
    }
    return json(tokenBody(state.accounts.register({}).tokens));
  }

  return oauthError(400, 'unsupported_grant_type', `Unsupported grant_type: ${form.grant_type ?? '(none)'}.`);
}

export function deviceUserCode(state: SimState, ctx: Ctx): Response {
  const form = formOrJson(ctx);
  if (form.client_id !== CODEX_CLIENT_ID) return oauthError(401, 'invalid_client', 'Unknown or missing client_id.');
  const auth = state.devices.create();
  // The interval is a string upstream; "1" keeps polling tests fast.
  return json({ device_auth_id: auth.deviceAuthId, user_code: auth.userCode, interval: '1' });
}

export function deviceToken(state: SimState, ctx: Ctx): Response {
  const form = formOrJson(ctx);
  const auth = form.device_auth_id ? state.devices.get(form.device_auth_id) : undefined;
  if (!auth || auth.userCode !== (form.user_code ?? '').toUpperCase()) {
    return json({ error: 'invalid_request', error_description: 'Unknown device_auth_id or user_code.' }, 400);
  }
  if (!auth.approved) return json({ error: 'authorization_pending' }, 403);
  return json({ authorization_code: auth.authorizationCode, code_challenge: auth.codeChallenge, code_verifier: auth.codeVerifier });
}

/**
 * GET /oauth/authorize: checks the request as auth.openai.com does, then redirects
 * back with a code as if the user had signed in. The real server accepts only
 * http://localhost:1455/auth/callback for the Codex client id; the simulator takes
 * any localhost port so tests can use a free one.
 */
export function oauthAuthorize(state: SimState, ctx: Ctx): Response {
  const q = Object.fromEntries(ctx.url.searchParams);
  if (q.client_id !== CODEX_CLIENT_ID) return oauthError(400, 'invalid_client', 'Unknown or missing client_id.');
  let redirect: URL;
  try {
    redirect = new URL(q.redirect_uri ?? '');
  } catch {
    return oauthError(400, 'invalid_request', 'redirect_uri is missing or not a URL.');
  }
  if (redirect.protocol !== 'http:' || redirect.hostname !== 'localhost' || redirect.pathname !== '/auth/callback' || redirect.search) {
    return oauthError(400, 'invalid_request', 'redirect_uri is not registered for this client.');
  }
  const back = (params: Record<string, string>) => {
    const target = new URL(redirect);
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    return new Response(null, { status: 302, headers: { location: target.toString() } });
  };
  if (q.response_type !== 'code') return back({ error: 'unsupported_response_type', error_description: 'response_type must be code.', ...(q.state ? { state: q.state } : {}) });
  if (!q.code_challenge || q.code_challenge_method !== 'S256') return back({ error: 'invalid_request', error_description: 'PKCE with S256 is required.', ...(q.state ? { state: q.state } : {}) });
  if (!(q.scope ?? '').split(' ').includes('offline_access')) return back({ error: 'invalid_scope', error_description: 'offline_access is required for a refresh token.', ...(q.state ? { state: q.state } : {}) });
  const code = state.devices.issueBrowserCode({ codeChallenge: q.code_challenge, redirectUri: q.redirect_uri! });
  return back({ code, scope: q.scope!, ...(q.state ? { state: q.state } : {}) });
}

/**
 * The verification page a device login points the operator at (`<auth>/codex/device`).
 * The real one is ChatGPT's sign-in; the simulator's approves the code typed into it, so
 * "Add account" can be tried end to end with `--upstream mock`.
 */
export function devicePage(_state: SimState, _ctx: Ctx): Response {
  return html(
    `<h1>CodexIn simulator: device login</h1>
<p>This is the built-in simulator, not ChatGPT. Enter the code CodexIn showed you to approve the login.</p>
<form method="post"><label>Code <input name="user_code" autocomplete="off" required autofocus></label> <button type="submit">Approve</button></form>`,
  );
}

export function deviceApprove(state: SimState, ctx: Ctx): Response {
  const code = (formOrJson(ctx).user_code ?? '').trim().toUpperCase();
  try {
    state.devices.approve(code);
  } catch {
    return html(`<h1>Unknown code</h1><p>No login is waiting for that code. <a href="">Try again</a>.</p>`, 400);
  }
  return html(`<h1>Approved</h1><p>The login is approved: go back to CodexIn, the new account appears within a few seconds.</p>`);
}

function html(body: string, status = 200): Response {
  return new Response(`<!doctype html><meta charset="utf-8"><title>Simulator device login</title>${body}`, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8' },
  });
}
