/**
 * Makes the usage writer's trouble visible: a log line when writes start failing
 * (and while they keep failing, every 30 s) and when they recover, a failure
 * counter and a gauge of rows waiting for the database.
 */
import { Counter, Gauge } from 'prom-client';
import type { UsageStore } from '../store/usage';
import type { Observer } from './observer';

export function watchUsageWrites(usage: UsageStore, observer: Observer): void {
  const registry = observer.metrics.registry;
  const failures =
    (registry.getSingleMetric('codexin_usage_write_failures_total') as Counter | undefined) ??
    new Counter({ name: 'codexin_usage_write_failures_total', help: 'Usage batches the database refused (rows are kept and retried)', registers: [registry] });
  if (!registry.getSingleMetric('codexin_usage_pending_rows')) {
    new Gauge({
      name: 'codexin_usage_pending_rows',
      help: 'Usage rows queued for the database (written behind the request)',
      registers: [registry],
      collect() {
        this.set(usage.health().pending);
      },
    });
  }
  usage.listener = {
    failed(error, pending) {
      failures.inc();
      observer.logger.error('usage write failed; rows kept for retry', { error: error.message, pending_rows: pending });
    },
    recovered(written) {
      observer.logger.info('usage writes recovered', { rows_written: written });
    },
  };
}
