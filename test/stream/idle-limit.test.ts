/** A silent upstream stream is ended with error + response.failed, and the upstream request is cancelled. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { withIdleLimit, UpstreamIdle } from '../../src/stream/idle-limit';
import { startGateway, type TestGateway } from '../support/gateway';

describe('withIdleLimit', () => {
  test('passes events through and throws UpstreamIdle after a silence, cancelling the source', async () => {
    // A source shaped like the network one: a pending read ends when the source is cancelled.
    let cancelled = false;
    let release: ((r: IteratorResult<number>) => void) | null = null;
    const queue = [1, 2];
    const source: AsyncIterableIterator<number> = {
      next: () => (queue.length ? Promise.resolve({ value: queue.shift()!, done: false }) : new Promise((resolve) => (release = resolve))),
      return: async () => {
        cancelled = true;
        release?.({ value: undefined, done: true });
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => source,
    };
    const seen: number[] = [];
    const started = performance.now();
    const error = await (async () => {
      for await (const n of withIdleLimit(source, 100)) seen.push(n);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(UpstreamIdle);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(cancelled).toBe(true);
  });

  test('events that keep coming are never cut, however long the stream', async () => {
    async function* steady() {
      for (let i = 0; i < 10; i++) {
        await Bun.sleep(30);
        yield i;
      }
    }
    const seen: number[] = [];
    for await (const n of withIdleLimit(steady(), 80)) seen.push(n);
    expect(seen).toHaveLength(10);
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
