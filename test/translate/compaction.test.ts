/** compactionResource(): the ChatGPT backend's bare {output} → the API's compaction resource. */
import { expect, test } from 'bun:test';
import { compactIgnoredParams, compactionResource } from '../../src/translate/compaction';

test('a bare output gets an id, object, created_at, usage, and items with ids and statuses', () => {
  const resource = compactionResource({ output: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'q' }] }, { type: 'compaction', encrypted_content: 'gAAA' }] }, 1000);
  expect(resource).toMatchObject({ object: 'response.compaction', created_at: 1000, usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } });
  expect(resource.id).toMatch(/^resp_/);
  expect(resource.output[0]).toMatchObject({ type: 'message', status: 'completed', id: expect.stringMatching(/^msg_/) });
  expect(resource.output[1]).toMatchObject({ type: 'compaction', encrypted_content: 'gAAA', id: expect.stringMatching(/^cmp_/) });
  expect('status' in resource.output[1]!).toBe(false);
});

test('an upstream that sends the whole resource keeps its id, created_at and usage', () => {
  const resource = compactionResource({ id: 'resp_up', created_at: 5, output: [], usage: { input_tokens: 7, output_tokens: 1, total_tokens: 8 } });
  expect(resource).toMatchObject({ id: 'resp_up', created_at: 5, usage: { input_tokens: 7, total_tokens: 8 } });
});

test('the ignored parameters are those with a value that compaction does not use', () => {
  expect(compactIgnoredParams({ model: 'm', input: [], previous_response_id: 'r', service_tier: 'flex', store: false, metadata: null, temperature: 0.1 }).sort()).toEqual(['previous_response_id', 'service_tier', 'temperature']);
});
