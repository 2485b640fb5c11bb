import { expect, test } from 'bun:test';
import { normalizeUsage } from '../../src/stream/usage';

const zero = { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 };

test('missing or null usage becomes all zeros', () => {
  expect(normalizeUsage(undefined)).toEqual(zero);
  expect(normalizeUsage(null)).toEqual(zero);
  expect(normalizeUsage('12')).toEqual(zero);
});

test('null details and a missing total are filled in', () => {
  expect(normalizeUsage({ input_tokens: 10, input_tokens_details: null, output_tokens: 5, output_tokens_details: null })).toEqual({
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 5,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 15,
  });
});

test('a complete usage is kept as is', () => {
  const usage = { input_tokens: 1200, input_tokens_details: { cached_tokens: 1024 }, output_tokens: 40, output_tokens_details: { reasoning_tokens: 16 }, total_tokens: 1240 };
  expect(normalizeUsage(usage)).toEqual(usage);
});

test('chat-style names are understood; junk values become 0', () => {
  expect(normalizeUsage({ prompt_tokens: 7, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 1 } })).toEqual({
    input_tokens: 7,
    input_tokens_details: { cached_tokens: 2 },
    output_tokens: 3,
    output_tokens_details: { reasoning_tokens: 1 },
    total_tokens: 10,
  });
  expect(normalizeUsage({ input_tokens: -1, output_tokens: 'x', total_tokens: Number.NaN })).toEqual(zero);
});
