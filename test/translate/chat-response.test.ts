import { describe, expect, test } from 'bun:test';
import type { ResponseItem, ResponseObject } from '../../src/openai/responses-types';
import { responseToChatCompletion } from '../../src/translate/chat-response';
import { recordedResponses } from './recorded-streams';

/** The terminal `response` of each recorded stream in a fixture file. */
async function recordedFinal(name: string): Promise<ResponseObject[]> {
  const streams = await recordedResponses(name);
  return streams.map((events) => {
    const terminal = events.find((e) => e.type === 'response.completed' || e.type === 'response.incomplete');
    if (!terminal?.response) throw new Error(`no terminal response in ${name}`);
    return terminal.response;
  });
}

const response = (output: ResponseItem[], extra: Partial<ResponseObject> = {}): ResponseObject => ({
  id: 'resp_abc123',
  object: 'response',
  created_at: 1_700_000_000,
  status: 'completed',
  model: 'gpt-5.5',
  output,
  usage: {
    input_tokens: 100,
    input_tokens_details: { cached_tokens: 64 },
    output_tokens: 30,
    output_tokens_details: { reasoning_tokens: 10 },
    total_tokens: 130,
  },
  error: null,
  incomplete_details: null,
  ...extra,
});

const text = (value: string, id = 'msg_1'): ResponseItem => ({
  id,
  type: 'message',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text: value, annotations: [] }],
});

describe('responseToChatCompletion on recorded responses', () => {
  test('reasoning + function call: tool_calls, reasoning_content, finish_reason tool_calls, usage', async () => {
    const [first] = await recordedFinal('openai-reasoning-encrypted-content.1.chunks.txt');
    const completion = responseToChatCompletion(first, { model: 'gpt-5.5' });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toBe('chatcmpl-01830d662ab3856501693c321345c88190b0de00f3b9975691');
    expect(completion.created).toBe(1765552659);
    expect(completion.model).toBe('gpt-5.5');
    // Deprecated and typed as a string by the spec: omitted rather than null.
    expect('system_fingerprint' in completion).toBe(false);
    expect(completion.choices).toHaveLength(1);
    const [choice] = completion.choices;
    expect(choice.index).toBe(0);
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.logprobs).toBeNull();
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content).toBeNull();
    expect(choice.message.refusal).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      { id: 'call_AB6AaRZ1FYZB2RwS6A5vbdqn', type: 'function', function: { name: 'calculator', arguments: '{"a":12,"b":7,"op":"add"}' } },
    ]);
    expect(choice.message.reasoning_content).toBe(
      "**Calculating step-by-step using calculator**\n\nI'll compute 12 plus 7, then multiply the result by 3, and finally multiply that by 10, reporting the final product.",
    );
    expect(completion.usage).toEqual({
      prompt_tokens: 134,
      completion_tokens: 28,
      total_tokens: 162,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  test('plain text answer: content, finish_reason stop, no tool_calls or reasoning_content keys', async () => {
    const streams = await recordedFinal('openai-reasoning-encrypted-content.1.chunks.txt');
    const completion = responseToChatCompletion(streams[3], { model: 'm' });
    const { message, finish_reason } = completion.choices[0];
    expect(message.content).toBe('The final result is **570**.');
    expect(finish_reason).toBe('stop');
    expect('tool_calls' in message).toBe(false);
    expect('reasoning_content' in message).toBe(false);
  });

  test('custom tool call is a function tool call whose arguments are the input', async () => {
    const [final] = await recordedFinal('openai-custom-tool.1.chunks.txt');
    const { message, finish_reason } = responseToChatCompletion(final, { model: 'm' }).choices[0];
    expect(message.tool_calls).toEqual([
      { id: 'call_custom_sql_001', type: 'function', function: { name: 'write_sql', arguments: 'SELECT * FROM users WHERE age > 25' } },
    ]);
    expect(finish_reason).toBe('tool_calls');
  });

  test('commentary and final answer messages are joined by a blank line; cached and reasoning tokens carried', async () => {
    const [final] = await recordedFinal('openai-phase.1.chunks.txt');
    const completion = responseToChatCompletion(final, { model: 'm' });
    const content = completion.choices[0].message.content ?? '';
    expect(content.startsWith('Got it — I’ll quickly check reliable')).toBe(true);
    expect(content).toContain('then summarize the key items with links.\n\nHere are a few **AI headlines for today');
    expect(content.endsWith('investor-grade morning brief with timestamps.')).toBe(true);
    expect(completion.usage?.prompt_tokens_details.cached_tokens).toBe(3072);
    expect(completion.usage?.completion_tokens_details.reasoning_tokens).toBe(64);
    expect(completion.usage?.total_tokens).toBe(7575);
  });
});

describe('responseToChatCompletion on hand-made responses', () => {
  test('id and created can be overridden', () => {
    const completion = responseToChatCompletion(response([text('hi')]), { model: 'x', id: 'chatcmpl-fixed', created: 42 });
    expect(completion.id).toBe('chatcmpl-fixed');
    expect(completion.created).toBe(42);
  });

  test('text plus calls: content kept, calls in order, custom call included', () => {
    const completion = responseToChatCompletion(
      response([
        text('Let me check.'),
        { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'f', arguments: '{"x":1}' },
        { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_b', name: 'apply_patch', input: 'patch body' },
      ]),
      { model: 'x' },
    );
    const { message, finish_reason } = completion.choices[0];
    expect(message.content).toBe('Let me check.');
    expect(message.tool_calls?.map((c) => [c.id, c.function?.name, c.function?.arguments])).toEqual([
      ['call_a', 'f', '{"x":1}'],
      ['call_b', 'apply_patch', 'patch body'],
    ]);
    expect(finish_reason).toBe('tool_calls');
  });

  test('refusal parts fill refusal and leave content null', () => {
    const completion = responseToChatCompletion(
      response([{ type: 'message', id: 'm', role: 'assistant', content: [{ type: 'refusal', refusal: 'I can’t help with that.' }] }]),
      { model: 'x' },
    );
    expect(completion.choices[0].message.refusal).toBe('I can’t help with that.');
    expect(completion.choices[0].message.content).toBeNull();
  });

  test('multiple summary parts and multiple output_text parts', () => {
    const completion = responseToChatCompletion(
      response([
        { type: 'reasoning', id: 'rs', summary: [{ type: 'summary_text', text: 'First.' }, { type: 'summary_text', text: 'Second.' }] },
        { type: 'message', id: 'm', role: 'assistant', content: [{ type: 'output_text', text: 'Hello, ' }, { type: 'output_text', text: 'world.' }] },
      ]),
      { model: 'x' },
    );
    expect(completion.choices[0].message.reasoning_content).toBe('First.\n\nSecond.');
    expect(completion.choices[0].message.content).toBe('Hello, world.');
  });

  test('finish_reason length and content_filter from incomplete responses', () => {
    const length = response([text('partial')], { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(responseToChatCompletion(length, { model: 'x' }).choices[0].finish_reason).toBe('length');
    const filtered = response([text('')], { status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
    expect(responseToChatCompletion(filtered, { model: 'x' }).choices[0].finish_reason).toBe('content_filter');
  });

  test('no output at all gives empty string content and stop', () => {
    const { message, finish_reason } = responseToChatCompletion(response([]), { model: 'x' }).choices[0];
    expect(message.content).toBe('');
    expect(finish_reason).toBe('stop');
  });

  test('usage maps every token counter', () => {
    expect(responseToChatCompletion(response([text('a')]), { model: 'x' }).usage).toEqual({
      prompt_tokens: 100,
      completion_tokens: 30,
      total_tokens: 130,
      prompt_tokens_details: { cached_tokens: 64 },
      completion_tokens_details: { reasoning_tokens: 10 },
    });
  });
});
