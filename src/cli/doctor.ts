/**
 * `codexin doctor`: checks the data dir, the database, the secret key and file
 * modes, each account's login and the upstream's reachability. Exit 0 when healthy, 1 otherwise.
 */
import { accessSync, constants } from 'node:fs';
import { resolveConfig, type Config } from '../config';
import { SqliteAccountStore, type AccountRecord } from '../store/accounts';
import { closePgStores, openPgStores, verifySharedSecretKey, type PgStores } from '../store/postgres/backend';
import { redactDatabaseUrl, schemaVersion, withDeadline } from '../store/postgres/database';
import { closeDatabase } from '../store/db';
import { parseCommandArgs, printResult } from './args';
import { openDataDir } from './data-dir';
import { fileModeCheck, looseFileModes, secretKeyCheck, type Check } from './doctor-secrets';
import { checkUpstream } from './doctor-upstream';

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values, configFlags } = parseCommandArgs(argv);
  const config = resolveConfig(configFlags);
  const checks: Check[] = [];
  if (config.databaseUrl) checks.push(...(await sharedDatabaseChecks(config)));
  else checks.push(...dataDirChecks(config));
  if (config.upstream !== 'mock') checks.push(await checkUpstream(config.upstreamUrl));
  const healthy = checks.every((c) => c.ok);
  printResult(values.json === true, { healthy, checks }, () => [...checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`), healthy ? 'healthy' : 'NOT healthy'].join('\n'));
  return healthy ? 0 : 1;
}

function accountChecks(accounts: AccountRecord[]): Check[] {
  if (accounts.length === 0) return [{ name: 'accounts', ok: false, detail: 'none: run "codexin accounts import ~/.codex/auth.json" or "codexin login"' }];
  return accounts.map((a) => {
    const expired = a.accessExpiresAt !== null && a.accessExpiresAt <= Date.now();
    const ok = a.status === 'active';
    return {
      name: `account ${a.id}`,
      ok,
      detail: ok
        ? `${a.email ?? a.chatgptAccountId}, plan ${a.plan ?? '?'}, access token ${expired ? 'expired (refreshed on next use)' : `valid until ${a.accessExpiresAt ? new Date(a.accessExpiresAt).toISOString() : 'unknown'}`}`
        : `${a.status}: ${a.statusMessage ?? ''}`,
    };
  });
}

/** With --database-url: the shared database, the instances' common secret key, Redis when given. */
async function sharedDatabaseChecks(config: Config): Promise<Check[]> {
  const checks: Check[] = [];
  const where = redactDatabaseUrl(config.databaseUrl!);
  let stores: PgStores;
  try {
    stores = await openPgStores(config.databaseUrl!, config.secretKey, { max: 2, listen: false });
  } catch (error) {
    return [{ name: 'database', ok: false, detail: (error as Error).message }];
  }
  try {
    checks.push({ name: 'database', ok: true, detail: `${where}: reachable, schema version ${await schemaVersion(stores.sql)}` });
    try {
      const box = stores.secrets();
      await verifySharedSecretKey(stores.sql, box);
      stores.accounts.assertReadable();
      const count = stores.accounts.list().length;
      checks.push({ name: 'secret key', ok: true, detail: `fingerprint ${box.fingerprint}: the database's key, opens the tokens of ${count} account${count === 1 ? '' : 's'}; every instance needs this same key` });
      if (config.upstream === 'chatgpt') checks.push(...accountChecks(stores.accounts.list()));
    } catch (error) {
      checks.push({ name: 'secret key', ok: false, detail: (error as Error).message });
    }
  } finally {
    await closePgStores(stores);
  }
  if (config.redisUrl) checks.push(await redisCheck(config.redisUrl));
  return checks;
}

async function redisCheck(url: string): Promise<Check> {
  const client = new Bun.RedisClient(url, { connectionTimeout: 2_000, autoReconnect: false, enableOfflineQueue: false });
  try {
    const answer = await withDeadline('PING', 2_000, client.connect().then(() => client.send('PING', [])));
    return { name: 'redis', ok: answer === 'PONG', detail: answer === 'PONG' ? 'reachable (rate windows and concurrency leases)' : `unexpected PING answer ${String(answer)}` };
  } catch (error) {
    return { name: 'redis', ok: false, detail: `unreachable: ${(error as Error).message}; limits fall back to a per-instance share while it is down` };
  } finally {
    client.close();
  }
}

function dataDirChecks(config: Config): Check[] {
  const checks: Check[] = [];
  const looseBefore = looseFileModes(config);
  try {
    const db = openDataDir(config);
    if (config.dataDir !== ':memory:') accessSync(config.dataDir, constants.W_OK);
    checks.push({ name: 'data dir', ok: true, detail: `${config.dataDir} is writable` });
    db.query('SELECT 1').get();
    checks.push({ name: 'database', ok: true, detail: 'opened and migrated' });
    const keyCheck = secretKeyCheck(config, db);
    checks.push(keyCheck, fileModeCheck(looseBefore, looseFileModes(config)));
    if (config.upstream === 'chatgpt' && keyCheck.ok) checks.push(...accountChecks(new SqliteAccountStore(db).list()));
    closeDatabase(db);
  } catch (error) {
    checks.push({ name: 'database', ok: false, detail: (error as Error).message });
  }
  return checks;
}
