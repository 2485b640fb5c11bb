/**
 * Prometheus metrics (prom-client), one registry per app so tests stay isolated.
 * Labels are bounded: route patterns (not raw paths), model ids from the catalog,
 * account ids from the store, HTTP statuses.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccountStore } from '../store/accounts';
import { VERSION } from '../version';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'codexin_requests_total', help: 'Requests by route, status and model', labelNames: ['route', 'status', 'model'], registers: [this.registry] });
  readonly duration = new Histogram({ name: 'codexin_request_duration_seconds', help: 'Time from request to the end of the response (streams: to the last event)', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly ttfb = new Histogram({ name: 'codexin_upstream_ttfb_seconds', help: 'Time from request to the upstream answering (first byte)', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly upstream = new Counter({ name: 'codexin_upstream_responses_total', help: 'Upstream HTTP answers by account and status', labelNames: ['account', 'status'], registers: [this.registry] });
  readonly tokens = new Counter({ name: 'codexin_tokens_total', help: 'Tokens by kind (input, cached, output, reasoning)', labelNames: ['kind', 'model'], registers: [this.registry] });
  readonly activeStreams = new Gauge({ name: 'codexin_active_streams', help: 'Model calls in flight (streams included)', registers: [this.registry] });
  readonly sharedLimitsDegraded = new Gauge({ name: 'codexin_shared_limits_degraded', help: '1 while the shared rate limits server does not answer and this instance enforces its 1/N share in memory', registers: [this.registry] });

  constructor(accounts: AccountStore | null) {
    // process_* (CPU, RSS, fds, start time) and nodejs_* (event-loop lag, heap), which Bun provides too.
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'codexin_build_info',
      help: 'Always 1; the labels say which build is running',
      labelNames: ['version', 'bun', 'compiled'],
      registers: [this.registry],
    }).set({ version: VERSION, bun: Bun.version, compiled: String(Bun.isStandaloneExecutable) }, 1);
    if (!accounts) return;
    new Gauge({
      name: 'codexin_account_cooling_down',
      help: '1 while an account waits for its usage window to reset',
      labelNames: ['account'],
      registers: [this.registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const a of accounts.list()) this.set({ account: a.id }, a.cooldownUntil !== null && a.cooldownUntil > now ? 1 : 0);
      },
    });
    new Gauge({
      name: 'codexin_account_cooldown_seconds',
      help: 'Seconds until a cooling-down account is usable again',
      labelNames: ['account'],
      registers: [this.registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const a of accounts.list()) this.set({ account: a.id }, a.cooldownUntil !== null && a.cooldownUntil > now ? (a.cooldownUntil - now) / 1000 : 0);
      },
    });
    new Gauge({
      name: 'codexin_account_quota_used_percent',
      help: 'Upstream usage window consumption reported by x-codex-* headers',
      labelNames: ['account', 'window'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const a of accounts.list()) {
          for (const window of ['primary', 'secondary'] as const) {
            const v = Number(a.quota?.[`x-codex-${window}-used-percent`]);
            if (Number.isFinite(v)) this.set({ account: a.id, window }, v);
          }
        }
      },
    });
    new Gauge({
      name: 'codexin_account_status',
      help: '1 for the status each account is in',
      labelNames: ['account', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const a of accounts.list()) this.set({ account: a.id, status: a.status }, 1);
      },
    });
  }
}
