/**
 * Two token managers on two handles of one database file (what two processes on one
 * data dir amount to) refreshing the same expired token against the simulator's
 * rotating auth server, with network delays that decide who wins. Whatever the
 * order, the auth server rotates once, both sides end up with the winner's tokens,
 * and the account stays active: the loser never marks a valid login needs_login.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createSimulator, type Simulator } from '../../../src/upstream/mock';
import { SqliteAccountStore } from '../../../src/store/accounts';
import { openDatabase, type Db } from '../../../src/store/db';
import { SecretBox } from '../../../src/store/secret-box';
import { TokenManager } from '../../../src/upstream/chatgpt/token-manager';
import { parseAuthJson } from '../../../src/upstream/chatgpt/auth-json';
import { createLogger } from '../../../src/log';
import { makeTempDir, removeTempDirs } from '../../support/binary';

let sim: Simulator;
let simUrl: string;
let stopSim: () => Promise<void>;
const open: Db[] = [];

beforeAll(async () => {
  sim = createSimulator();
  const running = await sim.start();
  simUrl = running.url;
  stopSim = running.stop;
});
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  sim.reset();
});
afterAll(async () => {
  await stopSim();
  removeTempDirs();
});

/** Real fetch to the simulator, with a delay before the request leaves and after its answer arrives. */
function delayedFetch(before: number, after: number): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    await Bun.sleep(before);
    const response = await fetch(input, init);
    const body = await response.text();
    await Bun.sleep(after);
    return new Response(body, { status: response.status, headers: response.headers });
  }) as typeof fetch;
}

function twoProcesses(fetchA: typeof fetch, fetchB: typeof fetch) {
  const file = join(makeTempDir('race'), 'codexin.db');
  const box = new SecretBox(randomBytes(32));
  const logs: string[] = [];
  const side = (fetchImpl: typeof fetch) => {
    const db = openDatabase(file);
    open.push(db);
    const store = new SqliteAccountStore(db, box);
    return { store, tokens: new TokenManager(store, simUrl, createLogger('debug', (l) => logs.push(l)), fetchImpl) };
  };
  const a = side(fetchA);
  const issued = sim.issueAccount({ accessTtlSeconds: 0 });
  const id = a.store.upsert(parseAuthJson(JSON.stringify(issued.authJson))).record.id;
  const b = side(fetchB);
  return { a, b, id, issued, logs, file };
}

test('the loser answers after the winner saved: it adopts the stored tokens', async () => {
  const { a, b, id, issued, logs } = twoProcesses(delayedFetch(0, 0), delayedFetch(150, 0));
  const [fromA, fromB] = await Promise.all([a.tokens.fresh(id), b.tokens.fresh(id)]);
  expect(sim.refreshCount).toBe(1);
  expect(fromA.refreshToken).not.toBe(issued.refreshToken);
  expect(fromB.accessToken).toBe(fromA.accessToken);
  expect(fromB.refreshToken).toBe(fromA.refreshToken);
  for (const store of [a.store, b.store]) {
    const stored = store.reread(id)!;
    expect(stored.status).toBe('active');
    expect(stored.refreshToken).toBe(fromA.refreshToken);
  }
  expect(logs.join('\n')).not.toContain(fromA.refreshToken);
});

test('the loser is rejected before the winner saved: it waits for the save instead of marking needs_login', async () => {
  // A's request reaches the auth server first, but its answer (and so its save) is slow.
  const { a, b, id } = twoProcesses(delayedFetch(0, 400), delayedFetch(60, 0));
  const [fromA, fromB] = await Promise.all([a.tokens.fresh(id), b.tokens.fresh(id)]);
  expect(sim.refreshCount).toBe(1);
  expect(sim.stats.tokenRequests).toBe(2);
  expect(fromB.refreshToken).toBe(fromA.refreshToken);
  const stored = b.store.reread(id)!;
  expect(stored.status).toBe('active');
  expect(stored.statusMessage).toBeNull();
  expect(stored.refreshToken).toBe(fromA.refreshToken);
});

test('a handle whose copy is stale starts from the stored tokens and does not refresh again', async () => {
  const { a, b, id } = twoProcesses(delayedFetch(0, 0), delayedFetch(0, 0));
  const fromA = await a.tokens.fresh(id);
  // B still holds the expired token in memory; the refresh it would start finds A's result first.
  expect(b.store.get(id)!.accessToken).not.toBe(fromA.accessToken);
  const fromB = await b.tokens.fresh(id);
  expect(fromB.accessToken).toBe(fromA.accessToken);
  expect(sim.stats.tokenRequests).toBe(1);
});

test('a rejected refresh token nobody rotated still ends in needs_login with the reason', async () => {
  const { a, id } = twoProcesses(delayedFetch(0, 0), delayedFetch(0, 0));
  const account = a.store.get(id)!;
  a.store.saveTokens(id, { ...account, refreshToken: 'rt_unknown_to_the_auth_server' });
  await expect(a.tokens.fresh(id)).rejects.toThrow(/log in again/);
  expect(a.store.reread(id)!.status).toBe('needs_login');
});

test('a refresh cut off after the auth server rotated (a kill) is named as such, not blamed on another program', async () => {
  // The first process's request is answered by the auth server, but the process dies before reading the answer.
  const killedMidRefresh = (async (input: string | URL | Request, init?: RequestInit) => {
    await fetch(input, init);
    return new Promise<Response>(() => {});
  }) as typeof fetch;
  const { a, b, id } = twoProcesses(killedMidRefresh, delayedFetch(0, 0));
  void a.tokens.fresh(id);
  while (sim.refreshCount === 0) await Bun.sleep(10);
  // The restarted process (another handle) finds the spent token and the refresh that never finished.
  const error = await b.tokens.fresh(id).then(
    () => null,
    (e: Error) => e,
  );
  expect(error?.message).toContain('never completed (CodexIn was stopped or lost the connection during it)');
  const stored = b.store.reread(id)!;
  expect(stored.status).toBe('needs_login');
  expect(stored.statusMessage).toContain('the new token was lost; log in again');
  expect(stored.statusMessage).not.toContain('another program');
});
