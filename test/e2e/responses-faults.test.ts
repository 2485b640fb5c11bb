/**
 * /v1/responses under upstream and client faults, end to end through the compiled
 * binary: usage-limit 429s, failures and connection drops in the middle of a stream
 * (streaming and non-streaming clients), client cancellation reaching the upstream,
 * and a 20 s upstream silence bridged by keep-alive comments.
 *
 * The stack runs with CODEXIN_KEEPALIVE_MS=5000 so the silence test sees several
 * keep-alives; the simulator itself stays truly silent during a `silence` stall.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import OpenAI, { APIError, RateLimitError } from 'openai';
import { startStack, type E2EStack } from '../support/stack';
import { removeTempDirs } from '../support/binary';
import { MODEL, expectWellFormedStream, expectWellFormedUsage, postResponses, readAllFrames, sseFrames, textOfMessage, upstreamResponsesRequests, usageRowFor, type Json, type SseFrame } from './responses/helpers';

const KEEPALIVE_MS = 5000;

let stack: E2EStack;
let key: string;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({ env: { CODEXIN_KEEPALIVE_MS: String(KEEPALIVE_MS) } });
  key = await stack.createKey();
  client = new OpenAI({ baseURL: stack.baseUrl, apiKey: key, maxRetries: 0, timeout: 60_000 });
});

afterAll(async () => {
  await stack?.stop();
  removeTempDirs();
});

beforeEach(() => stack.sim.reset());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Fails instead of hanging when a promise does not settle in time. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await Bun.sleep(10);
  }
  return check();
}

describe('upstream usage limit', () => {
  test('429 usage_limit_reached → client 429 with retry-after and error.type usage_limit_reached; then no upstream call until the reset', async () => {
    const resetsIn = 2;
    stack.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: resetsIn, plan: 'plus' });
    const error = await rejection(client.responses.create({ model: MODEL, input: 'over the limit' }));
    expect(error).toBeInstanceOf(RateLimitError);
    const e = error as RateLimitError;
    expect(e.status).toBe(429);
    expect(e.type).toBe('usage_limit_reached');
    expect((e.error as Json).type).toBe('usage_limit_reached');
    expect((e.error as Json).message).toMatch(/\S/);
    const retryAfter = Number(e.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(resetsIn + 1);
    expect(Number(e.headers.get('retry-after-ms'))).toBe(retryAfter * 1000);
    // The upstream's own details (scripted plan, reset time) stay in the error object.
    expect((e.error as Json).plan_type).toBe('plus');
    expect(typeof (e.error as Json).resets_at).toBe('number');
    expect(upstreamResponsesRequests(stack).length).toBe(1);

    // The only account is cooling down: raw fetch gets a 429 straight away, without an upstream call.
    const res = await postResponses(stack, key, { model: MODEL, input: 'still over the limit', stream: true });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('x-request-id')).toMatch(/\S/);
    const body = (await res.json()) as Json;
    expect(body.error.type).toBe('usage_limit_reached');
    expect(typeof body.error.message).toBe('string');
    expect(upstreamResponsesRequests(stack).length).toBe(1);

    // After the reset the account serves again.
    await Bun.sleep((resetsIn + 1) * 1000);
    const ok = await client.responses.create({ model: MODEL, input: 'back again' });
    expect(ok.output_text).toBe('Echo: back again');
    expect(upstreamResponsesRequests(stack).length).toBe(2);
  }, 15_000);
});

describe('mid-stream upstream failure', () => {
  const code = 'server_error';
  const message = 'Scripted mid-stream failure for the e2e suite.';

  test('raw SSE: the stream ends with an error event, then response.failed', async () => {
    stack.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 7, code, message });
    const res = await postResponses(stack, key, { model: MODEL, input: 'fail in the middle', stream: true });
    expect(res.status).toBe(200);
    const events = expectWellFormedStream(await readAllFrames(res));
    const [error, failed] = events.slice(-2) as [Json, Json];
    expect(error.type).toBe('error');
    expect(error.error).toMatchObject({ code, message });
    expect(typeof error.error.type).toBe('string');
    expect(failed.type).toBe('response.failed');
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error).toMatchObject({ code, message });
    expect(failed.response.id).toBe(events[0]!.response.id);
    expect(events.some((e) => e.type === 'response.completed')).toBe(false);
    // What was streamed before the failure did reach the client.
    expect(events.some((e) => e.type === 'response.output_text.delta')).toBe(true);
  });

  test('SDK: iterating responses.create({stream:true}) throws an APIError carrying the upstream message', async () => {
    stack.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 7, code, message });
    const stream = await client.responses.create({ model: MODEL, input: 'fail in the middle (sdk)', stream: true });
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const e of stream) seen.push(e.type);
      })(),
    );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain(message);
    expect(seen[0]).toBe('response.created');
    expect(seen).not.toContain('response.completed');
  });

  test('SDK: responses.stream().finalResponse() rejects with an APIError', async () => {
    stack.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 7, code, message });
    const error = await rejection(client.responses.stream({ model: MODEL, input: 'fail in the middle (strict)' }).finalResponse());
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain(message);
  });

  test('stream:false: a 502 OpenAI-shaped error, not a hang', async () => {
    stack.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 7, code, message });
    const error = await within(10_000, rejection(client.responses.create({ model: MODEL, input: 'fail while aggregating' })), 'the non-streaming request');
    expect(error).toBeInstanceOf(APIError);
    const e = error as APIError;
    expect(e.status).toBe(502);
    expect(e.code).toBe(code);
    expect((e.error as Json).message).toBe(message);
    expect(typeof e.type).toBe('string');
    expect(e.requestID).toMatch(/\S/);
  });
});

describe('upstream connection dropped mid-stream', () => {
  test('raw SSE: error + response.failed, never a silent cut', async () => {
    stack.sim.enqueue({ kind: 'drop_mid_stream', afterEvents: 7 });
    const res = await postResponses(stack, key, { model: MODEL, input: 'drop the connection', stream: true });
    expect(res.status).toBe(200);
    const frames = await within(10_000, readAllFrames(res), 'the dropped stream');
    const events = expectWellFormedStream(frames);
    const [error, failed] = events.slice(-2) as [Json, Json];
    expect(error.type).toBe('error');
    expect(error.error.message).toMatch(/\S/);
    expect(error.error.code).toMatch(/\S/);
    expect(failed.type).toBe('response.failed');
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error.code).toMatch(/\S/);
    expect(events.some((e) => e.type === 'response.completed')).toBe(false);
  });

  test('SDK stream: throws an APIError', async () => {
    stack.sim.enqueue({ kind: 'drop_mid_stream', afterEvents: 7 });
    const error = await within(10_000, rejection(client.responses.stream({ model: MODEL, input: 'drop the connection (sdk)' }).finalResponse()), 'the dropped SDK stream');
    expect(error).toBeInstanceOf(APIError);
  });

  test('stream:false: a 502 OpenAI-shaped error, not a hang', async () => {
    stack.sim.enqueue({ kind: 'drop_mid_stream', afterEvents: 7 });
    const res = await within(10_000, postResponses(stack, key, { model: MODEL, input: 'drop while aggregating' }), 'the non-streaming request');
    expect(res.status).toBe(502);
    const body = (await res.json()) as Json;
    expect(typeof body.error.message).toBe('string');
    expect(typeof body.error.type).toBe('string');
    expect('code' in body.error && 'param' in body.error).toBe(true);
  });
});

describe('client abort', () => {
  /** Reads until the first text delta (the upstream is still streaming or stalled), then aborts the fetch. */
  async function abortAfterFirstDelta(body: Json, scenarioLabel: string): Promise<{ abortedAt: number; requestId: string }> {
    const abortsBefore = stack.sim.aborts.length;
    const controller = new AbortController();
    const res = await postResponses(stack, key, body, { signal: controller.signal });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id')!;
    const seen: string[] = [];
    let abortedAt = 0;
    let upstreamCancelledEarly = false;
    try {
      for await (const f of sseFrames(res.body!)) {
        if (f.kind !== 'event') continue;
        seen.push(f.data.type);
        if (f.data.type === 'response.output_text.delta') {
          upstreamCancelledEarly = stack.sim.aborts.length !== abortsBefore;
          abortedAt = Date.now();
          controller.abort();
          break;
        }
      }
    } catch {
      // the abort surfaces as a read error
    }
    expect(abortedAt, `${scenarioLabel}: no text delta before the stream ended`).toBeGreaterThan(0);
    expect(upstreamCancelledEarly, `${scenarioLabel}: the upstream was cancelled before the client aborted`).toBe(false);
    expect(seen[0]).toBe('response.created');
    expect(seen).not.toContain('response.completed');
    return { abortedAt, requestId };
  }

  /**
   * A request the client abandoned is metered as 499 (client closed request), the status
   * the responses service gives an early stop (src/call/model-call.ts) and the one a
   * non-streaming abort gets; not as an upstream failure.
   */
  async function expectMeteredAsClientClosed(requestId: string): Promise<void> {
    const row = await usageRowFor(stack, requestId);
    expect(row).not.toBeNull();
    expect(row!.status).toBe(499);
  }

  test('during a slow stream (many_events): the upstream stream is cancelled within 1 s', async () => {
    stack.sim.enqueue({ kind: 'many_events', deltas: 2000, intervalMs: 25 });
    const { abortedAt } = await abortAfterFirstDelta({ model: MODEL, input: 'stream a lot', stream: true }, 'many_events');
    expect(await waitFor(() => stack.sim.aborts.length > 0, 1000)).toBe(true);
    expect(stack.sim.aborts[0]!.path).toBe('/backend-api/codex/responses');
    expect(stack.sim.aborts[0]!.at - abortedAt).toBeLessThan(1000);
  });

  test('during an upstream silence: the pending upstream read is cancelled within 1 s', async () => {
    stack.sim.enqueue({ kind: 'silence', afterEvents: 6, ms: 15_000 });
    const { abortedAt } = await abortAfterFirstDelta({ model: MODEL, input: 'then go quiet', stream: true }, 'silence');
    expect(await waitFor(() => stack.sim.aborts.length > 0, 1000)).toBe(true);
    expect(stack.sim.aborts[0]!.at - abortedAt).toBeLessThan(1000);
  });

  test('an abandoned stream is metered as 499 (client closed request), not as an upstream failure', async () => {
    stack.sim.enqueue({ kind: 'many_events', deltas: 2000, intervalMs: 25 }, { kind: 'silence', afterEvents: 6, ms: 15_000 });
    const slow = await abortAfterFirstDelta({ model: MODEL, input: 'meter the abandoned stream', stream: true }, 'many_events');
    expect(await waitFor(() => stack.sim.aborts.length === 1, 1000)).toBe(true);
    const quiet = await abortAfterFirstDelta({ model: MODEL, input: 'meter the abandoned silence', stream: true }, 'silence');
    await expectMeteredAsClientClosed(slow.requestId);
    await expectMeteredAsClientClosed(quiet.requestId);
  });

  test('stream:false while the upstream is silent: the upstream request is cancelled within 1 s', async () => {
    stack.sim.enqueue({ kind: 'silence', afterEvents: 6, ms: 15_000 });
    const controller = new AbortController();
    const pending = postResponses(stack, key, { model: MODEL, input: 'aggregate slowly' }, { signal: controller.signal });
    // Abort once the upstream stream is open and stalled.
    expect(await waitFor(() => upstreamResponsesRequests(stack).length === 1, 2000)).toBe(true);
    await Bun.sleep(200);
    const abortedAt = Date.now();
    controller.abort();
    const outcome = await pending.then(
      () => 'resolved',
      (e: Error) => e.name,
    );
    expect(outcome).toBe('AbortError');
    expect(await waitFor(() => stack.sim.aborts.length > 0, 1000)).toBe(true);
    expect(stack.sim.aborts[0]!.at - abortedAt).toBeLessThan(1000);
  });
});

describe('long upstream silence', () => {
  test(
    'a 20 s silence mid-stream is bridged by ": keepalive" comments and the stream completes normally',
    async () => {
      const silenceMs = 20_000;
      stack.sim.enqueue({ kind: 'silence', afterEvents: 6, ms: silenceMs });
      const started = Date.now();
      const res = await postResponses(stack, key, { model: MODEL, input: 'take your time', stream: true });
      expect(res.status).toBe(200);
      const frames: SseFrame[] = await readAllFrames(res);
      expect(Date.now() - started).toBeGreaterThanOrEqual(silenceMs - 500);

      const events = expectWellFormedStream(frames);
      const completed = events[events.length - 1]!;
      expect(completed.type).toBe('response.completed');
      const message = completed.response.output.find((i: Json) => i.type === 'message');
      expect(textOfMessage(message)).toBe('Echo: take your time');
      expectWellFormedUsage(completed.response.usage);

      // The keep-alives fall inside the silence: after the last event before it, before the first after it.
      const keepalives = frames.filter((f) => f.kind === 'comment');
      expect(keepalives.length).toBeGreaterThanOrEqual(Math.floor(silenceMs / KEEPALIVE_MS) - 1);
      expect(keepalives.every((f) => f.kind === 'comment' && f.text === 'keepalive')).toBe(true);
      const firstKeepalive = frames.findIndex((f) => f.kind === 'comment');
      const lastKeepalive = frames.length - 1 - [...frames].reverse().findIndex((f) => f.kind === 'comment');
      expect(frames.slice(firstKeepalive, lastKeepalive + 1).every((f) => f.kind === 'comment')).toBe(true);
      const before = frames[firstKeepalive - 1]!;
      const after = frames[lastKeepalive + 1]!;
      expect(after.at - before.at).toBeGreaterThanOrEqual(silenceMs - 500);
      // No gap on the wire longer than the keep-alive interval (plus scheduling slack).
      const times = frames.slice(firstKeepalive - 1, lastKeepalive + 2).map((f) => f.at);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(Math.max(...gaps)).toBeLessThan(KEEPALIVE_MS + 1500);
    },
    60_000,
  );
});
