/** `codexin serve --upstream mock`: a working demo whose replies are clearly labelled as simulated. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../support/binary';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ args: ['--upstream', 'mock'] });
});
afterAll(() => server.stop());

test('the listening line, the model list and every reply say the upstream is the simulator', async () => {
  expect(server.stdout()).toContain('SIMULATOR');
  const models = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${server.adminKey}` } });
  expect(models.headers.get('x-codexin-upstream')).toBe('simulator');
  const list = (await models.json()) as { data: { id: string; owned_by: string }[] };
  expect(list.data.length).toBeGreaterThan(0);
  for (const m of list.data) expect(m.owned_by).toBe('codexin-simulator');

  const stream = await fetch(`${server.url}/v1/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5.5', input: 'demo', stream: true }),
  });
  expect(stream.headers.get('x-codexin-upstream')).toBe('simulator');
  expect(stream.headers.get('content-type')).toContain('text/event-stream');
  expect(await stream.text()).toContain('response.completed');

  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.adminKey! });
  const { data, response } = await client.responses.create({ model: 'gpt-5.5', input: 'hello demo' }).withResponse();
  expect(response.headers.get('x-codexin-upstream')).toBe('simulator');
  expect(data.output_text).toContain('hello demo');
  const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { status: string; upstream: { kind: string } };
  expect(ready.status).toBe('ready');
  expect(ready.upstream.kind).toBe('mock');
});
