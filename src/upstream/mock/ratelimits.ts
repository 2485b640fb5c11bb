/**
 * The quota picture the backend reports three ways: `x-codex-*` headers on every
 * answer (§2.3), the in-stream `codex.rate_limits` event (§1.7) and `/wham/usage`
 * (§3.1). All three derive from one snapshot so they never disagree.
 */
import { randomUUID } from 'node:crypto';
import { json } from './http';

const PRIMARY_WINDOW_MINUTES = 300;
const SECONDARY_WINDOW_MINUTES = 10_080;

interface WindowSnapshot {
  usedPercent: number;
  windowMinutes: number;
  resetAfterSeconds: number;
  resetAt: number;
}

export interface QuotaSnapshot {
  plan: string;
  primary: WindowSnapshot;
  secondary: WindowSnapshot;
}

function window(usedPercent: number, windowMinutes: number, resetAfterSeconds: number, now: number): WindowSnapshot {
  return { usedPercent, windowMinutes, resetAfterSeconds, resetAt: now + resetAfterSeconds };
}

/** A healthy account: fixed numbers keep header assertions deterministic. */
export function healthyQuota(plan: string, nowSeconds = Math.floor(Date.now() / 1000)): QuotaSnapshot {
  return {
    plan,
    primary: window(12, PRIMARY_WINDOW_MINUTES, 3 * 3600, nowSeconds),
    secondary: window(4, SECONDARY_WINDOW_MINUTES, 5 * 86_400, nowSeconds),
  };
}

// The backend is Python: booleans in headers are spelled True/False.
const pyBool = (b: boolean): string => (b ? 'True' : 'False');

export function quotaHeaders(q: QuotaSnapshot): Record<string, string> {
  const h: Record<string, string> = { 'x-codex-plan-type': q.plan };
  for (const [name, w] of [
    ['primary', q.primary],
    ['secondary', q.secondary],
  ] as const) {
    h[`x-codex-${name}-used-percent`] = String(w.usedPercent);
    h[`x-codex-${name}-window-minutes`] = String(w.windowMinutes);
    h[`x-codex-${name}-reset-at`] = String(w.resetAt);
    h[`x-codex-${name}-reset-after-seconds`] = String(w.resetAfterSeconds);
  }
  h['x-codex-primary-over-secondary-limit-percent'] = '0';
  h['x-codex-credits-has-credits'] = pyBool(false);
  h['x-codex-credits-balance'] = '0';
  h['x-codex-credits-unlimited'] = pyBool(false);
  return h;
}

export function rateLimitsEvent(q: QuotaSnapshot): Record<string, unknown> {
  const win = (w: WindowSnapshot) => ({ used_percent: w.usedPercent, window_minutes: w.windowMinutes, reset_at: w.resetAt });
  return {
    type: 'codex.rate_limits',
    plan_type: q.plan,
    rate_limits: { primary: win(q.primary), secondary: win(q.secondary) },
    credits: { has_credits: false, unlimited: false, balance: '0' },
    metered_limit_name: 'codex',
  };
}

export function whamUsage(q: QuotaSnapshot): Record<string, unknown> {
  const win = (w: WindowSnapshot) => ({
    used_percent: w.usedPercent,
    limit_window_seconds: w.windowMinutes * 60,
    reset_after_seconds: w.resetAfterSeconds,
    reset_at: w.resetAt,
  });
  const limit = { allowed: true, limit_reached: false, primary_window: win(q.primary), secondary_window: win(q.secondary) };
  return {
    plan_type: q.plan,
    rate_limit: limit,
    credits: { has_credits: false, unlimited: false, balance: '0', approx_local_messages: [0, 0], approx_cloud_messages: [0, 0] },
    additional_rate_limits: [{ limit_name: 'GPT-5.3-Codex-Spark', metered_feature: 'codex_bengalfox', rate_limit: limit }],
    rate_limit_reached_type: null,
  };
}

/** The real 429 (body and headers captured in §2.4 d and §3.5). */
export function usageLimitResponse(plan: string, resetsInSeconds: number, modelsEtag: string): Response {
  const now = Math.floor(Date.now() / 1000);
  const resetsAt = now + resetsInSeconds;
  const q: QuotaSnapshot = {
    plan,
    primary: { usedPercent: 100, windowMinutes: PRIMARY_WINDOW_MINUTES, resetAfterSeconds: resetsInSeconds, resetAt: resetsAt },
    secondary: window(80, SECONDARY_WINDOW_MINUTES, Math.max(resetsInSeconds, 5 * 86_400), now),
  };
  const body = {
    error: {
      type: 'usage_limit_reached',
      message: 'The usage limit has been reached',
      plan_type: plan,
      resets_at: resetsAt,
      eligible_promo: null,
      resets_in_seconds: resetsInSeconds,
    },
  };
  return json(body, 429, {
    ...quotaHeaders(q),
    'x-codex-active-limit': 'premium',
    'x-models-etag': modelsEtag,
    'x-oai-request-id': randomUUID(),
    server: 'cloudflare',
  });
}
