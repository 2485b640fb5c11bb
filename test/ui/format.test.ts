/** The dashboard's pure formatting: quota windows from the upstream's x-codex-* headers, durations, days. */
import { describe, expect, test } from 'bun:test';
import { duration, lastDays, quotaWindows, relative } from '../../src/ui/format';

// Headers as the ChatGPT backend sends them (research: chatgpt-upstream-protocol §2.3), values are strings.
const HEADERS = {
  'x-codex-plan-type': 'pro',
  'x-codex-primary-used-percent': '12',
  'x-codex-primary-window-minutes': '300',
  'x-codex-primary-reset-at': '1796203570',
  'x-codex-primary-reset-after-seconds': '10800',
  'x-codex-secondary-used-percent': '4',
  'x-codex-secondary-window-minutes': '10080',
  'x-codex-secondary-reset-after-seconds': '432000',
};

describe('quotaWindows', () => {
  test('names the 5-hour and weekly windows, takes reset-at in seconds, else reset-after from when it was seen', () => {
    const seenAt = 1_796_000_000_000;
    expect(quotaWindows(HEADERS, seenAt)).toEqual([
      { name: '5-hour', usedPercent: 12, resetsAt: 1_796_203_570_000 },
      { name: 'Weekly', usedPercent: 4, resetsAt: seenAt + 432_000_000 },
    ]);
  });

  test('no headers, or no used-percent, is no window; an unknown reset is null; percentages stay within 0..100', () => {
    expect(quotaWindows(null, null)).toEqual([]);
    expect(quotaWindows({ 'x-codex-plan-type': 'plus' }, 1)).toEqual([]);
    expect(quotaWindows({ 'x-codex-primary-used-percent': '130', 'x-codex-primary-window-minutes': '1440' }, null)).toEqual([{ name: '1-day', usedPercent: 100, resetsAt: null }]);
    expect(quotaWindows({ 'x-codex-secondary-used-percent': 'n/a' }, null)).toEqual([]);
  });
});

describe('durations and days', () => {
  test('two largest units, milliseconds under a second', () => {
    expect(duration(250)).toBe('250 ms');
    expect(duration(3 * 3_600_000 + 20 * 60_000 + 5000)).toBe('3h 20min');
    expect(duration(4 * 86_400_000 + 23 * 3_600_000 + 59 * 60_000)).toBe('4d 23h');
  });

  test('relative to now, in both directions', () => {
    expect(relative(null)).toBe('never');
    expect(relative(10_000 + 90_000, 10_000)).toBe('in 1min 30s');
    expect(relative(10_000, 10_000 + 7_200_000)).toBe('2h ago');
  });

  test('lastDays: UTC days ending today, oldest first', () => {
    const now = Date.parse('2026-03-02T05:00:00Z');
    expect(lastDays(3, now)).toEqual(['2026-02-28', '2026-03-01', '2026-03-02']);
  });
});
