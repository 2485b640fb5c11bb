/**
 * File bytes, content-addressed by SHA-256: the same upload twice is stored once,
 * and a blob's name proves its content. On disk they live under
 * `<data-dir>/files/<sha256>`; with the in-memory data dir (`:memory:`, used by
 * tests) they stay in memory, so a test leaves nothing behind on disk. Instances
 * sharing a PostgreSQL database keep them there instead (PgBlobStore), which is
 * why the interface may answer with a promise.
 */
import type { Awaitable } from './awaitable';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BlobStore {
  /** Stores the bytes (once per content) and returns their hex SHA-256. */
  put(bytes: Uint8Array): Awaitable<string>;
  /** The bytes with this hash, or null when they are gone. */
  get(sha256: string): Awaitable<Uint8Array | null>;
  remove(sha256: string): Awaitable<void>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher('sha256').update(bytes).digest('hex');
}

const HASH = /^[0-9a-f]{64}$/;
/** `<sha256>.<pid>.<ms>.tmp`: a blob being written by process `pid`. */
const TEMP_FILE = /^[0-9a-f]{64}\.(\d+)\.\d+\.tmp$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the half-written blobs of processes that died mid-upload (kill -9): nothing
 * else would ever delete them. A live writer's temp file is left alone.
 */
export function removeOrphanTempFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = TEMP_FILE.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

export class DiskBlobStore implements BlobStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    removeOrphanTempFiles(dir);
  }

  private path(sha256: string): string {
    // Hashes come from our own database, but a path is built from them: refuse anything else.
    if (!HASH.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.dir, sha256);
  }

  put(bytes: Uint8Array): string {
    const sha = sha256Hex(bytes);
    const target = this.path(sha);
    if (existsSync(target)) return sha;
    // Write then rename: a crash mid-write never leaves a truncated blob under a valid name.
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, bytes, { mode: 0o600 });
    renameSync(tmp, target);
    return sha;
  }

  get(sha256: string): Uint8Array | null {
    const path = this.path(sha256);
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : null;
  }

  remove(sha256: string): void {
    rmSync(this.path(sha256), { force: true });
  }
}

export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>();

  put(bytes: Uint8Array): string {
    const sha = sha256Hex(bytes);
    if (!this.blobs.has(sha)) this.blobs.set(sha, new Uint8Array(bytes));
    return sha;
  }

  get(sha256: string): Uint8Array | null {
    return this.blobs.get(sha256) ?? null;
  }

  remove(sha256: string): void {
    this.blobs.delete(sha256);
  }
}

/** The blob store of a data dir: on disk, or in memory for `:memory:`. */
export function openBlobStore(dataDir: string): DiskBlobStore | MemoryBlobStore {
  return dataDir === ':memory:' ? new MemoryBlobStore() : new DiskBlobStore(join(dataDir, 'files'));
}
