/** --database-url and --redis-url: checked at start, never echoed (they carry passwords), and what they change. */
import { expect, test } from 'bun:test';
import { ConfigError, resolveConfig } from '../src/config';
import { loadSecretBox } from '../src/store/secret-key';
import { SecretKeyError } from '../src/store/secret-box';

const dir = { 'data-dir': '/srv/codexin' };

test('the URLs come from the flag or the env twin; without them the single binary is unchanged', () => {
  expect(resolveConfig(dir, {})).toMatchObject({ databaseUrl: null, redisUrl: null });
  const url = 'postgres://codexin:pw@db:5432/codexin';
  expect(resolveConfig(dir, { CODEXIN_DATABASE_URL: url, CODEXIN_REDIS_URL: 'redis://cache:6379' })).toMatchObject({ databaseUrl: url, redisUrl: 'redis://cache:6379' });
  expect(resolveConfig({ ...dir, 'database-url': 'postgresql://h/db' }, { CODEXIN_DATABASE_URL: url }).databaseUrl).toBe('postgresql://h/db');
});

test('Redis without a database is refused: it only coordinates instances that share one', () => {
  expect(() => resolveConfig({ ...dir, 'redis-url': 'redis://cache:6379' }, {})).toThrow(/--redis-url needs --database-url/);
});

test('a wrong scheme or a non-URL is refused without echoing the value', () => {
  for (const [flags, message] of [
    [{ 'database-url': 'mysql://u:hunter2@h/db' }, /--database-url: expected a postgres:\/\/ or postgresql:\/\/ URL/],
    [{ 'database-url': 'hunter2' }, /--database-url: not a URL/],
    [{ 'database-url': 'postgres://h/db', 'redis-url': 'http://u:hunter2@cache' }, /--redis-url: expected a redis:\/\/ or rediss:\/\/ URL/],
  ] as const) {
    let caught: unknown;
    try {
      resolveConfig({ ...dir, ...flags }, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain('hunter2');
  }
});

test('with a shared database the data dir key file is used but never generated: every instance must bring the same key', () => {
  const source = resolveConfig({ ...dir, 'database-url': 'postgres://h/db' }, {}).secretKey;
  expect(source).toMatchObject({ kind: 'file', path: '/srv/codexin/secret.key', generate: false, shared: true });
  expect(() => loadSecretBox(source, () => false)).toThrow(SecretKeyError);
  expect(() => loadSecretBox(source, () => false)).toThrow(/CODEXIN_SECRET_KEY/);
  expect(resolveConfig({ ...dir, 'database-url': 'postgres://h/db' }, { CODEXIN_SECRET_KEY: 'k' }).secretKey).toEqual({ kind: 'inline', text: 'k' });
});
