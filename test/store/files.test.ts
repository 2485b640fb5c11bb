/**
 * File storage: bytes content-addressed under <data-dir>/files/<sha256> (written
 * once, removed with the last file that uses them), metadata in the `files`
 * table (migration 4), expiry hiding and purging files.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/db';
import { SqliteFileStore } from '../../src/store/files';
import { DiskBlobStore, openBlobStore, MemoryBlobStore, sha256Hex } from '../../src/store/blobs';
import { FileService } from '../../src/service/files';
import { makeTempDir, removeTempDirs } from '../support/binary';

afterAll(() => removeTempDirs());

describe('DiskBlobStore', () => {
  test('stores bytes once under files/<sha256> of the data dir', () => {
    const dataDir = makeTempDir('blobs');
    const blobs = openBlobStore(dataDir);
    expect(blobs).toBeInstanceOf(DiskBlobStore);
    const bytes = new TextEncoder().encode('content addressed');
    const sha = blobs.put(bytes);
    expect(sha).toBe(sha256Hex(bytes));
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(new Uint8Array(readFileSync(join(dataDir, 'files', sha)))).toEqual(bytes);
    expect(blobs.put(bytes)).toBe(sha);
    expect(readdirSync(join(dataDir, 'files'))).toEqual([sha]);
    expect(blobs.get(sha)).toEqual(bytes);
    blobs.remove(sha);
    expect(blobs.get(sha)).toBeNull();
  });

  test('refuses a name that is not a hash (no path tricks)', () => {
    const blobs = new DiskBlobStore(makeTempDir('blobs'));
    expect(() => blobs.get('../../etc/passwd')).toThrow();
  });

  test(':memory: keeps bytes in memory', () => {
    expect(openBlobStore(':memory:')).toBeInstanceOf(MemoryBlobStore);
  });
});

describe('FileService on disk', () => {
  test('the blob is deleted with the last file that uses it, and kept while one remains', async () => {
    const dataDir = makeTempDir('files');
    const db = openDatabase(':memory:');
    const files = new FileService(new SqliteFileStore(db), openBlobStore(dataDir), 1024);
    const bytes = new TextEncoder().encode('twice');
    const a = await files.create('key_a', { filename: 'a.txt', purpose: 'user_data', bytes });
    const b = await files.create('key_b', { filename: 'b.txt', purpose: 'user_data', bytes });
    const blob = join(dataDir, 'files', a.sha256);
    expect(a.sha256).toBe(b.sha256);
    await files.delete('key_a', a.id);
    expect(existsSync(blob)).toBe(true);
    await files.delete('key_b', b.id);
    expect(existsSync(blob)).toBe(false);
    db.close();
  });

  test('an expired file is invisible, and purged (bytes too) on the next upload', async () => {
    const dataDir = makeTempDir('files');
    const db = openDatabase(':memory:');
    const files = new FileService(new SqliteFileStore(db), openBlobStore(dataDir), 1024);
    const old = await files.create('key_a', { filename: 'old.txt', purpose: 'user_data', bytes: new TextEncoder().encode('old'), expiresAt: Date.now() + 60_000 });
    expect((await files.get('key_a', old.id)).id).toBe(old.id);
    db.query('UPDATE files SET expires_at = $past WHERE id = $id').run({ past: Date.now() - 1, id: old.id });
    await expect(files.get('key_a', old.id)).rejects.toThrow(/No such File object/);
    expect((await files.list('key_a', { limit: 10, order: 'desc' })).files).toEqual([]);
    expect(existsSync(join(dataDir, 'files', old.sha256))).toBe(true);
    await files.create('key_a', { filename: 'new.txt', purpose: 'user_data', bytes: new TextEncoder().encode('new') });
    expect(existsSync(join(dataDir, 'files', old.sha256))).toBe(false);
    expect((db.query('SELECT count(*) AS n FROM files').get() as { n: number }).n).toBe(1);
    db.close();
  });

  test('the limit is enforced by the service too', async () => {
    const db = openDatabase(':memory:');
    const files = new FileService(new SqliteFileStore(db), new MemoryBlobStore(), 4);
    await expect(files.create('k', { filename: 'x', purpose: 'batch', bytes: new Uint8Array(5) })).rejects.toThrow(/up to 4 bytes/);
    db.close();
  });
});
