/**
 * `codexin login` against the simulator's auth server, as the compiled binary: the
 * browser login (authorization code + PKCE, loopback redirect; a plain HTTP client
 * follows the authorize redirect in place of the browser), the device code, and the
 * messages a user gets when the auth server cannot be reached or refuses.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createServer, type Server } from 'node:net';
import { browserAuthorizeUrl, CODEX_CLIENT_ID, createPkce, exchangeAuthorizationCode } from '../../src/upstream/chatgpt/oauth';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import { binaryCommand, childEnv, makeTempDir, runCli } from '../support/binary';

let sim: Simulator;
let simUrl: string;
let stopSim: () => Promise<void>;

beforeAll(async () => {
  sim = createSimulator({ plan: 'pro' });
  const running = await sim.start();
  simUrl = running.url;
  stopSim = running.stop;
});
afterAll(() => stopSim());

/** Reads a child's stderr until `pattern` matches; `rest()` reads the remainder to the end. */
async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let match: RegExpExecArray | null = null;
  const deadline = Date.now() + 10_000;
  while (!match && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    match = pattern.exec(text);
  }
  if (!match) throw new Error(`${pattern} never appeared in:\n${text}`);
  const rest = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  };
  return { match, rest };
}

const SIGN_IN_URL = /^\s+(http\S+\/oauth\/authorize\?\S+)\s*$/m;

/** Starts `codexin login` (browser, no desktop opener) and waits for the sign-in URL it prints. */
async function startBrowserLogin(dir: string, authUrl = simUrl) {
  const child = Bun.spawn({
    cmd: [...binaryCommand(), 'login', '--no-browser', '--callback-port', '0', '--auth-url', authUrl, '--data-dir', dir, '--json'],
    env: childEnv(),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const { match, rest } = await readUntil(child.stderr, SIGN_IN_URL);
  return { child, url: new URL(match[1]!), stderr: rest };
}

/** What the browser does: follow the auth server's redirect back to the loopback callback. */
async function authorize(url: URL): Promise<URL> {
  const answer = await fetch(url, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location')!);
}

describe('browser login (authorization code + PKCE, as Codex CLI does)', () => {
  test('prints a sign-in URL with Codex parameters, receives the redirect on localhost, and stores the account', async () => {
    const dir = makeTempDir('login-browser');
    const { child, url } = await startBrowserLogin(dir);
    const q = url.searchParams;
    expect(url.origin + url.pathname).toBe(`${simUrl}/oauth/authorize`);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(CODEX_CLIENT_ID);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'email', 'offline_access']));
    expect(q.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/auth\/callback$/);

    const callback = await authorize(url);
    expect(callback.origin + callback.pathname).toBe(q.get('redirect_uri')!);
    expect(callback.searchParams.get('state')).toBe(q.get('state'));
    const page = await fetch(callback);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Logged in');

    expect(await child.exited).toBe(0);
    const result = JSON.parse(await new Response(child.stdout).text()) as { created: boolean; plan: string; chatgpt_account_id: string };
    expect(result).toMatchObject({ created: true, plan: 'pro' });
    const list = JSON.parse((await runCli(['accounts', 'list', '--data-dir', dir, '--json'])).stdout) as { chatgpt_account_id: string; status: string }[];
    expect(list).toEqual([expect.objectContaining({ chatgpt_account_id: result.chatgpt_account_id, status: 'active' })]);
  });

  test('ignores a redirect carrying another state, then completes on the real one', async () => {
    const dir = makeTempDir('login-state');
    const { child, url } = await startBrowserLogin(dir);
    const callback = await authorize(url);
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-state');
    expect((await fetch(forged)).status).toBe(400);
    expect((await fetch(callback)).status).toBe(200);
    expect(await child.exited).toBe(0);
  });

  test('the code exchange proves PKCE: the wrong verifier fails, the right one works once', async () => {
    const pkce = createPkce();
    const redirectUri = 'http://localhost:1455/auth/callback';
    const codeFor = async () => (await authorize(new URL(browserAuthorizeUrl(simUrl, { redirectUri, challenge: pkce.challenge, state: 's' })))).searchParams.get('code')!;
    const wrong = createPkce().verifier;
    await expect(exchangeAuthorizationCode(simUrl, { code: await codeFor(), codeVerifier: wrong, redirectUri })).rejects.toThrow('the auth server refused the login code (HTTP 400, invalid_grant');
    const code = await codeFor();
    const tokens = await exchangeAuthorizationCode(simUrl, { code, codeVerifier: pkce.verifier, redirectUri });
    expect(tokens.refreshToken.length).toBeGreaterThan(10);
    await expect(exchangeAuthorizationCode(simUrl, { code, codeVerifier: pkce.verifier, redirectUri })).rejects.toThrow('HTTP 400');
    // The redirect must be the one the code was issued for.
    await expect(exchangeAuthorizationCode(simUrl, { code: await codeFor(), codeVerifier: pkce.verifier, redirectUri: 'http://localhost:1456/auth/callback' })).rejects.toThrow('HTTP 400');
  });

  test('a sign-in the auth server refuses ends the login with its reason and exit 1', async () => {
    const dir = makeTempDir('login-denied');
    const { child, url, stderr: rest } = await startBrowserLogin(dir);
    const callback = await authorize(url);
    const denied = new URL(callback.origin + callback.pathname);
    denied.searchParams.set('state', callback.searchParams.get('state')!);
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('error_description', 'The user cancelled');
    expect((await fetch(denied)).status).toBe(400);
    expect(await child.exited).toBe(1);
    const stderr = await rest();
    expect(stderr).toContain('codexin: the sign-in was not completed: access_denied (The user cancelled)');
    expect(JSON.parse((await runCli(['accounts', 'list', '--data-dir', dir, '--json'])).stdout)).toEqual([]);
  });

  test('a busy callback port is a clear error that points at the device code', async () => {
    const holder: Server = createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)));
    try {
      const result = await runCli(['login', '--no-browser', '--callback-port', String(port), '--auth-url', simUrl, '--data-dir', makeTempDir('login-busy')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot listen on localhost:${port} for the login redirect`);
      expect(result.stderr).toContain('--device-code');
    } finally {
      holder.close();
    }
  });
});

describe('device code login', () => {
  test('shows a code, waits for approval and stores the account', async () => {
    const dir = makeTempDir('login-device');
    const child = Bun.spawn({ cmd: [...binaryCommand(), 'login', '--device-code', '--auth-url', simUrl, '--data-dir', dir, '--json'], env: childEnv(), stdout: 'pipe', stderr: 'pipe' });
    const reader = child.stderr.getReader();
    const decoder = new TextDecoder();
    let stderr = '';
    let code: string | null = null;
    const deadline = Date.now() + 10_000;
    while (!code && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += decoder.decode(value);
      code = /^\s+([A-Z0-9]{4}-[A-Z0-9]{5})\s*$/m.exec(stderr)?.[1] ?? null;
    }
    expect(stderr).toContain(`${simUrl}/codex/device`);
    sim.approveDevice(code!);
    expect(await child.exited).toBe(0);
    expect(JSON.parse(await new Response(child.stdout).text())).toMatchObject({ created: true, plan: 'pro' });
  });

  test('an auth server without device login says to enable it in the ChatGPT security settings', async () => {
    const result = await runCli(['login', '--device-code', '--auth-url', `${simUrl}/no-device-login-here`, '--data-dir', makeTempDir('login-404')]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('device code login is not enabled');
    expect(result.stderr).toContain('"Device code login" in ChatGPT → Settings → Security');
  });
});

describe('when the auth server cannot be reached', () => {
  for (const [what, authUrl, cause] of [
    ['refused connection', 'http://127.0.0.1:9', 'ECONNREFUSED'],
    ['unknown host', 'http://auth.no-such-host.invalid', 'ENOTFOUND'],
  ] as const) {
    test(`device code, ${what}: one line naming the server, the cause, and network, proxy and --auth-url to check`, async () => {
      const result = await runCli(['login', '--device-code', '--auth-url', authUrl, '--data-dir', makeTempDir('login-down')], { env: { HTTPS_PROXY: undefined, HTTP_PROXY: undefined, https_proxy: undefined, http_proxy: undefined } });
      expect(result.code).toBe(1);
      const message = result.stderr.trim();
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toStartWith(`codexin: cannot reach the ChatGPT auth server ${authUrl} (`);
      expect(message).toContain(cause);
      expect(message).toContain('network connection');
      expect(message).toContain('HTTPS_PROXY');
      expect(message).toContain('--auth-url');
    });
  }

  test('the proxy in use is named, without its credentials', async () => {
    const result = await runCli(['login', '--device-code', '--auth-url', 'http://auth.no-such-host.invalid', '--data-dir', makeTempDir('login-proxy')], {
      env: { HTTP_PROXY: 'http://user:s3cret@127.0.0.1:9', NO_PROXY: '' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the proxy http://127.0.0.1:9 (from HTTPS_PROXY/HTTP_PROXY)');
    expect(result.stderr).not.toContain('s3cret');
  });

  test('the browser login says the same when the code exchange cannot reach the server', async () => {
    // The sign-in page is served, but the token endpoint is down by the time the browser comes back.
    const flaky = createSimulator();
    const running = await flaky.start();
    const dir = makeTempDir('login-exchange-down');
    const { child, url, stderr } = await startBrowserLogin(dir, running.url);
    const callback = await authorize(url);
    await running.stop();
    const page = await fetch(callback);
    expect(page.status).toBe(502);
    expect(await child.exited).toBe(1);
    expect(await stderr()).toContain(`cannot reach the ChatGPT auth server ${running.url}`);
  });
});
