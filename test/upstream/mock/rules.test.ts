import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { UNSUPPORTED_PARAMETERS } from '../../../src/upstream/mock';
import { authHeaders, fixture, postResponses, readEvents, startSim, types, validBody, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.stop());

async function expectDetail(res: Response, status: number, detail: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  expect(await res.json()).toEqual({ detail });
}

describe('authentication on /codex/responses', () => {
  test('missing bearer → 401 Unauthorized', async () => {
    const { authorization: _, ...headers } = authHeaders(h.account);
    await expectDetail(await postResponses(h, validBody(), headers), 401, 'Unauthorized');
  });

  test('unknown token → 401', async () => {
    await expectDetail(await postResponses(h, validBody(), { ...authHeaders(h.account), authorization: 'Bearer not-a-token' }), 401, 'Unauthorized');
  });

  test('missing ChatGPT-Account-Id → 401', async () => {
    const { 'chatgpt-account-id': _, ...headers } = authHeaders(h.account);
    await expectDetail(await postResponses(h, validBody(), headers), 401, 'Unauthorized');
  });

  test('account id of another account → 401', async () => {
    const other = h.sim.issueAccount();
    await expectDetail(await postResponses(h, validBody(), { ...authHeaders(h.account), 'chatgpt-account-id': other.accountId }), 401, 'Unauthorized');
  });

  test('expired access token → 401', async () => {
    const expired = h.sim.issueAccount({ accessTtlSeconds: -60 });
    await expectDetail(await postResponses(h, validBody(), authHeaders(expired)), 401, 'Unauthorized');
  });

  test('auth is checked before the body', async () => {
    await expectDetail(await postResponses(h, { stream: false }, { 'content-type': 'application/json' }), 401, 'Unauthorized');
  });
});

describe('body rules, in order, with the real error bodies', () => {
  test('stream must be true', async () => {
    await expectDetail(await postResponses(h, validBody({ stream: false })), 400, 'Stream must be set to true');
    const { stream: _, ...noStream } = validBody();
    await expectDetail(await postResponses(h, noStream), 400, 'Stream must be set to true');
  });

  test('store must be false, also when absent', async () => {
    await expectDetail(await postResponses(h, validBody({ store: true })), 400, 'Store must be set to false');
    const { store: _, ...noStore } = validBody();
    await expectDetail(await postResponses(h, noStore), 400, 'Store must be set to false');
  });

  test('stream is checked before store', async () => {
    await expectDetail(await postResponses(h, validBody({ stream: false, store: true })), 400, 'Stream must be set to true');
  });

  test('instructions: a non-string is rejected, absence is accepted', async () => {
    await expectDetail(await postResponses(h, validBody({ instructions: null })), 400, 'Instructions are required');
    await expectDetail(await postResponses(h, validBody({ instructions: 42 })), 400, 'Instructions are required');
    const { instructions: _, ...noInstructions } = validBody();
    const res = await postResponses(h, noInstructions);
    expect(res.status).toBe(200);
    await res.text();
  });

  test.each(UNSUPPORTED_PARAMETERS)('unsupported parameter %s', async (name) => {
    await expectDetail(await postResponses(h, validBody({ [name]: name === 'metadata' ? {} : 1 })), 400, `Unsupported parameter: ${name}`);
  });

  test('the brief\'s list of rejected parameters is all covered', () => {
    for (const name of [
      'max_output_tokens',
      'max_completion_tokens',
      'context_management',
      'temperature',
      'top_p',
      'truncation',
      'user',
      'safety_identifier',
      'prompt_cache_retention',
      'stream_options',
      'previous_response_id',
      'metadata',
    ]) {
      expect(UNSUPPORTED_PARAMETERS).toContain(name);
    }
  });

  test('a null value still counts as sent', async () => {
    await expectDetail(await postResponses(h, validBody({ previous_response_id: null })), 400, 'Unsupported parameter: previous_response_id');
  });

  test('system role in input → 400', async () => {
    const input = [
      { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'be nice' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
    ];
    await expectDetail(await postResponses(h, validBody({ input })), 400, 'System messages are not allowed');
    // An easy-input message without `type` is still a message.
    await expectDetail(await postResponses(h, validBody({ input: [{ role: 'system', content: 'x' }] })), 400, 'System messages are not allowed');
  });

  test('unsupported model → 400 with the real wording', async () => {
    await expectDetail(
      await postResponses(h, validBody({ model: 'gpt-5.3-codex' })),
      400,
      "The 'gpt-5.3-codex' model is not supported when using Codex with a ChatGPT account.",
    );
  });

  test('model rule comes after the parameter rules', async () => {
    await expectDetail(await postResponses(h, validBody({ model: 'nope', temperature: 0.2 })), 400, 'Unsupported parameter: temperature');
  });

  test('a body that is not JSON → 400', async () => {
    const res = await fetch(`${h.url}/backend-api/codex/responses`, { method: 'POST', headers: authHeaders(h.account), body: '{nope' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toBeString();
  });

  test('configured models replace the defaults', async () => {
    const other = await startSim({ models: ['gpt-9'] });
    try {
      expect((await postResponses(other, validBody({ model: 'gpt-5.5' }))).status).toBe(400);
      const ok = await postResponses(other, validBody({ model: 'gpt-9' }));
      expect(ok.status).toBe(200);
      await ok.text();
    } finally {
      await other.stop();
    }
  });

  test('a rejected request consumes no scenario', async () => {
    h.sim.enqueue({ kind: 'text', text: 'scripted' });
    await postResponses(h, validBody({ store: true }));
    const events = await readEvents(await postResponses(h, validBody()));
    const done = events.find((e) => e.type === 'response.output_text.done');
    expect(done?.text).toBe('scripted');
  });
});

describe('real Codex CLI 0.169.0 bodies', () => {
  test('turn 1 body (custom provider) is accepted and answered', async () => {
    const body = fixture('codex-cli-0.169.0/custom-provider-turn1-body.json');
    const res = await postResponses(h, body);
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    expect(events[0]!.type).toBe('response.created');
    expect(events.at(-1)!.type).toBe('response.completed');
    // Reasoning was requested with encrypted content included, but no summary.
    const reasoning = events.find((e) => e.type === 'response.output_item.done' && (e.item as { type: string }).type === 'reasoning');
    expect((reasoning!.item as { encrypted_content: string }).encrypted_content).toStartWith('gAAAAAB');
    expect(types(events)).not.toContain('response.reasoning_summary_text.delta');
  });

  test('turn 2 body (function_call_output last) gets the tool-result reply', async () => {
    const body = fixture('codex-cli-0.169.0/custom-provider-turn2-tool-output-body.json');
    const events = await readEvents(await postResponses(h, body));
    const done = events.find((e) => e.type === 'response.output_text.done');
    expect(done?.text).toStartWith('Tool result received: Chunk ID: 6dce61');
  });

  test('the HTTP turn recorded behind openai_base_url is accepted (the file wraps headers + body)', async () => {
    const turn = fixture('codex-cli-0.169.0/openai-base-url-http-turn.json');
    const res = await postResponses(h, turn.body);
    expect(res.status).toBe(200);
    expect(types(await readEvents(res)).at(-1)).toBe('response.completed');
  });

  test('a zstd-compressed body (how Codex talks to the real backend) is accepted', async () => {
    const body = Bun.zstdCompressSync(Buffer.from(JSON.stringify(validBody())));
    const res = await fetch(`${h.url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: { ...authHeaders(h.account), 'content-encoding': 'zstd' },
      body,
    });
    expect(res.status).toBe(200);
    expect(types(await readEvents(res)).at(-1)).toBe('response.completed');
  });
});
