/**
 * API keys in PostgreSQL, for several instances sharing one database. Reads come
 * from the same in-memory cache as the SQLite store; every write notifies the other
 * instances inside its transaction (changes.ts), so a key created or revoked on one
 * is known to all within milliseconds. A secret memory does not know is looked up in
 * the database once (a key created elsewhere an instant ago), and then remembered as
 * unknown until the next key change, so random secrets cannot make every request a
 * database read.
 */
import {
  CachedKeyStore,
  check,
  generateSecret,
  hashHex,
  hashSecret,
  newKeyId,
  newKeyValues,
  patchedKeyValues,
  type CreateKeyInput,
  type KeyLookup,
  type KeyPatch,
  type KeyRecord,
  type KeyStore,
  type StoredKeyRow,
} from '../keys';
import { changePayload, type ChangeFeed } from './changes';
import { CHANGES_CHANNEL, pgCall, type Pg } from './database';

const UNKNOWN_LIMIT = 10_000;

export class PgKeyStore extends CachedKeyStore implements KeyStore {
  private readonly unknown = new Set<string>();

  private constructor(private readonly sql: Pg) {
    super();
  }

  static async open(sql: Pg, feed: ChangeFeed): Promise<PgKeyStore> {
    const store = new PgKeyStore(sql);
    await store.reloadAll();
    feed.on('keys', { one: (id) => store.reloadOne(id), all: () => store.reloadAll() });
    return store;
  }

  async reloadAll(): Promise<void> {
    const rows = await pgCall(this.sql, 'loading keys', () => this.sql`SELECT * FROM keys`);
    this.unknown.clear();
    this.replaceAll(rows as StoredKeyRow[]);
  }

  async reloadOne(id: string): Promise<void> {
    const rows = await pgCall(this.sql, 'loading a key', () => this.sql`SELECT * FROM keys WHERE id = ${id}`);
    this.unknown.clear();
    this.replaceOne(id, (rows[0] as StoredKeyRow | undefined) ?? null);
  }

  async authenticateRemote(secret: string, now = Date.now()): Promise<KeyLookup> {
    const hash = hashHex(secret);
    if (this.unknown.has(hash)) return { ok: false, reason: 'unknown' };
    const rows = await pgCall(this.sql, 'looking up a key', () => this.sql`SELECT * FROM keys WHERE key_hash = ${hashSecret(secret)}`);
    const row = rows[0] as StoredKeyRow | undefined;
    if (!row) {
      if (this.unknown.size >= UNKNOWN_LIMIT) this.unknown.clear();
      this.unknown.add(hash);
      return { ok: false, reason: 'unknown' };
    }
    this.replaceOne(row.id, row);
    return check({ ...this.byId.get(row.id)! }, now);
  }

  /** Runs `write` and the change notice in one transaction, then reloads the key here. */
  private async write(id: string, what: string, write: (tx: Pg) => Promise<number>): Promise<number> {
    const changed = await pgCall(this.sql, what, () =>
      this.sql.begin(async (tx) => {
        const count = await write(tx);
        if (count > 0) await tx`SELECT pg_notify(${CHANGES_CHANNEL}, ${changePayload('keys', id)})`;
        return count;
      }),
    );
    if (changed > 0) await this.reloadOne(id);
    return changed;
  }

  async create(input: CreateKeyInput): Promise<{ record: KeyRecord; secret: string }> {
    const secret = generateSecret();
    const id = newKeyId();
    const v = newKeyValues(input, secret, id, Date.now());
    await this.write(id, 'creating a key', async (tx) => {
      await tx`INSERT INTO keys (id, name, key_hash, prefix, scopes, created_at, expires_at, rpm, token_quota_daily, token_quota_weekly, max_concurrent, allowed_models)
               VALUES (${v.id}, ${v.name}, ${v.hash}, ${v.prefix}, ${v.scopes}, ${v.now}, ${v.expires}, ${v.rpm}, ${v.daily}, ${v.weekly}, ${v.concurrent}, ${v.models})`;
      return 1;
    });
    return { record: this.get(id)!, secret };
  }

  /**
   * Creates the first admin key unless any key exists, atomically across instances
   * starting together (a transaction-scoped advisory lock): null when a key existed.
   */
  async createFirst(input: CreateKeyInput): Promise<{ record: KeyRecord; secret: string } | null> {
    const secret = generateSecret();
    const id = newKeyId();
    const v = newKeyValues(input, secret, id, Date.now());
    const created = await pgCall(this.sql, 'creating the first key', () =>
      this.sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(727002)`;
        const [{ n }] = (await tx`SELECT count(*)::int AS n FROM keys`) as { n: number }[];
        if (n > 0) return false;
        await tx`INSERT INTO keys (id, name, key_hash, prefix, scopes, created_at, expires_at, rpm, token_quota_daily, token_quota_weekly, max_concurrent, allowed_models)
                 VALUES (${v.id}, ${v.name}, ${v.hash}, ${v.prefix}, ${v.scopes}, ${v.now}, ${v.expires}, ${v.rpm}, ${v.daily}, ${v.weekly}, ${v.concurrent}, ${v.models})`;
        await tx`SELECT pg_notify(${CHANGES_CHANNEL}, ${changePayload('keys', id)})`;
        return true;
      }),
    );
    if (!created) {
      await this.reloadAll();
      return null;
    }
    await this.reloadOne(id);
    return { record: this.get(id)!, secret };
  }

  async update(id: string, patch: KeyPatch): Promise<KeyRecord | null> {
    const current = this.get(id);
    if (!current) return null;
    const v = patchedKeyValues(current, patch);
    await this.write(id, 'updating a key', async (tx) => {
      const result = await tx`UPDATE keys SET name = ${v.name}, scopes = ${v.scopes}, expires_at = ${v.expires}, rpm = ${v.rpm}, token_quota_daily = ${v.daily},
                                token_quota_weekly = ${v.weekly}, max_concurrent = ${v.concurrent}, allowed_models = ${v.models} WHERE id = ${id}`;
      return result.count;
    });
    return this.get(id);
  }

  async resetUsage(id: string, now = Date.now()): Promise<boolean> {
    return (await this.write(id, 'resetting usage', async (tx) => (await tx`UPDATE keys SET usage_reset_at = ${now} WHERE id = ${id}`).count)) > 0;
  }

  async revoke(id: string): Promise<boolean> {
    const now = Date.now();
    return (await this.write(id, 'revoking a key', async (tx) => (await tx`UPDATE keys SET revoked_at = coalesce(revoked_at, ${now}) WHERE id = ${id}`).count)) > 0;
  }

  protected async writeTouches(batch: [string, number][]): Promise<void> {
    const ids = batch.map(([id]) => id);
    const ats = batch.map(([, at]) => at);
    // No notice: last-used times are shown, never decided on, and other instances keep their own.
    await pgCall(this.sql, 'saving last-used times', () =>
      this.sql`UPDATE keys SET last_used_at = greatest(coalesce(keys.last_used_at, 0), t.at)
               FROM (SELECT unnest(${this.sql.array(ids, 'TEXT')}) AS id, unnest(${this.sql.array(ats, 'FLOAT8')}) AS at) AS t WHERE keys.id = t.id`,
    );
  }
}
