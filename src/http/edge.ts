/**
 * What Bun hands over, made safe to route before Elysia sees it:
 *
 * - Elysia takes the path as `url.slice(url.indexOf('/', 11))`, so a Host of three
 *   characters or fewer (`proxy_pass http://api;` sends `Host: api`) put every
 *   request on the wrong path (405 everywhere); HTTP/1.0 without a Host gives a
 *   relative URL that `new URL` cannot parse (a plain-text 500). Such a request is
 *   re-addressed to `http://localhost` with its own path and query; the Host header
 *   itself is untouched.
 * - Two Host headers (Bun joins them with a comma) are a 400, as RFC 9112 §3.2 asks.
 * - A declared Content-Length over the server-wide limit is a 413 in the OpenAI
 *   envelope. Bun's own limit is set far above ours (bodies nobody reads are
 *   discarded, not buffered), so this, not Bun's empty 413, is what clients see.
 *
 * Bun still answers malformed HTTP (400) and headers over 16 KiB (431) itself, with
 * empty bodies, before any JavaScript runs; the README documents the limit.
 */
import { ApiError } from '../openai/api-error';
import { bodyTooLarge } from './body-stream';
import { newRequestId } from './request-id';

/** Bun's socket-level body limit: effectively none, see above. */
export const BUN_BODY_LIMIT = Number.MAX_SAFE_INTEGER;

function withRequestId(error: ApiError): Response {
  return error.toResponse({ 'x-request-id': newRequestId() });
}

/** The path and query of a request URL, whether absolute (`http://h/p?q`) or origin-form (`/p?q`). */
export function pathAndQuery(url: string): string {
  if (url.startsWith('/')) return url;
  const schemeEnd = url.indexOf('://');
  const slash = schemeEnd === -1 ? -1 : url.indexOf('/', schemeEnd + 3);
  return slash === -1 ? '/' : url.slice(slash);
}

/** True when Elysia's `indexOf('/', 11)` finds the real start of the path. */
function routable(url: string): boolean {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd === -1) return false;
  const slash = url.indexOf('/', schemeEnd + 3);
  return slash >= 11 && url.indexOf('/', 11) === slash;
}

/** The request to hand to Elysia, or the answer to give without it. */
export function admitRequest(request: Request, maxBodyBytes: number): Request | Response {
  const host = request.headers.get('host');
  if (host !== null && host.includes(',')) {
    return withRequestId(new ApiError(400, 'invalid_request_error', 'The request has more than one Host header; send exactly one.', { code: 'invalid_host' }));
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBodyBytes) return withRequestId(bodyTooLarge(maxBodyBytes));
  if (routable(request.url)) return request;
  return new Request(`http://localhost${pathAndQuery(request.url)}`, request);
}

/** Bun.serve's `error` handler: whatever escaped still leaves as the envelope, with no stack trace. */
export function edgeError(): Response {
  const requestId = newRequestId();
  return new ApiError(500, 'server_error', `Internal error; quote request id ${requestId} when reporting it.`, { code: 'internal_error' }).toResponse({
    'x-request-id': requestId,
  });
}
