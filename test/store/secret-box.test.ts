/** The token sealer: AES-256-GCM bound to where a value is stored. */
import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { isSealed, parseSecretKey, SecretBox, SecretKeyError } from '../../src/store/secret-box';

const box = new SecretBox(randomBytes(32));

describe('SecretBox', () => {
  test('a sealed value opens to the original and does not contain it', () => {
    const token = 'rt_' + 'x'.repeat(40);
    const sealed = box.seal(token, 'account:a:refresh_token');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain(token);
    expect(sealed).not.toContain(Buffer.from(token).toString('base64url').slice(0, 20));
    expect(box.open(sealed, 'account:a:refresh_token')).toBe(token);
    // A fresh IV each time: sealing twice gives two different texts.
    expect(box.seal(token, 'account:a:refresh_token')).not.toBe(sealed);
  });

  test('another key, another row or a flipped byte does not open', () => {
    const sealed = box.seal('secret', 'account:a:access_token');
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'account:a:access_token')).toThrow(SecretKeyError);
    expect(() => box.open(sealed, 'account:b:access_token')).toThrow(SecretKeyError);
    const raw = Buffer.from(sealed.slice('enc:v1:'.length), 'base64url');
    raw[14]! ^= 1;
    expect(() => box.open('enc:v1:' + raw.toString('base64url'), 'account:a:access_token')).toThrow(SecretKeyError);
    expect(() => box.open('enc:v1:abc', 'account:a:access_token')).toThrow(SecretKeyError);
  });

  test('keys are accepted as base64, base64url or hex of 32 bytes, and nothing else', () => {
    const key = randomBytes(32);
    expect(parseSecretKey(key.toString('base64') + '\n', 'f')).toEqual(key);
    expect(parseSecretKey(key.toString('base64url'), 'f')).toEqual(key);
    expect(parseSecretKey(key.toString('hex'), 'f')).toEqual(key);
    expect(() => parseSecretKey(randomBytes(16).toString('base64'), 'CODEXIN_SECRET_KEY')).toThrow(/CODEXIN_SECRET_KEY: expected a 32-byte key/);
    expect(() => parseSecretKey('correct horse battery staple', 'f')).toThrow(SecretKeyError);
  });

  test('the fingerprint tells keys apart without revealing them', () => {
    const key = randomBytes(32);
    expect(new SecretBox(key).fingerprint).toBe(new SecretBox(Buffer.from(key)).fingerprint);
    expect(new SecretBox(key).fingerprint).not.toBe(box.fingerprint);
    expect(key.toString('hex')).not.toContain(new SecretBox(key).fingerprint);
  });
});
