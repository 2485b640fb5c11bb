import { describe, expect, test } from 'bun:test';
import { sseStream, type SseEndInfo } from '../../src/stream/sse-response';
import { encodeSseData, encodeSseEvent, SSE_DONE } from '../../src/stream/sse-encode';
import { normalizeEvents } from '../../src/stream/normalize';
import type { ResponseStreamEvent } from '../../src/openai/responses-types';
import { codexBackendStream, collect, fromArray, readText, sleep } from './helpers';

const decoder = new TextDecoder();

describe('sseStream', () => {
  test('writes every event in order and reports the terminal response once', async () => {
    const events = await collect(normalizeEvents(fromArray(codexBackendStream()), { model: 'm' }));
    const ends: SseEndInfo[] = [];
    const text = await readText(sseStream(fromArray(events), { keepaliveMs: 0, onEnd: (info) => ends.push(info) }));
    expect(text).toBe(events.map(encodeSseEvent).join(''));
    expect(ends).toHaveLength(1);
    expect(ends[0].aborted).toBe(false);
    expect(ends[0].error).toBeUndefined();
    expect(ends[0].completed?.status).toBe('completed');
    expect(ends[0].completed?.usage?.total_tokens).toBe(1240);
  });

  test('any items with their own encoding and a trailer (the chat completions form)', async () => {
    const chunks = [{ object: 'chat.completion.chunk', choices: [{ delta: { content: 'a' } }] }, { object: 'chat.completion.chunk', choices: [] }];
    const ends: SseEndInfo[] = [];
    const text = await readText(sseStream(fromArray(chunks), { keepaliveMs: 0, encode: encodeSseData, trailer: SSE_DONE, onEnd: (i) => ends.push(i) }));
    expect(text).toBe(chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n');
    expect(ends).toEqual([{ completed: null, aborted: false }]);
  });

  test('writes keep-alive comments while the source is silent', async () => {
    async function* slow(): AsyncGenerator<ResponseStreamEvent> {
      yield { type: 'response.created' } as ResponseStreamEvent;
      await sleep(70);
      yield { type: 'response.completed' } as ResponseStreamEvent;
    }
    const text = await readText(sseStream(slow(), { keepaliveMs: 20 }));
    expect(text.startsWith('event: response.created\n')).toBe(true);
    expect(text.split(': keepalive\n\n').length - 1).toBeGreaterThanOrEqual(2);
    expect(text.endsWith('event: response.completed\ndata: {"type":"response.completed"}\n\n')).toBe(true);
  });

  test('pulls one event per read, nothing ahead of the client', async () => {
    let pulled = 0;
    async function* counting(): AsyncGenerator<ResponseStreamEvent> {
      for (let i = 0; i < 5; i++) {
        pulled++;
        yield { type: `e${i}` } as ResponseStreamEvent;
      }
    }
    const reader = sseStream(counting(), { keepaliveMs: 0 }).getReader();
    await sleep(10);
    expect(pulled).toBe(0);
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe('event: e0\ndata: {"type":"e0"}\n\n');
    await sleep(10);
    expect(pulled).toBe(1);
    await reader.cancel();
  });

  test('a client disconnect calls return() on the source and onEnd exactly once', async () => {
    let sourceFinally = false;
    async function* source(): AsyncGenerator<ResponseStreamEvent> {
      try {
        yield { type: 'response.created', response: { id: 'r' } } as unknown as ResponseStreamEvent;
        await sleep(30);
        yield { type: 'response.in_progress' } as ResponseStreamEvent;
        await sleep(1000);
        yield { type: 'response.completed' } as ResponseStreamEvent;
      } finally {
        sourceFinally = true;
      }
    }
    const ends: SseEndInfo[] = [];
    const reader = sseStream(source(), { keepaliveMs: 10, onEnd: (i) => ends.push(i) }).getReader();
    expect(decoder.decode((await reader.read()).value)).toStartWith('event: response.created');
    await reader.cancel('client went away');
    expect(ends).toEqual([{ completed: null, aborted: true }]);
    // The source was mid-sleep (pulled ahead by the keep-alive timer); its finally runs once it yields.
    await sleep(60);
    expect(sourceFinally).toBe(true);
    expect(ends).toHaveLength(1);
  });

  test('a source that throws errors the body and reports the error', async () => {
    async function* broken(): AsyncGenerator<ResponseStreamEvent> {
      yield { type: 'x' } as ResponseStreamEvent;
      throw new Error('bug');
    }
    const ends: SseEndInfo[] = [];
    const error = await readText(sseStream(broken(), { keepaliveMs: 0, onEnd: (i) => ends.push(i) })).catch((e: unknown) => e);
    expect((error as Error).message).toBe('bug');
    expect(ends).toHaveLength(1);
    expect((ends[0].error as Error).message).toBe('bug');
  });
});
