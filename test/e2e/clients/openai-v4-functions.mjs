// openai@4 (installed as openai-v4) against CodexIn's chat completions with legacy
// `functions`: runFunctions() runs the function only when the reply carries
// message.function_call (stream:false) or delta.function_call (stream:true). Run by
// openai-v4-functions.test.ts under Node 22 with CODEXIN_BASE_URL and CODEXIN_KEY.
import OpenAI from 'openai-v4';

const client = new OpenAI({ baseURL: process.env.CODEXIN_BASE_URL, apiKey: process.env.CODEXIN_KEY, maxRetries: 0 });
const calls = [];
const functions = [
  {
    function: async ({ city }) => {
      calls.push(city);
      return `sunny in ${city}`;
    },
    parse: JSON.parse,
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
];

async function run(stream) {
  const runner = client.beta.chat.completions.runFunctions({ model: 'gpt-5.5', stream, messages: [{ role: 'user', content: 'call get_weather' }], functions });
  const content = await runner.finalContent();
  const messages = runner.messages.map((m) => ({ role: m.role, function_call: m.function_call?.name ?? null, name: m.name ?? null }));
  return { content, messages };
}

const result = {};
for (const [name, stream] of [['nonStream', false], ['stream', true]]) {
  try {
    result[name] = { ok: true, ...(await run(stream)) };
  } catch (error) {
    result[name] = { ok: false, error: String(error?.stack ?? error).slice(0, 2000) };
  }
}
result.calls = calls;
console.log(JSON.stringify(result));
