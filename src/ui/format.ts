/** Pure formatting for the dashboard: times, counts and quota windows in words. */

const UNITS: [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1000, 's'],
];

/** "3h 20min" for a duration in ms (two largest units). */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [size, unit] of UNITS) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}

/** "5min ago" / "in 2h" relative to now; "never" for null. */
export function relative(at: number | null, now = Date.now()): string {
  if (at === null) return 'never';
  const delta = at - now;
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

export function dateTime(at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export interface QuotaWindow {
  /** "5-hour" or "Weekly" (from the window length). */
  name: string;
  usedPercent: number;
  /** Unix ms, or null when the upstream did not say. */
  resetsAt: number | null;
}

function windowName(minutes: number | null, fallback: string): string {
  if (minutes === null) return fallback;
  if (minutes === 300) return '5-hour';
  if (minutes === 10_080) return 'Weekly';
  return minutes % 1440 === 0 ? `${minutes / 1440}-day` : minutes % 60 === 0 ? `${minutes / 60}-hour` : `${minutes}-minute`;
}

const num = (v: string | undefined): number | null => {
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/**
 * The quota windows from the x-codex-* headers an account last got from the
 * upstream: primary (5 hours) and secondary (weekly). A reset time comes from
 * reset-at (Unix seconds) or, failing that, reset-after-seconds counted from `seenAt`.
 */
export function quotaWindows(quota: Record<string, string> | null, seenAt: number | null): QuotaWindow[] {
  if (!quota) return [];
  const out: QuotaWindow[] = [];
  for (const [which, fallback] of [
    ['primary', '5-hour'],
    ['secondary', 'Weekly'],
  ] as const) {
    const used = num(quota[`x-codex-${which}-used-percent`]);
    if (used === null) continue;
    const resetAt = num(quota[`x-codex-${which}-reset-at`]);
    const after = num(quota[`x-codex-${which}-reset-after-seconds`]);
    out.push({
      name: windowName(num(quota[`x-codex-${which}-window-minutes`]), fallback),
      usedPercent: Math.min(100, Math.max(0, used)),
      resetsAt: resetAt !== null ? resetAt * 1000 : after !== null && seenAt !== null ? seenAt + after * 1000 : null,
    });
  }
  return out;
}

/** UTC days (YYYY-MM-DD) from `days - 1` days ago through today, oldest first. */
export function lastDays(days: number, now = Date.now()): string[] {
  const today = Math.floor(now / 86_400_000) * 86_400_000;
  return Array.from({ length: days }, (_, i) => new Date(today - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}
