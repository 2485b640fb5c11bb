import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { ALLOWED_EVENT_TYPES } from '../../src/stream/event-types';
import type { ResponseItem, ResponseStreamEvent } from '../../src/openai/responses-types';
import { allFixtureStreams, codexBackendStream, collect, doneOnlyStream, expectCleanStream, fixtureStreams, fromArray, normalizeEvents, textFromDeltas } from './helpers';

const normalize = (events: ResponseStreamEvent[], requestMeta?: Record<string, unknown>) =>
  collect(normalizeEvents(fromArray(events), { model: 'gpt-test', requestMeta }));

const types = (events: ResponseStreamEvent[]) => events.map((e) => e.type);

describe('normalizeEvents on the recorded OpenAI streams', () => {
  for (const { label, events } of allFixtureStreams()) {
    test(`${label}: satisfies the stream contract`, async () => {
      const out = await normalize(events);
      expectCleanStream(out);
      // The recorded terminal output is reproduced item for item (same ids, same content).
      const recorded = events.find((e) => e.type === 'response.completed' || e.type === 'response.failed');
      const terminal = out[out.length - 1];
      expect(terminal.type).toBe(recorded?.type as string);
      if (recorded?.type === 'response.completed') {
        expect(terminal.response?.output.map((i) => i.id)).toEqual(recorded.response?.output.map((i) => i.id) as string[]);
        // (The API re-encrypts reasoning for each serialization, so encrypted_content differs
        // between output_item.done, which we keep, and the recorded terminal.)
        const comparable = (items: ResponseItem[] | undefined) => (items ?? []).map(({ encrypted_content: _e, ...rest }) => rest);
        expect(comparable(terminal.response?.output)).toEqual(comparable(recorded.response?.output));
        expect(terminal.response?.usage).toEqual(recorded.response?.usage as never);
      }
    });
  }

  test('the phase recording (truncated deltas, skipped output_index) is renumbered and its missing text streamed', async () => {
    const [events] = fixtureStreams('openai-phase.1.chunks.txt');
    const out = await normalize(events);
    const added = out.filter((e) => e.type === 'response.output_item.added');
    expect(added.map((e) => e.output_index)).toEqual([0, 1]);
    expect(added.map((e) => e.item?.phase)).toEqual(['commentary', 'final_answer']);
    // The recording dropped most deltas; a delta-only client still ends with the full text.
    const final = out[out.length - 1].response?.output ?? [];
    const deltas = textFromDeltas(out);
    for (const item of final) expect(deltas.get(item.id as string)).toBe((item.content as Array<{ text: string }>)[0].text);
  });

  test('the custom tool recording (no sequence numbers, no input.done) gets both', async () => {
    const [events] = fixtureStreams('openai-custom-tool.1.chunks.txt');
    const out = await normalize(events);
    const done = out.find((e) => e.type === 'response.custom_tool_call_input.done');
    expect(done?.input).toBe('SELECT * FROM users WHERE age > 25');
    expect(done?.item_id).toBe('ct_abc123def456');
  });

  test('the error recording becomes error + response.failed and nothing else', async () => {
    const [events] = fixtureStreams('openai-error.1.chunks.txt');
    const out = await normalize(events);
    expect(types(out)).toEqual(['response.created', 'response.in_progress', 'error', 'response.failed']);
    expect(out[2].error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota', param: null });
    expect(out[2].error?.message).toContain('You exceeded your current quota');
    expect(out[3].response?.status).toBe('failed');
    expect(out[3].response?.error).toEqual({ code: 'insufficient_quota', message: out[2].error?.message as string });
  });
});

describe('normalizeEvents on a ChatGPT-backend-style stream', () => {
  test('strips upstream-only events, mints ids, renumbers and rebuilds the empty terminal output', async () => {
    const out = await normalize(codexBackendStream());
    expectCleanStream(out);
    expect(out.some((e) => e.type.startsWith('codex.') || e.type === 'response.metadata')).toBe(false);
    const final = out[out.length - 1].response!;
    expect(final.id).toBe('resp_codex1');
    expect(final.model).toBe('gpt-test');
    expect(final.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call']);
    const [reasoning, message, call] = final.output;
    expect(reasoning.id).toMatch(/^rs_[0-9a-f]{32}$/);
    expect(reasoning.encrypted_content).toBe('gAAAAB-enc');
    expect(message.id).toMatch(/^msg_/);
    expect(message.content).toEqual([{ type: 'output_text', text: 'Hello world', annotations: [], logprobs: [] }]);
    expect(message.phase).toBe('final_answer');
    expect(call).toMatchObject({ type: 'function_call', call_id: 'call_ls', name: 'exec_command', arguments: '{"cmd":"ls"}', status: 'completed' });
    expect(call.id).toMatch(/^fc_/);
    expect(final.usage).toEqual({ input_tokens: 1200, input_tokens_details: { cached_tokens: 1024 }, output_tokens: 40, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 1240 });
    // Every delta names the item it belongs to, by the minted id.
    const textDelta = out.find((e) => e.type === 'response.output_text.delta');
    expect(textDelta).toMatchObject({ item_id: message.id, output_index: 1, content_index: 0, delta: 'Hello', obfuscation: 'xx' });
    const argDelta = out.find((e) => e.type === 'response.function_call_arguments.delta');
    expect(argDelta).toMatchObject({ item_id: call.id, output_index: 2 });
    // The added shell has the same identity as the finished item.
    const added = out.filter((e) => e.type === 'response.output_item.added').map((e) => e.item);
    expect(added.map((i) => i?.id)).toEqual(final.output.map((i) => i.id));
    expect(added[2]).toMatchObject({ call_id: 'call_ls', arguments: '', status: 'in_progress' });
  });

  test('an item sent only as output_item.done (§2.4 a) is announced with added, parts and deltas', async () => {
    const out = await normalize(doneOnlyStream());
    expectCleanStream(out);
    expect(types(out)).toEqual([
      'response.created',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const added = out[1].item!;
    expect(added).toMatchObject({ type: 'message', role: 'assistant', status: 'in_progress', content: [] });
    expect(added.id).toMatch(/^msg_/);
    expect(out[2]).toMatchObject({ item_id: added.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    expect(out[3]).toMatchObject({ item_id: added.id, delta: 'fixture hello' });
    expect(out[4]).toMatchObject({ text: 'fixture hello' });
    const final = out[7].response!;
    expect(final.id).toBe('resp1');
    expect(final.output).toEqual([{ type: 'message', role: 'assistant', id: added.id as string, status: 'completed', content: [{ type: 'output_text', text: 'fixture hello', annotations: [], logprobs: [] }] }]);
    expect(final.usage).toEqual({ input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 });
  });

  test('done-only tool calls get added (empty arguments/input), a delta and a done', async () => {
    const out = await normalize([
      { type: 'response.created', response: { id: 'r' } },
      { type: 'response.output_item.done', item: { type: 'function_call', call_id: 'call_a', name: 'f', arguments: '{"x":1}' } },
      { type: 'response.output_item.done', item: { type: 'custom_tool_call', name: 'apply_patch', input: '*** Begin Patch' } },
      { type: 'response.completed', response: { id: 'r', output: [] } },
    ] as unknown as ResponseStreamEvent[]);
    expectCleanStream(out);
    expect(types(out).slice(1, -1)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
    ]);
    expect(out[1].item).toMatchObject({ type: 'function_call', call_id: 'call_a', arguments: '', status: 'in_progress' });
    expect(out[2].delta).toBe('{"x":1}');
    expect(out[5].item).toMatchObject({ type: 'custom_tool_call', input: '', status: 'in_progress' });
    // A custom tool call without call_id gets one: strict clients require it.
    expect(out[5].item?.call_id).toMatch(/^call_/);
    expect(out[8].item?.call_id).toBe(out[5].item?.call_id as string);
    expect(out[8].item?.id).toMatch(/^ctc_/);
  });

  test('events without output_index or item_id follow the open item (Codex test-helper style)', async () => {
    const out = await normalize([
      { type: 'response.created', response: { id: 'r' } },
      { type: 'response.output_item.added', item: { type: 'reasoning', id: 'rs_1', summary: [] } },
      { type: 'response.reasoning_summary_text.delta', delta: 'think', summary_index: 0 },
      { type: 'response.output_item.done', item: { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'think' }] } },
      { type: 'response.output_item.added', item: { type: 'message', role: 'assistant', id: 'm1', content: [] } },
      { type: 'response.output_text.delta', delta: 'Hi' },
      { type: 'response.output_text.delta', delta: ' there' },
      { type: 'response.output_item.done', item: { type: 'message', role: 'assistant', id: 'm1', content: [{ type: 'output_text', text: 'Hi there' }] } },
      { type: 'response.completed', response: { id: 'r', usage: { input_tokens: 0, input_tokens_details: null, output_tokens: 0, output_tokens_details: null, total_tokens: 0 } } },
    ] as unknown as ResponseStreamEvent[]);
    expectCleanStream(out);
    // The part the deltas needed is opened for them, before the first delta.
    const summaryAdded = out.findIndex((e) => e.type === 'response.reasoning_summary_part.added');
    expect(summaryAdded).toBeGreaterThan(0);
    expect(summaryAdded).toBeLessThan(out.findIndex((e) => e.type === 'response.reasoning_summary_text.delta'));
    const partAdded = out.findIndex((e) => e.type === 'response.content_part.added');
    expect(out[partAdded + 1]).toMatchObject({ type: 'response.output_text.delta', item_id: 'm1', output_index: 1, content_index: 0, delta: 'Hi' });
    expect(textFromDeltas(out).get('m1')).toBe('Hi there');
  });

  test('text deltas for an item never added open a message for them', async () => {
    const out = await normalize([
      { type: 'response.created', response: { id: 'r' } },
      { type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 'orphan' },
      { type: 'response.completed', response: { id: 'r' } },
    ] as unknown as ResponseStreamEvent[]);
    expectCleanStream(out);
    expect(out[out.length - 1].response?.output).toEqual([
      { type: 'message', role: 'assistant', id: expect.stringMatching(/^msg_/), status: 'completed', content: [{ type: 'output_text', text: 'orphan', annotations: [], logprobs: [] }] },
    ] as never);
  });

  test('a stream that does not start with response.created gets one, carrying the request fields', async () => {
    const out = await normalize(
      [
        { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'm', role: 'assistant', content: [] } },
        { type: 'response.in_progress', response: { id: 'late', status: 'in_progress' } },
        { type: 'response.created', response: { id: 'late' } },
        { type: 'response.output_item.done', output_index: 0, item: { type: 'message', id: 'm', role: 'assistant', content: [] } },
        { type: 'response.completed', response: { id: 'late', store: false, instructions: 'codex prompt' } },
      ] as unknown as ResponseStreamEvent[],
      { instructions: 'be brief', store: true, tools: [] },
    );
    expectCleanStream(out);
    // The late lifecycle events would reset strict clients' snapshots: dropped.
    expect(types(out)).toEqual(['response.created', 'response.output_item.added', 'response.output_item.done', 'response.completed']);
    const created = out[0].response!;
    expect(created).toMatchObject({ object: 'response', status: 'in_progress', model: 'gpt-test', output: [], usage: null, error: null, incomplete_details: null, instructions: 'be brief', store: false, tools: [] });
    expect(created.id).toMatch(/^resp_/);
    expect(typeof created.created_at).toBe('number');
    // The response keeps its first identity; the client's request fields win over the upstream's echo.
    expect(out[3].response).toMatchObject({ id: created.id, created_at: created.created_at, instructions: 'be brief', store: false });
  });

  test('in_progress before any item is kept; a duplicate created is dropped', async () => {
    const out = await normalize([
      { type: 'response.created', response: { id: 'r', status: 'queued' } },
      { type: 'response.queued', response: { id: 'r', status: 'queued' } },
      { type: 'response.created', response: { id: 'r' } },
      { type: 'response.in_progress', response: { id: 'r', status: 'in_progress' } },
      { type: 'response.completed', response: { id: 'r' } },
    ] as unknown as ResponseStreamEvent[]);
    expect(types(out)).toEqual(['response.created', 'response.queued', 'response.in_progress', 'response.completed']);
    expect(out.map((e) => e.response?.status)).toEqual(['queued', 'queued', 'in_progress', 'completed']);
  });

  test('duplicate or empty upstream item ids are replaced by unique ones', async () => {
    const out = await normalize([
      { type: 'response.created', response: { id: 'r' } },
      { type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning', id: 'rs_same', summary: [] } },
      { type: 'response.output_item.done', output_index: 0, item: { type: 'reasoning', id: 'rs_same', summary: [] } },
      { type: 'response.output_item.added', output_index: 1, item: { type: 'reasoning', id: 'rs_same', summary: [] } },
      { type: 'response.output_item.done', output_index: 1, item: { type: 'reasoning', id: 'rs_same', summary: [] } },
      { type: 'response.output_item.added', output_index: 2, item: { type: 'message', id: '', role: 'assistant', content: [] } },
      { type: 'response.output_item.done', output_index: 2, item: { type: 'message', id: '', role: 'assistant', content: [] } },
      { type: 'response.completed', response: { id: 'r' } },
    ] as unknown as ResponseStreamEvent[]);
    expectCleanStream(out);
    const ids = out[out.length - 1].response!.output.map((i) => i.id);
    expect(ids[0]).toBe('rs_same');
    expect(ids[1]).toMatch(/^rs_[0-9a-f]{32}$/);
    expect(ids[2]).toMatch(/^msg_/);
  });

  test('items only present in the terminal output are replayed as streamed items', async () => {
    const item = { type: 'message', id: 'msg_only', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'late', annotations: [], logprobs: [] }] };
    const out = await normalize([
      { type: 'response.created', response: { id: 'r' } },
      { type: 'response.completed', response: { id: 'r', output: [item] } },
    ] as unknown as ResponseStreamEvent[]);
    expectCleanStream(out);
    expect(textFromDeltas(out).get('msg_only')).toBe('late');
    expect(out[out.length - 1].response?.output).toEqual([item] as never);
  });

  test('response.incomplete closes open items as incomplete and keeps incomplete_details', async () => {
    const out = await normalize([
      { type: 'response.created', response: { id: 'r' } },
      { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'm', role: 'assistant', content: [] } },
      { type: 'response.content_part.added', output_index: 0, content_index: 0, item_id: 'm', part: { type: 'output_text', text: '' } },
      { type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'm', delta: 'cut' },
      { type: 'response.incomplete', response: { id: 'r', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage: { input_tokens: 10, output_tokens: 5 } } },
    ] as unknown as ResponseStreamEvent[]);
    expectCleanStream(out);
    const final = out[out.length - 1].response!;
    expect(final.status).toBe('incomplete');
    expect(final.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(final.output).toEqual([{ type: 'message', id: 'm', role: 'assistant', status: 'incomplete', content: [{ type: 'output_text', text: 'cut', annotations: [], logprobs: [] }] }]);
    expect(final.usage?.total_tokens).toBe(15);
  });
});

describe('normalizeEvents failure handling', () => {
  test('a flat upstream error event is normalized, then response.failed ends the stream', async () => {
    const out = await normalize([
      { type: 'response.created', response: { id: 'r' } },
      { type: 'error', message: 'This content was flagged for possible cybersecurity risk.', code: 'cyber_policy' },
      { type: 'response.completed', response: { id: 'r' } },
    ] as unknown as ResponseStreamEvent[]);
    expect(types(out)).toEqual(['response.created', 'error', 'response.failed']);
    expect(out[1]).toEqual({
      type: 'error',
      sequence_number: 1,
      // Flat, as the spec's ResponseErrorEvent has it, and nested, as the API sends it.
      code: 'cyber_policy',
      message: 'This content was flagged for possible cybersecurity risk.',
      param: null,
      error: { type: 'cyber_policy', code: 'cyber_policy', message: 'This content was flagged for possible cybersecurity risk.', param: null },
    });
    expect(out[2].response?.error).toEqual({ code: 'cyber_policy', message: 'This content was flagged for possible cybersecurity risk.' });
  });

  test('the upstream throwing mid-stream becomes error(upstream_stream_error) + failed with the finished items', async () => {
    let cleanedUp = false;
    async function* upstream(): AsyncGenerator<ResponseStreamEvent> {
      try {
        yield { type: 'response.created', response: { id: 'r' } } as unknown as ResponseStreamEvent;
        yield { type: 'response.output_item.done', output_index: 0, item: { type: 'message', id: 'm0', role: 'assistant', content: [{ type: 'output_text', text: 'first' }] } };
        yield { type: 'response.output_item.added', output_index: 1, item: { type: 'function_call', id: 'fc1', call_id: 'c1', name: 'f', arguments: '' } };
        yield { type: 'response.function_call_arguments.delta', output_index: 1, item_id: 'fc1', delta: '{"half' };
        throw new TypeError('socket hang up');
      } finally {
        cleanedUp = true;
      }
    }
    const out = await collect(normalizeEvents(upstream(), { model: 'm' }));
    expectCleanStream(out);
    const [error, failed] = out.slice(-2);
    expect(error.error).toMatchObject({ type: 'server_error', code: 'upstream_stream_error', param: null });
    expect(error.error?.message).toContain('socket hang up');
    expect(failed.type).toBe('response.failed');
    // The event names the cause; response.error.code stays within the spec's enum.
    expect(failed.response?.error?.code).toBe('server_error');
    // The half-streamed tool call is not presented as finished: a client must not run it.
    expect(failed.response?.output.map((i) => i.id)).toEqual(['m0']);
    expect(out.filter((e) => e.type === 'response.output_item.done')).toHaveLength(1);
    expect(cleanedUp).toBe(true);
  });

  test('an upstream that ends without a terminal event fails with stream_incomplete', async () => {
    const out = await normalize([{ type: 'response.created', response: { id: 'r' } }] as unknown as ResponseStreamEvent[]);
    expect(types(out)).toEqual(['response.created', 'error', 'response.failed']);
    expect(out[1].error).toMatchObject({ type: 'server_error', code: 'stream_incomplete' });
    expect(out[1].error?.message).toMatch(/before the response finished/);
  });

  test('an empty upstream still yields a well-formed failed stream', async () => {
    const out = await normalize([]);
    expectCleanStream(out);
    expect(types(out)).toEqual(['response.created', 'error', 'response.failed']);
  });

  test('an AbortError (the client went away) just stops', async () => {
    async function* upstream(): AsyncGenerator<ResponseStreamEvent> {
      yield { type: 'response.created', response: { id: 'r' } } as unknown as ResponseStreamEvent;
      throw new DOMException('The operation was aborted.', 'AbortError');
    }
    const out = await collect(normalizeEvents(upstream(), { model: 'm' }));
    expect(types(out)).toEqual(['response.created']);
  });

  test('nothing follows the terminal event, and the rest of the upstream is cancelled', async () => {
    let pulledAfterTerminal = false;
    let cleanedUp = false;
    async function* upstream(): AsyncGenerator<ResponseStreamEvent> {
      try {
        yield { type: 'response.created', response: { id: 'r' } } as unknown as ResponseStreamEvent;
        yield { type: 'response.completed', response: { id: 'r' } } as unknown as ResponseStreamEvent;
        pulledAfterTerminal = true;
        yield { type: 'response.output_item.added', item: { type: 'message', id: 'x', content: [] } };
      } finally {
        cleanedUp = true;
      }
    }
    const out = await collect(normalizeEvents(upstream(), { model: 'm' }));
    expect(types(out)).toEqual(['response.created', 'response.completed']);
    expect(pulledAfterTerminal).toBe(false);
    expect(cleanedUp).toBe(true);
  });

  test('a consumer returning early calls return() on the upstream', async () => {
    let cleanedUp = false;
    async function* upstream(): AsyncGenerator<ResponseStreamEvent> {
      try {
        for (const e of codexBackendStream()) yield e;
      } finally {
        cleanedUp = true;
      }
    }
    for await (const event of normalizeEvents(upstream(), { model: 'm' })) {
      if (event.type === 'response.output_item.added') break;
    }
    expect(cleanedUp).toBe(true);
  });

  test('cancelling while waiting on a silent upstream cancels the HTTP body at once', async () => {
    let bodyCancelled: unknown = false;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('event: response.created\ndata: {"type":"response.created","response":{"id":"r"}}\n\n'));
        // ...and then nothing more: the upstream is thinking.
      },
      cancel(reason) {
        bodyCancelled = reason ?? true;
      },
    });
    // The pump reads the body itself (one decoder, no parser generator in between).
    const events = normalizeEvents(body, { model: 'm' });
    expect((await events.next()).value?.type).toBe('response.created');
    const pending = events.next(); // blocked on the network read
    await events.return(undefined);
    expect(bodyCancelled).not.toBe(false);
    expect((await pending).done).toBe(true);
  });
});

describe('the event allow-list', () => {
  test('equals the event types openai-node 7.57 accepts (the strict accumulator throws on others)', () => {
    const source = readFileSync(new URL('../../node_modules/openai/internal/responses/response-accumulator.mjs', import.meta.url), 'utf8');
    const list = source.match(/createSupportedResponseEventTypes\(\[([\s\S]*?)\]\)/);
    expect(list).not.toBeNull();
    const sdkTypes = [...(list?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]).sort();
    expect(sdkTypes.length).toBeGreaterThan(50);
    expect([...ALLOWED_EVENT_TYPES].sort()).toEqual(sdkTypes);
  });
});
