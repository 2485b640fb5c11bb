import { expect, test } from 'bun:test';
import { encodeSseData, encodeSseEvent, SSE_DONE, SSE_KEEPALIVE } from '../../src/stream/sse-encode';
import { parseSse } from '../../src/stream/sse-parse';
import type { ResponseStreamEvent } from '../../src/openai/responses-types';
import { collect } from './helpers';

test('an event is framed with its type as the event name and one data line', () => {
  const event = { type: 'response.output_text.delta', sequence_number: 3, delta: 'a\nb "c"' };
  expect(encodeSseEvent(event)).toBe(`event: response.output_text.delta\ndata: ${JSON.stringify(event)}\n\n`);
});

test('data frames, keep-alive and [DONE]', () => {
  expect(encodeSseData({ a: 1 })).toBe('data: {"a":1}\n\n');
  expect(SSE_KEEPALIVE).toBe(': keepalive\n\n');
  expect(SSE_DONE).toBe('data: [DONE]\n\n');
});

test('what we encode, our parser reads back (keep-alives ignored)', async () => {
  const events: ResponseStreamEvent[] = [
    { type: 'response.created', sequence_number: 0 },
    { type: 'response.output_text.delta', delta: 'multi\nline — ✓' },
  ];
  const wire = events.map(encodeSseEvent).join(SSE_KEEPALIVE);
  const body = new Response(wire).body as ReadableStream<Uint8Array>;
  const messages = await collect(parseSse(body));
  expect(messages.map((m) => m.event)).toEqual(events.map((e) => e.type));
  expect(messages.map((m) => JSON.parse(m.data))).toEqual(events);
});
