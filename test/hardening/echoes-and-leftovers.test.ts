/**
 * The small items of issue 12: client values echoed in errors are capped, /v1/me
 * trusts forwarded headers only when told to, Responses-shaped chat bodies fail as
 * 400s, and half-written blobs of a killed process are cleaned at start.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, type TestGateway } from '../support/gateway';
import { makeTempDir, removeTempDirs } from '../support/binary';
import { DiskBlobStore } from '../../src/store/blobs';
import { resolveConfig } from '../../src/config';
import { expectError } from './envelope';

let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  key = gw.key();
});
afterAll(async () => {
  await gw.stop();
  removeTempDirs();
});

describe('echoed client values are capped', () => {
  test('a 10 MB model name comes back as 200 characters and a length', async () => {
    const model = 'm'.repeat(10 * 1024 * 1024);
    const g = await startGateway({ env: { CODEXIN_MAX_BODY_BYTES: String(16 * 1024 * 1024) } });
    try {
      for (const path of ['/v1/responses', '/v1/chat/completions']) {
        const json = path === '/v1/responses' ? { model, input: 'hi' } : { model, messages: [{ role: 'user', content: 'hi' }] };
        const error = await expectError(await g.call(path, { method: 'POST', key: g.key(), json }), 404, 'model_not_found', 'model');
        expect(error.message.length).toBeLessThan(400);
        expect(error.message).toContain(`(${model.length} characters)`);
      }
    } finally {
      await g.stop();
    }
  });
  test('a long unknown path is capped in the 404', async () => {
    const error = await expectError(await gw.call(`/${'p'.repeat(5000)}`), 404, 'unknown_url');
    expect(error.message.length).toBeLessThan(400);
  });
});

describe('Responses-shaped chat bodies', () => {
  for (const input of [0, -1, 1e308, 1.5, true, {}, { a: { b: 1 } }, [null], [1, 'x'], ['text']]) {
    test(`input ${JSON.stringify(input)} without messages is a 400 that says to use messages`, async () => {
      const error = await expectError(await gw.call('/v1/chat/completions', { method: 'POST', key, json: { model: 'gpt-5.5', input } }), 400, 'invalid_request', 'messages');
      expect(error.message).toContain("'messages'");
    });
  }
  test('a real Responses-shaped body is still served as chat (Cursor)', async () => {
    const res = await gw.call('/v1/chat/completions', { method: 'POST', key, json: { model: 'gpt-5.5', input: [{ role: 'user', content: 'hi' }] } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe('chat.completion');
  });
  test('neither messages nor input is 400 missing messages', async () => {
    await expectError(await gw.call('/v1/chat/completions', { method: 'POST', key, json: { model: 'gpt-5.5' } }), 400, 'invalid_request', 'messages');
  });
});

describe('/v1/me base URL', () => {
  const me = async (g: TestGateway, headers: Record<string, string>) =>
    ((await (await g.call('/v1/me', { key: g.key(), headers })).json()) as { client_config: { base_url: string } }).client_config.base_url;
  test('X-Forwarded-Host and -Proto are ignored by default', async () => {
    expect(await me(gw, { host: 'codexin.example:8787', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' })).toBe('http://codexin.example:8787/v1');
  });
  test('with CODEXIN_TRUST_PROXY they win (first value of a list), and junk never reaches the pasted config', async () => {
    const g = await startGateway({ env: { CODEXIN_TRUST_PROXY: 'true' } });
    try {
      expect(await me(g, { host: 'internal:8787', 'x-forwarded-host': 'api.example, proxy.local', 'x-forwarded-proto': 'https' })).toBe('https://api.example/v1');
      expect(await me(g, { host: 'internal:8787', 'x-forwarded-host': 'evil" x = 1', 'x-forwarded-proto': 'javascript' })).toBe('http://internal:8787/v1');
    } finally {
      await g.stop();
    }
  });
  test('the flag and env twin parse true/false and refuse anything else', () => {
    expect(resolveConfig({}, {}).trustProxy).toBe(false);
    expect(resolveConfig({ 'trust-proxy': 'yes' }, {}).trustProxy).toBe(true);
    expect(resolveConfig({ 'trust-proxy': 'false' }, { CODEXIN_TRUST_PROXY: '1' }).trustProxy).toBe(false);
    expect(() => resolveConfig({}, { CODEXIN_TRUST_PROXY: 'maybe' })).toThrow('--trust-proxy: "maybe" is not true or false');
  });
});

describe('blob store start-up', () => {
  test('orphan .tmp blobs of dead processes are removed; a live writer and real blobs are kept', async () => {
    const dir = join(makeTempDir('blobs'), 'files');
    mkdirSync(dir, { recursive: true });
    const sha = 'a'.repeat(64);
    const dead = Bun.spawnSync(['true']).pid;
    writeFileSync(join(dir, `${sha}.${dead}.1700000000000.tmp`), 'half');
    writeFileSync(join(dir, `${sha}.${process.pid}.1700000000001.tmp`), 'in progress');
    const store = new DiskBlobStore(dir);
    const kept = store.put(new TextEncoder().encode('a real blob'));
    expect(readdirSync(dir).sort()).toEqual([`${sha}.${process.pid}.1700000000001.tmp`, kept].sort());
    expect(existsSync(join(dir, kept))).toBe(true);
    new DiskBlobStore(dir);
    expect(readdirSync(dir)).toContain(kept);
  });
});
