/**
 * Metadata of uploaded files (the bytes are in a BlobStore, by SHA-256). Every
 * read takes the owner key: a key sees only its own files, so the owner check
 * cannot be forgotten by a caller.
 */
import type { Awaitable } from './awaitable';
import type { Db } from './db';

export interface FileRecord {
  id: string;
  keyId: string;
  filename: string;
  purpose: string;
  bytes: number;
  sha256: string;
  mime: string;
  /** Unix ms. */
  createdAt: number;
  /** Unix ms, or null for files that never expire. */
  expiresAt: number | null;
  /** The ChatGPT file-service id (`file_...`) when the file was also uploaded there. */
  upstreamFileId: string | null;
}

/** A file to record: the store assigns the id and creation time. */
export type NewFile = Omit<FileRecord, 'id' | 'createdAt' | 'expiresAt' | 'upstreamFileId'> & Partial<Pick<FileRecord, 'expiresAt' | 'upstreamFileId'>>;

export interface ListFilesQuery {
  purpose?: string;
  limit: number;
  order: 'asc' | 'desc';
  /** Cursor: the id of the last file of the previous page. */
  after?: string;
}

/** A `files` row as both backends store it (PostgreSQL returns `seq` as text; nothing reads it from here). */
export interface FileRow {
  id: string;
  key_id: string;
  filename: string;
  purpose: string;
  bytes: number;
  sha256: string;
  mime: string;
  created_at: number;
  expires_at: number | null;
  upstream_file_id: string | null;
}

export function toFileRecord(row: FileRow): FileRecord {
  return {
    id: row.id,
    keyId: row.key_id,
    filename: row.filename,
    purpose: row.purpose,
    bytes: row.bytes,
    sha256: row.sha256,
    mime: row.mime,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    upstreamFileId: row.upstream_file_id,
  };
}

/** OpenAI-style id: `file-` and 24 URL-safe random characters. */
export function newFileId(): string {
  return 'file-' + Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}

/**
 * The file metadata of one backend: SQLite answers at once, PostgreSQL with a
 * promise. Every read is scoped to the owner key; paging follows the insertion
 * order (`seq`), so a cursor stays valid while other files come and go.
 */
export interface FileStore {
  insert(input: NewFile, now?: number): Awaitable<FileRecord>;
  /** The key's live file with this id, or null (also for another key's file: ids must not leak). */
  get(keyId: string, id: string, now?: number): Awaitable<FileRecord | null>;
  /** One page of the key's files, plus whether more follow. Null when `after` names no file of this key. */
  list(keyId: string, query: ListFilesQuery, now?: number): Awaitable<{ files: FileRecord[]; hasMore: boolean } | null>;
  /** Deletes the key's file; returns the deleted record (null when there was none). */
  delete(keyId: string, id: string): Awaitable<FileRecord | null>;
  /** Removes expired rows and returns their hashes, for the caller to drop unreferenced blobs. */
  purgeExpired(now?: number): Awaitable<string[]>;
  /** Whether any file row (any owner) still points at these bytes. */
  isReferenced(sha256: string): Awaitable<boolean>;
}

const LIVE = '(expires_at IS NULL OR expires_at > $now)';

export class SqliteFileStore implements FileStore {
  constructor(private readonly db: Db) {}

  insert(input: NewFile, now = Date.now()): FileRecord {
    const id = newFileId();
    this.db
      .query(
        `INSERT INTO files (id, key_id, filename, purpose, bytes, sha256, mime, created_at, expires_at, upstream_file_id, seq)
         VALUES ($id, $key, $filename, $purpose, $bytes, $sha, $mime, $now, $expires, $upstream, (SELECT coalesce(max(seq), 0) + 1 FROM files))`,
      )
      .run({
        id,
        key: input.keyId,
        filename: input.filename,
        purpose: input.purpose,
        bytes: input.bytes,
        sha: input.sha256,
        mime: input.mime,
        now,
        expires: input.expiresAt ?? null,
        upstream: input.upstreamFileId ?? null,
      });
    return this.get(input.keyId, id, now)!;
  }

  /** The key's live file with this id, or null (also for another key's file: ids must not leak). */
  get(keyId: string, id: string, now = Date.now()): FileRecord | null {
    const row = this.db.query(`SELECT * FROM files WHERE id = $id AND key_id = $key AND ${LIVE}`).get({ id, key: keyId, now }) as FileRow | null;
    return row ? toFileRecord(row) : null;
  }

  /** One page of the key's files, plus whether more follow. Null when `after` names no file of this key. */
  list(keyId: string, query: ListFilesQuery, now = Date.now()): { files: FileRecord[]; hasMore: boolean } | null {
    const desc = query.order === 'desc';
    let cursor: number | null = null;
    if (query.after !== undefined) {
      const row = this.db.query('SELECT seq FROM files WHERE id = $id AND key_id = $key').get({ id: query.after, key: keyId }) as { seq: number } | null;
      if (!row) return null;
      cursor = row.seq;
    }
    const rows = this.db
      .query(
        `SELECT * FROM files WHERE key_id = $key AND ${LIVE}
           AND ($purpose IS NULL OR purpose = $purpose)
           AND ($cursor IS NULL OR ${desc ? 'seq < $cursor' : 'seq > $cursor'})
         ORDER BY seq ${desc ? 'DESC' : 'ASC'} LIMIT $limit`,
      )
      .all({ key: keyId, now, purpose: query.purpose ?? null, cursor, limit: query.limit + 1 }) as FileRow[];
    return { files: rows.slice(0, query.limit).map(toFileRecord), hasMore: rows.length > query.limit };
  }

  /** Deletes the key's file; returns the deleted record (null when there was none). */
  delete(keyId: string, id: string): FileRecord | null {
    const row = this.db.query('DELETE FROM files WHERE id = $id AND key_id = $key RETURNING *').get({ id, key: keyId }) as FileRow | null;
    return row ? toFileRecord(row) : null;
  }

  /** Removes expired rows and returns their hashes, for the caller to drop unreferenced blobs. */
  purgeExpired(now = Date.now()): string[] {
    const rows = this.db.query('DELETE FROM files WHERE expires_at IS NOT NULL AND expires_at <= $now RETURNING sha256').all({ now }) as { sha256: string }[];
    return rows.map((r) => r.sha256);
  }

  /** Whether any file row (any owner) still points at these bytes. */
  isReferenced(sha256: string): boolean {
    return this.db.query('SELECT 1 FROM files WHERE sha256 = $sha LIMIT 1').get({ sha: sha256 }) !== null;
  }
}
