/**
 * `codexin doctor`: checks the data dir, the database, the secret key and file
 * modes, each account's login and the upstream's reachability. Exit 0 when healthy, 1 otherwise.
 */
import { accessSync, constants } from 'node:fs';
import { resolveConfig } from '../config';
import { SqliteAccountStore } from '../store/accounts';
import { closeDatabase } from '../store/db';
import { parseCommandArgs, printResult } from './args';
import { openDataDir } from './data-dir';
import { fileModeCheck, looseFileModes, secretKeyCheck, type Check } from './doctor-secrets';
import { checkUpstream } from './doctor-upstream';

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values, configFlags } = parseCommandArgs(argv);
  const config = resolveConfig(configFlags);
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
    if (config.upstream === 'chatgpt' && keyCheck.ok) {
      const accounts = new SqliteAccountStore(db).list();
      if (accounts.length === 0) checks.push({ name: 'accounts', ok: false, detail: 'none: run "codexin accounts import ~/.codex/auth.json" or "codexin login"' });
      for (const a of accounts) {
        const expired = a.accessExpiresAt !== null && a.accessExpiresAt <= Date.now();
        const ok = a.status === 'active';
        checks.push({
          name: `account ${a.id}`,
          ok,
          detail: ok
            ? `${a.email ?? a.chatgptAccountId}, plan ${a.plan ?? '?'}, access token ${expired ? 'expired (refreshed on next use)' : `valid until ${a.accessExpiresAt ? new Date(a.accessExpiresAt).toISOString() : 'unknown'}`}`
            : `${a.status}: ${a.statusMessage ?? ''}`,
        });
      }
    }
    closeDatabase(db);
  } catch (error) {
    checks.push({ name: 'database', ok: false, detail: (error as Error).message });
  }
  if (config.upstream !== 'mock') checks.push(await checkUpstream(config.upstreamUrl));
  const healthy = checks.every((c) => c.ok);
  printResult(values.json === true, { healthy, checks }, () => [...checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`), healthy ? 'healthy' : 'NOT healthy'].join('\n'));
  return healthy ? 0 : 1;
}
