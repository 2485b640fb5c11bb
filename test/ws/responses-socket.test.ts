/** The Responses WebSocket transport on GET /v1/responses, against a listening in-process server. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let wsUrl: string;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  wsUrl = gw.listen().replace('http', 'ws') + '/v1/responses';
  key = gw.key();
});
afterAll(() => gw.stop());

type Frame = Record<string, unknown> & { type: string };

/** Opens a socket, sends each message after the previous one ended (completed/failed/error), returns all frames. */
async function session(messages: object[], headers: Record<string, string> = { authorization: `Bearer ${key}` }): Promise<Frame[][]> {
  const ws = new WebSocket(wsUrl, { headers } as unknown as string[]);
  const turns: Frame[][] = [];
  await new Promise<void>((resolve, reject) => {
    let current: Frame[] = [];
    const next = () => {
      const message = messages[turns.length];
      if (!message) return resolve();
      current = [];
      ws.send(JSON.stringify(message));
    };
    ws.onopen = next;
    ws.onerror = () => reject(new Error('socket error'));
    ws.onmessage = (m) => {
      const frame = JSON.parse(String(m.data)) as Frame;
      current.push(frame);
      if (['response.completed', 'response.failed', 'response.incomplete', 'error'].includes(frame.type)) {
        turns.push(current);
        next();
      }
    };
    setTimeout(() => reject(new Error('session timed out')), 10_000);
  });
  ws.close();
  return turns;
}

describe('Responses over WebSocket', () => {
  test('streams every event as a frame; an unknown previous_response_id is an error frame', async () => {
    const before = gw.sim.requests.length;
    const [first, second] = await session([
      { type: 'response.create', model: 'gpt-5.5', input: 'first question' },
      { type: 'response.create', model: 'gpt-5.5', previous_response_id: 'resp_not_on_this_connection', input: [{ type: 'message', role: 'user', content: 'second question' }] },
    ]);
    expect(first![0]!.type).toBe('response.created');
    expect(first!.map((f) => f.sequence_number)).toEqual(first!.map((_, i) => i));
    // An error frame with `status` only (Codex rejects frames with both status and status_code).
    expect(second!.at(-1)).toMatchObject({ type: 'error', status: 400, error: { code: 'previous_response_not_found', param: 'previous_response_id' } });
    expect(second!.at(-1)).not.toHaveProperty('status_code');
    expect(gw.sim.requests.length - before).toBe(1);
  });

  test('previous_response_id of the same connection sends the whole conversation upstream', async () => {
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${key}` } } as unknown as string[]);
    const frames: Frame[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5.5', input: 'alpha' }));
      ws.onmessage = (m) => {
        const frame = JSON.parse(String(m.data)) as Frame;
        frames.push(frame);
        if (frame.type === 'response.completed' && frames.filter((f) => f.type === 'response.completed').length === 1) {
          const id = (frame.response as { id: string }).id;
          ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5.5', previous_response_id: id, input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'beta' }] }], client_metadata: { 'x-codex-turn-metadata': '{"turn_id":"t2"}' } }));
        } else if (frame.type === 'response.completed') resolve();
        else if (frame.type === 'error') reject(new Error(JSON.stringify(frame)));
      };
      setTimeout(() => reject(new Error('timeout')), 10_000);
    });
    ws.close();
    const last = gw.sim.requests.filter((r) => r.path === '/backend-api/codex/responses').at(-1)!;
    const input = (last.body as { input: { role?: string; type: string; content: { text: string }[] }[] }).input;
    const texts = input.map((i) => i.content?.[0]?.text);
    expect(texts).toEqual(['alpha', 'Echo: alpha', 'beta']);
    expect(input[1]!.role).toBe('assistant');
    expect(last.body).not.toHaveProperty('previous_response_id');
    // Per-turn metadata from the frame wins over the handshake's.
    expect(last.headers['x-codex-turn-metadata']).toBe('{"turn_id":"t2"}');
  });

  test('generate:false (Codex prewarm) answers without an upstream call and seeds the conversation', async () => {
    const before = gw.sim.requests.length;
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${key}` } } as unknown as string[]);
    const types: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5.5', generate: false, input: [{ type: 'message', role: 'developer', content: 'rules' }] }));
      ws.onmessage = (m) => {
        const frame = JSON.parse(String(m.data)) as Frame;
        types.push(frame.type);
        if (frame.type === 'response.completed' && types.length === 2) {
          expect(gw.sim.requests.length).toBe(before);
          ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5.5', previous_response_id: (frame.response as { id: string }).id, input: [{ type: 'message', role: 'user', content: 'go' }] }));
        } else if (frame.type === 'response.completed') resolve();
      };
      setTimeout(() => reject(new Error('timeout')), 10_000);
    });
    ws.close();
    expect(types.slice(0, 2)).toEqual(['response.created', 'response.completed']);
    const sent = gw.sim.requests.at(-1)!.body as { input: { role: string }[] };
    expect(sent.input.map((i) => i.role)).toEqual(['developer', 'user']);
  });

  test('malformed frames and upstream errors come back as error frames; the connection stays usable', async () => {
    gw.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 60 });
    const turns = await session([{ type: 'nope' }, { type: 'response.create', model: 'gpt-5.5', input: 'x' }]);
    expect(turns[0]!.at(-1)).toMatchObject({ type: 'error', status: 400, error: { code: 'unsupported_message_type' } });
    expect(turns[1]!.at(-1)).toMatchObject({ type: 'error', status: 429, error: { type: 'usage_limit_reached' } });
    expect((turns[1]!.at(-1)!.headers as Record<string, string>)['retry-after']).toBeDefined();
    for (const a of gw.accounts.list()) gw.accounts.setCooldown(a.id, null);
  });

  test('the handshake needs a valid key; a plain GET is told to upgrade', async () => {
    const base = wsUrl.replace('ws', 'http');
    const refused = await fetch(base, { headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', authorization: 'Bearer ci_wrong' } });
    expect(refused.status).toBe(401);
    const plain = await fetch(base, { headers: { authorization: `Bearer ${key}` } });
    expect(plain.status).toBe(426);
    expect(((await plain.json()) as { error: { code: string } }).error.code).toBe('upgrade_required');
  });
});
