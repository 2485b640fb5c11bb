/**
 * The simulator enforces the ChatGPT backend's request rules with their real error
 * bodies; these tests prove each rule is live there, and that CodexIn's adapter never
 * sends a violating request whatever the client sent.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../../support/gateway';
import { UNSUPPORTED_PARAMETERS } from '../../../src/upstream/mock';

let gw: TestGateway;
let key: string;
let accessToken: string;
let accountId: string;

beforeAll(async () => {
  gw = await startGateway();
  key = gw.key();
  const account = gw.accounts.list()[0]!;
  accessToken = account.accessToken;
  accountId = account.chatgptAccountId;
});
afterAll(() => gw.stop());

const SAMPLE_VALUES: Record<string, unknown> = {
  max_output_tokens: 100,
  max_completion_tokens: 100,
  context_management: [{ type: 'compaction' }],
  temperature: 0.3,
  top_p: 0.9,
  truncation: 'auto',
  user: 'someone',
  safety_identifier: 'sid',
  prompt_cache_retention: '24h',
  prompt_cache_options: { mode: 'x' },
  stream_options: { include_obfuscation: false },
  generate: true,
  metadata: { a: 'b' },
};

function directUpstream(body: Record<string, unknown>) {
  return fetch(`${gw.simUrl}/backend-api/codex/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'chatgpt-account-id': accountId, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('each upstream rule: the simulator rejects the violation, CodexIn never sends it', () => {
  const valid = { model: 'gpt-5.5', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] }], stream: true, store: false, instructions: '' };

  test('stream must be true', async () => {
    const direct = await directUpstream({ ...valid, stream: false });
    expect(direct.status).toBe(400);
    expect(await direct.json()).toEqual({ detail: 'Stream must be set to true' });
    const res = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'x', stream: false } });
    expect(res.status).toBe(200);
    expect((gw.sim.requests.at(-1)!.body as Record<string, unknown>).stream).toBe(true);
  });

  test('store must be false', async () => {
    const direct = await directUpstream({ ...valid, store: true });
    expect(await direct.json()).toEqual({ detail: 'Store must be set to false' });
    const res = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'x', store: true } });
    expect(res.status).toBe(200);
    expect((gw.sim.requests.at(-1)!.body as Record<string, unknown>).store).toBe(false);
  });

  test('system input roles are refused upstream and become developer', async () => {
    const direct = await directUpstream({ ...valid, input: [{ type: 'message', role: 'system', content: 'x' }] });
    expect(direct.status).toBe(400);
    const res = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: [{ role: 'system', content: 'be terse' }, { role: 'user', content: 'x' }] } });
    expect(res.status).toBe(200);
    const sent = gw.sim.requests.at(-1)!.body as { input: { role: string }[] };
    expect(sent.input.map((i) => i.role)).toEqual(['developer', 'user']);
  });

  for (const name of UNSUPPORTED_PARAMETERS) {
    if (name === 'previous_response_id') continue; // answered by CodexIn itself over HTTP, see below
    test(`unsupported parameter ${name}`, async () => {
      const value = SAMPLE_VALUES[name];
      expect(value).toBeDefined();
      const direct = await directUpstream({ ...valid, [name]: value });
      expect(direct.status).toBe(400);
      expect(await direct.json()).toEqual({ detail: `Unsupported parameter: ${name}` });
      const res = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'x', [name]: value } });
      expect(res.status).toBe(200);
      expect(gw.sim.requests.at(-1)!.body as Record<string, unknown>).not.toHaveProperty(name);
      // Dropped on purpose, and said so.
      expect(res.headers.get('x-codexin-ignored-params')?.split(', ')).toContain(name);
    });
  }

  test('previous_response_id over HTTP gets a clear 400 from CodexIn instead of silently losing context', async () => {
    const direct = await directUpstream({ ...valid, previous_response_id: 'resp_1' });
    expect(await direct.json()).toEqual({ detail: 'Unsupported parameter: previous_response_id' });
    const before = gw.sim.requests.length;
    const res = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.5', input: 'x', previous_response_id: 'resp_1' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('previous_response_id');
    expect(gw.sim.requests.length).toBe(before);
  });

  test('the model must be one the plan allows; CodexIn answers unknown models itself', async () => {
    const direct = await directUpstream({ ...valid, model: 'gpt-4o' });
    expect(await direct.json()).toEqual({ detail: "The 'gpt-4o' model is not supported when using Codex with a ChatGPT account." });
    const res = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-4o', input: 'x' } });
    expect(res.status).toBe(404);
  });

  test('an upstream 400 detail reaches the client as invalid_request_error', async () => {
    gw.sim.enqueue({ kind: 'http_error', status: 400, body: { detail: "The 'gpt-5.4' model is not supported when using Codex with a ChatGPT account." } });
    const res = await gw.call('/v1/responses', { key, method: 'POST', json: { model: 'gpt-5.4', input: 'x' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: "The 'gpt-5.4' model is not supported when using Codex with a ChatGPT account.", type: 'invalid_request_error', param: null, code: null } });
  });

  test('a missing ChatGPT-Account-Id is a 401 upstream; CodexIn always sends it', async () => {
    const direct = await fetch(`${gw.simUrl}/backend-api/codex/responses`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify(valid) });
    expect(direct.status).toBe(401);
    for (const r of gw.sim.requests.filter((x) => x.path === '/backend-api/codex/responses' && x.headers.authorization === `Bearer ${accessToken}` && x.headers.originator === 'codex_cli_rs')) {
      expect(r.headers['chatgpt-account-id']).toBe(accountId);
    }
  });
});
