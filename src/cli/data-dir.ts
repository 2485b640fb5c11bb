/**
 * Opens the data directory's database: one place that knows the file layout
 * (codexin.db + WAL, secret.key, serve.lock, files/). The directory is private
 * (0700): created so, and tightened when it is recognisably ours.
 */
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Db } from '../store/db';
import { SqliteAccountStore } from '../store/accounts';
import { attachSecretKey, loadSecretBox } from '../store/secret-key';
import { ConfigError, type Config } from '../config';
import { lockDataDir, type DataDirLock } from './serve-lock';

export const DB_FILE = 'codexin.db';
export const DATA_DIR_MODE = 0o700;

/** Where a one-line notice about the data dir goes (stderr for CLI commands, the log for serve). */
export type Notice = (message: string) => void;
const toStderr: Notice = (message) => process.stderr.write(`codexin: ${message}\n`);

/**
 * A directory that holds our database or is empty is ours to tighten; anything else
 * (a home directory given as --data-dir) is the user's, and we only say it is open.
 */
function makePrivate(dir: string, notice: Notice): void {
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  const entries = readdirSync(dir);
  const ours = entries.length === 0 || entries.includes(DB_FILE);
  const shown = mode.toString(8).padStart(3, '0');
  if (ours) {
    chmodSync(dir, DATA_DIR_MODE);
    notice(`tightened the data dir ${dir} from mode ${shown} to 700 (it holds OAuth tokens)`);
  } else {
    notice(`the data dir ${dir} (mode ${shown}) is open to other users; CodexIn's files in it are 0600, but consider a private directory`);
  }
}

export function openDataDir(config: Config, notice: Notice = toStderr): Db {
  if (config.dataDir === ':memory:') return openDatabase(':memory:');
  prepareDataDir(config.dataDir, notice);
  return openDataDirDatabase(config);
}

/**
 * For `serve`: the data dir's database plus its exclusive serve lock, taken before the
 * database is opened (a refused second server migrates and writes nothing).
 */
export function openServeDataDir(config: Config, notice: Notice = toStderr): { db: Db; lock: DataDirLock | null } {
  if (config.dataDir === ':memory:') return { db: openDatabase(':memory:'), lock: null };
  prepareDataDir(config.dataDir, notice);
  let lock: DataDirLock;
  try {
    lock = lockDataDir(config.dataDir);
  } catch (error) {
    throw error instanceof ConfigError ? error : unusable(config.dataDir, error);
  }
  try {
    return { db: openDataDirDatabase(config), lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}

function prepareDataDir(dir: string, notice: Notice): void {
  try {
    mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
    makePrivate(dir, notice);
  } catch (error) {
    throw unusable(dir, error);
  }
}

function unusable(dir: string, error: unknown): ConfigError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new ConfigError(`--data-dir: cannot use ${dir} (${reason}); give a writable directory`);
}

function openDataDirDatabase(config: Config): Db {
  let db: Db;
  try {
    db = openDatabase(join(config.dataDir, DB_FILE));
  } catch (error) {
    throw unusable(config.dataDir, error);
  }
  // Loaded only when a store needs tokens: `keys create` works without the key.
  attachSecretKey(db, () => loadSecretBox(config.secretKey, () => SqliteAccountStore.holdsSealedTokens(db)));
  return db;
}
