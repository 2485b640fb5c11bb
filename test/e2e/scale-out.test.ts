/**
 * Scale-out acceptance: two compiled `codexin serve` processes on one real
 * PostgreSQL database (and, in the second variant, one real Redis), in front of the
 * upstream simulator, with a 300 ms delay on every auth-server answer. What one
 * instance admits, refreshes, revokes or meters, the other sees.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQL } from 'bun';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations';
import { bearer, makeTempDir, removeTempDirs, runCli, startServer, type RunningServer } from '../support/binary';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '../support/services';

const AUTH_DELAY_MS = 300;
const secretKey = randomBytes(32).toString('base64');
const env = { CODEXIN_SECRET_KEY: secretKey };

let pg: PostgresServer;
let redis: RedisServer;
let sim: Simulator;
let simUrl: string;
let stopSim: () => Promise<void>;
let slowAuth: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  sim = createSimulator();
  const running = await sim.start({ hostname: '127.0.0.1', port: 0 });
  simUrl = running.url;
  stopSim = running.stop;
  // The auth server, 300 ms away: long enough for every instance to pile up behind one refresh.
  slowAuth = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      await Bun.sleep(AUTH_DELAY_MS);
      const url = new URL(request.url);
      return fetch(`${simUrl}${url.pathname}${url.search}`, { method: request.method, headers: request.headers, body: request.method === 'GET' ? undefined : await request.arrayBuffer() });
    },
  });
});

afterAll(async () => {
  slowAuth.stop(true);
  await stopSim();
  await Promise.all([pg.stop(), redis.stop()]);
  removeTempDirs();
});

interface Cluster {
  url: string;
  a: RunningServer;
  b: RunningServer;
  adminKey: string;
  sql: SQL;
  /** A key made with the CLI against the shared database. */
  key(flags?: string[]): Promise<{ id: string; key: string }>;
}

const clusters: Cluster[] = [];
afterAll(async () => {
  for (const c of clusters) {
    await Promise.all([c.a.stop().catch(() => {}), c.b.stop().catch(() => {})]);
    await c.sql.close();
  }
});

async function cli(args: string[]): Promise<string> {
  const result = await runCli(args, { env });
  if (result.code !== 0) throw new Error(`codexin ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** A fresh database with one imported simulated account, and two servers started at the same moment on it. */
async function cluster(withRedis: boolean, opts: { expiredToken?: boolean } = {}): Promise<Cluster> {
  const url = await pg.createDatabase();
  const dir = makeTempDir('scale');
  const authPath = join(dir, 'auth.json');
  writeFileSync(authPath, JSON.stringify(sim.issueAccount().authJson));
  await cli(['accounts', 'import', authPath, '--database-url', url]);
  const sql = new SQL(url, { max: 2 });
  // CodexIn believes the access token expired: the first request on each instance wants a refresh.
  if (opts.expiredToken) await sql`UPDATE accounts SET access_expires_at = ${Date.now() - 60_000}`;
  const args = ['--database-url', url, ...(withRedis ? ['--redis-url', redis.url] : []), '--upstream', 'chatgpt', '--upstream-url', `${simUrl}/backend-api`, '--auth-url', `http://127.0.0.1:${slowAuth.port}`];
  const [a, b] = await Promise.all([startServer({ args, env }), startServer({ args, env })]);
  const adminKey = a.adminKey ?? b.adminKey;
  if (!adminKey) throw new Error('neither instance printed the first admin key');
  const c: Cluster = {
    url,
    a,
    b,
    adminKey,
    sql,
    async key(flags = []) {
      return JSON.parse(await cli(['keys', 'create', '--name', 'scale', '--json', '--database-url', url, ...flags])) as { id: string; key: string };
    },
  };
  clusters.push(c);
  return c;
}

function ask(server: RunningServer, key: string, input = 'hello', stream = false): Promise<Response> {
  return fetch(`${server.url}/v1/responses`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5.4', input, stream }),
  });
}

/** Polls until `probe` holds, failing after `ms`. */
async function within(ms: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(20);
  }
}

for (const withRedis of [false, true]) {
  describe(`two instances on one PostgreSQL database${withRedis ? ' with Redis' : ''}`, () => {
    test('starting together, two fresh instances create one schema and one admin key', async () => {
      const c = await cluster(withRedis);
      expect([c.a.adminKey, c.b.adminKey].filter(Boolean)).toHaveLength(1);
      const [{ n }] = await c.sql`SELECT count(*)::int AS n FROM keys`;
      expect(n).toBe(1);
      const versions = await c.sql`SELECT version FROM codexin_schema ORDER BY version`;
      expect(versions.map((r: { version: number }) => r.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
      // The admin key works on both.
      for (const server of [c.a, c.b]) expect((await fetch(`${server.url}/admin/keys`, { headers: bearer(c.adminKey) })).status).toBe(200);
    });

    test('an expired token under 20 concurrent requests split across both: one refresh, 20 answers, the account stays active', async () => {
      const c = await cluster(withRedis, { expiredToken: true });
      const before = sim.refreshCount;
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(i % 2 ? c.a : c.b, c.adminKey, `q${i}`)));
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(sim.refreshCount - before).toBe(1);
      for (const server of [c.a, c.b]) {
        const accounts = (await (await fetch(`${server.url}/admin/accounts`, { headers: bearer(c.adminKey) })).json()) as { data: { status: string }[] };
        expect(accounts.data.map((a) => a.status)).toEqual(['active']);
      }
      // Both instances now hold the rotated token: no more refreshes.
      await Promise.all([ask(c.a, c.adminKey), ask(c.b, c.adminKey)]);
      expect(sim.refreshCount - before).toBe(1);
    });

    test('--rpm 6: exactly 6 of 12 alternating requests are admitted', async () => {
      const c = await cluster(withRedis);
      const { key } = await c.key(['--rpm', '6']);
      await within(1_000, async () => (await fetch(`${c.b.url}/v1/me`, { headers: bearer(key) })).status === 200);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await ask(i % 2 ? c.a : c.b, key)).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(6);
      expect(statuses.filter((s) => s === 429)).toHaveLength(6);
      // The window lives where the variant says: Redis, or PostgreSQL's rate_hits.
      const { id } = (await (await fetch(`${c.a.url}/admin/keys`, { headers: bearer(c.adminKey) })).json() as { data: { id: string; rpm: number | null }[] }).data.find((k) => k.rpm === 6)!;
      const client = new Bun.RedisClient(redis.url);
      const inRedis = Number(await client.send('ZCARD', [`codexin:rate:${id}`]));
      client.close();
      const [{ n: inPostgres }] = await c.sql`SELECT count(*)::int AS n FROM rate_hits WHERE key_id = ${id}`;
      expect([inRedis, inPostgres]).toEqual(withRedis ? [6, 0] : [0, 6]);
    });

    test('--max-concurrent 1: a second stream on the other instance gets 429 while the first runs', async () => {
      const c = await cluster(withRedis);
      const { key } = await c.key(['--max-concurrent', '1']);
      sim.enqueue({ kind: 'text', text: 'slow '.repeat(40), chunkSize: 5, delayMs: 60 });
      const first = await ask(c.a, key, 'long one', true);
      expect(first.status).toBe(200);
      const reader = first.body!.getReader();
      await reader.read();
      const second = await ask(c.b, key, 'meanwhile', true);
      expect(second.status).toBe(429);
      expect(((await second.json()) as { error: { code: string } }).error.code).toBe('concurrency_limit_exceeded');
      while (!(await reader.read()).done) {
        // Drain the first stream: its end releases the lease.
      }
      await within(2_000, async () => (await ask(c.b, key)).status === 200);
    });

    test('a key revoked on one instance is refused by the other within a second', async () => {
      const c = await cluster(withRedis);
      const created = (await (await fetch(`${c.a.url}/admin/keys`, { method: 'POST', headers: { ...bearer(c.adminKey), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'doomed' }) })).json()) as { id: string; key: string };
      expect((await fetch(`${c.b.url}/v1/models`, { headers: bearer(created.key) })).status).toBe(200);
      expect((await fetch(`${c.a.url}/admin/keys/${created.id}`, { method: 'DELETE', headers: bearer(c.adminKey) })).status).toBe(200);
      const took = await within(1_000, async () => (await fetch(`${c.b.url}/v1/models`, { headers: bearer(created.key) })).status === 401);
      expect(took).toBeLessThan(1_000);
    });

    test('usage made on either instance is reported by both, in /v1/me and in the admin usage', async () => {
      const c = await cluster(withRedis);
      const { key, id } = await c.key();
      for (let i = 0; i < 3; i++) expect((await ask(c.a, key, `on a ${i}`)).status).toBe(200);
      for (let i = 0; i < 2; i++) expect((await ask(c.b, key, `on b ${i}`)).status).toBe(200);
      type Me = { usage: { total: { input_tokens: number; output_tokens: number } } };
      const totals = async (server: RunningServer) => ((await (await fetch(`${server.url}/v1/me`, { headers: bearer(key) })).json()) as Me).usage.total;
      let seen: { input_tokens: number; output_tokens: number }[] = [];
      await within(3_000, async () => {
        seen = await Promise.all([totals(c.a), totals(c.b)]);
        return seen[0]!.output_tokens > 0 && JSON.stringify(seen[0]) === JSON.stringify(seen[1]);
      });
      const [{ out }] = await c.sql`SELECT sum(output_tokens)::int AS out FROM usage WHERE key_id = ${id} AND route = '/v1/responses'`;
      expect(seen[0]!.output_tokens).toBe(out);
      const [{ n }] = await c.sql`SELECT count(*)::int AS n FROM usage WHERE key_id = ${id} AND route = '/v1/responses'`;
      expect(n).toBe(5);
      for (const server of [c.a, c.b]) {
        const usage = (await (await fetch(`${server.url}/admin/usage?group=key&id=${id}`, { headers: bearer(c.adminKey) })).json()) as { data: { output_tokens: number }[] };
        expect(usage.data.reduce((sum, d) => sum + d.output_tokens, 0)).toBe(out);
      }
    });

    test('SIGTERM right after the answers loses no usage row', async () => {
      const c = await cluster(withRedis);
      const { id, key } = await c.key();
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => ask(c.a, key, `t${i}`)));
      expect(answers.every((r) => r.status === 200)).toBe(true);
      await Promise.all(answers.map((r) => r.text()));
      const stopped = await c.a.stop();
      expect(stopped.code).toBe(0);
      const [{ n }] = await c.sql`SELECT count(*)::int AS n FROM usage WHERE key_id = ${id} AND route = '/v1/responses'`;
      expect(n).toBe(10);
    });
  });
}

describe('when PostgreSQL stops answering under two running instances', () => {
  test('requests are served from memory, admin writes answer 503, /readyz is not ready; all catches up when it is back', async () => {
    const c = await cluster(false);
    const { key, id } = await c.key(['--rpm', '100']);
    await within(1_000, async () => (await fetch(`${c.b.url}/v1/me`, { headers: bearer(key) })).status === 200);
    pg.freeze();
    try {
      const started = Date.now();
      const answers = await Promise.all([ask(c.a, c.adminKey), ask(c.b, c.adminKey), ask(c.a, key), ask(c.b, key)]);
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(Date.now() - started).toBeLessThan(8_000);
      const write = await fetch(`${c.a.url}/admin/keys`, { method: 'POST', headers: { ...bearer(c.adminKey), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'during the outage' }) });
      expect(write.status).toBe(503);
      const error = ((await write.json()) as { error: { code: string; type: string } }).error;
      expect(error.code).toBe('database_unavailable');
      const ready = await fetch(`${c.b.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { database: boolean }).database).toBe(false);
    } finally {
      pg.thaw();
    }
    await within(10_000, async () => (await fetch(`${c.a.url}/readyz`)).status === 200 && (await fetch(`${c.b.url}/readyz`)).status === 200);
    // The usage rows queued during the outage are written once it is back.
    await within(5_000, async () => {
      const [{ n }] = await c.sql`SELECT count(*)::int AS n FROM usage WHERE key_id = ${id} AND route = '/v1/responses'`;
      return n === 2;
    });
  });
});
