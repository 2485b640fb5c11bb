/**
 * The data dir as the compiled binary leaves it: private file modes even under umask
 * 022, one `serve` at a time (the lock survives nothing: kill -9 releases it), CLI
 * commands beside a running server, and a wrong or missing secret key refused
 * before anything is written.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import { binaryPath, makeTempDir, removeTempDirs, runCli, startServer, stopAllServers } from '../support/binary';

let sim: Simulator;
let simUrl: string;
let stopSim: () => Promise<void>;

beforeAll(async () => {
  sim = createSimulator();
  const running = await sim.start();
  simUrl = running.url;
  stopSim = running.stop;
});
afterAll(async () => {
  await stopAllServers();
  await stopSim();
  removeTempDirs();
});

/** The binary started from a shell with the permissive umask most systems default to. */
const underUmask022 = () => ['sh', '-c', 'umask 022; exec "$0" "$@"', binaryPath()];
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
const upstreamArgs = () => ['--upstream-url', `${simUrl}/backend-api`, '--auth-url', simUrl];
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function importAccount(dataDir: string, env: Record<string, string> = {}) {
  const issued = sim.issueAccount();
  const path = join(makeTempDir('auth'), 'auth.json');
  writeFileSync(path, JSON.stringify(issued.authJson));
  return { issued, run: runCli(['accounts', 'import', path, '--data-dir', dataDir], { env }) };
}

describe('file modes', () => {
  test('a new data dir is 0700 and the database, WAL, shared memory, key and lock are 0600 under umask 022', async () => {
    const dataDir = join(makeTempDir('modes'), 'data');
    const server = await startServer({ dataDir, command: underUmask022(), args: upstreamArgs() });
    expect((await importAccount(dataDir).run).code).toBe(0);
    const db = join(dataDir, 'codexin.db');
    expect(existsSync(db + '-wal')).toBe(true);
    expect(mode(dataDir)).toBe('700');
    for (const file of [db, db + '-wal', db + '-shm', join(dataDir, 'secret.key'), join(dataDir, 'serve.lock')]) {
      expect(`${file}: ${mode(file)}`).toBe(`${file}: 600`);
    }
    await server.stop();
  });

  test('an empty directory made 0755 by the user is tightened, with a notice; a foreign one is only warned about', async () => {
    const empty = join(makeTempDir('tighten'), 'x');
    mkdirSync(empty, { mode: 0o755 });
    const created = await runCli(['keys', 'create', '--name', 'a', '--data-dir', empty], { command: underUmask022() });
    expect(created.code).toBe(0);
    expect(mode(empty)).toBe('700');
    expect(mode(join(empty, 'codexin.db'))).toBe('600');
    expect(created.stderr).toContain(`tightened the data dir ${empty} from mode 755 to 700`);

    const foreign = join(makeTempDir('foreign'), 'home');
    mkdirSync(foreign, { mode: 0o755 });
    writeFileSync(join(foreign, 'notes.txt'), 'the user\'s own file');
    const listed = await runCli(['keys', 'list', '--data-dir', foreign], { command: underUmask022() });
    expect(listed.code).toBe(0);
    expect(mode(foreign)).toBe('755');
    expect(mode(join(foreign, 'codexin.db'))).toBe('600');
    expect(listed.stderr).toContain('is open to other users');
  });

  test('an older data dir with a 0644 database is tightened on open', async () => {
    const dataDir = makeTempDir('old-modes');
    expect((await runCli(['keys', 'create', '--name', 'a', '--data-dir', dataDir])).code).toBe(0);
    const db = join(dataDir, 'codexin.db');
    Bun.spawnSync(['chmod', '644', db]);
    expect(mode(db)).toBe('644');
    expect((await runCli(['keys', 'list', '--data-dir', dataDir])).code).toBe(0);
    expect(mode(db)).toBe('600');
  });
});

describe('one serve per data dir', () => {
  test('a second serve exits 2 naming the first; CLI commands work beside it; kill -9 releases the lock', async () => {
    const dataDir = makeTempDir('lock');
    const first = await startServer({ dataDir, args: upstreamArgs() });
    const admin = first.adminKey!;

    const second = await runCli(['serve', '--port', '0', '--data-dir', dataDir, ...upstreamArgs()]);
    expect(second.code).toBe(2);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toContain(`another codexin serve (pid ${first.pid}`);
    expect(second.stdout).not.toContain('listening');

    const key = await runCli(['keys', 'create', '--name', 'beside', '--json', '--data-dir', dataDir]);
    expect(key.code).toBe(0);
    const { issued, run } = importAccount(dataDir);
    expect((await run).code).toBe(0);
    const listed = await runCli(['accounts', 'list', '--json', '--data-dir', dataDir]);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { chatgpt_account_id: string }[]).map((a) => a.chatgpt_account_id)).toEqual([issued.accountId]);
    // The running server picks the imported account up without a restart.
    let seen: { chatgpt_account_id: string }[] = [];
    for (let i = 0; i < 40 && seen.length === 0; i++) {
      const res = await fetch(`${first.url}/admin/accounts`, { headers: { authorization: `Bearer ${admin}` } });
      seen = ((await res.json()) as { data: { chatgpt_account_id: string }[] }).data;
      if (seen.length === 0) await Bun.sleep(100);
    }
    expect(seen.map((a) => a.chatgpt_account_id)).toEqual([issued.accountId]);
    const userKey = (JSON.parse(key.stdout) as { key: string }).key;
    const answer = await fetch(`${first.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5.5', input: 'hi' }),
    });
    expect(answer.status).toBe(200);

    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    const third = await startServer({ dataDir, args: upstreamArgs() });
    expect(third.pid).not.toBe(first.pid);
    await third.stop();
  });
});

describe('the secret key', () => {
  test('a wrong key: serve and accounts list exit 2 in one line, and the database is untouched', async () => {
    const dataDir = makeTempDir('wrong-key');
    expect((await importAccount(dataDir).run).code).toBe(0);
    const db = join(dataDir, 'codexin.db');
    const before = digest(db);
    const keyBefore = digest(join(dataDir, 'secret.key'));
    const wrong = { CODEXIN_SECRET_KEY: randomBytes(32).toString('base64') };
    const serve = await runCli(['serve', '--port', '0', '--data-dir', dataDir, ...upstreamArgs()], { env: wrong });
    expect(serve.code).toBe(2);
    const lines = serve.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^codexin: the secret key does not open the stored tokens \(wrong key\?\); stored accounts: acct_[\w-]+$/);
    expect(serve.stdout).toBe('');
    const list = await runCli(['accounts', 'list', '--data-dir', dataDir], { env: wrong });
    expect(list.code).toBe(2);
    expect(digest(db)).toBe(before);
    expect(digest(join(dataDir, 'secret.key'))).toBe(keyBefore);
    // The right key (the same file, given explicitly) still opens them.
    const keyFile = join(makeTempDir('key-copy'), 'k');
    writeFileSync(keyFile, readFileSync(join(dataDir, 'secret.key')));
    expect((await runCli(['accounts', 'list', '--data-dir', dataDir, '--secret-key-file', keyFile])).code).toBe(0);
  });

  test('a missing key file beside sealed tokens: exit 2 saying so, no new key is made, nothing is written', async () => {
    const dataDir = makeTempDir('lost-key');
    expect((await importAccount(dataDir).run).code).toBe(0);
    rmSync(join(dataDir, 'secret.key'));
    const before = digest(join(dataDir, 'codexin.db'));
    const serve = await runCli(['serve', '--port', '0', '--data-dir', dataDir, ...upstreamArgs()]);
    expect(serve.code).toBe(2);
    expect(serve.stderr.trim().split('\n')).toHaveLength(1);
    expect(serve.stderr).toContain('secret.key is missing but the database holds tokens sealed with it');
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(false);
    expect(digest(join(dataDir, 'codexin.db'))).toBe(before);
    // keys need no secret key; removing the orphaned account (named in the message) is the way out.
    expect((await runCli(['keys', 'create', '--name', 'still-works', '--data-dir', dataDir])).code).toBe(0);
    const id = /stored accounts: (acct_[\w-]+)/.exec(serve.stderr)![1]!;
    expect((await runCli(['accounts', 'remove', id, '--data-dir', dataDir])).code).toBe(0);
    const fresh = await startServer({ dataDir, args: upstreamArgs() });
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(true);
    await fresh.stop();
  });

  test('a malformed CODEXIN_SECRET_KEY or a missing --secret-key-file is a one-line exit 2', async () => {
    const dataDir = makeTempDir('bad-key');
    const bad = await runCli(['serve', '--port', '0', '--data-dir', dataDir], { env: { CODEXIN_SECRET_KEY: 'hunter2' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('CODEXIN_SECRET_KEY: expected a 32-byte key');
    expect(bad.stderr).not.toContain('hunter2');
    const missing = await runCli(['serve', '--port', '0', '--data-dir', dataDir, '--secret-key-file', join(dataDir, 'nope.key')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.key does not exist');
  });
});
