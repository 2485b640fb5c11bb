/**
 * /v1/chat/completions end to end with the Vercel AI SDK (`ai` 7 + `@ai-sdk/openai` 4,
 * `openai.chat(id)`, the Chat Completions model): the SDK talks to the compiled
 * `dist/codexin`, which talks to the upstream simulator. Expected values come from
 * the simulator script or the simulator's own reply policy and token accounting
 * (test/e2e/chat/upstream.ts), never from CodexIn's answer.
 *
 * Research: shared/research/client-traffic.md §0 item 4, §3 (AI SDK rows), §6 item 4/5.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { removeTempDirs } from '../support/binary';
import { startStack, type E2EStack } from '../support/stack';
import { inputItems, onlyUpstreamBody, simulatedUsage, upstreamCalls, type ChatUsageShape, type Json } from './chat/upstream';
import { scriptedResponse, type ScriptedUsage } from './chat/upstream-script';

const MODEL = 'gpt-5.5';

let stack: E2EStack;
let openai: ReturnType<typeof createOpenAI>;

beforeAll(async () => {
  stack = await startStack();
  const apiKey = await stack.createKey();
  openai = createOpenAI({ baseURL: stack.baseUrl, apiKey });
});

afterAll(async () => {
  await stack?.stop();
  removeTempDirs();
});

beforeEach(() => stack.sim.reset());

/** The AI SDK's view of a Chat usage (convertOpenAIChatUsage in @ai-sdk/openai). */
function sdkUsage(u: { input: number; cached: number; output: number; reasoning: number }) {
  return {
    inputTokens: u.input,
    outputTokens: u.output,
    totalTokens: u.input + u.output,
    inputTokenDetails: { noCacheTokens: u.input - u.cached, cacheReadTokens: u.cached },
    outputTokenDetails: { textTokens: u.output - u.reasoning, reasoningTokens: u.reasoning },
  };
}

const fromChat = (u: ChatUsageShape): ScriptedUsage => ({
  input: u.prompt_tokens,
  cached: u.prompt_tokens_details.cached_tokens,
  output: u.completion_tokens,
  reasoning: u.completion_tokens_details.reasoning_tokens,
});

describe('AI SDK openai.chat()', () => {
  test('generateText: text, finishReason stop, usage as the upstream reported; system prompt → instructions', async () => {
    const answer = 'The Pacific is the largest ocean.';
    const usage = { input: 900, cached: 512, output: 40, reasoning: 16 };
    stack.sim.enqueue(scriptedResponse([{ type: 'reasoning' }, { type: 'message', text: answer }], usage));

    const result = await generateText({
      model: openai.chat(MODEL),
      system: 'Answer in one sentence. SYS-MARK-3',
      prompt: 'Which ocean is the largest?',
      maxRetries: 0,
    });

    expect(result.text).toBe(answer);
    expect(result.finishReason).toBe('stop');
    expect(result.toolCalls).toEqual([]);
    expect(result.usage).toMatchObject(sdkUsage(usage));
    expect(result.steps).toHaveLength(1);

    const body = onlyUpstreamBody(stack.sim);
    expect(body.instructions).toBe('Answer in one sentence. SYS-MARK-3');
    expect(inputItems(body)).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Which ocean is the largest?' }] }]);
  });

  test('streamText with an executed tool over 2 steps: tool-calls then stop, the tool result reaches the upstream, usage per step', async () => {
    const CALL_ID = 'call_lisbon_weather_7';
    const ARGS = '{"city":"Lisbon"}';
    const toolOutput = { tempC: 19, sky: 'sunny' };
    const step1Usage = { input: 400, cached: 256, output: 30, reasoning: 12 };
    stack.sim.enqueue(scriptedResponse([{ type: 'function_call', callId: CALL_ID, name: 'get_weather', arguments: ARGS }], step1Usage));

    const executed: unknown[] = [];
    const result = streamText({
      model: openai.chat(MODEL),
      prompt: 'What is the weather in Lisbon?',
      maxRetries: 0,
      stopWhen: stepCountIs(2),
      tools: {
        get_weather: tool({
          description: 'Current weather for a city',
          inputSchema: jsonSchema<{ city: string }>({
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
            additionalProperties: false,
          }),
          execute: async (input) => {
            executed.push(input);
            return toolOutput;
          },
        }),
      },
    });

    const partTypes: string[] = [];
    const errors: unknown[] = [];
    for await (const part of result.fullStream) {
      partTypes.push(part.type);
      if (part.type === 'error') errors.push(part.error);
    }
    expect(errors).toEqual([]);

    expect(executed).toEqual([{ city: 'Lisbon' }]);
    const steps = await result.steps;
    expect(steps).toHaveLength(2);
    expect(steps[0]!.finishReason).toBe('tool-calls');
    expect(steps[0]!.toolCalls).toHaveLength(1);
    expect(steps[0]!.toolCalls[0]).toMatchObject({ toolCallId: CALL_ID, toolName: 'get_weather', input: { city: 'Lisbon' } });
    expect(steps[0]!.toolResults[0]).toMatchObject({ toolCallId: CALL_ID, toolName: 'get_weather', output: toolOutput });
    expect(steps[1]!.finishReason).toBe('stop');
    expect(steps[1]!.toolCalls).toEqual([]);
    expect(partTypes).toContain('tool-call');
    expect(partTypes).toContain('tool-result');
    expect(partTypes.filter((t) => t === 'finish-step')).toHaveLength(2);

    // Step 2's upstream request replays the call and carries the tool's result, paired by call_id.
    const calls = upstreamCalls(stack.sim);
    expect(calls).toHaveLength(2);
    const items = inputItems(calls[1]!.body as Json);
    const call = items.find((i) => i.type === 'function_call');
    const output = items.find((i) => i.type === 'function_call_output');
    expect(call).toMatchObject({ call_id: CALL_ID, name: 'get_weather', arguments: ARGS });
    expect(output).toMatchObject({ call_id: CALL_ID });
    expect(JSON.parse(output!.output as string)).toEqual(toolOutput);

    // The simulator's model answers a tool result with "Tool result received: <output>".
    const expectedText = `Tool result received: ${output!.output as string}`;
    expect(await result.text).toBe(expectedText);
    expect(await result.finishReason).toBe('stop');

    const step2Usage = fromChat(simulatedUsage(stack.sim, calls[1]!, { texts: [expectedText] }));
    expect(steps[0]!.usage).toMatchObject(sdkUsage(step1Usage));
    expect(steps[1]!.usage).toMatchObject(sdkUsage(step2Usage));
    const total = await result.totalUsage;
    expect(total.inputTokens).toBe(step1Usage.input + step2Usage.input);
    expect(total.outputTokens).toBe(step1Usage.output + step2Usage.output);
    expect(total.totalTokens).toBe(step1Usage.input + step1Usage.output + step2Usage.input + step2Usage.output);
  });

  test('streamText plain text: deltas, finishReason stop and the include_usage usage', async () => {
    const answer = 'Streaming through the AI SDK, chunk by chunk.';
    const usage = { input: 123, cached: 0, output: 11, reasoning: 0 };
    stack.sim.enqueue(scriptedResponse([{ type: 'message', text: answer, chunkSize: 4 }], usage));

    const result = streamText({ model: openai.chat(MODEL), prompt: 'Stream something', maxRetries: 0 });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(answer);
    expect(await result.finishReason).toBe('stop');
    expect(await result.usage).toMatchObject(sdkUsage(usage));
  });

  test('streamText: an upstream failure after some text surfaces as an error part, not a clean stop', async () => {
    const message = 'Simulated failure while the AI SDK was reading.';
    stack.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 7, code: 'server_error', message });

    const result = streamText({ model: openai.chat(MODEL), prompt: 'Tell me a long story', maxRetries: 0, onError: () => {} });
    const errors: unknown[] = [];
    let text = '';
    for await (const part of result.fullStream) {
      if (part.type === 'error') errors.push(part.error);
      if (part.type === 'text-delta') text += part.text;
    }
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as { message?: string }).message ?? errors[0])).toContain(message);
    expect('Echo: Tell me a long story'.startsWith(text)).toBe(true);
    expect(text.length).toBeGreaterThan(0);
    expect(await result.finishReason).not.toBe('stop');
  });
});
