import { describe, expect, test } from 'bun:test';
import { ApiError } from '../../src/openai/api-error';
import type { ChatCompletionRequest, ChatMessage } from '../../src/openai/chat-types';
import type { ResponseItem } from '../../src/openai/responses-types';
import { IGNORED_CHAT_PARAMS, chatRequestToResponses, isResponsesShapedBody } from '../../src/translate/chat-request';

const user = (content: string): ChatMessage => ({ role: 'user', content });
const body = (extra: Partial<ChatCompletionRequest> & Record<string, unknown> = {}): ChatCompletionRequest => ({
  model: 'gpt-5.5',
  messages: [user('hi')],
  ...extra,
});

/** Run the translation expecting a 400 and return the error. */
function rejection(request: unknown): ApiError {
  try {
    chatRequestToResponses(request as ChatCompletionRequest);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the translation to throw');
}

describe('system and developer messages', () => {
  test('leading system/developer messages become instructions joined by blank lines', () => {
    const { request } = chatRequestToResponses(
      body({
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          user('hi'),
        ],
      }),
    );
    expect(request.instructions).toBe('You are terse.\n\nAnswer in French.');
    expect(request.input).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }]);
  });

  test('text parts of one system message are joined with a newline', () => {
    const { request } = chatRequestToResponses(
      body({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Part one.', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'Part two.' }] },
          user('hi'),
        ],
      }),
    );
    expect(request.instructions).toBe('Part one.\nPart two.');
  });

  test('a developer or system message after a user turn stays in place as a developer message', () => {
    const { request } = chatRequestToResponses(
      body({
        messages: [
          { role: 'system', content: 'S' },
          user('a'),
          { role: 'developer', content: 'From now on, be loud.' },
          { role: 'system', content: 'Late system.' },
          user('b'),
        ],
      }),
    );
    expect(request.instructions).toBe('S');
    expect(request.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a' }] },
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'From now on, be loud.' }] },
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Late system.' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'b' }] },
    ]);
  });

  test('no system message leaves instructions unset', () => {
    const { request } = chatRequestToResponses(body());
    expect('instructions' in request).toBe(false);
  });

  test('an image in a system message is rejected naming the part', () => {
    const error = rejection(
      body({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }, user('hi')] }),
    );
    expect(error.status).toBe(400);
    expect(error.param).toBe('messages[0].content[0]');
  });
});

describe('user content', () => {
  test('string content becomes one input_text part', () => {
    const { request } = chatRequestToResponses(body({ messages: [user('hello there')] }));
    expect(request.input).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello there' }] }]);
  });

  test('text, image_url (object with detail, object without, bare string) and file parts', () => {
    const dataUrl = 'data:image/png;base64,iVBORw0KGgo=';
    const { request } = chatRequestToResponses(
      body({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: dataUrl, detail: 'high' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
              { type: 'image_url', image_url: 'https://example.com/dog.jpg' },
              { type: 'file', file: { file_id: 'file-abc' } },
              { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER', filename: 'a.pdf' } },
            ],
          },
        ],
      }),
    );
    expect(request.input).toEqual([
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is this?' },
          { type: 'input_image', image_url: dataUrl, detail: 'high' },
          { type: 'input_image', image_url: 'https://example.com/cat.jpg' },
          { type: 'input_image', image_url: 'https://example.com/dog.jpg' },
          { type: 'input_file', file_id: 'file-abc' },
          { type: 'input_file', file_data: 'data:application/pdf;base64,JVBER', filename: 'a.pdf' },
        ],
      },
    ]);
  });

  test('input_audio is rejected with a 400 naming the part', () => {
    const error = rejection(
      body({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }),
    );
    expect(error.status).toBe(400);
    expect(error.param).toBe('messages[0].content[0].type');
    expect(error.message).toContain('/v1/audio/transcriptions');
  });

  test('a file part with neither file_id nor file_data is rejected', () => {
    const error = rejection(body({ messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'x' } }] }] }));
    expect(error.param).toBe('messages[0].content[0].file');
  });
});

describe('assistant turns and tool results', () => {
  test('assistant text, tool calls in order after it, then tool results', () => {
    const { request } = chatRequestToResponses(
      body({
        messages: [
          user('weather in Paris and Rome?'),
          {
            role: 'assistant',
            content: 'Checking both.',
            reasoning_content: 'I should call the tool twice.',
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
          { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rain' }, { type: 'text', text: '12C' }] },
        ],
      }),
    );
    expect(request.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'weather in Paris and Rome?' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking both.' }] },
      { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call', call_id: 'call_2', name: 'weather', arguments: '{"city":"Rome"}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
      { type: 'function_call_output', call_id: 'call_2', output: 'rain\n12C' },
    ]);
    // reasoning_content has no replayable form: it must not leak into any item.
    expect(JSON.stringify(request)).not.toContain('call the tool twice');
  });

  test('an assistant message with only tool calls (content null) yields no empty message item', () => {
    const { request } = chatRequestToResponses(
      body({
        messages: [
          user('go'),
          { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c', content: 'ok' },
        ],
      }),
    );
    expect((request.input as ResponseItem[]).map((item) => item.type)).toEqual(['message', 'function_call', 'function_call_output']);
  });

  test('assistant refusal becomes a refusal part', () => {
    const { request } = chatRequestToResponses(body({ messages: [user('x'), { role: 'assistant', content: null, refusal: 'I cannot.' }, user('y')] }));
    expect(request.input?.[1]).toEqual({ type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot.' }] });
  });

  test('a tool result with an image keeps it as input parts', () => {
    const { request } = chatRequestToResponses(
      body({
        messages: [
          user('screenshot'),
          { role: 'assistant', content: null, tool_calls: [{ id: 'c9', type: 'function', function: { name: 'shot', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c9', content: [{ type: 'text', text: 'here' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] },
        ],
      }),
    );
    expect(request.input?.[2]).toEqual({
      type: 'function_call_output',
      call_id: 'c9',
      output: [
        { type: 'input_text', text: 'here' },
        { type: 'input_image', image_url: 'data:image/png;base64,AA' },
      ],
    });
  });

  test('legacy function_call / function role pair up by name with a synthesized call id', () => {
    const { request } = chatRequestToResponses(
      body({
        messages: [
          user('time?'),
          { role: 'assistant', content: null, function_call: { name: 'clock', arguments: '{}' } },
          { role: 'function', name: 'clock', content: '12:00' },
        ],
      }),
    );
    const [, call, output] = request.input as { type: string; call_id?: string; name?: string; output?: unknown }[];
    expect(call.type).toBe('function_call');
    expect(call.name).toBe('clock');
    expect(typeof call.call_id).toBe('string');
    expect(output).toEqual({ type: 'function_call_output', call_id: call.call_id, output: '12:00' });
  });

  test('a function result with no matching call is a 400', () => {
    const error = rejection(body({ messages: [user('x'), { role: 'function', name: 'ghost', content: '1' }] }));
    expect(error.param).toBe('messages[1].name');
  });

  test('a tool message without tool_call_id is a 400', () => {
    const error = rejection(body({ messages: [user('x'), { role: 'tool', content: 'r' } as unknown as ChatMessage] }));
    expect(error.param).toBe('messages[1].tool_call_id');
  });

  test('replayed calls of a custom tool go back as custom_tool_call items with their outputs', () => {
    const { request } = chatRequestToResponses(
      body({
        tools: [{ type: 'custom', custom: { name: 'apply_patch', description: 'patch files' } }],
        messages: [
          user('fix'),
          { role: 'assistant', content: null, tool_calls: [{ id: 'ct1', type: 'function', function: { name: 'apply_patch', arguments: '*** Begin Patch' } }] },
          { role: 'tool', tool_call_id: 'ct1', content: 'Done' },
        ],
      }),
    );
    expect(request.input?.slice(1)).toEqual([
      { type: 'custom_tool_call', call_id: 'ct1', name: 'apply_patch', input: '*** Begin Patch' },
      { type: 'custom_tool_call_output', call_id: 'ct1', output: 'Done' },
    ]);
  });
});

describe('message validation', () => {
  test('empty messages is a 400 on messages', () => {
    expect(rejection(body({ messages: [] })).param).toBe('messages');
    expect(rejection({ model: 'gpt-5.5' }).param).toBe('messages');
  });

  test('an unknown role is a 400 naming its index', () => {
    const error = rejection(
      body({ messages: [user('a'), user('b'), user('c'), { role: 'critic', content: 'x' } as unknown as ChatMessage] }),
    );
    expect(error.status).toBe(400);
    expect(error.param).toBe('messages[3].role');
    expect(error.message).toContain('critic');
  });
});

describe('tools and tool_choice', () => {
  test('function tools are flattened; strict defaults to false; other tools pass through', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const { request } = chatRequestToResponses(
      body({
        tools: [
          { type: 'function', function: { name: 'weather', description: 'Get weather', parameters: schema } },
          { type: 'function', function: { name: 'strict_one', parameters: schema, strict: true } },
          { type: 'function', function: { name: 'no_args' } },
          { type: 'web_search', search_context_size: 'low' },
        ],
        tool_choice: 'required',
        parallel_tool_calls: false,
      }),
    );
    expect(request.tools).toEqual([
      { type: 'function', name: 'weather', description: 'Get weather', parameters: schema, strict: false },
      { type: 'function', name: 'strict_one', parameters: schema, strict: true },
      { type: 'function', name: 'no_args', parameters: { type: 'object', properties: {} }, strict: false },
      { type: 'web_search', search_context_size: 'low' },
    ]);
    expect(request.tool_choice).toBe('required');
    expect(request.parallel_tool_calls).toBe(false);
  });

  test('tool_choice strings are kept and a named function is flattened', () => {
    for (const choice of ['none', 'auto', 'required'] as const) {
      expect(chatRequestToResponses(body({ tool_choice: choice })).request.tool_choice).toBe(choice);
    }
    const { request } = chatRequestToResponses(body({ tool_choice: { type: 'function', function: { name: 'weather' } } }));
    expect(request.tool_choice).toEqual({ type: 'function', name: 'weather' });
  });

  test('allowed_tools tool_choice is flattened', () => {
    const { request } = chatRequestToResponses(
      body({ tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'a' } }] } } }),
    );
    expect(request.tool_choice).toEqual({ type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'a' }] });
  });

  test('a custom tool with a grammar is converted to the flat Responses form', () => {
    const { request } = chatRequestToResponses(
      body({ tools: [{ type: 'custom', custom: { name: 'sql', format: { type: 'grammar', grammar: { syntax: 'lark', definition: 'start: "x"' } } } }] }),
    );
    expect(request.tools).toEqual([{ type: 'custom', name: 'sql', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } }]);
  });

  test('legacy functions and function_call map to tools and tool_choice', () => {
    const { request } = chatRequestToResponses(
      body({ functions: [{ name: 'clock', parameters: { type: 'object', properties: {} } }], function_call: { name: 'clock' } }),
    );
    expect(request.tools).toEqual([{ type: 'function', name: 'clock', parameters: { type: 'object', properties: {} }, strict: false }]);
    expect(request.tool_choice).toEqual({ type: 'function', name: 'clock' });
  });

  test('a function tool without a name is a 400 naming it', () => {
    const error = rejection(body({ tools: [{ type: 'function', function: { description: 'x' } } as never] }));
    expect(error.param).toBe('tools[0].function.name');
  });
});

describe('response_format, reasoning, verbosity', () => {
  test('json_object → text.format json_object', () => {
    expect(chatRequestToResponses(body({ response_format: { type: 'json_object' } })).request.text).toEqual({ format: { type: 'json_object' } });
  });

  test('json_schema → flat text.format with name, schema, strict', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'], additionalProperties: false };
    const { request } = chatRequestToResponses(
      body({ response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } }, verbosity: 'low' }),
    );
    expect(request.text).toEqual({ format: { type: 'json_schema', name: 'answer', schema, strict: true }, verbosity: 'low' });
  });

  test('text response_format adds nothing', () => {
    expect('text' in chatRequestToResponses(body({ response_format: { type: 'text' } })).request).toBe(false);
  });

  test('reasoning_effort → reasoning.effort; the reasoning object is accepted too; absent → unset', () => {
    expect(chatRequestToResponses(body({ reasoning_effort: 'high' })).request.reasoning).toEqual({ effort: 'high' });
    expect(chatRequestToResponses(body({ reasoning: { effort: 'low', enabled: true } })).request.reasoning).toEqual({ effort: 'low' });
    expect('reasoning' in chatRequestToResponses(body()).request).toBe(false);
  });
});

describe('top-level parameters', () => {
  test('model, prompt_cache_key and service_tier are kept; stream and stream_options are not in the request', () => {
    const { request, ignoredParams } = chatRequestToResponses(
      body({ prompt_cache_key: 'thread-1', service_tier: 'priority', stream: true, stream_options: { include_usage: true } }),
    );
    expect(request.model).toBe('gpt-5.5');
    expect(request.prompt_cache_key).toBe('thread-1');
    expect(request.service_tier).toBe('priority');
    expect('stream' in request).toBe(false);
    expect('stream_options' in request).toBe(false);
    expect(ignoredParams).toEqual([]);
  });

  test('parameters the upstream rejects are dropped and listed by the name the client used', () => {
    const sent = {
      max_tokens: 100,
      max_completion_tokens: 100,
      temperature: 0.2,
      top_p: 1,
      stop: ['\n'],
      presence_penalty: 0,
      frequency_penalty: 0,
      seed: 7,
      logit_bias: { '50256': -100 },
      user: 'u-1',
      metadata: { a: 'b' },
      store: true,
      top_logprobs: 2,
      prediction: { type: 'content', content: 'x' },
      web_search_options: {},
    };
    const { request, ignoredParams } = chatRequestToResponses(body(sent));
    expect([...ignoredParams].sort()).toEqual(Object.keys(sent).sort());
    for (const name of Object.keys(sent)) expect(name in request).toBe(false);
    expect('max_output_tokens' in request).toBe(false);
  });

  test('null-valued parameters are not reported', () => {
    const { ignoredParams } = chatRequestToResponses(body({ temperature: null, max_tokens: null }));
    expect(ignoredParams).toEqual([]);
  });

  test('the exported list names the upstream-rejected parameters', () => {
    for (const name of ['max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'user', 'metadata', 'store']) {
      expect(IGNORED_CHAT_PARAMS as readonly string[]).toContain(name);
    }
  });

  test('unknown top-level fields are forwarded unchanged', () => {
    const { request, ignoredParams } = chatRequestToResponses(body({ include: ['reasoning.encrypted_content'], truncation: 'auto' }));
    expect(request.include).toEqual(['reasoning.encrypted_content']);
    expect(request.truncation).toBe('auto');
    expect(ignoredParams).toEqual([]);
  });

  test('n: 1 is fine; n > 1 is a 400 with param n and code unsupported_parameter', () => {
    expect(() => chatRequestToResponses(body({ n: 1 }))).not.toThrow();
    const error = rejection(body({ n: 2 }));
    expect(error.status).toBe(400);
    expect(error.param).toBe('n');
    expect(error.code).toBe('unsupported_parameter');
    expect(error.message.startsWith('n > 1 is not supported')).toBe(true);
  });

  test('logprobs: true is a 400 on logprobs; logprobs: false is fine', () => {
    expect(rejection(body({ logprobs: true, top_logprobs: 3 })).param).toBe('logprobs');
    expect(() => chatRequestToResponses(body({ logprobs: false }))).not.toThrow();
  });

  test('audio output is a 400 on audio, whether asked by audio or by modalities', () => {
    expect(rejection(body({ audio: { voice: 'alloy', format: 'wav' } })).param).toBe('audio');
    expect(rejection(body({ modalities: ['text', 'audio'] })).param).toBe('audio');
    expect(chatRequestToResponses(body({ modalities: ['text'] })).ignoredParams).toEqual(['modalities']);
  });

  test('the input body is not mutated', () => {
    const original = body({ tools: [{ type: 'function', function: { name: 'f' } }], temperature: 1 });
    const copy = structuredClone(original);
    chatRequestToResponses(original);
    expect(original).toEqual(copy);
  });
});

describe('isResponsesShapedBody', () => {
  test('detects Cursor-style Responses bodies on /chat/completions', () => {
    expect(isResponsesShapedBody({ model: 'gpt-5.5', input: [{ role: 'user', content: 'hi' }], stream: true })).toBe(true);
    expect(isResponsesShapedBody({ model: 'gpt-5.5', input: 'hi' })).toBe(true);
  });

  test('a chat body, or anything not an object, is not Responses-shaped', () => {
    expect(isResponsesShapedBody(body())).toBe(false);
    expect(isResponsesShapedBody({ model: 'x', input: 'hi', messages: [] })).toBe(false);
    expect(isResponsesShapedBody(null)).toBe(false);
    expect(isResponsesShapedBody('input')).toBe(false);
    expect(isResponsesShapedBody([{ input: 1 }])).toBe(false);
  });
});
