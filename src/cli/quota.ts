/**
 * The usage windows of a ChatGPT account, read from the `x-codex-*` headers the
 * upstream last sent (research/chatgpt-upstream-protocol.md §2.3): what an operator
 * wants to know is how much of each window is used and when it resets.
 */

export interface QuotaWindow {
  /** `primary` (the short window, 5 h today) or `secondary` (weekly). */
  window: 'primary' | 'secondary';
  label: string;
  used_percent: number;
  window_minutes: number | null;
  /** Epoch milliseconds; null when the upstream did not say. */
  resets_at: number | null;
}

function finite(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** `300` → `5h`, `10080` → `weekly`: the names Codex shows for its windows. */
export function windowLabel(minutes: number | null, fallback: string): string {
  if (minutes === null) return fallback;
  if (minutes === 10_080) return 'weekly';
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

export function quotaWindows(quota: Record<string, string> | null): QuotaWindow[] {
  if (!quota) return [];
  const out: QuotaWindow[] = [];
  for (const window of ['primary', 'secondary'] as const) {
    const used = finite(quota[`x-codex-${window}-used-percent`]);
    if (used === null) continue;
    const minutes = finite(quota[`x-codex-${window}-window-minutes`]);
    const resetAt = finite(quota[`x-codex-${window}-reset-at`]);
    out.push({ window, label: windowLabel(minutes, window), used_percent: used, window_minutes: minutes, resets_at: resetAt === null ? null : resetAt * 1000 });
  }
  return out;
}

/** `5h 12% used (resets in 2h 59m, 2026-01-02 15:04 UTC)`. */
export function describeWindow(w: QuotaWindow, now = Date.now()): string {
  if (w.resets_at === null) return `${w.label} ${w.used_percent}% used`;
  return `${w.label} ${w.used_percent}% used (resets ${w.resets_at <= now ? 'now' : `in ${describeDuration(w.resets_at - now)}`}, ${utc(w.resets_at)})`;
}

export function describeDuration(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  return `${m}m`;
}

export function utc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}
