/**
 * The same two limits in this process's memory: what an instance enforces on its own
 * share while the shared server cannot be reached.
 */
import { noRefund, WINDOW_MS, type Lease, type RequestWindow } from './shared-limits';

export class LocalLimits {
  private readonly windows = new Map<string, number[]>();
  private readonly leases = new Map<string, number>();

  constructor(private readonly windowMs = WINDOW_MS) {}

  takeRequests(keyId: string, limit: number, calls: number, now = Date.now()): RequestWindow {
    const window = (this.windows.get(keyId) ?? []).filter((t) => t > now - this.windowMs);
    const admitted = window.length + calls <= limit;
    if (admitted) for (let i = 0; i < calls; i++) window.push(now);
    if (window.length) this.windows.set(keyId, window);
    else this.windows.delete(keyId);
    let refunded = !admitted;
    return {
      admitted,
      used: window.length,
      resetMs: window.length ? window[0]! + this.windowMs - now : this.windowMs,
      refund: refunded
        ? noRefund
        : () => {
            if (refunded) return;
            refunded = true;
            const hits = this.windows.get(keyId);
            if (!hits) return;
            for (let i = 0; i < calls; i++) {
              const at = hits.lastIndexOf(now);
              if (at >= 0) hits.splice(at, 1);
            }
          },
    };
  }

  takeLease(keyId: string, limit: number): Lease | null {
    const held = this.leases.get(keyId) ?? 0;
    if (held >= limit) return null;
    this.leases.set(keyId, held + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.leases.get(keyId) ?? 1) - 1;
        if (left > 0) this.leases.set(keyId, left);
        else this.leases.delete(keyId);
      },
    };
  }
}
