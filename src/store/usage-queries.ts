/**
 * Read-only queries over the usage table for the operator dashboard: the most
 * recent requests, newest first, paged by row id so a page never shifts while
 * new requests arrive. Rows carry ids, timings and codes only, never prompt text.
 */
import type { Db } from './db';

export type RequestOutcome = 'all' | 'ok' | 'error';

export interface RecentRequestsQuery {
  limit: number;
  /** Only rows older than this row id (the previous page's `next_before`). */
  before?: number;
  outcome?: RequestOutcome;
  keyId?: string;
}

export interface RecentRequest {
  id: number;
  at: number;
  request_id: string | null;
  key_id: string | null;
  account_id: string | null;
  route: string;
  model: string | null;
  status: number;
  error_code: string | null;
  latency_ms: number | null;
  ttfb_ms: number | null;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

export function recentRequests(db: Db, q: RecentRequestsQuery): RecentRequest[] {
  const outcome = q.outcome ?? 'all';
  return db
    .query(
      `SELECT id, at, request_id, key_id, account_id, route, model, status, error_code, latency_ms, ttfb_ms,
              input_tokens, cached_tokens, output_tokens, reasoning_tokens
       FROM usage
       WHERE ($before IS NULL OR id < $before)
         AND ($key IS NULL OR key_id = $key)
         AND ($outcome = 'all' OR ($outcome = 'ok' AND status < 400) OR ($outcome = 'error' AND status >= 400))
       ORDER BY id DESC LIMIT $limit`,
    )
    .all({ before: q.before ?? null, key: q.keyId ?? null, outcome, limit: q.limit }) as RecentRequest[];
}
