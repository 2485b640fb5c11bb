/**
 * Bun's fetch keeps at most BUN_CONFIG_MAX_HTTP_REQUESTS (default 256) requests in
 * flight, read once at process start, and silently queues the rest. Every open
 * stream holds one upstream request, so past that limit a client would hang until
 * another stream ends. CodexIn counts its upstream calls and answers 503 at once
 * instead, telling the operator how to raise the limit.
 */
import { ApiError } from '../openai/api-error';

const BUN_DEFAULT_LIMIT = 256;
// Left free for token refreshes, catalog fetches and file uploads, which also use fetch.
const RESERVED = 8;

export function fetchLimitFromEnv(env: Record<string, string | undefined> = process.env): number {
  const raw = Number(env.BUN_CONFIG_MAX_HTTP_REQUESTS);
  return Number.isInteger(raw) && raw > 0 ? Math.min(raw, 65_535) : BUN_DEFAULT_LIMIT;
}

export class UpstreamCapacity {
  private inflight = 0;
  readonly limit: number;

  constructor(fetchLimit = fetchLimitFromEnv()) {
    this.limit = Math.max(1, fetchLimit - RESERVED);
  }

  get active(): number {
    return this.inflight;
  }

  /** Takes a slot or throws 503; the returned function gives it back (idempotent). */
  acquire(): () => void {
    if (this.inflight >= this.limit) {
      throw new ApiError(503, 'service_unavailable_error', `This server is at its limit of ${this.limit} concurrent upstream requests; retry shortly. Operators can raise it with BUN_CONFIG_MAX_HTTP_REQUESTS (up to 65535).`, {
        code: 'server_at_capacity',
        headers: { 'retry-after': '1' },
      });
    }
    this.inflight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inflight--;
    };
  }
}
