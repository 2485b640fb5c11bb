/**
 * Identifiers in the shapes the real APIs use, so code that sniffs prefixes
 * (`resp_`, `msg_`, `fc_`, `call_`...) sees what production sends.
 */
import { randomBytes } from 'node:crypto';

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(25).toString('hex')}`;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function alnum(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[Math.floor(Math.random() * ALNUM.length)];
  return out;
}

export function newCallId(): string {
  return `call_${alnum(24)}`;
}

/** Fernet-looking opaque blob, like the backend's encrypted reasoning and compaction payloads. */
export function opaqueBlob(): string {
  return `gAAAAAB${randomBytes(96).toString('base64url')}`;
}

/**
 * The backend pads each delta with random `obfuscation` so its length does not
 * leak the token; clients must ignore the field, so we send it too.
 */
export function obfuscation(delta: string): string {
  return alnum(Math.max(1, 16 - delta.length));
}
