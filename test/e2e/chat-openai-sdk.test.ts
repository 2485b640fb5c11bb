/**
 * /v1/chat/completions end to end with the official `openai` SDK (7.57): the SDK talks
 * to the compiled `dist/codexin`, which talks to the upstream simulator. Every expected
 * value (text, call ids, arguments, usage) comes from what the test scripts into the
 * simulator, or from the simulator's own documented reply policy and token accounting
 * (test/e2e/chat/upstream.ts) — never from CodexIn's answer.
 *
 * Research: shared/research/client-traffic.md §0 item 4, §2.4, §2.5, §3 (Cursor), §6 item 4.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import OpenAI, { APIError, BadRequestError, RateLimitError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { removeTempDirs } from '../support/binary';
import { startStack, type E2EStack } from '../support/stack';
import { parseChunks, ssePayloads } from './chat/sse';
import { inputItems, onlyUpstreamBody, simulatedUsage, tinyPngDataUrl, upstreamCalls, type Json } from './chat/upstream';
import { scriptedResponse } from './chat/upstream-script';

const MODEL = 'gpt-5.5';

let stack: E2EStack;
let apiKey: string;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack();
  apiKey = await stack.createKey();
  client = new OpenAI({ baseURL: stack.baseUrl, apiKey, maxRetries: 0, timeout: 30_000 });
});

afterAll(async () => {
  await stack?.stop();
  removeTempDirs();
});

beforeEach(() => stack.sim.reset());

const weatherTool: ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  },
};

/** POST /v1/chat/completions without an SDK. */
function rawChat(body: unknown): Promise<Response> {
  return fetch(`${stack.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Collects every chunk of an SDK stream helper, then its validated final completion. */
async function drainHelper(stream: ReturnType<OpenAI['chat']['completions']['stream']>) {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { chunks, final: await stream.finalChatCompletion() };
}

/** The chunk-level contract of a streamed chat answer with include_usage (research §2.4). */
function expectWellFormedUsageStream(chunks: ChatCompletionChunk[], finishReason: 'stop' | 'tool_calls') {
  expect(chunks.length).toBeGreaterThanOrEqual(3);
  const [first] = chunks;
  const last = chunks[chunks.length - 1]!;
  expect(first!.choices[0]!.delta.role).toBe('assistant');
  for (const chunk of chunks) {
    expect(chunk.object).toBe('chat.completion.chunk');
    expect(chunk.id).toBe(first!.id);
    expect(chunk.model).toBe(MODEL);
    expect(chunk.created).toBe(first!.created);
  }
  // usage: null on every chunk but the final `choices: []` one.
  for (const chunk of chunks.slice(0, -1)) {
    expect(chunk.usage).toBeNull();
    expect(chunk.choices).toHaveLength(1);
  }
  expect(last.choices).toEqual([]);
  expect(last.usage).toBeTruthy();
  const finishes = chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter((r) => r !== null && r !== undefined);
  expect(finishes).toEqual([finishReason]);
  // The finish reason sits on the last choice chunk.
  expect(chunks[chunks.length - 2]!.choices[0]!.finish_reason).toBe(finishReason);
}

const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

describe('openai SDK: plain text', () => {
  test('create() non-stream: content, finish_reason stop, usage with cached and reasoning tokens as the upstream reported', async () => {
    const answer = 'Paris is the capital of France.';
    stack.sim.enqueue(scriptedResponse([{ type: 'reasoning' }, { type: 'message', text: answer }], { input: 1843, cached: 1664, output: 97, reasoning: 64 }));

    const { data: completion, response } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'What is the capital of France?' }] })
      .withResponse();

    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(MODEL);
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices).toHaveLength(1);
    const [choice] = completion.choices;
    expect(choice!.index).toBe(0);
    expect(choice!.finish_reason).toBe('stop');
    expect(choice!.message.role).toBe('assistant');
    expect(choice!.message.content).toBe(answer);
    expect(choice!.message.tool_calls ?? []).toEqual([]);
    expect(completion.usage).toEqual({
      prompt_tokens: 1843,
      completion_tokens: 97,
      total_tokens: 1940,
      prompt_tokens_details: { cached_tokens: 1664 },
      completion_tokens_details: { reasoning_tokens: 64 },
    });

    const body = onlyUpstreamBody(stack.sim);
    expect(body.stream).toBe(true);
    expect(body.model).toBe(MODEL);
    expect(inputItems(body)).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is the capital of France?' }] }]);
  });

  test('stream() + finalChatCompletion() with include_usage: role first, one finish_reason, final choices:[] usage chunk', async () => {
    const answer = 'Streaming works: one, two, three.';
    stack.sim.enqueue(scriptedResponse([{ type: 'message', text: answer, chunkSize: 3 }], { input: 321, cached: 128, output: 12, reasoning: 0 }));

    const { chunks, final } = await drainHelper(
      client.chat.completions.stream({
        model: MODEL,
        messages: [{ role: 'user', content: 'Count to three.' }],
        stream_options: { include_usage: true },
      }),
    );

    expectWellFormedUsageStream(chunks, 'stop');
    expect(contentOf(chunks)).toBe(answer);
    // Several content deltas arrived: the answer was streamed, not sent in one piece.
    expect(chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '').length).toBeGreaterThan(1);
    const usage = { prompt_tokens: 321, completion_tokens: 12, total_tokens: 333, prompt_tokens_details: { cached_tokens: 128 }, completion_tokens_details: { reasoning_tokens: 0 } };
    expect(chunks[chunks.length - 1]!.usage).toEqual(usage);

    expect(final.choices[0]!.message.role).toBe('assistant');
    expect(final.choices[0]!.message.content).toBe(answer);
    expect(final.choices[0]!.finish_reason).toBe('stop');
    expect(final.usage).toEqual(usage);

    // stream_options is the gateway's business: the ChatGPT backend rejects it.
    const body = onlyUpstreamBody(stack.sim);
    expect('stream_options' in body).toBe(false);
  });

  test('raw fetch stream: text/event-stream, usage chunk right before a single final data: [DONE]', async () => {
    const answer = 'Raw bytes, no SDK.';
    stack.sim.enqueue(scriptedResponse([{ type: 'message', text: answer }], { input: 50, cached: 0, output: 5, reasoning: 0 }));

    const response = await rawChat({ model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'raw please' }] });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const { chunks, doneLast, doneCount } = parseChunks(await ssePayloads(response));

    expect(doneLast).toBe(true);
    expect(doneCount).toBe(1);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(answer);
    const usageChunk = chunks[chunks.length - 1]!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual({ prompt_tokens: 50, completion_tokens: 5, total_tokens: 55, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } });
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]!.finish_reason)).toEqual(['stop']);
  });

  test('raw fetch stream without include_usage: no usage chunk, still a finish_reason and [DONE]', async () => {
    stack.sim.enqueue(scriptedResponse([{ type: 'message', text: 'No usage asked.' }], { input: 40, cached: 0, output: 4, reasoning: 0 }));

    const response = await rawChat({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'no usage' }] });
    expect(response.status).toBe(200);
    const { chunks, doneLast } = parseChunks(await ssePayloads(response));
    expect(doneLast).toBe(true);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.some((c) => c.usage !== undefined && c.usage !== null)).toBe(false);
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('No usage asked.');
  });
});

describe('openai SDK: tools over two turns', () => {
  const CALL_ID = 'call_weather_paris_01';
  const ARGS = '{"city":"Paris"}';
  const TOOL_OUTPUT = '{"temp_c":21,"sky":"clear"}';
  const question: ChatCompletionMessageParam = { role: 'user', content: 'What is the weather in Paris?' };

  /** Turn 2's upstream request carries the replayed call and its output, paired by call_id. */
  function expectToolRoundTrip(body: Json) {
    const items = inputItems(body);
    const call = items.find((i) => i.type === 'function_call');
    const output = items.find((i) => i.type === 'function_call_output');
    expect(call).toMatchObject({ type: 'function_call', call_id: CALL_ID, name: 'get_weather', arguments: ARGS });
    expect(output).toMatchObject({ type: 'function_call_output', call_id: CALL_ID, output: TOOL_OUTPUT });
    expect(items.indexOf(call!)).toBeLessThan(items.indexOf(output!));
    expect(items[0]).toMatchObject({ type: 'message', role: 'user' });
    expect(body.tools).toEqual([expect.objectContaining({ type: 'function', name: 'get_weather', parameters: weatherTool.function.parameters })]);
  }

  test('non-stream: tool_calls turn, then the tool result reaches the upstream and the answer uses it', async () => {
    stack.sim.enqueue(scriptedResponse([{ type: 'function_call', callId: CALL_ID, name: 'get_weather', arguments: ARGS }], { input: 210, cached: 0, output: 18, reasoning: 0 }));

    const turn1 = await client.chat.completions.create({ model: MODEL, messages: [question], tools: [weatherTool] });
    const choice1 = turn1.choices[0]!;
    expect(choice1.finish_reason).toBe('tool_calls');
    expect(choice1.message.content).toBeNull();
    expect(choice1.message.tool_calls).toEqual([{ id: CALL_ID, type: 'function', function: { name: 'get_weather', arguments: ARGS } }]);
    expect(turn1.usage).toMatchObject({ prompt_tokens: 210, completion_tokens: 18, total_tokens: 228 });

    // Turn 2: the simulator's own model answers a function_call_output with "Tool result received: <output>".
    const turn2 = await client.chat.completions.create({
      model: MODEL,
      tools: [weatherTool],
      messages: [question, choice1.message as ChatCompletionMessageParam, { role: 'tool', tool_call_id: CALL_ID, content: TOOL_OUTPUT }],
    });
    const expectedText = `Tool result received: ${TOOL_OUTPUT}`;
    expect(turn2.choices[0]!.finish_reason).toBe('stop');
    expect(turn2.choices[0]!.message.content).toBe(expectedText);
    expect(turn2.choices[0]!.message.tool_calls ?? []).toEqual([]);

    const calls = upstreamCalls(stack.sim);
    expect(calls).toHaveLength(2);
    expectToolRoundTrip(calls[1]!.body as Json);
    expect(turn2.usage).toEqual(simulatedUsage(stack.sim, calls[1]!, { texts: [expectedText] }));
  });

  test('stream(): tool call deltas are well formed, then the streamed second turn answers with the tool result', async () => {
    stack.sim.enqueue(scriptedResponse([{ type: 'function_call', callId: CALL_ID, name: 'get_weather', arguments: ARGS }], { input: 230, cached: 200, output: 20, reasoning: 9 }));

    const turn1 = await drainHelper(
      client.chat.completions.stream({ model: MODEL, messages: [question], tools: [weatherTool], stream_options: { include_usage: true } }),
    );
    expectWellFormedUsageStream(turn1.chunks, 'tool_calls');
    const fragments = turn1.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(fragments.length).toBeGreaterThan(1); // the arguments were streamed as deltas
    expect(fragments[0]).toMatchObject({ index: 0, id: CALL_ID, type: 'function', function: { name: 'get_weather' } });
    for (const fragment of fragments.slice(1)) {
      expect(fragment.index).toBe(0);
      expect(fragment.id ?? CALL_ID).toBe(CALL_ID);
      expect(fragment.function?.name ?? 'get_weather').toBe('get_weather');
    }
    expect(fragments.map((f) => f.function?.arguments ?? '').join('')).toBe(ARGS);
    expect(turn1.final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(turn1.final.choices[0]!.message.tool_calls).toEqual([{ id: CALL_ID, type: 'function', function: { name: 'get_weather', arguments: ARGS } }]);
    expect(turn1.final.usage).toEqual({
      prompt_tokens: 230,
      completion_tokens: 20,
      total_tokens: 250,
      prompt_tokens_details: { cached_tokens: 200 },
      completion_tokens_details: { reasoning_tokens: 9 },
    });

    const assistant = turn1.final.choices[0]!.message;
    const turn2 = await drainHelper(
      client.chat.completions.stream({
        model: MODEL,
        tools: [weatherTool],
        stream_options: { include_usage: true },
        messages: [question, { role: 'assistant', content: assistant.content ?? null, tool_calls: assistant.tool_calls }, { role: 'tool', tool_call_id: CALL_ID, content: TOOL_OUTPUT }],
      }),
    );
    const expectedText = `Tool result received: ${TOOL_OUTPUT}`;
    expectWellFormedUsageStream(turn2.chunks, 'stop');
    expect(contentOf(turn2.chunks)).toBe(expectedText);
    expect(turn2.final.choices[0]!.message.content).toBe(expectedText);

    const calls = upstreamCalls(stack.sim);
    expect(calls).toHaveLength(2);
    expectToolRoundTrip(calls[1]!.body as Json);
    expect(turn2.final.usage).toEqual(simulatedUsage(stack.sim, calls[1]!, { texts: [expectedText] }));
  });

  test('a function call that arrives without argument deltas (argumentDeltas:false) still streams as one well-formed tool call', async () => {
    const lookup: ChatCompletionFunctionTool = {
      type: 'function',
      function: { name: 'lookup_order', parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } },
    };
    const args = '{"order_id":"A-1729","include_items":true}';
    stack.sim.enqueue({ kind: 'function_call', name: 'lookup_order', arguments: args, argumentDeltas: false });

    const { chunks, final } = await drainHelper(
      client.chat.completions.stream({
        model: MODEL,
        messages: [{ role: 'user', content: 'Where is order A-1729?' }],
        tools: [lookup],
        stream_options: { include_usage: true },
      }),
    );
    expectWellFormedUsageStream(chunks, 'tool_calls');
    const fragments = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const opening = fragments.filter((f) => f.id !== undefined);
    expect(opening).toHaveLength(1);
    expect(opening[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'lookup_order' } });
    expect(opening[0]!.id).toMatch(/^call_/);
    expect(fragments.every((f) => f.index === 0)).toBe(true);
    expect(fragments.map((f) => f.function?.arguments ?? '').join('')).toBe(args);

    const [toolCall] = final.choices[0]!.message.tool_calls ?? [];
    expect(final.choices[0]!.message.tool_calls).toHaveLength(1);
    expect(toolCall).toEqual({ id: opening[0]!.id!, type: 'function', function: { name: 'lookup_order', arguments: args } });
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    const [call] = upstreamCalls(stack.sim);
    expect(final.usage).toEqual(simulatedUsage(stack.sim, call!, { calls: [{ name: 'lookup_order', arguments: args }] }));
  });

  test('a preamble plus two parallel calls stream as content and tool_calls indexes 0 and 1 with their own ids', async () => {
    const timeTool: ChatCompletionFunctionTool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } } };
    const preamble = 'Checking both for you.';
    stack.sim.enqueue(
      scriptedResponse(
        [
          { type: 'message', text: preamble },
          { type: 'function_call', callId: 'call_par_a', name: 'get_weather', arguments: '{"city":"Rome"}' },
          { type: 'function_call', callId: 'call_par_b', name: 'get_time', arguments: '{"tz":"Europe/Rome"}', deltas: false },
        ],
        { input: 300, cached: 0, output: 25, reasoning: 0 },
      ),
    );

    const { chunks, final } = await drainHelper(
      client.chat.completions.stream({
        model: MODEL,
        messages: [{ role: 'user', content: 'Weather and time in Rome?' }],
        tools: [weatherTool, timeTool],
        parallel_tool_calls: true,
        stream_options: { include_usage: true },
      }),
    );
    expectWellFormedUsageStream(chunks, 'tool_calls');
    const fragments = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(fragments.filter((f) => f.id !== undefined).map((f) => [f.index, f.id, f.function?.name])).toEqual([
      [0, 'call_par_a', 'get_weather'],
      [1, 'call_par_b', 'get_time'],
    ]);
    const message = final.choices[0]!.message;
    expect(message.content).toBe(preamble);
    expect(message.tool_calls).toEqual([
      { id: 'call_par_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
      { id: 'call_par_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"Europe/Rome"}' } },
    ]);
    expect(final.usage).toMatchObject({ prompt_tokens: 300, completion_tokens: 25, total_tokens: 325 });
    expect(onlyUpstreamBody(stack.sim).parallel_tool_calls).toBe(true);
  });
});

describe('openai SDK: request translation', () => {
  test('image_url data URL → upstream input_image; the simulator saw the image', async () => {
    const url = tinyPngDataUrl();
    const prompt = 'What colour is this pixel?';
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: [{ type: 'text', text: prompt }, { type: 'image_url', image_url: { url, detail: 'low' } }] }],
    });
    const expectedText = `Echo: ${prompt} [image received]`;
    expect(completion.choices[0]!.message.content).toBe(expectedText);
    expect(completion.choices[0]!.finish_reason).toBe('stop');

    const [call] = upstreamCalls(stack.sim);
    const items = inputItems(call!.body as Json);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: 'message', role: 'user' });
    expect(items[0]!.content).toEqual([
      { type: 'input_text', text: prompt },
      { type: 'input_image', image_url: url, detail: 'low' },
    ]);
    expect(completion.usage).toEqual(simulatedUsage(stack.sim, call!, { texts: [expectedText] }));
  });

  test('response_format json_schema → upstream text.format json_schema with the schema; the JSON answer parses', async () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, temp_c: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['city', 'temp_c', 'tags'],
      additionalProperties: false,
    };
    const report = { city: 'Oslo', temp_c: -3.5, tags: ['snow', 'wind'] };
    const json = JSON.stringify(report);
    stack.sim.enqueue({ kind: 'text', text: json, chunkSize: 6 });

    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather report for Oslo as JSON.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'weather_report', schema, strict: true } },
    });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual(report);

    const [call] = upstreamCalls(stack.sim);
    const body = call!.body as Json;
    expect('response_format' in body).toBe(false);
    const format = (body.text as Json | undefined)?.format as Json | undefined;
    expect(format).toMatchObject({ type: 'json_schema', name: 'weather_report', strict: true });
    expect(format!.schema).toEqual(schema);
    expect(completion.usage).toEqual(simulatedUsage(stack.sim, call!, { texts: [json] }));
  });

  test('system + developer messages become the upstream instructions, not input messages', async () => {
    const system = 'You are a terse assistant. SYSTEM-MARKER-7';
    const developer = 'Always answer in English. DEVELOPER-MARKER-9';
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: system },
        { role: 'developer', content: developer },
        { role: 'user', content: 'Say hello' },
      ],
    });
    expect(completion.choices[0]!.message.content).toBe('Echo: Say hello');

    const body = onlyUpstreamBody(stack.sim);
    const instructions = body.instructions as string;
    expect(typeof instructions).toBe('string');
    expect(instructions).toContain(system);
    expect(instructions).toContain(developer);
    expect(instructions.indexOf(system)).toBeLessThan(instructions.indexOf(developer));
    expect(inputItems(body)).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Say hello' }] }]);
    expect(JSON.stringify(body.input)).not.toContain('MARKER');
  });

  test('max_tokens and temperature: 200, named in x-codexin-ignored-params, and never sent upstream', async () => {
    const { data: completion, response } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'Ignore my knobs' }], max_tokens: 64, temperature: 0.2 })
      .withResponse();
    expect(response.status).toBe(200);
    const ignored = (response.headers.get('x-codexin-ignored-params') ?? '').split(',').map((s) => s.trim()).filter(Boolean).sort();
    expect(ignored).toEqual(['max_tokens', 'temperature']);
    expect(completion.choices[0]!.message.content).toBe('Echo: Ignore my knobs');

    const body = onlyUpstreamBody(stack.sim);
    for (const name of ['max_tokens', 'max_output_tokens', 'max_completion_tokens', 'temperature']) expect(name in body).toBe(false);
  });

  test('Roo/LibreChat/Continue extras (max_completion_tokens, stop, user, penalties, seed, cache_control parts) are dropped and named', async () => {
    const response = await rawChat({
      model: MODEL,
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }] },
        { role: 'user', content: [{ type: 'text', text: 'cache me', cache_control: { type: 'ephemeral' } }] },
      ],
      max_completion_tokens: 256,
      stop: ['\n\n'],
      user: 'user-42',
      presence_penalty: 0,
      frequency_penalty: 0.5,
      seed: 7,
    });
    expect(response.status).toBe(200);
    const ignored = (response.headers.get('x-codexin-ignored-params') ?? '').split(',').map((s) => s.trim()).filter(Boolean).sort();
    expect(ignored).toEqual(['frequency_penalty', 'max_completion_tokens', 'presence_penalty', 'seed', 'stop', 'user']);
    const completion = (await response.json()) as { choices: { message: { content: string }; finish_reason: string }[] };
    expect(completion.choices[0]!.message.content).toBe('Echo: cache me');
    expect(completion.choices[0]!.finish_reason).toBe('stop');

    const body = onlyUpstreamBody(stack.sim);
    for (const name of ignored) expect(name in body).toBe(false);
    expect(body.instructions).toBe('Be brief.');
    expect(JSON.stringify(body)).not.toContain('cache_control');
    expect(inputItems(body)).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'cache me' }] }]);
  });

  test('n: 2 → 400 BadRequestError with param n, nothing sent upstream', async () => {
    const error = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'two please' }], n: 2 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BadRequestError);
    const bad = error as BadRequestError;
    expect(bad.status).toBe(400);
    expect(bad.param).toBe('n');
    expect(bad.type).toBe('invalid_request_error');
    expect(bad.requestID).toBeTruthy();
    expect(upstreamCalls(stack.sim)).toHaveLength(0);
  });

  test('logprobs: true → 400 with param logprobs, nothing sent upstream', async () => {
    const error = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'odds?' }], logprobs: true, top_logprobs: 2 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).status).toBe(400);
    expect((error as BadRequestError).param).toBe('logprobs');
    expect(upstreamCalls(stack.sim)).toHaveLength(0);
  });

  test('Cursor-style Responses-shaped body (input, include, reasoning, text.verbosity) on /chat/completions → Chat SSE back', async () => {
    const prompt = 'Cursor asks: refactor this loop';
    const response = await rawChat({
      model: MODEL,
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] }],
      include: ['reasoning.encrypted_content'],
      reasoning: { effort: 'low', summary: 'auto' },
      text: { verbosity: 'low' },
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const { chunks, doneLast } = parseChunks(await ssePayloads(response));
    expect(doneLast).toBe(true);
    for (const chunk of chunks) expect(chunk.object).toBe('chat.completion.chunk');
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const expectedText = `Echo: ${prompt}`;
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(expectedText);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]!.finish_reason)).toEqual(['stop']);
    const usageChunk = chunks[chunks.length - 1]!;
    expect(usageChunk.choices).toEqual([]);

    const body = onlyUpstreamBody(stack.sim);
    expect(body.reasoning).toMatchObject({ effort: 'low', summary: 'auto' });
    expect((body.text as Json).verbosity).toBe('low');
    expect(body.include).toContain('reasoning.encrypted_content');
    expect('stream_options' in body).toBe(false);
    expect(inputItems(body)).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] }]);
    // effort low: the simulator's reasoning item counts 16 tokens.
    const [call] = upstreamCalls(stack.sim);
    expect(usageChunk.usage).toEqual(simulatedUsage(stack.sim, call!, { texts: [expectedText], reasoningTokens: 16 }));
  });
});

describe('openai SDK: failures', () => {
  test('an upstream failure mid-stream makes the SDK stream throw an APIError (no silent end)', async () => {
    const message = 'Simulated backend failure in the middle of the answer.';
    const prompt = 'Please explain quantum tunnelling in detail';
    // created, in_progress, codex.rate_limits, output_item.added, content_part.added, then two text deltas.
    stack.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 7, code: 'server_error', message });

    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: prompt }], stream: true });
    let content = '';
    let finishReason: string | null = null;
    const error = await (async () => {
      for await (const chunk of stream) {
        content += chunk.choices[0]?.delta.content ?? '';
        finishReason ??= chunk.choices[0]?.finish_reason ?? null;
      }
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain(message);
    expect((error as APIError).code).toBe('server_error');
    expect(finishReason).toBeNull();
    // What arrived before the failure is a true prefix of the simulator's answer.
    const full = `Echo: ${prompt}`;
    expect(content.length).toBeGreaterThan(0);
    expect(content.length).toBeLessThan(full.length);
    expect(full.startsWith(content)).toBe(true);
  });

  test('the stream() helper rejects finalChatCompletion() on a mid-stream failure', async () => {
    const message = 'Overloaded half way.';
    stack.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 6, code: 'server_is_overloaded', message });
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'long answer please' }],
      stream_options: { include_usage: true },
    });
    stream.on('error', () => {}); // handled through finalChatCompletion below
    const error = await stream.finalChatCompletion().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain(message);
    expect((error as APIError).code).toBe('server_is_overloaded');
  });

  test('a client that stops reading mid-stream cancels the upstream request', async () => {
    stack.sim.enqueue({ kind: 'many_events', deltas: 5000, intervalMs: 2 });
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'a very long answer' }], stream: true });
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) received += 1;
      if (received >= 3) break; // the SDK aborts its request on break
    }
    expect(received).toBe(3);
    // The scripted answer needs 10 s or more to finish: an abort seen within 2 s means the
    // gateway dropped the upstream request instead of reading it to the end for nobody.
    const deadline = Date.now() + 2_000;
    while (stack.sim.aborts.length === 0 && Date.now() < deadline) await Bun.sleep(10);
    expect(stack.sim.aborts.map((a) => a.path)).toEqual(['/backend-api/codex/responses']);
  });

  // Last on purpose: it leaves the only account cooling down until its window resets.
  test('usage_limit 429 upstream → RateLimitError with retry-after (maxRetries 0, one upstream try)', async () => {
    const resetsIn = 600;
    stack.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: resetsIn });
    const error = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'one more' }] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RateLimitError);
    const limited = error as RateLimitError;
    expect(limited.status).toBe(429);
    expect(limited.code).toBe('usage_limit_reached');
    expect(limited.requestID).toBeTruthy();
    const retryAfter = Number(limited.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(resetsIn - 2);
    expect(retryAfter).toBeLessThanOrEqual(resetsIn + 1);
    expect(Number(limited.headers?.get('retry-after-ms'))).toBe(retryAfter * 1000);
    // A subscription window this long is not worth an SDK retry.
    expect(limited.headers?.get('x-should-retry')).toBe('false');
    expect(upstreamCalls(stack.sim)).toHaveLength(1);
  });
});
