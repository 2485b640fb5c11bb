import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { DEFAULT_MODELS } from '../../../src/upstream/mock';
import { authHeaders, startSim, validBody, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.stop());

const REQUIRED_MODEL_FIELDS = [
  'slug',
  'display_name',
  'supported_reasoning_levels',
  'shell_type',
  'visibility',
  'supported_in_api',
  'priority',
  'base_instructions',
  'supports_reasoning_summaries',
  'support_verbosity',
  'truncation_policy',
  'supports_parallel_tool_calls',
  'experimental_supported_tools',
];

describe('/codex/models', () => {
  test('lists every configured model with all required ModelInfo fields and an ETag', async () => {
    const res = await fetch(`${h.url}/backend-api/codex/models?client_version=0.169.0`, { headers: authHeaders(h.account) });
    expect(res.status).toBe(200);
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^W\/".+"$/);
    const { models } = (await res.json()) as { models: Record<string, unknown>[] };
    expect(models.map((m) => m.slug)).toEqual(DEFAULT_MODELS);
    for (const m of models) {
      for (const field of REQUIRED_MODEL_FIELDS) expect(m).toHaveProperty(field);
      expect(['default', 'local', 'unified_exec', 'disabled', 'shell_command']).toContain(m.shell_type as string);
      expect(['list', 'hide', 'none']).toContain(m.visibility as string);
      expect(m.truncation_policy).toMatchObject({ mode: 'tokens', limit: expect.any(Number) });
      for (const level of m.supported_reasoning_levels as Record<string, unknown>[]) expect(level).toEqual({ effort: expect.any(String), description: expect.any(String) });
    }
    expect(models.find((m) => m.slug === 'gpt-5.5')!.context_window).toBe(272000);
    expect(models.find((m) => m.slug === 'codex-auto-review')!.visibility).toBe('hide');

    const again = await fetch(`${h.url}/backend-api/codex/models?client_version=0.169.0`, { headers: { ...authHeaders(h.account), 'if-none-match': etag! } });
    expect(again.status).toBe(304);
  });

  test('client_version is required', async () => {
    const res = await fetch(`${h.url}/backend-api/codex/models`, { headers: authHeaders(h.account) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: 'client_version is required' });
  });

  test('requires auth', async () => {
    expect((await fetch(`${h.url}/backend-api/codex/models?client_version=0.169.0`)).status).toBe(401);
  });

  test('the ETag changes with the model list', async () => {
    const other = await startSim({ models: ['gpt-5.5'] });
    try {
      const a = (await fetch(`${h.url}/backend-api/codex/models?client_version=1.0.0`, { headers: authHeaders(h.account) })).headers.get('etag');
      const b = (await fetch(`${other.url}/backend-api/codex/models?client_version=1.0.0`, { headers: authHeaders(other.account) })).headers.get('etag');
      expect(a).not.toBe(b);
    } finally {
      await other.stop();
    }
  });
});

describe('/wham/usage', () => {
  test('has the §3.1 shape for the account plan', async () => {
    const res = await fetch(`${h.url}/backend-api/wham/usage`, { headers: authHeaders(h.account) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.plan_type).toBe('plus');
    expect(body.rate_limit).toMatchObject({
      allowed: true,
      limit_reached: false,
      primary_window: { used_percent: 12, limit_window_seconds: 18000, reset_after_seconds: expect.any(Number), reset_at: expect.any(Number) },
      secondary_window: { used_percent: 4, limit_window_seconds: 604800 },
    });
    expect(body.credits).toMatchObject({ has_credits: false, unlimited: false, balance: '0' });
    expect(body.additional_rate_limits).toBeArray();
  });

  test('requires auth', async () => {
    expect((await fetch(`${h.url}/backend-api/wham/usage`)).status).toBe(401);
  });
});

describe('/codex/responses/compact', () => {
  test('keeps user and developer messages and appends an opaque compaction item', async () => {
    const input = [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'rules' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hello' }] },
      { type: 'function_call', name: 'x', arguments: '{}', call_id: 'c' },
      { type: 'function_call_output', call_id: 'c', output: 'ok' },
    ];
    const res = await fetch(`${h.url}/backend-api/codex/responses/compact`, {
      method: 'POST',
      headers: authHeaders(h.account),
      body: JSON.stringify({ model: 'gpt-5.5', input, instructions: 'x', tools: [], parallel_tool_calls: true }),
    });
    expect(res.status).toBe(200);
    const { output } = (await res.json()) as { output: Record<string, unknown>[] };
    expect(output.slice(0, 2)).toEqual(input.slice(0, 2));
    expect(output).toHaveLength(3);
    expect(output[2]!.type).toBe('compaction');
    expect(output[2]!.encrypted_content).toBeString();
  });

  test('same auth rules', async () => {
    const res = await fetch(`${h.url}/backend-api/codex/responses/compact`, { method: 'POST', body: JSON.stringify({ model: 'gpt-5.5', input: [] }) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: 'Unauthorized' });
  });
});

describe('routing and observation', () => {
  test('unknown route → 404 Not Found; wrong method → 405', async () => {
    const res = await fetch(`${h.url}/backend-api/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: 'Not Found' });
    const wrong = await fetch(`${h.url}/backend-api/codex/responses`);
    expect(wrong.status).toBe(405);
  });

  test('every request is recorded with lower-case headers and the parsed body', async () => {
    h.sim.reset();
    const body = validBody({ stream: false });
    await fetch(`${h.url}/backend-api/codex/responses?x=1`, { method: 'POST', headers: { ...authHeaders(h.account), 'X-Custom-Header': 'Yes' }, body: JSON.stringify(body) });
    expect(h.sim.requests).toHaveLength(1);
    const r = h.sim.requests[0]!;
    expect(r).toMatchObject({ method: 'POST', path: '/backend-api/codex/responses', query: { x: '1' }, body });
    expect(r.headers['x-custom-header']).toBe('Yes');
    expect(r.headers['chatgpt-account-id']).toBe(h.account.accountId);
    expect(r.rawBody).toBe(JSON.stringify(body));
    expect(Math.abs(r.at - Date.now())).toBeLessThan(5000);
  });

  test('fetch() works in-process without a server', async () => {
    const res = await h.sim.fetch(new Request('http://in.process/backend-api/wham/usage', { headers: authHeaders(h.account) }));
    expect(res.status).toBe(200);
  });
});
