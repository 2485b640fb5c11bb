/**
 * Scripted upstream answers for the chat e2e suites: whole ChatGPT-backend response
 * streams (an `events` scenario for the simulator) whose every visible value — text,
 * call ids, arguments, usage — is chosen by the test, so expectations come from the
 * script and never from CodexIn's output.
 *
 * The event shapes follow the real backend as the simulator produces them
 * (src/upstream/mock/events.ts): `response.created` → `response.in_progress` → per item
 * `output_item.added` … `output_item.done` → `response.completed` whose `output` is
 * empty (ChatGPT mode) and whose `usage` is the scripted one. The simulator stamps
 * `sequence_number`.
 */
import type { EventsScenario } from '../../../src/upstream/mock';

export interface ScriptedUsage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

export type ScriptedItem =
  | { type: 'reasoning' }
  | { type: 'message'; text: string; chunkSize?: number }
  | { type: 'function_call'; callId: string; name: string; arguments: string; deltas?: boolean };

let counter = 0;
const nextId = (prefix: string): string => `${prefix}_script${Date.now().toString(36)}${(counter++).toString(36)}`;

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The Responses `usage` object the backend reports for a scripted usage. */
export function responsesUsage(u: ScriptedUsage) {
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: u.input + u.output,
  };
}

function itemEvents(item: ScriptedItem, index: number): object[] {
  switch (item.type) {
    case 'reasoning': {
      const id = nextId('rs');
      const done = { id, type: 'reasoning', encrypted_content: 'gAAAAscripted-opaque-reasoning', summary: [] };
      return [
        { type: 'response.output_item.added', output_index: index, item: { id, type: 'reasoning', encrypted_content: done.encrypted_content, summary: [] } },
        { type: 'response.output_item.done', output_index: index, item: done },
      ];
    }
    case 'message': {
      const id = nextId('msg');
      const base = { item_id: id, output_index: index, content_index: 0 };
      const part = { type: 'output_text', annotations: [], logprobs: [], text: item.text };
      return [
        {
          type: 'response.output_item.added',
          output_index: index,
          item: { id, type: 'message', status: 'in_progress', content: [], phase: 'final_answer', role: 'assistant' },
        },
        { type: 'response.content_part.added', ...base, part: { ...part, text: '' } },
        ...chunks(item.text, item.chunkSize ?? 5).map((delta) => ({ type: 'response.output_text.delta', ...base, delta, logprobs: [] })),
        { type: 'response.output_text.done', ...base, text: item.text, logprobs: [] },
        { type: 'response.content_part.done', ...base, part },
        {
          type: 'response.output_item.done',
          output_index: index,
          item: { id, type: 'message', status: 'completed', content: [part], phase: 'final_answer', role: 'assistant' },
        },
      ];
    }
    case 'function_call': {
      const id = nextId('fc');
      const events: object[] = [
        {
          type: 'response.output_item.added',
          output_index: index,
          item: { id, type: 'function_call', status: 'in_progress', arguments: '', call_id: item.callId, name: item.name },
        },
      ];
      if (item.deltas ?? true) {
        for (const delta of chunks(item.arguments, 4)) {
          events.push({ type: 'response.function_call_arguments.delta', item_id: id, output_index: index, delta });
        }
        events.push({ type: 'response.function_call_arguments.done', item_id: id, output_index: index, arguments: item.arguments });
      }
      events.push({
        type: 'response.output_item.done',
        output_index: index,
        item: { id, type: 'function_call', status: 'completed', arguments: item.arguments, call_id: item.callId, name: item.name },
      });
      return events;
    }
  }
}

/** One complete, successful upstream response made of `items`, reporting `usage`. */
export function scriptedResponse(items: ScriptedItem[], usage: ScriptedUsage, model = 'gpt-5.5'): EventsScenario {
  const id = nextId('resp');
  const createdAt = Math.floor(Date.now() / 1000);
  const response = (status: string, usageValue: unknown) => ({
    id,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: null,
    model,
    output: [],
    parallel_tool_calls: true,
    store: false,
    tool_choice: 'auto',
    tools: [],
    usage: usageValue,
  });
  return {
    kind: 'events',
    events: [
      { type: 'response.created', response: response('in_progress', null) },
      { type: 'response.in_progress', response: response('in_progress', null) },
      ...items.flatMap((item, index) => itemEvents(item, index)),
      { type: 'response.completed', response: response('completed', responsesUsage(usage)) },
    ],
  };
}
