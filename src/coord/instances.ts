/**
 * Which CodexIn instances share the database: each upserts its row in `instances` every
 * heartbeat, and a row seen within the live window counts. The count is cached here and
 * refreshed by the heartbeat, never read on a request path; the limits fall back to a
 * 1/N share of each key's limit with it.
 */
import type { Logger } from '../log';
import { silentLogger } from '../log';
import { withDeadline, type Pg } from '../store/postgres/database';

export const HEARTBEAT_MS = 10_000;
export const LIVE_MS = 30_000;
/** Rows of instances gone this long are deleted by whoever beats next. */
const FORGET_MS = 86_400_000;

export interface InstanceCount {
  /** Live instances including this one (at least 1). */
  live(): number;
}

export interface InstanceRegistryOptions {
  id?: string;
  heartbeatMs?: number;
  liveMs?: number;
  deadlineMs?: number;
  logger?: Logger;
}

export class InstanceRegistry implements InstanceCount {
  readonly id: string;
  private readonly heartbeatMs: number;
  private readonly liveMs: number;
  private readonly deadlineMs: number;
  private readonly logger: Logger;
  private count = 1;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly sql: Pg,
    opts: InstanceRegistryOptions = {},
  ) {
    this.id = opts.id ?? crypto.randomUUID();
    this.heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
    this.liveMs = opts.liveMs ?? LIVE_MS;
    this.deadlineMs = opts.deadlineMs ?? 2_000;
    this.logger = opts.logger ?? silentLogger;
  }

  live(): number {
    return this.count;
  }

  /** Registers this instance (one heartbeat, awaited) and keeps beating. */
  async start(): Promise<void> {
    await this.beat();
    this.timer ??= setInterval(() => {
      this.beat().catch((error: Error) => this.logger.debug('instance heartbeat failed; keeping the last instance count', { error: error.message, instances: this.count }));
    }, this.heartbeatMs);
    this.timer.unref?.();
  }

  /** Upserts this instance's row and counts the live ones, on the database's clock. */
  async beat(): Promise<number> {
    const rows = await withDeadline(
      'an instance heartbeat',
      this.deadlineMs,
      this.sql`
        WITH c AS (SELECT floor(extract(epoch FROM clock_timestamp()) * 1000) AS now_ms),
        up AS (
          INSERT INTO instances (id, started_at, seen_at) SELECT ${this.id}, now_ms, now_ms FROM c
          ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at
          RETURNING id
        ),
        gone AS (DELETE FROM instances WHERE seen_at < (SELECT now_ms FROM c) - ${FORGET_MS} RETURNING id)
        SELECT count(*)::int AS n FROM instances, c WHERE seen_at > now_ms - ${this.liveMs} AND id <> ${this.id}`,
    );
    // The statement does not see its own upsert: the others plus this one.
    this.count = (rows[0] as { n: number }).n + 1;
    return this.count;
  }

  /** Stops beating and removes this instance's row, so the others' share grows at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await withDeadline('an instance deregistration', this.deadlineMs, this.sql`DELETE FROM instances WHERE id = ${this.id}`).catch(() => {});
  }
}
