/**
 * Schema migrations, applied in order by `PRAGMA user_version`.
 * Append new steps; never edit a step that has shipped.
 */
import type { Database } from 'bun:sqlite';

export const MIGRATIONS: ReadonlyArray<(db: Database) => void> = [
  // 1: API keys and the model catalog.
  (db) => {
    db.exec(`
      CREATE TABLE keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash BLOB NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        scopes TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        expires_at INTEGER,
        revoked_at INTEGER,
        rpm INTEGER,
        token_quota_daily INTEGER,
        allowed_models TEXT
      ) STRICT;
      CREATE TABLE models (
        id TEXT PRIMARY KEY,
        upstream_slug TEXT NOT NULL,
        display_name TEXT NOT NULL,
        owned_by TEXT NOT NULL DEFAULT 'openai',
        created INTEGER NOT NULL,
        context_window INTEGER NOT NULL,
        default_reasoning_effort TEXT,
        position INTEGER NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1
      ) STRICT;
    `);
  },
  // 2: ChatGPT accounts (tokens are secrets: never logged, never returned by any API) and usage.
  (db) => {
    db.exec(`
      CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        chatgpt_account_id TEXT NOT NULL UNIQUE,
        email TEXT,
        plan TEXT,
        access_token TEXT NOT NULL,
        refresh_token TEXT NOT NULL,
        id_token TEXT NOT NULL,
        access_expires_at INTEGER,
        last_refresh_at INTEGER,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_login', 'disabled')),
        status_message TEXT,
        cooldown_until INTEGER,
        last_used_at INTEGER,
        quota TEXT,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE usage (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        key_id TEXT,
        account_id TEXT,
        route TEXT NOT NULL,
        model TEXT,
        status INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        latency_ms INTEGER,
        ttfb_ms INTEGER,
        request_id TEXT
      ) STRICT;
      CREATE INDEX usage_key_at ON usage (key_id, at);
      CREATE INDEX usage_account_at ON usage (account_id, at);
    `);
  },
  // 3: more per-key limits.
  (db) => {
    db.exec(`
      ALTER TABLE keys ADD COLUMN token_quota_weekly INTEGER;
      ALTER TABLE keys ADD COLUMN max_concurrent INTEGER;
      ALTER TABLE keys ADD COLUMN usage_reset_at INTEGER;
    `);
  },
  // 4: uploaded files (metadata; the bytes live under <data-dir>/files/<sha256>).
  (db) => {
    db.exec(`
      CREATE TABLE files (
        id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        purpose TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        mime TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        upstream_file_id TEXT,
        seq INTEGER NOT NULL UNIQUE
      ) STRICT;
      CREATE INDEX files_key_seq ON files (key_id, seq);
      CREATE INDEX files_sha256 ON files (sha256);
    `);
  },
  // 5: the error code the client got, per request (the dashboard's Requests page), and
  // an index on time for the per-day aggregates across all keys and accounts.
  (db) => {
    db.exec(`
      ALTER TABLE usage ADD COLUMN error_code TEXT;
      CREATE INDEX usage_at ON usage (at);
    `);
  },
  // 6: when a token refresh began and has not yet been settled (cleared on save or on the auth server's answer).
  //    Left set, it tells the next refresh that an earlier one was cut off mid round trip.
  (db) => {
    db.exec('ALTER TABLE accounts ADD COLUMN refresh_started_at INTEGER');
  },
  // 7: per-key, per-UTC-day quota tokens (input + output), kept in the transaction of each usage
  //    batch, so admission reads at most a week of counters instead of summing usage rows.
  //    Backfilled from the rows already written.
  (db) => {
    db.exec(`
      CREATE TABLE usage_daily (
        key_id TEXT NOT NULL,
        day INTEGER NOT NULL,
        tokens INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, day)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO usage_daily (key_id, day, tokens)
        SELECT key_id, at / 86400000, sum(input_tokens + output_tokens) FROM usage
        WHERE key_id IS NOT NULL GROUP BY key_id, at / 86400000 HAVING sum(input_tokens + output_tokens) > 0;
    `);
  },
];
