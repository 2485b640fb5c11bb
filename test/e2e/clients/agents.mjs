// @openai/agents against CodexIn: multi-turn tool runs over Responses (HTTP), the Chat
// Completions model, and the Responses WebSocket transport. Run by agents.test.ts under
// Node 22 with CODEXIN_BASE_URL (…/v1) and CODEXIN_KEY; prints one JSON result line.
import { Agent, Runner, tool, setTracingDisabled } from '@openai/agents';
import { OpenAIProvider, OpenAIChatCompletionsModel, withResponsesWebSocketSession } from '@openai/agents-openai';
import OpenAI from 'openai';
import { z } from 'zod';

setTracingDisabled(true);
const baseURL = process.env.CODEXIN_BASE_URL;
const apiKey = process.env.CODEXIN_KEY;
const calls = [];
const getWeather = tool({
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    calls.push(city);
    return `sunny in ${city}`;
  },
});
const agent = (model) => new Agent({ name: 'weather', instructions: 'Use the tool.', tools: [getWeather], model });

async function responsesHttp() {
  const runner = new Runner({ modelProvider: new OpenAIProvider({ apiKey, baseURL, useResponses: true }) });
  const a = agent('gpt-5.5');
  const first = await runner.run(a, 'call get_weather');
  const second = await runner.run(a, [...first.history, { role: 'user', content: 'call get_weather again' }]);
  return { first: first.finalOutput, second: second.finalOutput, items: second.history.length };
}

async function chatModel() {
  const client = new OpenAI({ apiKey, baseURL });
  const runner = new Runner();
  const result = await runner.run(agent(new OpenAIChatCompletionsModel(client, 'gpt-5.5')), 'call get_weather');
  return { final: result.finalOutput };
}

async function webSocket() {
  return withResponsesWebSocketSession(
    async ({ run }) => {
      const a = agent('gpt-5.5');
      const first = await run(a, 'call get_weather');
      const second = await run(a, 'and a plain question', { previousResponseId: first.lastResponseId });
      return { first: first.finalOutput, second: second.finalOutput };
    },
    { providerOptions: { apiKey, baseURL, useResponses: true, useResponsesWebSocket: true } },
  );
}

const result = {};
for (const [name, fn] of Object.entries({ responsesHttp, chatModel, webSocket })) {
  try {
    result[name] = { ok: true, ...(await fn()) };
  } catch (error) {
    result[name] = { ok: false, error: String(error?.stack ?? error).slice(0, 2000) };
  }
}
result.toolCalls = calls;
console.log(JSON.stringify(result));
