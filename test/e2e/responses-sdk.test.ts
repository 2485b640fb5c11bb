/**
 * /v1/responses end to end with the real `openai` SDK (7.57): the compiled binary in
 * front of the ChatGPT-backend simulator. Covers `responses.create` (JSON and the raw
 * stream iterator), the strict `responses.stream()` accumulator over text, reasoning,
 * function calls (two-turn round trip, and calls without argument deltas), custom
 * tools and image input, image validation errors as SDK APIErrors, and usage metering.
 *
 * Expected values come from what each test scripts into the simulator (texts, tool
 * arguments, usage numbers) or from what the simulator recorded, never from CodexIn.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import OpenAI, { APIError, BadRequestError } from 'openai';
import { startStack, type E2EStack } from '../support/stack';
import { removeTempDirs } from '../support/binary';
import {
  MODEL,
  expectWellFormedUsage,
  lastUpstreamBody,
  makePng,
  pngDataUrl,
  scriptedTextStream,
  simulatedUsage,
  textOfMessage,
  upstreamResponsesRequests,
  type Json,
} from './responses/helpers';

let stack: E2EStack;
let key: string;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack();
  key = await stack.createKey();
  client = new OpenAI({ baseURL: stack.baseUrl, apiKey: key, maxRetries: 0, timeout: 30_000 });
});

afterAll(async () => {
  await stack?.stop();
  removeTempDirs();
});

// Each test starts with an empty script, no recorded requests and a cold prompt cache.
beforeEach(() => stack.sim.reset());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

const WEATHER_TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather for a city',
  strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
};

describe('responses.create', () => {
  test('non-streaming: a Response object with the scripted text, ids and the upstream usage', async () => {
    const text = 'Scripted answer number one, long enough to span several deltas.';
    stack.sim.enqueue({ kind: 'text', text, chunkSize: 5 });
    const { data: response, response: http } = await client.responses.create({ model: MODEL, input: 'non-stream please' }).withResponse();

    expect(http.status).toBe(200);
    expect(http.headers.get('x-request-id')).toMatch(/\S/);
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.id).toMatch(/\S/);
    expect(response.model).toBe(MODEL);
    expect(response.output_text).toBe(text);
    expect(response.output.length).toBe(1);
    const message = response.output[0] as Json;
    expect(message.type).toBe('message');
    expect(message.id).toMatch(/\S/);
    expect(message.role).toBe('assistant');
    expect(textOfMessage(message)).toBe(text);

    // Exactly the usage the simulator reported for this request (cold cache: nothing cached).
    const upstream = upstreamResponsesRequests(stack);
    expect(upstream.length).toBe(1);
    expectWellFormedUsage(response.usage as Json);
    expect(response.usage as Json).toEqual(simulatedUsage(upstream[0]!.rawBody, text.length));
    // The upstream got what it requires, whatever the client sent.
    const body = upstream[0]!.body as Json;
    expect(body.stream).toBe(true);
    expect(body.store).toBe(false);
  });

  test('stream:true iterated: sequence 0..n, created first, one completed with the full output, no codex.* events', async () => {
    const text = 'Streamed via the raw iterator.';
    stack.sim.enqueue({ kind: 'text', text, chunkSize: 4 });
    const stream = await client.responses.create({ model: MODEL, input: 'raw iterator please', stream: true });
    const events: Json[] = [];
    for await (const event of stream) events.push(event as Json);

    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]!.type).toBe('response.created');
    expect(events.filter((e) => typeof e.type === 'string' && e.type.startsWith('codex.'))).toEqual([]);
    const terminals = events.filter((e) => ['response.completed', 'response.failed', 'response.incomplete'].includes(e.type));
    expect(terminals.map((e) => e.type)).toEqual(['response.completed']);
    expect(events[events.length - 1]!.type).toBe('response.completed');

    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.length).toBe(Math.ceil(text.length / 4));
    expect(deltas.map((e) => e.delta).join('')).toBe(text);

    // The upstream's response.completed carries output: [] (ChatGPT backend); CodexIn rebuilds it.
    const completed = terminals[0]!.response as Json;
    expect(completed.status).toBe('completed');
    expect(completed.output.length).toBe(1);
    expect(completed.output[0].type).toBe('message');
    expect(textOfMessage(completed.output[0])).toBe(text);
    const doneItems = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item);
    expect(completed.output).toEqual(doneItems);
    expect(completed.id).toBe(events[0]!.response.id);
    expectWellFormedUsage(completed.usage);
    expect(completed.usage).toEqual(simulatedUsage(upstreamResponsesRequests(stack)[0]!.rawBody, text.length));
  });
});

describe('responses.stream().finalResponse() (the strict accumulator)', () => {
  test('plain text', async () => {
    const text = 'Hello from the strict accumulator test.';
    stack.sim.enqueue({ kind: 'text', text });
    const stream = client.responses.stream({ model: MODEL, input: 'strict text please' });
    const seen: string[] = [];
    stream.on('event', (e) => seen.push(e.type));
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe(text);
    expect(final.output.map((i) => i.type)).toEqual(['message']);
    expect(seen[0]).toBe('response.created');
    expect(seen[seen.length - 1]).toBe('response.completed');
    expect(seen.filter((t) => t === 'response.output_text.delta').length).toBe(Math.ceil(text.length / 8));
  });

  test('reasoning with summary: a reasoning item with the summary text and encrypted_content', async () => {
    const summary = 'Scripted chain of thought summary: compare both options.';
    const text = 'The answer after reasoning.';
    stack.sim.enqueue({ kind: 'text', text, reasoning: summary });
    const stream = client.responses.stream({ model: MODEL, input: 'think then answer', reasoning: { effort: 'low', summary: 'auto' } });
    const summaryDeltas: string[] = [];
    stream.on('response.reasoning_summary_text.delta', (e) => summaryDeltas.push(e.delta));
    const final = await stream.finalResponse();

    expect(final.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    const reasoning = final.output[0] as Json;
    expect(reasoning.id).toMatch(/\S/);
    expect(reasoning.summary).toEqual([{ type: 'summary_text', text: summary }]);
    expect(typeof reasoning.encrypted_content).toBe('string');
    expect(reasoning.encrypted_content.length).toBeGreaterThan(0);
    expect(summaryDeltas.join('')).toBe(summary);
    expect(final.output_text).toBe(text);
    expect((final.usage as Json).output_tokens_details.reasoning_tokens).toBeGreaterThan(0);

    const upstream = lastUpstreamBody(stack);
    expect(upstream.reasoning).toEqual({ effort: 'low', summary: 'auto' });
    expect(upstream.include).toContain('reasoning.encrypted_content');
  });

  test('reasoning without a summary: the reasoning item has encrypted_content and an empty summary', async () => {
    const text = 'Answer without a visible summary.';
    stack.sim.enqueue({ kind: 'text', text });
    const stream = client.responses.stream({ model: MODEL, input: 'think quietly', reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'] });
    const summaryEvents: string[] = [];
    stream.on('event', (e) => {
      if (e.type.startsWith('response.reasoning_summary')) summaryEvents.push(e.type);
    });
    const final = await stream.finalResponse();
    expect(final.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    const reasoning = final.output[0] as Json;
    expect(reasoning.summary).toEqual([]);
    expect(reasoning.encrypted_content).toMatch(/\S/);
    expect(summaryEvents).toEqual([]);
    expect(final.output_text).toBe(text);
    expect(lastUpstreamBody(stack).reasoning).toEqual({ effort: 'low' });
  });

  test('function call round trip over two turns (built-in model: "call get_weather")', async () => {
    const first = client.responses.stream({ model: MODEL, input: 'Please call get_weather for me', tools: [WEATHER_TOOL] });
    const argDeltas: string[] = [];
    first.on('response.function_call_arguments.delta', (e) => argDeltas.push(e.delta));
    const turn1 = await first.finalResponse();

    const calls = turn1.output.filter((i) => i.type === 'function_call');
    expect(calls.length).toBe(1);
    const call = calls[0]! as Json;
    expect(call.name).toBe('get_weather');
    expect(call.call_id).toMatch(/\S/);
    expect(call.id).toMatch(/\S/);
    expect(call.status).toBe('completed');
    // The simulator fills the schema's required properties.
    expect(JSON.parse(call.arguments)).toEqual({ city: expect.any(String) });
    expect(argDeltas.join('')).toBe(call.arguments);
    expect((lastUpstreamBody(stack).tools as Json[]).map((t) => t.name)).toEqual(['get_weather']);

    const toolOutput = 'Sunny, 21 degrees in Paris';
    const second = client.responses.stream({
      model: MODEL,
      tools: [WEATHER_TOOL],
      input: [
        { role: 'user', content: 'Please call get_weather for me' },
        { type: 'function_call', id: call.id, call_id: call.call_id, name: call.name, arguments: call.arguments, status: 'completed' },
        { type: 'function_call_output', call_id: call.call_id, output: toolOutput },
      ],
    });
    const turn2 = await second.finalResponse();

    const upstreamInput = lastUpstreamBody(stack).input as Json[];
    const sentOutput = upstreamInput.find((i) => i.type === 'function_call_output');
    expect(sentOutput).toEqual({ type: 'function_call_output', call_id: call.call_id, output: toolOutput });
    const sentCall = upstreamInput.find((i) => i.type === 'function_call');
    expect(sentCall).toMatchObject({ call_id: call.call_id, name: 'get_weather', arguments: call.arguments });
    expect(turn2.output_text).toContain(toolOutput);
    expect(turn2.output.map((i) => i.type)).toEqual(['message']);
  });

  test('scripted function call without argument deltas (only output_item.added/done upstream)', async () => {
    const args = '{"city":"Reykjavik","unit":"celsius"}';
    stack.sim.enqueue({ kind: 'function_call', name: 'get_weather', arguments: args, argumentDeltas: false });
    const stream = client.responses.stream({ model: MODEL, input: 'weather in Reykjavik?', tools: [WEATHER_TOOL] });
    const final = await stream.finalResponse();

    expect(final.output.length).toBe(1);
    const call = final.output[0] as Json;
    expect(call.type).toBe('function_call');
    expect(call.name).toBe('get_weather');
    expect(call.arguments).toBe(args);
    expect(call.call_id).toMatch(/\S/);
    expect(call.id).toMatch(/\S/);
    expect(call.status).toBe('completed');
  });

  test('commentary text followed by a function call: two items, in order', async () => {
    const commentary = 'Let me look that up.';
    const args = '{"city":"Lima"}';
    stack.sim.enqueue({ kind: 'function_call', name: 'get_weather', arguments: args, text: commentary });
    const final = await client.responses.stream({ model: MODEL, input: 'weather in Lima?', tools: [WEATHER_TOOL] }).finalResponse();
    expect(final.output.map((i) => i.type)).toEqual(['message', 'function_call']);
    const [message, call] = final.output as unknown as [Json, Json];
    expect(textOfMessage(message)).toBe(commentary);
    expect(message.phase).toBe('commentary');
    expect(call).toMatchObject({ name: 'get_weather', arguments: args, status: 'completed' });
    expect(new Set(final.output.map((i) => i.id)).size).toBe(2);
  });

  test('custom tool call', async () => {
    const patch = '*** Begin Patch\n*** Add File: notes.txt\n+scripted by the e2e test\n*** End Patch\n';
    stack.sim.enqueue({ kind: 'custom_tool_call', name: 'apply_patch', input: patch });
    const stream = client.responses.stream({
      model: MODEL,
      input: 'edit the file',
      tools: [{ type: 'custom', name: 'apply_patch', description: 'Apply a patch', format: { type: 'text' } }],
    });
    const inputDeltas: string[] = [];
    stream.on('response.custom_tool_call_input.delta', (e) => inputDeltas.push(e.delta));
    const final = await stream.finalResponse();

    expect(final.output.length).toBe(1);
    const call = final.output[0] as Json;
    expect(call.type).toBe('custom_tool_call');
    expect(call.name).toBe('apply_patch');
    expect(call.input).toBe(patch);
    expect(call.call_id).toMatch(/\S/);
    expect(inputDeltas.join('')).toBe(patch);
    expect((lastUpstreamBody(stack).tools as Json[])[0]).toMatchObject({ type: 'custom', name: 'apply_patch' });
  });

  test('image input: the upstream receives the input_image and the model sees it', async () => {
    const dataUrl = pngDataUrl(makePng(4, 3, [10, 120, 240]));
    const stream = client.responses.stream({
      model: MODEL,
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is in this picture?' },
            { type: 'input_image', image_url: dataUrl, detail: 'auto' },
          ],
        },
      ],
    });
    const final = await stream.finalResponse();

    const upstreamInput = lastUpstreamBody(stack).input as Json[];
    const parts = upstreamInput.flatMap((i) => (Array.isArray(i.content) ? i.content : []));
    expect(parts.find((p: Json) => p.type === 'input_image')).toMatchObject({ type: 'input_image', image_url: dataUrl });
    expect(final.output_text).toBe('Echo: What is in this picture? [image received]');
  });
});

describe('image validation: OpenAI-shaped errors surfaced as SDK APIErrors', () => {
  function imageRequest(imageUrl: string) {
    return client.responses.create({
      model: MODEL,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', image_url: imageUrl, detail: 'auto' }] }],
    });
  }

  test('a non-image media type → 400 naming the image parameter', async () => {
    const error = await rejection(imageRequest(`data:text/plain;base64,${Buffer.from('just some text').toString('base64')}`));
    expect(error).toBeInstanceOf(BadRequestError);
    const e = error as APIError;
    expect(e.status).toBe(400);
    expect(e.type).toBe('invalid_request_error');
    expect(e.code).toMatch(/\S/);
    expect(e.param).toBe('input[0].content[1].image_url');
    expect(e.requestID).toMatch(/\S/);
    expect(upstreamResponsesRequests(stack)).toEqual([]);
  });

  test('invalid base64 → 400', async () => {
    const error = await rejection(imageRequest('data:image/png;base64,iVBORw0KGgo%%%not*base64!!'));
    expect(error).toBeInstanceOf(BadRequestError);
    const e = error as APIError;
    expect(e.status).toBe(400);
    expect(e.type).toBe('invalid_request_error');
    expect(e.param).toBe('input[0].content[1].image_url');
    expect(e.code).toMatch(/\S/);
    expect(upstreamResponsesRequests(stack)).toEqual([]);
  });

  test('an image data URL over 20 MB → 413', async () => {
    const png = Buffer.from(makePng(1, 1)).toString('base64');
    // 28 M base64 characters ≈ 21 MB of data: over the 20 MB image limit, under the body limit.
    const huge = `data:image/png;base64,${png.slice(0, 64)}${'A'.repeat(28_000_000)}`;
    const error = await rejection(imageRequest(huge));
    expect(error).toBeInstanceOf(APIError);
    const e = error as APIError;
    expect(e.status).toBe(413);
    expect(e.param).toBe('input[0].content[1].image_url');
    expect(e.code).toMatch(/\S/);
    expect((e.error as Json).message).toMatch(/\S/);
    expect(upstreamResponsesRequests(stack)).toEqual([]);
  });
});

describe('usage metering (read back through the admin API)', () => {
  const usage = { input: 1234, cached: 1024, output: 77, reasoning: 33 };

  /** A fresh key (POST /admin/keys) so its usage totals hold exactly the requests of one test. */
  async function freshKey(): Promise<{ id: string; client: OpenAI }> {
    const res = await fetch(`${stack.server.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'metering' }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; key: string };
    return { id: created.id, client: new OpenAI({ baseURL: stack.baseUrl, apiKey: created.key, maxRetries: 0 }) };
  }

  async function expectMetered(keyId: string): Promise<void> {
    const res = await fetch(`${stack.server.url}/admin/keys/${keyId}`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
    expect(res.status).toBe(200);
    const view = (await res.json()) as { id: string; usage: Json };
    expect(view.id).toBe(keyId);
    expect(view.usage).toEqual({ requests: 1, input_tokens: usage.input, cached_tokens: usage.cached, output_tokens: usage.output, reasoning_tokens: usage.reasoning });
  }

  test('a completed stream records the usage the upstream reported in response.completed', async () => {
    const { id, client: metered } = await freshKey();
    const text = 'metered streaming answer';
    stack.sim.enqueue({ kind: 'events', events: scriptedTextStream({ responseId: 'resp_metered_stream', messageId: 'msg_metered_stream', text, deltas: ['metered ', 'streaming ', 'answer'], usage }) });
    const stream = await metered.responses.create({ model: MODEL, input: 'meter me (stream)', stream: true });
    const events: Json[] = [];
    for await (const e of stream) events.push(e as Json);
    const completed = events[events.length - 1]!;
    expect(completed.type).toBe('response.completed');
    expect(completed.response.usage).toEqual({
      input_tokens: usage.input,
      input_tokens_details: { cached_tokens: usage.cached },
      output_tokens: usage.output,
      output_tokens_details: { reasoning_tokens: usage.reasoning },
      total_tokens: usage.input + usage.output,
    });
    // Upstream output was [] in response.completed: rebuilt from the streamed item.
    expect(completed.response.output.map((i: Json) => [i.id, textOfMessage(i)])).toEqual([['msg_metered_stream', text]]);
    expect(events.some((e) => e.type.startsWith('codex.'))).toBe(false);
    await expectMetered(id);
  });

  test('a non-streaming request records the same counters', async () => {
    const { id, client: metered } = await freshKey();
    const text = 'metered json answer';
    stack.sim.enqueue({ kind: 'events', events: scriptedTextStream({ responseId: 'resp_metered_json', messageId: 'msg_metered_json', text, deltas: [text], usage }) });
    const response = await metered.responses.create({ model: MODEL, input: 'meter me (json)' });
    expect(response.output_text).toBe(text);
    expect(response.usage?.input_tokens).toBe(usage.input);
    expect(response.usage?.input_tokens_details.cached_tokens).toBe(usage.cached);
    expect(response.usage?.output_tokens).toBe(usage.output);
    expect(response.usage?.output_tokens_details.reasoning_tokens).toBe(usage.reasoning);
    await expectMetered(id);
  });
});
