/**
 * A database that cannot be written (locked by another process, read-only, full)
 * never turns a served answer into an error: the usage rows wait in memory and are
 * written when it recovers; the failure is logged, counted in /metrics, and /readyz
 * says 503 meanwhile.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let dir: string;
let dbPath: string;
let key: string;
let admin: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'codexin-usage-'));
  dbPath = join(dir, 'codexin.db');
  gw = await startGateway({ dbPath });
  key = gw.key([], { name: 'writer' });
  admin = gw.key(['admin']);
});
afterAll(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

const keyId = () => gw.keys.list().find((k) => k.name === 'writer')!.id;
const rowsInTable = () => (gw.db.query('SELECT count(*) AS n FROM usage WHERE key_id = $id').get({ id: keyId() }) as { n: number }).n;
const failuresMetric = async () => {
  const text = await (await gw.call('/metrics', { key: admin })).text();
  return Number(/^codexin_usage_write_failures_total (\d+)/m.exec(text)?.[1] ?? 'NaN');
};

async function serveBoth(): Promise<void> {
  const json = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'while the db is stuck' } });
  expect(json.status).toBe(200);
  expect(((await json.json()) as { status: string }).status).toBe('completed');
  const stream = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'stream while stuck', stream: true } });
  expect(stream.status).toBe(200);
  const text = await stream.text();
  expect(text).toContain('event: response.completed');
  expect(text).not.toContain('event: error');
}

test('another process holding BEGIN EXCLUSIVE: answers are served, rows wait, readyz is 503 until it lets go', async () => {
  expect((await gw.call('/readyz')).status).toBe(200);
  gw.usage.flush();
  const before = rowsInTable();
  const failuresBefore = await failuresMetric();
  const other = new Database(dbPath);
  other.exec('BEGIN EXCLUSIVE');
  try {
    const started = performance.now();
    await serveBoth();
    // The old writer waited out a 5 s busy timeout on the event loop for each row.
    expect(performance.now() - started).toBeLessThan(2500);
    expect(gw.usage.flush()).toBe(false);
    expect(gw.usage.health().pending).toBeGreaterThanOrEqual(2);
    const ready = await gw.call('/readyz');
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { database: boolean; database_error: string; usage_pending_rows: number };
    expect(body.database).toBe(false);
    expect(body.database_error).toContain('locked');
    expect(body.usage_pending_rows).toBeGreaterThanOrEqual(2);
    expect(gw.logs.some((line) => line.includes('usage write failed'))).toBe(true);
    expect(await failuresMetric()).toBeGreaterThan(failuresBefore);
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
  expect(gw.usage.flush()).toBe(true);
  expect(rowsInTable()).toBe(before + 2);
  expect((await gw.call('/readyz')).status).toBe(200);
  expect(gw.logs.some((line) => line.includes('usage writes recovered'))).toBe(true);
});

test('a read-only database: served, then written once it can be', async () => {
  gw.usage.flush();
  const before = rowsInTable();
  gw.db.exec('PRAGMA query_only = ON');
  try {
    await serveBoth();
    expect(gw.usage.flush()).toBe(false);
    const ready = await gw.call('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { database_error: string }).database_error).toContain('readonly');
  } finally {
    gw.db.exec('PRAGMA query_only = OFF');
  }
  expect(gw.usage.flush()).toBe(true);
  expect(rowsInTable()).toBe(before + 2);
});

test('a full disk: served, readyz 503 while the rows cannot be written', async () => {
  gw.usage.flush();
  const before = rowsInTable();
  const pages = (gw.db.query('PRAGMA page_count').get() as { page_count: number }).page_count;
  gw.db.exec(`PRAGMA max_page_count = ${pages}`);
  try {
    // Enough rows that the table must grow past the cap.
    for (let i = 0; i < 3; i++) await serveBoth();
    for (let i = 0; i < 400; i++) gw.usage.record({ keyId: null, accountId: null, route: '/filler', model: null, status: 200, usage: null, latencyMs: 0, ttfbMs: 0, requestId: 'x'.repeat(200) });
    expect(gw.usage.flush()).toBe(false);
    expect(gw.usage.health().lastError).toContain('full');
    expect((await gw.call('/readyz')).status).toBe(503);
  } finally {
    gw.db.exec('PRAGMA max_page_count = 1073741823');
  }
  expect(gw.usage.flush()).toBe(true);
  expect(rowsInTable()).toBe(before + 6);
  expect((await gw.call('/readyz')).status).toBe(200);
});
