/** Where the token-sealing key comes from: the flag, then CODEXIN_SECRET_KEY, then its file twin, then the data dir. */
import { expect, test } from 'bun:test';
import { resolveConfig } from '../src/config';

test('the secret key source follows flag > CODEXIN_SECRET_KEY > CODEXIN_SECRET_KEY_FILE > <data-dir>/secret.key', () => {
  const dir = { 'data-dir': '/srv/codexin' };
  expect(resolveConfig(dir, {}).secretKey).toEqual({ kind: 'file', path: '/srv/codexin/secret.key', generate: true });
  expect(resolveConfig(dir, { CODEXIN_SECRET_KEY_FILE: '/etc/codexin.key' }).secretKey).toEqual({ kind: 'file', path: '/etc/codexin.key', generate: false });
  expect(resolveConfig(dir, { CODEXIN_SECRET_KEY: 'abc', CODEXIN_SECRET_KEY_FILE: '/etc/codexin.key' }).secretKey).toEqual({ kind: 'inline', text: 'abc' });
  expect(resolveConfig({ ...dir, 'secret-key-file': '/run/k' }, { CODEXIN_SECRET_KEY: 'abc' }).secretKey).toEqual({ kind: 'file', path: '/run/k', generate: false });
  expect(resolveConfig({ 'data-dir': ':memory:' }, {}).secretKey).toEqual({ kind: 'ephemeral' });
  expect(() => resolveConfig({ ...dir, 'secret-key-file': '' }, {})).toThrow('--secret-key-file: give the path of a key file');
});
