import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mockPng } from '../../../src/upstream/mock';
import { authHeaders, parseSse, postResponses, readEvents, startSim, types, validBody, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.stop());

type Ev = Record<string, unknown>;
const itemsDone = (events: Ev[]) => events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item as Ev);
const userInput = (text: string, extra: Ev[] = []) => [{ type: 'message', role: 'user', content: [{ type: 'input_text', text }, ...extra] }];

describe('default stream', () => {
  test('framing, headers and the canonical event order', async () => {
    const res = await postResponses(h, validBody());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    for (const name of [
      'x-codex-primary-used-percent',
      'x-codex-primary-window-minutes',
      'x-codex-primary-reset-at',
      'x-codex-secondary-used-percent',
      'x-codex-secondary-window-minutes',
      'x-codex-secondary-reset-at',
      'x-codex-credits-has-credits',
      'x-codex-credits-balance',
      'x-codex-credits-unlimited',
      'x-oai-request-id',
    ]) {
      expect(res.headers.get(name)).toBeString();
    }
    expect(res.headers.get('x-codex-plan-type')).toBe('plus');
    expect(res.headers.get('openai-model')).toBe('gpt-5.5');
    expect(res.headers.get('x-codex-primary-window-minutes')).toBe('300');

    const raw = parseSse(await res.text());
    for (const e of raw) expect(e.event).toBe(e.data.type as string);
    const events = raw.map((e) => e.data);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(types(events)).toEqual([
      'response.created',
      'response.in_progress',
      'codex.rate_limits',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const created = events[0]!.response as Ev;
    expect(created).toMatchObject({ object: 'response', status: 'in_progress', output: [], model: 'gpt-5.5', store: false, usage: null });
    expect(created.id).toMatch(/^resp_/);
    expect(events[2]).toMatchObject({ plan_type: 'plus', rate_limits: { primary: { used_percent: 12, window_minutes: 300 } } });

    const message = itemsDone(events)[0]!;
    expect(message).toMatchObject({ type: 'message', role: 'assistant', phase: 'final_answer', status: 'completed' });
    expect((message.content as Ev[])[0]!.text).toBe('Echo: hello there');
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta as string);
    expect(deltas.join('')).toBe('Echo: hello there');
    expect(Math.max(...deltas.map((d) => d.length))).toBeLessThanOrEqual(8);

    const completed = events.at(-1)!.response as Ev;
    expect(completed.status).toBe('completed');
    expect(completed.id).toBe(created.id);
    expect(completed.output).toEqual([]);
    const usage = completed.usage as { input_tokens: number; output_tokens: number; total_tokens: number; input_tokens_details: { cached_tokens: number } };
    expect(usage.input_tokens).toBeGreaterThan(50);
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    expect(usage.input_tokens_details.cached_tokens).toBe(0);
  });

  test('a repeated prompt_cache_key reports cached tokens', async () => {
    const key = crypto.randomUUID();
    const first = await readEvents(await postResponses(h, validBody({ prompt_cache_key: key })));
    const second = await readEvents(await postResponses(h, validBody({ prompt_cache_key: key })));
    const cached = (events: Ev[]) => ((events.at(-1)!.response as Ev).usage as { input_tokens_details: { cached_tokens: number } }).input_tokens_details.cached_tokens;
    expect(cached(first)).toBe(0);
    expect(cached(second)).toBeGreaterThan(0);
  });

  test('reasoning with summary and encrypted content when asked for', async () => {
    const events = await readEvents(
      await postResponses(h, validBody({ reasoning: { effort: 'high', summary: 'auto' }, include: ['reasoning.encrypted_content'] })),
    );
    const t = types(events);
    expect(t.slice(3, 9)).toEqual([
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
    ]);
    const [reasoning, message] = itemsDone(events);
    expect(reasoning!.type).toBe('reasoning');
    expect(reasoning!.encrypted_content).toStartWith('gAAAAAB');
    expect((reasoning!.summary as Ev[])[0]!.type).toBe('summary_text');
    expect(message!.type).toBe('message');
    const summaryDone = events.find((e) => e.type === 'response.reasoning_summary_text.done')!;
    const joined = events.filter((e) => e.type === 'response.reasoning_summary_text.delta').map((e) => e.delta).join('');
    expect(joined).toBe(summaryDone.text as string);
    const usage = (events.at(-1)!.response as Ev).usage as { output_tokens_details: { reasoning_tokens: number } };
    expect(usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
  });

  test('no reasoning item without reasoning; no encrypted content unless included', async () => {
    expect(itemsDone(await readEvents(await postResponses(h, validBody()))).map((i) => i.type)).toEqual(['message']);
    const plain = itemsDone(await readEvents(await postResponses(h, validBody({ reasoning: { effort: 'low' } }))));
    expect(plain[0]!.type).toBe('reasoning');
    expect(plain[0]!.encrypted_content).toBeUndefined();
    expect(plain[0]!.summary).toEqual([]);
  });

  test('x-codex-turn-state is echoed within a turn', async () => {
    const res = await postResponses(h, validBody(), { ...authHeaders(h.account), 'x-codex-turn-state': 'ts_abc' });
    expect(res.headers.get('x-codex-turn-state')).toBe('ts_abc');
    await res.text();
  });
});

describe('reply policy', () => {
  const execTool = { type: 'function', name: 'exec_command', strict: false, parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] } };

  test('"run: ls" with exec_command → function call with {cmd}', async () => {
    const events = await readEvents(await postResponses(h, validBody({ input: userInput('please\nrun: ls -la\nthanks'), tools: [execTool] })));
    const added = events.find((e) => e.type === 'response.output_item.added')!.item as Ev;
    expect(added).toMatchObject({ type: 'function_call', status: 'in_progress', arguments: '', name: 'exec_command' });
    const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
    expect(deltas).toBe('{"cmd":"ls -la"}');
    expect(events.find((e) => e.type === 'response.function_call_arguments.done')!.arguments).toBe('{"cmd":"ls -la"}');
    const done = itemsDone(events)[0]!;
    expect(done).toMatchObject({ type: 'function_call', status: 'completed', name: 'exec_command', arguments: '{"cmd":"ls -la"}' });
    expect(done.call_id).toMatch(/^call_/);
    expect(done.id).toMatch(/^fc_/);
  });

  test('shell_command and shell get their own argument shapes', async () => {
    const fn = (name: string) => ({ type: 'function', name, parameters: { type: 'object', properties: {} } });
    const a = itemsDone(await readEvents(await postResponses(h, validBody({ input: userInput('run: echo hi'), tools: [fn('shell_command')] }))))[0]!;
    expect(JSON.parse(a.arguments as string)).toEqual({ command: 'echo hi' });
    const b = itemsDone(await readEvents(await postResponses(h, validBody({ input: userInput('run: echo hi'), tools: [fn('shell')] }))))[0]!;
    expect(JSON.parse(b.arguments as string)).toEqual({ command: ['bash', '-lc', 'echo hi'] });
  });

  test('"run:" without a shell tool is just echoed', async () => {
    const item = itemsDone(await readEvents(await postResponses(h, validBody({ input: userInput('run: ls') }))))[0]!;
    expect(item.type).toBe('message');
  });

  test('"call <tool>" fills required string properties with "x"', async () => {
    const tool = {
      type: 'function',
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] },
    };
    const item = itemsDone(await readEvents(await postResponses(h, validBody({ input: userInput('call get_weather please'), tools: [tool] }))))[0]!;
    expect(item.name).toBe('get_weather');
    expect(JSON.parse(item.arguments as string)).toEqual({ city: 'x', days: 1 });
  });

  test('"call" of an unknown tool echoes', async () => {
    const item = itemsDone(await readEvents(await postResponses(h, validBody({ input: userInput('call nothing') }))))[0]!;
    expect((item.content as Ev[])[0]!.text).toBe('Echo: call nothing');
  });

  test('"call apply_patch" with the freeform tool → custom_tool_call', async () => {
    const tool = { type: 'custom', name: 'apply_patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: x' } };
    const events = await readEvents(await postResponses(h, validBody({ input: userInput('call apply_patch'), tools: [tool] })));
    expect(types(events)).toContain('response.custom_tool_call_input.delta');
    const item = itemsDone(events)[0]!;
    expect(item).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', status: 'completed' });
    expect(item.input).toStartWith('*** Begin Patch');
  });

  test('"draw" with image_generation → image_generation_call holding a valid PNG', async () => {
    const events = await readEvents(
      await postResponses(h, validBody({ input: userInput('draw a cat'), tools: [{ type: 'image_generation', output_format: 'png' }] })),
    );
    expect(types(events)).toContain('response.image_generation_call.completed');
    const item = itemsDone(events)[0]!;
    expect(item).toMatchObject({ type: 'image_generation_call', status: 'completed' });
    expect(item.id).toMatch(/^ig_/);
    expect(item.revised_prompt).toContain('draw a cat');
    const png = Buffer.from(item.result as string, 'base64');
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.equals(Buffer.from(mockPng()))).toBe(true);
  });

  test('a forced image_generation tool_choice draws without the keyword', async () => {
    const body = validBody({ input: userInput('a lighthouse'), tools: [{ type: 'image_generation' }], tool_choice: { type: 'image_generation' } });
    expect(itemsDone(await readEvents(await postResponses(h, body)))[0]!.type).toBe('image_generation_call');
  });

  test('echo truncates to 500 characters and notes images', async () => {
    const long = 'y'.repeat(600);
    const item = itemsDone(
      await readEvents(await postResponses(h, validBody({ input: userInput(long, [{ type: 'input_image', image_url: 'data:image/png;base64,AAAA' }]) }))),
    )[0]!;
    expect((item.content as Ev[])[0]!.text).toBe(`Echo: ${'y'.repeat(500)} [image received]`);
  });

  test('last item a function_call_output → tool result reply (first 200 chars)', async () => {
    const output = 'z'.repeat(300);
    const input = [
      ...userInput('run: ls'),
      { type: 'function_call', name: 'exec_command', arguments: '{"cmd":"ls"}', call_id: 'call_1' },
      { type: 'function_call_output', call_id: 'call_1', output },
    ];
    const item = itemsDone(await readEvents(await postResponses(h, validBody({ input, tools: [execTool] }))))[0]!;
    expect((item.content as Ev[])[0]!.text).toBe(`Tool result received: ${'z'.repeat(200)}`);
  });

  test('custom_tool_call_output with content parts also counts as a tool result', async () => {
    const input = [
      { type: 'custom_tool_call', call_id: 'c1', name: 'apply_patch', input: 'x' },
      { type: 'custom_tool_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'Done!' }] },
    ];
    const item = itemsDone(await readEvents(await postResponses(h, validBody({ input }))))[0]!;
    expect((item.content as Ev[])[0]!.text).toBe('Tool result received: Done!');
  });

  test('string input is the user message', async () => {
    const item = itemsDone(await readEvents(await postResponses(h, validBody({ input: 'plain string' }))))[0]!;
    expect((item.content as Ev[])[0]!.text).toBe('Echo: plain string');
  });
});
