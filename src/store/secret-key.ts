/**
 * Where the token-sealing key comes from (DESIGN.md §3): CODEXIN_SECRET_KEY (the key
 * itself), --secret-key-file, else `<data-dir>/secret.key`, generated 0600 on first
 * use. A key is generated only when no sealed token exists yet: a missing key file
 * beside sealed tokens is an error, never a fresh key that would orphan them.
 */
import { chmodSync, existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { SecretKeySource } from '../config';
import type { Db } from './db';
import { generateSecretKeyText, parseSecretKey, SecretBox, SecretKeyError } from './secret-box';

const KEY_FILE_MODE = 0o600;

function readKeyFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SecretKeyError(`cannot read the secret key file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * Writes a new key file without a window where another process could read a half
 * written key: the key goes to a private temp file, then link() publishes it only if
 * no key file exists yet. The loser of a race reads the winner's key.
 */
function createKeyFile(path: string): string {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, generateSecretKeyText(), { mode: KEY_FILE_MODE, flag: 'wx' });
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
  return readFileSync(path, 'utf8');
}

/** The box for `source`; `sealedSecretsExist` says whether the store already holds sealed values. */
export function loadSecretBox(source: SecretKeySource, sealedSecretsExist: () => boolean): SecretBox {
  if (source.kind === 'ephemeral') return new SecretBox(randomBytes(32));
  if (source.kind === 'inline') return new SecretBox(parseSecretKey(source.text, 'CODEXIN_SECRET_KEY'));
  let text = readKeyFile(source.path);
  if (text === null) {
    if (source.shared) {
      throw new SecretKeyError(
        `with --database-url every instance must seal tokens with the same key, and ${source.path} does not exist: set CODEXIN_SECRET_KEY (make one with "openssl rand -base64 32") or --secret-key-file on every instance`,
      );
    }
    if (!source.generate) throw new SecretKeyError(`--secret-key-file: ${source.path} does not exist`);
    if (sealedSecretsExist()) {
      throw new SecretKeyError(
        `the secret key ${source.path} is missing but the database holds tokens sealed with it: restore it from your backup (or set CODEXIN_SECRET_KEY); without it, remove the accounts and log in again`,
      );
    }
    try {
      text = createKeyFile(source.path);
    } catch (error) {
      throw new SecretKeyError(`cannot create the secret key file ${source.path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  // Our own key file is kept private even if it was copied in with looser permissions.
  if (source.generate) chmodSync(source.path, KEY_FILE_MODE);
  return new SecretBox(parseSecretKey(text, source.path));
}

export function keyFileExists(source: SecretKeySource): boolean {
  return source.kind === 'file' && existsSync(source.path);
}

type BoxResolver = () => SecretBox;
const resolvers = new WeakMap<Db, BoxResolver>();

/**
 * Associates a database handle with the way to get its key, so every store opened on
 * it (in serve or in a CLI command) seals with the same key without each caller
 * passing it. The key is loaded at most once, and only by a store that needs it.
 */
export function attachSecretKey(db: Db, resolve: BoxResolver): void {
  let box: SecretBox | null = null;
  resolvers.set(db, () => (box ??= resolve()));
}

/** The key attached to `db`; an in-memory database without one gets a random key for its lifetime. */
export function secretBoxFor(db: Db): BoxResolver {
  const attached = resolvers.get(db);
  if (attached) return attached;
  if (db.filename === ':memory:' || db.filename === '') {
    attachSecretKey(db, () => loadSecretBox({ kind: 'ephemeral' }, () => false));
    return resolvers.get(db)!;
  }
  throw new Error(`no secret key attached to ${db.filename}: open it with openDataDir() or pass a SecretBox`);
}
