/** completeResponse() / requestEcho(): a Response carries every field the spec requires. */
import { describe, expect, test } from 'bun:test';
import { completeResponse, requestEcho } from '../../src/openai/response-defaults';
import type { ResponseObject } from '../../src/openai/responses-types';

const sparse = (status: ResponseObject['status']): ResponseObject => ({ id: 'resp_1', object: 'response', created_at: 100, status, model: 'm', output: [], usage: null, error: null, incomplete_details: null });

describe('completeResponse', () => {
  test('a sparse response gets the API defaults', () => {
    expect(completeResponse(sparse('in_progress'))).toEqual({
      ...sparse('in_progress'),
      completed_at: null,
      instructions: null,
      tools: [],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      reasoning: null,
      text: { format: { type: 'text' }, verbosity: 'medium' },
      truncation: 'disabled',
      temperature: 1,
      top_p: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
      max_output_tokens: null,
      max_tool_calls: null,
      previous_response_id: null,
      metadata: {},
      store: false,
      background: false,
      service_tier: 'auto',
      safety_identifier: null,
      prompt_cache_key: null,
      top_logprobs: 0,
    });
  });

  test('completed_at is set only on completion, and kept when given', () => {
    expect(completeResponse(sparse('completed'), () => 555).completed_at).toBe(555);
    expect(completeResponse({ ...sparse('completed'), completed_at: 123 }, () => 555).completed_at).toBe(123);
    expect(completeResponse({ ...sparse('failed'), completed_at: 123 }).completed_at).toBeNull();
  });

  test('given values win; a null where the spec has no null takes the default; a null user is dropped', () => {
    const done = completeResponse({ ...sparse('completed'), temperature: 0.3, top_p: null, user: null, store: true, text: { verbosity: 'low' } });
    expect(done).toMatchObject({ temperature: 0.3, top_p: 1, store: false, text: { format: { type: 'text' }, verbosity: 'low' } });
    expect('user' in done).toBe(false);
  });

  test('function tools carry strict, parameters and description; other tools are kept as they are', () => {
    const done = completeResponse({ ...sparse('completed'), tools: [{ type: 'function', name: 'f' }, { type: 'function', name: 'g', strict: false, description: 'd', parameters: {} }, { type: 'web_search' }] });
    expect(done.tools).toEqual([
      { type: 'function', name: 'f', strict: true, parameters: null, description: null },
      { type: 'function', name: 'g', strict: false, description: 'd', parameters: {} },
      { type: 'web_search' },
    ]);
  });

  test('usage details are completed; a pending usage stays null', () => {
    expect(completeResponse({ ...sparse('completed'), usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 } as never }).usage).toEqual({
      input_tokens: 1,
      output_tokens: 2,
      total_tokens: 3,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    });
    expect(completeResponse(sparse('in_progress')).usage).toBeNull();
  });
});

describe('requestEcho', () => {
  test('echoes what the client sent, skipping nulls', () => {
    expect(requestEcho({ model: 'm', instructions: 'hi', temperature: 0.2, metadata: { a: 'b' }, user: null as never, tools: [{ type: 'function', name: 'f' }] })).toEqual({
      instructions: 'hi',
      prompt_cache_key: null,
      temperature: 0.2,
      metadata: { a: 'b' },
      tools: [{ type: 'function', name: 'f', strict: true, parameters: null, description: null }],
    });
  });

  test('instructions and prompt_cache_key the client left out are null, overriding the upstream echo of the rewritten request', () => {
    expect(requestEcho({ model: 'm' })).toEqual({ instructions: null, prompt_cache_key: null });
  });
});
