/**
 * Opens the PostgreSQL side of CodexIn: the pool, the schema, the change feed and
 * the stores whose reads are served from memory, loaded before the first request.
 */
import type { SecretKeySource } from '../../config';
import type { Logger } from '../../log';
import { loadSecretBox } from '../secret-key';
import type { SecretBox } from '../secret-box';
import { PgAccountStore } from './accounts';
import { ChangeFeed } from './changes';
import { openPostgres, pgCall, type Pg, type PgOptions } from './database';
import { PgKeyStore } from './keys';
import { PgModelStore } from './models';

export interface PgStores {
  sql: Pg;
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

export async function openPgStores(url: string, secretKey: SecretKeySource, opts: PgOptions & { logger?: Logger } = {}): Promise<PgStores> {
  const sql = await openPostgres(url, opts);
  try {
    const feed = new ChangeFeed(sql, opts.logger);
    const keys = await PgKeyStore.open(sql, feed);
    const models = await PgModelStore.open(sql, feed);
    const accounts = await PgAccountStore.open(sql, feed, await secretBoxForPg(sql, secretKey));
    // Listening starts after the first load; the (re)subscription reload closes the gap between them.
    await feed.start();
    await feed.reloadAll();
    return { sql, feed, keys, models, accounts };
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
