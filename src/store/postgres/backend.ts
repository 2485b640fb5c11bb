/**
 * Opens the PostgreSQL side of CodexIn: the pool, the schema, the change feed and
 * the stores whose reads are served from memory, loaded before the first request.
 */
import type { SecretKeySource } from '../../config';
import type { Logger } from '../../log';
import { loadSecretBox } from '../secret-key';
import { SecretKeyError, type SecretBox } from '../secret-box';
import { PgAccountStore } from './accounts';
import { ChangeFeed } from './changes';
import { openPostgres, pgCall, type Pg, type PgOptions } from './database';
import { PgKeyStore } from './keys';
import { PgModelStore } from './models';

export interface PgStores {
  sql: Pg;
  /** The sealing key's loader (loaded on first use: commands that touch no token never need it). */
  secrets: () => SecretBox;
  feed: ChangeFeed;
  keys: PgKeyStore;
  models: PgModelStore;
  accounts: PgAccountStore;
}

/** The sealing key for a database that is shared: generated only while no sealed token exists anywhere in it. */
async function secretBoxForPg(sql: Pg, source: SecretKeySource): Promise<() => SecretBox> {
  const sealed = await pgCall(sql, 'checking for sealed tokens', () => sql`SELECT 1 FROM accounts WHERE refresh_token LIKE 'enc:v1:%' LIMIT 1`);
  let box: SecretBox | null = null;
  return () => (box ??= loadSecretBox(source, () => sealed.length > 0));
}

const KEY_CHECK_PLAINTEXT = 'codexin secret key check';

/**
 * Refuses a sealing key other than the one this database was first used with, before
 * any token is written with it: instances with different keys would each lock the
 * others out of the accounts they log in.
 */
export async function verifySharedSecretKey(sql: Pg, box: SecretBox): Promise<void> {
  const sealed = box.seal(KEY_CHECK_PLAINTEXT, 'settings:secret_key_check');
  await pgCall(sql, 'checking the secret key', () => sql`INSERT INTO settings (name, value) VALUES ('secret_key_check', ${sealed}) ON CONFLICT (name) DO NOTHING`);
  const [row] = (await pgCall(sql, 'checking the secret key', () => sql`SELECT value FROM settings WHERE name = 'secret_key_check'`)) as { value: string }[];
  let opened: string | null = null;
  try {
    opened = box.open(row!.value, 'settings:secret_key_check');
  } catch {
    opened = null;
  }
  if (opened !== KEY_CHECK_PLAINTEXT) {
    throw new SecretKeyError('this instance\'s secret key is not the one the database was set up with: give every instance the same CODEXIN_SECRET_KEY or --secret-key-file');
  }
}

export async function openPgStores(url: string, secretKey: SecretKeySource, opts: PgOptions & { logger?: Logger; listen?: boolean } = {}): Promise<PgStores> {
  const sql = await openPostgres(url, opts);
  try {
    const feed = new ChangeFeed(sql, opts.logger);
    const keys = await PgKeyStore.open(sql, feed);
    const models = await PgModelStore.open(sql, feed);
    const secrets = await secretBoxForPg(sql, secretKey);
    const accounts = await PgAccountStore.open(sql, feed, secrets);
    // Listening starts after the first load; the (re)subscription reload closes the gap between them.
    if (opts.listen !== false) {
      await feed.start();
      await feed.reloadAll();
    }
    return { sql, secrets, feed, keys, models, accounts };
  } catch (error) {
    await sql.close({ timeout: 0 }).catch(() => {});
    throw error;
  }
}

export async function closePgStores(stores: PgStores): Promise<void> {
  await stores.feed.stop();
  await stores.keys.flushTouches();
  await stores.sql.close({ timeout: 5 }).catch(() => {});
}
