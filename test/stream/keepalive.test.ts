import { afterEach, describe, expect, test } from 'bun:test';
import { KEEPALIVE, withKeepalive } from '../../src/stream/keepalive';
import { collect, sleep } from './helpers';

/** Yields each value after its delay (ms). */
async function* timed<T>(steps: Array<[number, T]>, onFinally?: () => void): AsyncGenerator<T> {
  try {
    for (const [delay, value] of steps) {
      await sleep(delay);
      yield value;
    }
  } finally {
    onFinally?.();
  }
}

// Counts timers that are neither fired nor cleared, to prove none is left behind.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
let live = new Set<unknown>();
function trackTimers(): void {
  live = new Set();
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle: unknown = realSetTimeout(
      (...a: unknown[]) => {
        live.delete(handle);
        callback(...a);
      },
      ms,
      ...args,
    );
    live.add(handle);
    return handle;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle);
    realClearTimeout(handle);
  }) as typeof clearTimeout;
}

afterEach(() => {
  globalThis.setTimeout = realSetTimeout;
  globalThis.clearTimeout = realClearTimeout;
});

describe('withKeepalive', () => {
  test('yields keep-alives during a 120 ms silence, repeatedly, without losing or reordering items', async () => {
    const out = await collect(withKeepalive(timed([[0, 'a'], [120, 'b'], [0, 'c']]), 30));
    const keepalives = out.filter((v) => v === KEEPALIVE).length;
    expect(keepalives).toBeGreaterThanOrEqual(2);
    expect(keepalives).toBeLessThanOrEqual(4);
    expect(out.filter((v) => v !== KEEPALIVE)).toEqual(['a', 'b', 'c']);
    expect(out[0]).toBe('a');
    expect(out.indexOf('b')).toBeGreaterThan(1);
  });

  test('sends nothing extra while items flow', async () => {
    const steps: Array<[number, number]> = Array.from({ length: 10 }, (_, i) => [5, i]);
    expect(await collect(withKeepalive(timed(steps), 40))).toEqual(steps.map(([, v]) => v));
  });

  test('leaves no timer behind, whether the source ends or the consumer leaves', async () => {
    trackTimers();
    await collect(withKeepalive(timed([[50, 1]]), 10));
    await sleep(0);
    expect(live.size).toBe(0);

    const early = withKeepalive(timed([[200, 1]]), 10);
    expect(await early.next()).toEqual({ done: false, value: KEEPALIVE });
    await early.return(undefined);
    await sleep(250); // the source's own pending sleep finishes
    expect(live.size).toBe(0);
  });

  test('return() during a silence reaches the source', async () => {
    let sourceFinished = false;
    const gen = withKeepalive(
      timed([[0, 'a'], [60, 'b']], () => (sourceFinished = true)),
      10,
    );
    expect((await gen.next()).value).toBe('a');
    expect((await gen.next()).value).toBe(KEEPALIVE);
    await gen.return(undefined);
    // The source generator is busy in its 60 ms sleep; its return runs when that ends.
    await sleep(80);
    expect(sourceFinished).toBe(true);
    expect(await gen.next()).toEqual({ done: true, value: undefined });
  });

  test('a source error reaches the consumer after the items before it', async () => {
    async function* failing(): AsyncGenerator<string> {
      yield 'a';
      await sleep(30);
      throw new Error('boom');
    }
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const v of withKeepalive(failing(), 10)) seen.push(v);
    })().catch((e: unknown) => e);
    expect((error as Error).message).toBe('boom');
    expect(seen[0]).toBe('a');
    expect(seen.slice(1).every((v) => v === KEEPALIVE)).toBe(true);
  });
});

test('a non-positive interval passes items through without keep-alives', async () => {
  expect(await collect(withKeepalive(timed([[30, 1], [0, 2]]), 0))).toEqual([1, 2]);
});
