/**
 * Shared limits that keep answering when their server does not. A failed round trip
 * (error or deadline) switches to this instance's share of each limit, ceil(limit / N)
 * for N live instances, counted in memory, so N instances together still stay near the
 * limit; a side-effect-free ping then probes the server at most once a second, and the
 * first answer switches back. One warn when degrading, one info when recovered, and the
 * degraded gauge says which state the instance is in.
 *
 * Failing open on a share rather than closed: a limits outage must not become an outage
 * of every key.
 */
import type { Logger } from '../log';
import type { InstanceCount } from './instances';
import { LocalLimits } from './local-limits';
import type { Lease, RequestWindow, SharedLimits } from './shared-limits';

export const PROBE_MS = 1_000;

export interface DegradableOptions {
  instances: InstanceCount;
  logger: Logger;
  /** Set to 1 while degraded, 0 otherwise (codexin_shared_limits_degraded). */
  gauge?: { set(value: number): void };
  probeMs?: number;
  windowMs?: number;
}

export class DegradableLimits implements SharedLimits {
  readonly kind: SharedLimits['kind'];
  private readonly local: LocalLimits;
  private readonly probeMs: number;
  private isDegraded = false;
  private probing = false;
  private nextProbeAt = 0;

  constructor(
    private readonly primary: SharedLimits,
    private readonly opts: DegradableOptions,
  ) {
    this.kind = primary.kind;
    this.local = new LocalLimits(opts.windowMs);
    this.probeMs = opts.probeMs ?? PROBE_MS;
    opts.gauge?.set(0);
  }

  get degraded(): boolean {
    return this.isDegraded;
  }

  /** This instance's share of a limit while the server is away. */
  share(limit: number): number {
    return Math.max(1, Math.ceil(limit / Math.max(1, this.opts.instances.live())));
  }

  async takeRequests(keyId: string, limit: number, calls: number): Promise<RequestWindow> {
    if (!this.isDegraded) {
      try {
        return await this.primary.takeRequests(keyId, limit, calls);
      } catch (error) {
        this.degrade(error as Error);
      }
    } else this.probe();
    return this.local.takeRequests(keyId, this.share(limit), calls);
  }

  async takeLease(keyId: string, limit: number): Promise<Lease | null> {
    if (!this.isDegraded) {
      try {
        return await this.primary.takeLease(keyId, limit);
      } catch (error) {
        this.degrade(error as Error);
      }
    } else this.probe();
    return this.local.takeLease(keyId, this.share(limit));
  }

  ping(): Promise<void> {
    return this.primary.ping();
  }

  async close(): Promise<void> {
    await this.primary.close().catch(() => {});
  }

  private degrade(error: Error): void {
    // Concurrent requests that were in flight when the server went away all land here; one warn.
    this.nextProbeAt = Date.now() + this.probeMs;
    if (this.isDegraded) return;
    this.isDegraded = true;
    this.opts.gauge?.set(1);
    this.opts.logger.warn(`shared limits: ${this.serverName()} did not answer; each instance now enforces its share of every key's rpm and concurrency in memory`, {
      error: error.message,
      instances: this.opts.instances.live(),
    });
  }

  private probe(): void {
    if (this.probing || Date.now() < this.nextProbeAt) return;
    this.probing = true;
    this.primary
      .ping()
      .then(
        () => {
          if (!this.isDegraded) return;
          this.isDegraded = false;
          this.opts.gauge?.set(0);
          this.opts.logger.info(`shared limits: ${this.serverName()} answers again; limits are exact across instances again`);
        },
        () => {
          this.nextProbeAt = Date.now() + this.probeMs;
        },
      )
      .finally(() => {
        this.probing = false;
      });
  }

  private serverName(): string {
    return this.kind === 'redis' ? 'Redis' : 'PostgreSQL';
  }
}
