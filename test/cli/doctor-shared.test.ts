/** `codexin doctor --database-url`: the shared database, the instances' common secret key and Redis, through the compiled binary. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { removeTempDirs, runCli } from '../support/binary';
import { freePort, startPostgres, startRedis, type PostgresServer, type RedisServer } from '../support/services';

let pg: PostgresServer;
let redis: RedisServer;
beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([pg.stop(), redis.stop()]);
  removeTempDirs();
});

type Report = { healthy: boolean; checks: { name: string; ok: boolean; detail: string }[] };
const doctor = async (args: string[], env: Record<string, string>) => {
  const run = await runCli(['doctor', '--json', '--upstream', 'mock', ...args], { env });
  return { code: run.code, report: JSON.parse(run.stdout) as Report, output: run.stdout + run.stderr };
};

test('healthy: database reachable with its schema, the key is the database key, Redis answers; the password is never shown', async () => {
  const url = (await pg.createDatabase()).replace('codexin@', 'codexin:hunter2@');
  const key = randomBytes(32).toString('base64');
  const { code, report, output } = await doctor(['--database-url', url, '--redis-url', redis.url], { CODEXIN_SECRET_KEY: key });
  expect(code).toBe(0);
  expect(report.healthy).toBe(true);
  expect(report.checks.map((c) => c.name)).toEqual(['database', 'secret key', 'redis']);
  expect(report.checks[0]!.detail).toMatch(/reachable, schema version \d+/);
  expect(output).not.toContain('hunter2');
  expect(output).not.toContain(key);
});

test('an instance with another secret key, and a Redis that does not answer, are failures that say what to do', async () => {
  const url = await pg.createDatabase();
  await doctor(['--database-url', url], { CODEXIN_SECRET_KEY: randomBytes(32).toString('base64') });
  const { code, report } = await doctor(['--database-url', url, '--redis-url', `redis://127.0.0.1:${freePort()}`], { CODEXIN_SECRET_KEY: randomBytes(32).toString('base64') });
  expect(code).toBe(1);
  const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  expect(byName['secret key']).toMatchObject({ ok: false, detail: expect.stringContaining('same CODEXIN_SECRET_KEY') });
  expect(byName['redis']).toMatchObject({ ok: false, detail: expect.stringContaining('per-instance share') });
});

test('no secret key at all with a shared database: the key check fails naming CODEXIN_SECRET_KEY', async () => {
  const { code, report } = await doctor(['--database-url', await pg.createDatabase()], {});
  expect(code).toBe(1);
  expect(report.checks.find((c) => c.name === 'secret key')).toMatchObject({ ok: false, detail: expect.stringContaining('CODEXIN_SECRET_KEY') });
});

test('an unreachable database is one failed check, not a crash', async () => {
  const { code, report, output } = await doctor(['--database-url', `postgres://codexin:hunter2@127.0.0.1:${freePort()}/x`], {});
  expect(code).toBe(1);
  expect(report.checks[0]).toMatchObject({ name: 'database', ok: false });
  expect(output).not.toContain('hunter2');
});
