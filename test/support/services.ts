/**
 * Real PostgreSQL and Redis servers for tests, started from Debian's packages on
 * loopback (the Makefile's `services` target installs them), each in its own
 * temporary directory and port, stopped when the test file ends.
 *
 * PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to
 * the `postgres` user the Debian package creates, and its programs run through setpriv
 * (which execs, so the server is our direct child and dies with a kill).
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { afterAll, beforeAll } from 'bun:test';
import type { Pg } from '../../src/store/postgres/database';

const children = new Set<Subprocess>();
/** Data directories of stopped servers: kept so restart() can bring them back, removed when the test process ends. */
const stoppedDirs = new Set<string>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of stoppedDirs) rmSync(dir, { recursive: true, force: true });
});

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: run `make services` (apt-get install postgresql)');
  return join(root, newest, 'bin');
}

/** A port nobody listens on now (the kernel's pick). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

const asRoot = process.getuid?.() === 0;

function asPostgres(cmd: string[]): string[] {
  return asRoot ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...cmd] : cmd;
}

async function runChecked(cmd: string[]): Promise<void> {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`${cmd.join(' ')} exited ${code}: ${err || out}`);
}

async function waitFor(what: string, ready: () => Promise<boolean>, child: Subprocess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready`);
    if (await ready().catch(() => false)) return;
    await Bun.sleep(25);
  }
  throw new Error(`${what} was not ready after ${timeoutMs} ms`);
}

export interface PostgresServer {
  port: number;
  /** The URL of the cluster's default database. */
  url: string;
  /** A new, empty database on this server; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server, keeping its data for restart() (SIGSTOP/SIGCONT freeze and thaw it, to test deadlines). */
  stop(): Promise<void>;
  freeze(): void;
  thaw(): void;
  /** Starts it again on the same port and data after stop(). */
  restart(): Promise<void>;
}

let databaseCounter = 0;

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'codexin-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number((await Bun.$`id -u postgres`.text()).trim());
    const gid = Number((await Bun.$`id -g postgres`.text()).trim());
    chownSync(dir, uid, gid);
  }
  await runChecked(asPostgres([join(bin, 'initdb'), '-D', data, '-U', 'codexin', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']));
  const port = freePort();
  let child: Subprocess;
  const spawn = async () => {
    child = Bun.spawn(
      asPostgres([join(bin, 'postgres'), '-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=400']),
      { stdout: 'ignore', stderr: 'pipe' },
    );
    children.add(child);
    const url = `postgres://codexin@127.0.0.1:${port}/postgres`;
    await waitFor('postgres', async () => {
      const sql = new Bun.SQL(url, { max: 1, connectionTimeout: 1 });
      try {
        await sql`SELECT 1`;
        return true;
      } finally {
        await sql.close();
      }
    }, child);
  };
  await spawn();
  const admin = () => new Bun.SQL(`postgres://codexin@127.0.0.1:${port}/postgres`, { max: 1 });
  const stopChild = async () => {
    signalTree(child.pid, 'SIGCONT');
    child.kill('SIGINT'); // fast shutdown
    await child.exited;
    children.delete(child);
  };
  return {
    port,
    url: `postgres://codexin@127.0.0.1:${port}/postgres`,
    async createDatabase(name = `t${process.pid}_${++databaseCounter}_${Date.now() % 100000}`) {
      const sql = admin();
      try {
        await sql.unsafe(`CREATE DATABASE "${name}"`);
      } finally {
        await sql.close();
      }
      return `postgres://codexin@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await stopChild();
      stoppedDirs.add(dir);
    },
    // The postmaster and every backend serving a connection: a whole server that stops answering.
    freeze: () => signalTree(child.pid, 'SIGSTOP'),
    thaw: () => signalTree(child.pid, 'SIGCONT'),
    async restart() {
      await stopChild();
      await spawn();
    },
  };
}

function signalTree(pid: number, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const listed = Bun.spawnSync(['pgrep', '-P', String(pid)]).stdout.toString().split('\n').filter(Boolean).map(Number);
  for (const target of [pid, ...listed]) {
    try {
      process.kill(target, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
  freeze(): void;
  thaw(): void;
  restart(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = freePort();
  let child: Subprocess;
  const url = `redis://127.0.0.1:${port}`;
  const spawn = async () => {
    child = Bun.spawn(['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdout: 'ignore', stderr: 'ignore' });
    children.add(child);
    await waitFor('redis-server', async () => {
      const client = new Bun.RedisClient(url, { connectionTimeout: 500, autoReconnect: false });
      try {
        return (await client.send('PING', [])) === 'PONG';
      } finally {
        client.close();
      }
    }, child);
  };
  await spawn();
  const stopChild = async () => {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await child.exited;
    children.delete(child);
  };
  return {
    port,
    url,
    stop: stopChild,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    async restart() {
      await stopChild();
      await spawn();
    },
  };
}

export interface PostgresForFile {
  /** The file's server (started in beforeAll). */
  readonly server: PostgresServer;
  /** Pools the tests open, closed before the server stops. */
  readonly pools: Pg[];
}

/** One PostgreSQL server for the calling test file: started before its tests, stopped after them with the pools they opened. */
export function postgresForFile(): PostgresForFile {
  let server: PostgresServer | null = null;
  const pools: Pg[] = [];
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close({ timeout: 0 }).catch(() => {})));
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('postgresForFile: the server starts in beforeAll');
      return server;
    },
    pools,
  };
}
