/**
 * Reads a request body with a running byte cap, inflating Content-Encoding as a
 * stream: a 33 KB zstd bomb stops at the cap instead of becoming 1 GiB in memory,
 * and a body past the cap is refused the moment it passes, not after it arrived.
 * What is held counts against the process-wide budget (./body-budget.ts).
 */
import zlib from 'node:zlib';
import { Readable, type Transform } from 'node:stream';
import { ApiError } from '../openai/api-error';
import { HeldChunks } from './body-budget';

export function bodyTooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'invalid_request_error', `Request body is larger than this server accepts (${maxBytes} bytes).`, {
    code: 'request_too_large',
  });
}

function unsupportedEncoding(encoding: string): ApiError {
  return new ApiError(415, 'invalid_request_error', `Unsupported Content-Encoding "${encoding.slice(0, 40)}": use zstd, gzip, deflate or none.`, {
    code: 'unsupported_content_encoding',
  });
}

type Inflater = (firstByte: number | undefined) => Transform;

const INFLATERS: Record<string, Inflater> = {
  zstd: () => zlib.createZstdDecompress(),
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  // RFC 9110 says zlib-wrapped; some clients send raw DEFLATE. A zlib stream starts with 0x?8 (CM=8).
  deflate: (firstByte) => (firstByte !== undefined && (firstByte & 0x0f) === 8 ? zlib.createInflate() : zlib.createInflateRaw()),
};

/** Throws 415 for an encoding we cannot inflate; call before reading anything. */
export function checkEncoding(encoding: string): void {
  if (encoding !== '' && encoding !== 'identity' && !(encoding in INFLATERS)) throw unsupportedEncoding(encoding);
}

async function* capped(stream: ReadableStream<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (total > maxBytes) throw bodyTooLarge(maxBytes);
    yield chunk;
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * The whole body, decoded, at most `maxBytes` both on the wire and once inflated.
 * 413 past the cap, 400 for data that is not what its encoding says, 503 when the
 * process already holds BODY_BUFFER_BUDGET_BYTES of other bodies. The bytes count
 * against the budget until the returned `release` is called (after parsing).
 */
export async function readBody(request: Request, maxBytes: number): Promise<{ bytes: Uint8Array<ArrayBuffer>; release: () => void }> {
  const encoding = (request.headers.get('content-encoding') ?? '').trim().toLowerCase();
  checkEncoding(encoding);
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw bodyTooLarge(maxBytes);
  if (!request.body) return { bytes: new Uint8Array(), release: () => {} };
  const held = new HeldChunks();
  try {
    await collect(request.body, encoding, maxBytes, held);
  } catch (error) {
    held.release();
    throw error;
  }
  let released = false;
  return {
    bytes: concat(held.chunks, held.total),
    release: () => {
      if (!released) held.release();
      released = true;
    },
  };
}

async function collect(body: ReadableStream<Uint8Array>, encoding: string, maxBytes: number, held: HeldChunks): Promise<void> {
  const raw = capped(body, maxBytes);
  const makeInflater = INFLATERS[encoding];
  if (!makeInflater) {
    for await (const chunk of raw) held.push(chunk);
    return;
  }
  const first = await raw.next();
  if (first.done) return;
  const inflater = makeInflater(first.value[0]);
  const source = Readable.from(
    (async function* () {
      yield first.value;
      yield* raw;
    })(),
  );
  source.on('error', (error) => inflater.destroy(error));
  source.pipe(inflater);
  try {
    for await (const chunk of inflater as AsyncIterable<Uint8Array>) {
      if (held.total + chunk.byteLength > maxBytes) throw bodyTooLarge(maxBytes);
      held.push(chunk);
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(400, 'invalid_request_error', `The request body is not valid ${encoding} data.`, { code: 'invalid_encoding' });
  } finally {
    source.destroy();
    inflater.destroy();
  }
}
