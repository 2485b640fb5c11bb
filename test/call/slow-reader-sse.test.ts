/**
 * A slow HTTP reader of an SSE stream pauses the upstream instead of making CodexIn
 * buffer the answer: the direct body's write/flush promise is the pump's backpressure.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { connect } from 'node:net';
import type { ResponseStreamEvent } from '../../src/openai/responses-types';
import { startPump } from '../../src/call/pump';
import { sseBody } from '../../src/sinks/sse-body';
import { responsesSseFormat } from '../../src/sinks/responses-sse';

let server: ReturnType<typeof Bun.serve>;
let pulledBytes = 0;
const DELTA = 'x'.repeat(64 * 1024);
const DELTAS = 2000; // about 130 MB if nothing held it back

async function* fastUpstream(): AsyncGenerator<ResponseStreamEvent> {
  yield { type: 'response.created', response: { id: 'r' } } as unknown as ResponseStreamEvent;
  yield { type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: 'm', role: 'assistant', content: [] } } as unknown as ResponseStreamEvent;
  for (let i = 0; i < DELTAS; i++) {
    pulledBytes += DELTA.length;
    yield { type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'm', delta: DELTA } as unknown as ResponseStreamEvent;
  }
  yield { type: 'response.completed', response: { id: 'r' } } as unknown as ResponseStreamEvent;
}

beforeAll(() => {
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () =>
      new Response(sseBody(responsesSseFormat(), { pipe: (sink, o) => startPump({ events: fastUpstream() }, sink, { model: 'm', idleMs: 0, keepaliveMs: o.keepaliveMs }), abandon() {} }, 0), {
        headers: { 'content-type': 'text/event-stream' },
      }),
  });
});
afterAll(() => server.stop(true));

test('a paused reader holds the upstream back; reading again gets the rest', async () => {
  const socket = connect(server.port!, "127.0.0.1");
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    socket.pause();
  });
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await Bun.sleep(1500);
  // Socket buffers hold a few MB; without backpressure all ~130 MB would have been pulled by now.
  expect(pulledBytes).toBeGreaterThan(0);
  expect(pulledBytes).toBeLessThan(32 * 1024 * 1024);
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.resume();
  const deadline = Date.now() + 30_000;
  while (received <= DELTAS * DELTA.length && Date.now() < deadline) await Bun.sleep(50);
  expect(pulledBytes).toBe(DELTAS * DELTA.length);
  expect(received).toBeGreaterThan(pulledBytes);
  socket.destroy();
}, 45_000);
