/**
 * Shared limits in Redis: a sorted set per key of hits scored by time (the sliding
 * window) and one of leases scored by expiry (calls in flight). Each decision is one Lua
 * script, which Redis runs atomically, on Redis's own clock (TIME).
 */
import { LeaseKeeper, type HeldLease } from './lease-keeper';
import { LEASE_TTL_MS, noRefund, WINDOW_MS, type Lease, type RequestWindow, type SharedLimits, type SharedLimitsOptions } from './shared-limits';

export const REDIS_DEADLINE_MS = 500;

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function ms(x) return string.format('%.0f', x) end`;

/** KEYS[1] the key's hits; ARGV limit, calls, window ms, member prefix → {admitted 0|1, used, reset ms}. */
const TAKE_REQUESTS = `${NOW}
local key = KEYS[1]
local limit, calls, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', ms(now - window))
local n = redis.call('ZCARD', key)
local admitted = 0
if n + calls <= limit then
  for i = 1, calls do redis.call('ZADD', key, ms(now), ARGV[4] .. ':' .. i) end
  n = n + calls
  admitted = 1
  redis.call('PEXPIRE', key, ms(window))
end
local reset = window
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {admitted, n, ms(reset)}`;

/** KEYS[1] the key's leases; ARGV limit, lease id, ttl ms → 1 granted, 0 all held. */
const TAKE_LEASE = `${NOW}
local key = KEYS[1]
local limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', ms(now))
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, ms(now + ttl), ARGV[2])
redis.call('PEXPIRE', key, ms(ttl * 2))
return 1`;

/** KEYS the lease sets, ARGV[1] ttl ms and then one lease id per key: pushes each expiry; a lease already gone stays gone (XX). */
const RENEW_LEASES = `${NOW}
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', ms(now + ttl), ARGV[i + 1])
  redis.call('PEXPIRE', key, ms(ttl * 2))
end
return #KEYS`;

export class RedisDeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`Redis did not answer ${what} within ${ms} ms`);
    this.name = 'RedisDeadlineError';
  }
}

async function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisDeadlineError(what, ms)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

const sha1 = (text: string): string => new Bun.CryptoHasher('sha1').update(text).digest('hex');

export class RedisLimits implements SharedLimits {
  readonly kind = 'redis' as const;
  private readonly client: Bun.RedisClient;
  private readonly windowMs: number;
  private readonly ttlMs: number;
  private readonly deadlineMs: number;
  private readonly leases: LeaseKeeper;
  private readonly instanceId: string;
  private hits = 0;

  constructor(url: string, opts: SharedLimitsOptions & { instanceId?: string; onError?: (error: Error) => void } = {}) {
    this.windowMs = opts.windowMs ?? WINDOW_MS;
    this.ttlMs = opts.leaseTtlMs ?? LEASE_TTL_MS;
    this.deadlineMs = opts.deadlineMs ?? REDIS_DEADLINE_MS;
    this.instanceId = opts.instanceId ?? crypto.randomUUID();
    // No offline queue: while Redis is away a command fails at once (and the caller falls
    // back) instead of waiting out its deadline in a queue.
    this.client = new Bun.RedisClient(url, { connectionTimeout: this.deadlineMs, enableOfflineQueue: false, autoReconnect: true });
    this.leases = new LeaseKeeper(
      {
        renew: async (held) => {
          await this.script('lease renewal', RENEW_LEASES, held.map((l) => leaseSet(l.keyId)), [String(this.ttlMs), ...held.map((l) => l.id)]);
        },
        remove: async (lease) => {
          await this.command('a lease release', 'ZREM', [leaseSet(lease.keyId), lease.id]);
        },
      },
      this.ttlMs,
      this.instanceId,
      opts.onError,
    );
  }

  async takeRequests(keyId: string, limit: number, calls: number): Promise<RequestWindow> {
    const prefix = `${this.instanceId}:${++this.hits}`;
    const [admitted, used, resetMs] = (await this.script('a rate-limit check', TAKE_REQUESTS, [hitSet(keyId)], [String(limit), String(calls), String(this.windowMs), prefix])) as [number, number, string];
    let refunded = admitted !== 1;
    return {
      admitted: admitted === 1,
      used: Number(used),
      resetMs: Math.max(0, Number(resetMs)),
      refund: refunded
        ? noRefund
        : () => {
            if (refunded) return;
            refunded = true;
            const members = Array.from({ length: calls }, (_, i) => `${prefix}:${i + 1}`);
            this.command('a rate-limit refund', 'ZREM', [hitSet(keyId), ...members]).catch(() => {});
          },
    };
  }

  async takeLease(keyId: string, limit: number): Promise<Lease | null> {
    const lease: HeldLease = { id: this.leases.nextId(), keyId };
    const ok = await this.script('a concurrency lease', TAKE_LEASE, [leaseSet(keyId)], [String(limit), lease.id, String(this.ttlMs)]);
    return Number(ok) === 1 ? this.leases.hold(lease) : null;
  }

  async ping(): Promise<void> {
    await this.command('a ping', 'PING', []);
  }

  get held(): number {
    return this.leases.size;
  }

  renew(): Promise<void> {
    return this.leases.renewAll();
  }

  /** Stops renewing as a crashed instance would. Tests use it. */
  abandon(): void {
    this.leases.abandon();
  }

  async close(): Promise<void> {
    await this.leases.releaseAll();
    this.client.close();
  }

  private async command(what: string, name: string, args: string[]): Promise<unknown> {
    return within(what, this.deadlineMs, (async () => {
      // Reconnects here too: after Redis was away longer than the client's retries, it stays closed until asked.
      if (!this.client.connected) await this.client.connect();
      return this.client.send(name, args);
    })());
  }

  /** EVALSHA, loading the script with EVAL the first time a server has not seen it. */
  private async script(what: string, body: string, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command(what, 'EVALSHA', [scriptSha(body), ...tail]);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return this.command(what, 'EVAL', [body, ...tail]);
    }
  }
}

const shas = new Map<string, string>();
function scriptSha(body: string): string {
  let sha = shas.get(body);
  if (!sha) shas.set(body, (sha = sha1(body)));
  return sha;
}

const hitSet = (keyId: string): string => `codexin:rate:${keyId}`;
const leaseSet = (keyId: string): string => `codexin:leases:${keyId}`;
