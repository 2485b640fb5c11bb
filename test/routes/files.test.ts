/**
 * /v1/files: upload, list (purpose, order, cursor paging), retrieve, content,
 * delete; advanced-only; owner isolation (404, not 403); the size limit; bad input.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { form } from '../support/media';
import { mockPng } from '../../src/upstream/mock';
import { expectError, type Json } from './assets-helpers';

let gw: TestGateway;
let alice: string;
let bob: string;
let basic: string;

beforeAll(async () => {
  gw = await startGateway();
  alice = gw.key(['advanced']);
  bob = gw.key(['advanced']);
  basic = gw.key();
});
afterAll(() => gw.stop());

function upload(key: string, bytes: Uint8Array | string, filename: string, purpose = 'user_data', type?: string, extra: Record<string, string> = {}): Promise<Response> {
  return gw.call('/v1/files', { method: 'POST', key, body: form({ file: { bytes, filename, type }, purpose, ...extra }) });
}

async function uploaded(key: string, bytes: Uint8Array | string, filename: string, purpose = 'user_data', type?: string): Promise<Json> {
  const res = await upload(key, bytes, filename, purpose, type);
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

describe('POST /v1/files', () => {
  test('returns an OpenAI FileObject and keeps the bytes', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await upload(alice, 'hello, files\n', 'notes.txt', 'user_data', 'text/plain');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const file = (await res.json()) as Json;
    expect(file).toEqual({
      id: expect.stringMatching(/^file-[A-Za-z0-9_-]{24}$/),
      object: 'file',
      bytes: 13,
      created_at: expect.any(Number),
      filename: 'notes.txt',
      purpose: 'user_data',
      status: 'processed',
      expires_at: null,
      status_details: null,
    });
    expect(file.created_at).toBeGreaterThanOrEqual(before);
    const content = await gw.call(`/v1/files/${file.id}/content`, { key: alice });
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toBe('text/plain');
    expect(content.headers.get('content-disposition')).toContain('filename="notes.txt"');
    expect(await content.text()).toBe('hello, files\n');
  });

  test('content type: declared, else from the extension, else sniffed from the bytes', async () => {
    const png = await uploaded(alice, mockPng(), 'blob', 'vision');
    const byExt = await uploaded(alice, '{"a":1}', 'data.json');
    const unknown = await uploaded(alice, new Uint8Array([1, 2, 3]), 'mystery');
    const types = await Promise.all([png, byExt, unknown].map(async (f) => (await gw.call(`/v1/files/${f.id}/content`, { key: alice })).headers.get('content-type')));
    expect(types[0]).toBe('image/png');
    expect(types[1]).toContain('application/json');
    expect(types[2]).toBe('application/octet-stream');
    const bytes = new Uint8Array(await (await gw.call(`/v1/files/${png.id}/content`, { key: alice })).arrayBuffer());
    expect(bytes).toEqual(new Uint8Array(mockPng()));
  });

  test('expires_after sets expires_at; a bad expiry is a 400', async () => {
    const res = await upload(alice, 'x', 'short.txt', 'user_data', 'text/plain', { 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '3600' });
    const file = (await res.json()) as Json;
    expect(file.expires_at - file.created_at).toBeGreaterThanOrEqual(3599);
    expect(file.expires_at - file.created_at).toBeLessThanOrEqual(3601);
    await expectError(await upload(alice, 'x', 'a.txt', 'user_data', undefined, { 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '10' }), 400, 'invalid_expires_after', 'expires_after[seconds]');
    await expectError(await upload(alice, 'x', 'a.txt', 'user_data', undefined, { 'expires_after[anchor]': 'last_used', 'expires_after[seconds]': '3600' }), 400, 'invalid_expires_after', 'expires_after[anchor]');
  });

  test('missing file part → 400 param file; a text field named file → 400', async () => {
    await expectError(await gw.call('/v1/files', { method: 'POST', key: alice, body: form({ purpose: 'user_data' }) }), 400, 'missing_required_parameter', 'file');
    await expectError(await gw.call('/v1/files', { method: 'POST', key: alice, body: form({ file: 'just text', purpose: 'user_data' }) }), 400, 'invalid_file', 'file');
  });

  test('unknown or missing purpose → 400 param purpose; empty file → 400', async () => {
    await expectError(await upload(alice, 'x', 'a.txt', 'not-a-purpose'), 400, 'invalid_purpose', 'purpose');
    await expectError(await gw.call('/v1/files', { method: 'POST', key: alice, body: form({ file: { bytes: 'x', filename: 'a.txt' } }) }), 400, 'invalid_request', 'purpose');
    await expectError(await upload(alice, '', 'empty.txt'), 400, 'empty_file', 'file');
  });

  test('a JSON body → 415; a broken multipart body → 400', async () => {
    await expectError(await gw.call('/v1/files', { method: 'POST', key: alice, json: { purpose: 'user_data' } }), 415, 'unsupported_media_type');
    const broken = await gw.call('/v1/files', { method: 'POST', key: alice, headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: 'not multipart at all' });
    await expectError(broken, 400, 'invalid_multipart');
  });

  test('no key → 401; a key without advanced access → 403 advanced_access_required, even before the body is checked', async () => {
    await expectError(await upload('', 'x', 'a.txt'), 401, 'missing_api_key', null, 'authentication_error');
    await expectError(await upload(basic, 'x', 'a.txt'), 403, 'advanced_access_required', null, 'permission_error');
    await expectError(await gw.call('/v1/files', { method: 'POST', key: basic, body: form({ purpose: 'user_data' }) }), 403, 'advanced_access_required', null, 'permission_error');
    for (const path of ['/v1/files', '/v1/files/file-x', '/v1/files/file-x/content']) {
      await expectError(await gw.call(path, { key: basic }), 403, 'advanced_access_required', null, 'permission_error');
    }
    await expectError(await gw.call('/v1/files/file-x', { method: 'DELETE', key: basic }), 403, 'advanced_access_required', null, 'permission_error');
  });
});

describe('the size limit (CODEXIN_MAX_FILE_BYTES)', () => {
  let small: TestGateway;
  let key: string;
  beforeAll(async () => {
    small = await startGateway({ env: { CODEXIN_MAX_FILE_BYTES: '1000' } });
    key = small.key(['advanced']);
  });
  afterAll(() => small.stop());

  test('exactly at the limit is fine; one byte over → 413 file_too_large', async () => {
    const ok = await small.call('/v1/files', { method: 'POST', key, body: form({ file: { bytes: new Uint8Array(1000), filename: 'a.bin' }, purpose: 'batch' }) });
    expect(ok.status).toBe(200);
    const over = await small.call('/v1/files', { method: 'POST', key, body: form({ file: { bytes: new Uint8Array(1001), filename: 'a.bin' }, purpose: 'batch' }) });
    const error = await expectError(over, 413, 'file_too_large', 'file');
    expect(error.message).toContain('1000 bytes');
  });

  test('a body far past the limit is refused before it is read (413 request_too_large)', async () => {
    const big = await small.call('/v1/files', { method: 'POST', key, body: form({ file: { bytes: new Uint8Array(3 * 1024 * 1024), filename: 'big.bin' }, purpose: 'batch' }) });
    await expectError(big, 413, 'request_too_large');
    const listed = (await (await small.call('/v1/files', { key })).json()) as Json;
    expect(listed.data.map((f: Json) => f.bytes)).toEqual([1000]);
  });
});

describe('list, retrieve, delete', () => {
  let carol: string;
  let ids: string[];
  beforeAll(async () => {
    carol = gw.key(['advanced']);
    ids = [];
    for (const [i, purpose] of ['user_data', 'vision', 'user_data'].entries()) ids.push((await uploaded(carol, `file ${i}`, `f${i}.txt`, purpose)).id);
  });

  test('newest first by default, with first_id/last_id and has_more', async () => {
    const page = (await (await gw.call('/v1/files', { key: carol })).json()) as Json;
    expect(page.object).toBe('list');
    expect(page.data.map((f: Json) => f.id)).toEqual([...ids].reverse());
    expect(page.has_more).toBe(false);
    expect(page.first_id).toBe(ids[2]);
    expect(page.last_id).toBe(ids[0]);
  });

  test('pages with limit + after, ascending', async () => {
    const first = (await (await gw.call('/v1/files?limit=2&order=asc', { key: carol })).json()) as Json;
    expect(first.data.map((f: Json) => f.id)).toEqual(ids.slice(0, 2));
    expect(first.has_more).toBe(true);
    const second = (await (await gw.call(`/v1/files?limit=2&order=asc&after=${first.last_id}`, { key: carol })).json()) as Json;
    expect(second.data.map((f: Json) => f.id)).toEqual([ids[2]]);
    expect(second.has_more).toBe(false);
  });

  test('filters by purpose; rejects a bad limit, order or cursor', async () => {
    const vision = (await (await gw.call('/v1/files?purpose=vision', { key: carol })).json()) as Json;
    expect(vision.data.map((f: Json) => f.id)).toEqual([ids[1]]);
    await expectError(await gw.call('/v1/files?limit=0', { key: carol }), 400, 'invalid_value', 'limit');
    await expectError(await gw.call('/v1/files?limit=10001', { key: carol }), 400, 'invalid_value', 'limit');
    await expectError(await gw.call('/v1/files?order=sideways', { key: carol }), 400, 'invalid_request', 'order');
    await expectError(await gw.call('/v1/files?after=file-doesnotexist', { key: carol }), 400, 'invalid_cursor', 'after');
  });

  test('retrieve gives the same FileObject as the upload', async () => {
    const file = (await (await gw.call(`/v1/files/${ids[1]}`, { key: carol })).json()) as Json;
    expect(file).toMatchObject({ id: ids[1], object: 'file', filename: 'f1.txt', purpose: 'vision', bytes: 6 });
  });

  test('delete answers {id, object, deleted}; the file is gone afterwards', async () => {
    const fresh = await uploaded(carol, 'bye', 'bye.txt');
    const res = await gw.call(`/v1/files/${fresh.id}`, { method: 'DELETE', key: carol });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: fresh.id, object: 'file', deleted: true });
    await expectError(await gw.call(`/v1/files/${fresh.id}`, { key: carol }), 404, 'file_not_found', 'file_id');
    await expectError(await gw.call(`/v1/files/${fresh.id}/content`, { key: carol }), 404, 'file_not_found', 'file_id');
    await expectError(await gw.call(`/v1/files/${fresh.id}`, { method: 'DELETE', key: carol }), 404, 'file_not_found', 'file_id');
  });
});

describe('owner isolation', () => {
  test("another key's file is not found (404, never 403) for get, content, delete and list", async () => {
    const file = await uploaded(alice, 'alice only', 'secret.txt');
    for (const [path, method] of [
      [`/v1/files/${file.id}`, 'GET'],
      [`/v1/files/${file.id}/content`, 'GET'],
      [`/v1/files/${file.id}`, 'DELETE'],
    ] as const) {
      const error = await expectError(await gw.call(path, { method, key: bob }), 404, 'file_not_found', 'file_id');
      expect(error.message).toContain(file.id);
    }
    const bobs = (await (await gw.call('/v1/files', { key: bob })).json()) as Json;
    expect(bobs.data.map((f: Json) => f.id)).not.toContain(file.id);
    // Bob's failed delete left it alone.
    expect(await (await gw.call(`/v1/files/${file.id}/content`, { key: alice })).text()).toBe('alice only');
  });

  test('another key cannot page through your list with your id as a cursor', async () => {
    const file = await uploaded(alice, 'cursor', 'c.txt');
    await expectError(await gw.call(`/v1/files?after=${file.id}`, { key: bob }), 400, 'invalid_cursor', 'after');
  });

  test('identical bytes are stored once and survive the deletion of one of their files', async () => {
    const a = await uploaded(alice, 'shared bytes', 'a.txt');
    const b = await uploaded(bob, 'shared bytes', 'b.txt');
    expect((await gw.call(`/v1/files/${a.id}`, { method: 'DELETE', key: alice })).status).toBe(200);
    expect(await (await gw.call(`/v1/files/${b.id}/content`, { key: bob })).text()).toBe('shared bytes');
  });
});
