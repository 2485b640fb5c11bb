/**
 * `codexin accounts import|list|remove` and `doctor`, run as the compiled binary
 * against the simulator (login: test/cli/login.test.ts; doctor behind a proxy:
 * test/cli/doctor.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Database } from 'bun:sqlite';
import { SqliteAccountStore } from '../../src/store/accounts';
import { closeDatabase, openDatabase } from '../../src/store/db';
import { parseSecretKey, SecretBox } from '../../src/store/secret-box';
import { healthyQuota, quotaHeaders } from '../../src/upstream/mock/ratelimits';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import { makeTempDir, runCli } from '../support/binary';
import { openDataDir } from '../../src/cli/data-dir';
import { resolveConfig } from '../../src/config';

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

function authFile(dir: string, name = 'auth.json') {
  const issued = sim.issueAccount({ plan: 'plus', email: 'ada@example.com' });
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(issued.authJson, null, 2));
  return { path, issued };
}

describe('accounts import, list, remove', () => {
  test('imports a Codex CLI auth.json, derives account id and plan from the claims, and never prints tokens', async () => {
    const dir = makeTempDir('accounts');
    const { path, issued } = authFile(dir);
    const imported = await runCli(['accounts', 'import', path, '--data-dir', dir, '--json']);
    expect(imported.code).toBe(0);
    const view = JSON.parse(imported.stdout) as Record<string, unknown>;
    expect(view.chatgpt_account_id).toBe(issued.accountId);
    expect(view.plan).toBe('plus');
    expect(view.email).toBe('ada@example.com');
    expect(view.status).toBe('active');
    expect(view.created).toBe(true);
    const listed = await runCli(['accounts', 'list', '--data-dir', dir, '--json']);
    const human = await runCli(['accounts', 'list', '--data-dir', dir]);
    for (const out of [imported.stdout, imported.stderr, listed.stdout, human.stdout]) {
      expect(out).not.toContain(issued.accessToken);
      expect(out).not.toContain(issued.refreshToken);
      expect(out).not.toContain(issued.idToken);
    }
    const accounts = JSON.parse(listed.stdout) as { id: string; plan: string }[];
    expect(accounts).toHaveLength(1);
    expect(human.stdout).toContain('plan plus');
    // Importing the same login again updates it instead of adding a second account.
    const again = await runCli(['accounts', 'import', path, '--data-dir', dir, '--json']);
    expect((JSON.parse(again.stdout) as { created: boolean }).created).toBe(false);
    expect(JSON.parse((await runCli(['accounts', 'list', '--data-dir', dir, '--json'])).stdout)).toHaveLength(1);
    // The tokens are in the database (CodexIn owns them now), sealed with the data dir's key.
    const db = new Database(join(dir, 'codexin.db'), { readonly: true });
    const row = db.query('SELECT refresh_token FROM accounts').get() as { refresh_token: string };
    db.close();
    expect(row.refresh_token).not.toContain(issued.refreshToken);
    const box = new SecretBox(parseSecretKey(readFileSync(join(dir, 'secret.key'), 'utf8'), 'secret.key'));
    const stored = openDatabase(join(dir, 'codexin.db'));
    expect(new SqliteAccountStore(stored, box).list()[0]!.refreshToken).toBe(issued.refreshToken);
    stored.close();
    const removed = await runCli(['accounts', 'remove', accounts[0]!.id, '--data-dir', dir]);
    expect(removed.code).toBe(0);
    expect(JSON.parse((await runCli(['accounts', 'list', '--data-dir', dir, '--json'])).stdout)).toEqual([]);
    expect((await runCli(['accounts', 'remove', accounts[0]!.id, '--data-dir', dir])).code).toBe(1);
  });

  test('rejects files that hold no ChatGPT login with exit 2 and a one-line reason', async () => {
    const dir = makeTempDir('accounts-bad');
    const apiKeyLogin = join(dir, 'apikey.json');
    writeFileSync(apiKeyLogin, JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-x' }));
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{oops');
    for (const [path, expected] of [
      [apiKeyLogin, 'API key login'],
      [notJson, 'not a JSON file'],
      [join(dir, 'missing.json'), 'cannot read'],
    ] as const) {
      const result = await runCli(['accounts', 'import', path, '--data-dir', dir]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(expected);
    }
  });
});

describe('accounts list shows quota as windows', () => {
  test('used % and reset time of each window, from the headers the upstream last sent', async () => {
    const dir = makeTempDir('accounts-quota');
    const { path } = authFile(dir);
    const imported = JSON.parse((await runCli(['accounts', 'import', path, '--data-dir', dir, '--json'])).stdout) as { id: string };
    const before = JSON.parse((await runCli(['accounts', 'list', '--data-dir', dir, '--json'])).stdout) as { quota_windows: unknown[] }[];
    expect(before[0]!.quota_windows).toEqual([]);
    expect((await runCli(['accounts', 'list', '--data-dir', dir])).stdout).toContain('quota: not known yet');
    // What the upstream reports on every answer, stored as the server would store it.
    const nowSeconds = Math.floor(Date.now() / 1000);
    const db = openDataDir(resolveConfig({ 'data-dir': dir }));
    new SqliteAccountStore(db).saveQuota(imported.id, quotaHeaders(healthyQuota('plus', nowSeconds)));
    closeDatabase(db);
    const listed = JSON.parse((await runCli(['accounts', 'list', '--data-dir', dir, '--json'])).stdout) as { quota_windows: unknown[] }[];
    expect(listed[0]!.quota_windows).toEqual([
      { window: 'primary', label: '5h', used_percent: 12, window_minutes: 300, resets_at: (nowSeconds + 3 * 3600) * 1000 },
      { window: 'secondary', label: 'weekly', used_percent: 4, window_minutes: 10_080, resets_at: (nowSeconds + 5 * 86_400) * 1000 },
    ]);
    const human = (await runCli(['accounts', 'list', '--data-dir', dir])).stdout;
    expect(human).toMatch(/quota: 5h 12% used \(resets in (2h 59m|3h), \d{4}-\d\d-\d\d \d\d:\d\d UTC\); weekly 4% used \(resets in (4d 23h|5d), /);
    expect(human).not.toContain('x-codex-');
  });
});

describe('accounts import checks the tokens', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const jwt = (payload: unknown) => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payload)}.c2lnbmF0dXJl`;

  test('refuses tokens that are not JWTs with an expiry: exit 2, one line naming the token, nothing stored', async () => {
    const dir = makeTempDir('accounts-jwt');
    const good = sim.issueAccount({ plan: 'plus' }).authJson as { tokens: Record<string, string> };
    const cases: [string, Record<string, string>, string][] = [
      ['placeholder', { access_token: 'access', id_token: 'id' }, 'tokens.id_token is not a JWT (three base64url parts'],
      ['two parts', { id_token: 'abc.def' }, 'tokens.id_token is not a JWT (three base64url parts'],
      ['payload not JSON', { access_token: `${b64({ alg: 'none' })}.${Buffer.from('not json').toString('base64url')}.sig` }, 'tokens.access_token is not a JWT (its payload is not a JSON object)'],
      ['header not JSON', { access_token: `bm90IGpzb24.${b64({ exp: 1 })}.sig` }, 'tokens.access_token is not a JWT (its header is not a JSON object)'],
      ['no exp', { access_token: jwt({ 'https://api.openai.com/auth': { chatgpt_account_id: 'acc' } }) }, 'tokens.access_token has no expiry (exp claim)'],
    ];
    for (const [label, override, expected] of cases) {
      const path = join(dir, `${label.replace(/ /g, '-')}.json`);
      writeFileSync(path, JSON.stringify({ ...good, tokens: { ...good.tokens, account_id: 'acc_1', ...override } }));
      const result = await runCli(['accounts', 'import', path, '--data-dir', dir]);
      expect({ label, code: result.code }).toEqual({ label, code: 2 });
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(expected);
    }
    expect(JSON.parse((await runCli(['accounts', 'list', '--data-dir', dir, '--json'])).stdout)).toEqual([]);
  });

  test('an expired access token is still a valid login: it is refreshed on first use', async () => {
    const dir = makeTempDir('accounts-expired');
    const issued = sim.issueAccount({ plan: 'plus', accessTtlSeconds: -60 });
    const path = join(dir, 'auth.json');
    writeFileSync(path, JSON.stringify(issued.authJson));
    const result = await runCli(['accounts', 'import', path, '--data-dir', dir]);
    expect(result.code).toBe(0);
  });
});

describe('doctor', () => {
  test('healthy with a usable account and a reachable upstream; unhealthy with none', async () => {
    const dir = makeTempDir('doctor');
    const empty = await runCli(['doctor', '--data-dir', dir, '--upstream-url', `${simUrl}/backend-api`, '--json']);
    expect(empty.code).toBe(1);
    const emptyReport = JSON.parse(empty.stdout) as { healthy: boolean; checks: { name: string; ok: boolean; detail: string }[] };
    expect(emptyReport.healthy).toBe(false);
    expect(emptyReport.checks.find((c) => c.name === 'accounts')?.detail).toContain('accounts import');
    const { path } = authFile(dir);
    await runCli(['accounts', 'import', path, '--data-dir', dir]);
    const ok = await runCli(['doctor', '--data-dir', dir, '--upstream-url', `${simUrl}/backend-api`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('healthy');
    const unreachable = await runCli(['doctor', '--data-dir', dir, '--upstream-url', 'http://127.0.0.1:9/backend-api', '--json']);
    expect(unreachable.code).toBe(1);
    expect(JSON.parse(unreachable.stdout).checks.find((c: { name: string }) => c.name === 'upstream').ok).toBe(false);
  });
});
