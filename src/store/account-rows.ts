/**
 * How an account row is stored: its columns, and its tokens sealed per row and column.
 * The store keeps records; this module turns rows into records and seals the
 * plaintext tokens an older CodexIn left behind.
 */
import type { AccountRecord, AccountStatus, AccountTokens } from './accounts';
import type { Db } from './db';
import { isSealed, type SecretBox } from './secret-box';

export interface AccountRow {
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
  refresh_started_at: number | null;
  status: AccountStatus;
  status_message: string | null;
  cooldown_until: number | null;
  last_used_at: number | null;
  quota: string | null;
  created_at: number;
}

export const TOKEN_COLUMNS = ['access_token', 'refresh_token', 'id_token'] as const;
export type TokenColumn = (typeof TOKEN_COLUMNS)[number];

/** Binds a sealed token to its row and column: a ciphertext moved elsewhere does not open. */
export const tokenContext = (id: string, column: TokenColumn) => `account:${id}:${column}`;

/** A stored token as text: opened when sealed, as is when an older version left it in plaintext. */
export function openToken(box: SecretBox, id: string, column: TokenColumn, stored: string): string {
  return isSealed(stored) ? box.open(stored, tokenContext(id, column)) : stored;
}

/** The three token columns' values for row `id`, sealed. */
export function sealTokens(box: SecretBox, id: string, tokens: AccountTokens): { at: string; rt: string; it: string } {
  return {
    at: box.seal(tokens.accessToken, tokenContext(id, 'access_token')),
    rt: box.seal(tokens.refreshToken, tokenContext(id, 'refresh_token')),
    it: box.seal(tokens.idToken, tokenContext(id, 'id_token')),
  };
}

export function rowToRecord(r: AccountRow, box: SecretBox): AccountRecord {
  const token = (column: TokenColumn) => openToken(box, r.id, column, r[column]);
  return {
    id: r.id,
    label: r.label,
    chatgptAccountId: r.chatgpt_account_id,
    email: r.email,
    plan: r.plan,
    accessToken: token('access_token'),
    refreshToken: token('refresh_token'),
    idToken: token('id_token'),
    accessExpiresAt: r.access_expires_at,
    lastRefreshAt: r.last_refresh_at,
    refreshStartedAt: r.refresh_started_at,
    status: r.status,
    statusMessage: r.status_message,
    cooldownUntil: r.cooldown_until,
    lastUsedAt: r.last_used_at,
    quota: r.quota ? (JSON.parse(r.quota) as Record<string, string>) : null,
    createdAt: r.created_at,
  };
}

/**
 * Seals tokens an older version stored in plaintext. Each row is rewritten only if
 * it still holds the plaintext just read; then the WAL is truncated and the file
 * vacuumed so no copy of the plaintext survives in old frames or free pages.
 */
export function sealPlaintextRows(db: Db, rows: AccountRow[], box: SecretBox): void {
  db
    .transaction(() => {
      for (const row of rows) {
        const sealed = (column: TokenColumn) => (isSealed(row[column]) ? row[column] : box.seal(row[column], tokenContext(row.id, column)));
        db
          .query(
            `UPDATE accounts SET access_token = $at, refresh_token = $rt, id_token = $it
             WHERE id = $id AND access_token = $oldAt AND refresh_token = $oldRt AND id_token = $oldIt`,
          )
          .run({ id: row.id, at: sealed('access_token'), rt: sealed('refresh_token'), it: sealed('id_token'), oldAt: row.access_token, oldRt: row.refresh_token, oldIt: row.id_token });
      }
    })
    .immediate();
  try {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    db.exec('VACUUM');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } catch {
    // Another connection is reading: the rows are sealed; old copies go at the next checkpoint.
  }
}
