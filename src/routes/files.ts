/**
 * The OpenAI Files API on local storage: upload, list, get, content, delete.
 * Advanced keys only; each key sees only its own files (another key's id is a 404).
 */
import { Elysia, t } from 'elysia';
import { badRequest } from '../openai/api-error';
import { ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import { FileDeletedSchema, FileListQuerySchema, FileListSchema, FileObjectSchema, FileUploadSchema, toFileObject } from '../openai/files-schema';
import { multipartParser, textField } from '../http/multipart-body';
import { requestIdPlugin } from '../http/request-id';
import type { authPlugin } from '../http/auth';
import type { KeyStore } from '../store/keys';
import { FILE_PURPOSES, type FileService } from '../service/files';

/** Room for the multipart framing and the other fields around the file part. */
export const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;

const MAX_PAGE = 10_000;
const MIN_EXPIRY_SECONDS = 3600;
const MAX_EXPIRY_SECONDS = 30 * 24 * 3600;

export interface FilesRouteDeps {
  files: FileService;
  keys: KeyStore;
}

const errorResponses = { 400: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 413: ErrorEnvelopeSchema, 415: ErrorEnvelopeSchema, ...authErrorResponses };

/** `expires_after[anchor]` + `expires_after[seconds]` → an absolute expiry (unix ms), or null. */
function expiryOf(anchor: string | undefined, seconds: string | undefined, now: number): number | null {
  if (anchor === undefined && seconds === undefined) return null;
  if (anchor !== 'created_at') throw badRequest("expires_after[anchor] must be 'created_at'.", 'expires_after[anchor]', 'invalid_expires_after');
  const n = Number(seconds);
  if (!Number.isInteger(n) || n < MIN_EXPIRY_SECONDS || n > MAX_EXPIRY_SECONDS) {
    throw badRequest(`expires_after[seconds] must be a whole number from ${MIN_EXPIRY_SECONDS} to ${MAX_EXPIRY_SECONDS}.`, 'expires_after[seconds]', 'invalid_expires_after');
  }
  return now + n * 1000;
}

/** A Content-Disposition that survives any file name (RFC 6266 / 5987). */
export function attachmentHeader(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function filesRoutes(auth: ReturnType<typeof authPlugin>, deps: FilesRouteDeps) {
  const idParams = t.Object({ id: t.String({ description: 'A file id (file-...)' }) });
  return new Elysia({ name: 'codexin.routes.files', detail: { tags: ['Files'] } })
    .use(requestIdPlugin)
    .use(auth)
    .post(
      '/v1/files',
      async ({ body, apiKey }) => {
        const file = body.file;
        const purpose = textField(body, 'purpose');
        if (!purpose || !(FILE_PURPOSES as readonly string[]).includes(purpose)) {
          throw badRequest(`'purpose' must be one of ${FILE_PURPOSES.join(', ')}.`, 'purpose', 'invalid_purpose');
        }
        const now = Date.now();
        const expiresAt = expiryOf(textField(body, 'expires_after[anchor]'), textField(body, 'expires_after[seconds]'), now);
        if (file.size === 0) throw badRequest('The file is empty.', 'file', 'empty_file');
        const bytes = new Uint8Array(await file.arrayBuffer());
        const record = await deps.files.create(apiKey.id, { filename: file.name || 'upload', purpose, bytes, declaredMime: file.type, expiresAt });
        return toFileObject(record);
      },
      {
        auth: 'advanced',
        parse: [
          multipartParser({
            maxBytes: deps.files.maxFileBytes + MULTIPART_OVERHEAD_BYTES,
            requiredFiles: ['file'],
            requirement: 'advanced',
          }),
          'formdata',
        ],
        body: FileUploadSchema,
        response: { 200: FileObjectSchema, ...errorResponses },
        detail: {
          summary: 'Upload a file',
          description:
            'Stores the file on this server (content-addressed under the data dir). Use its id in /v1/responses as `{"type":"input_file","file_id":...}` or `{"type":"input_image","file_id":...}`: CodexIn inlines the bytes before the request goes upstream. Files are private to the uploading key. Size limit: CODEXIN_MAX_FILE_BYTES (default 100 MiB) → 413.',
        },
      },
    )
    .get(
      '/v1/files',
      async ({ query, apiKey }) => {
        const limit = query.limit ?? MAX_PAGE;
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw badRequest(`'limit' must be a whole number from 1 to ${MAX_PAGE}.`, 'limit', 'invalid_value');
        const page = await deps.files.list(apiKey.id, {
          purpose: query.purpose,
          limit,
          order: query.order ?? 'desc',
          after: query.after,
        });
        const data = page.files.map(toFileObject);
        return { object: 'list' as const, data, has_more: page.hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
      },
      {
        auth: 'advanced',
        query: FileListQuerySchema,
        response: { 200: FileListSchema, ...errorResponses },
        detail: { summary: 'List your files', description: 'Newest first by default; page with `after` = the last id of the previous page while `has_more` is true.' },
      },
    )
    .get('/v1/files/:id', async ({ params, apiKey }) => toFileObject(await deps.files.get(apiKey.id, params.id)), {
      auth: 'advanced',
      params: idParams,
      response: { 200: FileObjectSchema, ...errorResponses },
      detail: { summary: 'Retrieve a file object' },
    })
    .get(
      '/v1/files/:id/content',
      async ({ params, apiKey, requestId }) => {
        const { record, bytes } = await deps.files.content(apiKey.id, params.id);
        return new Response(bytes, {
          headers: {
            'content-type': record.mime,
            'content-length': String(bytes.length),
            'content-disposition': attachmentHeader(record.filename),
            'x-request-id': requestId,
          },
        });
      },
      {
        auth: 'advanced',
        params: idParams,
        response: { 200: t.Unknown({ description: 'The raw bytes, with the content type recorded at upload' }), ...errorResponses },
        detail: { summary: 'Download a file' },
      },
    )
    .delete(
      '/v1/files/:id',
      async ({ params, apiKey }) => {
        const deleted = await deps.files.delete(apiKey.id, params.id);
        return { id: deleted.id, object: 'file' as const, deleted: true as const };
      },
      {
        auth: 'advanced',
        params: idParams,
        response: { 200: FileDeletedSchema, ...errorResponses },
        detail: { summary: 'Delete a file', description: 'The bytes are removed once no other file shares them.' },
      },
    );
}


/** The server-wide body limit: JSON bodies and file uploads share one socket limit. */
export function requestBodyLimit(config: { maxBodyBytes: number; maxFileBytes: number }): number {
  return Math.max(config.maxBodyBytes, config.maxFileBytes + MULTIPART_OVERHEAD_BYTES);
}
