/**
 * POST /v1/codex/image-analysis (any key): prompt + data-URL image → one
 * Responses call with input_text + input_image → {id, model, text, usage}, or
 * with stream:true the helper's delta/done/error SSE events.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { mockPng } from '../../src/upstream/mock';
import { dataUrl, expectError, responsesBodies, type Json } from './assets-helpers';

let gw: TestGateway;
let key: string;
const PNG_URL = dataUrl('image/png', mockPng());

beforeAll(async () => {
  gw = await startGateway();
  key = gw.key();
});
afterAll(() => gw.stop());
beforeEach(() => gw.sim.reset());

function analyze(body: Json, k = key): Promise<Response> {
  return gw.call('/v1/codex/image-analysis', { method: 'POST', key: k, json: body });
}

/** The SSE events of a helper stream, as {event, data}. */
function events(text: string): { event: string; data: Json }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const event = /^event: (.+)$/m.exec(block)![1]!;
      const data = JSON.parse(/^data: (.+)$/m.exec(block)![1]!) as Json;
      expect(data.type).toBe(event);
      return { event, data };
    });
}

describe('POST /v1/codex/image-analysis', () => {
  test('a plain key gets {id, model, text, usage}; the upstream got the prompt and the image', async () => {
    const res = await analyze({ prompt: 'What is in this picture?', image_url: PNG_URL, detail: 'high' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(Object.keys(body).sort()).toEqual(['id', 'model', 'text', 'usage']);
    expect(body.id).toMatch(/^resp_/);
    expect(body.model).toBe('gpt-5.4-mini');
    expect(body.text).toBe('Echo: What is in this picture? [image received]');
    expect(body.usage.input_tokens).toBeGreaterThan(0);
    const [sent] = responsesBodies(gw);
    expect(sent!.input[0].content).toEqual([
      { type: 'input_text', text: 'What is in this picture?' },
      { type: 'input_image', image_url: PNG_URL, detail: 'high' },
    ]);
    expect(sent!.model).toBe('gpt-5.4-mini');
  });

  test('the requested model is used', async () => {
    const body = (await (await analyze({ prompt: 'hi', image_url: PNG_URL, model: 'gpt-5.5' })).json()) as Json;
    expect(body.model).toBe('gpt-5.5');
    expect(responsesBodies(gw)[0]!.model).toBe('gpt-5.5');
  });

  test('a key limited to other models gets one it may use', async () => {
    const limited = gw.key([], { name: 'limited', allowedModels: ['gpt-5.4'] });
    const body = (await (await analyze({ prompt: 'hi', image_url: PNG_URL }, limited)).json()) as Json;
    expect(body.model).toBe('gpt-5.4');
  });

  test('stream: delta events that add up to the done text; done is last', async () => {
    gw.sim.enqueue({ kind: 'text', text: 'A single red pixel on a transparent background.', chunkSize: 6 });
    const res = await analyze({ prompt: 'describe', image_url: PNG_URL, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toStartWith('text/event-stream');
    const list = events(await res.text());
    const deltas = list.filter((e) => e.event === 'delta');
    expect(deltas.length).toBeGreaterThan(3);
    expect(list.at(-1)!.event).toBe('done');
    const done = list.at(-1)!.data;
    expect(done.text).toBe('A single red pixel on a transparent background.');
    expect(deltas.map((d) => d.data.text).join('')).toBe(done.text);
    expect(done.id).toMatch(/^resp_/);
    expect(done.model).toBe('gpt-5.4-mini');
    expect(done.usage.output_tokens).toBeGreaterThan(0);
    expect(list.filter((e) => e.event !== 'delta' && e.event !== 'done')).toEqual([]);
  });

  test('stream: an upstream failure mid-stream ends with one error event', async () => {
    gw.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 4, code: 'server_error', message: 'The model crashed.' });
    const list = events(await (await analyze({ prompt: 'describe', image_url: PNG_URL, stream: true })).text());
    expect(list.at(-1)).toEqual({ event: 'error', data: { type: 'error', error: { message: 'The model crashed.', type: expect.any(String), code: 'server_error' } } });
    expect(list.filter((e) => e.event === 'done')).toHaveLength(0);
  });

  test('non-stream: an upstream failure is a 502 envelope', async () => {
    gw.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 4, message: 'The model crashed.' });
    const res = await analyze({ prompt: 'describe', image_url: PNG_URL });
    expect(res.status).toBe(502);
    expect(((await res.json()) as Json).error.message).toContain('The model crashed.');
  });
});

describe('bad input → clear 4xx, nothing sent upstream', () => {
  async function refused(body: Json, status: number, code: string, param: string | null, k = key) {
    const error = await expectError(await analyze(body, k), status, code, param, status === 401 ? 'authentication_error' : 'invalid_request_error');
    expect(responsesBodies(gw)).toHaveLength(0);
    return error;
  }
  test('bad base64', async () => {
    await refused({ prompt: 'x', image_url: 'data:image/png;base64,@@@not base64@@@' }, 400, 'invalid_image_data', 'image_url');
  });
  test('base64 that is not an image', async () => {
    await refused({ prompt: 'x', image_url: `data:image/png;base64,${Buffer.from('hello world, no image').toString('base64')}` }, 400, 'invalid_image_data', 'image_url');
  });
  test('wrong media type', async () => {
    await refused({ prompt: 'x', image_url: `data:text/plain;base64,${Buffer.from('hi').toString('base64')}` }, 400, 'invalid_image_format', 'image_url');
  });
  test('not a data URL', async () => {
    await refused({ prompt: 'x', image_url: 'https://example.com/cat.png' }, 400, 'invalid_image_url', 'image_url');
    await refused({ prompt: 'x', image_url: 'cat.png' }, 400, 'invalid_image_url', 'image_url');
  });
  test('over 20 MB → 413', async () => {
    const big = new Uint8Array(21 * 1024 * 1024);
    big.set(mockPng());
    await refused({ prompt: 'x', image_url: dataUrl('image/png', big) }, 413, 'image_too_large', 'image_url');
  });
  test('missing prompt or image, bad detail, unknown model', async () => {
    await refused({ image_url: PNG_URL }, 400, 'invalid_request', 'prompt');
    await refused({ prompt: 'x' }, 400, 'invalid_request', 'image_url');
    await refused({ prompt: 'x', image_url: PNG_URL, detail: 'extreme' }, 400, 'invalid_request', 'detail');
    await refused({ prompt: 'x', image_url: PNG_URL, model: 'gpt-0' }, 404, 'model_not_found', 'model');
  });
  test('no key → 401', async () => {
    await refused({ prompt: 'x', image_url: PNG_URL }, 401, 'missing_api_key', null, '');
  });
});
