/**
 * ChatGPT accounts and their OAuth tokens. CodexIn owns these tokens (refresh
 * tokens rotate: a copy shared with a running Codex CLI gets invalidated), so every
 * rotation is persisted in one statement before the new access token is used.
 */
import type { Db } from './db';

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

interface AccountRow {
  id: string;
  label: string;
  chatgpt_account_id: string;
  email: string | null;
  plan: string | null;
  access_token: string;
  refresh_token: string;
  id_token: string;
  access_expires_at: number | null;
  last_refresh_at: number | null;
  status: AccountStatus;
  status_message: string | null;
  cooldown_until: number | null;
  last_used_at: number | null;
  quota: string | null;
  created_at: number;
}

function toRecord(r: AccountRow): AccountRecord {
  return {
    id: r.id,
    label: r.label,
    chatgptAccountId: r.chatgpt_account_id,
    email: r.email,
    plan: r.plan,
    accessToken: r.access_token,
    refreshToken: r.refresh_token,
    idToken: r.id_token,
    accessExpiresAt: r.access_expires_at,
    lastRefreshAt: r.last_refresh_at,
    status: r.status,
    statusMessage: r.status_message,
    cooldownUntil: r.cooldown_until,
    lastUsedAt: r.last_used_at,
    quota: r.quota ? (JSON.parse(r.quota) as Record<string, string>) : null,
    createdAt: r.created_at,
  };
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

export class AccountStore {
  constructor(private readonly db: Db) {}

  /** Adds an account, or replaces the tokens of the one with the same ChatGPT account id. */
  upsert(input: ImportAccountInput): { record: AccountRecord; created: boolean } {
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
           status = 'active', status_message = NULL, cooldown_until = NULL`,
      )
      .run({
        id,
        label: input.label ?? input.email ?? input.chatgptAccountId,
        cid: input.chatgptAccountId,
        email: input.email,
        plan: input.plan,
        at: input.accessToken,
        rt: input.refreshToken,
        it: input.idToken,
        exp: input.accessExpiresAt,
        lr: input.lastRefreshAt ?? null,
        now,
      });
    return { record: this.get(id)!, created: !existing };
  }

  get(id: string): AccountRecord | null {
    const row = this.db.query('SELECT * FROM accounts WHERE id = $id').get({ id }) as AccountRow | null;
    return row ? toRecord(row) : null;
  }

  list(): AccountRecord[] {
    return (this.db.query('SELECT * FROM accounts ORDER BY created_at, id').all() as AccountRow[]).map(toRecord);
  }

  remove(id: string): boolean {
    return this.db.query('DELETE FROM accounts WHERE id = $id').run({ id }).changes > 0;
  }

  /** Persists a token rotation atomically (one UPDATE). */
  saveTokens(id: string, tokens: AccountTokens, now = Date.now()): void {
    this.db
      .query(
        `UPDATE accounts SET access_token = $at, refresh_token = $rt, id_token = $it, access_expires_at = $exp, last_refresh_at = $now,
           status = CASE WHEN status = 'needs_login' THEN 'active' ELSE status END, status_message = NULL
         WHERE id = $id`,
      )
      .run({ id, at: tokens.accessToken, rt: tokens.refreshToken, it: tokens.idToken, exp: tokens.accessExpiresAt, now });
  }

  setStatus(id: string, status: AccountStatus, message: string | null): void {
    this.db.query('UPDATE accounts SET status = $status, status_message = $message WHERE id = $id').run({ id, status, message });
  }

  setCooldown(id: string, until: number | null): void {
    this.db.query('UPDATE accounts SET cooldown_until = $until WHERE id = $id').run({ id, until });
  }

  markUsed(id: string, now = Date.now()): void {
    this.db.query('UPDATE accounts SET last_used_at = $now WHERE id = $id').run({ id, now });
  }

  saveQuota(id: string, quota: Record<string, string>): void {
    this.db.query('UPDATE accounts SET quota = $quota WHERE id = $id').run({ id, quota: JSON.stringify(quota) });
  }
}
