/**
 * Upgrading from a CodexIn that stored tokens in plaintext (and a 0644 database):
 * the first `serve` seals them with a new key, the account keeps working (a refresh
 * included), and afterwards no old or new token is readable in the database files.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { Database } from 'bun:sqlite';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import { MIGRATIONS } from '../../src/store/migrations';
import { SqliteAccountStore } from '../../src/store/accounts';
import { openDatabase } from '../../src/store/db';
import { parseSecretKey, SecretBox } from '../../src/store/secret-box';
import { makeTempDir, removeTempDirs, runCli, startServer, stopAllServers } from '../support/binary';

let sim: Simulator;
let simUrl: string;
let stopSim: () => Promise<void>;

beforeAll(async () => {
  sim = createSimulator();
  const running = await sim.start();
  simUrl = running.url;
  stopSim = running.stop;
});
afterAll(async () => {
  await stopAllServers();
  await stopSim();
  removeTempDirs();
});

const rawBytes = (file: string) => ['', '-wal', '-shm'].map((s) => (existsSync(file + s) ? readFileSync(file + s).toString('latin1') : '')).join('');

/** A database as the previous version wrote it: schema 1-4, plaintext token columns, default file mode, no secure_delete. */
function writeLegacyDatabase(file: string, removed: { access: string; refresh: string; id: string }, live: { access: string; refresh: string; id: string }, accountId: string): void {
  const db = new Database(file, { create: true, strict: true });
  db.exec('PRAGMA journal_mode = WAL');
  for (let v = 0; v < 4; v++) MIGRATIONS[v]!(db);
  db.exec('PRAGMA user_version = 4');
  const insert = db.query(
    `INSERT INTO accounts (id, label, chatgpt_account_id, email, plan, access_token, refresh_token, id_token, access_expires_at, status, created_at)
     VALUES ($id, $id, $cid, 'old@example.com', 'plus', $at, $rt, $it, $exp, 'active', 1)`,
  );
  insert.run({ id: 'acct_removed', cid: 'removed-account', at: removed.access, rt: removed.refresh, it: removed.id, exp: null });
  insert.run({ id: 'acct_legacy', cid: accountId, at: live.access, rt: live.refresh, it: live.id, exp: Date.now() - 1000 });
  // An account removed with the old version: its tokens stay behind in the page's free space.
  db.query(`DELETE FROM accounts WHERE id = 'acct_removed'`).run();
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  chmodSync(file, 0o644);
}

test('plaintext tokens of the previous version are sealed on the first start and keep working', async () => {
  const dataDir = makeTempDir('legacy');
  const file = join(dataDir, 'codexin.db');
  const issued = sim.issueAccount({ accessTtlSeconds: 0 });
  const decoy = { access: `eyJ.decoy-access-${crypto.randomUUID()}`, refresh: `rt_decoy_${crypto.randomUUID()}`, id: `eyJ.decoy-id-${crypto.randomUUID()}` };
  const live = { access: issued.accessToken, refresh: issued.refreshToken, id: issued.idToken };
  writeLegacyDatabase(file, decoy, live, issued.accountId);
  expect(rawBytes(file).includes(decoy.refresh)).toBe(true);
  expect(rawBytes(file).includes(live.refresh)).toBe(true);

  const server = await startServer({ dataDir, args: ['--upstream-url', `${simUrl}/backend-api`, '--auth-url', simUrl] });
  const key = (JSON.parse((await runCli(['keys', 'create', '--name', 'u', '--json', '--data-dir', dataDir])).stdout) as { key: string }).key;
  const res = await fetch(`${server.url}/v1/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5.5', input: 'still logged in?' }),
  });
  expect(res.status).toBe(200);
  expect(sim.refreshCount).toBe(1);
  await server.stop();

  expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
  const box = new SecretBox(parseSecretKey(readFileSync(join(dataDir, 'secret.key'), 'utf8'), 'secret.key'));
  const db = openDatabase(file);
  const now = new SqliteAccountStore(db, box).get('acct_legacy')!;
  db.close();
  expect(now.refreshToken).not.toBe(live.refresh);
  const bytes = rawBytes(file);
  for (const token of [decoy.access, decoy.refresh, decoy.id, live.access, live.refresh, live.id, now.accessToken, now.refreshToken, now.idToken]) {
    if (bytes.includes(token)) throw new Error(`token ${token.slice(0, 12)}… is readable in the database files`);
  }
});
