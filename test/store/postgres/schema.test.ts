import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { SQL } from 'bun';
import { startPostgres, type PostgresServer } from '../../support/services';
import { openPostgres, schemaVersion } from '../../../src/store/postgres/database';
import { PG_MIGRATIONS } from '../../../src/store/postgres/migrations';

let pg: PostgresServer;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg.stop();
});

describe('PostgreSQL schema', () => {
  test('instances opening one fresh database at the same moment apply each migration once', async () => {
    const url = await pg.createDatabase();
    const pools = await Promise.all(Array.from({ length: 4 }, () => openPostgres(url, { max: 2 })));
    const rows = await pools[0]!`SELECT version FROM codexin_schema ORDER BY version`;
    expect(rows.map((r: { version: number }) => r.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
    expect(await schemaVersion(pools[0]!)).toBe(PG_MIGRATIONS.length);
    const tables = await pools[0]!`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'keys'`;
    expect(tables[0].n).toBe(1);
    await Promise.all(pools.map((p) => p.close()));
  });

  test('time and token columns come back as JavaScript numbers', async () => {
    const sql = await openPostgres(await pg.createDatabase());
    await sql`INSERT INTO usage_daily (key_id, day, tokens) VALUES ('k', 1, ${Date.now()})`;
    const [row] = await sql`SELECT tokens FROM usage_daily`;
    expect(typeof row.tokens).toBe('number');
    await sql.close();
  });

  test('a database newer than this build is refused with a message', async () => {
    const url = await pg.createDatabase();
    const raw = new SQL(url);
    await raw`CREATE TABLE codexin_schema (version integer PRIMARY KEY, applied_at bigint NOT NULL)`;
    await raw`INSERT INTO codexin_schema VALUES (${PG_MIGRATIONS.length + 1}, 0)`;
    await raw.close();
    await expect(openPostgres(url)).rejects.toThrow(/newer than this CodexIn build/);
  });

  test('an unreachable server fails within the deadline, and the message hides the password', async () => {
    const started = Date.now();
    const error = await openPostgres('postgres://codexin:hunter2@127.0.0.1:1/x', { deadlineMs: 500 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
