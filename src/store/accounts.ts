/**
 * ChatGPT accounts and their OAuth tokens. CodexIn owns these tokens (refresh
 * tokens rotate: a copy shared with a running Codex CLI gets invalidated), so every
 * rotation is persisted before the new access token is used, and only if the stored
 * refresh token is still the one that was spent (compare-and-set).
 *
 * Tokens are sealed at rest (secret-box.ts). The pool reads the account list on every
 * request, so the store keeps every account decrypted in memory: loaded at start,
 * updated by each write this store makes, and reloaded when another connection (a
 * CLI command beside the server) changed the database.
 */
import type { Db } from './db';
import type { Awaitable } from './awaitable';
import { isSealed, SecretKeyError, type SecretBox } from './secret-box';
import { secretBoxFor } from './secret-key';
import { openToken, rowToRecord, sealPlaintextRows, sealTokens, TOKEN_COLUMNS, type AccountRow } from './account-rows';

export type AccountStatus = 'active' | 'needs_login' | 'disabled';

export interface AccountTokens {
  accessToken: string;
  refreshToken: string;
  idToken: string;
  accessExpiresAt: number | null;
}

export interface AccountRecord extends AccountTokens {
  id: string;
  label: string;
  chatgptAccountId: string;
  email: string | null;
  plan: string | null;
  lastRefreshAt: number | null;
  /** Set while a refresh round trip is under way; still set afterwards when one was cut off. */
  refreshStartedAt: number | null;
  status: AccountStatus;
  statusMessage: string | null;
  cooldownUntil: number | null;
  lastUsedAt: number | null;
  quota: Record<string, string> | null;
  createdAt: number;
}

/** What may leave the server: everything but the tokens. */
export interface AccountView {
  id: string;
  label: string;
  chatgpt_account_id: string;
  email: string | null;
  plan: string | null;
  status: AccountStatus;
  status_message: string | null;
  access_expires_at: number | null;
  last_refresh_at: number | null;
  cooldown_until: number | null;
  last_used_at: number | null;
  quota: Record<string, string> | null;
}


export function accountView(a: AccountRecord): AccountView {
  return {
    id: a.id,
    label: a.label,
    chatgpt_account_id: a.chatgptAccountId,
    email: a.email,
    plan: a.plan,
    status: a.status,
    status_message: a.statusMessage,
    access_expires_at: a.accessExpiresAt,
    last_refresh_at: a.lastRefreshAt,
    cooldown_until: a.cooldownUntil,
    last_used_at: a.lastUsedAt,
    quota: a.quota,
  };
}

export interface ImportAccountInput extends AccountTokens {
  chatgptAccountId: string;
  email: string | null;
  plan: string | null;
  label?: string;
  lastRefreshAt?: number | null;
}

/** What a compare-and-set write found: `saved`, or the account as it is stored now (null: removed). */
export type TokenWriteResult = { saved: true; record: AccountRecord } | { saved: false; current: AccountRecord | null };

export type BoxSource = SecretBox | (() => SecretBox);

/**
 * The accounts, read from memory on every request (the pool reads the list per call)
 * and written through. Token writes are compare-and-set on the refresh token spent.
 */
export interface AccountStore {
  /** Throws unless the secret key opens every stored token (serve checks it at start). */
  assertReadable(): void;
  /** SQLite only: re-reads when another connection committed (PostgreSQL is told by NOTIFY). */
  syncExternalChanges?(): boolean;
  /** Adds an account, or replaces the tokens of the one with the same ChatGPT account id. */
  upsert(input: ImportAccountInput): Awaitable<{ record: AccountRecord; created: boolean }>;
  get(id: string): AccountRecord | null;
  /** Every account, oldest first, from memory. */
  list(): AccountRecord[];
  /** The account as the database has it now, for decisions another writer may have changed (a refresh). */
  reread(id: string): Awaitable<AccountRecord | null>;
  /** Works even when the tokens cannot be opened: removing an account is how to recover from a lost key. */
  remove(id: string): Awaitable<boolean>;
  /** Overwrites the tokens unconditionally (an operator's decision; refreshes use saveRefreshedTokens). */
  saveTokens(id: string, tokens: AccountTokens, now?: number): Awaitable<void>;
  /** Saves a refresh's result only if the stored refresh token is still `spentRefreshToken`. */
  saveRefreshedTokens(id: string, spentRefreshToken: string, tokens: AccountTokens, now?: number): Awaitable<TokenWriteResult>;
  /** Marks the account needs_login only if its stored refresh token is still the one that was rejected. */
  markNeedsLogin(id: string, rejectedRefreshToken: string, message: string): Awaitable<TokenWriteResult>;
  /** Notes that a refresh round trip starts (`at`) or ended with an answer (null). */
  markRefreshInFlight(id: string, at: number | null): Awaitable<void>;
  setStatus(id: string, status: AccountStatus, message: string | null): Awaitable<void>;
  /** Sets a cooldown; an earlier one never shortens a later one set by a peer (null clears). */
  setCooldown(id: string, until: number | null): Awaitable<void>;
  markUsed(id: string, now?: number): Awaitable<void>;
  saveQuota(id: string, quota: Record<string, string>): Awaitable<void>;
  /**
   * Runs one refresh of the account with every other refresher of it (in any process
   * sharing the database) kept out until `work` ends; `work` re-reads under it.
   */
  exclusiveRefresh<T>(id: string, work: () => Promise<T>): Promise<T>;
}

export class SqliteAccountStore implements AccountStore {
  private readonly byId = new Map<string, AccountRecord>();
  private ordered: AccountRecord[] = [];
  private unreadable: SecretKeyError | null = null;
  private seenDataVersion = -1;
  private readonly boxSource: BoxSource;

  /** Without `secrets`, uses the key attached to `db` by openDataDir (a random one for an in-memory db). */
  constructor(
    private readonly db: Db,
    secrets?: BoxSource,
  ) {
    this.boxSource = secrets ?? secretBoxFor(db);
    this.reload();
  }

  private box(): SecretBox {
    return typeof this.boxSource === 'function' ? this.boxSource() : this.boxSource;
  }

  /**
   * Throws unless the key loads and opens every stored token. `serve` calls it at start
   * so a wrong or missing key stops the server instead of failing requests.
   */
  assertReadable(): void {
    if (this.unreadable) throw this.unreadable;
    // Also loads (on a first start: creates) the key, so it exists to be backed up before any import.
    this.box();
  }

  /**
   * Re-reads every account when another connection wrote to the database since the
   * last look. A change this store cannot read (tokens sealed with another key) is
   * not adopted: the accounts already in memory keep serving, and the error is thrown
   * for the caller to report.
   */
  syncExternalChanges(): boolean {
    const version = this.dataVersion();
    if (version === this.seenDataVersion) return false;
    const loaded = this.load();
    if (loaded instanceof SecretKeyError && !this.unreadable) throw loaded;
    this.apply(loaded);
    return true;
  }

  private dataVersion(): number {
    return (this.db.query('PRAGMA data_version').get() as { data_version: number }).data_version;
  }

  private reload(): void {
    this.apply(this.load());
  }

  /**
   * Reads every account and opens its tokens. If any sealed token does not open,
   * nothing is written (plaintext rows stay as they are too) and the result is the
   * error. Plaintext rows left by an older CodexIn are then sealed in place.
   */
  private load(): AccountRecord[] | SecretKeyError {
    const version = this.dataVersion();
    const rows = this.db.query('SELECT * FROM accounts ORDER BY created_at, id').all() as AccountRow[];
    this.seenDataVersion = version;
    if (rows.length === 0) return [];
    let box: SecretBox;
    let records: AccountRecord[];
    try {
      box = this.box();
      records = rows.map((row) => rowToRecord(row, box));
    } catch (error) {
      // Naming the accounts gives the way out when the key is lost for good: `accounts remove ID`.
      if (error instanceof SecretKeyError) return new SecretKeyError(`${error.message}; stored accounts: ${rows.map((r) => r.id).join(', ')}`);
      throw error;
    }
    const plaintext = rows.filter((r) => TOKEN_COLUMNS.some((c) => !isSealed(r[c])));
    if (plaintext.length) this.sealPlaintextRows(plaintext, box);
    return records;
  }

  private apply(loaded: AccountRecord[] | SecretKeyError): void {
    this.byId.clear();
    this.unreadable = loaded instanceof SecretKeyError ? loaded : null;
    this.ordered = loaded instanceof SecretKeyError ? [] : loaded;
    for (const record of this.ordered) this.byId.set(record.id, record);
  }

  private sealPlaintextRows(rows: AccountRow[], box: SecretBox): void {
    sealPlaintextRows(this.db, rows, box);
    this.seenDataVersion = this.dataVersion();
  }

  /** Reads one row from the database into memory (null when it is gone). */
  private refreshFromDb(id: string): AccountRecord | null {
    const row = this.db.query('SELECT * FROM accounts WHERE id = $id').get({ id }) as AccountRow | null;
    if (!row) {
      if (this.byId.delete(id)) this.ordered = this.ordered.filter((a) => a.id !== id);
      return null;
    }
    const record = rowToRecord(row, this.box());
    const known = this.byId.has(id);
    this.byId.set(id, record);
    this.ordered = known ? this.ordered.map((a) => (a.id === id ? record : a)) : [...this.ordered, record];
    return record;
  }

  /** Replaces the in-memory copy after a write this store made. */
  private update(id: string, change: Partial<AccountRecord>): void {
    const current = this.byId.get(id);
    if (!current) return;
    const record = { ...current, ...change };
    this.byId.set(id, record);
    this.ordered = this.ordered.map((a) => (a.id === id ? record : a));
  }

  private readable(): void {
    if (this.unreadable) throw this.unreadable;
  }

  /** Adds an account, or replaces the tokens of the one with the same ChatGPT account id. */
  upsert(input: ImportAccountInput): { record: AccountRecord; created: boolean } {
    this.readable();
    const box = this.box();
    const existing = this.db.query('SELECT id FROM accounts WHERE chatgpt_account_id = $cid').get({ cid: input.chatgptAccountId }) as { id: string } | null;
    const id = existing?.id ?? 'acct_' + Buffer.from(crypto.getRandomValues(new Uint8Array(9))).toString('base64url');
    const now = Date.now();
    this.db
      .query(
        `INSERT INTO accounts (id, label, chatgpt_account_id, email, plan, access_token, refresh_token, id_token, access_expires_at, last_refresh_at, status, created_at)
         VALUES ($id, $label, $cid, $email, $plan, $at, $rt, $it, $exp, $lr, 'active', $now)
         ON CONFLICT(chatgpt_account_id) DO UPDATE SET
           email = excluded.email, plan = excluded.plan, access_token = excluded.access_token, refresh_token = excluded.refresh_token,
           id_token = excluded.id_token, access_expires_at = excluded.access_expires_at, last_refresh_at = excluded.last_refresh_at,
           status = 'active', status_message = NULL, cooldown_until = NULL, refresh_started_at = NULL`,
      )
      .run({
        id,
        label: input.label ?? input.email ?? input.chatgptAccountId,
        cid: input.chatgptAccountId,
        email: input.email,
        plan: input.plan,
        ...sealTokens(box, id, input),
        exp: input.accessExpiresAt,
        lr: input.lastRefreshAt ?? null,
        now,
      });
    return { record: this.refreshFromDb(id)!, created: !existing };
  }

  get(id: string): AccountRecord | null {
    this.readable();
    return this.byId.get(id) ?? null;
  }

  /** Every account, oldest first, from memory. */
  list(): AccountRecord[] {
    this.readable();
    return [...this.ordered];
  }

  /** The account as the database has it now, for decisions another writer may have changed (a refresh). */
  reread(id: string): AccountRecord | null {
    this.readable();
    return this.refreshFromDb(id);
  }

  /** Works even when the tokens cannot be opened: removing an account is how to recover from a lost key. */
  remove(id: string): boolean {
    const removed = this.db.query('DELETE FROM accounts WHERE id = $id').run({ id }).changes > 0;
    if (removed) {
      this.byId.delete(id);
      this.ordered = this.ordered.filter((a) => a.id !== id);
      if (this.unreadable) this.reload();
    }
    return removed;
  }

  /** Overwrites the tokens unconditionally (an operator's decision; refreshes use saveRefreshedTokens). */
  saveTokens(id: string, tokens: AccountTokens, now = Date.now()): void {
    this.readable();
    this.writeTokens(id, tokens, now);
    this.refreshFromDb(id);
  }

  /**
   * Saves a refresh's result only if the stored refresh token is still `spentRefreshToken`,
   * in one immediate transaction, so a peer that rotated first (another store handle, a
   * re-import) is never overwritten with tokens derived from a token it already spent.
   */
  saveRefreshedTokens(id: string, spentRefreshToken: string, tokens: AccountTokens, now = Date.now()): TokenWriteResult {
    return this.ifRefreshTokenIs(id, spentRefreshToken, () => this.writeTokens(id, tokens, now));
  }

  /** Marks the account needs_login only if its stored refresh token is still the one that was rejected. */
  markNeedsLogin(id: string, rejectedRefreshToken: string, message: string): TokenWriteResult {
    return this.ifRefreshTokenIs(id, rejectedRefreshToken, () =>
      this.db.query(`UPDATE accounts SET status = 'needs_login', status_message = $message, refresh_started_at = NULL WHERE id = $id`).run({ id, message }),
    );
  }

  private ifRefreshTokenIs(id: string, expected: string, write: () => void): TokenWriteResult {
    this.readable();
    const box = this.box();
    const saved = this.db
      .transaction(() => {
        const row = this.db.query('SELECT refresh_token FROM accounts WHERE id = $id').get({ id }) as { refresh_token: string } | null;
        if (!row) return false;
        const stored = openToken(box, id, 'refresh_token', row.refresh_token);
        if (stored !== expected) return false;
        write();
        return true;
      })
      .immediate();
    const record = this.refreshFromDb(id);
    return saved && record ? { saved: true, record } : { saved: false, current: record };
  }

  private writeTokens(id: string, tokens: AccountTokens, now: number): void {
    const box = this.box();
    this.db
      .query(
        `UPDATE accounts SET access_token = $at, refresh_token = $rt, id_token = $it, access_expires_at = $exp, last_refresh_at = $now,
           status = CASE WHEN status = 'needs_login' THEN 'active' ELSE status END, status_message = NULL, refresh_started_at = NULL
         WHERE id = $id`,
      )
      .run({
        id,
        ...sealTokens(box, id, tokens),
        exp: tokens.accessExpiresAt,
        now,
      });
  }

  /**
   * Notes that a refresh round trip starts (`at`) or ended with an answer (null). The
   * auth server spends the refresh token before it answers, so a mark still set later
   * means a rotated token may have been lost with the process or the connection.
   */
  markRefreshInFlight(id: string, at: number | null): void {
    this.db.query('UPDATE accounts SET refresh_started_at = $at WHERE id = $id').run({ id, at });
    this.update(id, { refreshStartedAt: at });
  }

  setStatus(id: string, status: AccountStatus, message: string | null): void {
    this.db.query('UPDATE accounts SET status = $status, status_message = $message WHERE id = $id').run({ id, status, message });
    this.update(id, { status, statusMessage: message });
  }

  setCooldown(id: string, until: number | null): void {
    const row = this.db
      .query('UPDATE accounts SET cooldown_until = CASE WHEN $until IS NULL THEN NULL ELSE max(coalesce(cooldown_until, 0), $until) END WHERE id = $id RETURNING cooldown_until')
      .get({ id, until }) as { cooldown_until: number | null } | null;
    if (row) this.update(id, { cooldownUntil: row.cooldown_until });
  }

  /** One serve owns a SQLite data dir, and the token manager's single flight already keeps its refreshes apart. */
  exclusiveRefresh<T>(_id: string, work: () => Promise<T>): Promise<T> {
    return work();
  }

  markUsed(id: string, now = Date.now()): void {
    this.db.query('UPDATE accounts SET last_used_at = $now WHERE id = $id').run({ id, now });
    this.update(id, { lastUsedAt: now });
  }

  saveQuota(id: string, quota: Record<string, string>): void {
    this.db.query('UPDATE accounts SET quota = $quota WHERE id = $id').run({ id, quota: JSON.stringify(quota) });
    this.update(id, { quota });
  }

  /** Whether any token in the database is sealed (a key must then already exist). */
  static holdsSealedTokens(db: Db): boolean {
    return db.query(`SELECT 1 FROM accounts WHERE refresh_token LIKE 'enc:v1:%' OR access_token LIKE 'enc:v1:%' OR id_token LIKE 'enc:v1:%' LIMIT 1`).get() !== null;
  }
}
