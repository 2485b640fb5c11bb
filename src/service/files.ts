/**
 * Uploaded files, owner-scoped: metadata in the file store (SQLite or PostgreSQL),
 * bytes in the blob store.
 * Every operation takes the calling key's id; another key's file is "not found"
 * (404, never 403), so file ids reveal nothing.
 */
import { ApiError, quote } from '../openai/api-error';
import { sniffMime } from '../openai/image-input';
import { sha256Hex, type BlobStore } from '../store/blobs';
import type { FileRecord, FileStore, ListFilesQuery } from '../store/files';

/** The purposes the OpenAI Files API accepts. */
export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

export interface NewUpload {
  filename: string;
  purpose: string;
  bytes: Uint8Array;
  /** The content type the client declared for the part, if any. */
  declaredMime?: string;
  expiresAt?: number | null;
  upstreamFileId?: string | null;
}

export function fileNotFound(id: string, param = 'file_id'): ApiError {
  return new ApiError(404, 'invalid_request_error', `No such File object: ${quote(id)}. It does not exist, has expired, or belongs to another API key.`, {
    param,
    code: 'file_not_found',
  });
}

export function fileTooLarge(size: number, limit: number, param = 'file'): ApiError {
  return new ApiError(413, 'invalid_request_error', `The file is ${size} bytes; this server accepts files up to ${limit} bytes.`, {
    param,
    code: 'file_too_large',
  });
}

/**
 * The media type to store and serve: the client's declaration when it says something,
 * else the file name's extension, else the bytes' magic number.
 */
export function detectMime(filename: string, bytes: Uint8Array, declared?: string): string {
  const given = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if (given && given !== 'application/octet-stream') return given;
  // Bun.file() only looks at the extension here; nothing is read from disk.
  const byName = Bun.file(filename).type.split(';')[0]!;
  if (byName && byName !== 'application/octet-stream') return byName;
  return sniffMime(bytes.subarray(0, 16)) ?? 'application/octet-stream';
}

export class FileService {
  constructor(
    private readonly store: FileStore,
    private readonly blobs: BlobStore,
    /** Largest accepted file (CODEXIN_MAX_FILE_BYTES). */
    readonly maxFileBytes: number,
  ) {}

  async create(keyId: string, upload: NewUpload): Promise<FileRecord> {
    if (upload.bytes.length > this.maxFileBytes) throw fileTooLarge(upload.bytes.length, this.maxFileBytes);
    await this.purgeExpired();
    // The row first, then the bytes: a delete elsewhere that drops "unreferenced" bytes
    // of the same content already sees this row, or ran before the bytes are written
    // again. The id is unknown to anyone until this returns, so nobody reads the gap.
    const record = await this.store.insert({
      keyId,
      filename: upload.filename,
      purpose: upload.purpose,
      bytes: upload.bytes.length,
      sha256: sha256Hex(upload.bytes),
      mime: detectMime(upload.filename, upload.bytes, upload.declaredMime),
      expiresAt: upload.expiresAt ?? null,
      upstreamFileId: upload.upstreamFileId ?? null,
    });
    try {
      await this.blobs.put(upload.bytes);
    } catch (error) {
      // No row without its bytes: best effort, the upload fails either way.
      await Promise.resolve(this.store.delete(keyId, record.id)).catch(() => null);
      throw error;
    }
    return record;
  }

  async get(keyId: string, id: string): Promise<FileRecord> {
    const record = await this.store.get(keyId, id);
    if (!record) throw fileNotFound(id);
    return record;
  }

  /** The file and its bytes, or null when the key has no such file. */
  async find(keyId: string, id: string): Promise<{ record: FileRecord; bytes: Uint8Array } | null> {
    const record = await this.store.get(keyId, id);
    if (!record) return null;
    const bytes = await this.blobs.get(record.sha256);
    // A row whose bytes vanished (someone cleaned the data dir) is as good as gone.
    return bytes ? { record, bytes } : null;
  }

  async content(keyId: string, id: string): Promise<{ record: FileRecord; bytes: Uint8Array }> {
    const found = await this.find(keyId, id);
    if (!found) throw fileNotFound(id);
    return found;
  }

  async list(keyId: string, query: ListFilesQuery): Promise<{ files: FileRecord[]; hasMore: boolean }> {
    const page = await this.store.list(keyId, query);
    if (!page) {
      throw new ApiError(400, 'invalid_request_error', `'after' must be the id of one of your files; ${query.after} is not.`, { param: 'after', code: 'invalid_cursor' });
    }
    return page;
  }

  async delete(keyId: string, id: string): Promise<FileRecord> {
    const deleted = await this.store.delete(keyId, id);
    if (!deleted) throw fileNotFound(id);
    await this.dropIfUnreferenced(deleted.sha256);
    return deleted;
  }

  private async purgeExpired(): Promise<void> {
    for (const sha of new Set(await this.store.purgeExpired())) await this.dropIfUnreferenced(sha);
  }

  /** Bytes are shared by every file with the same content: keep them while one still points at them. */
  private async dropIfUnreferenced(sha256: string): Promise<void> {
    if (!(await this.store.isReferenced(sha256))) await this.blobs.remove(sha256);
  }
}
