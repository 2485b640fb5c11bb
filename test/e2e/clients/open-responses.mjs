// @ai-sdk/open-responses (an Open Responses client) with the AI SDK against CodexIn's
// /v1/responses: generateText, streamText and a tool loop. Run by open-responses.test.ts
// under Node 22 with CODEXIN_BASE_URL (…/v1) and CODEXIN_KEY; prints one JSON line.
import { createOpenResponses } from '@ai-sdk/open-responses';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { z } from 'zod';

const provider = createOpenResponses({ name: 'codexin', url: `${process.env.CODEXIN_BASE_URL}/responses`, apiKey: process.env.CODEXIN_KEY });
const model = provider('gpt-5.5');
const calls = [];

async function generate() {
  const r = await generateText({ model, prompt: 'hello open responses' });
  return { text: r.text, finishReason: r.finishReason, usage: r.usage.totalTokens };
}

async function stream() {
  const r = streamText({ model, prompt: 'stream open responses' });
  let text = '';
  for await (const delta of r.textStream) text += delta;
  return { text, finishReason: await r.finishReason };
}

async function tools() {
  const r = await generateText({
    model,
    prompt: 'call get_weather',
    tools: {
      get_weather: tool({
        description: 'The weather in a city',
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }) => {
          calls.push(city);
          return `sunny in ${city}`;
        },
      }),
    },
    stopWhen: stepCountIs(3),
  });
  return { text: r.text, steps: r.steps.length, calls };
}

const result = {};
for (const [name, fn] of Object.entries({ generate, stream, tools })) {
  try {
    result[name] = { ok: true, ...(await fn()) };
  } catch (error) {
    result[name] = { ok: false, error: String(error?.stack ?? error).slice(0, 2000) };
  }
}
console.log(JSON.stringify(result));
