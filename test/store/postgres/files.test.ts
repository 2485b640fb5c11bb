/**
 * Files in a shared PostgreSQL database: two instances (two pools, two stores, two
 * services) on one database see each other's uploads, keep owner isolation, store
 * identical bytes once, purge expired files, and fail fast when the server stops answering.
 */
import { describe, expect, test } from 'bun:test';
import { SQL } from 'bun';
import { postgresForFile } from '../../support/services';
import { DeadlineError, openPostgres, type Pg } from '../../../src/store/postgres/database';
import { PgBlobStore, PgFileStore } from '../../../src/store/postgres/files';
import { FileService } from '../../../src/service/files';
import { sha256Hex } from '../../../src/store/blobs';
import { ApiError } from '../../../src/openai/api-error';

const postgres = postgresForFile();
const pools = postgres.pools;

interface Instance {
  sql: Pg;
  store: PgFileStore;
  blobs: PgBlobStore;
  files: FileService;
}

async function instance(url: string, deadlineMs?: number): Promise<Instance> {
  const sql = await openPostgres(url, { max: 3 });
  pools.push(sql);
  const store = new PgFileStore(sql, deadlineMs);
  const blobs = new PgBlobStore(sql, deadlineMs);
  return { sql, store, blobs, files: new FileService(store, blobs, 1024 * 1024) };
}

/** Two CodexIn instances behind one load balancer: same database, nothing else shared. */
async function twoInstances(): Promise<[Instance, Instance]> {
  const url = await postgres.server.createDatabase();
  return [await instance(url), await instance(url)];
}

const text = (s: string) => new TextEncoder().encode(s);

async function blobCount(sql: Pg): Promise<number> {
  const [row] = await sql`SELECT count(*)::int AS n FROM blobs`;
  return (row as { n: number }).n;
}

describe('PgFileStore and PgBlobStore shared by two instances', () => {
  test('a file uploaded through one instance is listed, retrieved and downloaded (same bytes) through the other', async () => {
    const [a, b] = await twoInstances();
    const bytes = new Uint8Array(4096).map((_, i) => (i * 31) % 256);
    const created = await a.files.create('key_1', { filename: 'data.bin', purpose: 'user_data', bytes, declaredMime: 'application/x-test' });
    expect(created.id).toMatch(/^file-/);
    expect(created.sha256).toBe(sha256Hex(bytes));

    const got = await b.files.get('key_1', created.id);
    expect(got).toEqual(created);
    expect(typeof got.bytes).toBe('number');
    expect(typeof got.createdAt).toBe('number');
    const page = await b.files.list('key_1', { limit: 10, order: 'desc' });
    expect(page.files.map((f) => f.id)).toEqual([created.id]);
    expect(page.hasMore).toBe(false);
    const content = await b.files.content('key_1', created.id);
    expect(content.record.mime).toBe('application/x-test');
    expect(content.bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(content.bytes).equals(Buffer.from(bytes))).toBe(true);

    // Deleted through the second instance: gone for the first too, bytes included.
    await b.files.delete('key_1', created.id);
    expect(await a.store.get('key_1', created.id)).toBeNull();
    expect(await a.blobs.get(created.sha256)).toBeNull();
  });

  test("another key sees nothing: null from the store, 404 file_not_found from the service, and the file survives", async () => {
    const [a, b] = await twoInstances();
    const mine = await a.files.create('key_1', { filename: 'secret.txt', purpose: 'user_data', bytes: text('mine') });
    expect(await b.store.get('key_2', mine.id)).toBeNull();
    expect(await b.store.delete('key_2', mine.id)).toBeNull();
    expect(await b.store.list('key_2', { limit: 10, order: 'desc' })).toEqual({ files: [], hasMore: false });
    // Your id is not a cursor for someone else's list.
    expect(await b.store.list('key_2', { limit: 10, order: 'desc', after: mine.id })).toBeNull();
    const error = await b.files.content('key_2', mine.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
    expect((error as ApiError).code).toBe('file_not_found');
    expect((await a.files.get('key_1', mine.id)).id).toBe(mine.id);
  });

  test('pages follow upload order across instances, with limit, after, order and purpose', async () => {
    const [a, b] = await twoInstances();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const via = i % 2 === 0 ? a : b;
      ids.push((await via.files.create('key_1', { filename: `f${i}.txt`, purpose: i === 4 ? 'vision' : 'user_data', bytes: text(`file ${i}`) })).id);
    }
    const first = await a.store.list('key_1', { limit: 2, order: 'asc' });
    expect(first!.files.map((f) => f.id)).toEqual(ids.slice(0, 2));
    expect(first!.hasMore).toBe(true);
    const second = await b.store.list('key_1', { limit: 2, order: 'asc', after: ids[1] });
    expect(second!.files.map((f) => f.id)).toEqual(ids.slice(2, 4));
    const last = await a.store.list('key_1', { limit: 2, order: 'asc', after: ids[3] });
    expect(last).toEqual({ files: [expect.objectContaining({ id: ids[4] })], hasMore: false });
    const newest = await b.store.list('key_1', { limit: 3, order: 'desc' });
    expect(newest!.files.map((f) => f.id)).toEqual([ids[4], ids[3], ids[2]]);
    const older = await b.store.list('key_1', { limit: 3, order: 'desc', after: ids[2] });
    expect(older!.files.map((f) => f.id)).toEqual([ids[1], ids[0]]);
    const vision = await a.store.list('key_1', { limit: 10, order: 'desc', purpose: 'vision' });
    expect(vision!.files.map((f) => f.id)).toEqual([ids[4]]);
    expect(await a.store.list('key_1', { limit: 10, order: 'desc', after: 'file-nope' })).toBeNull();
    await expect(a.files.list('key_1', { limit: 10, order: 'desc', after: 'file-nope' })).rejects.toMatchObject({ status: 400, code: 'invalid_cursor' });
  });

  test('identical bytes are stored once, also when both instances upload them at the same moment, and dropped with the last file', async () => {
    const [a, b] = await twoInstances();
    const bytes = text('the same content twice');
    const [one, two] = await Promise.all([
      a.files.create('key_1', { filename: 'one.txt', purpose: 'user_data', bytes }),
      b.files.create('key_2', { filename: 'two.txt', purpose: 'user_data', bytes }),
    ]);
    expect(one.sha256).toBe(two.sha256);
    expect(one.id).not.toBe(two.id);
    expect(await blobCount(a.sql)).toBe(1);
    expect(await a.blobs.put(bytes)).toBe(one.sha256);
    expect(await blobCount(a.sql)).toBe(1);

    await a.files.delete('key_1', one.id);
    expect(Buffer.from((await b.files.content('key_2', two.id)).bytes).toString()).toBe('the same content twice');
    await b.files.delete('key_2', two.id);
    expect(await blobCount(a.sql)).toBe(0);
  });

  test('bytes a file row still points at survive a blob remove from another instance', async () => {
    const [a, b] = await twoInstances();
    const kept = await a.files.create('key_1', { filename: 'kept.txt', purpose: 'user_data', bytes: text('kept') });
    // As if another instance had checked "unreferenced" just before this row was written.
    await b.blobs.remove(kept.sha256);
    expect(Buffer.from((await a.files.content('key_1', kept.id)).bytes).toString()).toBe('kept');
    await a.store.delete('key_1', kept.id);
    await b.blobs.remove(kept.sha256);
    expect(await a.blobs.get(kept.sha256)).toBeNull();
  });

  test('an expired file is invisible at once, and purged with its bytes on the next upload anywhere', async () => {
    const [a, b] = await twoInstances();
    const now = Date.now();
    const old = await a.files.create('key_1', { filename: 'old.txt', purpose: 'user_data', bytes: text('old'), expiresAt: now + 60_000 });
    const forever = await a.files.create('key_1', { filename: 'forever.txt', purpose: 'user_data', bytes: text('forever') });
    expect(forever.expiresAt).toBeNull();
    expect((await b.store.get('key_1', old.id, now))!.expiresAt).toBe(now + 60_000);
    expect(await b.store.get('key_1', old.id, now + 60_000)).toBeNull();
    expect((await b.store.list('key_1', { limit: 10, order: 'desc' }, now + 60_000))!.files.map((f) => f.id)).toEqual([forever.id]);

    await a.sql`UPDATE files SET expires_at = ${Date.now() - 1} WHERE id = ${old.id}`;
    await expect(b.files.get('key_1', old.id)).rejects.toMatchObject({ status: 404 });
    expect(await a.blobs.get(old.sha256)).not.toBeNull();
    await b.files.create('key_2', { filename: 'new.txt', purpose: 'user_data', bytes: text('new') });
    expect(await a.blobs.get(old.sha256)).toBeNull();
    const [row] = await a.sql`SELECT count(*)::int AS n FROM files`;
    expect((row as { n: number }).n).toBe(2);
    // Nothing left to purge: the store answers an empty list.
    expect(await a.store.purgeExpired()).toEqual([]);
  });

  test('a frozen server fails every file and blob call within the deadline, and serves again once thawed', async () => {
    const url = await postgres.server.createDatabase();
    const deadlineMs = 300;
    const healthy = await instance(url, deadlineMs);
    const stored = await healthy.files.create('key_1', { filename: 'before.txt', purpose: 'user_data', bytes: text('before') });
    postgres.server.freeze();
    try {
      // freeze() stops the postmaster: a connection already open keeps its own backend, a new one hangs.
      // So: a pool with no connection yet, as an instance that starts (or reconnects) while the server hangs.
      const cold = new SQL(url, { max: 1, connectionTimeout: 30 });
      pools.push(cold);
      const calls: [string, (inst: { store: PgFileStore; blobs: PgBlobStore }) => Promise<unknown>][] = [
        ['get', (i) => i.store.get('key_1', stored.id)],
        ['list', (i) => i.store.list('key_1', { limit: 10, order: 'desc' })],
        ['insert', (i) => i.store.insert({ keyId: 'key_1', filename: 'x', purpose: 'user_data', bytes: 1, sha256: stored.sha256, mime: 'text/plain' })],
        ['blob get', (i) => i.blobs.get(stored.sha256)],
        ['blob put', (i) => i.blobs.put(text('during'))],
      ];
      const stores = { store: new PgFileStore(cold, deadlineMs), blobs: new PgBlobStore(cold, deadlineMs) };
      for (const [name, call] of calls) {
        const started = performance.now();
        const error = await call(stores).catch((e: unknown) => e);
        expect(error, name).toBeInstanceOf(DeadlineError);
        expect(performance.now() - started, name).toBeLessThan(deadlineMs + 1_000);
      }
    } finally {
      postgres.server.thaw();
    }
    expect(Buffer.from((await healthy.files.content('key_1', stored.id)).bytes).toString()).toBe('before');
  });
});
