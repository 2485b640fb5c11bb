/**
 * Secrets never leave the server: after a representative session against the
 * compiled binary (streams, errors, a token refresh, admin calls), no response and no
 * log line contains an OAuth token (original or rotated) or a full ci_ key. The only
 * sanctioned exceptions are the one-time displays of a new key. At rest, no OAuth
 * token appears in the bytes of the database or its WAL, during the run or after.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteAccountStore } from '../../src/store/accounts';
import { openDatabase } from '../../src/store/db';
import { parseSecretKey, SecretBox } from '../../src/store/secret-box';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import { makeTempDir, runCli, startServer, type RunningServer } from '../support/binary';

let sim: Simulator;
let stopSim: () => Promise<void>;
let server: RunningServer;
let dataDir: string;
const originalTokens: string[] = [];
const cliOutput: string[] = [];

beforeAll(async () => {
  sim = createSimulator();
  const running = await sim.start();
  stopSim = running.stop;
  dataDir = makeTempDir('secrets');
  // An already expired access token forces a refresh during the session.
  const issued = sim.issueAccount({ accessTtlSeconds: 0 });
  originalTokens.push(issued.accessToken, issued.refreshToken, issued.idToken);
  const authPath = join(dataDir, 'auth.json');
  writeFileSync(authPath, JSON.stringify(issued.authJson));
  const imported = await runCli(['accounts', 'import', authPath, '--data-dir', dataDir]);
  expect(imported.code).toBe(0);
  cliOutput.push(imported.stdout, imported.stderr);
  server = await startServer({ dataDir, args: ['--upstream-url', `${running.url}/backend-api`, '--auth-url', running.url, '--log-level', 'debug'] });
});
afterAll(async () => {
  await server.stop();
  await stopSim();
});

test('no token or key appears in any response or log line', async () => {
  const admin = server.adminKey!;
  const seen: string[] = [];
  const call = async (path: string, init: RequestInit = {}, key: string | null = admin) => {
    const headers = new Headers(init.headers);
    if (key) headers.set('authorization', `Bearer ${key}`);
    if (init.body) headers.set('content-type', 'application/json');
    const res = await fetch(`${server.url}${path}`, { ...init, headers });
    seen.push(`${res.status} ${JSON.stringify([...res.headers])}\n${await res.text()}`);
    return res;
  };
  const created = await runCli(['keys', 'create', '--name', 'user', '--json', '--data-dir', dataDir]);
  const userKey = (JSON.parse(created.stdout) as { key: string }).key;

  await call('/v1/models', {}, userKey);
  await call('/v1/responses', { method: 'POST', body: JSON.stringify({ model: 'gpt-5.5', input: 'hello' }) }, userKey);
  await call('/v1/responses', { method: 'POST', body: JSON.stringify({ model: 'gpt-5.5', input: 'hello', stream: true, reasoning: { effort: 'low', summary: 'auto' } }) }, userKey);
  await call('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }], stream: true }) }, userKey);
  sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 5 });
  await call('/v1/responses', { method: 'POST', body: JSON.stringify({ model: 'gpt-5.5', input: 'limited' }) }, userKey);
  await call('/v1/responses', { method: 'POST', body: '{bad json' }, userKey);
  await call('/v1/models', {}, `${userKey}x`);
  await call('/v1/models', {}, null);
  await call('/admin/keys');
  await call('/admin/accounts');
  await call('/admin/keys', {}, userKey);
  await call('/readyz', {}, null);
  await call('/docs/json', {}, null);
  expect(sim.refreshCount).toBe(1);

  const dbFile = join(dataDir, 'codexin.db');
  // The stored tokens, opened with the data dir's own key.
  const box = new SecretBox(parseSecretKey(readFileSync(join(dataDir, 'secret.key'), 'utf8'), 'secret.key'));
  const db = openDatabase(dbFile);
  const current = new SqliteAccountStore(db, box).list()[0]!;
  db.close();
  const rotatedTokens = [current.accessToken, current.refreshToken, current.idToken];
  const secrets = [...originalTokens, ...rotatedTokens, admin, userKey];
  expect(new Set(secrets).size).toBe(secrets.length);
  const rawBytes = () => ['', '-wal', '-shm'].map((s) => (existsSync(dbFile + s) ? readFileSync(dbFile + s).toString('latin1') : '')).join('');
  const whileRunning = rawBytes();
  expect(whileRunning).toContain('enc:v1:');

  await server.stop();
  for (const [when, bytes] of [['while serving', whileRunning], ['after stop', rawBytes()]] as const) {
    for (const token of [...originalTokens, ...rotatedTokens]) {
      if (bytes.includes(token)) throw new Error(`an OAuth token (${token.slice(0, 8)}…) is readable in the database files ${when}`);
    }
  }
  // The first-run admin key is printed once on purpose, before the listening line; everything after must be clean.
  const stdout = server.stdout();
  const afterStartup = stdout.slice(stdout.indexOf('listening on'));
  const logs = [afterStartup, server.stderr(), ...cliOutput].join('\n');
  expect(server.stderr()).toContain('"msg":"request"');
  const haystacks = { responses: seen.join('\n'), logs };
  for (const [where, text] of Object.entries(haystacks)) {
    for (const secret of secrets) {
      if (text.includes(secret)) throw new Error(`a secret (${secret.slice(0, 8)}…) appears in ${where}`);
    }
  }
  // The display prefix is fine to show; make sure the check above could have caught a leak.
  expect(seen.join('\n')).toContain(userKey.slice(0, 10));
});
