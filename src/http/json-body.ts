/**
 * The body parser of every JSON route. Beyond JSON.parse it gives the clear errors
 * a client needs: 415 for a non-JSON content type, 413 past the size limit, 400 for
 * malformed JSON; and it inflates `Content-Encoding: zstd` (Codex CLI compresses
 * bodies when logged in with ChatGPT) and gzip/deflate.
 */
import { ApiError } from '../openai/api-error';

async function readLimited(stream: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  if (!stream) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'invalid_request_error', `Request body is larger than this server accepts (${maxBytes} bytes).`, {
    code: 'request_too_large',
  });
}

async function inflate(raw: Uint8Array<ArrayBuffer>, encoding: string, maxBytes: number): Promise<Uint8Array> {
  let out: Uint8Array;
  try {
    switch (encoding) {
      case '':
      case 'identity':
        return raw;
      case 'zstd':
        out = await Bun.zstdDecompress(raw);
        break;
      case 'gzip':
      case 'x-gzip':
        out = Bun.gunzipSync(raw);
        break;
      case 'deflate':
        out = Bun.inflateSync(raw);
        break;
      default:
        throw new ApiError(415, 'invalid_request_error', `Unsupported Content-Encoding "${encoding}": use zstd, gzip, deflate or none.`, {
          code: 'unsupported_content_encoding',
        });
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(400, 'invalid_request_error', `The request body is not valid ${encoding} data.`, { code: 'invalid_encoding' });
  }
  if (out.byteLength > maxBytes) throw tooLarge(maxBytes);
  return out;
}

export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const contentType = (request.headers.get('content-type') ?? '').toLowerCase();
  if (!/^application\/([\w.+-]*\+)?json\b/.test(contentType)) {
    throw new ApiError(
      415,
      'invalid_request_error',
      `Unsupported content type "${contentType || '(none)'}": send the body as JSON with "Content-Type: application/json".`,
      { code: 'unsupported_media_type' },
    );
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const raw = await readLimited(request.body, maxBytes);
  const encoding = (request.headers.get('content-encoding') ?? '').trim().toLowerCase();
  const bytes = await inflate(raw, encoding, maxBytes);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === '') {
    throw new ApiError(400, 'invalid_request_error', 'The request body is empty; send a JSON object.', { code: 'invalid_json' });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, 'invalid_request_error', `The request body is not valid JSON: ${(error as Error).message}`, { code: 'invalid_json' });
  }
}

/** An Elysia `parse` hook for JSON routes. */
export function jsonParser(maxBytes: number) {
  return ({ request }: { request: Request }) => readJsonBody(request, maxBytes);
}
