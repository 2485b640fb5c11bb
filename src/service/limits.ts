/**
 * Per-key limits enforced before a model call: requests per minute (sliding
 * window), tokens per UTC day and week (from the usage table), and calls in flight.
 * A key over a limit gets 429 with retry-after and x-ratelimit-* headers computed
 * for that key, so SDKs back off correctly; admitted calls get the same headers.
 *
 * Counters live in memory: one CodexIn process is the unit of deployment.
 */
import { ApiError } from '../openai/api-error';
import type { KeyRecord } from '../store/keys';
import type { UsageStore } from '../store/usage';
import { UpstreamCapacity } from './capacity';

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface Admission {
  headers: Record<string, string>;
  /** Ends the call's hold on the concurrency limit. Idempotent. */
  release(): void;
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

export class KeyLimiter {
  private readonly recent = new Map<string, number[]>();
  private readonly inflight = new Map<string, number>();

  constructor(
    private readonly usage: UsageStore,
    /** The process-wide cap on upstream calls, checked after the key's own limits. */
    readonly capacity: UpstreamCapacity = new UpstreamCapacity(),
  ) {}

  activeFor(keyId: string): number {
    return this.inflight.get(keyId) ?? 0;
  }

  admit(key: KeyRecord, now = Date.now()): Admission {
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
      headers['x-ratelimit-remaining-requests'] = String(Math.max(0, key.rpm - window.length - 1));
      headers['x-ratelimit-reset-requests'] = formatReset(resetMs);
      if (window.length >= key.rpm) {
        headers['x-ratelimit-remaining-requests'] = '0';
        throw limited(`This key is limited to ${key.rpm} requests per minute; retry in ${Math.ceil(resetMs / 1000)} s.`, 'rate_limit_exceeded', resetMs);
      }
    }

    const quotas: { limit: number; since: number; resetAt: number; label: string }[] = [];
    if (key.tokenQuotaDaily !== null) quotas.push({ limit: key.tokenQuotaDaily, since: startOfUtcDay(now), resetAt: startOfUtcDay(now) + DAY, label: 'daily' });
    if (key.tokenQuotaWeekly !== null) quotas.push({ limit: key.tokenQuotaWeekly, since: startOfUtcWeek(now), resetAt: startOfUtcWeek(now) + 7 * DAY, label: 'weekly' });
    let tightest: { remaining: number; limit: number; resetAt: number } | null = null;
    for (const q of quotas) {
      const used = this.usage.tokensForKey(key.id, Math.max(q.since, key.usageResetAt ?? 0));
      const remaining = q.limit - used;
      if (!tightest || remaining < tightest.remaining) tightest = { remaining, limit: q.limit, resetAt: q.resetAt };
      if (remaining <= 0) {
        headers['x-ratelimit-limit-tokens'] = String(q.limit);
        headers['x-ratelimit-remaining-tokens'] = '0';
        headers['x-ratelimit-reset-tokens'] = formatReset(q.resetAt - now);
        throw limited(`This key used its ${q.label} quota of ${q.limit} tokens; it resets at ${new Date(q.resetAt).toISOString()}.`, 'token_quota_exceeded', q.resetAt - now);
      }
    }
    if (tightest) {
      headers['x-ratelimit-limit-tokens'] = String(tightest.limit);
      headers['x-ratelimit-remaining-tokens'] = String(tightest.remaining);
      headers['x-ratelimit-reset-tokens'] = formatReset(tightest.resetAt - now);
    }

    if (key.maxConcurrent !== null && this.activeFor(key.id) >= key.maxConcurrent) {
      throw limited(`This key may run ${key.maxConcurrent} request(s) at once; wait for one to finish.`, 'concurrency_limit_exceeded', 1000);
    }

    const releaseSlot = this.capacity.acquire();
    window?.push(now);
    this.inflight.set(key.id, this.activeFor(key.id) + 1);
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
      },
    };
  }
}
