/**
 * `--upstream openai`: the compiled binary in front of any Responses-compatible API
 * with an API key (here the simulator's OpenAI mode), streaming and not.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI from 'openai';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import { startServer, runCli, type RunningServer } from '../support/binary';

let sim: Simulator;
let stopSim: () => Promise<void>;
let simUrl: string;
let server: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  sim = createSimulator();
  const running = await sim.start();
  stopSim = running.stop;
  simUrl = running.url;
  server = await startServer({ args: ['--upstream', 'openai', '--upstream-url', `${running.url}/v1`], env: { OPENAI_API_KEY: 'sk-test-upstream-key' } });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.adminKey!, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  await stopSim();
});

describe('--upstream openai', () => {
  test('non-stream round trip: the upstream gets our API key and the client a Response', async () => {
    sim.enqueue({ kind: 'text', text: 'from the openai-compatible upstream' });
    const response = await client.responses.create({ model: 'gpt-5.5', input: 'hi', max_output_tokens: 50 });
    expect(response.output_text).toBe('from the openai-compatible upstream');
    const upstream = sim.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/responses');
    expect(upstream.headers.authorization).toBe('Bearer sk-test-upstream-key');
    // The OpenAI API accepts max_output_tokens: nothing is stripped in this mode.
    expect((upstream.body as Record<string, unknown>).max_output_tokens).toBe(50);
  });

  test('streaming round trip passes the SDK stream helper', async () => {
    sim.enqueue({ kind: 'text', text: 'streamed words here' });
    const final = await client.responses.stream({ model: 'gpt-5.5', input: 'stream please' }).finalResponse();
    expect(final.output_text).toBe('streamed words here');
    expect(final.status).toBe('completed');
  });

  test('an upstream 401 is reported as the server key problem, not the caller key', async () => {
    const bad = await startServer({ args: ['--upstream', 'openai', '--upstream-url', `${simUrl}/v1`], env: { OPENAI_API_KEY: 'not-an-sk-key' } });
    try {
      const res = await fetch(`${bad.url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${bad.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-5.5', input: 'x' }) });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_unauthorized');
    } finally {
      await bad.stop();
    }
  });

  test('without OPENAI_API_KEY the server refuses to start with a one-line error and exit 2', async () => {
    const result = await runCli(['serve', '--upstream', 'openai', '--port', '0', '--data-dir', ':memory:'], { env: { OPENAI_API_KEY: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('OPENAI_API_KEY');
  });
});
