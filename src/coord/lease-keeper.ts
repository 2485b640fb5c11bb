/**
 * The leases this instance holds and the one timer that renews them all: every TTL/3 a
 * single round trip pushes every held lease's expiry forward, so two missed renewals
 * still leave the slot held, and a crashed instance's slots free within one TTL.
 */
import type { Lease } from './shared-limits';

export interface HeldLease {
  id: string;
  keyId: string;
}

export interface LeaseBackend {
  /** Pushes the expiry of these leases to the server's now + TTL. */
  renew(leases: HeldLease[]): Promise<void>;
  /** Deletes one lease. */
  remove(lease: HeldLease): Promise<void>;
}

export class LeaseKeeper {
  private readonly held = new Map<string, HeldLease>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private renewing = false;
  private counter = 0;

  constructor(
    private readonly backend: LeaseBackend,
    private readonly ttlMs: number,
    /** Unique per instance, so lease ids never collide across instances. */
    private readonly instanceId: string,
    private readonly onError: (error: Error) => void = () => {},
  ) {}

  get size(): number {
    return this.held.size;
  }

  /** A fresh lease id, unique across instances. */
  nextId(): string {
    return `${this.instanceId}:${++this.counter}`;
  }

  /** Starts holding a lease the server granted; its release deletes it there. */
  hold(lease: HeldLease): Lease {
    this.held.set(lease.id, lease);
    this.timer ??= setInterval(() => void this.renewAll(), Math.max(10, Math.floor(this.ttlMs / 3)));
    this.timer.unref?.();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.held.delete(lease.id);
        if (this.held.size === 0) this.stopTimer();
        this.backend.remove(lease).catch((error: Error) => this.onError(error));
      },
    };
  }

  async renewAll(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      await this.backend.renew([...this.held.values()]);
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.renewing = false;
    }
  }

  /** Stops renewing without deleting anything: the server frees the slots after the TTL. */
  abandon(): void {
    this.stopTimer();
    this.held.clear();
  }

  /** Releases every held lease (a graceful shutdown). */
  async releaseAll(): Promise<void> {
    this.stopTimer();
    const leases = [...this.held.values()];
    this.held.clear();
    await Promise.all(leases.map((l) => this.backend.remove(l).catch((error: Error) => this.onError(error))));
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
