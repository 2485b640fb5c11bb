/**
 * Request decoding and response helpers shared by every simulated route.
 */
import type { RecordedRequest } from './types';

export type JsonObject = { [key: string]: unknown };

/** One decoded inbound request, read once so it can be recorded and routed. */
export interface Ctx {
  req: Request;
  url: URL;
  /** Scheme + host the client used: absolute URLs we hand out must point back at it. */
  origin: string;
  bytes: Uint8Array;
  rawBody: string;
  /** Parsed JSON body, or null. */
  json: unknown;
  /** Path parameters captured by the route pattern. */
  params: string[];
  /** True when served by start(): a dropped stream must then reset the socket silently. */
  viaServer: boolean;
}

export async function decodeRequest(req: Request, viaServer: boolean): Promise<Ctx> {
  const url = new URL(req.url);
  let bytes = new Uint8Array(await req.arrayBuffer());
  // Codex CLI zstd-compresses bodies it sends to the ChatGPT backend (protocol §1.2).
  if (bytes.length > 0 && (req.headers.get('content-encoding') ?? '').toLowerCase() === 'zstd') {
    try {
      bytes = new Uint8Array(Bun.zstdDecompressSync(bytes));
    } catch {
      // Left compressed: the JSON parse below fails and the route answers 400.
    }
  }
  const rawBody = new TextDecoder().decode(bytes);
  let json: unknown = null;
  if (rawBody.length > 0) {
    try {
      json = JSON.parse(rawBody);
    } catch {
      json = null;
    }
  }
  return { req, url, origin: url.origin, bytes, rawBody, json, params: [], viaServer };
}

export function record(ctx: Ctx): RecordedRequest {
  return {
    method: ctx.req.method,
    path: ctx.url.pathname,
    query: Object.fromEntries(ctx.url.searchParams),
    headers: Object.fromEntries(ctx.req.headers),
    body: ctx.json,
    rawBody: ctx.rawBody,
    at: Date.now(),
  };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** The backend is FastAPI: its own errors are `{"detail": "..."}`. */
export function detail(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json({ detail: message }, status, headers);
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Form or JSON bodies (the OAuth endpoints take both). */
export function formOrJson(ctx: Ctx): Record<string, string> {
  if (isObject(ctx.json)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.json)) if (typeof v === 'string') out[k] = v;
    return out;
  }
  return Object.fromEntries(new URLSearchParams(ctx.rawBody));
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? Bun.sleep(ms) : Promise.resolve();
}
