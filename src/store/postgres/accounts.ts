/**
 * ChatGPT accounts in PostgreSQL. Every instance holds all accounts decrypted in
 * memory (the pool reads the list per request) and follows the other instances'
 * writes by NOTIFY. Token writes are compare-and-set on the refresh token spent,
 * under a row lock, and a refresh holds an advisory lock per account for its whole
 * round trip, so exactly one instance spends a refresh token and the others adopt
 * its result when they get the lock and re-read.
 */
import type { AccountRecord, AccountStatus, AccountStore, AccountTokens, BoxSource, ImportAccountInput, TokenWriteResult } from '../accounts';
import { openToken, rowToRecord, sealTokens, type AccountRow } from '../account-rows';
import { SecretKeyError, type SecretBox } from '../secret-box';
import { changePayload, type ChangeFeed } from './changes';
import { CHANGES_CHANNEL, pgCall, type Pg } from './database';

/** How long a refresh waits for a peer's refresh of the same account (its auth round trip) before giving up. */
const REFRESH_LOCK_WAIT_MS = 30_000;

export class PgAccountStore implements AccountStore {
  private byId = new Map<string, AccountRecord>();
  private ordered: AccountRecord[] = [];
  private unreadable: SecretKeyError | null = null;

  private constructor(
    private readonly sql: Pg,
    private readonly boxSource: BoxSource,
  ) {}

  static async open(sql: Pg, feed: ChangeFeed, secrets: BoxSource): Promise<PgAccountStore> {
    const store = new PgAccountStore(sql, secrets);
    await store.reloadAll();
    feed.on('accounts', { one: (id) => store.reloadOne(id).then(() => {}), all: () => store.reloadAll() });
    return store;
  }

  private box(): SecretBox {
    return typeof this.boxSource === 'function' ? this.boxSource() : this.boxSource;
  }

  assertReadable(): void {
    if (this.unreadable) throw this.unreadable;
    this.box();
  }

  private readable(): void {
    if (this.unreadable) throw this.unreadable;
  }

  /** Loads every account; tokens this key cannot open leave memory as it was and the store unreadable. */
  async reloadAll(): Promise<void> {
    const rows = (await pgCall(this.sql, 'loading accounts', () => this.sql`SELECT * FROM accounts ORDER BY created_at, id`)) as AccountRow[];
    if (rows.length === 0) {
      this.apply([]);
      return;
    }
    try {
      const box = this.box();
      this.apply(rows.map((row) => rowToRecord(row, box)));
    } catch (error) {
      if (!(error instanceof SecretKeyError)) throw error;
      this.unreadable = new SecretKeyError(`${error.message}; stored accounts: ${rows.map((r) => r.id).join(', ')}`);
      this.byId.clear();
      this.ordered = [];
    }
  }

  private apply(records: AccountRecord[]): void {
    this.unreadable = null;
    this.ordered = records;
    this.byId = new Map(records.map((r) => [r.id, r]));
  }

  /** Reads one row into memory (null when it is gone). */
  async reloadOne(id: string): Promise<AccountRecord | null> {
    const rows = (await pgCall(this.sql, 'loading an account', () => this.sql`SELECT * FROM accounts WHERE id = ${id}`)) as AccountRow[];
    const row = rows[0];
    if (!row) {
      if (this.byId.delete(id)) this.ordered = this.ordered.filter((a) => a.id !== id);
      return null;
    }
    const record = rowToRecord(row, this.box());
    const known = this.byId.has(id);
    this.byId.set(id, record);
    this.ordered = known ? this.ordered.map((a) => (a.id === id ? record : a)) : [...this.ordered, record].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    return record;
  }

  /** Runs `work` and the change notice for account `id` in one transaction, then re-reads the row here. */
  private async write<T>(id: string, what: string, work: (tx: Pg) => Promise<T>): Promise<T> {
    const result = await pgCall(this.sql, what, () =>
      this.sql.begin(async (tx) => {
        const value = await work(tx);
        await tx`SELECT pg_notify(${CHANGES_CHANNEL}, ${changePayload('accounts', id)})`;
        return value;
      }),
    );
    await this.reloadOne(id);
    return result;
  }

  async upsert(input: ImportAccountInput): Promise<{ record: AccountRecord; created: boolean }> {
    this.readable();
    const box = this.box();
    let id = '';
    const created = await pgCall(this.sql, 'saving an account', () =>
      this.sql.begin(async (tx) => {
        // Two instances importing the same login at once must agree on one row id: the tokens are sealed to it.
        await tx`SELECT pg_advisory_xact_lock(hashtext(${'codexin:account:' + input.chatgptAccountId}))`;
        const existing = (await tx`SELECT id FROM accounts WHERE chatgpt_account_id = ${input.chatgptAccountId}`)[0] as { id: string } | undefined;
        id = existing?.id ?? 'acct_' + Buffer.from(crypto.getRandomValues(new Uint8Array(9))).toString('base64url');
        const sealed = sealTokens(box, id, input);
        if (existing) {
          await tx`UPDATE accounts SET email = ${input.email}, plan = ${input.plan}, access_token = ${sealed.at}, refresh_token = ${sealed.rt}, id_token = ${sealed.it},
                     access_expires_at = ${input.accessExpiresAt}, last_refresh_at = ${input.lastRefreshAt ?? null}, status = 'active', status_message = NULL,
                     cooldown_until = NULL, refresh_started_at = NULL
                   WHERE id = ${id}`;
        } else {
          await tx`INSERT INTO accounts (id, label, chatgpt_account_id, email, plan, access_token, refresh_token, id_token, access_expires_at, last_refresh_at, status, created_at)
                   VALUES (${id}, ${input.label ?? input.email ?? input.chatgptAccountId}, ${input.chatgptAccountId}, ${input.email}, ${input.plan}, ${sealed.at}, ${sealed.rt}, ${sealed.it},
                           ${input.accessExpiresAt}, ${input.lastRefreshAt ?? null}, 'active', ${Date.now()})`;
        }
        await tx`SELECT pg_notify(${CHANGES_CHANNEL}, ${changePayload('accounts', id)})`;
        return !existing;
      }),
    );
    return { record: (await this.reloadOne(id))!, created };
  }

  get(id: string): AccountRecord | null {
    this.readable();
    return this.byId.get(id) ?? null;
  }

  list(): AccountRecord[] {
    this.readable();
    return [...this.ordered];
  }

  async reread(id: string): Promise<AccountRecord | null> {
    this.readable();
    return this.reloadOne(id);
  }

  async remove(id: string): Promise<boolean> {
    const removed = await pgCall(this.sql, 'removing an account', () =>
      this.sql.begin(async (tx) => {
        const result = await tx`DELETE FROM accounts WHERE id = ${id}`;
        if (result.count > 0) await tx`SELECT pg_notify(${CHANGES_CHANNEL}, ${changePayload('accounts', id)})`;
        return result.count > 0;
      }),
    );
    if (removed) {
      this.byId.delete(id);
      this.ordered = this.ordered.filter((a) => a.id !== id);
      if (this.unreadable) await this.reloadAll();
    }
    return removed;
  }

  private async writeTokens(tx: Pg, id: string, tokens: AccountTokens, now: number): Promise<void> {
    const sealed = sealTokens(this.box(), id, tokens);
    await tx`UPDATE accounts SET access_token = ${sealed.at}, refresh_token = ${sealed.rt}, id_token = ${sealed.it}, access_expires_at = ${tokens.accessExpiresAt},
               last_refresh_at = ${now}, status = CASE WHEN status = 'needs_login' THEN 'active' ELSE status END, status_message = NULL, refresh_started_at = NULL
             WHERE id = ${id}`;
  }

  async saveTokens(id: string, tokens: AccountTokens, now = Date.now()): Promise<void> {
    this.readable();
    await this.write(id, 'saving tokens', (tx) => this.writeTokens(tx, id, tokens, now));
  }

  saveRefreshedTokens(id: string, spentRefreshToken: string, tokens: AccountTokens, now = Date.now()): Promise<TokenWriteResult> {
    return this.ifRefreshTokenIs(id, spentRefreshToken, (tx) => this.writeTokens(tx, id, tokens, now));
  }

  markNeedsLogin(id: string, rejectedRefreshToken: string, message: string): Promise<TokenWriteResult> {
    return this.ifRefreshTokenIs(id, rejectedRefreshToken, async (tx) => {
      await tx`UPDATE accounts SET status = 'needs_login', status_message = ${message}, refresh_started_at = NULL WHERE id = ${id}`;
    });
  }

  /** Writes only if the stored refresh token (read under a row lock) is still `expected`. */
  private async ifRefreshTokenIs(id: string, expected: string, write: (tx: Pg) => Promise<void>): Promise<TokenWriteResult> {
    this.readable();
    const box = this.box();
    const saved = await this.write(id, 'saving refreshed tokens', async (tx) => {
      const row = (await tx`SELECT refresh_token FROM accounts WHERE id = ${id} FOR UPDATE`)[0] as { refresh_token: string } | undefined;
      if (!row || openToken(box, id, 'refresh_token', row.refresh_token) !== expected) return false;
      await write(tx);
      return true;
    });
    const record = this.byId.get(id) ?? null;
    return saved && record ? { saved: true, record } : { saved: false, current: record };
  }

  async markRefreshInFlight(id: string, at: number | null): Promise<void> {
    await this.write(id, 'marking a refresh', async (tx) => {
      await tx`UPDATE accounts SET refresh_started_at = ${at} WHERE id = ${id}`;
    });
  }

  async setStatus(id: string, status: AccountStatus, message: string | null): Promise<void> {
    await this.write(id, 'changing an account', async (tx) => {
      await tx`UPDATE accounts SET status = ${status}, status_message = ${message} WHERE id = ${id}`;
    });
  }

  async setCooldown(id: string, until: number | null): Promise<void> {
    // GREATEST: an instance that saw an earlier reset never shortens a cooldown a peer set later.
    await this.write(id, 'setting a cooldown', async (tx) => {
      await tx`UPDATE accounts SET cooldown_until = CASE WHEN ${until}::float8 IS NULL THEN NULL ELSE greatest(coalesce(cooldown_until, 0), ${until}::float8) END WHERE id = ${id}`;
    });
  }

  async markUsed(id: string, now = Date.now()): Promise<void> {
    // Shown to the operator only; each instance's pool keeps its own recency in memory: no notice.
    await pgCall(this.sql, 'marking an account used', () => this.sql`UPDATE accounts SET last_used_at = greatest(coalesce(last_used_at, 0), ${now}) WHERE id = ${id}`);
    const current = this.byId.get(id);
    if (current) this.replace({ ...current, lastUsedAt: now });
  }

  async saveQuota(id: string, quota: Record<string, string>): Promise<void> {
    await this.write(id, 'saving a quota snapshot', async (tx) => {
      await tx`UPDATE accounts SET quota = ${JSON.stringify(quota)} WHERE id = ${id}`;
    });
  }

  private replace(record: AccountRecord): void {
    this.byId.set(record.id, record);
    this.ordered = this.ordered.map((a) => (a.id === record.id ? record : a));
  }

  /**
   * Holds a transaction-scoped advisory lock for account `id` on a connection of its own
   * while `work` runs: a peer's refresh of the same account waits here, then re-reads
   * the tokens this one saved. A crashed holder's lock goes with its connection.
   */
  async exclusiveRefresh<T>(id: string, work: () => Promise<T>): Promise<T> {
    const conn = await pgCall(this.sql, 'reserving a connection for a refresh', () => this.sql.reserve());
    try {
      await pgCall(this.sql, 'starting a refresh', () => conn`BEGIN`);
      try {
        await conn.unsafe(`SET LOCAL lock_timeout = '${REFRESH_LOCK_WAIT_MS}ms'`);
        await pgCall(this.sql, 'waiting for a peer refresh', () => conn`SELECT pg_advisory_xact_lock(hashtext(${'codexin:refresh:' + id}))`, REFRESH_LOCK_WAIT_MS + 2_000);
        return await work();
      } finally {
        await conn`COMMIT`.catch(() => {});
      }
    } finally {
      conn.release();
    }
  }
}
