/**
 * The browser login, as Codex CLI does it: a one-shot loopback server receives the
 * auth server's redirect on http://localhost:PORT/auth/callback, checks the state,
 * and trades the code (with the PKCE verifier only this process knows) for tokens.
 */
import { randomBytes } from 'node:crypto';
import type { AccountTokens } from '../store/accounts';
import { browserAuthorizeUrl, createPkce, exchangeAuthorizationCode, LoginError } from '../upstream/chatgpt/oauth';

const LOGIN_TIMEOUT_MS = 15 * 60_000;

export interface BrowserLoginOptions {
  authUrl: string;
  port: number;
  /** Tries to open the sign-in page in the desktop's browser; the URL is printed either way. */
  openBrowser: boolean;
  say: (text: string) => void;
  timeoutMs?: number;
}

function page(status: number, title: string, text: string): Response {
  const html = `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:system-ui;margin:4em"><h1>${title}</h1><p>${text}</p></body>`;
  return new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A desktop to open a browser on: macOS and Windows always, elsewhere an X11 or Wayland display. */
function hasDesktop(): boolean {
  return process.platform === 'darwin' || process.platform === 'win32' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

function tryOpen(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = Bun.spawn([opener, url], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    child.unref();
  } catch {
    // No desktop opener (a server): the printed URL is the way.
  }
}

export async function browserLogin(options: BrowserLoginOptions): Promise<AccountTokens> {
  const pkce = createPkce();
  const state = randomBytes(32).toString('base64url');
  let settle!: { resolve: (tokens: AccountTokens) => void; reject: (error: Error) => void };
  const outcome = new Promise<AccountTokens>((resolve, reject) => (settle = { resolve, reject }));
  let redirectUri = '';

  const callback = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === '/cancel') {
      settle.reject(new LoginError('the login was cancelled'));
      return page(200, 'Login cancelled', 'You can close this tab.');
    }
    if (url.pathname !== '/auth/callback' || request.method !== 'GET') return page(404, 'Not found', 'This server only receives the ChatGPT login redirect.');
    // A redirect without our state is not the answer to our request (a stale tab, or a forgery): ignore it and keep waiting.
    if (url.searchParams.get('state') !== state) return page(400, 'Login failed', 'The login state does not match; start the login again from the terminal.');
    const error = url.searchParams.get('error');
    if (error) {
      const description = url.searchParams.get('error_description');
      settle.reject(new LoginError(`the sign-in was not completed: ${error}${description ? ` (${description})` : ''}`));
      return page(400, 'Login failed', escapeHtml(`${error}${description ? `: ${description}` : ''}`));
    }
    const code = url.searchParams.get('code');
    if (!code) {
      settle.reject(new LoginError('the auth server redirected back without a code'));
      return page(400, 'Login failed', 'No authorization code in the redirect.');
    }
    try {
      settle.resolve(await exchangeAuthorizationCode(options.authUrl, { code, codeVerifier: pkce.verifier, redirectUri }));
      return page(200, 'Logged in to CodexIn', 'CodexIn now holds this ChatGPT login. You can close this tab.');
    } catch (e) {
      settle.reject(e as Error);
      return page(502, 'Login failed', escapeHtml((e as Error).message));
    }
  };

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: '127.0.0.1', port: options.port, fetch: callback });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new LoginError(
      `cannot listen on localhost:${options.port} for the login redirect (${code}): another login (a Codex CLI?) may be waiting there; finish or stop it, or use "codexin login --device-code"`,
    );
  }
  redirectUri = `http://localhost:${server.port}/auth/callback`;
  const authorizeUrl = browserAuthorizeUrl(options.authUrl, { redirectUri, challenge: pkce.challenge, state });
  // On a host without a desktop, xdg-open would start a text browser or nothing: print the URL only.
  const open = options.openBrowser && hasDesktop();
  options.say(
    [
      `Open this URL in a browser on this machine to log in to ChatGPT${open ? ' (trying to open it for you)' : ''}:`,
      '',
      `  ${authorizeUrl}`,
      '',
      `Waiting for the redirect to ${redirectUri} (15 minutes). On a remote host, forward the port`,
      `(ssh -L ${server.port}:localhost:${server.port} host) or use "codexin login --device-code".`,
      '',
    ].join('\n'),
  );
  if (open) tryOpen(authorizeUrl);
  const timer = setTimeout(() => settle.reject(new LoginError('the browser login timed out after 15 minutes; start it again')), options.timeoutMs ?? LOGIN_TIMEOUT_MS);
  try {
    return await outcome;
  } finally {
    clearTimeout(timer);
    // Not forced: the browser still gets its "logged in" page.
    await server.stop();
  }
}
