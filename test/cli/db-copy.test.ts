/**
 * `codexin db copy`: a data dir populated through the real CLI and stores, copied into
 * a real PostgreSQL by the CLI run from source, then compared table by table.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Database } from 'bun:sqlite';
import { SQL } from 'bun';
import { closeDatabase, openDatabase } from '../../src/store/db';
import { SqliteModelStore } from '../../src/store/models';
import { SqliteUsageStore } from '../../src/store/usage';
import { SqliteFileStore } from '../../src/store/files';
import { DiskBlobStore, sha256Hex } from '../../src/store/blobs';
import { rowToRecord, type AccountRow } from '../../src/store/account-rows';
import { parseSecretKey, SecretBox } from '../../src/store/secret-box';
import { MIGRATIONS } from '../../src/store/migrations';
import { openPostgres } from '../../src/store/postgres/database';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import type { IssuedAccount } from '../../src/upstream/mock/types';
import { makeTempDir, removeTempDirs, runCli, sourceCommand, startServer, stopAllServers, type RunResult } from '../support/binary';
import { freePort, startPostgres, type PostgresServer } from '../support/services';

let pg: PostgresServer;
let sim: Simulator;
let stopSim: () => Promise<void>;

beforeAll(async () => {
  pg = await startPostgres();
  sim = createSimulator({ plan: 'pro' });
  stopSim = (await sim.start()).stop;
}, 60_000);

afterAll(async () => {
  await stopAllServers();
  await stopSim();
  await pg.stop();
  removeTempDirs();
});

const cli = (args: string[]): Promise<RunResult> => runCli(args, { command: sourceCommand(), timeoutMs: 60_000 });

const DAY = 86_400_000;
const USAGE_ROWS = 2_345; // more than two of the copy's 1000-row batches
const PASSWORD = 'hunter2-not-to-be-echoed';

/** The URL of a fresh database, with a password in it (the test cluster trusts loopback, so any password works). */
async function freshTarget(): Promise<string> {
  return (await pg.createDatabase()).replace('postgres://codexin@', `postgres://codexin:${PASSWORD}@`);
}

interface Populated {
  dir: string;
  issued: IssuedAccount;
  keyIds: string[];
  fileBytes: Uint8Array;
}

/** A data dir with keys (with limits, one revoked), an account, models, usage over several days and files. */
async function populate(): Promise<Populated> {
  const dir = makeTempDir('db-copy');
  const alpha = await cli(['keys', 'create', '--name', 'alpha', '--rpm', '60', '--tokens-per-day', '1000', '--tokens-per-week', '5000', '--max-concurrent', '2', '--models', 'gpt-5,gpt-5-codex', '--expires-in', '30d', '--data-dir', dir, '--json']);
  expect(alpha.code).toBe(0);
  const beta = await cli(['keys', 'create', '--name', 'beta', '--admin', '--data-dir', dir, '--json']);
  expect(beta.code).toBe(0);
  const keyIds = [(JSON.parse(alpha.stdout) as { id: string }).id, (JSON.parse(beta.stdout) as { id: string }).id];
  expect((await cli(['keys', 'revoke', keyIds[1]!, '--data-dir', dir])).code).toBe(0);

  const issued = sim.issueAccount({ plan: 'plus', email: 'ada@example.com' });
  const authPath = join(makeTempDir('auth'), 'auth.json');
  writeFileSync(authPath, JSON.stringify(issued.authJson));
  expect((await cli(['accounts', 'import', authPath, '--data-dir', dir])).code).toBe(0);

  const db = openDatabase(join(dir, 'codexin.db'));
  try {
    const models = new SqliteModelStore(db);
    models.seed();
    db.query("UPDATE models SET enabled = 0 WHERE id = (SELECT id FROM models ORDER BY position LIMIT 1)").run();
    const accountId = (db.query('SELECT id FROM accounts').get() as { id: string }).id;
    const usage = new SqliteUsageStore(db);
    const start = Date.UTC(2025, 0, 1, 20, 0, 0);
    for (let i = 0; i < USAGE_ROWS; i++) {
      const keyId = i % 7 === 0 ? null : keyIds[i % 2]!;
      usage.record(
        {
          keyId,
          accountId: i % 3 === 0 ? null : accountId,
          route: i % 5 === 0 ? '/v1/models' : '/v1/responses',
          model: i % 5 === 0 ? null : 'gpt-5',
          status: i % 11 === 0 ? 429 : 200,
          usage: i % 5 === 0 ? null : { input_tokens: 10 + i, input_tokens_details: { cached_tokens: i % 4 }, output_tokens: 3 + (i % 13), output_tokens_details: { reasoning_tokens: i % 2 }, total_tokens: 13 + i + (i % 13) },
          latencyMs: 100 + i,
          ttfbMs: i % 2 ? 20 : null,
          requestId: `req_${i}`,
          errorCode: i % 11 === 0 ? 'rate_limit_exceeded' : null,
        },
        start + i * 137_000, // spreads over several UTC days
      );
    }
    expect(usage.flush({ wait: true })).toBe(true);
    const blobs = new DiskBlobStore(join(dir, 'files'));
    const fileBytes = new Uint8Array(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    const sha = blobs.put(fileBytes);
    const files = new SqliteFileStore(db);
    files.insert({ keyId: keyIds[0]!, filename: 'a.bin', purpose: 'user_data', bytes: fileBytes.byteLength, sha256: sha, mime: 'application/octet-stream' });
    // The same content twice is one blob.
    files.insert({ keyId: keyIds[0]!, filename: 'copy-of-a.bin', purpose: 'assistants', bytes: fileBytes.byteLength, sha256: sha, mime: 'application/octet-stream', expiresAt: Date.now() + DAY, upstreamFileId: 'file_up_1' });
    return { dir, issued, keyIds, fileBytes };
  } finally {
    closeDatabase(db);
  }
}

type Value = string | number | null | boolean | Uint8Array;

/** Rows as comparable plain values (bytes as hex: SQLite gives Uint8Array, PostgreSQL a Buffer). */
function plain(rows: Record<string, Value>[]): Record<string, Value>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v])));
}

const ORDER: Record<string, string> = { keys: 'id', models: 'id', accounts: 'id', usage: 'id', files: 'seq' };
const BIGSERIAL = new Set(['usage.id', 'files.seq']);

function sqliteRows(dir: string, table: string): { columns: string[]; rows: Record<string, Value>[] } {
  const db = new Database(join(dir, 'codexin.db'), { readonly: true, strict: true });
  try {
    const columns = (db.query(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);
    return { columns, rows: plain(db.query(`SELECT * FROM ${table} ORDER BY ${ORDER[table]}`).all() as Record<string, Value>[]) };
  } finally {
    db.close();
  }
}

async function withPg<T>(url: string, work: (sql: SQL) => Promise<T>): Promise<T> {
  const sql = new SQL(url, { max: 1 });
  try {
    return await work(sql);
  } finally {
    await sql.close();
  }
}

function copy(dir: string, to: string, extra: string[] = ['--json']): Promise<RunResult> {
  return cli(['db', 'copy', '--from', `sqlite:${dir}`, '--to', to, ...extra]);
}

function expectNoSecrets(result: RunResult, issued?: IssuedAccount): void {
  for (const out of [result.stdout, result.stderr]) {
    expect(out).not.toContain(PASSWORD);
    if (issued) for (const token of [issued.accessToken, issued.refreshToken, issued.idToken]) expect(out).not.toContain(token);
  }
}

describe('codexin db copy', () => {
  let source: Populated;
  let target: string;
  let copied: RunResult;

  beforeAll(async () => {
    source = await populate();
    target = await freshTarget();
    copied = await copy(source.dir, target);
  }, 120_000);

  test('copies every row of keys, models, accounts, usage and files as it is', async () => {
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    const out = JSON.parse(copied.stdout) as { to: string; tables: Record<string, number>; missing_blobs: string[]; secret_key: string | null };
    expect(out.tables).toMatchObject({ keys: 2, accounts: 1, usage: USAGE_ROWS, files: 2, blobs: 1 });
    expect(out.missing_blobs).toEqual([]);
    expect(out.to).toContain('codexin:***@');
    expect(out.secret_key).toContain('CODEXIN_SECRET_KEY');
    expectNoSecrets(copied, source.issued);
    await withPg(target, async (sql) => {
      for (const table of Object.keys(ORDER)) {
        const { columns, rows } = sqliteRows(source.dir, table);
        expect(rows.length).toBeGreaterThan(0);
        expect(out.tables[table]).toBe(rows.length);
        // bigserial columns come back from Bun as strings: read them as numbers to compare.
        const select = columns.map((c) => (BIGSERIAL.has(`${table}.${c}`) ? `${c}::float8 AS ${c}` : c));
        const got = plain((await sql.unsafe(`SELECT ${select.join(', ')} FROM ${table} ORDER BY ${ORDER[table]}`)) as Record<string, Value>[]);
        expect(got).toEqual(rows);
      }
      const blobs = (await sql`SELECT sha256, bytes FROM blobs`) as { sha256: string; bytes: Buffer }[];
      expect(blobs).toHaveLength(1);
      expect(blobs[0]!.sha256).toBe(sha256Hex(source.fileBytes));
      expect(Buffer.compare(blobs[0]!.bytes, Buffer.from(source.fileBytes))).toBe(0);
    });
  });

  test('rebuilds usage_daily: input + output tokens per key and UTC day, without rows of no key', async () => {
    const db = new Database(join(source.dir, 'codexin.db'), { readonly: true });
    const expected = db
      .query('SELECT key_id, at / 86400000 AS day, sum(input_tokens + output_tokens) AS tokens FROM usage WHERE key_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2')
      .all() as { key_id: string; day: number; tokens: number }[];
    db.close();
    expect(expected.length).toBeGreaterThan(2);
    const out = JSON.parse(copied.stdout) as { tables: Record<string, number> };
    expect(out.tables.usage_daily).toBe(expected.length);
    await withPg(target, async (sql) => {
      const got = await sql`SELECT key_id, day, tokens FROM usage_daily ORDER BY key_id, day`;
      expect([...got]).toEqual(expected);
    });
  });

  test('sequences continue after the copied ids', async () => {
    await withPg(target, async (sql) => {
      const maxUsage = ((await sql`SELECT max(id)::int AS m FROM usage`)[0] as { m: number }).m;
      const maxSeq = ((await sql`SELECT max(seq)::int AS m FROM files`)[0] as { m: number }).m;
      const usage = (await sql`INSERT INTO usage (at, route, status) VALUES (${Date.now()}, '/v1/models', 200) RETURNING id::int AS id`)[0] as { id: number };
      expect(usage.id).toBe(maxUsage + 1);
      const file = (await sql`INSERT INTO files (id, key_id, filename, purpose, bytes, sha256, mime, created_at)
        VALUES ('file-next', 'k', 'n', 'user_data', 1, 'x', 'text/plain', ${Date.now()}) RETURNING seq::int AS seq`)[0] as { seq: number };
      expect(file.seq).toBe(maxSeq + 1);
      await sql`DELETE FROM usage WHERE id = ${usage.id}`;
      await sql`DELETE FROM files WHERE id = 'file-next'`;
    });
  });

  test('tokens moved sealed and still open with the source secret key', async () => {
    const box = new SecretBox(parseSecretKey(readFileSync(join(source.dir, 'secret.key'), 'utf8'), 'secret.key'));
    await withPg(target, async (sql) => {
      const rows = (await sql`SELECT * FROM accounts`) as AccountRow[];
      expect(rows).toHaveLength(1);
      expect(rows[0]!.refresh_token).not.toContain(source.issued.refreshToken);
      const record = rowToRecord(rows[0]!, box);
      expect(record.refreshToken).toBe(source.issued.refreshToken);
      expect(record.accessToken).toBe(source.issued.accessToken);
      expect(record.idToken).toBe(source.issued.idToken);
    });
  });

  test('a second copy into the same target is refused, naming what it holds; the human output names the tables', async () => {
    const again = await copy(source.dir, target, []);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds data (keys: 2 rows, accounts: 1 row, usage: ');
    expect(again.stderr).toContain('codexin:***@');
    expectNoSecrets(again, source.issued);
    await withPg(target, async (sql) => {
      expect(((await sql`SELECT count(*)::int AS n FROM usage`)[0] as { n: number }).n).toBe(USAGE_ROWS);
    });
    const human = await copy(source.dir, await freshTarget(), []);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^\s+usage\s+2345$/m);
    expect(human.stdout).toContain('secret key');
    expectNoSecrets(human, source.issued);
  });

  test('all or nothing: a row PostgreSQL rejects mid-copy leaves the target empty', async () => {
    const dir = makeTempDir('db-copy-bad');
    cpSync(source.dir, dir, { recursive: true });
    const db = new Database(join(dir, 'codexin.db'));
    // An int4 column in PostgreSQL: the last usage batch fails after keys, models and accounts went in.
    db.query('UPDATE usage SET status = 1099511627776 WHERE id = (SELECT max(id) FROM usage)').run();
    db.close();
    const url = await freshTarget();
    const failed = await copy(dir, url);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('nothing was copied');
    expectNoSecrets(failed);
    await withPg(url, async (sql) => {
      for (const table of ['keys', 'models', 'accounts', 'usage', 'files', 'blobs', 'usage_daily']) {
        expect(((await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`))[0] as { n: number }).n).toBe(0);
      }
    });
  });

  test('refuses an older source schema and plaintext tokens, telling what to run', async () => {
    const old = makeTempDir('db-copy-old');
    cpSync(source.dir, old, { recursive: true });
    let db = new Database(join(old, 'codexin.db'));
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length - 1}`);
    db.close();
    const older = await copy(join(old, 'codexin.db'), await freshTarget());
    expect(older.code).toBe(1);
    expect(older.stderr).toContain(`older than this build's ${MIGRATIONS.length}: run any codexin command on it first (e.g. codexin accounts list --data-dir ${old})`);

    const plain = makeTempDir('db-copy-plain');
    cpSync(source.dir, plain, { recursive: true });
    db = new Database(join(plain, 'codexin.db'));
    db.query("UPDATE accounts SET access_token = 'plaintext-token'").run();
    db.close();
    const unsealed = await copy(plain, await freshTarget());
    expect(unsealed.code).toBe(1);
    expect(unsealed.stderr).toContain(`tokens in plaintext (written by an older CodexIn): run "codexin accounts list --data-dir ${plain}" once`);
    expect(unsealed.stderr).not.toContain('plaintext-token');
    // The suggested command seals them; then the copy goes through.
    expect((await cli(['accounts', 'list', '--data-dir', plain])).code).toBe(0);
    expect((await copy(plain, await freshTarget())).code).toBe(0);
  });

  test('a target that already holds the seeded model catalog takes the source version of each model', async () => {
    const url = await freshTarget();
    const { rows } = sqliteRows(source.dir, 'models');
    const disabled = rows.find((m) => m.enabled === 0)!;
    // What a PostgreSQL serve that started first would have: the catalog, everything enabled, plus a model the source lacks.
    await withPg(url, async (sql) => {
      const migrated = await openPostgres(url);
      await migrated.close();
      await sql`INSERT INTO models (id, upstream_slug, display_name, created, context_window, position, enabled)
        VALUES (${disabled.id as string}, 'slug', 'Old name', 1, 1, 0, 1), ('only-in-target', 'slug', 'Extra', 1, 1, 99, 1)`;
    });
    const result = await copy(source.dir, url);
    expect(result.code).toBe(0);
    await withPg(url, async (sql) => {
      const got = (await sql`SELECT id, display_name, enabled FROM models WHERE id IN (${disabled.id as string}, 'only-in-target') ORDER BY id`) as { id: string; display_name: string; enabled: number }[];
      expect(got).toEqual(
        [
          { id: disabled.id as string, display_name: disabled.display_name as string, enabled: 0 },
          { id: 'only-in-target', display_name: 'Extra', enabled: 1 },
        ].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
    });
  });

  test('a file whose bytes are gone is copied without them and reported', async () => {
    const dir = makeTempDir('db-copy-lost');
    cpSync(source.dir, dir, { recursive: true });
    const sha = sha256Hex(source.fileBytes);
    rmSync(join(dir, 'files', sha));
    const lost = await copy(dir, await freshTarget());
    expect(lost.code).toBe(0);
    const out = JSON.parse(lost.stdout) as { tables: Record<string, number>; missing_blobs: string[] };
    expect(out.tables).toMatchObject({ files: 2, blobs: 0 });
    expect(out.missing_blobs).toEqual([sha]);
  });

  test('copies beside a running serve: a consistent snapshot, said so', async () => {
    const dir = makeTempDir('db-copy-live');
    cpSync(source.dir, dir, { recursive: true });
    rmSync(join(dir, 'serve.lock'), { force: true });
    const server = await startServer({ command: sourceCommand(), dataDir: dir, args: ['--upstream', 'mock'], startTimeoutMs: 30_000 });
    try {
      const live = await copy(dir, await freshTarget());
      expect(live.code).toBe(0);
      expect(live.stderr).toContain(`a codexin serve (pid ${server.pid}) is using ${dir}: copying a consistent snapshot`);
      const out = JSON.parse(live.stdout) as { snapshot_of_running_serve: boolean; tables: Record<string, number> };
      expect(out.snapshot_of_running_serve).toBe(true);
      expect(out.tables.keys).toBe(2);
      // The probe let go of nothing the serve holds: a second serve is still refused.
      const second = await cli(['serve', '--data-dir', dir, '--port', '0', '--upstream', 'mock']);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`another codexin serve (pid ${server.pid}, `);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe('codexin db copy: bad arguments', () => {
  test('bad sources and targets are exit 2 with a one-line reason; the password is never echoed', async () => {
    const empty = makeTempDir('db-copy-empty');
    const url = await freshTarget();
    const cases: Array<[string[], string]> = [
      [['db', 'copy', '--to', url], '--from is required'],
      [['db', 'copy', '--from', `sqlite:${empty}`], '--to is required'],
      [['db', 'copy', '--from', empty, '--to', url], 'is not sqlite:PATH'],
      [['db', 'copy', '--from', `sqlite:${join(empty, 'nope')}`, '--to', url], 'does not exist'],
      [['db', 'copy', '--from', `sqlite:${empty}`, '--to', url], 'holds no codexin.db'],
      [['db', 'copy', '--from', `sqlite:${empty}`, '--to', `mysql://root:${PASSWORD}@127.0.0.1/db`], 'is not a postgres:// URL'],
      [['db', 'copy', '--from', `sqlite:${empty}`, '--to', `postgres://codexin:${PASSWORD}@127.0.0.1:5432`], 'names no database'],
      [['db', 'copy', '--from', `sqlite:${empty}`, '--to', 'not a url'], 'not a URL'],
      [['db', 'move'], 'unknown subcommand "move"'],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expectNoSecrets(result);
    }
    const notDb = join(empty, 'codexin.db');
    writeFileSync(notDb, 'this is not a database, just text that is long enough to have a header'.repeat(10));
    const garbage = await cli(['db', 'copy', '--from', `sqlite:${notDb}`, '--to', url]);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toContain('is not a readable SQLite database');
  });

  test('an unreachable target is exit 1, with the URL redacted', async () => {
    const source = makeTempDir('db-copy-unreachable');
    expect((await cli(['keys', 'create', '--name', 'x', '--data-dir', source])).code).toBe(0);
    const result = await cli(['db', 'copy', '--from', `sqlite:${source}`, '--to', `postgres://codexin:${PASSWORD}@127.0.0.1:${freePort()}/nowhere`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot open the database postgres://codexin:***@127.0.0.1:');
    expectNoSecrets(result);
  });

  test('help lists the command', async () => {
    const list = await cli(['help']);
    expect(list.stdout).toContain('db copy');
    const usage = await cli(['db', '--help']);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toContain('usage: codexin db copy --from sqlite:PATH --to postgres://');
  });
});
