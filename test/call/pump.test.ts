/**
 * The pump: one loop per stream with one timer (keepalive + idle limit), sinks as
 * synchronous edge formats, and cancellation through the upstream reader only.
 * (These carry over the assertions of the layers it replaced: sseStream, withKeepalive,
 * withIdleLimit.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { ResponseStreamEvent } from '../../src/openai/responses-types';
import { startPump, type PumpSource } from '../../src/call/pump';
import { sseBody } from '../../src/sinks/sse-body';
import { responsesSseFormat } from '../../src/sinks/responses-sse';
import { chatSseFormat } from '../../src/sinks/chat-sse';
import { encodeSseEvent } from '../../src/stream/sse-encode';
import type { Sink } from '../../src/sinks/sink';
import { codexBackendStream, collect, fromArray, normalizeEvents, readText, sleep } from '../stream/helpers';
import { startGateway, type TestGateway } from '../support/gateway';

const decoder = new TextDecoder();

function recorder(): Sink & { log: string[] } {
  const log: string[] = [];
  return { log, event: (e) => log.push(e.type), keepalive: () => log.push('keepalive'), end: () => log.push('end'), backpressure: () => null };
}

function body(source: PumpSource, keepaliveMs: number, idleMs = 0, format = responsesSseFormat()) {
  let pump: ReturnType<typeof startPump> | null = null;
  const stream = sseBody(format, { pipe: (sink, o) => (pump = startPump(source, sink, { model: 'm', idleMs, keepaliveMs: o.keepaliveMs })), abandon() {} }, keepaliveMs);
  return { stream, pump: () => pump! };
}

describe('SSE bodies', () => {
  test('every event in order, then the end; the terminal response is reported once', async () => {
    const expected = await collect(normalizeEvents(fromArray(codexBackendStream()), { model: 'm' }));
    const { stream, pump } = body({ events: fromArray(codexBackendStream()) }, 0);
    const text = await readText(stream);
    // Item ids the recording lacks are generated per run: compare with them masked.
    const masked = (t: string) => t.replace(/_[0-9a-f]{32}/g, '_ID');
    expect(masked(text)).toBe(masked(expected.map(encodeSseEvent).join('')));
    const end = await pump().done;
    expect(end.cancelled).toBe(false);
    expect(end.final?.status).toBe('completed');
    expect(end.final?.usage?.total_tokens).toBe(1240);
  });

  test('the chat form: its own frames and a [DONE] trailer', async () => {
    const { stream } = body({ events: fromArray(codexBackendStream()) }, 0, 0, chatSseFormat({ model: 'm', includeUsage: false }));
    const text = await readText(stream);
    const frames = text.split('\n\n').filter(Boolean);
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(frames.slice(0, -1).every((f) => f.startsWith('data: {"id":'))).toBe(true);
    expect(text).toContain('"finish_reason":"tool_calls"');
  });

  test('a client disconnect cancels the pump and the upstream source, once', async () => {
    let sourceFinally = 0;
    async function* source(): AsyncGenerator<ResponseStreamEvent> {
      try {
        yield { type: 'response.created', response: { id: 'r' } } as unknown as ResponseStreamEvent;
        await sleep(5000);
        yield { type: 'response.completed', response: { id: 'r' } } as unknown as ResponseStreamEvent;
      } finally {
        sourceFinally++;
      }
    }
    const { stream, pump } = body({ events: source() }, 10);
    const reader = stream.getReader();
    expect(decoder.decode((await reader.read()).value)).toStartWith('event: response.created');
    await reader.cancel('client went away');
    const end = await pump().done;
    expect(end).toEqual({ final: null, cancelled: true });
    expect(sourceFinally).toBeLessThanOrEqual(1);
  });
});

describe('one timer: keepalives and the idle limit', () => {
  test('keepalives during a silence, repeatedly, without losing or reordering events', async () => {
    async function* slow(): AsyncGenerator<ResponseStreamEvent> {
      yield { type: 'response.created', response: { id: 'r' } } as unknown as ResponseStreamEvent;
      await sleep(120);
      yield { type: 'response.completed', response: { id: 'r' } } as unknown as ResponseStreamEvent;
    }
    const text = await readText(body({ events: slow() }, 30).stream);
    expect(text.startsWith('event: response.created\n')).toBe(true);
    expect(text.split(': keepalive\n\n').length - 1).toBeGreaterThanOrEqual(2);
    expect(text.trimEnd().split('\n\n').at(-1)).toStartWith('event: response.completed');
  });

  test('no keepalive while events flow, none with a non-positive interval', async () => {
    async function* steady(): AsyncGenerator<ResponseStreamEvent> {
      yield { type: 'response.created', response: { id: 'r' } } as unknown as ResponseStreamEvent;
      for (let i = 0; i < 6; i++) {
        await sleep(15);
        yield { type: 'response.in_progress', response: { id: 'r' } } as unknown as ResponseStreamEvent;
      }
      yield { type: 'response.completed', response: { id: 'r' } } as unknown as ResponseStreamEvent;
    }
    const sink = recorder();
    await startPump({ events: steady() }, sink, { model: 'm', idleMs: 0, keepaliveMs: 60 }).done;
    expect(sink.log).not.toContain('keepalive');
    const silent = recorder();
    async function* quiet(): AsyncGenerator<ResponseStreamEvent> {
      await sleep(80);
      yield { type: 'response.completed', response: { id: 'r' } } as unknown as ResponseStreamEvent;
    }
    await startPump({ events: quiet() }, silent, { model: 'm', idleMs: 0, keepaliveMs: 0 }).done;
    expect(silent.log).toEqual(['response.created', 'response.completed', 'end']);
  });

  test('a silent upstream is failed after idleMs and its read is cancelled', async () => {
    let cancelled = false;
    const encoder = new TextEncoder();
    const upstream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('data: {"type":"response.created","response":{"id":"r"}}\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const sink = recorder();
    const started = performance.now();
    const end = await startPump({ body: upstream }, sink, { model: 'm', idleMs: 100, keepaliveMs: 30 }).done;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(sink.log.filter((l) => l !== 'keepalive')).toEqual(['response.created', 'error', 'response.failed', 'end']);
    expect(sink.log).toContain('keepalive');
    expect(end.final?.status).toBe('failed');
    expect(cancelled).toBe(true);
  });

  test('events that keep coming are never cut, however long the stream', async () => {
    async function* steady(): AsyncGenerator<ResponseStreamEvent> {
      yield { type: 'response.created', response: { id: 'r' } } as unknown as ResponseStreamEvent;
      for (let i = 0; i < 10; i++) {
        await sleep(30);
        yield { type: 'response.in_progress', response: { id: 'r' } } as unknown as ResponseStreamEvent;
      }
      yield { type: 'response.completed', response: { id: 'r' } } as unknown as ResponseStreamEvent;
    }
    const end = await startPump({ events: steady() }, recorder(), { model: 'm', idleMs: 80, keepaliveMs: 0 }).done;
    expect(end.final?.status).toBe('completed');
  });
});

describe('backpressure', () => {
  test('nothing more is read from the upstream while the sink is behind', async () => {
    let pulled = 0;
    const encoder = new TextEncoder();
    const upstream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled++;
          if (pulled === 5) {
            controller.enqueue(encoder.encode('data: {"type":"response.completed","response":{"id":"r"}}\n\n'));
            controller.close();
            return;
          }
          controller.enqueue(encoder.encode(pulled === 1 ? 'data: {"type":"response.created","response":{"id":"r"}}\n\n' : 'data: {"type":"response.in_progress","response":{"id":"r"}}\n\n'));
        },
      },
      { highWaterMark: 0 },
    );
    let release: () => void = () => {};
    const behind = new Promise<void>((resolve) => (release = resolve));
    const sink: Sink = { event() {}, keepalive() {}, end() {}, backpressure: () => behind };
    const pump = startPump({ body: upstream }, sink, { model: 'm', idleMs: 0, keepaliveMs: 0 });
    await sleep(50);
    expect(pulled).toBe(1);
    release();
    const end = await pump.done;
    expect(pulled).toBe(5);
    expect(end.final?.status).toBe('completed');
  });
});

describe('through the gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ env: { CODEXIN_UPSTREAM_IDLE_MS: '300', CODEXIN_KEEPALIVE_MS: '100' } });
  });
  afterAll(() => gw.stop());

  test('a stream whose upstream goes silent ends with error + response.failed and the upstream is cancelled', async () => {
    const key = gw.key([], { name: 'idle', maxConcurrent: 1 });
    gw.sim.enqueue({ kind: 'silence', afterEvents: 3, ms: 5000 });
    const res = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'x', stream: true } });
    const text = await res.text();
    expect(text).toContain(': keepalive');
    const types = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(types.slice(-2)).toEqual(['error', 'response.failed']);
    expect(text).toContain('sent nothing for');
    await Bun.sleep(50);
    expect(gw.sim.aborts.length).toBeGreaterThan(0);
    // The key's concurrency slot was given back.
    expect((await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'y' } })).status).toBe(200);
  });
});
