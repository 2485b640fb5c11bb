/**
 * Whatever crosses to or from the upstream: client values bound for upstream headers
 * are 400s naming the param (not 502s), upstream error text never carries the
 * account's token to a client, and absurd usage figures never break metering.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { expectError } from './envelope';
import { clientSafeText, redactSecrets } from '../../src/upstream/client-safe';

let gw: TestGateway;
let key: string;
let accessToken: string;
beforeAll(async () => {
  gw = await startGateway();
  key = gw.key(['advanced']);
  expect((await gw.call('/v1/responses', { method: 'POST', key, json: { model: 'gpt-5.5', input: 'warm up' } })).status).toBe(200);
  accessToken = gw.sim.requests.at(-1)!.headers['authorization']!.replace(/^Bearer /, '');
  expect(accessToken.length).toBeGreaterThan(40);
});
afterAll(() => gw.stop());

const responses = (json: unknown) => gw.call('/v1/responses', { method: 'POST', key, json });

describe('values that become upstream headers', () => {
  for (const [label, value] of [['NUL', 'cache\u0000key'], ['CR/LF', 'a\r\nx-injected: 1'], ['tab-free control', 'a\u0007b'], ['8 KiB+', 'k'.repeat(9000)]] as const) {
    test(`prompt_cache_key with ${label} is 400 naming it, and nothing is sent upstream`, async () => {
      const before = gw.sim.requests.length;
      await expectError(await responses({ model: 'gpt-5.5', input: 'hi', prompt_cache_key: value }), 400, 'invalid_header_value', 'prompt_cache_key');
      await expectError(await gw.call('/v1/chat/completions', { method: 'POST', key, json: { model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }], prompt_cache_key: value } }), 400, 'invalid_header_value', 'prompt_cache_key');
      expect(gw.sim.requests.length).toBe(before);
    });
  }
  test('a non-Latin-1 prompt_cache_key is served, its header sent as UTF-8 bytes', async () => {
    const res = await responses({ model: 'gpt-5.5', input: 'hi', prompt_cache_key: 'ключ-🔑' });
    expect(res.status).toBe(200);
    const sent = gw.sim.requests.at(-1)!;
    expect(Buffer.from(sent.headers['session_id']!, 'latin1').toString('utf8')).toBe('ключ-🔑');
    expect((sent.body as { prompt_cache_key: string }).prompt_cache_key).toBe('ключ-🔑');
  });
  test('CR/LF in a WebSocket turn client_metadata is an error frame naming the field', async () => {
    const ws = new WebSocket(`${gw.listen().replace('http', 'ws')}/v1/responses`, { headers: { authorization: `Bearer ${key}` } } as unknown as string[]);
    const frames: Record<string, unknown>[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5.5', input: 'hi', client_metadata: { 'x-codex-turn-metadata': '{"a":1}\r\nx-evil: 1' } }));
      ws.onmessage = (m) => {
        const frame = JSON.parse(String(m.data)) as Record<string, unknown>;
        frames.push(frame);
        if (frame.type === 'error' || frame.type === 'response.completed' || frame.type === 'response.failed') resolve();
      };
      ws.onerror = () => reject(new Error('socket error'));
      setTimeout(() => reject(new Error(`no terminal frame: ${JSON.stringify(frames)}`)), 5000);
    });
    ws.close();
    const error = frames.at(-1) as { type: string; status: number; error: { code: string; param: string } };
    expect(error.type).toBe('error');
    expect(error.status).toBe(400);
    expect(error.error.code).toBe('invalid_header_value');
    expect(error.error.param).toBe('client_metadata.x-codex-turn-metadata');
  });
});

describe('upstream error text', () => {
  test('an upstream that echoes request headers does not hand the access token to the client', async () => {
    for (const status of [400, 429, 500, 503]) {
      const echoed = `bad request; you sent authorization: Bearer ${accessToken}; token=${accessToken}`;
      // Three answers: a 5xx is retried twice before it reaches the client.
      const answer = { kind: 'http_error' as const, status, body: { detail: echoed, error: { message: echoed, code: accessToken } } };
      gw.sim.enqueue(answer, answer, answer);
      const res = await responses({ model: 'gpt-5.5', input: 'hi' });
      const text = await res.text();
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(text).not.toContain(accessToken);
      expect(text).not.toContain(accessToken.split('.')[1]!);
      expect(text).toContain('[redacted]');
      gw.sim.reset();
    }
  });
  test('long upstream error text reaches the client as at most ~1000 characters; a huge body is not even read whole', async () => {
    gw.sim.enqueue({ kind: 'http_error', status: 400, body: { detail: 'x '.repeat(15_000) } });
    const error = await expectError(await responses({ model: 'gpt-5.5', input: 'hi' }), 400, null);
    expect(error.message.length).toBeLessThan(1100);
    expect(error.message).toEndWith('(truncated)');
    gw.sim.enqueue({ kind: 'http_error', status: 400, body: { detail: 'x '.repeat(2_000_000) } });
    const huge = await expectError(await responses({ model: 'gpt-5.5', input: 'hi' }), 400, null);
    expect(huge.message).toBe('The upstream rejected the request (HTTP 400).');
  });
  test('redaction keeps ordinary messages intact', () => {
    expect(redactSecrets("Unsupported parameter: 'max_output_tokens'")).toBe("Unsupported parameter: 'max_output_tokens'");
    expect(redactSecrets('Authorization: Bearer abc.def-123 failed')).toBe('Authorization: Bearer [redacted] failed');
    expect(redactSecrets('id eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln end')).toBe('id [redacted] end');
    expect(clientSafeText(`refresh rt_${'a1B2'.repeat(12)} failed`)).toBe('refresh [redacted] failed');
    const itemId = `rs_${'0a1b2c3d'.repeat(6)}`;
    expect(redactSecrets(`Item with id '${itemId}' not found.`)).toBe(`Item with id '${itemId}' not found.`);
  });
});

describe('usage figures from the upstream', () => {
  test('1e308 tokens are clamped, the answer is served and metering keeps working', async () => {
    const created = Math.floor(Date.now() / 1000);
    const base = { id: 'resp_huge', object: 'response', created_at: created, model: 'gpt-5.5', output: [], usage: null };
    const item = { id: 'msg_huge', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }] };
    const usageKey = gw.key();
    gw.sim.enqueue({
      kind: 'events',
      events: [
        { type: 'response.created', response: { ...base, status: 'in_progress' } },
        { type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } },
        { type: 'response.output_item.done', output_index: 0, item },
        { type: 'response.completed', response: { ...base, status: 'completed', usage: { input_tokens: 1e308, input_tokens_details: { cached_tokens: 2 ** 80 }, output_tokens: -5, output_tokens_details: { reasoning_tokens: 'many' }, total_tokens: 1e308 } } },
      ],
    });
    const res = await gw.call('/v1/responses', { method: 'POST', key: usageKey, json: { model: 'gpt-5.5', input: 'hi' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { input_tokens: number; output_tokens: number; input_tokens_details: { cached_tokens: number } } };
    expect(body.usage.input_tokens).toBe(1_000_000_000);
    expect(body.usage.input_tokens_details.cached_tokens).toBe(1_000_000_000);
    expect(body.usage.output_tokens).toBe(0);
    await Bun.sleep(50);
    const me = (await (await gw.call('/v1/me', { key: usageKey })).json()) as { usage: { total: { requests: number; input_tokens: number } } };
    expect(me.usage.total.requests).toBe(1);
    expect(me.usage.total.input_tokens).toBe(1_000_000_000);
  });
});

describe('absurd reset times and retry-after from the upstream', () => {
  const MONTH_S = 31 * 86_400;
  for (const [label, error] of [
    ['resets_at 1e308', { type: 'usage_limit_reached', message: 'The usage limit has been reached', resets_at: 1e308 }],
    ['resets_in_seconds 1e308', { type: 'usage_limit_reached', message: 'The usage limit has been reached', resets_in_seconds: 1e308 }],
    ['resets_at -1e308', { type: 'usage_limit_reached', message: 'The usage limit has been reached', resets_at: -1e308 }],
    ['resets_at in milliseconds', { type: 'usage_limit_reached', message: 'The usage limit has been reached', resets_at: Date.now() }],
  ] as const) {
    test(`${label}: a 429 with a bounded retry-after, not a 500`, async () => {
      const g = await startGateway();
      try {
        g.sim.enqueue({ kind: 'http_error', status: 429, body: { error } });
        const res = await g.call('/v1/responses', { method: 'POST', key: g.key(), json: { model: 'gpt-5.5', input: 'hi' } });
        const retryAfter = Number(res.headers.get('retry-after'));
        const body = await expectError(res, 429, 'usage_limit_reached');
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(MONTH_S);
        const resetsAt = (body as unknown as { resets_at?: number }).resets_at;
        if (resetsAt !== undefined) expect(resetsAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + MONTH_S + 1);
      } finally {
        await g.stop();
      }
    });
  }
  test('a retry-after of 1e308 on a plain 429 is capped', async () => {
    gw.sim.reset();
    gw.sim.enqueue({ kind: 'http_error', status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': '1e308' } });
    const res = await responses({ model: 'gpt-5.5', input: 'hi' });
    expect(Number(res.headers.get('retry-after'))).toBe(MONTH_S);
    await expectError(res, 429, 'rate_limit_exceeded');
  });
});

describe('error text inside the upstream stream', () => {
  for (const stream of [false, true]) {
    test(`an error event and response.failed echoing the token reach the client redacted and capped (stream: ${stream})`, async () => {
      const leak = `authorization: Bearer ${accessToken}; token ${accessToken} ${'boom '.repeat(2000)}`;
      const created = Math.floor(Date.now() / 1000);
      const base = { id: 'resp_leak', object: 'response', created_at: created, model: 'gpt-5.5', output: [], usage: null };
      for (const events of [
        [{ type: 'response.created', response: base }, { type: 'error', message: leak, code: 'server_error' }],
        [{ type: 'response.created', response: base }, { type: 'response.failed', response: { ...base, status: 'failed', error: { code: 'server_error', message: leak } } }],
      ]) {
        gw.sim.enqueue({ kind: 'events', events });
        const res = await responses({ model: 'gpt-5.5', input: 'hi', stream });
        const text = await res.text();
        expect(text).not.toContain(accessToken);
        expect(text).toContain('(truncated)');
        expect(text.length).toBeLessThan(stream ? 6000 : 2000);
      }
    });
  }
});
