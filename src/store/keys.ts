/**
 * API keys. A key is shown exactly once, at creation; the database keeps only its
 * SHA-256 (a fast hash is right for 256-bit machine-generated secrets) and a short
 * display prefix.
 *
 * Authentication reads from memory: every key is held by hash, kept current by the
 * backend (SQLite: PRAGMA data_version; PostgreSQL: NOTIFY). Listeners hear about
 * every change, so open WebSockets can drop a revoked key at once. `last_used_at` is
 * kept in memory and written behind, never on the request path.
 */
import type { Db } from './db';
import type { Awaitable } from './awaitable';

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

export interface KeyRow {
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

export function toRecord(row: KeyRow): KeyRecord {
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

export type KeyChangeListener = (key: KeyRecord | null, id: string) => void;

/** A stored key row with its hash, as both backends return it. */
export type StoredKeyRow = KeyRow & { key_hash: Uint8Array };

/**
 * API keys, read from memory on every request and written through to the database.
 * Writes answer synchronously on SQLite and with a promise on PostgreSQL.
 */
export interface KeyStore {
  /** Called with the new record (null when gone) after any change to a key, here or in another process. */
  onChange(listener: KeyChangeListener): () => void;
  /** Creates a key and returns its record with the secret: the only time the secret exists. */
  create(input: CreateKeyInput): Awaitable<{ record: KeyRecord; secret: string }>;
  /** Creates the first key unless one exists (instances starting together create one); null when one did. */
  createFirst(input: CreateKeyInput): Awaitable<{ record: KeyRecord; secret: string } | null>;
  get(id: string): KeyRecord | null;
  list(): KeyRecord[];
  count(): number;
  /** Applies the fields present in `patch` (null clears a limit); returns the updated key or null. */
  update(id: string, patch: KeyPatch): Awaitable<KeyRecord | null>;
  /** Quotas count usage from now on; the usage history itself is kept. */
  resetUsage(id: string, now?: number): Awaitable<boolean>;
  /** Marks a key revoked; returns false when no such key exists. */
  revoke(id: string): Awaitable<boolean>;
  /** Resolves a presented secret to its key from memory, saying why when it can't be used. */
  authenticate(secret: string, now?: number): KeyLookup;
  /**
   * Present when memory may lag the database (several instances): looks a secret that
   * memory does not know up in the database, once per unknown hash between key changes.
   */
  authenticateRemote?(secret: string, now?: number): Promise<KeyLookup>;
  /** The key's standing now, by id (a WebSocket re-checks its key before every turn). */
  recheck(id: string, now?: number): KeyLookup;
  /** Records use in memory; written behind, off the request path. */
  touch(key: KeyRecord, now?: number): void;
  /** Writes the remembered last-used times now (at shutdown). */
  flushTouches(): Awaitable<void>;
}

export function hashHex(secret: string): string {
  return Buffer.from(hashSecret(secret)).toString('hex');
}

export function newKeyId(): string {
  return randomId('key_');
}

/** The row values of a new key, shared by both backends' INSERT. */
export function newKeyValues(input: CreateKeyInput, secret: string, id: string, now: number) {
  return {
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
  };
}

/** The row values of a key after `patch`, shared by both backends' UPDATE. */
export function patchedKeyValues(current: KeyRecord, patch: KeyPatch) {
  const next = { ...current, ...patch };
  return {
    id: current.id,
    name: next.name,
    scopes: JSON.stringify([...new Set(next.scopes)].sort()),
    expires: next.expiresAt,
    rpm: next.rpm,
    daily: next.tokenQuotaDaily,
    weekly: next.tokenQuotaWeekly,
    concurrent: next.maxConcurrent,
    models: next.allowedModels ? JSON.stringify(next.allowedModels) : null,
  };
}

function limitsChanged(before: KeyRecord, after: KeyRecord): boolean {
  return (
    after.revokedAt !== before.revokedAt ||
    after.expiresAt !== before.expiresAt ||
    after.rpm !== before.rpm ||
    after.maxConcurrent !== before.maxConcurrent ||
    after.tokenQuotaDaily !== before.tokenQuotaDaily ||
    after.tokenQuotaWeekly !== before.tokenQuotaWeekly ||
    after.allowedModels?.join() !== before.allowedModels?.join() ||
    after.usageResetAt !== before.usageResetAt
  );
}

const TOUCH_FLUSH_MS = 60_000;

/**
 * The in-memory side every key store shares: keys by hash and id, change listeners,
 * and last-used times written behind. A backend loads rows into it and writes through.
 */
export abstract class CachedKeyStore {
  protected byHash = new Map<string, KeyRecord>();
  protected byId = new Map<string, KeyRecord>();
  private readonly listeners = new Set<KeyChangeListener>();
  protected readonly touched = new Map<string, number>();
  private touchTimer: ReturnType<typeof setTimeout> | null = null;

  /** Brings memory up to date when the backend can tell cheaply that it is stale. */
  protected fresh(): void {}

  /** Writes last-used times; throws (or rejects) to keep them for the next try. */
  protected abstract writeTouches(batch: [string, number][]): Awaitable<void>;

  onChange(listener: KeyChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private toCached(row: StoredKeyRow): KeyRecord {
    const record = toRecord(row);
    const pending = this.touched.get(record.id);
    if (pending !== undefined && (record.lastUsedAt ?? 0) < pending) record.lastUsedAt = pending;
    return record;
  }

  /** Replaces memory with `rows` (every key) and tells listeners about each key whose standing changed. */
  protected replaceAll(rows: StoredKeyRow[]): void {
    const previous = this.byId;
    this.byHash = new Map();
    this.byId = new Map();
    for (const row of rows) {
      const record = this.toCached(row);
      this.byHash.set(Buffer.from(row.key_hash).toString('hex'), record);
      this.byId.set(record.id, record);
    }
    for (const [id, before] of previous) {
      const after = this.byId.get(id) ?? null;
      if (!after || limitsChanged(before, after)) this.emit(after, id);
    }
  }

  /** Puts one key's row (null: deleted) into memory. */
  protected replaceOne(id: string, row: StoredKeyRow | null): void {
    const before = this.byId.get(id);
    if (before) for (const [hash, record] of this.byHash) if (record.id === id) this.byHash.delete(hash);
    this.byId.delete(id);
    if (row) {
      const record = this.toCached(row);
      this.byHash.set(Buffer.from(row.key_hash).toString('hex'), record);
      this.byId.set(id, record);
      if (before && limitsChanged(before, record)) this.emit(record, id);
    } else if (before) this.emit(null, id);
  }

  private emit(key: KeyRecord | null, id: string): void {
    for (const listener of this.listeners) {
      try {
        listener(key, id);
      } catch {
        // A listener's failure must not undo the change that was made.
      }
    }
  }

  get(id: string): KeyRecord | null {
    this.fresh();
    const key = this.byId.get(id);
    return key ? { ...key } : null;
  }

  list(): KeyRecord[] {
    this.fresh();
    return [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((k) => ({ ...k }));
  }

  count(): number {
    this.fresh();
    return this.byId.size;
  }

  authenticate(secret: string, now = Date.now()): KeyLookup {
    this.fresh();
    const found = this.byHash.get(hashHex(secret));
    if (!found) return { ok: false, reason: 'unknown' };
    return check({ ...found }, now);
  }

  recheck(id: string, now = Date.now()): KeyLookup {
    const key = this.get(id);
    if (!key) return { ok: false, reason: 'unknown' };
    return check(key, now);
  }

  touch(key: KeyRecord, now = Date.now()): void {
    const cached = this.byId.get(key.id);
    key.lastUsedAt = now;
    if (cached) cached.lastUsedAt = now;
    const previous = this.touched.get(key.id);
    this.touched.set(key.id, now);
    if (previous !== undefined) return;
    this.touchTimer ??= setTimeout(() => void this.flushTouches(), TOUCH_FLUSH_MS);
    this.touchTimer.unref?.();
  }

  /** Writes the remembered last-used times; a failure (locked, read-only, unreachable) keeps them for the next try. */
  flushTouches(): Awaitable<void> {
    if (this.touchTimer) clearTimeout(this.touchTimer);
    this.touchTimer = null;
    if (this.touched.size === 0) return;
    const batch = [...this.touched];
    const written = () => {
      for (const [id, at] of batch) if (this.touched.get(id) === at) this.touched.delete(id);
    };
    const retry = () => {
      this.touchTimer = setTimeout(() => void this.flushTouches(), TOUCH_FLUSH_MS);
      this.touchTimer.unref?.();
    };
    try {
      const result = this.writeTouches(batch);
      if (result instanceof Promise) return result.then(written, retry);
      written();
    } catch {
      retry();
    }
  }
}

/**
 * Keys in the SQLite database. Memory is reloaded when this store writes and when
 * another connection (the CLI's `keys revoke` while serve runs) has committed, which
 * `PRAGMA data_version` tells without reading a table.
 */
export class SqliteKeyStore extends CachedKeyStore implements KeyStore {
  private dataVersion = -1;

  constructor(private readonly db: Db) {
    super();
    this.reload();
  }

  private reload(): void {
    this.replaceAll(this.db.query('SELECT * FROM keys').all() as StoredKeyRow[]);
    this.dataVersion = this.currentDataVersion();
  }

  private currentDataVersion(): number {
    return (this.db.query('PRAGMA data_version').get() as { data_version: number }).data_version;
  }

  /** Picks up commits made by other connections (cheap: no table is read unless one happened). */
  protected override fresh(): void {
    if (this.currentDataVersion() !== this.dataVersion) this.reload();
  }

  create(input: CreateKeyInput): { record: KeyRecord; secret: string } {
    const secret = generateSecret();
    const id = newKeyId();
    this.db
      .query(
        `INSERT INTO keys (id, name, key_hash, prefix, scopes, created_at, expires_at, rpm, token_quota_daily, token_quota_weekly, max_concurrent, allowed_models)
         VALUES ($id, $name, $hash, $prefix, $scopes, $now, $expires, $rpm, $daily, $weekly, $concurrent, $models)`,
      )
      .run(newKeyValues(input, secret, id, Date.now()));
    this.reload();
    return { record: this.get(id)!, secret };
  }

  /** The serve lock makes this process the data dir's only server: no race to create the first key. */
  createFirst(input: CreateKeyInput): { record: KeyRecord; secret: string } | null {
    return this.count() === 0 ? this.create(input) : null;
  }

  update(id: string, patch: KeyPatch): KeyRecord | null {
    const current = this.get(id);
    if (!current) return null;
    this.db
      .query(
        `UPDATE keys SET name = $name, scopes = $scopes, expires_at = $expires, rpm = $rpm, token_quota_daily = $daily,
           token_quota_weekly = $weekly, max_concurrent = $concurrent, allowed_models = $models WHERE id = $id`,
      )
      .run(patchedKeyValues(current, patch));
    this.reload();
    return this.get(id);
  }

  resetUsage(id: string, now = Date.now()): boolean {
    const changed = this.db.query('UPDATE keys SET usage_reset_at = $now WHERE id = $id').run({ id, now }).changes > 0;
    this.reload();
    return changed;
  }

  revoke(id: string): boolean {
    const changed = this.db.query('UPDATE keys SET revoked_at = coalesce(revoked_at, $now) WHERE id = $id').run({ id, now: Date.now() }).changes > 0;
    this.reload();
    return changed;
  }

  protected writeTouches(batch: [string, number][]): void {
    const update = this.db.query('UPDATE keys SET last_used_at = max(coalesce(last_used_at, 0), $at) WHERE id = $id');
    this.db.transaction(() => {
      for (const [id, at] of batch) update.run({ id, at });
    })();
    this.dataVersion = this.currentDataVersion();
  }
}

export function check(key: KeyRecord, now: number): KeyLookup {
  if (key.revokedAt !== null) return { ok: false, reason: 'revoked', key };
  if (key.expiresAt !== null && key.expiresAt <= now) return { ok: false, reason: 'expired', key };
  return { ok: true, key };
}
