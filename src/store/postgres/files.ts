/**
 * Uploaded files in PostgreSQL, for instances that share one database: the
 * metadata in `files` (same rows and semantics as SqliteFileStore) and the bytes in
 * `blobs`, content-addressed by SHA-256, so a file uploaded through one instance
 * is listed and downloaded through any other.
 *
 * Every statement runs under a deadline: a frozen server fails the request that
 * asked instead of hanging it.
 */
import type { SQL } from 'bun';
import { sha256Hex, type BlobStore } from '../blobs';
import { newFileId, toFileRecord, type FileRecord, type FileRow, type FileStore, type ListFilesQuery, type NewFile } from '../files';
import { DEFAULT_DEADLINE_MS, withDeadline, type Pg } from './database';

/** Runs one query under the deadline, cancelling it on the server when time is up. */
function timed<T>(what: string, ms: number, query: SQL.Query<T>): Promise<T> {
  return withDeadline(what, ms, query, () => void query.cancel());
}

export class PgFileStore implements FileStore {
  constructor(
    private readonly sql: Pg,
    private readonly deadlineMs = DEFAULT_DEADLINE_MS,
  ) {}

  async insert(input: NewFile, now = Date.now()): Promise<FileRecord> {
    const id = newFileId();
    // `seq` comes from its sequence: unique and increasing across instances, which is all paging needs.
    const rows = await timed(
      'a file insert',
      this.deadlineMs,
      this.sql<FileRow[]>`
        INSERT INTO files (id, key_id, filename, purpose, bytes, sha256, mime, created_at, expires_at, upstream_file_id)
        VALUES (${id}, ${input.keyId}, ${input.filename}, ${input.purpose}, ${input.bytes}, ${input.sha256}, ${input.mime}, ${now},
                ${input.expiresAt ?? null}::double precision, ${input.upstreamFileId ?? null}::text)
        RETURNING *`,
    );
    return toFileRecord(rows[0]!);
  }

  async get(keyId: string, id: string, now = Date.now()): Promise<FileRecord | null> {
    const rows = await timed(
      'a file read',
      this.deadlineMs,
      this.sql<FileRow[]>`SELECT * FROM files WHERE id = ${id} AND key_id = ${keyId} AND (expires_at IS NULL OR expires_at > ${now})`,
    );
    return rows[0] ? toFileRecord(rows[0]) : null;
  }

  async list(keyId: string, query: ListFilesQuery, now = Date.now()): Promise<{ files: FileRecord[]; hasMore: boolean } | null> {
    const desc = query.order === 'desc';
    // bigserial arrives as a string from Bun's client; it goes back as text and is cast, so no digit is lost.
    let cursor: string | null = null;
    if (query.after !== undefined) {
      const found = await timed(
        'a file cursor',
        this.deadlineMs,
        this.sql<{ seq: string }[]>`SELECT seq::text AS seq FROM files WHERE id = ${query.after} AND key_id = ${keyId}`,
      );
      if (!found[0]) return null;
      cursor = found[0].seq;
    }
    // Fixed fragments only: the direction is one of two literals, never client text.
    const comparison = cursor === null ? this.sql`` : desc ? this.sql`AND seq < ${cursor}::bigint` : this.sql`AND seq > ${cursor}::bigint`;
    const direction = this.sql.unsafe(desc ? 'DESC' : 'ASC');
    const rows = await timed(
      'a file listing',
      this.deadlineMs,
      this.sql<FileRow[]>`
        SELECT * FROM files WHERE key_id = ${keyId} AND (expires_at IS NULL OR expires_at > ${now})
          AND (${query.purpose ?? null}::text IS NULL OR purpose = ${query.purpose ?? null}::text)
          ${comparison}
        ORDER BY seq ${direction} LIMIT ${query.limit + 1}`,
    );
    return { files: rows.slice(0, query.limit).map(toFileRecord), hasMore: rows.length > query.limit };
  }

  async delete(keyId: string, id: string): Promise<FileRecord | null> {
    const rows = await timed('a file delete', this.deadlineMs, this.sql<FileRow[]>`DELETE FROM files WHERE id = ${id} AND key_id = ${keyId} RETURNING *`);
    return rows[0] ? toFileRecord(rows[0]) : null;
  }

  async purgeExpired(now = Date.now()): Promise<string[]> {
    const rows = await timed(
      'a file purge',
      this.deadlineMs,
      this.sql<{ sha256: string }[]>`DELETE FROM files WHERE expires_at IS NOT NULL AND expires_at <= ${now} RETURNING sha256`,
    );
    return rows.map((r) => r.sha256);
  }

  async isReferenced(sha256: string): Promise<boolean> {
    const rows = await timed('a file reference check', this.deadlineMs, this.sql`SELECT 1 FROM files WHERE sha256 = ${sha256} LIMIT 1`);
    return rows.length > 0;
  }
}

export class PgBlobStore implements BlobStore {
  constructor(
    private readonly sql: Pg,
    /** Bytes take longer than a row: the default allows for a large upload over the wire. */
    private readonly deadlineMs = DEFAULT_DEADLINE_MS * 15,
  ) {}

  async put(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    // Content-addressed: the same bytes from two instances at once are stored once, and neither fails.
    await timed('a blob write', this.deadlineMs, this.sql`INSERT INTO blobs (sha256, bytes) VALUES (${sha}, ${bytes}) ON CONFLICT (sha256) DO NOTHING`);
    return sha;
  }

  async get(sha256: string): Promise<Uint8Array | null> {
    const rows = await timed('a blob read', this.deadlineMs, this.sql<{ bytes: Uint8Array }[]>`SELECT bytes FROM blobs WHERE sha256 = ${sha256}`);
    const bytes = rows[0]?.bytes;
    // A plain Uint8Array, like the other blob stores give (the client hands out a Buffer).
    return bytes ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
  }

  /**
   * Drops the bytes unless a file row still points at them, in one statement: another
   * instance that records a file with these bytes between a caller's reference check
   * and this delete keeps them.
   */
  async remove(sha256: string): Promise<void> {
    await timed(
      'a blob delete',
      this.deadlineMs,
      this.sql`DELETE FROM blobs WHERE sha256 = ${sha256} AND NOT EXISTS (SELECT 1 FROM files WHERE files.sha256 = ${sha256})`,
    );
  }
}
