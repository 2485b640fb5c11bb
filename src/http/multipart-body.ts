/**
 * The body parser of every multipart route (files, images, audio). Elysia's own
 * form parser reads any size and turns field values that look like JSON into
 * objects (a prompt starting with "{" would stop being a string); this one gives
 * 415 for a non-multipart body, 413 past the route's limit before buffering it,
 * 400 for a malformed body or a missing file part, and plain values:
 * `name[]` and repeated names become arrays (the SDKs send `timestamp_granularities[]`).
 * An empty text field, the literal `string`, or an empty file part without a name is
 * absent: that is what HTML forms and Swagger UI (which pre-fills string fields with
 * the placeholder "string") send for an optional field left alone. No upload route has
 * a field where the single word "string" would be a meaningful value.
 */
import { ApiError } from '../openai/api-error';
import { requireKey, type AuthRequirement } from './auth';
import { readBody } from './body-stream';

export type FormValue = string | File;
export type FormFields = Record<string, FormValue | FormValue[]>;

export interface MultipartOptions {
  /** Largest accepted body, all parts included. */
  maxBytes: number;
  /** File parts the route cannot do without: a missing one is a 400 naming it. */
  requiredFiles?: string[];
  /**
   * The key's scope the route needs, checked before the body is read: Elysia parses
   * bodies before the auth macro's hooks run, and nobody without access should make
   * us buffer a large upload.
   */
  requirement: AuthRequirement;
}

export function missingFilePart(name: string): ApiError {
  return new ApiError(400, 'invalid_request_error', `Missing required parameter: '${name}'. Send it as a file part of a multipart/form-data body.`, {
    param: name,
    code: 'missing_required_parameter',
  });
}

export async function readMultipartBody(request: Request, opts: MultipartOptions): Promise<FormFields> {
  requireKey(request, opts.requirement);
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data\b/i.test(contentType)) {
    throw new ApiError(415, 'invalid_request_error', `Unsupported content type "${contentType.slice(0, 100) || '(none)'}": send a multipart/form-data body.`, {
      code: 'unsupported_media_type',
    });
  }
  // No SDK compresses uploads, and a 33 KB gzip of zeros would cost the whole upload limit in memory.
  const encoding = (request.headers.get('content-encoding') ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw new ApiError(415, 'invalid_request_error', 'Uploads cannot be sent with a Content-Encoding: send the multipart/form-data body uncompressed.', {
      code: 'unsupported_content_encoding',
    });
  }
  const { bytes, release } = await readBody(request, opts.maxBytes);
  let form: Awaited<ReturnType<Response['formData']>>;
  try {
    form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new ApiError(400, 'invalid_request_error', 'The multipart/form-data body could not be parsed (check the boundary and part headers).', { code: 'invalid_multipart' });
  } finally {
    // The parts now live in the form (the handler reads them); the raw buffer is garbage.
    release();
  }
  const fields: FormFields = {};
  form.forEach((value, rawName) => {
    if (isBlank(value)) return;
    const isArray = rawName.endsWith('[]');
    const name = isArray ? rawName.slice(0, -2) : rawName;
    const existing = fields[name];
    if (existing === undefined) fields[name] = isArray ? [value] : value;
    else fields[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  });
  for (const name of opts.requiredFiles ?? []) {
    const value = fields[name];
    if (value === undefined) throw missingFilePart(name);
    if (Array.isArray(value)) {
      throw new ApiError(400, 'invalid_request_error', `Send exactly one '${name}' part; this body has ${value.length}.`, { param: name, code: 'duplicate_parameter' });
    }
    if (!(value instanceof Blob)) {
      throw new ApiError(400, 'invalid_request_error', `'${name}' must be a file part (with a filename), not a text field.`, { param: name, code: 'invalid_file' });
    }
  }
  return fields;
}

/** Swagger UI's pre-filled value for a string field nobody touched. */
const SWAGGER_PLACEHOLDER = 'string';

function isBlank(value: FormValue): boolean {
  return typeof value === 'string' ? value.trim() === '' || value === SWAGGER_PLACEHOLDER : value.size === 0 && value.name === '';
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
