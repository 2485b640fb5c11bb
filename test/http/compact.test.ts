/** POST /v1/responses/compact: Codex's remote compaction, forwarded to the upstream's compact route. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  key = gw.key();
});
afterAll(() => gw.stop());

test('the conversation is compacted upstream and the compacted items come back', async () => {
  const input = [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'rules' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a long conversation' }] },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'a long answer' }] },
  ];
  const res = await gw.call('/v1/responses/compact', {
    key,
    method: 'POST',
    json: { model: 'gpt-5.5', input, instructions: 'be brief', tools: [], parallel_tool_calls: true, reasoning: { effort: 'medium' } },
    headers: { 'x-codex-window-id': 'thread:0', session_id: 'thread' },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { output: { type: string; role?: string; encrypted_content?: string }[] };
  const upstream = gw.sim.requests.at(-1)!;
  expect(upstream.path).toBe('/backend-api/codex/responses/compact');
  // The compact route is unary JSON: no stream/store/include fields go there.
  expect(upstream.body).not.toHaveProperty('stream');
  expect(upstream.body).not.toHaveProperty('store');
  expect((upstream.body as { input: unknown[] }).input).toHaveLength(3);
  expect(upstream.headers['x-codex-window-id']).toBe('thread:0');
  expect(upstream.headers.session_id).toBe('thread');
  expect(body.output.at(-1)!.type).toBe('compaction');
  expect(typeof body.output.at(-1)!.encrypted_content).toBe('string');
  expect(body.output.filter((i) => i.type === 'message').map((i) => i.role)).toEqual(['developer', 'user']);
});

test('compact checks the key and the model like every model route', async () => {
  expect((await gw.call('/v1/responses/compact', { method: 'POST', json: { model: 'gpt-5.5', input: [] } })).status).toBe(401);
  expect((await gw.call('/v1/responses/compact', { key, method: 'POST', json: { model: 'nope', input: [] } })).status).toBe(404);
});
