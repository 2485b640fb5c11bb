/** nullsAsAbsent(): null request fields are removed, except the ones whose null means something. */
import { expect, test } from 'bun:test';
import { nullsAsAbsent } from '../../src/openai/nulls-as-absent';

test('top level, tools, input items, content parts, text and reasoning lose their nulls', () => {
  const request = {
    model: 'm',
    store: null,
    include: null,
    tools: [{ type: 'function', name: 'f', description: null }],
    input: [{ type: 'message', role: 'user', phase: null, id: null, content: [{ type: 'input_image', image_url: 'data:x', file_id: null }] }],
    text: { verbosity: null, format: { type: 'text' } },
    reasoning: { effort: null, summary: 'auto' },
  };
  expect(nullsAsAbsent(request)).toEqual({
    model: 'm',
    tools: [{ type: 'function', name: 'f' }],
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'data:x' }] }],
    text: { format: { type: 'text' } },
    reasoning: { summary: 'auto' },
  } as never);
  expect(request.store).toBeNull(); // the input is not mutated
});

test('reasoning: null and a message content: null are kept (they mean something)', () => {
  expect(nullsAsAbsent({ model: 'm', reasoning: null, input: [{ type: 'message', role: 'assistant', content: null }] })).toEqual({
    model: 'm',
    reasoning: null,
    input: [{ type: 'message', role: 'assistant', content: null }],
  } as never);
});
