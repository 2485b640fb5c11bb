/**
 * Seals secrets (OAuth tokens) for storage with AES-256-GCM from node:crypto, under a
 * key that lives outside the database. A sealed value is text — `enc:v1:` + base64url
 * of IV ‖ ciphertext ‖ tag — so it fits the existing TEXT columns, and the prefix tells
 * a sealed value from a plaintext one left by an older CodexIn. Each value is bound to
 * where it is stored (the caller's `context`, e.g. account id + column): a ciphertext
 * copied into another row or column does not open. Store-agnostic on purpose, so a
 * PostgreSQL store can reuse it.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../config';

const PREFIX = 'enc:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The secret key is missing, malformed, or not the one the stored tokens were sealed with: exit 2. */
export class SecretKeyError extends ConfigError {
  override name = 'SecretKeyError';
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** Parses a key given as text: 32 bytes in base64, base64url or hex (what `openssl rand -base64 32` prints). */
export function parseSecretKey(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : Buffer.alloc(0);
  if (bytes.length !== KEY_BYTES) {
    throw new SecretKeyError(`${origin}: expected a ${KEY_BYTES}-byte key in base64 or hex (make one with "openssl rand -base64 32")`);
  }
  return bytes;
}

/** A new random key, as the text written to a key file. */
export function generateSecretKeyText(): string {
  return randomBytes(KEY_BYTES).toString('base64') + '\n';
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new SecretKeyError(`secret key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.key = Buffer.from(key);
  }

  /** A short, non-secret name of the key (for `doctor`), so two keys can be told apart without showing either. */
  get fingerprint(): string {
    return createHash('sha256').update('codexin secret key fingerprint\0').update(this.key).digest('hex').slice(0, 16);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** Opens a sealed value; a wrong key, a tampered value or a wrong context is a SecretKeyError. */
  open(sealed: string, context: string): string {
    if (!isSealed(sealed)) throw new SecretKeyError(`${context}: the stored value is not sealed`);
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretKeyError(`${context}: the stored value is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError('the secret key does not open the stored tokens (wrong key?)');
    }
  }
}
