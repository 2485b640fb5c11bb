/**
 * The translated chat stream and completion, checked by the real openai SDK (7.57):
 * `chat.completions.stream().finalChatCompletion()` throws on a missing role or
 * finish_reason and on malformed or re-identified tool calls; `create()` must parse
 * the non-stream object. A loopback server replays our output as the SDK would see it.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI, { APIError } from 'openai';
import type { ChatCompletion, ChatCompletionChunk, ChatStreamError } from '../../src/openai/chat-types';
import type { ResponseObject, ResponseStreamEvent } from '../../src/openai/responses-types';
import { chatChunksFromEvents, encodeChatSse } from '../../src/translate/chat-stream';
import { responseToChatCompletion } from '../../src/translate/chat-response';
import { collect, fromArray, recordedEvents, recordedResponses } from './recorded-streams';

type Out = ChatCompletionChunk | ChatStreamError;

/** What the server answers next: an SSE body of chunks, or a JSON completion. */
let nextStream: Out[] = [];
let nextCompletion: ChatCompletion | null = null;
let server: ReturnType<typeof Bun.serve>;
let client: OpenAI;

beforeAll(() => {
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const body = (await request.json()) as { stream?: boolean };
      if (body.stream) {
        const sse = nextStream.map(encodeChatSse).join('') + 'data: [DONE]\n\n';
        return new Response(sse, { headers: { 'content-type': 'text/event-stream' } });
      }
      return Response.json(nextCompletion);
    },
  });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'x', maxRetries: 0 });
});

afterAll(() => server.stop(true));

const translate = (events: ResponseStreamEvent[], includeUsage = true) =>
  collect(chatChunksFromEvents(fromArray(events), { model: 'gpt-5.5', includeUsage }));

async function finalViaSdk(out: Out[]) {
  nextStream = out;
  const stream = client.chat.completions.stream({
    model: 'gpt-5.5',
    messages: [{ role: 'user', content: 'hi' }],
    stream_options: { include_usage: true },
  });
  return stream.finalChatCompletion();
}

describe('openai SDK accepts the translated stream', () => {
  test('recorded reasoning + function call', async () => {
    const [first] = await recordedResponses('openai-reasoning-encrypted-content.1.chunks.txt');
    const final = await finalViaSdk(await translate(first));
    const choice = final.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.tool_calls).toEqual([
      { id: 'call_AB6AaRZ1FYZB2RwS6A5vbdqn', type: 'function', function: { name: 'calculator', arguments: '{"a":12,"b":7,"op":"add"}' } },
    ]);
    expect(final.usage?.prompt_tokens).toBe(134);
    expect(final.usage?.completion_tokens).toBe(28);
  });

  test('recorded phase text', async () => {
    const final = await finalViaSdk(await translate(await recordedEvents('openai-phase.1.chunks.txt')));
    expect(final.choices[0].finish_reason).toBe('stop');
    expect(final.choices[0].message.content).toContain('links.\n\nHere are a few **AI headlines');
  });

  test('recorded custom tool call', async () => {
    const final = await finalViaSdk(await translate(await recordedEvents('openai-custom-tool.1.chunks.txt')));
    expect(final.choices[0].message.tool_calls?.[0]).toEqual({
      id: 'call_custom_sql_001',
      type: 'function',
      function: { name: 'write_sql', arguments: 'SELECT * FROM users WHERE age > 25' },
    });
  });

  test('hand-made: two calls, one of them only in output_item.done', async () => {
    const base: ResponseObject = {
      id: 'resp_sdk',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'in_progress',
      model: 'gpt-5.5',
      output: [],
      usage: null,
      error: null,
      incomplete_details: null,
    };
    const first = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' };
    const second = { type: 'function_call', id: 'fc_2', call_id: 'call_2', name: 'time', arguments: '{"tz":"CET"}' };
    const events: ResponseStreamEvent[] = [
      { type: 'response.created', response: base },
      { type: 'response.output_item.added', output_index: 0, item: { ...first, arguments: '' } },
      { type: 'response.function_call_arguments.delta', output_index: 0, item_id: 'fc_1', delta: '{"city":' },
      { type: 'response.function_call_arguments.delta', output_index: 0, item_id: 'fc_1', delta: '"Paris"}' },
      { type: 'response.output_item.done', output_index: 0, item: first },
      { type: 'response.output_item.done', output_index: 1, item: second },
      { type: 'response.completed', response: { ...base, status: 'completed', output: [first, second] } },
    ];
    const final = await finalViaSdk(await translate(events));
    expect(final.choices[0].message.tool_calls?.map((c) => (c.type === 'function' ? [c.id, c.function.name, c.function.arguments] : []))).toEqual([
      ['call_1', 'weather', '{"city":"Paris"}'],
      ['call_2', 'time', '{"tz":"CET"}'],
    ]);
    // usage was null upstream: the usage chunk still comes, with zeros.
    expect(final.usage?.total_tokens).toBe(0);
  });

  test('recorded error becomes an APIError carrying the upstream message', async () => {
    const out = await translate(await recordedEvents('openai-error.1.chunks.txt'));
    const error = await finalViaSdk(out).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain('You exceeded your current quota');
    expect((error as APIError).code).toBe('insufficient_quota');
  });

  test('control: the harness does reject a stream without a role (so the checks above can fail)', async () => {
    const streams = await recordedResponses('openai-reasoning-encrypted-content.1.chunks.txt');
    const out = (await translate(streams[3])).map((o) =>
      'choices' in o ? { ...o, choices: o.choices.map((c) => ({ ...c, delta: { ...c.delta, role: undefined } })) } : o,
    );
    await expect(finalViaSdk(out)).rejects.toThrow('missing role');
  });
});

describe('openai SDK parses the non-stream completion', () => {
  test('tool-call completion from a recorded response', async () => {
    const [first] = await recordedResponses('openai-reasoning-encrypted-content.1.chunks.txt');
    const terminal = first.find((e) => e.type === 'response.completed')!.response!;
    nextCompletion = responseToChatCompletion(terminal, { model: 'gpt-5.5' });
    const completion = await client.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toBe('chatcmpl-01830d662ab3856501693c321345c88190b0de00f3b9975691');
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(completion.choices[0].message.content).toBeNull();
    const call = completion.choices[0].message.tool_calls?.[0];
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ a: 12, b: 7, op: 'add' });
    expect(completion.usage?.total_tokens).toBe(162);
  });

  test('text completion from a recorded response', async () => {
    const streams = await recordedResponses('openai-reasoning-encrypted-content.1.chunks.txt');
    const terminal = streams[3].find((e) => e.type === 'response.completed')!.response!;
    nextCompletion = responseToChatCompletion(terminal, { model: 'gpt-5.5' });
    const completion = await client.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0].message.content).toBe('The final result is **570**.');
    expect(completion.choices[0].finish_reason).toBe('stop');
  });
});
