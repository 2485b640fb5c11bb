/**
 * A file id in /v1/responses input reaches the upstream inlined: input_file as
 * `file_data` (base64 data URL) + filename, input_image as an image data URL.
 * Only the owner's files resolve; ids we did not issue pass through untouched.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { form } from '../support/media';
import { mockPng } from '../../src/upstream/mock';
import { dataUrl, expectError, responsesBodies, type Json } from './assets-helpers';

let gw: TestGateway;
let owner: string;
let other: string;
let pdfId: string;
let pngId: string;
let textId: string;
const PDF = '%PDF-1.4\n% a tiny stand-in document\n';

beforeAll(async () => {
  gw = await startGateway();
  owner = gw.key(['advanced']);
  other = gw.key(['advanced']);
  const up = async (bytes: Uint8Array | string, filename: string, type?: string) =>
    ((await (await gw.call('/v1/files', { method: 'POST', key: owner, body: form({ file: { bytes, filename, type }, purpose: 'user_data' }) })).json()) as Json).id as string;
  pdfId = await up(PDF, 'report.pdf', 'application/pdf');
  // Uploaded without a type: the bytes make it a PNG when used as an image.
  pngId = await up(mockPng(), 'pixel');
  textId = await up('plain words', 'words.txt', 'text/plain');
});
afterAll(() => gw.stop());
beforeEach(() => gw.sim.reset());

function ask(key: string, parts: Json[], extra: Json = {}): Promise<Response> {
  return gw.call('/v1/responses', { method: 'POST', key, json: { model: 'gpt-5.5', input: [{ role: 'user', content: [{ type: 'input_text', text: 'look' }, ...parts] }], ...extra } });
}

describe('file ids in /v1/responses', () => {
  test('input_file with file_id is inlined as file_data + filename', async () => {
    const res = await ask(owner, [{ type: 'input_file', file_id: pdfId }]);
    expect(res.status).toBe(200);
    const [body] = responsesBodies(gw);
    const part = body!.input[0].content[1];
    expect(part).toEqual({ type: 'input_file', filename: 'report.pdf', file_data: `data:application/pdf;base64,${Buffer.from(PDF).toString('base64')}` });
  });

  test('a filename given by the client wins', async () => {
    await ask(owner, [{ type: 'input_file', file_id: textId, filename: 'renamed.txt' }]);
    const part = responsesBodies(gw)[0]!.input[0].content[1];
    expect(part.filename).toBe('renamed.txt');
    expect(part.file_data).toBe(dataUrl('text/plain', new TextEncoder().encode('plain words')));
  });

  test('input_image with file_id is inlined as an image data URL, detail kept', async () => {
    const res = await ask(owner, [{ type: 'input_image', file_id: pngId, detail: 'low' }]);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).output_text).toContain('[image received]');
    const part = responsesBodies(gw)[0]!.input[0].content[1];
    expect(part).toEqual({ type: 'input_image', detail: 'low', image_url: dataUrl('image/png', mockPng()) });
  });

  test('streaming requests are resolved the same way', async () => {
    const res = await ask(owner, [{ type: 'input_file', file_id: pdfId }], { stream: true });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('response.completed');
    expect(responsesBodies(gw)[0]!.input[0].content[1].file_data).toStartWith('data:application/pdf;base64,');
  });

  test('a non-image file used as input_image → 400 before the upstream is called', async () => {
    await expectError(await ask(owner, [{ type: 'input_image', file_id: textId }]), 400, 'invalid_image_format', 'input[0].content[1].file_id');
    expect(responsesBodies(gw)).toHaveLength(0);
  });

  test("another key's file id → 404 file_not_found, and nothing goes upstream", async () => {
    const error = await expectError(await ask(other, [{ type: 'input_file', file_id: pdfId }]), 404, 'file_not_found', 'input[0].content[1].file_id');
    expect(error.message).toContain(pdfId);
    await expectError(await ask(owner, [{ type: 'input_file', file_id: 'file-neverissued' }]), 404, 'file_not_found', 'input[0].content[1].file_id');
    expect(responsesBodies(gw)).toHaveLength(0);
  });

  test('ids this server did not issue pass through untouched', async () => {
    await ask(owner, [{ type: 'input_file', file_id: 'file_00000000000000000000000000000000' }]);
    expect(responsesBodies(gw)[0]!.input[0].content[1]).toEqual({ type: 'input_file', file_id: 'file_00000000000000000000000000000000' });
  });

  test('a deleted file no longer resolves', async () => {
    const id = ((await (await gw.call('/v1/files', { method: 'POST', key: owner, body: form({ file: { bytes: 'tmp', filename: 't.txt' }, purpose: 'user_data' }) })).json()) as Json).id;
    expect((await gw.call(`/v1/files/${id}`, { method: 'DELETE', key: owner })).status).toBe(200);
    await expectError(await ask(owner, [{ type: 'input_file', file_id: id }]), 404, 'file_not_found', 'input[0].content[1].file_id');
  });
});
