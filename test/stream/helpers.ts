/** Shared by the stream tests: recorded streams, small async helpers, and the stream contract. */
import { expect } from 'bun:test';
import type { ResponseStreamEvent } from '../../src/openai/responses-types';
import { TERMINAL_EVENT_TYPES } from '../../src/openai/responses-types';
import { startPump } from '../../src/call/pump';
import type { NormalizeOptions } from '../../src/stream/normalizer';
import type { Sink } from '../../src/sinks/sink';
import { readEventLines } from '../support/fixtures';

export const STREAM_FIXTURE_DIR = 'openai-responses-streams/';

/** The recorded streams that hold events (a few files in the folder are empty placeholders). */
export const STREAM_FIXTURES = [
  'openai-custom-tool.1.chunks.txt',
  'openai-error.1.chunks.txt',
  'openai-image-generation-tool.1.chunks.txt',
  'openai-phase.1.chunks.txt',
  'openai-reasoning-encrypted-content.1.chunks.txt',
] as const;

/**
 * One recorded file may hold several responses back to back (the reasoning fixture is a
 * four-turn tool loop); each `response.created` starts a new stream.
 */
export function fixtureStreams(name: string): ResponseStreamEvent[][] {
  const streams: ResponseStreamEvent[][] = [];
  for (const event of readEventLines(STREAM_FIXTURE_DIR + name) as ResponseStreamEvent[]) {
    if (event.type === 'response.created' || streams.length === 0) streams.push([]);
    streams[streams.length - 1].push(event);
  }
  return streams;
}

/** Every recorded stream, labelled `file#n`. */
export function allFixtureStreams(): Array<{ label: string; events: ResponseStreamEvent[] }> {
  return STREAM_FIXTURES.flatMap((name) => fixtureStreams(name).map((events, i) => ({ label: `${name}#${i}`, events })));
}

export async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T, void, undefined> {
  for (const item of items) yield structuredClone(item);
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reads a byte stream to its end as text. */
export async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

/**
 * The contract every normalized stream must satisfy (client-traffic.md §0.2): sequence
 * numbers 0..n, created first, exactly one terminal event and nothing after it, output
 * indexes appended in order, unique non-empty ids, item-scoped events naming their item,
 * and a terminal response holding every finished item and a complete usage.
 */
export function expectCleanStream(events: ResponseStreamEvent[]): void {
  expect(events.length).toBeGreaterThan(1);
  events.forEach((event, i) => expect(event.sequence_number).toBe(i));
  expect(events[0].type).toBe('response.created');
  expect(events[0].response?.output).toEqual([]);
  const terminals = events.filter((e) => TERMINAL_EVENT_TYPES.has(e.type));
  expect(terminals).toHaveLength(1);
  expect(TERMINAL_EVENT_TYPES.has(events[events.length - 1].type)).toBe(true);
  const responseId = events[0].response?.id;
  expect(typeof responseId).toBe('string');

  const added: Array<{ id: string; type: string }> = [];
  const done = new Map<number, Record<string, unknown>>();
  for (const event of events) {
    if (event.response) expect(event.response.id).toBe(responseId as string);
    if (event.type === 'response.in_progress' || event.type === 'response.queued') expect(added).toHaveLength(0);
    if (event.type === 'response.output_item.added') {
      expect(event.output_index).toBe(added.length);
      const id = event.item?.id;
      expect(typeof id === 'string' && id.length > 0).toBe(true);
      expect(added.some((a) => a.id === id)).toBe(false);
      added.push({ id: id as string, type: event.item?.type as string });
    } else if (event.type === 'response.output_item.done') {
      const target = added[event.output_index as number];
      expect(target).toBeDefined();
      expect(event.item?.id).toBe(target.id);
      done.set(event.output_index as number, event.item as Record<string, unknown>);
    } else if (typeof event.item_id === 'string' || event.type.startsWith('response.content_part') || event.type.includes('_text.') || event.type.includes('arguments')) {
      const target = added[event.output_index as number];
      expect(target).toBeDefined();
      expect(event.item_id).toBe(target.id);
      expect(done.has(event.output_index as number)).toBe(false);
    }
  }
  const terminal = terminals[0];
  const response = terminal.response;
  expect(response).toBeDefined();
  const expectedOutput = [...done.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  expect(response?.output).toEqual(expectedOutput as never);
  if (terminal.type !== 'response.failed') expect(done.size).toBe(added.length);
  const usage = response?.usage;
  expect(usage).toBeDefined();
  for (const n of [usage?.input_tokens, usage?.output_tokens, usage?.total_tokens, usage?.input_tokens_details.cached_tokens, usage?.output_tokens_details.reasoning_tokens]) {
    expect(typeof n).toBe('number');
  }
  const status = { 'response.completed': 'completed', 'response.incomplete': 'incomplete', 'response.failed': 'failed' }[terminal.type];
  expect(response?.status).toBe(status as never);
}

/** The assistant text a delta-only client would assemble, per message item id. */
export function textFromDeltas(events: ResponseStreamEvent[]): Map<string, string> {
  const text = new Map<string, string>();
  for (const e of events) {
    if (e.type === 'response.output_text.delta') text.set(e.item_id as string, (text.get(e.item_id as string) ?? '') + e.delta);
  }
  return text;
}

/**
 * A stream shaped like the ChatGPT Codex backend's (chatgpt-upstream-protocol.md §2.5, §3.4):
 * a `codex.rate_limits` event, items without ids, events without item_id, a skipped
 * output_index, `response.metadata`, and a `response.completed` whose output is `[]`
 * and whose usage has null details.
 */
export function codexBackendStream(): ResponseStreamEvent[] {
  const response = { id: 'resp_codex1', object: 'response', created_at: 1_760_000_000, status: 'in_progress', model: 'gpt-5.5', output: [], usage: null, store: false };
  return [
    { type: 'response.created', sequence_number: 0, response: { ...response } },
    { type: 'codex.rate_limits', plan_type: 'plus', rate_limits: { primary: { used_percent: 12, window_minutes: 300, reset_at: 1_760_003_600 } } },
    { type: 'response.in_progress', sequence_number: 1, response: { ...response } },
    { type: 'response.output_item.added', sequence_number: 2, output_index: 0, item: { type: 'reasoning', summary: [] } },
    { type: 'response.reasoning_summary_part.added', sequence_number: 3, output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } },
    { type: 'response.reasoning_summary_text.delta', sequence_number: 4, output_index: 0, summary_index: 0, delta: '**Plan**' },
    { type: 'response.reasoning_summary_text.done', sequence_number: 5, output_index: 0, summary_index: 0, text: '**Plan**' },
    { type: 'response.reasoning_summary_part.done', sequence_number: 6, output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '**Plan**' } },
    { type: 'response.output_item.done', sequence_number: 7, output_index: 0, item: { type: 'reasoning', summary: [{ type: 'summary_text', text: '**Plan**' }], encrypted_content: 'gAAAAB-enc' } },
    { type: 'response.metadata', sequence_number: 8, response_id: 'resp_codex1', metadata: { openai_verification_recommendation: [] } },
    // Index 1 is skipped, as the backend does when it hides an item.
    { type: 'response.output_item.added', sequence_number: 9, output_index: 2, item: { type: 'message', role: 'assistant', status: 'in_progress', content: [], phase: 'final_answer' } },
    { type: 'response.content_part.added', sequence_number: 10, output_index: 2, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } },
    { type: 'response.output_text.delta', sequence_number: 11, output_index: 2, content_index: 0, delta: 'Hello', obfuscation: 'xx' },
    { type: 'response.output_text.delta', sequence_number: 12, output_index: 2, content_index: 0, delta: ' world' },
    { type: 'response.output_text.done', sequence_number: 13, output_index: 2, content_index: 0, text: 'Hello world' },
    { type: 'response.content_part.done', sequence_number: 14, output_index: 2, content_index: 0, part: { type: 'output_text', text: 'Hello world', annotations: [] } },
    {
      type: 'response.output_item.done',
      sequence_number: 15,
      output_index: 2,
      item: { type: 'message', role: 'assistant', status: 'completed', phase: 'final_answer', content: [{ type: 'output_text', text: 'Hello world', annotations: [] }] },
    },
    { type: 'response.output_item.added', sequence_number: 16, output_index: 3, item: { type: 'function_call', call_id: 'call_ls', name: 'exec_command', arguments: '' } },
    { type: 'response.function_call_arguments.delta', sequence_number: 17, output_index: 3, delta: '{"cmd":' },
    { type: 'response.function_call_arguments.delta', sequence_number: 18, output_index: 3, delta: '"ls"}' },
    { type: 'response.function_call_arguments.done', sequence_number: 19, output_index: 3, arguments: '{"cmd":"ls"}' },
    { type: 'response.output_item.done', sequence_number: 20, output_index: 3, item: { type: 'function_call', call_id: 'call_ls', name: 'exec_command', arguments: '{"cmd":"ls"}', status: 'completed' } },
    {
      type: 'response.completed',
      sequence_number: 21,
      response: {
        ...response,
        status: 'completed',
        output: [],
        usage: { input_tokens: 1200, input_tokens_details: { cached_tokens: 1024 }, output_tokens: 40, output_tokens_details: null, total_tokens: 1240 },
      },
    },
  ] as ResponseStreamEvent[];
}

/** codex-rs/core/tests/cli_responses_fixture.sse (chatgpt-upstream-protocol.md §2.4 a): only output_item.done. */
export function doneOnlyStream(): ResponseStreamEvent[] {
  return [
    { type: 'response.created', response: { id: 'resp1' } },
    { type: 'response.output_item.done', item: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'fixture hello' }] } },
    { type: 'response.completed', response: { id: 'resp1', output: [] } },
  ] as unknown as ResponseStreamEvent[];
}

/**
 * The pump (src/call/pump.ts) with a sink that hands each event to an async consumer:
 * how tests drive normalization over recorded streams. Returning early cancels the pump,
 * as a client leaving does.
 */
export function normalizeEvents(
  upstream: AsyncIterable<ResponseStreamEvent> | ReadableStream<Uint8Array>,
  opts: NormalizeOptions,
): AsyncGenerator<ResponseStreamEvent, void, undefined> {
  const queue: ResponseStreamEvent[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  const sink: Sink = {
    event(event) {
      queue.push(event);
      wake?.();
    },
    keepalive() {},
    end() {
      ended = true;
      wake?.();
    },
    backpressure: () => null,
  };
  const pump = startPump(upstream instanceof ReadableStream ? { body: upstream } : { events: upstream }, sink, { ...opts, idleMs: 0, keepaliveMs: 0 });
  let stopped = false;
  const finish = async (): Promise<IteratorResult<ResponseStreamEvent, void>> => {
    stopped = true;
    pump.cancel();
    wake?.();
    await pump.done;
    return { done: true, value: undefined };
  };
  // A hand-written iterator, not a generator: return() must reach the pump while next() is still waiting.
  const iterator: AsyncGenerator<ResponseStreamEvent, void, undefined> = {
    async next() {
      for (;;) {
        if (stopped) return { done: true, value: undefined };
        if (queue.length) return { done: false, value: queue.shift()! };
        if (ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    },
    return: finish,
    async throw(error: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async [Symbol.asyncDispose]() {
      await finish();
    },
  };
  return iterator;
}
