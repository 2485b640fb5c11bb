/**
 * The `codexin` command line (DESIGN.md §3): key management end to end against a
 * running server, strict flag/env validation (exit 2, one-line message), env twins.
 *
 * The create/list/revoke flow runs the compiled binary; the validation matrix runs
 * both the binary and the source entry point, so they cannot drift apart.
 */
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bearer,
  binaryCommand,
  makeTempDir,
  removeTempDirs,
  runCli,
  sourceCommand,
  startServer,
  stopAllServers,
  type RunCliOptions,
  type RunResult,
} from '../support/binary';

const KEY_FORMAT = /^ci_[A-Za-z0-9_-]{43,}$/;

afterEach(stopAllServers);
afterAll(removeTempDirs);

/** A CLI bound to one command prefix (binary or source), with HOME pointed at a temp dir. */
function cliFor(command: string[]) {
  const home = makeTempDir('home');
  return (args: string[], options: RunCliOptions = {}): Promise<RunResult> =>
    runCli(args, { ...options, command, env: { HOME: home, ...(options.env ?? {}) } });
}

const binaryCli = cliFor(binaryCommand());

interface CreatedKey {
  id: string;
  key: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

async function createKey(dataDir: string, ...extra: string[]): Promise<CreatedKey> {
  const r = await binaryCli(['keys', 'create', '--data-dir', dataDir, '--json', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as CreatedKey;
}

async function listKeys(dataDir: string): Promise<Array<Record<string, unknown>>> {
  const r = await binaryCli(['keys', 'list', '--data-dir', dataDir, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
}

function authErrorEnvelope(code: string) {
  return { error: { message: expect.any(String), type: 'authentication_error', param: null, code } };
}

async function getModels(url: string, headers: Record<string, string>) {
  const res = await fetch(`${url}/v1/models`, { headers });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', requestId: res.headers.get('x-request-id'), body: (await res.json()) as unknown };
}

function sha256(text: string): Buffer {
  return Buffer.from(new Bun.CryptoHasher('sha256').update(text).digest() as Uint8Array);
}

function databaseBytes(dataDir: string): Buffer {
  const parts = ['codexin.db', 'codexin.db-wal', 'codexin.db-journal']
    .map((f) => join(dataDir, f))
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p));
  expect(parts.length).toBeGreaterThan(0);
  return Buffer.concat(parts);
}

describe('keys create / list / revoke (compiled binary)', () => {
  test('create --json prints the key once, with id, name, scopes and a ci_ secret', async () => {
    const dataDir = makeTempDir('data');
    const created = await createKey(dataDir, '--name', 'alice');
    expect(created.id).toEqual(expect.any(String));
    expect(created.id.length).toBeGreaterThan(0);
    expect(created.name).toBe('alice');
    expect(created.scopes).toEqual([]);
    expect(created.key).toMatch(KEY_FORMAT);
    expect(created.expires_at).toBeNull();
    expect(created.revoked_at).toBeNull();
    expect(Math.abs(created.created_at - Date.now())).toBeLessThan(60_000);
    // The display prefix is a prefix of the key, and short enough not to be the key.
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.prefix.length).toBeLessThan(16);

    const again = await createKey(dataDir, '--name', 'alice');
    expect(again.id).not.toBe(created.id);
    expect(again.key).not.toBe(created.key);
  });

  test('human output of create shows the key and says it is shown once', async () => {
    const dataDir = makeTempDir('data');
    const r = await binaryCli(['keys', 'create', '--name', 'bob', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    const keys = r.stdout.match(/ci_[A-Za-z0-9_-]+/g) ?? [];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(KEY_FORMAT);
    expect(r.stdout.toLowerCase()).toContain('only once');
  });

  test('--advanced and --admin set the scopes', async () => {
    const dataDir = makeTempDir('data');
    const advanced = await createKey(dataDir, '--name', 'adv', '--advanced');
    const admin = await createKey(dataDir, '--name', 'adm', '--admin');
    const both = await createKey(dataDir, '--name', 'both', '--admin', '--advanced');
    expect(advanced.scopes).toEqual(['advanced']);
    expect(admin.scopes).toEqual(['admin']);
    expect([...both.scopes].sort()).toEqual(['admin', 'advanced']);

    const listed = await listKeys(dataDir);
    const scopesById = Object.fromEntries(listed.map((k) => [k.id, [...(k.scopes as string[])].sort()]));
    expect(scopesById).toEqual({ [advanced.id]: ['advanced'], [admin.id]: ['admin'], [both.id]: ['admin', 'advanced'] });
  });

  test('list shows the key without its secret, and the database holds only its sha256', async () => {
    const dataDir = makeTempDir('data');
    const created = await createKey(dataDir, '--name', 'carol', '--advanced');
    const secretTail = created.key.slice(created.prefix.length);

    const json = await binaryCli(['keys', 'list', '--data-dir', dataDir, '--json']);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: created.id, name: 'carol', prefix: created.prefix, scopes: ['advanced'], revoked_at: null });
    expect(listed[0]).not.toHaveProperty('key');

    const human = await binaryCli(['keys', 'list', '--data-dir', dataDir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(created.id);
    expect(human.stdout).toContain('carol');
    for (const output of [json.stdout, json.stderr, human.stdout, human.stderr]) {
      expect(output).not.toContain(created.key);
      expect(output).not.toContain(secretTail);
    }

    const bytes = databaseBytes(dataDir);
    expect(bytes.includes(Buffer.from(created.key))).toBe(false);
    expect(bytes.includes(Buffer.from(secretTail))).toBe(false);
    // nor the 32 random bytes behind the base64url text
    expect(bytes.includes(Buffer.from(created.key.slice(3), 'base64url'))).toBe(false);
    const digest = sha256(created.key);
    expect(bytes.includes(digest) || bytes.includes(Buffer.from(digest.toString('hex')))).toBe(true);
  });

  test('list shows each key\'s limits, expiry and last use', async () => {
    const dataDir = makeTempDir('data');
    const limited = await createKey(dataDir, '--name', 'bot', '--rpm', '60', '--tokens-per-day', '100000', '--tokens-per-week', '500000', '--max-concurrent', '4', '--models', 'gpt-5.5,gpt-5.4', '--expires-in', '30d');
    const plain = await createKey(dataDir, '--name', 'plain');
    const human = (await binaryCli(['keys', 'list', '--data-dir', dataDir])).stdout;
    const block = (id: string) => human.slice(human.indexOf(id)).split('\n').slice(0, 3).join('\n');
    expect(block(limited.id)).toContain('limits: 60 requests/min, 100000 tokens/day, 500000 tokens/week, 4 concurrent, models gpt-5.5,gpt-5.4');
    expect(block(limited.id)).toMatch(/expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in (29d 23h|30d)\); last used never/);
    expect(block(limited.id)).toContain('active');
    expect(block(plain.id)).toContain('limits: none');
    expect(block(plain.id)).toContain('never expires; last used never');
  });

  test('revoke marks the key revoked; unknown id exits 1', async () => {
    const dataDir = makeTempDir('data');
    const created = await createKey(dataDir, '--name', 'dave');
    const r = await binaryCli(['keys', 'revoke', created.id, '--data-dir', dataDir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: created.id, revoked: true });
    const [listed] = await listKeys(dataDir);
    expect(listed!.revoked_at).toEqual(expect.any(Number));
    const human = await binaryCli(['keys', 'list', '--data-dir', dataDir]);
    expect(human.stdout).toContain('REVOKED');

    const missing = await binaryCli(['keys', 'revoke', 'key_doesnotexist', '--data-dir', dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('key_doesnotexist');
  });
});

describe('keys against a running server (compiled binary)', () => {
  test('first start creates an admin key; keys made and revoked by the CLI take effect at once', async () => {
    const server = await startServer();
    const dataDir = server.dataDir!;
    expect(server.adminKey).toMatch(KEY_FORMAT);

    // the first-run key is listed as an admin key, without its secret
    const listedAtStart = await binaryCli(['keys', 'list', '--data-dir', dataDir, '--json']);
    expect(listedAtStart.stdout).not.toContain(server.adminKey!);
    const atStart = JSON.parse(listedAtStart.stdout) as Array<{ name: string; scopes: string[] }>;
    expect(atStart).toHaveLength(1);
    expect([...atStart[0]!.scopes].sort()).toEqual(['admin', 'advanced']);

    // a key created while the server runs works with Bearer and x-api-key
    const created = await createKey(dataDir, '--name', 'live');
    const viaBearer = await getModels(server.url, bearer(created.key));
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body).toMatchObject({ object: 'list' });
    const viaHeader = await getModels(server.url, { 'x-api-key': created.key });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body).toEqual(viaBearer.body);

    // revoked → 401 key_revoked, whichever header carries it
    const revoke = await binaryCli(['keys', 'revoke', created.id, '--data-dir', dataDir]);
    expect(revoke.code).toBe(0);
    for (const headers of [bearer(created.key), { 'x-api-key': created.key }]) {
      const r = await getModels(server.url, headers);
      expect(r.status).toBe(401);
      expect(r.contentType).toContain('application/json');
      expect(r.requestId).toBeTruthy();
      expect(r.body).toStrictEqual(authErrorEnvelope('key_revoked'));
    }

    // other keys are unaffected
    expect((await getModels(server.url, bearer(server.adminKey!))).status).toBe(200);
  });

  test('expired key → 401 key_expired', async () => {
    const server = await startServer();
    const created = await createKey(server.dataDir!, '--name', 'brief', '--expires-in', '1s');
    expect(created.expires_at).toEqual(expect.any(Number));
    expect(Math.abs(created.expires_at! - created.created_at - 1000)).toBeLessThan(100);
    const waitMs = created.expires_at! - Date.now() + 150;
    if (waitMs > 0) await Bun.sleep(waitMs);
    const r = await getModels(server.url, bearer(created.key));
    expect(r.status).toBe(401);
    expect(r.body).toStrictEqual(authErrorEnvelope('key_expired'));
    const human = await binaryCli(['keys', 'list', '--data-dir', server.dataDir!]);
    expect(human.stdout).toContain('EXPIRED');
  });

  test('unknown key → 401 invalid_api_key; no key → 401 missing_api_key', async () => {
    const server = await startServer();
    const forged = 'ci_' + Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
    for (const headers of [bearer(forged), { 'x-api-key': forged }, bearer('not-even-a-ci-key')]) {
      const r = await getModels(server.url, headers);
      expect(r.status).toBe(401);
      expect(r.body).toStrictEqual(authErrorEnvelope('invalid_api_key'));
    }
    const noKey: Array<Record<string, string>> = [{}, { authorization: '' }, { 'x-api-key': '' }];
    for (const headers of noKey) {
      const r = await getModels(server.url, headers);
      expect(r.status).toBe(401);
      expect(r.contentType).toContain('application/json');
      expect(r.body).toStrictEqual(authErrorEnvelope('missing_api_key'));
    }
  });
});

const invalidInvocations: Array<[label: string, args: string[], mentions: string[]]> = [
  ['unknown flag', ['keys', 'list', '--bogus'], ['--bogus']],
  ['unknown flag on serve', ['serve', '--port', '0', '--frobnicate'], ['--frobnicate']],
  ['--port abc', ['serve', '--port', 'abc'], ['--port', 'abc']],
  ['--port 70000', ['serve', '--port', '70000'], ['--port', '70000']],
  ['--upstream nope', ['serve', '--port', '0', '--upstream', 'nope'], ['--upstream', 'nope']],
  ['--log-level loud', ['serve', '--port', '0', '--log-level', 'loud'], ['--log-level', 'loud']],
  ['--expires-in soon', ['keys', 'create', '--name', 'x', '--expires-in', 'soon'], ['--expires-in', 'soon']],
  ['keys create without --name', ['keys', 'create'], ['--name']],
  ['unknown command', ['frobnicate'], ['frobnicate']],
  ['unknown keys subcommand', ['keys', 'shred'], ['shred']],
];

describe.each([
  ['binary', binaryCommand()],
  ['source', sourceCommand()],
])('invalid flags and values (%s): exit 2, one line on stderr', (_kind, command) => {
  const cli = cliFor(command);

  test.each(invalidInvocations)('%s', async (_label, args, mentions) => {
    const dataDir = makeTempDir('data');
    const r = await cli([...args, '--data-dir', dataDir], { timeoutMs: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.replace(/\n$/, '').split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeGreaterThan(0);
    for (const word of mentions) expect(lines[0]).toContain(word);
    // a rejected command leaves nothing behind
    expect(existsSync(join(dataDir, 'codexin.db'))).toBe(false);
  });

  test('CODEXIN_PORT=abc → exit 2', async () => {
    const r = await cli(['serve', '--data-dir', makeTempDir('data')], { env: { CODEXIN_PORT: 'abc' }, timeoutMs: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('abc');
  });

  test('an unusable --data-dir (a file) → exit 2 with one line naming it', async () => {
    const file = join(makeTempDir('data'), 'not-a-dir');
    await Bun.write(file, 'x');
    const r = await cli(['keys', 'list', '--data-dir', file], { timeoutMs: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--data-dir');
    expect(r.stderr).toContain(file);
  });
});

describe('env twins (compiled binary)', () => {
  test('CODEXIN_DATA_DIR is honoured: a key created through it is listed through --data-dir', async () => {
    const dataDir = makeTempDir('data');
    const created = await binaryCli(['keys', 'create', '--name', 'via-env', '--json'], { env: { CODEXIN_DATA_DIR: dataDir } });
    expect(created.code).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    expect(existsSync(join(dataDir, 'codexin.db'))).toBe(true);
    const listed = await listKeys(dataDir);
    expect(listed.map((k) => k.id)).toEqual([id]);
  });

  test('a flag wins over its env twin', async () => {
    const envDir = makeTempDir('env-data');
    const flagDir = makeTempDir('flag-data');
    const created = await binaryCli(['keys', 'create', '--name', 'flagged', '--json', '--data-dir', flagDir], { env: { CODEXIN_DATA_DIR: envDir } });
    expect(created.code).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    expect((await listKeys(flagDir)).map((k) => k.id)).toEqual([id]);
    expect(existsSync(join(envDir, 'codexin.db'))).toBe(false);

    // an invalid env value is not consulted when the flag is given
    const listed = await binaryCli(['keys', 'list', '--json', '--data-dir', flagDir, '--port', '1234'], { env: { CODEXIN_PORT: 'abc' } });
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe('');
  });

  test('CODEXIN_PORT is honoured by serve', async () => {
    // Pick a free port by binding and releasing it; then ask serve for it via env only.
    const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
    const port = probe.port!;
    await probe.stop(true);
    const dataDir = makeTempDir('data');
    const server = await startServer({ rawArgs: ['serve', '--data-dir', dataDir], env: { CODEXIN_PORT: String(port), CODEXIN_HOST: '127.0.0.1', HOME: makeTempDir('home') } });
    expect(server.port).toBe(port);
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect((await server.stop()).code).toBe(0);
  });
});
