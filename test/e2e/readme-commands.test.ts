/**
 * A first run that cannot go wrong: the commands of the README's quick start,
 * set-up, account and key sections run as written (parsed out of README.md, so
 * README and reality cannot drift), and every command's --help/-h is inert.
 *
 * Each README line runs through bash in the repository with HOME and the data dir
 * pointed at an empty temp dir. The one liberty taken: 127.0.0.1:8787 becomes a
 * free port (CODEXIN_PORT and the URLs alike), since the default port may be busy
 * on a shared machine. The admin key the server prints is put in CODEXIN_API_KEY,
 * as the README tells the reader to do.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createSimulator } from '../../src/upstream/mock';
import { childEnv, makeTempDir, REPO_ROOT, removeTempDirs, runCli } from '../support/binary';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** The `sh` fenced blocks of the README section whose heading starts with `title`. */
function shellLines(title: string): string[] {
  const start = README.search(new RegExp(`^## ${title}`, 'm'));
  if (start < 0) throw new Error(`README.md has no "## ${title}" section`);
  const next = README.slice(start + 3).search(/^## /m);
  const section = README.slice(start, next < 0 ? undefined : start + 3 + next);
  const lines: string[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1]!.split('\n')) {
      const line = raw.replace(/\s+#\s.*$/, '').trim();
      if (line && !line.startsWith('#')) lines.push(line);
    }
  }
  return lines;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Stops what a README line started (bash → make → codexin): the signal goes to the
 * innermost processes, so make sees its recipe end and exits with the server's code.
 * `everything` also kills the parents (cleanup after a failure).
 */
function killTree(pid: number, signal: NodeJS.Signals = 'SIGTERM', everything = false): void {
  const children = Bun.spawnSync(['pgrep', '-P', String(pid)]).stdout.toString().split('\n').filter(Boolean).map(Number);
  for (const child of children) killTree(child, signal, everything);
  if (children.length > 0 && !everything) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

interface Shell {
  env: Record<string, string>;
  port: number;
  servers: { pid: number; exited: Promise<number> }[];
}

async function newShell(): Promise<Shell> {
  const home = makeTempDir('readme-home');
  const port = await freePort();
  return { env: childEnv({ env: { HOME: home, CODEXIN_PORT: String(port) } }), port, servers: [] };
}

const STARTS_SERVER = /^(make run\b|\.\/dist\/codexin serve\b)/;

/** Runs one README line; a line that starts the server resolves once it listens, leaving it running. */
async function runLine(shell: Shell, line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = line.replaceAll('127.0.0.1:8787', `127.0.0.1:${shell.port}`);
  const child = Bun.spawn({ cmd: ['bash', '-c', command], cwd: REPO_ROOT, env: shell.env, stdout: 'pipe', stderr: 'pipe' });
  if (!STARTS_SERVER.test(line)) {
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { code, stdout, stderr };
  }
  shell.servers.push({ pid: child.pid, exited: child.exited });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let out = '';
  const deadline = Date.now() + 90_000;
  while (!/listening on http:\/\/\S+ /.test(out) && Date.now() < deadline) {
    const next = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => null)]);
    if (!next || next.done) break;
    out += decoder.decode(next.value);
  }
  reader.releaseLock();
  const adminKey = /^\s+(ci_[A-Za-z0-9_-]{43})\s*$/m.exec(out)?.[1];
  if (adminKey) shell.env.CODEXIN_API_KEY = adminKey;
  const listening = /listening on (http:\/\/\S+) /.exec(out)?.[1];
  return { code: listening === `http://127.0.0.1:${shell.port}` ? 0 : 1, stdout: out, stderr: '' };
}

async function stopServers(shell: Shell): Promise<number[]> {
  const codes: number[] = [];
  for (const server of shell.servers) {
    killTree(server.pid);
    codes.push(await server.exited);
  }
  shell.servers = [];
  return codes;
}

const shells: Shell[] = [];
afterAll(async () => {
  for (const shell of shells) for (const server of shell.servers) killTree(server.pid, 'SIGKILL', true);
  removeTempDirs();
});

describe('the README, run as written', () => {
  test('the quick start serves the simulator and both curl calls succeed with the printed key', async () => {
    const lines = shellLines('Quick start');
    expect(lines.some((l) => STARTS_SERVER.test(l) && l.includes('--upstream mock'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('curl '))).toHaveLength(2);
    const shell = await newShell();
    shells.push(shell);
    for (const line of lines) {
      const result = await runLine(shell, line);
      expect({ line, code: result.code, stderr: result.stderr }).toEqual({ line, code: 0, stderr: '' });
      if (STARTS_SERVER.test(line)) {
        expect(result.stdout).toContain('SIMULATOR');
        expect(shell.env.CODEXIN_API_KEY).toMatch(/^ci_/);
      }
      if (line.startsWith('curl ')) {
        const body = JSON.parse(result.stdout) as Record<string, unknown>;
        expect(body.error ?? null).toBeNull();
        expect(body.object === 'list' || body.object === 'response').toBe(true);
        if (body.object === 'response') expect(body.status).toBe('completed');
      }
    }
    // The data went where the README says: ~/.codexin of the user who ran it.
    expect(existsSync(join(shell.env.HOME!, '.codexin', 'codexin.db'))).toBe(true);
    expect(await stopServers(shell)).toEqual([0]);
  }, 120_000);

  test('the set-up commands: make run serves dist/codexin with a printed admin key; make test is what CI runs', async () => {
    const lines = shellLines('Set up');
    expect(lines).toContain('make test');
    // make test is the suite this test is part of: CI's entry point must still be exactly that command.
    expect(readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8')).toMatch(/^make test$/m);
    const shell = await newShell();
    shells.push(shell);
    for (const line of lines.filter((l) => l !== 'make test')) {
      const result = await runLine(shell, line);
      expect({ line, code: result.code, stderr: result.stderr }).toEqual({ line, code: 0, stderr: '' });
    }
    expect(shell.servers).toHaveLength(1);
    const models = await fetch(`http://127.0.0.1:${shell.port}/v1/models`, { headers: { authorization: `Bearer ${shell.env.CODEXIN_API_KEY}` } });
    expect(models.status).toBe(200);
    // The README's next commands use the binary make run built.
    const keys = await runLine(shell, './dist/codexin keys list --json');
    expect(keys.code).toBe(0);
    expect((JSON.parse(keys.stdout) as { name: string }[]).map((k) => k.name)).toEqual(['admin']);
    expect(await stopServers(shell)).toEqual([0]);
  }, 120_000);

  test('the account and key commands run as written on a Codex CLI login in ~/.codex/auth.json', async () => {
    const sim = createSimulator();
    const running = await sim.start();
    try {
      const shell = await newShell();
      // The reader's own Codex CLI login, where the README says it is; the upstream is the simulator (env twins).
      mkdirSync(join(shell.env.HOME!, '.codex'));
      writeFileSync(join(shell.env.HOME!, '.codex', 'auth.json'), JSON.stringify(sim.issueAccount({ plan: 'plus' }).authJson));
      shell.env.CODEXIN_UPSTREAM_URL = `${running.url}/backend-api`;
      shell.env.CODEXIN_AUTH_URL = running.url;
      // `login` waits for a person (test/cli/login.test.ts drives it); `key_...` is a placeholder for an id.
      const lines = [...shellLines('Connect a ChatGPT account'), ...shellLines('Create API keys')].filter((l) => !/ login\b/.test(l) && !l.includes('key_...'));
      expect(lines.length).toBeGreaterThanOrEqual(6);
      for (const line of lines) {
        const result = await runLine(shell, line);
        expect({ line, code: result.code }).toEqual({ line, code: 0 });
      }
      const listed = await runLine(shell, './dist/codexin keys list --json');
      expect((JSON.parse(listed.stdout) as { name: string }[]).map((k) => k.name).sort()).toEqual(['alice', 'bot']);
    } finally {
      await running.stop();
    }
  });

  test('every ./dist/codexin command the README shows names a real command', async () => {
    const commands = new Set([...README.matchAll(/\.\/dist\/codexin ([a-z]+)/g)].map((m) => m[1]!));
    expect(commands.size).toBeGreaterThan(5);
    const help = (await runCli(['help'])).stdout;
    for (const command of commands) expect({ command, listed: help.includes(`\n  ${command} `) }).toEqual({ command, listed: true });
    // No bare "codexin ..." command lines that a fresh clone cannot run.
    expect(README).not.toMatch(/^codexin /m);
  });
});

describe('--help is inert', () => {
  const invocations = [
    [],
    ['help'],
    ['--help'],
    ['-h'],
    ...['serve', 'keys', 'keys create', 'keys list', 'keys revoke', 'accounts', 'accounts import', 'accounts list', 'accounts remove', 'login', 'login --device-code', 'doctor', 'version'].flatMap((c) => [
      [...c.split(' '), '--help'],
      [...c.split(' '), '-h'],
    ]),
    ['serve', '--port', '1', '--data-dir', 'here', '--help'],
  ];

  for (const args of invocations) {
    test(`codexin ${args.join(' ') || '(no arguments)'} prints usage, exits 0 and creates nothing`, async () => {
      const home = makeTempDir('help-home');
      const cwd = makeTempDir('help-cwd');
      const result = await runCli(args, { cwd, env: { HOME: home }, timeoutMs: 10_000 });
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^(usage|codexin \S+: )/);
      expect(result.stdout).not.toContain('listening');
      expect(result.stdout).not.toMatch(/ci_[A-Za-z0-9_-]{43}/);
      expect(readdirSync(home)).toEqual([]);
      expect(readdirSync(cwd)).toEqual([]);
    });
  }

  test('a bare codexin lists the commands, serve first', async () => {
    const result = await runCli([], { cwd: makeTempDir('help-cwd'), env: { HOME: makeTempDir('help-home') } });
    expect(result.stdout).toMatch(/commands:\n {2}serve /);
    for (const command of ['keys', 'accounts', 'login', 'doctor', 'version']) expect(result.stdout).toContain(`\n  ${command} `);
  });

  test('each command explains itself, not just the command list', async () => {
    expect((await runCli(['keys', '--help'])).stdout).toContain('codexin keys create --name NAME');
    expect((await runCli(['login', '-h'])).stdout).toContain('--device-code');
    expect((await runCli(['accounts', 'import', '--help'])).stdout).toContain('codexin accounts import PATH');
    expect((await runCli(['help', 'doctor'])).stdout).toBe((await runCli(['doctor', '--help'])).stdout);
  });
});
