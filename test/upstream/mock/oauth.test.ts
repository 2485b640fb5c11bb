import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { CODEX_CLIENT_ID } from '../../../src/upstream/mock';
import { authHeaders, postResponses, startSim, validBody, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startSim({ plan: 'pro' });
});
afterAll(() => h.stop());

function claims(jwt: string): Record<string, unknown> {
  const [header, payload, signature] = jwt.split('.');
  expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT' });
  expect(signature!.length).toBeGreaterThan(0);
  return JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
}

function refresh(refreshToken: string, form = false): Promise<Response> {
  const fields = { client_id: CODEX_CLIENT_ID, grant_type: 'refresh_token', refresh_token: refreshToken };
  return fetch(`${h.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? new URLSearchParams(fields) : JSON.stringify(fields),
  });
}

describe('issued accounts', () => {
  test('tokens carry the ChatGPT claims and auth.json has the Codex CLI shape', () => {
    const a = h.sim.issueAccount({ accountId: 'acct-1', email: 'a@example.com', plan: 'team', accessTtlSeconds: 120 });
    const access = claims(a.accessToken);
    const now = Date.now() / 1000;
    expect(access.exp as number).toBeGreaterThan(now + 100);
    expect(access.exp as number).toBeLessThan(now + 130);
    expect(access['https://api.openai.com/auth']).toMatchObject({ chatgpt_account_id: 'acct-1', chatgpt_plan_type: 'team' });
    expect((access['https://api.openai.com/auth'] as Record<string, unknown>).chatgpt_user_id).toBeString();
    expect(access.email).toBe('a@example.com');
    expect(claims(a.idToken)['https://api.openai.com/auth']).toMatchObject({ chatgpt_account_id: 'acct-1' });
    expect(a.authJson).toEqual({
      auth_mode: 'chatgpt',
      OPENAI_API_KEY: null,
      tokens: { id_token: a.idToken, access_token: a.accessToken, refresh_token: a.refreshToken, account_id: 'acct-1' },
      last_refresh: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(a.authJson.last_refresh))).toBe(false);
  });

  test('the simulator plan is the default plan', () => {
    expect(h.sim.issueAccount().plan).toBe('pro');
  });
});

describe('refresh token rotation', () => {
  test('a valid refresh token yields new tokens; the old one is then reused → 401', async () => {
    const a = h.sim.issueAccount();
    const before = h.sim.refreshCount;
    const res = await refresh(a.refreshToken);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) });
    expect(body.refresh_token).not.toBe(a.refreshToken);
    expect(body.access_token).not.toBe(a.accessToken);
    expect(claims(body.id_token as string)['https://api.openai.com/auth']).toMatchObject({ chatgpt_account_id: a.accountId });
    expect(h.sim.refreshCount).toBe(before + 1);

    // The new access token works against the backend.
    const ok = await postResponses(h, validBody(), authHeaders({ accessToken: body.access_token as string, accountId: a.accountId }));
    expect(ok.status).toBe(200);
    await ok.text();

    const reused = await refresh(a.refreshToken);
    expect(reused.status).toBe(401);
    expect(await reused.json()).toEqual({
      error: {
        code: 'refresh_token_reused',
        message: 'Your refresh token has already been used to generate a new access token. Please try signing in again.',
      },
    });
    expect(h.sim.refreshCount).toBe(before + 1);

    // The rotated token is good exactly once too, and form encoding is accepted.
    expect((await refresh(body.refresh_token as string, true)).status).toBe(200);
    expect((await refresh(body.refresh_token as string, true)).status).toBe(401);
  });

  test('unknown refresh token → refresh_token_invalidated', async () => {
    const res = await refresh('rt_unknown');
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('refresh_token_invalidated');
    expect(body.error.message).toBeString();
  });

  test('wrong client_id is refused', async () => {
    const a = h.sim.issueAccount();
    const res = await fetch(`${h.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'app_other', grant_type: 'refresh_token', refresh_token: a.refreshToken }),
    });
    expect(res.status).toBe(401);
    // Not spent by the refused attempt.
    expect((await refresh(a.refreshToken)).status).toBe(200);
  });

  test('an expired access token is refused, and refresh recovers the account', async () => {
    const a = h.sim.issueAccount({ accessTtlSeconds: -5 });
    const denied = await postResponses(h, validBody(), authHeaders(a));
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ detail: 'Unauthorized' });
    const body = (await (await refresh(a.refreshToken)).json()) as { access_token: string };
    expect(claims(body.access_token).exp as number).toBeGreaterThan(Date.now() / 1000);
    const ok = await postResponses(h, validBody(), authHeaders({ accessToken: body.access_token, accountId: a.accountId }));
    expect(ok.status).toBe(200);
    await ok.text();
  });

  test('tokenRequests counts every call to /oauth/token', async () => {
    const before = h.sim.stats.tokenRequests;
    await refresh('rt_nope');
    await refresh('rt_nope2');
    expect(h.sim.stats.tokenRequests).toBe(before + 2);
  });
});

describe('device-code login', () => {
  test('usercode → pending → approve → code → token exchange issues a working account', async () => {
    const start = await fetch(`${h.url}/api/accounts/deviceauth/usercode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: CODEX_CLIENT_ID }),
    });
    expect(start.status).toBe(200);
    const code = (await start.json()) as { device_auth_id: string; user_code: string; interval: unknown };
    expect(code.interval).toBe('1');
    expect(code.device_auth_id).toBeString();
    expect(code.user_code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{5}$/);

    const poll = () =>
      fetch(`${h.url}/api/accounts/deviceauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ device_auth_id: code.device_auth_id, user_code: code.user_code }),
      });
    const pending = await poll();
    expect(pending.status).toBe(403);
    expect(await pending.json()).toEqual({ error: 'authorization_pending' });

    h.sim.approveDevice(code.user_code);
    const granted = await poll();
    expect(granted.status).toBe(200);
    const grant = (await granted.json()) as { authorization_code: string; code_challenge: string; code_verifier: string };
    const challenge = new Bun.CryptoHasher('sha256').update(grant.code_verifier).digest('base64url');
    expect(grant.code_challenge).toBe(challenge);

    const exchange = (redirect: string, verifier = grant.code_verifier) =>
      fetch(`${h.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: grant.authorization_code,
          redirect_uri: redirect,
          client_id: CODEX_CLIENT_ID,
          code_verifier: verifier,
        }),
      });
    expect((await exchange('http://elsewhere/deviceauth/callback')).status).toBe(400);
    expect((await exchange(`${h.url}/deviceauth/callback`, 'wrong-verifier')).status).toBe(400);
    const tokens = await exchange(`${h.url}/deviceauth/callback`);
    expect(tokens.status).toBe(200);
    const body = (await tokens.json()) as { id_token: string; access_token: string; refresh_token: string };
    const accountId = (claims(body.id_token)['https://api.openai.com/auth'] as { chatgpt_account_id: string }).chatgpt_account_id;
    expect((claims(body.id_token)['https://api.openai.com/auth'] as { chatgpt_plan_type: string }).chatgpt_plan_type).toBe('pro');
    const ok = await postResponses(h, validBody(), authHeaders({ accessToken: body.access_token, accountId }));
    expect(ok.status).toBe(200);
    await ok.text();

    // The authorization code is single use.
    expect((await exchange(`${h.url}/deviceauth/callback`)).status).toBe(400);
  });

  test('approving an unknown code throws', () => {
    expect(() => h.sim.approveDevice('NOPE-NOPE0')).toThrow();
  });
});
