/** The simulated model's reply policy: which item a request gets. */
import { describe, expect, test } from 'bun:test';
import { replyFor } from '../../../src/upstream/mock/reply';

const weatherTool = { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } };

describe('replyFor picks a tool the way a model would', () => {
  test('a prompt about the topic of a tool\'s name calls it, with arguments its schema requires', () => {
    const [item] = replyFor({ input: [{ type: 'message', role: 'user', content: "What's the weather like in San Francisco?" }], tools: [weatherTool] });
    expect(item).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"location":"x"}' });
  });

  test('generic verbs in a tool name do not count: "get" in the prompt is not about get_weather', () => {
    const [item] = replyFor({ input: 'get me a joke', tools: [weatherTool] });
    expect(item).toMatchObject({ type: 'message' });
  });

  test('without a matching tool the model answers with text', () => {
    const [item] = replyFor({ input: 'What is the weather?', tools: [] });
    expect(item).toMatchObject({ type: 'message' });
  });
});
