/**
 * The body parser of every multipart route (files, images, audio). Elysia's own
 * form parser reads any size and turns field values that look like JSON into
 * objects (a prompt starting with "{" would stop being a string); this one gives
 * 415 for a non-multipart body, 413 past the route's limit before buffering it,
 * 400 for a malformed body or a missing file part, and plain values:
 * `name[]` and repeated names become arrays (the SDKs send `timestamp_granularities[]`).
 */
import { ApiError } from '../openai/api-error';

export type FormValue = string | File;
export type FormFields = Record<string, FormValue | FormValue[]>;

export interface MultipartOptions {
  /** Largest accepted body, all parts included. */
  maxBytes: number;
  /** File parts the route cannot do without: a missing one is a 400 naming it. */
  requiredFiles?: string[];
  /**
   * Runs before the body is read (throwing to refuse): Elysia parses bodies before the
   * auth macro resolves, and nobody without access should make us buffer a large upload.
   */
  guard?: (headers: Record<string, string | undefined>) => void;
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'invalid_request_error', `Request body is larger than this route accepts (${maxBytes} bytes).`, { code: 'request_too_large' });
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export function missingFilePart(name: string): ApiError {
  return new ApiError(400, 'invalid_request_error', `Missing required parameter: '${name}'. Send it as a file part of a multipart/form-data body.`, {
    param: name,
    code: 'missing_required_parameter',
  });
}

export async function readMultipartBody(request: Request, opts: MultipartOptions): Promise<FormFields> {
  opts.guard?.(Object.fromEntries(request.headers));
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data\b/i.test(contentType)) {
    throw new ApiError(415, 'invalid_request_error', `Unsupported content type "${contentType || '(none)'}": send a multipart/form-data body.`, {
      code: 'unsupported_media_type',
    });
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > opts.maxBytes) throw tooLarge(opts.maxBytes);
  const bytes = await readLimited(request, opts.maxBytes);
  let form: Awaited<ReturnType<Response['formData']>>;
  try {
    form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new ApiError(400, 'invalid_request_error', 'The multipart/form-data body could not be parsed (check the boundary and part headers).', { code: 'invalid_multipart' });
  }
  const fields: FormFields = {};
  form.forEach((value, rawName) => {
    const isArray = rawName.endsWith('[]');
    const name = isArray ? rawName.slice(0, -2) : rawName;
    const existing = fields[name];
    if (existing === undefined) fields[name] = isArray ? [value] : value;
    else fields[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  });
  for (const name of opts.requiredFiles ?? []) {
    const value = fields[name];
    if (value === undefined) throw missingFilePart(name);
    if (!(value instanceof Blob)) {
      throw new ApiError(400, 'invalid_request_error', `'${name}' must be a file part (with a filename), not a text field.`, { param: name, code: 'invalid_file' });
    }
  }
  return fields;
}

/** An Elysia `parse` hook; list it before 'formdata' so the OpenAPI document still says multipart. */
export function multipartParser(opts: MultipartOptions) {
  return ({ request }: { request: Request }) => readMultipartBody(request, opts);
}

/** A text field's single value (the first one when a client repeated it). */
export function textField(fields: FormFields, name: string): string | undefined {
  const value = fields[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/** Every text value of a field, whether sent as `name`, `name[]`, repeated or comma-separated. */
export function listField(fields: FormFields, name: string): string[] {
  const value = fields[name];
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.flatMap((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : []));
}
