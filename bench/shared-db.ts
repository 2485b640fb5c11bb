/**
 * Scenario 6, "shared database": what PostgreSQL mode (`--database-url`, optionally with
 * `--redis-url`) adds to one request over the single binary on SQLite.
 *
 * Three CodexIn processes run side by side on the same simulated upstream: SQLite (its own
 * data dir), PostgreSQL, and PostgreSQL + Redis (each on its own fresh database, so the
 * two PostgreSQL instances do not see each other as peers). Each has two keys: one without
 * limits (keys, models and accounts come from memory, the usage row is written behind) and
 * one with `--rpm 1000000`, so every request's admission is decided by the shared limiter
 * (one PL/pgSQL call, or one Lua script in Redis) yet is never refused. All six
 * (mode × key) targets are loaded unqueued (1 connection) in one closed-loop run, in
 * alternating rounds, so the differences are the backend's and not the machine's mood.
 *
 * The servers are real: test/support/services.ts starts PostgreSQL and Redis from the
 * Debian packages (`make services` installs them).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres, startRedis } from '../test/support/services';
import type { ClosedConfig, ClosedResult, Target } from './load';
import { BINARY, run, type Running } from './processes';
import type { BenchUpstream } from './upstream';

export type SharedDbMode = 'sqlite' | 'postgres' | 'postgres+redis';
export type SharedDbKey = 'plain' | 'rpm';

export const SHARED_DB_MODES: readonly SharedDbMode[] = ['sqlite', 'postgres', 'postgres+redis'];
export const SHARED_DB_KEYS: readonly SharedDbKey[] = ['plain', 'rpm'];
/** High enough never to refuse at 1 connection, so only the cost of consulting the limit is measured. */
export const SHARED_DB_RPM = 1_000_000;
/** The brief's target for the per-request cost of PostgreSQL mode (p50, loopback, unloaded). */
export const SHARED_DB_TARGET_MS = 0.3;

export const sharedDbTargetName = (mode: SharedDbMode, key: SharedDbKey): string => `${mode} ${key}`;

export interface SharedDbResult {
  rpm: number;
  postgresVersion: string;
  redisVersion: string;
  closed: ClosedResult;
}

export interface SharedDbContext {
  up: BenchUpstream;
  work: string;
  /** Starts `dist/codexin serve` on the simulated upstream with these extra arguments and environment. */
  serve(name: string, args: string[], env: Record<string, string>): Promise<Running>;
  /** Runs one load config in the load generator's process. */
  load(name: string, config: ClosedConfig): Promise<ClosedResult>;
  /** The closed-loop timing parameters (rounds, round and warm-up seconds) of this run. */
  timing: Pick<ClosedConfig, 'rounds' | 'roundSeconds' | 'warmupSeconds'>;
  /** The non-stream request body (scenario 1's). */
  body: unknown;
  log(line: string): void;
}

interface Instance {
  mode: SharedDbMode;
  server: Running;
  keys: Record<SharedDbKey, string>;
}

/** Imports the bench account and creates both keys, through the CLI as an operator would. */
async function provision(ctx: SharedDbContext, where: string[], env: Record<string, string>): Promise<Record<SharedDbKey, string>> {
  const authPath = join(ctx.work, 'auth.json');
  writeFileSync(authPath, JSON.stringify(ctx.up.account.authJson));
  await run([BINARY, 'accounts', 'import', authPath, ...where], { env });
  const create = async (name: string, extra: string[]) => (JSON.parse(await run([BINARY, 'keys', 'create', '--name', name, '--json', ...extra, ...where], { env })) as { key: string }).key;
  return { plain: await create('bench-plain', []), rpm: await create('bench-rpm', ['--rpm', String(SHARED_DB_RPM)]) };
}

/** 32 random bytes, base64: the token-sealing key every PostgreSQL-mode command needs. */
function secretKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');
}

export async function sharedDatabase(ctx: SharedDbContext): Promise<SharedDbResult> {
  ctx.log('   starting PostgreSQL and Redis (test/support/services.ts)');
  const pg = await startPostgres();
  const redis = await startRedis();
  const instances: Instance[] = [];
  try {
    const env = { CODEXIN_SECRET_KEY: secretKey() };
    for (const mode of SHARED_DB_MODES) {
      // A data dir per instance even in PostgreSQL mode: nothing of one may leak into another.
      const dataDir = join(ctx.work, `shared-db-${mode.replace('+', '-')}`);
      mkdirSync(dataDir);
      const where = mode === 'sqlite' ? ['--data-dir', dataDir] : ['--data-dir', dataDir, '--database-url', await pg.createDatabase()];
      const keys = await provision(ctx, where, mode === 'sqlite' ? {} : env);
      const serveArgs = mode === 'postgres+redis' ? [...where, '--redis-url', redis.url] : where;
      const server = await ctx.serve(`shared-db-${mode.replace('+', '-')}`, serveArgs, mode === 'sqlite' ? {} : env);
      instances.push({ mode, server, keys });
    }
    const body = JSON.stringify(ctx.body);
    const targets: Target[] = instances.flatMap(({ mode, server, keys }) =>
      SHARED_DB_KEYS.map((key) => ({
        name: sharedDbTargetName(mode, key),
        host: '127.0.0.1',
        port: server.port,
        path: '/v1/responses',
        headers: { authorization: `Bearer ${keys[key]}`, 'content-type': 'application/json' },
        body,
        format: 'json' as const,
        pid: server.pid,
      })),
    );
    // Each key answers once before the load starts, so a misconfigured one fails here and not as a column of errors.
    for (const t of targets) {
      const res = await fetch(`http://${t.host}:${t.port}${t.path}`, { method: 'POST', headers: t.headers, body: t.body });
      await res.text();
      if (res.status !== 200) throw new Error(`scenario 6: ${t.name} answered ${res.status}`);
    }
    const config: ClosedConfig = { mode: 'closed', targets, concurrency: 1, ...ctx.timing, maxRequestsPerPass: 2_000_000 };
    const closed = await ctx.load('shared-db', config);
    return { rpm: SHARED_DB_RPM, ...(await serverVersions(pg.url, redis.url)), closed };
  } finally {
    for (const { server } of instances) await server.stop();
    await redis.stop();
    await pg.stop();
  }
}

async function serverVersions(pgUrl: string, redisUrl: string): Promise<{ postgresVersion: string; redisVersion: string }> {
  const sql = new Bun.SQL(pgUrl, { max: 1 });
  const client = new Bun.RedisClient(redisUrl);
  try {
    const rows = (await sql`SHOW server_version`) as { server_version: string }[];
    const info = String(await client.send('INFO', ['server']));
    return { postgresVersion: rows[0]?.server_version ?? 'unknown', redisVersion: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
  } finally {
    client.close();
    await sql.close();
  }
}
