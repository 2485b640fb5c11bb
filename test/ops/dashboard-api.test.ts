/**
 * The admin endpoints the dashboard added: recent requests (with the error code the
 * client got) and device-code login of a new account, on the simulator; plus /ui's
 * page and assets.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { DeviceLogins } from '../../src/service/device-logins';
import { ApiError } from '../../src/openai/api-error';

let gw: TestGateway;
let admin: string;

beforeAll(async () => {
  gw = await startGateway();
  admin = gw.key(['admin']);
});
afterAll(() => gw.stop());

interface RequestsPage {
  data: { id: number; key_id: string | null; route: string; model: string | null; status: number; error_code: string | null; latency_ms: number | null; ttfb_ms: number | null; output_tokens: number }[];
  next_before: number | null;
}

const SECRET_PROMPT = 'the-secret-prompt-7f3a';

describe('GET /admin/requests', () => {
  test('lists model calls newest first with status, error code and timings, filters by outcome and pages backwards', async () => {
    const user = gw.key([]);
    gw.sim.enqueue({ kind: 'text', text: 'fine' });
    const ok = await gw.call('/v1/responses', { method: 'POST', key: user, json: { model: 'gpt-5.5', input: SECRET_PROMPT } });
    expect(ok.status).toBe(200);
    await ok.text();
    gw.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 600 });
    const limited = await gw.call('/v1/responses', { method: 'POST', key: user, json: { model: 'gpt-5.5', input: SECRET_PROMPT } });
    expect(limited.status).toBe(429);
    const limitedBody = (await limited.json()) as { error: { code: string } };

    const all = await gw.call('/admin/requests?limit=10', { key: admin });
    expect(all.status).toBe(200);
    const text = await all.text();
    expect(text).not.toContain(SECRET_PROMPT);
    expect(text).not.toContain(user);
    const page = JSON.parse(text) as RequestsPage;
    const mine = page.data.filter((r) => r.route === '/v1/responses');
    expect(mine.map((r) => r.status)).toEqual([429, 200]);
    expect(mine[0]!.error_code).toBe(limitedBody.error.code);
    expect(mine[1]).toMatchObject({ error_code: null, model: 'gpt-5.5' });
    expect(mine[1]!.output_tokens).toBeGreaterThan(0);
    expect(mine[1]!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(mine[1]!.ttfb_ms).toBeGreaterThanOrEqual(0);
    expect(mine[0]!.id).toBeGreaterThan(mine[1]!.id);

    const failed = (await (await gw.call('/admin/requests?outcome=error', { key: admin })).json()) as RequestsPage;
    expect(failed.data.length).toBeGreaterThan(0);
    expect(failed.data.every((r) => r.status >= 400)).toBe(true);
    const succeeded = (await (await gw.call('/admin/requests?outcome=ok', { key: admin })).json()) as RequestsPage;
    expect(succeeded.data.length).toBeGreaterThan(0);
    expect(succeeded.data.every((r) => r.status < 400)).toBe(true);

    const first = (await (await gw.call('/admin/requests?limit=1', { key: admin })).json()) as RequestsPage;
    expect(first.data).toHaveLength(1);
    expect(first.next_before).toBe(first.data[0]!.id);
    const second = (await (await gw.call(`/admin/requests?limit=1&before=${first.next_before}`, { key: admin })).json()) as RequestsPage;
    expect(second.data[0]!.id).toBeLessThan(first.data[0]!.id);
  });

  test('refuses a non-admin key (403) and bad paging (400) with an OpenAI error', async () => {
    const forbidden = await gw.call('/admin/requests', { key: gw.key(['advanced']) });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe('admin_access_required');
    const bad = await gw.call('/admin/requests?limit=100000', { key: admin });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

interface Login {
  id: string;
  status: 'pending' | 'complete' | 'failed';
  user_code: string;
  verification_url: string;
  poll_interval_ms: number;
  account: { id: string; label: string; plan: string | null; created: boolean } | null;
}

describe('device-code login through /admin/accounts/logins', () => {
  test('starts a login, stays pending until approved, then lists the new account', async () => {
    const started = await gw.call('/admin/accounts/logins', { method: 'POST', key: admin, json: { label: 'added from the dashboard' } });
    expect(started.status).toBe(201);
    const login = (await started.json()) as Login;
    expect(login.status).toBe('pending');
    expect(login.user_code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{5}$/);
    expect(login.verification_url).toBe(`${gw.simUrl}/codex/device`);

    const before = (await (await gw.call(`/admin/accounts/logins/${login.id}`, { key: admin })).json()) as Login;
    expect(before.status).toBe('pending');
    gw.sim.approveDevice(login.user_code);

    let state = before;
    for (let i = 0; i < 50 && state.status === 'pending'; i++) {
      await Bun.sleep(200);
      state = (await (await gw.call(`/admin/accounts/logins/${login.id}`, { key: admin })).json()) as Login;
    }
    expect(state.status).toBe('complete');
    expect(state.account).toMatchObject({ label: 'added from the dashboard', created: true });
    const accounts = (await (await gw.call('/admin/accounts', { key: admin })).json()) as { data: { id: string; label: string }[] };
    expect(accounts.data.find((a) => a.id === state.account!.id)?.label).toBe('added from the dashboard');
    // nothing secret in the login's state
    expect(JSON.stringify(state)).not.toMatch(/token/i);
  });

  test('at most 4 logins wait at once: the next is refused with 429 in words', async () => {
    const started: Response[] = [];
    for (let i = 0; i < 4; i++) started.push(await gw.call('/admin/accounts/logins', { method: 'POST', key: admin, json: {} }));
    expect(started.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const refused = await gw.call('/admin/accounts/logins', { method: 'POST', key: admin, json: {} });
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('too_many_pending_logins');
    expect(body.error.message).toContain('already waiting');
    // approving one frees a slot
    gw.sim.approveDevice(((await started[0]!.json()) as Login).user_code);
    let again = refused;
    for (let i = 0; i < 50 && again.status === 429; i++) {
      await Bun.sleep(200);
      again = await gw.call('/admin/accounts/logins', { method: 'POST', key: admin, json: {} });
    }
    expect(again.status).toBe(201);
  });

  test('an auth server that cannot be reached is a 502 that says so', async () => {
    // port 1 on loopback: nothing listens there
    const logins = new DeviceLogins(gw.accounts, 'http://127.0.0.1:1');
    const failure = await logins.start().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 502, code: 'device_login_unavailable' });
    expect((failure as ApiError).message).toContain('did not start a login');
  });

  test('an unknown login is 404, a non-admin key is 403', async () => {
    const missing = await gw.call('/admin/accounts/logins/login_nope', { key: admin });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('login_not_found');
    const forbidden = await gw.call('/admin/accounts/logins', { method: 'POST', key: gw.key([]), json: {} });
    expect(forbidden.status).toBe(403);
  });
});

describe('/ui', () => {
  test('serves the page with a CSP that allows only this origin, and its bundled script and stylesheet', async () => {
    const page = await gw.call('/ui');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/ui/assets/app.js"></script>');
    expect(html).not.toMatch(/<script>(?!<)/);
    const js = await gw.call('/ui/assets/app.js');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(await js.text()).toContain('Admin key');
    const css = await gw.call('/ui/assets/app.css');
    expect(css.headers.get('content-type')).toContain('text/css');
    expect((await css.text()).length).toBeGreaterThan(1000);
  });
});
