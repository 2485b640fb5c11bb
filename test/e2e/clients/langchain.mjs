// @langchain/openai against CodexIn: invoke, stream, tool calls and structured output,
// on the Chat Completions API and on the Responses API (useResponsesApi). Run by
// langchain.test.ts under Node 22 with CODEXIN_BASE_URL (…/v1) and CODEXIN_KEY; prints one JSON line.
import { ChatOpenAI } from '@langchain/openai';
import { tool } from '@langchain/core/tools';
import { HumanMessage, ToolMessage } from '@langchain/core/messages';
import { z } from 'zod';

const configuration = { baseURL: process.env.CODEXIN_BASE_URL };
const apiKey = process.env.CODEXIN_KEY;
const getWeather = tool(async ({ city }) => `sunny in ${city}`, {
  name: 'get_weather',
  description: 'The weather in a city',
  schema: z.object({ city: z.string() }),
});

async function suite(useResponsesApi) {
  const model = new ChatOpenAI({ model: 'gpt-5.5', apiKey, configuration, useResponsesApi, maxRetries: 0 });
  const invoked = await model.invoke('hello langchain');
  let streamed = '';
  for await (const chunk of await model.stream('stream please')) streamed += typeof chunk.content === 'string' ? chunk.content : chunk.content.map((c) => c.text ?? '').join('');
  const withTools = model.bindTools([getWeather]);
  const question = new HumanMessage('call get_weather');
  const call = await withTools.invoke([question]);
  const toolCall = call.tool_calls?.[0];
  const toolResult = await getWeather.invoke(toolCall.args);
  const answer = await withTools.invoke([question, call, new ToolMessage({ content: toolResult, tool_call_id: toolCall.id })]);
  const structured = await model.withStructuredOutput(z.object({ city: z.string() }), { name: 'weather_query', method: 'functionCalling' }).invoke('call weather_query');
  return { invoked: invoked.content, streamed, toolCall: { name: toolCall.name, args: toolCall.args }, answer: answer.content, structured };
}

const result = {};
for (const [name, useResponses] of [['chat', false], ['responses', true]]) {
  try {
    result[name] = { ok: true, ...(await suite(useResponses)) };
  } catch (error) {
    result[name] = { ok: false, error: String(error?.stack ?? error).slice(0, 2000) };
  }
}
console.log(JSON.stringify(result));
