/**
 * Per-key admission before a model call: requests per minute (sliding window),
 * tokens per UTC day and week, and calls in flight, then the process-wide upstream
 * capacity. A key over a limit gets 429 with retry-after and x-ratelimit-* headers
 * computed for that key, so SDKs back off correctly; admitted calls get the same headers.
 *
 * Token quotas under concurrency: the tokens a call will use are known only at its end,
 * so each admitted call reserves an estimate (its input size plus the key's recent
 * average output) until it settles. A call is admitted while used + reserved is under
 * the quota, so a burst overshoots by at most about one call's worth.
 *
 * Everything here is memory: used tokens come from the usage store's per-key counters
 * (loaded once, updated by the meter), never from a SUM per request. One CodexIn
 * process is the unit of deployment.
 */
import { ApiError } from '../openai/api-error';
import type { KeyRecord } from '../store/keys';
import type { UsageStore } from '../store/usage';
import { UpstreamCapacity } from './capacity';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Output tokens assumed for a key whose calls have not finished yet. */
const DEFAULT_OUTPUT_ESTIMATE = 512;

export interface Admission {
  headers: Record<string, string>;
  /** Ends the call's hold on the concurrency limit and its token reservation. Idempotent. */
  release(): void;
}

export interface AdmitOptions {
  /**
   * Calls admitted together, all or none (n image generations), counted n times against
   * rpm and the token quotas; they run one after another, so they hold one concurrency slot.
   */
  calls?: number;
  /** Estimated input tokens of each call (e.g. request bytes / 4). */
  inputTokens?: number;
}

function startOfUtcDay(now: number): number {
  return Math.floor(now / DAY) * DAY;
}

/** Monday 00:00 UTC of the current week. */
function startOfUtcWeek(now: number): number {
  const day = startOfUtcDay(now);
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday * DAY;
}

/** OpenAI's reset format: "1s", "6m0s", "2h3m4s". */
export function formatReset(ms: number): string {
  let s = Math.max(1, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** A rough token count of a request body: about four bytes a token. */
export function estimateInputTokens(request: unknown): number {
  try {
    return Math.ceil((JSON.stringify(request)?.length ?? 0) / 4);
  } catch {
    return 0;
  }
}

export class KeyLimiter {
  private readonly recent = new Map<string, number[]>();
  private readonly inflight = new Map<string, number>();
  private readonly reserved = new Map<string, number>();
  /** Moving average of output tokens per call, per key. */
  private readonly averageOutput = new Map<string, number>();

  constructor(
    private readonly usage: UsageStore,
    /** The process-wide cap on upstream calls, checked after the key's own limits. */
    readonly capacity: UpstreamCapacity = new UpstreamCapacity(),
  ) {}

  activeFor(keyId: string): number {
    return this.inflight.get(keyId) ?? 0;
  }

  /** Tokens held by calls of this key that have not settled yet. */
  reservedFor(keyId: string): number {
    return this.reserved.get(keyId) ?? 0;
  }

  /** Teaches the estimator what a finished call really used. */
  settle(keyId: string, outputTokens: number): void {
    const previous = this.averageOutput.get(keyId);
    this.averageOutput.set(keyId, previous === undefined ? outputTokens : previous * 0.7 + outputTokens * 0.3);
  }

  admit(key: KeyRecord, opts: AdmitOptions = {}, now = Date.now()): Admission {
    const calls = Math.max(1, opts.calls ?? 1);
    const headers: Record<string, string> = {};
    const limited = (message: string, code: string, retryMs: number): ApiError => {
      const seconds = Math.max(1, Math.ceil(retryMs / 1000));
      return new ApiError(429, 'rate_limit_error', message, {
        code,
        headers: { ...headers, 'retry-after': String(seconds), 'retry-after-ms': String(seconds * 1000), ...(seconds > 60 ? { 'x-should-retry': 'false' } : {}) },
      });
    };

    let window: number[] | undefined;
    if (key.rpm !== null) {
      window = (this.recent.get(key.id) ?? []).filter((t) => t > now - MINUTE);
      this.recent.set(key.id, window);
      const resetMs = window.length ? window[0]! + MINUTE - now : MINUTE;
      headers['x-ratelimit-limit-requests'] = String(key.rpm);
      headers['x-ratelimit-remaining-requests'] = String(Math.max(0, key.rpm - window.length - calls));
      headers['x-ratelimit-reset-requests'] = formatReset(resetMs);
      if (window.length + calls > key.rpm) {
        headers['x-ratelimit-remaining-requests'] = String(Math.max(0, key.rpm - window.length));
        const asked = calls > 1 ? ` (this request needs ${calls})` : '';
        throw limited(`This key is limited to ${key.rpm} requests per minute${asked}; retry in ${Math.ceil(resetMs / 1000)} s.`, 'rate_limit_exceeded', resetMs);
      }
    }

    const estimate = calls * ((opts.inputTokens ?? 0) + Math.ceil(this.averageOutput.get(key.id) ?? DEFAULT_OUTPUT_ESTIMATE));
    const quotas: { limit: number; used: number; resetAt: number; label: string }[] = [];
    if (key.tokenQuotaDaily !== null || key.tokenQuotaWeekly !== null) {
      const used = this.usage.tokensOf(key.id, key.usageResetAt, now);
      if (key.tokenQuotaDaily !== null) quotas.push({ limit: key.tokenQuotaDaily, used: used.day, resetAt: startOfUtcDay(now) + DAY, label: 'daily' });
      if (key.tokenQuotaWeekly !== null) quotas.push({ limit: key.tokenQuotaWeekly, used: used.week, resetAt: startOfUtcWeek(now) + 7 * DAY, label: 'weekly' });
    }
    const held = this.reservedFor(key.id);
    let tightest: { remaining: number; limit: number; resetAt: number } | null = null;
    for (const q of quotas) {
      const remaining = q.limit - q.used;
      if (!tightest || remaining < tightest.remaining) tightest = { remaining, limit: q.limit, resetAt: q.resetAt };
      if (remaining <= 0) {
        headers['x-ratelimit-limit-tokens'] = String(q.limit);
        headers['x-ratelimit-remaining-tokens'] = '0';
        headers['x-ratelimit-reset-tokens'] = formatReset(q.resetAt - now);
        throw limited(`This key used its ${q.label} quota of ${q.limit} tokens; it resets at ${new Date(q.resetAt).toISOString()}.`, 'token_quota_exceeded', q.resetAt - now);
      }
      if (held + (estimate / calls) * (calls - 1) >= remaining) {
        // The rest of the quota is promised to calls still running (or to this request's own first calls).
        headers['x-ratelimit-limit-tokens'] = String(q.limit);
        headers['x-ratelimit-remaining-tokens'] = '0';
        headers['x-ratelimit-reset-tokens'] = '1s';
        const why = held > 0 ? 'is held by its requests in flight; retry when they finish' : `cannot cover ${calls} calls; ask for fewer`;
        throw limited(`This key's ${q.label} quota of ${q.limit} tokens ${why}.`, 'token_quota_exceeded', 1000);
      }
    }
    if (tightest) {
      headers['x-ratelimit-limit-tokens'] = String(tightest.limit);
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, tightest.remaining - held));
      headers['x-ratelimit-reset-tokens'] = formatReset(tightest.resetAt - now);
    }

    if (key.maxConcurrent !== null && this.activeFor(key.id) >= key.maxConcurrent) {
      throw limited(`This key may run ${key.maxConcurrent} request(s) at once; wait for one to finish.`, 'concurrency_limit_exceeded', 1000);
    }

    const releaseSlot = this.capacity.acquire();
    for (let i = 0; i < calls; i++) window?.push(now);
    this.inflight.set(key.id, this.activeFor(key.id) + 1);
    const reservation = quotas.length ? estimate : 0;
    if (reservation) this.reserved.set(key.id, held + reservation);
    let released = false;
    return {
      headers,
      release: () => {
        if (released) return;
        released = true;
        releaseSlot();
        const left = this.activeFor(key.id) - 1;
        if (left > 0) this.inflight.set(key.id, left);
        else this.inflight.delete(key.id);
        if (reservation) {
          const rest = this.reservedFor(key.id) - reservation;
          if (rest > 0) this.reserved.set(key.id, rest);
          else this.reserved.delete(key.id);
        }
      },
    };
  }
}
