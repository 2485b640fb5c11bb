/**
 * Hostile frames on the Responses WebSocket (GET /v1/responses): each is one error
 * frame with the exact status and envelope, and the server keeps serving.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let url: string;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  url = `${gw.listen().replace('http', 'ws')}/v1/responses`;
  key = gw.key();
});
afterAll(() => gw.stop());

interface ErrorFrame {
  type: string;
  status: number;
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function firstTerminalFrame(frame: string | Uint8Array): Promise<ErrorFrame> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } } as unknown as string[]);
  try {
    return await new Promise<ErrorFrame>((resolve, reject) => {
      ws.onopen = () => ws.send(frame);
      ws.onmessage = (m) => {
        const parsed = JSON.parse(String(m.data)) as ErrorFrame;
        if (['error', 'response.completed', 'response.failed'].includes(parsed.type)) resolve(parsed);
      };
      ws.onclose = (e) => reject(new Error(`closed ${e.code} before a terminal frame`));
      setTimeout(() => reject(new Error('no terminal frame within 5 s')), 5000);
    });
  } finally {
    ws.close();
  }
}

const CASES: [string, string | Uint8Array, number, string, string | null][] = [
  ['not JSON', 'not json', 400, 'invalid_json', null],
  ['an array', '[]', 400, 'invalid_json', null],
  ['null', 'null', 400, 'invalid_json', null],
  ['a binary frame', new Uint8Array([0xff, 0x00, 0x01]), 400, 'invalid_json', null],
  ['60,000-deep nesting', `{"type":"response.create","model":"gpt-5.5","input":${'['.repeat(60_000)}${']'.repeat(60_000)}}`, 400, 'invalid_json', null],
  ['an unknown type', '{"type":"drop.tables"}', 400, 'unsupported_message_type', 'type'],
  ['no model', '{"type":"response.create","input":"hi"}', 400, 'invalid_request', 'model'],
  ['a 100 KB model name', `{"type":"response.create","model":"${'m'.repeat(100_000)}","input":"hi"}`, 404, 'model_not_found', 'model'],
  ['NUL in prompt_cache_key', '{"type":"response.create","model":"gpt-5.5","input":"hi","prompt_cache_key":"a\\u0000b"}', 400, 'invalid_header_value', 'prompt_cache_key'],
];

for (const [label, frame, status, code, param] of CASES) {
  test(`${label}: error frame ${status} ${code}`, async () => {
    const got = await firstTerminalFrame(frame);
    expect(got.type).toBe('error');
    expect(got.status).toBe(status);
    expect(got.error.code).toBe(code);
    expect(got.error.param).toBe(param);
    expect(got.error.message.length).toBeLessThan(600);
  });
}

test('after all that, a normal turn on the socket still completes and /healthz answers', async () => {
  const done = await firstTerminalFrame('{"type":"response.create","model":"gpt-5.5","input":"hi"}');
  expect(done.type).toBe('response.completed');
  expect((await fetch(`${url.replace('ws', 'http').replace('/v1/responses', '')}/healthz`)).status).toBe(200);
});
