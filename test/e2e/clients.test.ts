/**
 * Real third-party clients against the compiled binary (on the simulator), each run
 * as its users run it: a Node 22 process (the `node` npm package; several of these
 * clients require Node ≥ 22, the machine's node is older) executing a script in
 * test/e2e/clients/ that prints one JSON line of what the client saw.
 *
 * - @openai/agents: a multi-turn tool run over Responses (HTTP), the Chat Completions
 *   model, and the Responses WebSocket transport (two turns, the second continuing the
 *   first by previous_response_id);
 * - @langchain/openai: invoke, stream, tool calls and structured output, on Chat
 *   Completions and on the Responses API;
 * - @ai-sdk/open-responses (an Open Responses client): generateText, streamText, a tool loop;
 * - openai@4 (as `openai-v4`): legacy `functions` with runFunctions(), streamed and not.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/binary';
import { startStack, type E2EStack } from '../support/stack';

const NODE = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
type Json = Record<string, any>;

let stack: E2EStack;
let key: string;
beforeAll(async () => {
  stack = await startStack();
  key = await stack.createKey();
});
afterAll(() => stack.stop());

async function runClient(script: string): Promise<Json> {
  const child = Bun.spawn([NODE, join(import.meta.dir, 'clients', script)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CODEXIN_BASE_URL: stack.baseUrl, CODEXIN_KEY: key },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`${script} exited ${code}: ${stderr.slice(0, 2000)}`);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Json;
}

/** Upstream Responses calls made since `from`, with the body each sent. */
function upstreamCallsSince(from: number): Json[] {
  return stack.sim.requests
    .slice(from)
    .filter((r) => r.path === '/backend-api/codex/responses')
    .map((r) => r.body as Json);
}

async function metric(name: string, label: string): Promise<number> {
  const text = await (await fetch(`${stack.server.url}/metrics`, { headers: { authorization: `Bearer ${stack.adminKey}` } })).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && line.includes(label))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('@openai/agents', () => {
  test('multi-turn tools over Responses, the chat model, and the WebSocket transport', async () => {
    const before = stack.sim.requests.length;
    const wsBefore = await metric('codexin_requests_total', 'route="ws /v1/responses"');
    const result = await runClient('agents.mjs');
    expect(result.responsesHttp).toMatchObject({ ok: true, first: 'Tool result received: sunny in x', second: 'Tool result received: sunny in x' });
    expect(result.chatModel).toMatchObject({ ok: true, final: 'Tool result received: sunny in x' });
    expect(result.webSocket).toMatchObject({ ok: true, first: 'Tool result received: sunny in x', second: 'Echo: and a plain question' });
    // Four tool runs: two HTTP turns, one chat run, one WebSocket turn.
    expect(result.toolCalls).toEqual(['x', 'x', 'x', 'x']);
    // The second WebSocket turn continues the first by previous_response_id: the upstream got the whole conversation.
    const last = upstreamCallsSince(before).at(-1)!;
    expect(JSON.stringify(last.input)).toContain('call get_weather');
    expect(JSON.stringify(last.input)).toContain('and a plain question');
    // Over the socket: the tool turn (call, then answer) and the follow-up, three model calls.
    expect((await metric('codexin_requests_total', 'route="ws /v1/responses"')) - wsBefore).toBe(3);
  }, 60_000);
});

describe('@langchain/openai', () => {
  test('invoke, stream, tools and structured output on both APIs', async () => {
    const result = await runClient('langchain.mjs');
    expect(result.chat).toEqual({
      ok: true,
      invoked: 'Echo: hello langchain',
      streamed: 'Echo: stream please',
      toolCall: { name: 'get_weather', args: { city: 'x' } },
      answer: 'Tool result received: sunny in x',
      structured: { city: 'x' },
    });
    expect(result.responses).toMatchObject({
      ok: true,
      invoked: [{ type: 'text', text: 'Echo: hello langchain' }],
      streamed: 'Echo: stream please',
      toolCall: { name: 'get_weather', args: { city: 'x' } },
      answer: [{ type: 'text', text: 'Tool result received: sunny in x' }],
      structured: { city: 'x' },
    });
  }, 60_000);
});

describe('@ai-sdk/open-responses', () => {
  test('generateText, streamText and a tool loop', async () => {
    const result = await runClient('open-responses.mjs');
    expect(result.generate).toMatchObject({ ok: true, text: 'Echo: hello open responses', finishReason: 'stop' });
    expect(result.generate.usage).toBeGreaterThan(0);
    expect(result.stream).toEqual({ ok: true, text: 'Echo: stream open responses', finishReason: 'stop' });
    expect(result.tools).toEqual({ ok: true, text: 'Tool result received: sunny in x', steps: 2, calls: ['x'] });
  }, 60_000);
});

describe('openai@4 legacy functions', () => {
  test('runFunctions() runs the function, streamed and not', async () => {
    const result = await runClient('openai-v4-functions.mjs');
    const conversation = [
      { role: 'user', function_call: null, name: null },
      { role: 'assistant', function_call: 'get_weather', name: null },
      { role: 'function', function_call: null, name: 'get_weather' },
      { role: 'assistant', function_call: null, name: null },
    ];
    expect(result.nonStream).toEqual({ ok: true, content: 'Tool result received: sunny in x', messages: conversation });
    expect(result.stream).toEqual({ ok: true, content: 'Tool result received: sunny in x', messages: conversation });
    expect(result.calls).toEqual(['x', 'x']);
  }, 60_000);
});
