import { readFixtureJson } from '../../support/fixtures';
import { createSimulator, type IssuedAccount, type Simulator, type SimulatorOptions } from '../../../src/upstream/mock';

export interface Harness {
  sim: Simulator;
  url: string;
  account: IssuedAccount;
  stop(): Promise<void>;
}

export async function startSim(options?: SimulatorOptions): Promise<Harness> {
  const sim = createSimulator(options);
  const { url, stop } = await sim.start();
  return { sim, url, account: sim.issueAccount(), stop };
}

export function authHeaders(account: Pick<IssuedAccount, 'accessToken' | 'accountId'>): Record<string, string> {
  return {
    authorization: `Bearer ${account.accessToken}`,
    'chatgpt-account-id': account.accountId,
    'content-type': 'application/json',
  };
}

export function validBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: 'gpt-5.5',
    instructions: 'You are a test.',
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello there' }] }],
    tools: [],
    tool_choice: 'auto',
    parallel_tool_calls: true,
    reasoning: null,
    store: false,
    stream: true,
    include: [],
    prompt_cache_key: crypto.randomUUID(),
    ...overrides,
  };
}

export function postResponses(h: Harness, body: unknown, headers: Record<string, string> = authHeaders(h.account), init: RequestInit = {}): Promise<Response> {
  return fetch(`${h.url}/backend-api/codex/responses`, { method: 'POST', headers, body: JSON.stringify(body), ...init });
}

export interface SseEvent {
  event: string | null;
  data: Record<string, unknown>;
}

export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    let event: string | null = null;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length) out.push({ event, data: JSON.parse(data.join('\n')) as Record<string, unknown> });
  }
  return out;
}

export async function readEvents(res: Response): Promise<Record<string, unknown>[]> {
  return parseSse(await res.text()).map((e) => e.data);
}

export const types = (events: Record<string, unknown>[]): string[] => events.map((e) => e.type as string);

export function fixture(path: string): Record<string, unknown> {
  return readFixtureJson<Record<string, unknown>>(path);
}
