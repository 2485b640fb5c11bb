import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { authHeaders, parseSse, postResponses, readEvents, startSim, types, validBody, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.stop());
beforeEach(() => h.sim.reset());

type Ev = Record<string, unknown>;
const itemsDone = (events: Ev[]) => events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item as Ev);

describe('scripted scenarios', () => {
  test('queue is FIFO, then falls back to the built-in model', async () => {
    h.sim.enqueue({ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' });
    const texts: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const events = await readEvents(await postResponses(h, validBody()));
      texts.push(events.find((e) => e.type === 'response.output_text.done')!.text);
    }
    expect(texts).toEqual(['one', 'two', 'Echo: hello there']);
    expect(h.sim.stats.responses).toBe(3);
  });

  test('setDefault applies when the queue is empty; null restores the model', async () => {
    h.sim.setDefault({ kind: 'text', text: 'always' });
    h.sim.enqueue({ kind: 'text', text: 'first' });
    const text = async () => (await readEvents(await postResponses(h, validBody()))).find((e) => e.type === 'response.output_text.done')!.text;
    expect(await text()).toBe('first');
    expect(await text()).toBe('always');
    expect(await text()).toBe('always');
    h.sim.setDefault(null);
    expect(await text()).toBe('Echo: hello there');
  });

  test('events: streamed verbatim, sequence numbers filled, status and headers applied', async () => {
    h.sim.enqueue({
      kind: 'events',
      status: 200,
      headers: { 'x-custom': 'yes' },
      events: [
        { type: 'response.created', response: { id: 'resp_1' } },
        { type: 'response.output_item.done', item: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'fixture hello' }] } },
        { type: 'response.completed', response: { id: 'resp_1', output: [] } },
      ],
    });
    const res = await postResponses(h, validBody());
    expect(res.headers.get('x-custom')).toBe('yes');
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = await readEvents(res);
    expect(events).toEqual([
      { type: 'response.created', sequence_number: 0, response: { id: 'resp_1' } },
      {
        type: 'response.output_item.done',
        sequence_number: 1,
        item: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'fixture hello' }] },
      },
      { type: 'response.completed', sequence_number: 2, response: { id: 'resp_1', output: [] } },
    ]);
  });

  test('text: custom chunk size and an explicit reasoning summary', async () => {
    h.sim.enqueue({ kind: 'text', text: 'abcdefghij', chunkSize: 3, reasoning: 'Thinking hard' });
    const events = await readEvents(await postResponses(h, validBody()));
    expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta)).toEqual(['abc', 'def', 'ghi', 'j']);
    expect(events.find((e) => e.type === 'response.reasoning_summary_text.done')!.text).toBe('Thinking hard');
    expect(itemsDone(events).map((i) => i.type)).toEqual(['reasoning', 'message']);
  });

  test('function_call: commentary text first, then argument deltas', async () => {
    h.sim.enqueue({ kind: 'function_call', name: 'lookup', arguments: '{"q":"weather in Paris"}', text: 'Let me check.' });
    const events = await readEvents(await postResponses(h, validBody()));
    const [msg, call] = itemsDone(events);
    expect(msg).toMatchObject({ type: 'message', phase: 'commentary' });
    expect(call).toMatchObject({ type: 'function_call', name: 'lookup', arguments: '{"q":"weather in Paris"}' });
    expect(events.filter((e) => e.type === 'response.function_call_arguments.delta').length).toBeGreaterThan(1);
    expect(events.filter((e) => e.type === 'response.function_call_arguments.delta').every((e) => e.output_index === 1)).toBe(true);
  });

  test('function_call with argumentDeltas:false sends only added/done', async () => {
    h.sim.enqueue({ kind: 'function_call', name: 'lookup', arguments: '{}', argumentDeltas: false });
    const t = types(await readEvents(await postResponses(h, validBody())));
    expect(t.filter((x) => x.startsWith('response.function_call_arguments'))).toEqual([]);
    expect(t).toContain('response.output_item.added');
  });

  test('custom_tool_call: input deltas and done', async () => {
    h.sim.enqueue({ kind: 'custom_tool_call', name: 'write_sql', input: 'SELECT * FROM users WHERE age > 25' });
    const events = await readEvents(await postResponses(h, validBody()));
    const deltas = events.filter((e) => e.type === 'response.custom_tool_call_input.delta');
    expect(deltas.map((e) => e.delta).join('')).toBe('SELECT * FROM users WHERE age > 25');
    expect(itemsDone(events)[0]).toMatchObject({ type: 'custom_tool_call', name: 'write_sql', input: 'SELECT * FROM users WHERE age > 25' });
  });

  test('http_error: status, JSON body and headers', async () => {
    const body = { error: { type: 'service_unavailable_error', code: 'server_is_overloaded', message: 'Our servers are currently overloaded. Please try again later.' } };
    h.sim.enqueue({ kind: 'http_error', status: 503, body, headers: { 'retry-after': '2' } });
    const res = await postResponses(h, validBody());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toEqual(body);
  });

  test('usage_limit: the real 429 body and headers', async () => {
    h.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 600 });
    const before = Math.floor(Date.now() / 1000);
    const res = await postResponses(h, validBody());
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: 'plus', resets_in_seconds: 600 });
    expect(body.error.resets_at as number).toBeGreaterThanOrEqual(before + 600);
    expect(body.error.resets_at as number).toBeLessThanOrEqual(before + 602);
    expect(res.headers.get('x-codex-primary-used-percent')).toBe('100');
    expect(res.headers.get('x-codex-primary-reset-at')).toBe(String(body.error.resets_at));
    expect(res.headers.get('x-codex-plan-type')).toBe('plus');
    expect(res.headers.get('x-codex-credits-has-credits')).toBe('False');
    expect(res.headers.get('x-models-etag')).toStartWith('W/"');
    expect(res.headers.get('x-oai-request-id')).toBeString();
  });

  test('usage_limit with an explicit plan', async () => {
    h.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 5, plan: 'free' });
    const body = (await (await postResponses(h, validBody())).json()) as { error: { plan_type: string } };
    expect(body.error.plan_type).toBe('free');
  });

  test('fail_mid_stream: N events, then error and response.failed', async () => {
    h.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 4, code: 'context_length_exceeded', message: 'Your input exceeds the context window of this model.' });
    const events = await readEvents(await postResponses(h, validBody()));
    expect(types(events)).toEqual([
      'response.created',
      'response.in_progress',
      'codex.rate_limits',
      'response.output_item.added',
      'error',
      'response.failed',
    ]);
    expect(events[4]!.error).toMatchObject({ code: 'context_length_exceeded', message: 'Your input exceeds the context window of this model.' });
    expect(events[5]!.response).toMatchObject({ status: 'failed', error: { code: 'context_length_exceeded' } });
    expect(events.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('drop_mid_stream: the connection dies without a terminal event', async () => {
    h.sim.enqueue({ kind: 'drop_mid_stream', afterEvents: 3 });
    const res = await postResponses(h, validBody());
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    let failed = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    } catch {
      failed = true;
    }
    expect(failed).toBe(true);
    const got = parseSse(text).map((e) => e.data.type);
    expect(got).toEqual(['response.created', 'response.in_progress', 'codex.rate_limits']);
  });

  test('drop_mid_stream in-process: the body stream errors', async () => {
    h.sim.enqueue({ kind: 'drop_mid_stream', afterEvents: 2 });
    const res = await h.sim.fetch(
      new Request('http://sim.local/backend-api/codex/responses', { method: 'POST', headers: authHeaders(h.account), body: JSON.stringify(validBody()) }),
    );
    await expect(res.text()).rejects.toThrow('simulated upstream connection drop');
  });

  test('silence: stalls after N events, then finishes normally', async () => {
    h.sim.enqueue({ kind: 'silence', afterEvents: 3, ms: 300 });
    const res = await postResponses(h, validBody());
    const reader = res.body!.getReader();
    const arrivals: { type: string; at: number }[] = [];
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += new TextDecoder().decode(value);
      const parts = buffer.split('\n\n');
      buffer = parts.pop()!;
      for (const p of parts) for (const e of parseSse(`${p}\n\n`)) arrivals.push({ type: e.data.type as string, at: Date.now() });
    }
    expect(arrivals.at(-1)!.type).toBe('response.completed');
    const gap = arrivals[3]!.at - arrivals[2]!.at;
    expect(gap).toBeGreaterThanOrEqual(250);
    expect(arrivals[2]!.type).toBe('codex.rate_limits');
  });

  test('silence with silenceKeepaliveMs sends SSE comments while stalled', async () => {
    const k = await startSim({ silenceKeepaliveMs: 50 });
    try {
      k.sim.enqueue({ kind: 'silence', afterEvents: 2, ms: 240 });
      const text = await (await postResponses(k, validBody())).text();
      const keepalives = text.split('\n').filter((l) => l === ': keepalive').length;
      expect(keepalives).toBeGreaterThanOrEqual(3);
      expect(parseSse(text).at(-1)!.data.type).toBe('response.completed');
    } finally {
      await k.stop();
    }
  });

  test('many_events: N text deltas in one message', async () => {
    h.sim.enqueue({ kind: 'many_events', deltas: 2000 });
    const events = await readEvents(await postResponses(h, validBody()));
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.length).toBe(2000);
    expect(events.find((e) => e.type === 'response.output_text.done')!.text).toBe(deltas.map((d) => d.delta).join(''));
    expect(events.at(-1)!.type).toBe('response.completed');
    expect(events.at(-1)!.sequence_number).toBe(events.length - 1);
  });

  test('abort: a client cancelling mid-stream is recorded within 1 s', async () => {
    h.sim.enqueue({ kind: 'text', text: 'x'.repeat(400), delayMs: 50 });
    const controller = new AbortController();
    const res = await postResponses(h, validBody(), authHeaders(h.account), { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const cancelledAt = Date.now();
    controller.abort();
    await reader.read().catch(() => undefined);
    while (h.sim.aborts.length === 0 && Date.now() - cancelledAt < 1000) await Bun.sleep(5);
    expect(h.sim.aborts).toHaveLength(1);
    expect(h.sim.aborts[0]!.path).toBe('/backend-api/codex/responses');
    expect(h.sim.aborts[0]!.at - cancelledAt).toBeLessThan(1000);
  });

  test('a stream read to the end records no abort', async () => {
    await (await postResponses(h, validBody())).text();
    await Bun.sleep(20);
    expect(h.sim.aborts).toEqual([]);
  });

  test('reset clears queue, default, logs and counters but keeps accounts', async () => {
    h.sim.enqueue({ kind: 'text', text: 'queued' });
    h.sim.setDefault({ kind: 'text', text: 'default' });
    await fetch(`${h.url}/nowhere`);
    h.sim.reset();
    expect(h.sim.requests).toEqual([]);
    expect(h.sim.stats).toEqual({ tokenRequests: 0, responses: 0 });
    const events = await readEvents(await postResponses(h, validBody()));
    expect(events.find((e) => e.type === 'response.output_text.done')!.text).toBe('Echo: hello there');
  });
});
