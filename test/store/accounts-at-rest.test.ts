/**
 * The account store on a real database file: tokens sealed at rest, plaintext rows of
 * an older version sealed on open, a wrong key refused without writing, and the
 * in-memory list kept current by the store's own writes and by other connections.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteAccountStore, type ImportAccountInput } from '../../src/store/accounts';
import { closeDatabase, openDatabase } from '../../src/store/db';
import { SecretBox, SecretKeyError } from '../../src/store/secret-box';
import { makeTempDir, removeTempDirs } from '../support/binary';

afterAll(removeTempDirs);

const account = (n: number): ImportAccountInput => ({
  chatgptAccountId: `acc-${n}`,
  email: `u${n}@example.com`,
  plan: 'plus',
  accessToken: `eyJ.access-${n}-${randomBytes(16).toString('hex')}`,
  refreshToken: `rt_${n}_${randomBytes(16).toString('hex')}`,
  idToken: `eyJ.id-${n}-${randomBytes(16).toString('hex')}`,
  accessExpiresAt: Date.now() + 3_600_000,
});

/** Every byte SQLite keeps for this database: the file, its WAL and shared memory. */
function rawBytes(file: string): string {
  return ['', '-wal', '-shm'].map((s) => (existsSync(file + s) ? readFileSync(file + s).toString('latin1') : '')).join('');
}

describe('tokens at rest', () => {
  test('imported and rotated tokens are stored sealed: no token text in the database or its WAL', () => {
    const file = join(makeTempDir('at-rest'), 'codexin.db');
    const box = new SecretBox(randomBytes(32));
    const db = openDatabase(file);
    const store = new SqliteAccountStore(db, box);
    const input = account(1);
    const { record } = store.upsert(input);
    const rotated = { ...account(1), accessExpiresAt: Date.now() + 7_200_000 };
    expect(store.saveRefreshedTokens(record.id, input.refreshToken, rotated).saved).toBe(true);
    expect(store.get(record.id)!.refreshToken).toBe(rotated.refreshToken);
    const bytes = rawBytes(file);
    for (const token of [input.accessToken, input.refreshToken, input.idToken, rotated.accessToken, rotated.refreshToken, rotated.idToken]) {
      expect(bytes.includes(token)).toBe(false);
    }
    expect(bytes.includes('enc:v1:')).toBe(true);
    closeDatabase(db);
    // A second handle with the same key reads them back.
    const again = openDatabase(file);
    expect(new SqliteAccountStore(again, box).get(record.id)!.refreshToken).toBe(rotated.refreshToken);
    again.close();
  });

  test('plaintext rows from the previous version are sealed on open, old copies included', () => {
    const file = join(makeTempDir('legacy'), 'codexin.db');
    // The previous version: tokens in plaintext columns, and a removed account's tokens left in freed space.
    const legacy = openDatabase(file);
    legacy.exec('PRAGMA secure_delete = OFF');
    const first = account(6);
    const second = account(7);
    const insert = legacy.query(`INSERT INTO accounts (id, label, chatgpt_account_id, access_token, refresh_token, id_token, status, created_at) VALUES (?, 'old', ?, ?, ?, ?, 'active', 1)`);
    insert.run('acct_removed', 'acc-6', first.accessToken, first.refreshToken, first.idToken);
    insert.run('acct_old', 'acc-7', second.accessToken, second.refreshToken, second.idToken);
    legacy.query(`DELETE FROM accounts WHERE id = 'acct_removed'`).run();
    closeDatabase(legacy);
    expect(rawBytes(file).includes(second.refreshToken)).toBe(true);
    expect(rawBytes(file).includes(first.refreshToken)).toBe(true);

    const box = new SecretBox(randomBytes(32));
    const db = openDatabase(file);
    const store = new SqliteAccountStore(db, box);
    expect(store.get('acct_old')!.refreshToken).toBe(second.refreshToken);
    closeDatabase(db);
    const bytes = rawBytes(file);
    for (const token of [first.accessToken, first.refreshToken, first.idToken, second.accessToken, second.refreshToken, second.idToken]) {
      expect(bytes.includes(token)).toBe(false);
    }
    const reopened = openDatabase(file);
    expect(new SqliteAccountStore(reopened, box).get('acct_old')!.accessToken).toBe(second.accessToken);
    reopened.close();
  });

  test('a wrong key reads nothing and writes nothing; removing the account still works', () => {
    const file = join(makeTempDir('wrong-key'), 'codexin.db');
    const db = openDatabase(file);
    const right = new SecretBox(randomBytes(32));
    const { record } = new SqliteAccountStore(db, right).upsert(account(2));
    // A plaintext row beside it must not be sealed with the wrong key either.
    const plain = account(3);
    db.query(`INSERT INTO accounts (id, label, chatgpt_account_id, access_token, refresh_token, id_token, status, created_at) VALUES ('acct_plain', 'p', 'acc-3', ?, ?, ?, 'active', 2)`).run(plain.accessToken, plain.refreshToken, plain.idToken);
    const before = db.query('SELECT id, access_token, refresh_token, id_token FROM accounts ORDER BY id').all();

    const wrong = new SqliteAccountStore(db, new SecretBox(randomBytes(32)));
    expect(() => wrong.assertReadable()).toThrow(SecretKeyError);
    expect(() => wrong.list()).toThrow(/secret key does not open/);
    expect(() => wrong.upsert(account(4))).toThrow(SecretKeyError);
    expect(db.query('SELECT id, access_token, refresh_token, id_token FROM accounts ORDER BY id').all()).toEqual(before);

    expect(wrong.remove(record.id)).toBe(true);
    expect(wrong.remove('acct_plain')).toBe(true);
    wrong.assertReadable();
    expect(wrong.list()).toEqual([]);
    closeDatabase(db);
  });
});

describe('the in-memory account list', () => {
  test('reflects every write of the store without reading the database', () => {
    const db = openDatabase(':memory:');
    const store = new SqliteAccountStore(db);
    const { record } = store.upsert(account(1));
    store.setCooldown(record.id, 123);
    store.markUsed(record.id, 456);
    store.saveQuota(record.id, { 'x-codex-primary-used-percent': '5' });
    store.setStatus(record.id, 'disabled', 'off');
    // Rows changed behind the store's back (same connection) are not re-read per call: memory is the source.
    db.query(`UPDATE accounts SET label = 'changed behind its back'`).run();
    const [listed] = store.list();
    expect(listed).toMatchObject({ id: record.id, cooldownUntil: 123, lastUsedAt: 456, quota: { 'x-codex-primary-used-percent': '5' }, status: 'disabled', statusMessage: 'off', label: 'u1@example.com' });
    expect(store.get(record.id)).toEqual(listed!);
    store.remove(record.id);
    expect(store.list()).toEqual([]);
    expect(store.get(record.id)).toBeNull();
  });

  test('picks up accounts another connection (a CLI command) imported or removed', () => {
    const file = join(makeTempDir('sync'), 'codexin.db');
    const box = new SecretBox(randomBytes(32));
    const serverDb = openDatabase(file);
    const server = new SqliteAccountStore(serverDb, box);
    expect(server.syncExternalChanges()).toBe(false);

    const cliDb = openDatabase(file);
    const imported = new SqliteAccountStore(cliDb, box).upsert(account(5)).record;
    expect(server.list()).toEqual([]);
    expect(server.syncExternalChanges()).toBe(true);
    expect(server.list().map((a) => a.refreshToken)).toEqual([imported.refreshToken]);
    expect(server.syncExternalChanges()).toBe(false);

    new SqliteAccountStore(cliDb, box).remove(imported.id);
    server.syncExternalChanges();
    expect(server.list()).toEqual([]);
    cliDb.close();
    serverDb.close();
  });

  test('a change sealed with another key is reported, and the accounts already loaded keep serving', () => {
    const file = join(makeTempDir('sync-other-key'), 'codexin.db');
    const box = new SecretBox(randomBytes(32));
    const serverDb = openDatabase(file);
    const server = new SqliteAccountStore(serverDb, box);
    const mine = server.upsert(account(8)).record;
    const cliDb = openDatabase(file);
    // A CLI command run with another key (it refuses rows it cannot open, so the table is emptied first).
    cliDb.query('DELETE FROM accounts').run();
    new SqliteAccountStore(cliDb, new SecretBox(randomBytes(32))).upsert(account(9));
    expect(() => server.syncExternalChanges()).toThrow(SecretKeyError);
    expect(server.list().map((a) => a.id)).toEqual([mine.id]);
    expect(server.get(mine.id)!.refreshToken).toBe(mine.refreshToken);
    // Reported once per change, not on every look.
    expect(server.syncExternalChanges()).toBe(false);
    cliDb.close();
    serverDb.close();
  });

});
