/**
 * API keys. A key is shown exactly once, at creation; the database keeps only its
 * SHA-256 (a fast hash is right for 256-bit machine-generated secrets, and keeps
 * auth to one indexed lookup per request) and a short display prefix.
 */
import type { Db } from './db';

export const KEY_SCOPES = ['advanced', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export interface KeyLimits {
  /** Requests per minute. */
  rpm: number | null;
  /** Input + output tokens per UTC day. */
  tokenQuotaDaily: number | null;
  /** Input + output tokens per UTC week (Monday to Monday). */
  tokenQuotaWeekly: number | null;
  /** Model calls in flight at once (streams included). */
  maxConcurrent: number | null;
  /** Model ids this key may use; null = all. */
  allowedModels: string[] | null;
}

export interface KeyRecord extends KeyLimits {
  id: string;
  name: string;
  prefix: string;
  scopes: KeyScope[];
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
  /** Usage before this instant does not count against the quotas. */
  usageResetAt: number | null;
}

export interface CreateKeyInput extends Partial<KeyLimits> {
  name: string;
  scopes?: KeyScope[];
  expiresAt?: number | null;
}

export type KeyPatch = Partial<KeyLimits> & { name?: string; scopes?: KeyScope[]; expiresAt?: number | null };

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  rpm: number | null;
  token_quota_daily: number | null;
  token_quota_weekly: number | null;
  max_concurrent: number | null;
  allowed_models: string | null;
  usage_reset_at: number | null;
}

export function generateSecret(): string {
  return 'ci_' + Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
}

export function hashSecret(secret: string): Uint8Array {
  return new Bun.CryptoHasher('sha256').update(secret).digest() as Uint8Array;
}

function randomId(prefix: string): string {
  return prefix + Buffer.from(crypto.getRandomValues(new Uint8Array(9))).toString('base64url');
}

function toRecord(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as KeyScope[],
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    rpm: row.rpm,
    tokenQuotaDaily: row.token_quota_daily,
    tokenQuotaWeekly: row.token_quota_weekly,
    maxConcurrent: row.max_concurrent,
    allowedModels: row.allowed_models ? (JSON.parse(row.allowed_models) as string[]) : null,
    usageResetAt: row.usage_reset_at,
  };
}

/** What may leave the server about a key: everything but the secret (which we do not have). */
export function keyView(k: KeyRecord) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt,
    expires_at: k.expiresAt,
    revoked_at: k.revokedAt,
    rpm: k.rpm,
    token_quota_daily: k.tokenQuotaDaily,
    token_quota_weekly: k.tokenQuotaWeekly,
    max_concurrent: k.maxConcurrent,
    models: k.allowedModels,
    usage_reset_at: k.usageResetAt,
  };
}

export type KeyLookup =
  | { ok: true; key: KeyRecord }
  | { ok: false; reason: 'unknown' | 'revoked' | 'expired'; key?: KeyRecord };

export class KeyStore {
  constructor(private readonly db: Db) {}

  /** Creates a key and returns its record with the secret: the only time the secret exists. */
  create(input: CreateKeyInput): { record: KeyRecord; secret: string } {
    const secret = generateSecret();
    const id = randomId('key_');
    const now = Date.now();
    this.db
      .query(
        `INSERT INTO keys (id, name, key_hash, prefix, scopes, created_at, expires_at, rpm, token_quota_daily, token_quota_weekly, max_concurrent, allowed_models)
         VALUES ($id, $name, $hash, $prefix, $scopes, $now, $expires, $rpm, $daily, $weekly, $concurrent, $models)`,
      )
      .run({
        id,
        name: input.name,
        hash: hashSecret(secret),
        prefix: secret.slice(0, 10),
        scopes: JSON.stringify([...new Set(input.scopes ?? [])].sort()),
        now,
        expires: input.expiresAt ?? null,
        rpm: input.rpm ?? null,
        daily: input.tokenQuotaDaily ?? null,
        weekly: input.tokenQuotaWeekly ?? null,
        concurrent: input.maxConcurrent ?? null,
        models: input.allowedModels ? JSON.stringify(input.allowedModels) : null,
      });
    return { record: this.get(id)!, secret };
  }

  get(id: string): KeyRecord | null {
    const row = this.db.query('SELECT * FROM keys WHERE id = $id').get({ id }) as KeyRow | null;
    return row ? toRecord(row) : null;
  }

  list(): KeyRecord[] {
    return (this.db.query('SELECT * FROM keys ORDER BY created_at, id').all() as KeyRow[]).map(toRecord);
  }

  count(): number {
    return (this.db.query('SELECT count(*) AS n FROM keys').get() as { n: number }).n;
  }

  /** Applies the fields present in `patch` (null clears a limit); returns the updated key or null. */
  update(id: string, patch: KeyPatch): KeyRecord | null {
    const current = this.get(id);
    if (!current) return null;
    const next = { ...current, ...patch };
    this.db
      .query(
        `UPDATE keys SET name = $name, scopes = $scopes, expires_at = $expires, rpm = $rpm, token_quota_daily = $daily,
           token_quota_weekly = $weekly, max_concurrent = $concurrent, allowed_models = $models WHERE id = $id`,
      )
      .run({
        id,
        name: next.name,
        scopes: JSON.stringify([...new Set(next.scopes)].sort()),
        expires: next.expiresAt,
        rpm: next.rpm,
        daily: next.tokenQuotaDaily,
        weekly: next.tokenQuotaWeekly,
        concurrent: next.maxConcurrent,
        models: next.allowedModels ? JSON.stringify(next.allowedModels) : null,
      });
    return this.get(id);
  }

  /** Quotas count usage from now on; the usage history itself is kept. */
  resetUsage(id: string, now = Date.now()): boolean {
    return this.db.query('UPDATE keys SET usage_reset_at = $now WHERE id = $id').run({ id, now }).changes > 0;
  }

  /** Marks a key revoked; returns false when no such key exists. */
  revoke(id: string): boolean {
    return this.db.query('UPDATE keys SET revoked_at = coalesce(revoked_at, $now) WHERE id = $id').run({ id, now: Date.now() }).changes > 0;
  }

  /** Resolves a presented secret to its key, saying why when it can't be used. */
  authenticate(secret: string, now = Date.now()): KeyLookup {
    const row = this.db.query('SELECT * FROM keys WHERE key_hash = $hash').get({ hash: hashSecret(secret) }) as KeyRow | null;
    if (!row) return { ok: false, reason: 'unknown' };
    const key = toRecord(row);
    if (key.revokedAt !== null) return { ok: false, reason: 'revoked', key };
    if (key.expiresAt !== null && key.expiresAt <= now) return { ok: false, reason: 'expired', key };
    return { ok: true, key };
  }

  /** Records use; coarse (once a minute) so the hot path rarely writes. */
  touch(key: KeyRecord, now = Date.now()): void {
    if (key.lastUsedAt !== null && now - key.lastUsedAt < 60_000) return;
    this.db.query('UPDATE keys SET last_used_at = $now WHERE id = $id').run({ id: key.id, now });
    key.lastUsedAt = now;
  }
}
