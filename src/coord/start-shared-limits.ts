/**
 * The shared limits of an instance on a shared database, put together: Redis when a
 * Redis URL is given, else PostgreSQL; the instance registry that gives the 1/N share;
 * the fallback that keeps answering when the server does not.
 */
import type { Logger } from '../log';
import type { Metrics } from '../observe/metrics';
import type { Pg } from '../store/postgres/database';
import { DegradableLimits } from './degradable-limits';
import { InstanceRegistry } from './instances';
import { PostgresLimits } from './postgres-limits';
import { RedisLimits } from './redis-limits';

export interface SharedLimitsSetup {
  limits: DegradableLimits;
  instances: InstanceRegistry;
  /** Releases held leases, stops the heartbeat and removes this instance's row. */
  close(): Promise<void>;
}

export async function startSharedLimits(opts: { sql: Pg; redisUrl?: string | null; logger: Logger; metrics?: Metrics }): Promise<SharedLimitsSetup> {
  const instances = new InstanceRegistry(opts.sql, { logger: opts.logger });
  await instances.start();
  const onError = (error: Error) => opts.logger.debug('shared limits: a lease renewal or release did not reach the server; the lease expires there on its own', { error: error.message });
  const backend = opts.redisUrl ? new RedisLimits(opts.redisUrl, { instanceId: instances.id, onError }) : new PostgresLimits(opts.sql, { instanceId: instances.id, onError });
  const limits = new DegradableLimits(backend, { instances, logger: opts.logger, gauge: opts.metrics?.sharedLimitsDegraded });
  opts.logger.info('shared limits', { backend: backend.kind, instances: instances.live() });
  return {
    limits,
    instances,
    async close() {
      await limits.close();
      await instances.stop();
    },
  };
}
