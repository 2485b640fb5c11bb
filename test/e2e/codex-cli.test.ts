/**
 * The real Codex CLI (@openai/codex 0.169.0) against the compiled CodexIn binary, with
 * the ChatGPT-backend simulator behind it, in both configurations a user can choose
 * (research/chatgpt-upstream-protocol.md §1.1):
 *
 * - `openai_base_url` + `codex login --with-api-key` (the product docs'): Codex opens a
 *   Responses WebSocket on GET /v1/responses and must be accepted on the first try.
 * - a custom `[model_providers.codexin]` (`env_key`, `wire_api = "responses"`): HTTP
 *   POST /v1/responses with SSE.
 *
 * Each config runs a plain turn, a tool turn (Codex really runs exec_command and the
 * output travels back through CodexIn to the upstream), and a usage-limit 429 that
 * Codex must report once, without retrying. A transparent TCP relay between Codex and
 * CodexIn records what Codex actually asked for (WebSocket vs POST, how many times).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedRequest } from '../../src/upstream/mock';
import { removeTempDirs, runCli, stopAllServers } from '../support/binary';
import { startStack, type E2EStack } from '../support/stack';
import { CODEX_BIN, CODEX_VERSION, codexBinary, codexExec, MODEL, setUpCodex, transportTrouble, type CodexConfigKind, type CodexRun } from './codex/codex-cli';
import { startTrafficRecorder, type SeenRequest, type TrafficRecorder } from './codex/traffic-recorder';

const UPSTREAM_PATH = '/backend-api/codex/responses';
/** A healthy usage-limit answer takes Codex ~2 s; a hang would otherwise cost the 300 s stream idle timeout. */
const USAGE_LIMIT_TIMEOUT_MS = 20_000;

/** CodexIn (compiled) in front of the simulator, and the relay Codex talks to. */
interface Gateway {
  stack: E2EStack;
  relay: TrafficRecorder;
  /** Codex's base URL: the relay in front of CodexIn, ending in /v1. */
  baseUrl: string;
  /** A CodexIn API key for Codex. */
  key: string;
}

async function openGateway(): Promise<Gateway> {
  const stack = await startStack();
  const key = await stack.createKey();
  const relay = await startTrafficRecorder({ hostname: '127.0.0.1', port: stack.server.port });
  const gateway = { stack, relay, baseUrl: `${relay.url}/v1`, key };
  gateways.push(gateway);
  return gateway;
}

const gateways: Gateway[] = [];
/** Shared by the plain and tool turns. A usage limit cools the only account down for an hour, so those tests get their own. */
let shared: Gateway;

beforeAll(async () => {
  for (const command of [CODEX_BIN, codexBinary()]) {
    const version = await runCli(['--version'], { command: [command] });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(`codex-cli ${CODEX_VERSION}`);
  }
  shared = await openGateway();
}, 60_000);

afterAll(async () => {
  for (const g of gateways) {
    await g.relay.stop();
    await g.stack.stop();
  }
  await stopAllServers();
  removeTempDirs();
});

// ---------------------------------------------------------------------------
// What each side saw during one run

interface LoggedRequest {
  route: string;
  status: number;
  model?: string;
}

/** CodexIn's request log lines (JSON on stderr) from character `from` on. */
function serverRequestLog(g: Gateway, from: number): LoggedRequest[] {
  return g.stack.server
    .stderr()
    .slice(from)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string } & LoggedRequest)
    .filter((entry) => entry.msg === 'request');
}

/** Where each record stood when a run began. */
interface Window {
  g: Gateway;
  sim: number;
  relay: number;
  log: number;
}

function mark(g: Gateway): Window {
  return { g, sim: g.stack.sim.requests.length, relay: g.relay.requests.length, log: g.stack.server.stderr().length };
}

interface Seen {
  upstream: RecordedRequest[];
  client: SeenRequest[];
  log: LoggedRequest[];
}

/** What happened since `w`; waits briefly for CodexIn's log line of the last request (written after the stream ends). */
async function seenSince(w: Window, expectedLogLines: number): Promise<Seen> {
  const { g } = w;
  const deadline = Date.now() + 3_000;
  while (serverRequestLog(g, w.log).length < expectedLogLines && Date.now() < deadline) await Bun.sleep(25);
  return { upstream: g.stack.sim.requests.slice(w.sim), client: g.relay.requests.slice(w.relay), log: serverRequestLog(g, w.log) };
}

// ---------------------------------------------------------------------------
// Request body helpers

interface Item {
  type?: string;
  role?: string;
  content?: unknown;
  name?: string;
  arguments?: string;
  call_id?: string;
  output?: unknown;
}

interface Body {
  model?: string;
  stream?: boolean;
  store?: boolean;
  input?: Item[];
  tools?: { type: string; name?: string }[];
  prompt_cache_key?: string;
  tool_choice?: unknown;
  previous_response_id?: unknown;
}

function bodyOf(r: RecordedRequest): Body {
  expect(r.body).toBeObject();
  return r.body as Body;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
}

function lastUserText(body: Body): string {
  const user = [...(body.input ?? [])].reverse().find((i) => (i.type ?? 'message') === 'message' && i.role === 'user');
  return user ? textOf(user.content) : '';
}

/** The shape every Codex turn must reach the upstream with, whatever the transport. */
function expectCodexTurn(r: RecordedRequest, prompt: string, key: string): Body {
  expect(r.method).toBe('POST');
  expect(r.path).toBe(UPSTREAM_PATH);
  // The imported ChatGPT account's token, never the caller's CodexIn key.
  expect(r.headers['authorization']).toStartWith('Bearer ey');
  expect(r.headers['authorization']).not.toContain(key);
  expect(r.headers['chatgpt-account-id']).toBeString();
  const body = bodyOf(r);
  // Codex's conversation id keys both the prompt cache and the upstream session.
  expect(r.headers['session_id']).toBe(body.prompt_cache_key!);
  expect(body.model).toBe(MODEL);
  expect(body.stream).toBe(true);
  expect(body.store).toBe(false);
  expect(body.tool_choice).toBe('auto');
  expect(body).not.toHaveProperty('previous_response_id');
  expect(body.prompt_cache_key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const tools = (body.tools ?? []).map((t) => `${t.type}:${t.name ?? ''}`);
  expect(tools).toContain('function:exec_command');
  expect(tools).toContain('custom:apply_patch');
  // The whole conversation, as Codex built it: its developer instructions, then the prompt.
  const input = body.input ?? [];
  expect(input.some((i) => i.role === 'developer')).toBe(true);
  expect(input.some((i) => i.role === 'system')).toBe(false);
  expect(lastUserText(body)).toBe(prompt);
  return body;
}

// ---------------------------------------------------------------------------
// Transport expectations per config

function expectTransport(kind: CodexConfigKind, seen: Seen, turns: number, key: string): void {
  const websockets = seen.client.filter((r) => r.websocket);
  const posts = seen.client.filter((r) => r.method === 'POST');
  if (kind === 'openai_base_url') {
    // One WebSocket handshake on GET /v1/responses, accepted (101) on the first try,
    // carrying every turn; never the HTTP fallback.
    expect(websockets.map((r) => `${r.method} ${r.path} ${r.handshakeStatus}`)).toEqual(['GET /v1/responses 101']);
    expect(websockets[0]!.headers['authorization']).toBe(`Bearer ${key}`);
    expect(websockets[0]!.headers['openai-beta']).toMatch(/^responses_websockets=/);
    expect(posts.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(seen.log.map((l) => `${l.route} ${l.status}`)).toEqual(Array(turns).fill('ws /v1/responses 200'));
  } else {
    expect(websockets).toEqual([]);
    expect(posts.map((r) => `${r.method} ${r.path}`)).toEqual(Array(turns).fill('POST /v1/responses'));
    for (const post of posts) expect(post.headers['authorization']).toBe(`Bearer ${key}`);
    expect(seen.log.map((l) => `${l.route} ${l.status}`)).toEqual(Array(turns).fill('/v1/responses 200'));
  }
  // Nothing else: no /v1/models, no compaction, no other endpoint.
  expect(seen.client.filter((r) => !r.websocket && r.method !== 'POST').map((r) => `${r.method} ${r.path}`)).toEqual([]);
}

function describeRun(run: CodexRun): string {
  return `codex exited ${run.code} after ${Math.round(run.ms)} ms\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
}

/** Asserts with the run's output attached, so a failure shows what Codex printed. */
function expectExit(run: CodexRun, success: boolean): void {
  if (run.timedOut) throw new Error(`codex exec did not finish in time (killed)\n${describeRun(run)}`);
  if ((run.code === 0) !== success) throw new Error(`expected codex exec to ${success ? 'succeed' : 'fail'}\n${describeRun(run)}`);
}

function nonce(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e9).toString(36)}`;
}

// ---------------------------------------------------------------------------

const CONFIGS: { kind: CodexConfigKind; title: string }[] = [
  { kind: 'openai_base_url', title: 'config A: openai_base_url + codex login --with-api-key (WebSocket)' },
  { kind: 'custom_provider', title: 'config B: [model_providers.codexin] with env_key (HTTP + SSE)' },
];

for (const { kind, title } of CONFIGS) {
  describe(title, () => {
    async function setUp(g: Gateway) {
      const setup = await setUpCodex(kind, g.baseUrl, g.key);
      if (setup.login) {
        expect(setup.login.code).toBe(0);
        expect(setup.login.stderr).toContain('API key saved');
        expect(JSON.parse(readFileSync(join(setup.codexHome, 'auth.json'), 'utf8'))).toMatchObject({ auth_mode: 'apikey', OPENAI_API_KEY: g.key });
      }
      return setup;
    }

    test('a plain turn: "Echo:" comes back, one upstream request with the Codex request shape', async () => {
      const setup = await setUp(shared);
      const prompt = `say hello ${nonce()}`;
      const w = mark(shared);
      const run = await codexExec(setup, prompt);
      expectExit(run, true);
      expect(run.lastMessage).toContain(`Echo: ${prompt}`);
      expect(run.stdout).toContain(`Echo: ${prompt}`);
      expect(transportTrouble(run.output)).toEqual([]);

      const seen = await seenSince(w, 1);
      expect(seen.upstream.length).toBe(1);
      const body = expectCodexTurn(seen.upstream[0]!, prompt, shared.key);
      expect((body.input ?? []).some((i) => i.type === 'function_call_output')).toBe(false);
      expectTransport(kind, seen, 1, shared.key);
    }, 120_000);

    test('a tool turn: Codex runs exec_command and its output reaches the upstream in the next request', async () => {
      const setup = await setUp(shared);
      const marker = `codexin-e2e-${nonce()}`;
      const prompt = `run: echo ${marker}`;
      const w = mark(shared);
      const run = await codexExec(setup, prompt);
      expectExit(run, true);
      expect(transportTrouble(run.output)).toEqual([]);

      const seen = await seenSince(w, 2);
      expect(seen.upstream.length).toBe(2);
      const first = expectCodexTurn(seen.upstream[0]!, prompt, shared.key);
      expect((first.input ?? []).some((i) => i.type === 'function_call_output')).toBe(false);

      // The follow-up carries the simulator's call and the output of really running it.
      const second = expectCodexTurn(seen.upstream[1]!, prompt, shared.key);
      const input = second.input ?? [];
      const call = input.find((i) => i.type === 'function_call');
      expect(call?.name).toBe('exec_command');
      expect(JSON.parse(call?.arguments ?? '{}')).toMatchObject({ cmd: `echo ${marker}` });
      const outputs = input.filter((i) => i.type === 'function_call_output');
      expect(outputs.length).toBe(1);
      expect(outputs[0]!.call_id).toBe(call!.call_id!);
      const output = textOf(outputs[0]!.output);
      // A line that is exactly the marker: echo's output, not the command line quoted back.
      expect(output).toMatch(new RegExp(`^${marker}$`, 'm'));
      expect(output).toContain('exited with code 0');
      expect(input[input.length - 1]!.type).toBe('function_call_output');
      expect(second.prompt_cache_key).toBe(first.prompt_cache_key!);

      expect(run.lastMessage).toContain('Tool result received:');
      expect(run.lastMessage).toContain(marker);
      expectTransport(kind, seen, 2, shared.key);
    }, 120_000);

    test('an upstream usage limit (429): Codex reports it and exits non-zero without retrying', async () => {
      const g = await openGateway();
      const setup = await setUp(g);
      const prompt = `say hello ${nonce()}`;
      g.stack.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 3600 });
      const w = mark(g);
      const run = await codexExec(setup, prompt, USAGE_LIMIT_TIMEOUT_MS);
      if (run.timedOut) {
        throw new Error(
          `Codex was still waiting ${USAGE_LIMIT_TIMEOUT_MS / 1000} s after the usage-limit error (it did not take CodexIn's error as the end of the turn)\n` +
            `${describeRun(run)}\n--- CodexIn log ---\n${g.stack.server.stderr().slice(w.log)}`,
        );
      }
      expectExit(run, false);
      expect(run.output).toMatch(/usage limit/i);
      expect(transportTrouble(run.output)).toEqual([]);

      const seen = await seenSince(w, 1);
      expect(seen.upstream.length).toBe(1);
      expectCodexTurn(seen.upstream[0]!, prompt, g.key);
      expect(seen.log.map((l) => l.status)).toEqual([429]);
      const websockets = seen.client.filter((r) => r.websocket);
      const posts = seen.client.filter((r) => r.method === 'POST');
      if (kind === 'openai_base_url') {
        expect(websockets.map((r) => r.handshakeStatus)).toEqual([101]);
        expect(posts).toEqual([]);
      } else {
        expect(websockets).toEqual([]);
        expect(posts.length).toBe(1);
      }
    }, 120_000);
  });
}
