/**
 * Every request field the OpenAI spec makes nullable accepts `null` on /v1/responses
 * and means "absent": the request succeeds and no such null reaches the upstream.
 * The two SDK habits behind it: the Python SDK's `responses.parse` with a pydantic
 * tool sends `"description": null`, and history built with `model_dump()` sends
 * `"phase": null` (and `id`/`status` nulls). Also: a wrong field inside an input
 * item is named, and `store: true` is named in `x-codexin-ignored-params`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { TINY_PNG_DATA_URL, type Json } from './support';

let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  key = gw.key();
});
afterAll(() => gw.stop());

function post(body: Json, path = '/v1/responses'): Promise<Response> {
  return gw.call(path, { method: 'POST', key, json: body });
}

function lastUpstreamBody(): Json {
  const request = gw.sim.requests.filter((r) => r.path.startsWith('/backend-api/codex/responses')).at(-1);
  return request!.body as Json;
}

function nullPaths(value: unknown, path = ''): string[] {
  if (value === null) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nullPaths(v, `${path}[${i}]`));
  if (typeof value === 'object') return Object.entries(value as Json).flatMap(([k, v]) => nullPaths(v, path ? `${path}.${k}` : k));
  return [];
}

const EVERY_NULL = {
  model: 'gpt-5.5',
  store: null,
  stream: null,
  parallel_tool_calls: null,
  include: null,
  prompt_cache_key: null,
  service_tier: null,
  text: { verbosity: null },
  reasoning: { effort: null, summary: null },
  tools: [{ type: 'function', name: 'lookup', description: null, parameters: { type: 'object', properties: {} }, strict: null }],
  input: [
    { type: 'message', role: 'user', id: null, status: null, phase: null, content: [{ type: 'input_text', text: 'earlier question' }] },
    { type: 'message', role: 'assistant', id: null, status: null, phase: null, content: [{ type: 'output_text', text: 'earlier answer', annotations: [] }] },
    {
      role: 'user',
      content: [
        { type: 'input_text', text: 'what is in this picture?' },
        { type: 'input_image', image_url: TINY_PNG_DATA_URL, file_id: null, detail: 'auto' },
      ],
    },
  ],
};

describe('nullable request fields', () => {
  test('null on every nullable field is accepted as absent and never reaches the upstream', async () => {
    const res = await post(EVERY_NULL);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.status).toBe('completed');
    expect(nullPaths(lastUpstreamBody())).toEqual([]);
  });

  for (const [field, value] of Object.entries(EVERY_NULL).filter(([name]) => name !== 'model')) {
    test(`${field} alone`, async () => {
      const res = await post({ model: 'gpt-5.5', input: 'hi', [field]: value });
      expect(res.status).toBe(200);
    });
  }

  test('an input_image with image_url null and a file_id is accepted', async () => {
    // Files are an advanced-key feature.
    const advanced = gw.key(['advanced']);
    const upload = new FormData();
    upload.set('purpose', 'user_data');
    upload.set('file', new File([Buffer.from(TINY_PNG_DATA_URL.split(',')[1]!, 'base64')], 'dot.png', { type: 'image/png' }));
    const file = (await (await gw.call('/v1/files', { method: 'POST', key: advanced, body: upload })).json()) as Json;
    expect(typeof file.id).toBe('string');
    const res = await gw.call('/v1/responses', { method: 'POST', key: advanced, json: { model: 'gpt-5.5', input: [{ role: 'user', content: [{ type: 'input_image', image_url: null, file_id: file.id, detail: 'auto' }] }] } });
    expect(res.status).toBe(200);
  });

  test('compact accepts the same nulls', async () => {
    const res = await post({ ...EVERY_NULL, stream: undefined, previous_response_id: null }, '/v1/responses/compact');
    expect(res.status).toBe(200);
  });
});

describe('errors inside input items name the field', () => {
  const cases: Array<[string, unknown[], string]> = [
    ['message content of the wrong type', [{ type: 'message', role: 'user', content: 5 }], 'input.0.content'],
    ['a content part text of the wrong type', [{ role: 'user', content: [{ type: 'input_text', text: 7 }] }], 'input.0.content.0.text'],
    ['a function call id of the wrong type', [{ role: 'user', content: 'q' }, { type: 'function_call', call_id: 5, name: 'x', arguments: '{}' }], 'input.1.call_id'],
  ];
  for (const [name, input, param] of cases) {
    test(name, async () => {
      const res = await post({ model: 'gpt-5.5', input });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: Json };
      expect(error.param).toBe(param);
      expect(error.message).toContain(`'${param}'`);
    });
  }
});

describe('store', () => {
  test('store:true is answered with store:false and named in x-codexin-ignored-params', async () => {
    const res = await post({ model: 'gpt-5.5', input: 'hi', store: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-codexin-ignored-params')?.split(', ')).toContain('store');
    expect(((await res.json()) as Json).store).toBe(false);
  });

  test('store:false is not named: it is what happens anyway', async () => {
    const res = await post({ model: 'gpt-5.5', input: 'hi', store: false });
    expect(res.headers.get('x-codexin-ignored-params') ?? '').not.toContain('store');
    const chat = await gw.call('/v1/chat/completions', { method: 'POST', key, json: { model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }], store: false } });
    expect(chat.status).toBe(200);
    expect(chat.headers.get('x-codexin-ignored-params') ?? '').not.toContain('store');
  });
});
