/**
 * The process-wide budget of request bytes held in memory (see BODY_BUFFER_BUDGET_BYTES).
 */
import { ApiError } from '../openai/api-error';

/**
 * Request bytes held in memory across all requests at once. Each body is capped, but
 * thirty parallel 33 KB bombs, each inflating to the 64 MiB cap, would still be 2 GB:
 * past this budget a body being read is refused with 503 + retry-after. A body is
 * always admitted when no other is held, so a large CODEXIN_MAX_BODY_BYTES still works.
 * Memory is one per process, hence one budget per process.
 */
export const BODY_BUFFER_BUDGET_BYTES = 256 * 1024 * 1024;

export class BodyBudget {
  private held = 0;
  constructor(private readonly limit: number) {}

  /** Takes `bytes` for one request that already holds `mine`; false when the process is full. */
  take(bytes: number, mine: number): boolean {
    if (this.held + bytes > this.limit && this.held - mine > 0) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  get inUse(): number {
    return this.held;
  }
}

const budget = new BodyBudget(BODY_BUFFER_BUDGET_BYTES);

/** Bytes of request bodies held right now (for tests and metrics). */
export function bodyBytesInUse(): number {
  return budget.inUse;
}

function serverBusy(): ApiError {
  return new ApiError(503, 'service_unavailable_error', 'The server is reading too many large request bodies at once; retry in a moment.', {
    code: 'server_busy',
    headers: { 'retry-after': '1' },
  });
}

/** Chunks of one body, counted against the process budget until `release`. */
export class HeldChunks {
  readonly chunks: Uint8Array[] = [];
  total = 0;

  push(chunk: Uint8Array): void {
    if (!budget.take(chunk.byteLength, this.total)) throw serverBusy();
    this.chunks.push(chunk);
    this.total += chunk.byteLength;
  }

  release(): void {
    budget.give(this.total);
  }
}
