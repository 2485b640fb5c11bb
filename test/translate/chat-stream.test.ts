import { describe, expect, test } from 'bun:test';
import type { ChatCompletionChunk, ChatStreamError, ChatToolCallDelta } from '../../src/openai/chat-types';
import type { ResponseObject, ResponseStreamEvent } from '../../src/openai/responses-types';
import { chatChunksFromEvents, encodeChatSse } from '../../src/translate/chat-stream';
import { collect, fromArray, recordedEvents, recordedResponses } from './recorded-streams';

type Out = ChatCompletionChunk | ChatStreamError;

const translate = (events: ResponseStreamEvent[], includeUsage = false, extra: { id?: string; created?: number } = {}) =>
  collect(chatChunksFromEvents(fromArray(events), { model: 'gpt-5.5', includeUsage, ...extra }));

const isError = (out: Out): out is ChatStreamError => 'error' in out;
const chunksOf = (out: Out[]) => out.filter((o): o is ChatCompletionChunk => !isError(o));
const choiceChunks = (out: Out[]) => chunksOf(out).filter((c) => c.choices.length > 0);
const joined = (out: Out[], field: 'content' | 'reasoning_content' | 'refusal') =>
  choiceChunks(out).map((c) => c.choices[0].delta[field] ?? '').join('');
const toolFragments = (out: Out[]): ChatToolCallDelta[] => choiceChunks(out).flatMap((c) => c.choices[0].delta.tool_calls ?? []);
const finishReasons = (out: Out[]) => choiceChunks(out).map((c) => c.choices[0].finish_reason).filter((r) => r !== null);

const baseResponse = (extra: Partial<ResponseObject> = {}): ResponseObject => ({
  id: 'resp_hand1',
  object: 'response',
  created_at: 1_700_000_123,
  status: 'in_progress',
  model: 'gpt-5.5',
  output: [],
  usage: null,
  error: null,
  incomplete_details: null,
  ...extra,
});
const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 15 };
const created: ResponseStreamEvent = { type: 'response.created', response: baseResponse() };
const completed = (extra: Partial<ResponseObject> = {}): ResponseStreamEvent => ({
  type: 'response.completed',
  response: baseResponse({ status: 'completed', usage, ...extra }),
});

describe('recorded stream: reasoning then a function call', () => {
  test('role first, reasoning_content, one well-formed tool call, finish_reason tool_calls, usage chunk last', async () => {
    const [first] = await recordedResponses('openai-reasoning-encrypted-content.1.chunks.txt');
    const out = await translate(first, true);
    expect(out.some(isError)).toBe(false);
    const chunks = chunksOf(out);

    // Every chunk carries the envelope fields.
    for (const chunk of chunks) {
      expect(chunk.id).toBe('chatcmpl-01830d662ab3856501693c321345c88190b0de00f3b9975691');
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.created).toBe(1765552659);
      expect(chunk.model).toBe('gpt-5.5');
      expect('system_fingerprint' in chunk).toBe(false);
    }
    expect(chunks[0].choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });

    expect(joined(out, 'reasoning_content')).toBe(
      "**Calculating step-by-step using calculator**\n\nI'll compute 12 plus 7, then multiply the result by 3, and finally multiply that by 10, reporting the final product.",
    );
    expect(joined(out, 'content')).toBe('');

    const fragments = toolFragments(out);
    expect(fragments[0]).toEqual({ index: 0, id: 'call_AB6AaRZ1FYZB2RwS6A5vbdqn', type: 'function', function: { name: 'calculator', arguments: '' } });
    // The fixture has 13 argument deltas; each becomes one fragment without identity fields.
    expect(fragments.slice(1)).toHaveLength(13);
    for (const fragment of fragments.slice(1)) {
      expect(fragment.index).toBe(0);
      expect(fragment.id).toBeUndefined();
      expect(fragment.function?.name).toBeUndefined();
    }
    expect(fragments.map((f) => f.function?.arguments ?? '').join('')).toBe('{"a":12,"b":7,"op":"add"}');

    expect(finishReasons(out)).toEqual(['tool_calls']);
    const finishChunk = choiceChunks(out).at(-1)!;
    expect(finishChunk.choices[0].delta).toEqual({});
    expect(finishChunk.choices[0].finish_reason).toBe('tool_calls');

    // include_usage: usage null everywhere except one final choices:[] chunk.
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 134,
      completion_tokens: 28,
      total_tokens: 162,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
  });

  test('the final text answer of the same fixture streams content and finish_reason stop', async () => {
    const streams = await recordedResponses('openai-reasoning-encrypted-content.1.chunks.txt');
    const out = await translate(streams[3]);
    expect(joined(out, 'content')).toBe('The final result is **570**.');
    expect(finishReasons(out)).toEqual(['stop']);
    expect(toolFragments(out)).toEqual([]);
    // Without include_usage no chunk has a usage key and no choices:[] chunk is sent.
    for (const chunk of chunksOf(out)) {
      expect('usage' in chunk).toBe(false);
      expect(chunk.choices).toHaveLength(1);
    }
  });
});

describe('other recorded streams', () => {
  test('custom tool call streams as a function tool call with its input as arguments', async () => {
    const out = await translate(await recordedEvents('openai-custom-tool.1.chunks.txt'));
    const fragments = toolFragments(out);
    expect(fragments[0]).toEqual({ index: 0, id: 'call_custom_sql_001', type: 'function', function: { name: 'write_sql', arguments: '' } });
    expect(fragments.map((f) => f.function?.arguments ?? '').join('')).toBe('SELECT * FROM users WHERE age > 25');
    expect(finishReasons(out)).toEqual(['tool_calls']);
  });

  test('phase: text missing from the deltas is completed at output_item.done, messages separated by a blank line', async () => {
    const out = await translate(await recordedEvents('openai-phase.1.chunks.txt'));
    const content = joined(out, 'content');
    // The recording keeps only the first two deltas of each message; the rest is in the done items.
    expect(content.startsWith('Got it — I’ll quickly check reliable')).toBe(true);
    expect(content).toContain('then summarize the key items with links.\n\nHere are a few **AI headlines for today');
    expect(content.endsWith('investor-grade morning brief with timestamps.')).toBe(true);
    expect(content.split('Here are a few').length).toBe(2); // nothing sent twice
    expect(finishReasons(out)).toEqual(['stop']);
  });

  test('error event: role chunk, then one ChatStreamError, and nothing after it', async () => {
    const out = await translate(await recordedEvents('openai-error.1.chunks.txt'), true);
    expect(out).toHaveLength(2);
    expect(isError(out[0])).toBe(false);
    expect(out[1]).toEqual({
      error: {
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
        param: null,
      },
    });
  });

  test('image generation call adds nothing; the empty message still ends with stop', async () => {
    const out = await translate(await recordedEvents('openai-image-generation-tool.1.chunks.txt'), true);
    expect(out.some(isError)).toBe(false);
    expect(joined(out, 'content')).toBe('');
    expect(toolFragments(out)).toEqual([]);
    expect(finishReasons(out)).toEqual(['stop']);
    expect(chunksOf(out).at(-1)!.usage?.completion_tokens_details.reasoning_tokens).toBe(1024);
  });
});

describe('hand-made streams', () => {
  test('a function call that arrives only as output_item.done: first fragment, then one fragment with all arguments', async () => {
    const item = { type: 'function_call', id: 'fc_9', call_id: 'call_only_done', name: 'lookup', arguments: '{"q":"bun"}', status: 'completed' };
    const out = await translate([created, { type: 'response.output_item.done', output_index: 0, item }, completed({ output: [item] })]);
    expect(toolFragments(out)).toEqual([
      { index: 0, id: 'call_only_done', type: 'function', function: { name: 'lookup', arguments: '' } },
      { index: 0, function: { arguments: '{"q":"bun"}' } },
    ]);
    expect(finishReasons(out)).toEqual(['tool_calls']);
  });

  test('an item only in the terminal output (nothing streamed) is still sent once', async () => {
    const message = { type: 'message', id: 'msg_t', role: 'assistant', content: [{ type: 'output_text', text: 'late text' }] };
    const call = { type: 'function_call', id: 'fc_t', call_id: 'call_t', name: 'f', arguments: '{}' };
    const out = await translate([created, completed({ output: [message, call] })]);
    expect(joined(out, 'content')).toBe('late text');
    expect(toolFragments(out)).toEqual([
      { index: 0, id: 'call_t', type: 'function', function: { name: 'f', arguments: '' } },
      { index: 0, function: { arguments: '{}' } },
    ]);
  });

  test('two calls get indexes 0 and 1; a done item with a different id/name does not change the identity', async () => {
    const events: ResponseStreamEvent[] = [
      created,
      { type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', id: 'fc_a', call_id: 'call_a', name: 'first', arguments: '' } },
      { type: 'response.function_call_arguments.delta', output_index: 0, item_id: 'fc_a', delta: '{"n":' },
      { type: 'response.function_call_arguments.delta', output_index: 0, item_id: 'fc_a', delta: '1}' },
      { type: 'response.output_item.done', output_index: 0, item: { type: 'function_call', id: 'fc_a', call_id: 'call_a', name: 'RENAMED', arguments: '{"n":1}' } },
      { type: 'response.output_item.added', output_index: 1, item: { type: 'function_call', id: 'fc_b', call_id: 'call_b', name: 'second', arguments: '' } },
      { type: 'response.function_call_arguments.delta', output_index: 1, item_id: 'fc_b', delta: '{}' },
      { type: 'response.output_item.done', output_index: 1, item: { type: 'function_call', id: 'fc_b', call_id: 'call_b', name: 'second', arguments: '{}' } },
      completed(),
    ];
    const fragments = toolFragments(await translate(events));
    expect(fragments).toEqual([
      { index: 0, id: 'call_a', type: 'function', function: { name: 'first', arguments: '' } },
      { index: 0, function: { arguments: '{"n":' } },
      { index: 0, function: { arguments: '1}' } },
      { index: 1, id: 'call_b', type: 'function', function: { name: 'second', arguments: '' } },
      { index: 1, function: { arguments: '{}' } },
    ]);
  });

  test('reasoning summary parts are separated by a blank line', async () => {
    const events: ResponseStreamEvent[] = [
      created,
      { type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } },
      { type: 'response.reasoning_summary_text.delta', output_index: 0, item_id: 'rs_1', summary_index: 0, delta: 'Plan A.' },
      { type: 'response.reasoning_summary_text.delta', output_index: 0, item_id: 'rs_1', summary_index: 1, delta: 'Plan B.' },
      { type: 'response.output_item.added', output_index: 1, item: { type: 'message', id: 'msg_1', role: 'assistant', content: [] } },
      { type: 'response.output_text.delta', output_index: 1, item_id: 'msg_1', content_index: 0, delta: 'Answer.' },
      completed(),
    ];
    const out = await translate(events);
    expect(joined(out, 'reasoning_content')).toBe('Plan A.\n\nPlan B.');
    expect(joined(out, 'content')).toBe('Answer.');
  });

  test('refusal deltas become delta.refusal', async () => {
    const out = await translate([
      created,
      { type: 'response.refusal.delta', output_index: 0, item_id: 'msg_r', content_index: 0, delta: 'I can’t ' },
      { type: 'response.refusal.delta', output_index: 0, item_id: 'msg_r', content_index: 0, delta: 'help.' },
      completed(),
    ]);
    expect(joined(out, 'refusal')).toBe('I can’t help.');
  });

  test('response.incomplete for max_output_tokens finishes with length; content_filter likewise', async () => {
    const length = await translate([created, { type: 'response.incomplete', response: baseResponse({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }) }]);
    expect(finishReasons(length)).toEqual(['length']);
    const filtered = await translate([created, { type: 'response.incomplete', response: baseResponse({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } }) }]);
    expect(finishReasons(filtered)).toEqual(['content_filter']);
  });

  test('response.failed alone yields a ChatStreamError and no finish chunk', async () => {
    const out = await translate([
      created,
      { type: 'response.output_text.delta', output_index: 0, item_id: 'm', delta: 'par' },
      { type: 'response.failed', response: baseResponse({ status: 'failed', error: { code: 'server_error', message: 'boom' } }) },
      completed(),
    ]);
    expect(out.at(-1)).toEqual({ error: { message: 'boom', type: 'server_error', code: 'server_error', param: null } });
    expect(finishReasons(out)).toEqual([]);
  });

  test('an error event with top-level fields (no nested error) is still an error', async () => {
    const out = await translate([{ type: 'error', message: 'flagged for possible cybersecurity risk', code: 'cyber_policy' }]);
    expect(out).toEqual([{ error: { message: 'flagged for possible cybersecurity risk', type: 'server_error', code: 'cyber_policy', param: null } }]);
  });

  test('a stream that ends without a terminal event ends with an error, not a fake finish', async () => {
    const out = await translate([created, { type: 'response.output_text.delta', output_index: 0, item_id: 'm', delta: 'cut' }]);
    expect(finishReasons(out)).toEqual([]);
    const last = out.at(-1)!;
    expect(isError(last) && last.error.code).toBe('stream_truncated');
  });

  test('events after the terminal are ignored; the source is not read further', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<ResponseStreamEvent> {
      for (const event of [created, completed(), { type: 'response.output_text.delta', output_index: 0, delta: 'ghost' }]) {
        pulled++;
        yield event;
      }
    }
    const out = await collect(chatChunksFromEvents(source(), { model: 'm', includeUsage: false }));
    expect(joined(out, 'content')).toBe('');
    expect(pulled).toBe(2);
  });

  test('id and created options win over the response values', async () => {
    const out = await translate([created, completed()], false, { id: 'chatcmpl-route', created: 7 });
    for (const chunk of chunksOf(out)) {
      expect(chunk.id).toBe('chatcmpl-route');
      expect(chunk.created).toBe(7);
    }
  });
});

describe('encodeChatSse', () => {
  test('one data line and a blank line', () => {
    expect(encodeChatSse({ error: { message: 'x', type: 't', code: null, param: null } })).toBe(
      'data: {"error":{"message":"x","type":"t","code":null,"param":null}}\n\n',
    );
  });
});
