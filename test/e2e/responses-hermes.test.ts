/**
 * Hermes Agent's `codex_responses` traffic replayed against the compiled binary
 * (research/client-traffic.md §1.3–1.5): `store:false`, `include:[reasoning.encrypted_content]`,
 * reasoning items replayed by encrypted_content WITHOUT an id, assistant `message` items
 * with `id` + `phase` + `status`, `function_call` items without id/status,
 * `function_call_output` whose output is an ARRAY of input_text/input_image parts, and
 * data-URL `input_image`s. Driven both with raw fetch (reading the SSE as Hermes does:
 * `output_item.done` is the authoritative item list) and with the SDK's
 * `responses.create({stream:true})` iterator, which is what Hermes calls.
 *
 * The simulator enforces the backend's request rules, so a 200 stream proves what CodexIn
 * forwarded was acceptable; the recorded upstream bodies prove it was forwarded faithfully.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import OpenAI from 'openai';
import { startStack, type E2EStack } from '../support/stack';
import { removeTempDirs } from '../support/binary';
import { MODEL, expectWellFormedStream, expectWellFormedUsage, lastUpstreamBody, makePng, pngDataUrl, postResponses, readAllFrames, upstreamResponsesRequests, type Json } from './responses/helpers';

let stack: E2EStack;
let key: string;

beforeAll(async () => {
  stack = await startStack();
  key = await stack.createKey();
});

afterAll(async () => {
  await stack?.stop();
  removeTempDirs();
});

beforeEach(() => stack.sim.reset());

const INSTRUCTIONS = 'You are Hermes Agent, an intelligent AI assistant created by Nous Research.';

const TERMINAL_TOOL = {
  type: 'function',
  name: 'terminal',
  description: 'Execute shell commands on a Linux environment.',
  strict: false,
  parameters: { type: 'object', properties: { command: { type: 'string', description: 'The command to execute' } }, required: ['command'] },
};

/** The body ResponsesApiTransport.build_kwargs produces (§1.3), with `stream:true` from run_codex_stream. */
function hermesBody(input: Json[], extra: Json = {}): Json {
  return {
    model: MODEL,
    instructions: INSTRUCTIONS,
    input,
    store: false,
    tools: [TERMINAL_TOOL],
    tool_choice: 'auto',
    parallel_tool_calls: true,
    prompt_cache_key: 'pck_0123456789abcdef01234567',
    reasoning: { effort: 'medium', summary: 'auto' },
    include: ['reasoning.encrypted_content'],
    stream: true,
    ...extra,
  };
}

/** What Hermes' stream consumer keeps (§1.5): output_item.done items, text deltas, terminal status and usage. */
interface HermesTurn {
  items: Json[];
  deltaText: string;
  terminal: Json;
  events: Json[];
}

function hermesConsume(events: Json[]): HermesTurn {
  const items: Json[] = [];
  let deltaText = '';
  let terminal: Json | undefined;
  for (const event of events) {
    if (event.type === 'error') throw new Error(`stream error event: ${JSON.stringify(event)}`);
    if (/output_text\.delta/.test(event.type)) deltaText += event.delta;
    if (event.type === 'response.output_item.done') items.push(event.item);
    if (['response.completed', 'response.incomplete', 'response.failed'].includes(event.type)) {
      terminal = event;
      break;
    }
  }
  if (!terminal) throw new Error('Codex Responses stream did not emit a terminal response');
  return { items, deltaText, terminal, events };
}

async function hermesTurnViaFetch(body: Json): Promise<HermesTurn> {
  const res = await postResponses(stack, key, body);
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  expect(res.headers.get('content-type')).toStartWith('text/event-stream');
  const events = expectWellFormedStream(await readAllFrames(res));
  return hermesConsume(events);
}

/** Every item the response has was announced by output_item.done (Hermes never reads completed.output). */
function expectEveryItemDone(turn: HermesTurn): void {
  const added = turn.events.filter((e) => e.type === 'response.output_item.added').map((e) => e.item.id);
  expect(turn.items.map((i) => i.id)).toEqual(added);
  expect(turn.terminal.response.output.map((i: Json) => i.id)).toEqual(added);
}

/** Hermes' replay of a reasoning item: encrypted_content + summary, no id (§1.4). */
function replayReasoning(item: Json): Json {
  expect(item.type).toBe('reasoning');
  return { type: 'reasoning', encrypted_content: item.encrypted_content, summary: item.summary };
}

/** Hermes' replay of an assistant message: id, phase and status kept (§1.4). */
function replayMessage(item: Json): Json {
  return { type: 'message', role: 'assistant', status: 'completed', id: item.id, phase: item.phase ?? 'final_answer', content: [{ type: 'output_text', text: item.content[0].text }] };
}

/** Hermes' replay of a tool call: no id, no status (§1.4). */
function replayCall(item: Json): Json {
  return { type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments };
}

describe('Hermes codex_responses replay over raw fetch', () => {
  test('a three-turn tool loop: encrypted reasoning replay, multimodal tool output, id+phase messages, data-URL images', async () => {
    const screenshot = pngDataUrl(makePng(3, 3, [0, 200, 0]));
    const photo = pngDataUrl(makePng(5, 2, [250, 250, 0]));
    const user1 = { role: 'user', content: 'Please call terminal to list the files in /tmp' };

    // Turn 1: the model answers with reasoning + a tool call.
    const turn1 = await hermesTurnViaFetch(hermesBody([user1]));
    expect(turn1.terminal.type).toBe('response.completed');
    expectEveryItemDone(turn1);
    expect(turn1.items.map((i) => i.type)).toEqual(['reasoning', 'function_call']);
    const [reasoning1, call1] = turn1.items as [Json, Json];
    expect(typeof reasoning1.encrypted_content).toBe('string');
    expect(reasoning1.encrypted_content.length).toBeGreaterThan(0);
    expect(call1.name).toBe('terminal');
    expect(call1.call_id).toMatch(/\S/);
    expect(call1.status).toBe('completed');
    expect(JSON.parse(call1.arguments)).toEqual({ command: expect.any(String) });
    expectWellFormedUsage(turn1.terminal.response.usage);
    const up1 = lastUpstreamBody(stack);
    expect(up1.store).toBe(false);
    expect(up1.include).toEqual(['reasoning.encrypted_content']);
    expect(up1.instructions).toBe(INSTRUCTIONS);
    expect(up1.prompt_cache_key).toBe('pck_0123456789abcdef01234567');

    // Turn 2: reasoning replayed without id, the call without id/status, the tool result as parts.
    const toolText = 'total 2\n-rw-r--r-- 1 root root 0 a.txt\n-rw-r--r-- 1 root root 0 b.png';
    const toolOutput = [
      { type: 'input_text', text: toolText },
      { type: 'input_image', image_url: screenshot },
    ];
    const input2 = [user1, replayReasoning(reasoning1), replayCall(call1), { type: 'function_call_output', call_id: call1.call_id, output: toolOutput }];
    const turn2 = await hermesTurnViaFetch(hermesBody(input2));
    expect(turn2.terminal.type).toBe('response.completed');
    expectEveryItemDone(turn2);
    expect(turn2.items.map((i) => i.type)).toEqual(['reasoning', 'message']);
    const answer2 = turn2.items[1]!;
    expect(answer2.id).toMatch(/\S/);
    expect(answer2.content[0].text).toBe(`Tool result received: ${toolText}`);
    expect(turn2.deltaText).toBe(answer2.content[0].text);

    const up2 = lastUpstreamBody(stack);
    expect(up2.store).toBe(false);
    const upInput2 = up2.input as Json[];
    expect(upInput2.map((i) => i.type)).toEqual(['message', 'reasoning', 'function_call', 'function_call_output']);
    // The encrypted reasoning travels verbatim and id-less (store:false: ids cannot be resolved).
    expect(upInput2[1]!.encrypted_content).toBe(reasoning1.encrypted_content);
    expect(upInput2[1]!.summary).toEqual(reasoning1.summary);
    expect('id' in upInput2[1]!).toBe(false);
    expect(upInput2[2]).toMatchObject({ call_id: call1.call_id, name: 'terminal', arguments: call1.arguments });
    // The multimodal tool result arrives as the same array of parts, image included.
    expect(upInput2[3]).toEqual({ type: 'function_call_output', call_id: call1.call_id, output: toolOutput });

    // Turn 3: the assistant answer replayed with id + phase + status, then a user turn with a photo.
    const user3 = {
      role: 'user',
      content: [
        { type: 'input_text', text: 'And what about this photo?' },
        { type: 'input_image', image_url: photo, detail: 'auto' },
      ],
    };
    const input3 = [...input2, replayReasoning(turn2.items[0]!), replayMessage(answer2), user3];
    const turn3 = await hermesTurnViaFetch(hermesBody(input3, { max_output_tokens: 8192 }));
    expect(turn3.terminal.type).toBe('response.completed');
    expectEveryItemDone(turn3);
    const message3 = turn3.items.find((i) => i.type === 'message')!;
    expect(message3.content[0].text).toBe('Echo: And what about this photo? [image received]');
    expect(['commentary', 'final_answer']).toContain(message3.phase);

    const upInput3 = lastUpstreamBody(stack).input as Json[];
    expect(upInput3.length).toBe(input3.length);
    const replayedAnswer = upInput3[5]!;
    expect(replayedAnswer).toMatchObject({ type: 'message', role: 'assistant', phase: answer2.phase ?? 'final_answer', content: [{ type: 'output_text', text: answer2.content[0].text }] });
    expect(upInput3[6]!.content).toEqual(user3.content);
    // max_output_tokens (Hermes sends it to non-codex hosts) never reaches the backend, which rejects it.
    expect('max_output_tokens' in lastUpstreamBody(stack)).toBe(false);
    expect(upstreamResponsesRequests(stack).length).toBe(3);
  });

  test('the fallback assistant replay {role, content: string} after id-less reasoning', async () => {
    // With no message item to replay, Hermes falls back to {role:'assistant', content:'text'} (§1.4).
    const turn1 = await hermesTurnViaFetch(hermesBody([{ role: 'user', content: 'hello hermes' }]));
    expect(turn1.items.map((i) => i.type)).toEqual(['reasoning', 'message']);
    const input = [
      { role: 'user', content: 'hello hermes' },
      replayReasoning(turn1.items[0]!),
      { role: 'assistant', content: turn1.items[1]!.content[0].text },
      { role: 'user', content: 'second question' },
    ];
    const turn2 = await hermesTurnViaFetch(hermesBody(input));
    expectEveryItemDone(turn2);
    expect(turn2.items.find((i) => i.type === 'message')!.content[0].text).toBe('Echo: second question');
    const upInput = lastUpstreamBody(stack).input as Json[];
    expect(upInput[1]).toMatchObject({ type: 'reasoning', encrypted_content: turn1.items[0]!.encrypted_content });
    expect(upInput[2]).toMatchObject({ role: 'assistant' });
    expect(JSON.stringify(upInput[2])).toContain(turn1.items[1]!.content[0].text);
  });
});

describe('Hermes multimodal tool results are validated like user images', () => {
  test('a broken image inside a function_call_output array → 400 naming it, nothing sent upstream', async () => {
    const input = [
      { role: 'user', content: 'call terminal' },
      { type: 'function_call', call_id: 'call_hermes_1', name: 'terminal', arguments: '{"command":"screenshot"}' },
      {
        type: 'function_call_output',
        call_id: 'call_hermes_1',
        output: [
          { type: 'input_text', text: 'here is the screenshot' },
          { type: 'input_image', image_url: `data:text/html;base64,${Buffer.from('<b>not an image</b>').toString('base64')}` },
        ],
      },
    ];
    const res = await postResponses(stack, key, hermesBody(input));
    expect(res.status).toBe(400);
    const body = (await res.json()) as Json;
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.param).toBe('input[2].output[1].image_url');
    expect(typeof body.error.message).toBe('string');
    expect(upstreamResponsesRequests(stack)).toEqual([]);
  });
});

describe('Hermes codex_responses replay with the SDK (responses.create stream:true, as Hermes calls it)', () => {
  test('replayed history with id-less reasoning, array tool output and images streams every item', async () => {
    const client = new OpenAI({ baseURL: stack.baseUrl, apiKey: key, maxRetries: 0 });
    const image = pngDataUrl(makePng(2, 2, [1, 2, 3]));

    const run = async (input: Json[]): Promise<HermesTurn> => {
      const stream = await client.responses.create(hermesBody(input) as unknown as OpenAI.Responses.ResponseCreateParamsStreaming);
      const events: Json[] = [];
      for await (const e of stream) events.push(e as Json);
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      expect(events.some((e) => e.type.startsWith('codex.'))).toBe(false);
      return hermesConsume(events);
    };

    const user = { role: 'user', content: [{ type: 'input_text', text: 'call terminal please' }, { type: 'input_image', image_url: image, detail: 'auto' }] };
    const turn1 = await run([user]);
    expectEveryItemDone(turn1);
    const call = turn1.items.find((i) => i.type === 'function_call')!;
    const reasoning = turn1.items.find((i) => i.type === 'reasoning')!;
    expect(call.name).toBe('terminal');

    const toolOutput = [
      { type: 'input_text', text: 'screenshot attached' },
      { type: 'input_image', image_url: image },
    ];
    const turn2 = await run([user, replayReasoning(reasoning), replayCall(call), { type: 'function_call_output', call_id: call.call_id, output: toolOutput }]);
    expect(turn2.terminal.type).toBe('response.completed');
    expectEveryItemDone(turn2);
    expect(turn2.items.find((i) => i.type === 'message')!.content[0].text).toBe('Tool result received: screenshot attached');
    expect(turn2.terminal.response.usage.input_tokens).toBeGreaterThan(0);

    const upInput = lastUpstreamBody(stack).input as Json[];
    expect(upInput[0]!.content).toEqual(user.content);
    expect(upInput[1]).toEqual({ type: 'reasoning', encrypted_content: reasoning.encrypted_content, summary: reasoning.summary });
    expect(upInput[3]).toEqual({ type: 'function_call_output', call_id: call.call_id, output: toolOutput });
  });
});
