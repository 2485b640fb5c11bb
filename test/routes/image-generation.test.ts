/**
 * POST /v1/images/generations and POST /v1/codex/image-generation: a Responses
 * call with the image_generation tool forced by tool_choice; the image is the
 * tool call's base64 result. Refusals and upstream errors are clear 4xx.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { mockPng } from '../../src/upstream/mock';
import { expectError, responsesBodies, type Json } from './assets-helpers';

let gw: TestGateway;
let key: string;
let basic: string;

beforeAll(async () => {
  gw = await startGateway();
  key = gw.key(['advanced']);
  basic = gw.key();
});
afterAll(() => gw.stop());
beforeEach(() => gw.sim.reset());

function generate(body: Json, path = '/v1/images/generations', k = key): Promise<Response> {
  return gw.call(path, { method: 'POST', key: k, json: body });
}

describe.each(['/v1/images/generations', '/v1/codex/image-generation'])('%s', (path) => {
  test('returns {created, data:[{b64_json, revised_prompt}]} from the image_generation_call', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await generate({ prompt: 'a red fox in snow' }, path);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.created).toBeGreaterThanOrEqual(before);
    expect(body.data).toHaveLength(1);
    expect(new Uint8Array(Buffer.from(body.data[0].b64_json, 'base64'))).toEqual(new Uint8Array(mockPng()));
    expect(body.data[0].revised_prompt).toBe('A simple illustration of: a red fox in snow');
    expect(body).toMatchObject({ output_format: 'png', size: '1024x1024', quality: 'low', background: 'opaque' });
    expect(body.usage.input_tokens).toBeGreaterThan(0);

    const [sent] = responsesBodies(gw);
    expect(sent!.model).toBe('gpt-5.4-mini');
    expect(sent!.tools).toEqual([{ type: 'image_generation', output_format: 'png' }]);
    expect(sent!.tool_choice).toEqual({ type: 'image_generation' });
    expect(sent!.input[0].content).toEqual([{ type: 'input_text', text: 'a red fox in snow' }]);
  });
});

describe('parameters', () => {
  test('size, quality, background, output_format and a gpt-image model go into the tool', async () => {
    const res = await generate({ prompt: 'p', model: 'gpt-image-1', size: '1536x1024', quality: 'high', background: 'transparent', output_format: 'webp', output_compression: 80 });
    expect(res.status).toBe(200);
    expect(responsesBodies(gw)[0]!.tools).toEqual([
      { type: 'image_generation', model: 'gpt-image-1', size: '1536x1024', quality: 'high', background: 'transparent', output_format: 'webp', output_compression: 80 },
    ]);
    expect(responsesBodies(gw)[0]!.model).toBe('gpt-5.4-mini');
  });

  test('a catalog model drives the Responses call; dall-e is accepted, ignored and named in a header', async () => {
    await generate({ prompt: 'p', model: 'gpt-5.4' });
    expect(responsesBodies(gw)[0]!.model).toBe('gpt-5.4');
    const res = await generate({ prompt: 'p', model: 'dall-e-3', quality: 'hd', style: 'vivid' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-codexin-ignored-params')).toBe('model, style');
    expect(responsesBodies(gw)[1]!.tools[0]).toEqual({ type: 'image_generation', quality: 'high', output_format: 'png' });
  });

  test('n=3 runs three calls one after another', async () => {
    const body = (await (await generate({ prompt: 'three', n: 3 })).json()) as Json;
    expect(body.data).toHaveLength(3);
    expect(responsesBodies(gw)).toHaveLength(3);
    expect(body.usage.input_tokens).toBeGreaterThan(0);
  });

  test('response_format url gives a data: URL', async () => {
    const body = (await (await generate({ prompt: 'u', response_format: 'url' })).json()) as Json;
    expect(body.data[0].url).toBe(`data:image/png;base64,${Buffer.from(mockPng()).toString('base64')}`);
    expect(body.data[0].b64_json).toBeUndefined();
  });

  test('invalid values → 400 naming the field; no upstream call', async () => {
    await expectError(await generate({ prompt: 'p', n: 11 }), 400, 'invalid_request', 'n');
    await expectError(await generate({ prompt: 'p', quality: 'ultra' }), 400, 'invalid_request', 'quality');
    await expectError(await generate({ prompt: 'p', size: 'huge' }), 400, 'invalid_request', 'size');
    await expectError(await generate({ prompt: '' }), 400, 'invalid_request', 'prompt');
    await expectError(await generate({ n: 1 }), 400, 'invalid_request', 'prompt');
    await expectError(await generate({ prompt: 'p', stream: true }), 400, 'unsupported_parameter', 'stream');
    await expectError(await generate({ prompt: 'p', model: 'no-such-model' }), 404, 'model_not_found', 'model');
    expect(responsesBodies(gw)).toHaveLength(0);
  });

  test('a key without advanced access → 403; no key → 401', async () => {
    await expectError(await generate({ prompt: 'p' }, '/v1/images/generations', basic), 403, 'advanced_access_required', null, 'permission_error');
    await expectError(await generate({ prompt: 'p' }, '/v1/codex/image-generation', basic), 403, 'advanced_access_required', null, 'permission_error');
    await expectError(await gw.call('/v1/images/generations', { method: 'POST', json: { prompt: 'p' } }), 401, 'missing_api_key', null, 'authentication_error');
  });
});

describe('when the upstream makes no image', () => {
  test('the model answers with text instead → 400 image_generation_refused quoting it', async () => {
    gw.sim.enqueue({ kind: 'text', text: 'I cannot create that image.' });
    const error = await expectError(await generate({ prompt: 'something forbidden' }), 400, 'image_generation_refused');
    expect(error.message).toContain('I cannot create that image.');
  });

  test('the upstream rejects the request → its status class and reason', async () => {
    gw.sim.enqueue({ kind: 'http_error', status: 400, body: { detail: "Tool 'image_generation' is not supported for this account" } });
    const error = await expectError(await generate({ prompt: 'p' }), 400, null);
    expect(error.message).toContain("Tool 'image_generation' is not supported");
  });

  test('a policy failure mid-stream → 400 with the upstream code and reason', async () => {
    gw.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 3, code: 'moderation_blocked', message: 'Your request was rejected by the safety system.' });
    const error = await expectError(await generate({ prompt: 'p' }), 400, 'moderation_blocked');
    expect(error.message).toContain('rejected by the safety system');
  });

  test('a server failure mid-stream stays a 502', async () => {
    gw.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 3 });
    const res = await generate({ prompt: 'p' });
    expect(res.status).toBe(502);
  });

  test('an exhausted subscription → 429 with retry-after', async () => {
    gw.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 120 });
    const res = await generate({ prompt: 'p' });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(100);
    for (const account of gw.accounts.list()) gw.accounts.setCooldown(account.id, null);
  });
});
