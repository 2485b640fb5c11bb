/**
 * POST /v1/codex/images: the image is uploaded to the ChatGPT file service
 * (create → PUT → confirm, polling past the first `retry`) and stored here;
 * upstream 429s come back as 429 with retry-after; bad input is a clear 4xx.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { form } from '../support/media';
import { mockPng } from '../../src/upstream/mock';
import { expectError, lastKeyId, upstreamCalls, type Json } from './assets-helpers';

let gw: TestGateway;
let key: string;
let keyId: string;
let basic: string;

beforeAll(async () => {
  gw = await startGateway({ accounts: 2 });
  key = gw.key(['advanced']);
  keyId = lastKeyId(gw);
  basic = gw.key();
});
afterAll(() => gw.stop());
beforeEach(() => gw.sim.reset());

function uploadImage(k: string, bytes: Uint8Array | string, filename = 'pixel.png', type: string | undefined = 'image/png'): Promise<Response> {
  return gw.call('/v1/codex/images', { method: 'POST', key: k, body: form({ file: { bytes, filename, type } }) });
}

async function localFiles(): Promise<Json[]> {
  return ((await (await gw.call('/v1/files', { key })).json()) as Json).data;
}

describe('POST /v1/codex/images', () => {
  test('uploads through the three-step flow and returns the asset pointer and a local file', async () => {
    const res = await uploadImage(key, mockPng());
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ object: 'file', filename: 'pixel.png', purpose: 'vision', bytes: mockPng().length, mime_type: 'image/png', status: 'processed' });
    expect(body.id).toMatch(/^file-/);
    expect(body.upstream_file_id).toMatch(/^file_[0-9a-f]{32}$/);
    expect(body.asset_pointer).toBe(`sediment://${body.upstream_file_id}`);

    const [create] = upstreamCalls(gw, '/backend-api/files');
    expect(create!.body).toEqual({ file_name: 'pixel.png', file_size: mockPng().length, use_case: 'codex' });
    expect(create!.headers['authorization']).toMatch(/^Bearer /);
    expect(create!.headers['chatgpt-account-id']).toBeTruthy();
    const [put] = upstreamCalls(gw, `/upload/${body.upstream_file_id}`, 'PUT');
    expect(put!.headers['x-ms-blob-type']).toBe('BlockBlob');
    expect(put!.headers['authorization']).toBeUndefined();
    // The simulator answers `retry` first: we must have polled again.
    expect(upstreamCalls(gw, `/backend-api/files/${body.upstream_file_id}/uploaded`)).toHaveLength(2);

    const content = await gw.call(`/v1/files/${body.id}/content`, { key });
    expect(content.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await content.arrayBuffer())).toEqual(new Uint8Array(mockPng()));
    // The upstream has exactly these bytes.
    const download = await fetch(`${gw.simUrl}/download/${body.upstream_file_id}`);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(new Uint8Array(mockPng()));
  });

  test('the bytes decide the type: an untyped PNG is accepted', async () => {
    const res = await uploadImage(key, mockPng(), 'blob', undefined);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).mime_type).toBe('image/png');
  });

  test('upstream 429 → 429 with retry-after, and nothing is stored', async () => {
    const before = (await localFiles()).length;
    gw.sim.enqueueFiles({ kind: 'http_error', status: 429, body: { detail: 'Too many file uploads, slow down' }, headers: { 'retry-after': '7' } });
    const res = await uploadImage(key, mockPng());
    expect(res.headers.get('retry-after')).toBe('7');
    const error = await expectError(res, 429, 'rate_limit_exceeded', null, 'rate_limit_error');
    expect(error.message).toContain('Too many file uploads');
    expect((await localFiles()).length).toBe(before);
  });

  test('an account at its usage limit cools down and the next account serves the upload', async () => {
    gw.sim.enqueueFiles({ kind: 'http_error', status: 429, body: { error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', resets_in_seconds: 600 } } });
    const res = await uploadImage(key, mockPng());
    expect(res.status).toBe(200);
    const creates = upstreamCalls(gw, '/backend-api/files');
    expect(creates).toHaveLength(2);
    expect(creates[0]!.headers['chatgpt-account-id']).not.toBe(creates[1]!.headers['chatgpt-account-id']);
    for (const account of gw.accounts.list()) gw.accounts.setCooldown(account.id, null);
  });

  test('an upstream 5xx is a 502 with the upstream named, never a 500', async () => {
    gw.sim.enqueueFiles({ kind: 'http_error', status: 500, body: { detail: 'boom' } });
    await expectError(await uploadImage(key, mockPng()), 502, 'upstream_error', null, 'upstream_error');
  });

  test('not an image (wrong mime, bytes not an image) → 400 param file', async () => {
    await expectError(await uploadImage(key, 'definitely not a png', 'fake.png', 'image/png'), 400, 'invalid_image_format', 'file');
    await expectError(await uploadImage(key, 'hello', 'notes.txt', 'text/plain'), 400, 'invalid_image_format', 'file');
    expect(upstreamCalls(gw, '/backend-api/files')).toHaveLength(0);
  });

  test('missing file part → 400 param file; bad purpose → 400', async () => {
    await expectError(await gw.call('/v1/codex/images', { method: 'POST', key, body: form({ purpose: 'vision' }) }), 400, 'missing_required_parameter', 'file');
    await expectError(
      await gw.call('/v1/codex/images', { method: 'POST', key, body: form({ file: { bytes: mockPng(), filename: 'a.png' }, purpose: 'nope' }) }),
      400,
      'invalid_purpose',
      'purpose',
    );
  });

  test('over 20 MB → 413', async () => {
    const big = new Uint8Array(20 * 1024 * 1024 + 1);
    big.set(mockPng());
    await expectError(await uploadImage(key, big), 413, 'file_too_large', 'file');
    expect(upstreamCalls(gw, '/backend-api/files')).toHaveLength(0);
  });

  test('a key without advanced access → 403', async () => {
    await expectError(await uploadImage(basic, mockPng()), 403, 'advanced_access_required', null, 'permission_error');
  });

  test('each upload is metered under the caller', () => {
    gw.usage.flush(); // rows are written behind the request
    const rows = gw.db.query("SELECT status FROM usage WHERE key_id = $key AND route = '/v1/codex/images' ORDER BY id").all({ key: keyId }) as { status: number }[];
    expect(rows.map((r) => r.status)).toEqual([200, 200, 429, 200, 502]);
  });
});
