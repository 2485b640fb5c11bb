/**
 * "Add account" with `serve --upstream mock`: the device login runs against the
 * simulator's own auth server, whose verification page approves the code typed into
 * it, so the whole flow can be tried without a subscription (compiled binary).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { bearer, startServer, type RunningServer } from '../support/binary';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ args: ['--upstream', 'mock'] });
});
afterAll(() => server.stop());

interface Login {
  id: string;
  status: string;
  user_code: string;
  verification_url: string;
  account: { label: string; created: boolean } | null;
}

test('a device login started by the admin API is approved on the simulator page and adds an account', async () => {
  const started = await fetch(`${server.url}/admin/accounts/logins`, {
    method: 'POST',
    headers: { ...bearer(server.adminKey!), 'content-type': 'application/json' },
    body: JSON.stringify({ label: 'second account' }),
  });
  expect(started.status).toBe(201);
  const login = (await started.json()) as Login;
  expect(login.status).toBe('pending');
  expect(new URL(login.verification_url).hostname).toBe('127.0.0.1');

  const page = await fetch(login.verification_url);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<form method="post">');

  const wrong = await fetch(login.verification_url, { method: 'POST', body: new URLSearchParams({ user_code: 'NOPE-0000' }) });
  expect(wrong.status).toBe(400);
  const approved = await fetch(login.verification_url, { method: 'POST', body: new URLSearchParams({ user_code: login.user_code.toLowerCase() }) });
  expect(approved.status).toBe(200);

  let state: Login = login;
  for (let i = 0; i < 50 && state.status === 'pending'; i++) {
    await Bun.sleep(200);
    state = (await (await fetch(`${server.url}/admin/accounts/logins/${login.id}`, { headers: bearer(server.adminKey!) })).json()) as Login;
  }
  expect(state.status).toBe('complete');
  expect(state.account?.label).toBe('second account');
  expect(state.account?.created).toBe(true);

  const accounts = (await (await fetch(`${server.url}/admin/accounts`, { headers: bearer(server.adminKey!) })).json()) as { data: { label: string }[] };
  expect(accounts.data.map((a) => a.label).sort()).toEqual(['second account', 'simulated account']);
});
