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
];
