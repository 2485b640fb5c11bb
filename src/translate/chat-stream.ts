/**
 * A Responses event stream → `chat.completion.chunk`s (the `stream:true` chat reply).
 *
 * What clients check (research/client-traffic.md §2.4): the first delta carries
 * `role`; a tool call's first fragment carries `index`, `id`, `type` and `function.name`
 * and its identity never changes; the last choice chunk has a `finish_reason`; with
 * `include_usage`, every chunk has `usage: null` except one final `choices: []` chunk.
 *
 * The input is meant to be a normalized stream, but this translator does not rely on
 * deltas: whatever an item's `output_item.done` (or the terminal `output`) holds beyond
 * what its deltas already sent is emitted then, so an item that arrives only as a
 * finished item still reaches the client, exactly once.
 */

import type {
  ChatCompletionChunk,
  ChatCompletionDelta,
  ChatFinishReason,
  ChatStreamError,
  ChatToolCallDelta,
} from '../openai/chat-types';
import type { ResponseItem, ResponseObject, ResponseStreamEvent } from '../openai/responses-types';
import {
  SECTION_SEPARATOR,
  chatCompletionId,
  chatUsage,
  finishReason,
  isToolCallItem,
  messageText,
  reasoningSummaries,
  refusalText,
  toolCallArguments,
} from './chat-output';

export type { ChatStreamError } from '../openai/chat-types';

export interface ChatStreamOptions {
  model: string;
  includeUsage: boolean;
  /** The request used legacy `functions`: answer with `delta.function_call` and finish_reason "function_call". */
  legacyFunctions?: boolean;
  id?: string;
  created?: number;
}

type ChatStreamOutput = ChatCompletionChunk | ChatStreamError;

interface CallState {
  index: number;
  /** Argument text already sent; later text is only ever appended. */
  args: string;
}

/**
 * Appends sections (message texts, or reasoning summary parts) to one chat field,
 * remembering what each section already sent, and puts a blank line between
 * sections the same way the non-stream translation joins them.
 */
class SectionWriter {
  private sent = new Map<string, string>();
  private lastSection: string | null = null;

  /** The text to emit for `delta` of `section` ('' when nothing). */
  append(section: string, delta: string): string {
    if (delta === '') return '';
    const prefix = this.lastSection !== null && this.lastSection !== section ? SECTION_SEPARATOR : '';
    this.lastSection = section;
    this.sent.set(section, (this.sent.get(section) ?? '') + delta);
    return prefix + delta;
  }

  /** Emit whatever `full` holds beyond what was sent; nothing if the two disagree. */
  complete(section: string, full: string): string {
    const sent = this.sent.get(section) ?? '';
    if (full.length <= sent.length || !full.startsWith(sent)) return '';
    return this.append(section, full.slice(sent.length));
  }
}

export class ChatStreamTranslator {
  finished = false;
  private id: string | undefined;
  private created: number | undefined;
  private started = false;
  private readonly content = new SectionWriter();
  private readonly reasoning = new SectionWriter();
  private readonly refusal = new SectionWriter();
  /** Item slots: `#<output_index>` when the event has one, else `id:<item id>`. */
  private readonly slotByItemId = new Map<string, string>();
  private readonly callBySlot = new Map<string, CallState>();
  private readonly callByCallId = new Map<string, CallState>();
  private callCount = 0;

  constructor(private readonly opts: ChatStreamOptions) {}

  push(event: ResponseStreamEvent): ChatStreamOutput[] {
    if (this.finished) return [];
    const out: ChatStreamOutput[] = [];
    const slot = this.slotOf(event);
    switch (event.type) {
      case 'response.created':
      case 'response.in_progress':
        this.start(out, event.response);
        break;
      case 'response.output_item.added':
        if (event.item && isToolCallItem(event.item) && event.item.name) this.openCall(out, slot, event.item);
        break;
      case 'response.output_text.delta':
        this.emit(out, { content: this.content.append(slot, event.delta ?? '') });
        break;
      case 'response.refusal.delta':
        this.emit(out, { refusal: this.refusal.append(slot, event.delta ?? '') });
        break;
      case 'response.reasoning_summary_text.delta':
        this.emit(out, { reasoning_content: this.reasoning.append(`${slot}:${event.summary_index ?? 0}`, event.delta ?? '') });
        break;
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta': {
        // A delta for a call we have not seen opened is dropped: its output_item.done
        // (or the terminal output) carries the full arguments and the name we need first.
        const call = this.callBySlot.get(slot);
        if (call) this.appendArgs(out, call, event.delta ?? '');
        break;
      }
      case 'response.output_item.done':
        if (event.item) this.completeItem(out, slot, event.item);
        break;
      case 'response.completed':
      case 'response.incomplete':
        this.finish(out, event.response);
        break;
      case 'response.failed':
        out.push(failedError(event.response));
        this.finished = true;
        break;
      case 'error':
        out.push(eventError(event));
        this.finished = true;
        break;
      default:
        // Lifecycle and upstream-only events (content_part.*, *.done texts, codex.*) add nothing.
        break;
    }
    return out;
  }

  /** The stream ended without a terminal event: tell the client rather than fake a finish. */
  truncated(): ChatStreamError {
    return {
      error: {
        message: 'The upstream stream ended before the response was complete. Retry the request.',
        type: 'server_error',
        code: 'stream_truncated',
        param: null,
      },
    };
  }

  private slotOf(event: ResponseStreamEvent): string {
    const itemId = event.item_id ?? event.item?.id;
    if (typeof event.output_index === 'number') {
      const slot = `#${event.output_index}`;
      if (itemId) this.slotByItemId.set(itemId, slot);
      return slot;
    }
    return (itemId && this.slotByItemId.get(itemId)) ?? `id:${itemId ?? ''}`;
  }

  private start(out: ChatStreamOutput[], response?: ResponseObject): void {
    if (this.started) return;
    this.started = true;
    this.id = this.opts.id ?? (response?.id ? chatCompletionId(response.id) : `chatcmpl-${crypto.randomUUID()}`);
    this.created = this.opts.created ?? response?.created_at ?? Math.floor(Date.now() / 1000);
    out.push(this.chunk({ role: 'assistant', content: '' }));
  }

  private emit(out: ChatStreamOutput[], delta: ChatCompletionDelta): void {
    const hasPayload = Object.values(delta).some((value) => value !== '' && value !== undefined);
    if (!hasPayload) return;
    this.start(out);
    out.push(this.chunk(delta));
  }

  private openCall(out: ChatStreamOutput[], slot: string, item: ResponseItem): CallState {
    const known = this.callBySlot.get(slot) ?? (item.call_id ? this.callByCallId.get(item.call_id) : undefined);
    if (known) {
      this.callBySlot.set(slot, known);
      return known;
    }
    const call: CallState = { index: this.callCount++, args: '' };
    const callId = item.call_id ?? item.id ?? `call_${call.index}`;
    this.callBySlot.set(slot, call);
    this.callByCallId.set(callId, call);
    if (this.opts.legacyFunctions) this.emitFunctionCall(out, call, { name: item.name ?? '', arguments: '' });
    else this.emitToolCall(out, { index: call.index, id: callId, type: 'function', function: { name: item.name ?? '', arguments: '' } });
    return call;
  }

  private appendArgs(out: ChatStreamOutput[], call: CallState, delta: string): void {
    if (delta === '') return;
    call.args += delta;
    if (this.opts.legacyFunctions) this.emitFunctionCall(out, call, { arguments: delta });
    else this.emitToolCall(out, { index: call.index, function: { arguments: delta } });
  }

  /** Legacy form: one function call per reply, so only the first call is sent. */
  private emitFunctionCall(out: ChatStreamOutput[], call: CallState, fragment: { name?: string; arguments?: string }): void {
    if (call.index !== 0) return;
    this.start(out);
    out.push(this.chunk({ function_call: fragment }));
  }

  private emitToolCall(out: ChatStreamOutput[], fragment: ChatToolCallDelta): void {
    this.start(out);
    out.push(this.chunk({ tool_calls: [fragment] }));
  }

  /** Send what a finished item holds beyond what its deltas already sent. */
  private completeItem(out: ChatStreamOutput[], slot: string, item: ResponseItem): void {
    if (isToolCallItem(item)) {
      const call = this.openCall(out, slot, item);
      const full = toolCallArguments(item);
      // Only ever append: a call's id and name are fixed by its first fragment.
      if (full.length > call.args.length && full.startsWith(call.args)) this.appendArgs(out, call, full.slice(call.args.length));
      return;
    }
    if (item.type === 'message') {
      this.emit(out, { content: this.content.complete(slot, messageText(item)) });
      this.emit(out, { refusal: this.refusal.complete(slot, refusalText(item)) });
      return;
    }
    reasoningSummaries(item).forEach((text, part) => {
      this.emit(out, { reasoning_content: this.reasoning.complete(`${slot}:${part}`, text) });
    });
  }

  private finish(out: ChatStreamOutput[], response?: ResponseObject): void {
    // The terminal output is the full answer: reconcile it in case items never streamed.
    (response?.output ?? []).forEach((item, position) => {
      const slot = (item.id && this.slotByItemId.get(item.id)) || (item.id ? `id:${item.id}` : `out#${position}`);
      this.completeItem(out, slot, item);
    });
    this.start(out, response);
    const reason: ChatFinishReason = finishReason(response, this.callCount > 0, this.opts.legacyFunctions);
    out.push(this.chunk({}, reason));
    if (this.opts.includeUsage) out.push({ ...this.chunk({}), choices: [], usage: chatUsage(response?.usage) });
    this.finished = true;
  }

  private chunk(delta: ChatCompletionDelta, finish: ChatFinishReason | null = null): ChatCompletionChunk {
    const chunk: ChatCompletionChunk = {
      id: this.id ?? '',
      object: 'chat.completion.chunk',
      created: this.created ?? 0,
      model: this.opts.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (this.opts.includeUsage) chunk.usage = null;
    return chunk;
  }
}

function failedError(response?: ResponseObject): ChatStreamError {
  const error = response?.error;
  return {
    error: {
      message: error?.message ?? 'The upstream failed to produce a response. Retry the request.',
      type: error?.type ?? 'server_error',
      code: error?.code ?? null,
      param: null,
    },
  };
}

/** `error` events come as `{error:{...}}` (Responses API) or with the fields on the event itself. */
function eventError(event: ResponseStreamEvent): ChatStreamError {
  const error = event.error;
  const code = error?.code ?? event.code;
  return {
    error: {
      message: error?.message ?? event.message ?? 'The upstream reported an error. Retry the request.',
      type: error?.type ?? 'server_error',
      code: typeof code === 'string' ? code : null,
      param: error?.param ?? (typeof event.param === 'string' ? event.param : null),
    },
  };
}

export async function* chatChunksFromEvents(
  events: AsyncIterable<ResponseStreamEvent>,
  opts: ChatStreamOptions,
): AsyncGenerator<ChatCompletionChunk | ChatStreamError> {
  const translator = new ChatStreamTranslator(opts);
  for await (const event of events) {
    yield* translator.push(event);
    // Stop reading at the terminal event or an error: nothing after it belongs to this reply.
    if (translator.finished) return;
  }
  yield translator.truncated();
}

/** One SSE frame. Chat streams use bare `data:` lines; the route appends `data: [DONE]`. */
export function encodeChatSse(chunk: ChatCompletionChunk | ChatStreamError): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}
