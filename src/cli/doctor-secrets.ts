/**
 * `codexin doctor`'s checks of secrets at rest: the data dir and the files holding
 * tokens or their key are private, and the key opens every stored token.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config';
import type { Db } from '../store/db';
import { SqliteAccountStore } from '../store/accounts';
import { secretBoxFor } from '../store/secret-key';
import { DB_FILE } from './data-dir';
import { LOCK_FILE } from './serve-lock';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function modeOf(path: string): number | null {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return null;
  }
}

const octal = (mode: number) => mode.toString(8).padStart(3, '0');

/** Group or other access to the data dir or to a file holding tokens or the key, one line per path. */
export function looseFileModes(config: Config): string[] {
  if (config.dataDir === ':memory:') return [];
  const db = join(config.dataDir, DB_FILE);
  const keyFile = config.secretKey.kind === 'file' ? config.secretKey.path : null;
  const targets: { path: string; want: number }[] = [
    { path: config.dataDir, want: 0o700 },
    ...[db, `${db}-wal`, `${db}-shm`, join(config.dataDir, LOCK_FILE)].map((path) => ({ path, want: 0o600 })),
    ...(keyFile ? [{ path: keyFile, want: 0o600 }] : []),
  ];
  const loose: string[] = [];
  for (const { path, want } of targets) {
    const mode = modeOf(path);
    if (mode !== null && mode & 0o077) loose.push(`${path} is ${octal(mode)} (want ${octal(want)}: chmod ${octal(want)} ${path})`);
  }
  return loose;
}

/**
 * Opening the data dir tightens what is ours, so doctor looks before and after:
 * what was loose and is now fixed is reported, what is still loose fails.
 */
export function fileModeCheck(before: string[], after: string[]): Check {
  if (after.length) return { name: 'file modes', ok: false, detail: after.join('; ') };
  const fixed = before.filter((line) => !after.includes(line));
  return { name: 'file modes', ok: true, detail: fixed.length ? `tightened now: ${fixed.join('; ')}` : 'data dir 700, database, WAL, lock and key files 600' };
}

/** The key loads and opens every stored token; says where it comes from and its fingerprint. */
export function secretKeyCheck(config: Config, db: Db): Check {
  const source =
    config.secretKey.kind === 'inline' ? 'CODEXIN_SECRET_KEY' : config.secretKey.kind === 'file' ? config.secretKey.path : 'a random in-memory key';
  try {
    const accounts = new SqliteAccountStore(db);
    accounts.assertReadable();
    const count = accounts.list().length;
    const fingerprint = secretBoxFor(db)().fingerprint;
    return { name: 'secret key', ok: true, detail: `${source} (fingerprint ${fingerprint}) opens the tokens of ${count} account${count === 1 ? '' : 's'}; back it up with the database` };
  } catch (error) {
    return { name: 'secret key', ok: false, detail: `${source}: ${(error as Error).message}` };
  }
}
