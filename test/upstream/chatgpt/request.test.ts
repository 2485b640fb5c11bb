import { describe, expect, test } from 'bun:test';
import { toChatGptRequest, chatGptHeaders, CHATGPT_DROPPED_PARAMS } from '../../../src/upstream/chatgpt/request';
import { ApiError } from '../../../src/openai/api-error';
import type { ResponsesRequest } from '../../../src/openai/responses-types';
import { readFixtureJson } from '../../support/fixtures';

const codexTurn = readFixtureJson<{ body: ResponsesRequest }>('codex-cli-0.169.0/openai-base-url-http-turn.json').body;

describe('toChatGptRequest', () => {
  test('keeps a real Codex CLI 0.169.0 body intact apart from the upstream rules', () => {
    const { body, promptCacheKey, dropped } = toChatGptRequest(codexTurn, 'key_a');
    expect(body.stream).toBe(true);
    expect(body.store).toBe(false);
    expect(body.instructions).toBe('');
    expect(body.prompt_cache_key).toBe('01a21168-e1bd-72d3-a760-f2d21367b4fa');
    expect(promptCacheKey).toBe('01a21168-e1bd-72d3-a760-f2d21367b4fa');
    expect(body.include).toEqual(['reasoning.encrypted_content']);
    expect(body.tools).toEqual(codexTurn.tools);
    expect(body.client_metadata).toEqual(codexTurn.client_metadata);
    expect(body.text).toEqual(codexTurn.text);
    expect((body.input as unknown[]).length).toBe(4);
    expect(dropped).toEqual([]);
  });

  test('removes every parameter the backend rejects and reports the ones that carried a value', () => {
    const request: ResponsesRequest = { model: 'gpt-5.5', input: 'hi', max_output_tokens: 100, temperature: 0.2, top_p: 1, user: 'u', metadata: { a: 1 }, truncation: 'auto', previous_response_id: null };
    const { body, dropped } = toChatGptRequest(request, 'k');
    for (const name of CHATGPT_DROPPED_PARAMS) expect(body).not.toHaveProperty(name);
    expect(dropped.sort()).toEqual(['max_output_tokens', 'metadata', 'temperature', 'top_p', 'truncation', 'user']);
  });

  test('wraps a string input as a user message and turns system roles into developer', () => {
    expect(toChatGptRequest({ model: 'm', input: 'hello' }, 'k').body.input).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] }]);
    const { body } = toChatGptRequest({ model: 'm', input: [{ role: 'system', content: 'be brief' } as never, { type: 'message', role: 'user', content: 'q' }] }, 'k');
    expect(body.input).toEqual([
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'be brief' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'q' }] },
    ]);
  });

  test('strips stored-item ids from replayed items but keeps call ids', () => {
    const { body } = toChatGptRequest(
      {
        model: 'm',
        input: [
          { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'enc' },
          { type: 'message', id: 'msg_1', role: 'assistant', phase: 'final_answer', content: [{ type: 'output_text', text: 'a' }] },
          { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{}' },
          { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'out' }] },
        ],
      },
      'k',
    );
    const items = body.input as Record<string, unknown>[];
    expect(items.map((i) => i.id)).toEqual([undefined, undefined, undefined, undefined]);
    expect(items[1]!.phase).toBe('final_answer');
    expect(items[2]!.call_id).toBe('call_1');
    expect(items[3]!.output).toEqual([{ type: 'input_text', text: 'out' }]);
  });

  test('rejects item_reference with a clear 400, since nothing is stored upstream', () => {
    try {
      toChatGptRequest({ model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }, 'k');
      throw new Error('expected a 400');
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).param).toBe('input[0]');
      expect((error as ApiError).message).toContain('store');
    }
  });

  test('derives a stable prompt cache key per key and conversation when the client sends none', () => {
    const a1 = toChatGptRequest({ model: 'm', input: 'start of chat' }, 'key_a').promptCacheKey;
    const a2 = toChatGptRequest({ model: 'm', input: [{ type: 'message', role: 'user', content: 'start of chat' }, { type: 'message', role: 'user', content: 'more' }] }, 'key_a').promptCacheKey;
    const b = toChatGptRequest({ model: 'm', input: 'start of chat' }, 'key_b').promptCacheKey;
    const other = toChatGptRequest({ model: 'm', input: 'another chat' }, 'key_a').promptCacheKey;
    expect(a1).toBe(a2);
    expect(a1).not.toBe(b);
    expect(a1).not.toBe(other);
  });

  test('keeps service_tier priority, drops the rest, and leaves include empty-free when reasoning is off', () => {
    expect(toChatGptRequest({ model: 'm', input: 'x', service_tier: 'priority' }, 'k').body.service_tier).toBe('priority');
    const flex = toChatGptRequest({ model: 'm', input: 'x', service_tier: 'flex' }, 'k');
    expect(flex.body).not.toHaveProperty('service_tier');
    expect(flex.dropped).toContain('service_tier');
    expect(toChatGptRequest({ model: 'm', input: 'x', reasoning: null }, 'k').body.include).toBeUndefined();
    expect(toChatGptRequest({ model: 'm', input: 'x', tools: [{ type: 'web_search_preview' }] }, 'k').body.tools).toEqual([{ type: 'web_search' }]);
  });
});

describe('chatGptHeaders', () => {
  test('sends the account headers and forwards only Codex session headers', () => {
    const headers = chatGptHeaders({
      accessToken: 'tok',
      chatgptAccountId: 'acc',
      sessionId: 'sess',
      forward: { 'x-codex-turn-state': 'ts', 'x-codex-window-id': 'w:0', authorization: 'Bearer ci_client' },
    });
    expect(headers.authorization).toBe('Bearer tok');
    expect(headers['chatgpt-account-id']).toBe('acc');
    expect(headers.session_id).toBe('sess');
    expect(headers.originator).toBe('codex_cli_rs');
    expect(headers['x-codex-turn-state']).toBe('ts');
    expect(headers['x-codex-window-id']).toBe('w:0');
  });
});
