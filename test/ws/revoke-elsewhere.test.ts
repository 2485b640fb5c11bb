/**
 * `codexin keys revoke` runs in another process while serve holds sockets open: the
 * change arrives through the database, and the key's sockets still close within about
 * a second (open sockets re-check their keys once a second; data_version says when
 * another connection committed).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let dir: string;
let dbPath: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'codexin-ws-revoke-'));
  dbPath = join(dir, 'codexin.db');
  gw = await startGateway({ dbPath });
});
afterAll(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a revoke committed by another connection closes the socket within about a second', async () => {
  const { record, secret } = gw.keys.create({ name: 'elsewhere' });
  const wsUrl = gw.listen().replace('http', 'ws') + '/v1/responses';
  const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${secret}` } } as unknown as string[]);
  const frames: { type: string; error?: { code: string } }[] = [];
  ws.onmessage = (m) => frames.push(JSON.parse(String(m.data)));
  const closed = new Promise<number>((resolve) => (ws.onclose = () => resolve(performance.now())));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('socket error'));
  });
  const cli = new Database(dbPath);
  cli.query('UPDATE keys SET revoked_at = $now WHERE id = $id').run({ now: Date.now(), id: record.id });
  cli.close();
  const revokedAt = performance.now();
  expect((await closed) - revokedAt).toBeLessThan(1500);
  expect(frames.at(-1)).toMatchObject({ type: 'error', error: { code: 'key_revoked' } });
});
