import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { readEvents, startSim, types, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.stop());
beforeEach(() => h.sim.reset());

const post = (body: unknown, key: string | null = 'sk-test-123') =>
  fetch(`${h.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });

describe('OpenAI API mode (/v1/responses)', () => {
  test('non-sk keys and missing keys → 401 in the OpenAI envelope', async () => {
    for (const key of [null, 'ci_nope']) {
      const res = await post({ model: 'gpt-5.5', input: 'hi' }, key);
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: 'invalid_api_key', message: expect.any(String) });
    }
  });

  test('stream:true has the same events but response.completed carries the full output; no ChatGPT-only event', async () => {
    const res = await post({ model: 'gpt-5.5', input: 'hello', stream: true, max_output_tokens: 100, temperature: 0.5 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('x-codex-primary-used-percent')).toBeNull();
    const events = await readEvents(res);
    expect(types(events)).not.toContain('codex.rate_limits');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.at(-1)!;
    expect(completed.type).toBe('response.completed');
    const response = completed.response as Record<string, unknown>;
    expect(response.max_output_tokens).toBe(100);
    expect(response.temperature).toBe(0.5);
    const output = response.output as Record<string, unknown>[];
    expect(output).toHaveLength(1);
    expect(output[0]).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Echo: hello' }] });
  });

  test('stream:false returns the final Response object', async () => {
    const res = await post({ model: 'gpt-5.5', input: [{ role: 'user', content: 'hi' }], reasoning: { effort: 'low', summary: 'auto' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-5.5' });
    expect(body.id).toMatch(/^resp_/);
    const output = body.output as Record<string, unknown>[];
    expect(output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    const usage = body.usage as { input_tokens: number; output_tokens: number; total_tokens: number; output_tokens_details: { reasoning_tokens: number } };
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    expect(usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
  });

  test('system messages and store are fine here', async () => {
    const res = await post({ model: 'anything', store: true, input: [{ role: 'system', content: 'x' }, { role: 'user', content: 'y' }] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { store: boolean }).store).toBe(true);
  });

  test('scenarios apply here too', async () => {
    h.sim.enqueue({ kind: 'function_call', name: 'f', arguments: '{"a":1}' });
    const body = (await (await post({ model: 'gpt-5.5', input: 'x' })).json()) as { output: Record<string, unknown>[] };
    expect(body.output[0]).toMatchObject({ type: 'function_call', name: 'f', arguments: '{"a":1}' });
    h.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 2 });
    const failed = await post({ model: 'gpt-5.5', input: 'x' });
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { error: { type: string } }).error.type).toBe('server_error');
  });

  test('model is required', async () => {
    const res = await post({ input: 'x' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('model');
  });
});
