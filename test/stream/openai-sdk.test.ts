/**
 * Acceptance: the normalized streams, served as SSE over real HTTP, pass the real
 * `openai` SDK's strict `responses.stream()` accumulator (7.57, which validates item
 * identities, indexes and event types) and the AI SDK's Responses parser.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI, { APIError } from 'openai';
import { createOpenAI } from '@ai-sdk/openai';
import { streamText } from 'ai';
import type { ResponseStreamEvent } from '../../src/openai/responses-types';
import { aggregateResponse } from '../../src/stream/aggregate';
import { encodeSseEvent } from '../../src/stream/sse-encode';
import { startPump } from '../../src/call/pump';
import { sseBody } from '../../src/sinks/sse-body';
import { responsesSseFormat } from '../../src/sinks/responses-sse';
import { allFixtureStreams, codexBackendStream, collect, doneOnlyStream, fromArray, normalizeEvents, sleep } from './helpers';

/** What the test server answers for a given request `model` (one scenario per model name). */
const scenarios = new Map<string, () => ReadableStream<Uint8Array>>();
let server: ReturnType<typeof Bun.serve>;
let client: OpenAI;

beforeAll(() => {
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const body = (await request.json()) as { model?: string };
      const make = scenarios.get(body.model ?? '');
      if (!make) return new Response(JSON.stringify({ error: { message: 'no scenario', type: 'invalid_request_error' } }), { status: 404 });
      return new Response(make(), { headers: { 'content-type': 'text/event-stream' } });
    },
  });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'x', maxRetries: 0 });
});

afterAll(() => server.stop(true));

function serveNormalized(name: string, events: ResponseStreamEvent[], keepaliveMs = 0, delayMs = 0): void {
  async function* slow(): AsyncGenerator<ResponseStreamEvent> {
    for (const event of events) {
      if (delayMs) await sleep(delayMs);
      yield structuredClone(event);
    }
  }
  // The production path: one pump into the Responses SSE sink, served as a direct body.
  scenarios.set(name, () =>
    sseBody(responsesSseFormat(), { pipe: (sink, o) => startPump({ events: slow() }, sink, { model: 'gpt-test', idleMs: 0, keepaliveMs: o.keepaliveMs }), abandon() {} }, keepaliveMs),
  );
}

/** The same events, encoded as they came: the negative control showing the SDK check can fail. */
function serveRaw(name: string, events: ResponseStreamEvent[]): void {
  scenarios.set(name, () => new Response(events.map((e) => encodeSseEvent(e)).join('')).body as ReadableStream<Uint8Array>);
}

describe('openai-node 7.57 responses.stream() accepts the normalized streams', () => {
  for (const { label, events } of allFixtureStreams()) {
    const failing = events.some((e) => e.type === 'error');
    test(`${label}`, async () => {
      serveNormalized(label, events);
      const expected = await collect(normalizeEvents(fromArray(events), { model: 'gpt-test' }));
      const stream = client.responses.stream({ model: label, input: 'hi' });
      const seen: string[] = [];
      stream.on('event', (e) => seen.push(e.type));
      if (failing) {
        const error = await stream.finalResponse().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(APIError);
        expect((error as APIError).code).toBe('insufficient_quota');
        expect((error as APIError).message).toContain('You exceeded your current quota');
        return;
      }
      const final = await stream.finalResponse();
      expect(seen).toEqual(expected.map((e) => e.type));
      const terminal = expected[expected.length - 1].response!;
      expect(final.status).toBe(terminal.status as never);
      // (The SDK adds its parse results, `parsed` and `parsed_arguments`, to the items.)
      expect(final.output).toMatchObject(terminal.output as never);
      const aggregated = await aggregateResponse(fromArray(expected));
      expect(final.output_text).toBe(aggregated.output_text as string);
      expect(final.usage?.total_tokens).toBe(terminal.usage?.total_tokens as number);
    });
  }

  test('a ChatGPT-backend-style stream: rebuilt output with ids, text and the tool call', async () => {
    serveNormalized('codex-backend', codexBackendStream());
    const final = await client.responses.stream({ model: 'codex-backend', input: 'hi' }).finalResponse();
    expect(final.id).toBe('resp_codex1');
    expect(final.output_text).toBe('Hello world');
    expect(final.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(final.output.every((i) => typeof i.id === 'string' && i.id.length > 0)).toBe(true);
    expect(final.output[2]).toMatchObject({ call_id: 'call_ls', name: 'exec_command', arguments: '{"cmd":"ls"}' });
    expect(final.usage?.input_tokens_details.cached_tokens).toBe(1024);
  });

  test('a done-only stream (§2.4 a), slow, with keep-alive comments in between', async () => {
    serveNormalized('done-only-slow', doneOnlyStream(), 5, 25);
    const stream = client.responses.stream({ model: 'done-only-slow', input: 'hi' });
    let deltas = '';
    stream.on('response.output_text.delta', (e) => (deltas += e.delta));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('fixture hello');
    expect(deltas).toBe('fixture hello');
  });

  test('negative control: the raw ChatGPT-backend stream is rejected by the same SDK', async () => {
    serveRaw('codex-backend-raw', codexBackendStream());
    const error = await client.responses
      .stream({ model: 'codex-backend-raw', input: 'hi' })
      .finalResponse()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/Unhandled response stream event|item id|item_id/);
  });

  test('negative control: the raw done-only stream is rejected too', async () => {
    serveRaw('done-only-raw', doneOnlyStream());
    const error = await client.responses
      .stream({ model: 'done-only-raw', input: 'hi' })
      .finalResponse()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
  });
});

describe('the AI SDK (@ai-sdk/openai Responses) reads the normalized streams', () => {
  test('text, tool call, finish reason and usage from a ChatGPT-backend-style stream', async () => {
    serveNormalized('ai-sdk-codex', codexBackendStream());
    const openai = createOpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'x' });
    const result = streamText({ model: openai.responses('ai-sdk-codex'), prompt: 'hi', maxRetries: 0 });
    expect(await result.text).toBe('Hello world');
    const calls = await result.toolCalls;
    expect(calls.map((c) => [c.toolName, c.toolCallId])).toEqual([['exec_command', 'call_ls']]);
    expect(await result.finishReason).toBe('tool-calls');
    const usage = await result.usage;
    expect(usage.inputTokens).toBe(1200);
    expect(usage.outputTokens).toBe(40);
  });

  test('the error recording surfaces as an error, not as an empty success', async () => {
    const { events } = allFixtureStreams().find((s) => s.label.startsWith('openai-error'))!;
    serveNormalized('ai-sdk-error', events);
    const openai = createOpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'x' });
    const errors: unknown[] = [];
    const result = streamText({ model: openai.responses('ai-sdk-error'), prompt: 'hi', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    const parts: string[] = [];
    for await (const part of result.fullStream) parts.push(part.type);
    expect(parts).toContain('error');
    expect(JSON.stringify(errors)).toContain('insufficient_quota');
    expect(await Promise.resolve(result.text).catch(() => 'rejected')).toBe('rejected');
  });
});
