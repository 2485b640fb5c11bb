/** Per-request usage metering: one row per finished request. */
import type { Db } from './db';
import type { Usage } from '../openai/responses-types';

export interface UsageEntry {
  keyId: string | null;
  accountId: string | null;
  route: string;
  model: string | null;
  status: number;
  usage: Usage | null;
  latencyMs: number | null;
  ttfbMs: number | null;
  requestId: string | null;
  /** The OpenAI error code the client got (e.g. usage_limit_reached); null on success. */
  errorCode?: string | null;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

export class UsageStore {
  constructor(private readonly db: Db) {}

  record(e: UsageEntry, at = Date.now()): void {
    this.db
      .query(
        `INSERT INTO usage (at, key_id, account_id, route, model, status, input_tokens, cached_tokens, output_tokens, reasoning_tokens, latency_ms, ttfb_ms, request_id, error_code)
         VALUES ($at, $key, $account, $route, $model, $status, $in, $cached, $out, $reasoning, $latency, $ttfb, $rid, $error)`,
      )
      .run({
        at,
        key: e.keyId,
        account: e.accountId,
        route: e.route,
        model: e.model,
        status: e.status,
        in: e.usage?.input_tokens ?? 0,
        cached: e.usage?.input_tokens_details.cached_tokens ?? 0,
        out: e.usage?.output_tokens ?? 0,
        reasoning: e.usage?.output_tokens_details.reasoning_tokens ?? 0,
        latency: e.latencyMs,
        ttfb: e.ttfbMs,
        rid: e.requestId,
        error: e.errorCode ?? null,
      });
  }

  totalsForKey(keyId: string, since = 0): UsageTotals {
    return this.db
      .query(
        `SELECT count(*) AS requests, coalesce(sum(input_tokens),0) AS input_tokens, coalesce(sum(cached_tokens),0) AS cached_tokens,
                coalesce(sum(output_tokens),0) AS output_tokens, coalesce(sum(reasoning_tokens),0) AS reasoning_tokens
         FROM usage WHERE key_id = $key AND at >= $since`,
      )
      .get({ key: keyId, since }) as UsageTotals;
  }

  /** Input + output tokens the key used since `since` (quota accounting). */
  tokensForKey(keyId: string, since: number): number {
    return (this.db.query('SELECT coalesce(sum(input_tokens + output_tokens), 0) AS n FROM usage WHERE key_id = $key AND at >= $since').get({ key: keyId, since }) as { n: number }).n;
  }

  /** Usage per UTC day, per key or per account, tokens by kind. */
  byDay(group: 'key' | 'account', since: number, id?: string): UsageByDay[] {
    const column = group === 'key' ? 'key_id' : 'account_id';
    return this.db
      .query(
        `SELECT strftime('%Y-%m-%d', at / 1000, 'unixepoch') AS day, ${column} AS id, count(*) AS requests,
                sum(input_tokens) AS input_tokens, sum(cached_tokens) AS cached_tokens, sum(output_tokens) AS output_tokens,
                sum(reasoning_tokens) AS reasoning_tokens
         FROM usage WHERE at >= $since AND ($id IS NULL OR ${column} = $id)
         GROUP BY day, ${column} ORDER BY day, ${column}`,
      )
      .all({ since, id: id ?? null }) as UsageByDay[];
  }
}

export interface UsageByDay extends UsageTotals {
  day: string;
  id: string | null;
}
