/**
 * Untrusted bodies never cost more than their limit: no key → 401 before a byte is
 * read; compressed bodies inflate as a stream and stop at CODEXIN_MAX_BODY_BYTES;
 * invalid UTF-8 and absurd nesting are 400s, not crashes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { deflateSync, deflateRawSync } from 'node:zlib';
import { startGateway, type TestGateway } from '../support/gateway';
import { expectError, watchedBody } from './envelope';
import { BodyBudget, bodyBytesInUse } from '../../src/http/body-budget';

const MAX = 256 * 1024;
const MAX_FILE = 256 * 1024;
let gw: TestGateway;
let key: string;
let advancedKey: string;
beforeAll(async () => {
  gw = await startGateway({ env: { CODEXIN_MAX_BODY_BYTES: String(MAX), CODEXIN_MAX_FILE_BYTES: String(MAX_FILE) } });
  key = gw.key();
  advancedKey = gw.key(['advanced']);
});
afterAll(() => gw.stop());

const JSON_ROUTES = ['/v1/responses', '/v1/responses/compact', '/v1/chat/completions', '/v1/images/generations', '/v1/codex/image-generation', '/v1/codex/image-analysis', '/admin/keys'];
const MULTIPART_ROUTES = ['/v1/files', '/v1/audio/transcriptions', '/v1/codex/images'];
const zeros = (n: number) => new Uint8Array(n).fill(0x20);

function post(path: string, body: string | Uint8Array | ReadableStream<Uint8Array>, headers: Record<string, string>) {
  return gw.app.handle(new Request(`http://localhost${path}`, { method: 'POST', body, headers, duplex: 'half' } as RequestInit));
}

describe('no key, no body read', () => {
  for (const path of [...JSON_ROUTES, ...MULTIPART_ROUTES]) {
    test(`POST ${path} without a key is 401 and the body is never pulled`, async () => {
      const watched = watchedBody(zeros(1024));
      const type = MULTIPART_ROUTES.includes(path) ? 'multipart/form-data; boundary=x' : 'application/json';
      await expectError(await post(path, watched.body, { 'content-type': type }), 401, 'missing_api_key');
      expect(watched.pulled()).toBe(false);
    });
  }
  test('an unknown key is 401 invalid_api_key, body unread', async () => {
    const watched = watchedBody(zeros(1024));
    await expectError(await post('/v1/responses', watched.body, { 'content-type': 'application/json', authorization: 'Bearer ci_nope' }), 401, 'invalid_api_key');
    expect(watched.pulled()).toBe(false);
  });
  test('a key without the route scope gets 403 before the upload is read', async () => {
    for (const path of [...MULTIPART_ROUTES, '/v1/images/generations']) {
      const watched = watchedBody(zeros(1024));
      const type = MULTIPART_ROUTES.includes(path) ? 'multipart/form-data; boundary=x' : 'application/json';
      await expectError(await post(path, watched.body, { 'content-type': type, authorization: `Bearer ${key}` }), 403, 'advanced_access_required');
      expect(watched.pulled()).toBe(false);
    }
    const watched = watchedBody(zeros(1024));
    await expectError(await post('/admin/keys', watched.body, { 'content-type': 'application/json', authorization: `Bearer ${key}` }), 403, 'admin_access_required');
    expect(watched.pulled()).toBe(false);
  });
});

describe('bombs in every encoding stop at the cap', () => {
  const json = new TextEncoder().encode(`{"model":"gpt-5.5","input":"${' '.repeat(8 * 1024 * 1024)}"}`);
  const encodings: [string, Uint8Array][] = [
    ['zstd', Bun.zstdCompressSync(json)],
    ['gzip', Bun.gzipSync(json)],
    ['x-gzip', Bun.gzipSync(json)],
    ['deflate', new Uint8Array(deflateSync(json))],
    ['deflate', new Uint8Array(deflateRawSync(json))],
  ];
  for (const [encoding, payload] of encodings) {
    test(`${encoding} (${payload.byteLength} B → 8 MiB) is 413`, async () => {
      expect(payload.byteLength).toBeLessThan(MAX);
      const res = await post('/v1/responses', payload, { 'content-type': 'application/json', 'content-encoding': encoding, authorization: `Bearer ${key}` });
      await expectError(res, 413, 'request_too_large');
    });
  }
  test('a compressed upload is refused before it is inflated (415): no bomb can cost the upload limit', async () => {
    for (const path of MULTIPART_ROUTES) {
      const watched = watchedBody(Bun.gzipSync(zeros(16 * 1024 * 1024)));
      const res = await post(path, watched.body, { 'content-type': 'multipart/form-data; boundary=x', 'content-encoding': 'gzip', authorization: `Bearer ${advancedKey}` });
      await expectError(res, 415, 'unsupported_content_encoding');
      expect(watched.pulled()).toBe(false);
    }
  });
  test('small compressed bodies in every encoding still work', async () => {
    const small = new TextEncoder().encode(JSON.stringify({ model: 'gpt-5.5', input: 'hello there' }));
    for (const [encoding, payload] of [['deflate', deflateSync(small)], ['deflate', deflateRawSync(small)], ['identity', small]] as const) {
      const res = await post('/v1/responses', new Uint8Array(payload), { 'content-type': 'application/json', 'content-encoding': encoding, authorization: `Bearer ${key}` });
      expect(res.status).toBe(200);
    }
  });
  test('truncated compressed data is 400 invalid_encoding', async () => {
    const payload = Bun.gzipSync(new TextEncoder().encode('{"model":"gpt-5.5","input":"hi"}')).slice(0, 15);
    await expectError(await post('/v1/responses', payload, { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${key}` }), 400, 'invalid_encoding');
  });
});

describe('plain bodies', () => {
  test('a streamed body past the cap without content-length is 413', async () => {
    const chunks = Array.from({ length: 40 }, () => zeros(8 * 1024));
    const body = new ReadableStream<Uint8Array>({ pull(c) { const next = chunks.shift(); if (next) c.enqueue(next); else c.close(); } });
    await expectError(await post('/v1/responses', body, { 'content-type': 'application/json', authorization: `Bearer ${key}` }), 413, 'request_too_large');
  });
  test('a lying content-length over the cap is 413 at once', async () => {
    await expectError(await post('/v1/chat/completions', '{}', { 'content-type': 'application/json', 'content-length': String(MAX + 1), authorization: `Bearer ${key}` }), 413, 'request_too_large');
  });
  test('invalid UTF-8 is 400 invalid_json', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"model":"gpt-5.5","input":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    const error = await expectError(await post('/v1/responses', bytes, { 'content-type': 'application/json', authorization: `Bearer ${key}` }), 400, 'invalid_json');
    expect(error.message).toContain('UTF-8');
  });
  for (const depth of [257, 50_000]) {
    test(`JSON nested ${depth} levels is 400`, async () => {
      const body = `{"model":"gpt-5.5","input":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      for (const path of ['/v1/responses', '/v1/chat/completions', '/admin/keys']) {
        const res = await post(path, body, { 'content-type': 'application/json', authorization: `Bearer ${gw.key(['admin'])}` });
        const error = await expectError(res, 400, 'invalid_json');
        expect(error.message).toContain('deeper than 256');
      }
    });
  }
  test('brackets inside strings do not count as nesting', async () => {
    const res = await post('/v1/responses', JSON.stringify({ model: 'gpt-5.5', input: '[{'.repeat(1000) + ' \\" ' }), { 'content-type': 'application/json', authorization: `Bearer ${key}` });
    expect(res.status).toBe(200);
  });
});

describe('the process-wide body budget', () => {
  test('parallel bombs past 256 MiB held at once: the excess gets 503 server_busy, the rest 413, and every byte is given back', async () => {
    const g = await startGateway();
    try {
      const k = g.key();
      const bomb = Bun.zstdCompressSync(new Uint8Array(1024 * 1024 * 1024));
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          g.app.handle(new Request('http://localhost/v1/responses', { method: 'POST', body: bomb, headers: { 'content-type': 'application/json', 'content-encoding': 'zstd', authorization: `Bearer ${k}` } })),
        ),
      );
      const codes: string[] = [];
      for (const res of results) {
        await expectError(res, res.status, res.status === 503 ? 'server_busy' : 'request_too_large');
        if (res.status === 503) expect(res.headers.get('retry-after')).toBe('1');
        codes.push(`${res.status}`);
      }
      expect(codes).toContain('503');
      expect(codes).toContain('413');
      expect(bodyBytesInUse()).toBe(0);
      // Once the bombs are gone, an ordinary request is served again.
      expect((await g.call('/v1/responses', { method: 'POST', key: k, json: { model: 'gpt-5.5', input: 'after the storm' } })).status).toBe(200);
      expect(bodyBytesInUse()).toBe(0);
    } finally {
      await g.stop();
    }
  }, 60_000);
  test('a body larger than the budget is still admitted when it is alone; a second one waits for it', () => {
    const budget = new BodyBudget(100);
    expect(budget.take(60, 0)).toBe(true);
    expect(budget.take(60, 60)).toBe(true); // the same body growing past the budget, alone
    expect(budget.take(10, 0)).toBe(false); // another body while 120 are held
    budget.give(120);
    expect(budget.inUse).toBe(0);
    expect(budget.take(10, 0)).toBe(true);
  });
});
