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
 * Used tokens come from the usage store's per-key counters (loaded once, updated by the
 * meter), never from a SUM per request. Alone, a CodexIn process keeps rpm and calls in
 * flight in memory and admits synchronously; instances sharing a database pass
 * `shared`, and then rpm and concurrency are decided by the shared server (exact across
 * instances), at the price of a round trip, so `admit` answers with a promise.
 */
import { ApiError } from '../openai/api-error';
import type { KeyRecord } from '../store/keys';
import type { UsageStore } from '../store/usage';
import type { Lease, RequestWindow, SharedLimits } from '../coord/shared-limits';
import type { Awaitable } from '../store/awaitable';
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

interface TokensUsed {
  day: number;
  week: number;
}

interface Quota {
  limit: number;
  used: number;
  resetAt: number;
  label: string;
}

/** One admission's working state: what it asks for and the headers it answers with. */
interface Attempt {
  key: KeyRecord;
  calls: number;
  /** Tokens reserved for the whole request. */
  estimate: number;
  now: number;
  headers: Record<string, string>;
}

function isPromise<T>(value: Awaitable<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function';
}

function limited(attempt: Attempt, message: string, code: string, retryMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(retryMs / 1000));
  return new ApiError(429, 'rate_limit_error', message, {
    code,
    headers: { ...attempt.headers, 'retry-after': String(seconds), 'retry-after-ms': String(seconds * 1000), ...(seconds > 60 ? { 'x-should-retry': 'false' } : {}) },
  });
}

function rpmRefused(attempt: Attempt, rpm: number, resetMs: number): ApiError {
  const asked = attempt.calls > 1 ? ` (this request needs ${attempt.calls})` : '';
  return limited(attempt, `This key is limited to ${rpm} requests per minute${asked}; retry in ${Math.ceil(resetMs / 1000)} s.`, 'rate_limit_exceeded', resetMs);
}

function concurrencyRefused(attempt: Attempt, maxConcurrent: number): ApiError {
  return limited(attempt, `This key may run ${maxConcurrent} request(s) at once; wait for one to finish.`, 'concurrency_limit_exceeded', 1000);
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

export interface KeyLimiterOptions {
  /** Rpm and concurrency shared with the other instances on one database; absent for the single binary. */
  shared?: SharedLimits;
}

export class KeyLimiter {
  private readonly recent = new Map<string, number[]>();
  private readonly inflight = new Map<string, number>();
  private readonly reserved = new Map<string, number>();
  /** Moving average of output tokens per call, per key. */
  private readonly averageOutput = new Map<string, number>();
  private readonly shared: SharedLimits | null;

  constructor(
    private readonly usage: UsageStore,
    /** The process-wide cap on upstream calls, checked after the key's own limits. */
    readonly capacity: UpstreamCapacity = new UpstreamCapacity(),
    opts: KeyLimiterOptions = {},
  ) {
    this.shared = opts.shared ?? null;
  }

  /** Calls of this key in flight in this process. */
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

  /**
   * Admits the call or throws the 429 (503 at process capacity). Synchronous when every
   * answer is in memory; a promise when rpm or concurrency are shared or the usage store
   * answers asynchronously.
   */
  admit(key: KeyRecord, opts: AdmitOptions = {}, now = Date.now()): Awaitable<Admission> {
    const calls = Math.max(1, opts.calls ?? 1);
    const attempt: Attempt = {
      key,
      calls,
      estimate: calls * ((opts.inputTokens ?? 0) + Math.ceil(this.averageOutput.get(key.id) ?? DEFAULT_OUTPUT_ESTIMATE)),
      now,
      headers: {},
    };
    if (this.shared && (key.rpm !== null || key.maxConcurrent !== null)) return this.admitShared(attempt, this.shared);
    const used = this.tokensUsed(key, now);
    // Everything after the tokens are known runs without a pause, so no other admission
    // of this process interleaves between the checks and the bookkeeping.
    return isPromise(used) ? used.then((u) => this.admitLocal(attempt, u)) : this.admitLocal(attempt, used);
  }

  private admitLocal(attempt: Attempt, used: TokensUsed | null): Admission {
    const { key, calls, now, headers } = attempt;
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
        throw rpmRefused(attempt, key.rpm, resetMs);
      }
    }
    const quotas = this.checkQuotas(attempt, used);
    if (key.maxConcurrent !== null && this.activeFor(key.id) >= key.maxConcurrent) throw concurrencyRefused(attempt, key.maxConcurrent);
    const admission = this.commit(attempt, quotas, null);
    for (let i = 0; i < calls; i++) window?.push(now);
    return admission;
  }

  /**
   * Rpm first, as the local path, then the quotas, then a concurrency lease. A request
   * refused after its rpm hits were counted gives them back, as the local path never
   * counts them.
   */
  private async admitShared(attempt: Attempt, shared: SharedLimits): Promise<Admission> {
    const { key, calls, headers } = attempt;
    let window: RequestWindow | null = null;
    let lease: Lease | null = null;
    try {
      if (key.rpm !== null) {
        window = await shared.takeRequests(key.id, key.rpm, calls);
        headers['x-ratelimit-limit-requests'] = String(key.rpm);
        headers['x-ratelimit-remaining-requests'] = String(Math.max(0, key.rpm - window.used));
        headers['x-ratelimit-reset-requests'] = formatReset(window.resetMs);
        if (!window.admitted) throw rpmRefused(attempt, key.rpm, window.resetMs);
      }
      const used = await this.tokensUsed(key, attempt.now);
      this.checkQuotas(attempt, used);
      if (key.maxConcurrent !== null) {
        lease = await shared.takeLease(key.id, key.maxConcurrent);
        if (!lease) throw concurrencyRefused(attempt, key.maxConcurrent);
      }
      // Again, with the reservations other calls of this process made while this one waited.
      const quotas = this.checkQuotas(attempt, used);
      return this.commit(attempt, quotas, lease);
    } catch (error) {
      window?.refund();
      lease?.release();
      throw error;
    }
  }

  private tokensUsed(key: KeyRecord, now: number): Awaitable<TokensUsed | null> {
    if (key.tokenQuotaDaily === null && key.tokenQuotaWeekly === null) return null;
    return this.usage.tokensOf(key.id, key.usageResetAt, now);
  }

  /** Throws when a token quota is spent or promised to calls in flight; sets the token headers. */
  private checkQuotas(attempt: Attempt, used: TokensUsed | null): Quota[] {
    const { key, calls, estimate, now, headers } = attempt;
    const quotas: Quota[] = [];
    if (used) {
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
        throw limited(attempt, `This key used its ${q.label} quota of ${q.limit} tokens; it resets at ${new Date(q.resetAt).toISOString()}.`, 'token_quota_exceeded', q.resetAt - now);
      }
      if (held + (estimate / calls) * (calls - 1) >= remaining) {
        // The rest of the quota is promised to calls still running (or to this request's own first calls).
        headers['x-ratelimit-limit-tokens'] = String(q.limit);
        headers['x-ratelimit-remaining-tokens'] = '0';
        headers['x-ratelimit-reset-tokens'] = '1s';
        const why = held > 0 ? 'is held by its requests in flight; retry when they finish' : `cannot cover ${calls} calls; ask for fewer`;
        throw limited(attempt, `This key's ${q.label} quota of ${q.limit} tokens ${why}.`, 'token_quota_exceeded', 1000);
      }
    }
    if (tightest) {
      headers['x-ratelimit-limit-tokens'] = String(tightest.limit);
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, tightest.remaining - held));
      headers['x-ratelimit-reset-tokens'] = formatReset(tightest.resetAt - now);
    }
    return quotas;
  }

  /** Takes the process capacity slot (may throw 503) and records the call as in flight. */
  private commit(attempt: Attempt, quotas: Quota[], lease: Lease | null): Admission {
    const { key, estimate, headers } = attempt;
    const releaseSlot = this.capacity.acquire();
    this.inflight.set(key.id, this.activeFor(key.id) + 1);
    const reservation = quotas.length ? estimate : 0;
    if (reservation) this.reserved.set(key.id, this.reservedFor(key.id) + reservation);
    let released = false;
    return {
      headers,
      release: () => {
        if (released) return;
        released = true;
        releaseSlot();
        lease?.release();
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
