/**
 * Every object and event CodexIn emits on the Responses surface validates against the
 * official OpenAI schemas (`Response`, `ResponseStreamEvent`, `CompactResource`; version
 * and commit in test/fixtures/openapi/README.md). The scenarios are the e2e suite's
 * (text, reasoning, function tool, tool output follow-up, image input, mid-stream
 * failure, compact, WebSocket turns), each also against an upstream that sends sparse
 * response objects (only id/object/created_at/status/model), so a field the
 * upstream leaves out is still present in what the client gets.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { streamViolations, violations, SPEC_VERSION } from './spec';
import { readSse, sparseTextEvents, sparseToolEvents, TINY_PNG_DATA_URL, type Json } from './support';

let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  key = gw.key();
});
afterAll(() => gw.stop());

const MODEL = 'gpt-5.5';
const WEATHER_TOOL = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
};

async function streamed(body: Json): Promise<Json[]> {
  const res = await gw.call('/v1/responses', { method: 'POST', key, json: { ...body, stream: true } });
  expect(res.status).toBe(200);
  return readSse(res);
}

/** Asserts the stream conforms, and returns its terminal response for scenario checks. */
function conforming(events: Json[]): Json {
  expect(streamViolations(events)).toEqual([]);
  const terminal = events.at(-1)!;
  expect(['response.completed', 'response.failed', 'response.incomplete']).toContain(terminal.type);
  return terminal.response as Json;
}

const scenarios: Array<{ name: string; body: Json; upstream?: () => void; check?: (final: Json) => void }> = [
  {
    name: 'text',
    body: { model: MODEL, input: 'hello' },
    check: (r) => {
      expect(r.status).toBe('completed');
      // The upstream saw instructions "" and a derived cache key; the client sent neither.
      expect(r).toMatchObject({ instructions: null, prompt_cache_key: null });
    },
  },
  {
    name: 'reasoning with summary and encrypted content',
    body: { model: MODEL, input: 'think', reasoning: { effort: 'low', summary: 'auto' }, include: ['reasoning.encrypted_content'] },
    check: (r) => expect((r.output as Json[]).map((i) => i.type)).toEqual(['reasoning', 'message']),
  },
  {
    name: 'function tool',
    body: { model: MODEL, input: 'call get_weather', tools: [WEATHER_TOOL] },
    check: (r) => expect((r.output as Json[]).at(-1)).toMatchObject({ type: 'function_call', name: 'get_weather' }),
  },
  {
    name: 'function tool whose arguments the upstream does not stream',
    body: { model: MODEL, input: 'weather?', tools: [WEATHER_TOOL] },
    upstream: () => gw.sim.enqueue({ kind: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}', argumentDeltas: false }),
  },
  {
    name: 'tool output follow-up',
    body: {
      model: MODEL,
      tools: [WEATHER_TOOL],
      input: [
        { role: 'user', content: 'call get_weather' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
      ],
    },
  },
  {
    name: 'image input',
    body: { model: MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: 'what is this?' }, { type: 'input_image', image_url: TINY_PNG_DATA_URL, detail: 'auto' }] }] },
  },
  {
    name: 'mid-stream failure',
    body: { model: MODEL, input: 'hello' },
    upstream: () => gw.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 5 }),
    check: (r) => expect(r.status).toBe('failed'),
  },
  {
    name: 'upstream connection dropped mid-stream',
    body: { model: MODEL, input: 'hello' },
    upstream: () => gw.sim.enqueue({ kind: 'drop_mid_stream', afterEvents: 5 }),
    check: (r) => expect(r.status).toBe('failed'),
  },
  {
    name: 'sparse upstream, text',
    body: { model: MODEL, input: 'hello', temperature: 0.5, metadata: { k: 'v' } },
    upstream: () => gw.sim.enqueue({ kind: 'events', events: sparseTextEvents('Hi there') }),
    check: (r) => {
      expect((r.output as Json[])[0]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'Hi there' }] });
      expect(r).toMatchObject({ temperature: 0.5, metadata: { k: 'v' }, tools: [], tool_choice: 'auto', truncation: 'disabled' });
      expect(typeof r.completed_at).toBe('number');
    },
  },
  {
    name: 'sparse upstream, tool call with no argument events',
    body: { model: MODEL, input: 'weather?', tools: [WEATHER_TOOL] },
    upstream: () => gw.sim.enqueue({ kind: 'events', events: sparseToolEvents('get_weather', '{"city":"Oslo"}') }),
    check: (r) => expect((r.tools as Json[])[0]).toMatchObject({ type: 'function', name: 'get_weather', strict: true }),
  },
];

describe(`Responses conform to the OpenAI spec ${SPEC_VERSION}`, () => {
  for (const scenario of scenarios) {
    test(`${scenario.name}: every SSE event`, async () => {
      scenario.upstream?.();
      const final = conforming(await streamed(scenario.body));
      scenario.check?.(final);
    });
    test(`${scenario.name}: the stream:false body`, async () => {
      scenario.upstream?.();
      const res = await gw.call('/v1/responses', { method: 'POST', key, json: { ...scenario.body, stream: false } });
      // A failed upstream answers 502 with the error envelope over HTTP JSON; a finished one is a Response.
      if (res.status !== 200) {
        expect(res.status).toBe(502);
        return;
      }
      const body = (await res.json()) as Json;
      expect(violations('Response', body)).toEqual([]);
      scenario.check?.(body);
    });
  }

  test('every lifecycle response carries the full object; completed_at only once completed', async () => {
    gw.sim.enqueue({ kind: 'events', events: sparseTextEvents('ok') });
    const events = await streamed({ model: MODEL, input: 'x', instructions: 'Be brief.', max_output_tokens: 50, top_p: 0.9, user: 'u1', prompt_cache_key: 'pk' });
    const lifecycle = events.filter((e) => e.response);
    expect(lifecycle.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
    for (const { response } of lifecycle) {
      expect(response).toMatchObject({
        instructions: 'Be brief.',
        max_output_tokens: 50,
        top_p: 0.9,
        user: 'u1',
        prompt_cache_key: 'pk',
        parallel_tool_calls: true,
        store: false,
        background: false,
        previous_response_id: null,
        text: { format: { type: 'text' } },
      });
    }
    expect(lifecycle[0]!.response.completed_at).toBeNull();
    expect(typeof lifecycle[2]!.response.completed_at).toBe('number');
    expect(lifecycle[2]!.response.usage).toMatchObject({ input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } });
  });

  test('a synthesized function_call_arguments.done names the function', async () => {
    gw.sim.enqueue({ kind: 'events', events: sparseToolEvents('get_weather', '{"city":"Oslo"}') });
    const events = await streamed({ model: MODEL, input: 'weather?', tools: [WEATHER_TOOL] });
    expect(events.find((e) => e.type === 'response.function_call_arguments.done')).toMatchObject({ name: 'get_weather', arguments: '{"city":"Oslo"}' });
  });
});

describe(`compact returns the spec's CompactResource (${SPEC_VERSION})`, () => {
  test('id, object, created_at, output items with ids, usage', async () => {
    const res = await gw.call('/v1/responses/compact', {
      method: 'POST',
      key,
      json: {
        model: MODEL,
        input: [
          { role: 'user', content: 'first' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'answer' }] },
        ],
        previous_response_id: null,
        service_tier: 'flex',
        prompt_cache_retention: '24h',
      },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(violations('CompactResource', body)).toEqual([]);
    expect(body.object).toBe('response.compaction');
    expect((body.output as Json[]).at(-1)!.type).toBe('compaction');
    expect(res.headers.get('x-codexin-ignored-params')?.split(', ').sort()).toEqual(['prompt_cache_retention', 'service_tier']);
  });
});

describe(`WebSocket turns conform (${SPEC_VERSION})`, () => {
  test('a prewarm (generate:false), then two turns, each continuing the previous', async () => {
    const wsUrl = gw.listen().replace('http', 'ws') + '/v1/responses';
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${key}` } } as unknown as string[]);
    const turns: Json[][] = [];
    await new Promise<void>((resolve, reject) => {
      let current: Json[] = [];
      const send = (message: Json) => {
        current = [];
        ws.send(JSON.stringify(message));
      };
      ws.onopen = () => send({ type: 'response.create', model: MODEL, generate: false, instructions: 'Be brief.', input: 'context', tools: [WEATHER_TOOL] });
      ws.onerror = () => reject(new Error('socket error'));
      ws.onmessage = (m) => {
        const frame = JSON.parse(String(m.data)) as Json;
        current.push(frame);
        if (!['response.completed', 'response.failed', 'response.incomplete', 'error'].includes(frame.type)) return;
        turns.push(current);
        if (turns.length === 3) return resolve();
        send({ type: 'response.create', model: MODEL, previous_response_id: frame.response?.id, input: [{ role: 'user', content: 'second' }] });
      };
      setTimeout(() => reject(new Error('session timed out')), 10_000);
    });
    ws.close();
    for (const turn of turns) conforming(turn);
    expect(turns.map((turn) => turn.at(-1)!.type)).toEqual(['response.completed', 'response.completed', 'response.completed']);
    expect(turns[0]!.at(-1)!.response).toMatchObject({ instructions: 'Be brief.', tools: [{ name: 'get_weather', strict: true }] });
  });
});
