import { describe, expect, test } from 'bun:test';
import { aggregateResponse, outputText } from '../../src/stream/aggregate';
import { ApiError } from '../../src/openai/api-error';
import type { ResponseObject, ResponseStreamEvent } from '../../src/openai/responses-types';
import { codexBackendStream, fixtureStreams, fromArray, normalizeEvents } from './helpers';

const aggregate = (events: ResponseStreamEvent[]) => aggregateResponse(normalizeEvents(fromArray(events), { model: 'gpt-test' }));

describe('aggregateResponse', () => {
  test('the phase recording: both messages, output_text as the SDKs compute it', async () => {
    const [events] = fixtureStreams('openai-phase.1.chunks.txt');
    const recorded = events[events.length - 1].response as ResponseObject;
    const response = await aggregate(events);
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.output.map((i) => i.id)).toEqual(recorded.output.map((i) => i.id));
    const texts = recorded.output.map((i) => (i.content as Array<{ text: string }>)[0].text);
    expect(response.output_text).toBe(texts.join(''));
    expect(response.output_text).toStartWith('Got it');
  });

  test('the reasoning recording: each turn aggregates to its function call or final text', async () => {
    const turns = fixtureStreams('openai-reasoning-encrypted-content.1.chunks.txt');
    const results = await Promise.all(turns.map((events) => aggregate(events)));
    const calls = results.map((r) => r.output.find((i) => i.type === 'function_call'));
    expect(calls.slice(0, 3).map((c) => [c?.name, c?.arguments])).toEqual([
      ['calculator', '{"a":12,"b":7,"op":"add"}'],
      ['calculator', '{"a":19,"b":3,"op":"multiply"}'],
      ['calculator', '{"a":57,"b":10,"op":"multiply"}'],
    ]);
    expect(calls[0]?.call_id).toBe('call_AB6AaRZ1FYZB2RwS6A5vbdqn');
    expect(results[3].output_text).toBe('The final result is **570**.');
    expect(results[0].output_text).toBe('');
    expect(results[3].usage).toEqual(turns[3][turns[3].length - 1].response?.usage as never);
  });

  test('the custom tool recording aggregates to the custom tool call', async () => {
    const [events] = fixtureStreams('openai-custom-tool.1.chunks.txt');
    const response = await aggregate(events);
    expect(response.output).toEqual([
      { type: 'custom_tool_call', id: 'ct_abc123def456', call_id: 'call_custom_sql_001', name: 'write_sql', input: 'SELECT * FROM users WHERE age > 25', status: 'completed' },
    ]);
  });

  test('a ChatGPT-backend-style stream aggregates to the rebuilt output', async () => {
    const response = await aggregate(codexBackendStream());
    expect(response.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(response.output_text).toBe('Hello world');
    expect(response.usage?.total_tokens).toBe(1240);
  });

  test('a failed response throws an ApiError carrying the upstream error', async () => {
    const [events] = fixtureStreams('openai-error.1.chunks.txt');
    const error = await aggregate(events).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(502);
    expect(apiError.type).toBe('insufficient_quota');
    expect(apiError.code).toBe('insufficient_quota');
    expect(apiError.message).toContain('You exceeded your current quota');
  });

  test('response.failed without an error event uses the response error', async () => {
    const error = await aggregate([
      { type: 'response.created', response: { id: 'r' } },
      { type: 'response.failed', response: { id: 'r', status: 'failed', error: { code: 'rate_limit_exceeded', message: 'Please try again in 11.054s.' } } },
    ] as unknown as ResponseStreamEvent[]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).type).toBe('upstream_error');
    expect((error as ApiError).code).toBe('rate_limit_exceeded');
    expect((error as ApiError).message).toBe('Please try again in 11.054s.');
  });

  test('a broken upstream (no terminal event) is a 502 with code stream_incomplete', async () => {
    const error = await aggregate([{ type: 'response.created', response: { id: 'r' } }] as unknown as ResponseStreamEvent[]).catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(502);
    expect((error as ApiError).code).toBe('stream_incomplete');
    // Even an un-normalized stream that just stops is an error, not an empty success.
    const raw = await aggregateResponse(fromArray([{ type: 'response.created' } as ResponseStreamEvent])).catch((e: unknown) => e);
    expect((raw as ApiError).code).toBe('stream_incomplete');
  });

  test('response.incomplete is returned, not thrown', async () => {
    const response = await aggregate([
      { type: 'response.created', response: { id: 'r' } },
      { type: 'response.output_item.done', item: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'partial' }] } },
      { type: 'response.incomplete', response: { id: 'r', incomplete_details: { reason: 'max_output_tokens' } } },
    ] as unknown as ResponseStreamEvent[]);
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output_text).toBe('partial');
  });
});

describe('outputText', () => {
  test('joins output_text parts of message items only', () => {
    const response = {
      output: [
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'no' }] },
        { type: 'message', content: [{ type: 'output_text', text: 'a' }, { type: 'refusal', refusal: 'no' }, { type: 'output_text', text: 'b' }] },
        { type: 'function_call', arguments: '{}' },
        { type: 'message', content: [{ type: 'output_text', text: 'c' }] },
      ],
    } as unknown as ResponseObject;
    expect(outputText(response)).toBe('abc');
  });
});
