/**
 * A wide sweep beyond the exact-status corpus: every typed field of every JSON model
 * route gets every shape of hostile value, next to a valid body and alone. Whatever
 * the outcome, it is a 2xx or a 4xx OpenAI envelope: never a 5xx, never plain text.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  key = gw.key(['advanced']);
});
afterAll(() => gw.stop());

const HOSTILE: unknown[] = [
  null, 0, -1, 1e308, 2 ** 63, 1.5, '', 'x', '\u0000', '\r\n', '\ud800', 'é'.repeat(5000), true, [], {}, [1], [null], [{}], [[[]]],
  [{ type: 'message' }], [{ role: 'user' }], [{ role: 'user', content: 5 }], [{ role: 'user', content: [5] }], [{ role: 'user', content: [null] }],
  [{ role: 'user', content: [{ type: 'input_text' }] }], [{ role: 'user', content: [{ type: 'input_image', image_url: 5 }] }],
  [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:;base64,' }] }], [{ role: 'user', content: [{ type: 'input_file', file_data: 'data:x' }] }],
  [{ type: 'function_call_output', output: {} }], [{ type: 'function_call' }], [{ type: 'item_reference', id: 'x' }], [{ role: 'tool', content: 'x' }],
  [{ role: 'assistant', tool_calls: [{ id: 'x', type: 'function' }] }], [{ role: 'assistant', tool_calls: [{ id: 'x', type: 'function', function: 5 }] }],
  [{ role: 'assistant', tool_calls: 5 }], [{ role: 5, content: 'x' }], [{ role: 'user', content: [{ type: 'image_url', image_url: null }] }],
  [{ role: 'user', content: [{ type: 'file', file: null }] }], [{ type: 'function', function: null }], [{ type: 'function', name: 5 }], [{ type: 'custom' }],
  { type: 'function' }, { type: 'json_schema' }, { type: 'json_schema', json_schema: 5 }, { effort: 5, summary: [] }, { format: 5 }, { '__proto__': { polluted: true } },
];

const ROUTES: Record<string, { valid: Record<string, unknown>; fields: string[] }> = {
  '/v1/responses': {
    valid: { model: 'gpt-5.5', input: 'hi' },
    fields: ['input', 'tools', 'tool_choice', 'reasoning', 'instructions', 'text', 'include', 'prompt_cache_key', 'client_metadata', 'service_tier', 'parallel_tool_calls', 'metadata', 'max_output_tokens', 'store', 'stream'],
  },
  '/v1/chat/completions': {
    valid: { model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] },
    fields: ['messages', 'input', 'tools', 'tool_choice', 'functions', 'function_call', 'response_format', 'reasoning', 'reasoning_effort', 'verbosity', 'stream_options', 'prompt_cache_key', 'n', 'logprobs', 'audio', 'modalities', 'service_tier', 'stop'],
  },
  '/v1/responses/compact': { valid: { model: 'gpt-5.5', input: 'hi' }, fields: ['input', 'tools', 'instructions', 'reasoning'] },
  '/v1/codex/image-analysis': { valid: { prompt: 'hi', image_url: 'data:image/png;base64,iVBORw0KGgo=' }, fields: ['prompt', 'image_url', 'detail', 'model'] },
  '/v1/images/generations': { valid: { prompt: 'hi' }, fields: ['prompt', 'n', 'size', 'quality', 'background', 'output_format', 'moderation', 'user'] },
};

test('hostile values in every field of every JSON model route: 2xx or a 4xx envelope, never a 5xx', async () => {
  let tried = 0;
  const problems: string[] = [];
  for (const [path, route] of Object.entries(ROUTES)) {
    for (const field of route.fields) {
      for (const value of HOSTILE) {
        for (const base of [route.valid, { model: route.valid.model }]) {
          const body = JSON.stringify({ ...base, [field]: value });
          const res = await gw.call(path, { method: 'POST', key, body, headers: { 'content-type': 'application/json' } });
          tried++;
          const text = await res.text();
          const envelope = res.status >= 400 && (() => {
            try {
              const e = (JSON.parse(text) as { error?: { message?: unknown; type?: unknown } }).error;
              return typeof e?.message === 'string' && typeof e.type === 'string';
            } catch {
              return false;
            }
          })();
          if (res.status >= 500 || (res.status >= 400 && !envelope)) problems.push(`${path} ${body.slice(0, 120)} → ${res.status} ${text.slice(0, 120)}`);
        }
      }
    }
  }
  console.log(`hostile-input sweep: ${tried} inputs, ${problems.length} problems`);
  expect(tried).toBeGreaterThan(4000);
  expect(problems).toEqual([]);
}, 240_000);
