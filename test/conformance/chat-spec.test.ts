/**
 * Chat Completions replies validate against the official OpenAI schemas
 * (`CreateChatCompletionResponse`, `CreateChatCompletionStreamResponse`; version and
 * commit in test/fixtures/openapi/README.md): text, tool calls, legacy `functions`,
 * streamed and not, also from a sparse upstream. Legacy `functions` requests are
 * answered in their own terms: `message.function_call` / `delta.function_call` and
 * finish_reason "function_call".
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { violations, SPEC_VERSION } from './spec';
import { readSse, sparseTextEvents, sparseToolEvents, type Json } from './support';

let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  key = gw.key();
});
afterAll(() => gw.stop());

const MODEL = 'gpt-5.5';
const WEATHER = { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

function chat(body: Json): Promise<Response> {
  return gw.call('/v1/chat/completions', { method: 'POST', key, json: { model: MODEL, ...body } });
}

const scenarios: Array<{ name: string; body: Json; upstream?: () => void; finish: string }> = [
  { name: 'text', body: { messages: [{ role: 'user', content: 'hello' }] }, finish: 'stop' },
  { name: 'reasoning', body: { messages: [{ role: 'user', content: 'think' }], reasoning_effort: 'low' }, finish: 'stop' },
  { name: 'tool call', body: { messages: [{ role: 'user', content: 'call get_weather' }], tools: [{ type: 'function', function: WEATHER }] }, finish: 'tool_calls' },
  {
    name: 'tool result follow-up',
    body: {
      tools: [{ type: 'function', function: WEATHER }],
      messages: [
        { role: 'user', content: 'call get_weather' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
    },
    finish: 'stop',
  },
  { name: 'legacy functions', body: { messages: [{ role: 'user', content: 'call get_weather' }], functions: [WEATHER] }, finish: 'function_call' },
  {
    name: 'sparse upstream text',
    body: { messages: [{ role: 'user', content: 'hello' }] },
    upstream: () => gw.sim.enqueue({ kind: 'events', events: sparseTextEvents('Hi') }),
    finish: 'stop',
  },
  {
    name: 'sparse upstream legacy function call',
    body: { messages: [{ role: 'user', content: 'weather?' }], functions: [WEATHER] },
    upstream: () => gw.sim.enqueue({ kind: 'events', events: sparseToolEvents('get_weather', '{"city":"Oslo"}') }),
    finish: 'function_call',
  },
];

describe(`chat completions conform to the OpenAI spec ${SPEC_VERSION}`, () => {
  for (const s of scenarios) {
    test(`${s.name}: stream:false`, async () => {
      s.upstream?.();
      const res = await chat(s.body);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      expect(violations('CreateChatCompletionResponse', body)).toEqual([]);
      expect(body.choices[0].finish_reason).toBe(s.finish);
      expect('system_fingerprint' in body).toBe(false);
    });
    test(`${s.name}: stream:true, with and without include_usage`, async () => {
      for (const includeUsage of [false, true]) {
        s.upstream?.();
        const res = await chat({ ...s.body, stream: true, stream_options: includeUsage ? { include_usage: true } : undefined });
        expect(res.status).toBe(200);
        const chunks = await readSse(res);
        expect(chunks.flatMap((c, i) => violations('CreateChatCompletionStreamResponse', c).map((v) => `#${i} ${v}`))).toEqual([]);
        const finishes = chunks.flatMap((c) => (c.choices as Json[]).map((choice) => choice.finish_reason).filter((f) => f !== null));
        expect(finishes).toEqual([s.finish]);
        if (includeUsage) expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: expect.any(Number) });
      }
    });
  }
});

describe('legacy functions are answered with function_call', () => {
  test('stream:false: message.function_call, no tool_calls', async () => {
    const res = await chat({ messages: [{ role: 'user', content: 'call get_weather' }], functions: [WEATHER], function_call: 'auto' });
    const message = ((await res.json()) as Json).choices[0].message as Json;
    expect(message.function_call).toEqual({ name: 'get_weather', arguments: '{"city":"x"}' });
    expect(message.tool_calls).toBeUndefined();
    expect(message.content).toBeNull();
  });

  test('stream:true: delta.function_call carries the name first, then the arguments', async () => {
    const res = await chat({ messages: [{ role: 'user', content: 'call get_weather' }], functions: [WEATHER], stream: true });
    const deltas = (await readSse(res)).map((c) => (c.choices as Json[])[0]?.delta as Json | undefined).filter((d) => d?.function_call);
    expect(deltas[0]!.function_call).toEqual({ name: 'get_weather', arguments: '' });
    expect(deltas.map((d) => d!.function_call.arguments).join('')).toBe('{"city":"x"}');
    expect(deltas.every((d) => d!.tool_calls === undefined)).toBe(true);
  });

  test('one call at a time is asked of the upstream', async () => {
    await chat({ messages: [{ role: 'user', content: 'call get_weather' }], functions: [WEATHER] });
    const sent = gw.sim.requests.filter((r) => r.path === '/backend-api/codex/responses').at(-1)!.body as Json;
    expect(sent.parallel_tool_calls).toBe(false);
  });
});
