/**
 * The body parser of every JSON route. Beyond JSON.parse it gives the clear errors
 * a client needs: 401 before a byte is read when the key is not known, 415 for a
 * non-JSON content type, 413 past the size limit (on the wire or once inflated),
 * 400 for malformed JSON, invalid UTF-8 or nesting deeper than any real request;
 * and it inflates `Content-Encoding: zstd` (Codex CLI compresses bodies when logged
 * in with ChatGPT) and gzip/deflate as a stream.
 */
import { ApiError } from '../openai/api-error';
import { requireKey, type AuthRequirement } from './auth';
import { readBody } from './body-stream';

/**
 * Deeper than any real request (tool schemas nest a few dozen levels at most);
 * validation and translation recurse, so a 50k-deep body must stop here.
 */
export const MAX_JSON_DEPTH = 256;

function invalidJson(message: string): ApiError {
  return new ApiError(400, 'invalid_request_error', message, { code: 'invalid_json' });
}

/** The deepest nesting of arrays/objects in JSON text (brackets inside strings ignored). */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return deepest;
}

export function parseJsonText(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidJson('The request body is not valid UTF-8; send JSON encoded as UTF-8.');
  }
  if (text.trim() === '') throw invalidJson('The request body is empty; send a JSON object.');
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw invalidJson(`The request body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels.`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidJson(`The request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
}

export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const contentType = (request.headers.get('content-type') ?? '').toLowerCase();
  if (!/^application\/([\w.+-]*\+)?json\b/.test(contentType)) {
    throw new ApiError(
      415,
      'invalid_request_error',
      `Unsupported content type "${contentType.slice(0, 100) || '(none)'}": send the body as JSON with "Content-Type: application/json".`,
      { code: 'unsupported_media_type' },
    );
  }
  const { bytes, release } = await readBody(request, maxBytes);
  let value: unknown;
  try {
    value = parseJsonText(bytes);
  } finally {
    release();
  }
  // Every JSON route takes an object; a schema whose fields are all optional would let `"s"` or `[]` through.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(400, 'invalid_request_error', 'The request body must be a JSON object ({...}).', { code: 'invalid_type' });
  }
  return value;
}

/**
 * An Elysia `parse` hook for JSON routes. It authenticates first (Elysia parses
 * before the auth macro's hooks run): an unknown key never makes us read a byte.
 */
export function jsonParser(maxBytes: number, requirement: AuthRequirement = 'any') {
  return ({ request }: { request: Request }) => {
    requireKey(request, requirement);
    return readJsonBody(request, maxBytes);
  };
}
