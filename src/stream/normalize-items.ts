/**
 * Output items of one normalized stream: the part of normalize.ts that decides
 * which item every item-scoped event belongs to and re-emits a sequence the strict
 * clients accept.
 *
 * The model it enforces (the openai-node ≥ 7.5 accumulator's rules, and what Codex,
 * Hermes and the AI SDK read):
 * - `output_item.added` opens an item as an empty shell (no content, summary,
 *   arguments or input yet) at the next `output_index`, with a unique non-empty `id`
 *   (and `call_id` for tool calls); everything it contains then arrives as events;
 * - parts are opened by `content_part.added` / `reasoning_summary_part.added` at the
 *   next index before any delta targets them;
 * - every item-scoped event carries the item's `output_index` and `item_id`;
 * - `output_item.done` closes the item; any text, arguments or parts its final form has
 *   that were never streamed are emitted first as deltas, so a client that only reads
 *   deltas and a client that only reads `output_item.done` see the same content.
 *
 * Upstream indexes are only used to find items: the ChatGPT backend skips output
 * indexes, omits ids, and may send an item only as `output_item.done`.
 */
import type { ContentPart, ResponseItem, ResponseStreamEvent } from '../openai/responses-types';
import { CONTENT_PART_EVENT_TYPES, ITEM_EVENT_TARGETS } from './event-types';
import { newCallId, newItemId } from './ids';
import { emptyPart, messagePartKind, partEvent, partText, REASONING_TEXT, SUMMARY_TEXT, type PartKind, type PartRole } from './part-kinds';

type Emit = (event: ResponseStreamEvent) => void;

interface PartTrack {
  kind: PartKind;
  /** The part as last emitted (its text kept current). */
  part: ContentPart;
  text: string;
  textDone: boolean;
  partDone: boolean;
}

interface ItemTrack {
  index: number;
  id: string;
  type: string;
  callId?: string;
  /** The upstream's own id for this item, if it had one (events refer to it). */
  upstreamId?: string;
  shell: ResponseItem;
  parts: { content: PartTrack[]; summary: PartTrack[] };
  /** Upstream part index → ours, per list. */
  partIndex: { content: Map<number, number>; summary: Map<number, number> };
  /** Streamed function-call arguments or custom-tool input. */
  args: string;
  argsDone: boolean;
  final?: ResponseItem;
}

/** Item types whose identity includes `call_id` in the strict accumulator. */
const CALL_ID_TYPES = new Set(['function_call', 'custom_tool_call', 'shell_call', 'shell_call_output']);
/** Item types whose `status` is in_progress until done, then completed. */
const STATUS_TYPES = new Set(['message', 'function_call', 'custom_tool_call']);
/** Tool calls whose argument text streams, and the events it streams with. */
const ARG_STREAMS: Readonly<Record<string, { field: 'arguments' | 'input'; delta: string; done: string }>> = {
  function_call: { field: 'arguments', delta: 'response.function_call_arguments.delta', done: 'response.function_call_arguments.done' },
  custom_tool_call: { field: 'input', delta: 'response.custom_tool_call_input.delta', done: 'response.custom_tool_call_input.done' },
};

/**
 * A content part with the fields the spec requires of its type: `output_text` carries
 * `annotations` and `logprobs` (the ChatGPT backend sometimes omits both).
 */
function completePart(part: ContentPart): ContentPart {
  if (part.type !== 'output_text') return part;
  if (Array.isArray(part.annotations) && Array.isArray(part.logprobs)) return part;
  return { ...part, annotations: Array.isArray(part.annotations) ? part.annotations : [], logprobs: Array.isArray(part.logprobs) ? part.logprobs : [] };
}

/** Text events of output_text parts carry `logprobs` (required by the spec's delta and done events). */
function withLogprobs(event: ResponseStreamEvent, kind: PartKind): ResponseStreamEvent {
  return kind.partType === 'output_text' && !Array.isArray(event.logprobs) ? { ...event, logprobs: [] } : event;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function indexOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export class OutputItems {
  private readonly items: ItemTrack[] = [];
  private readonly byUpstreamIndex = new Map<number, ItemTrack>();
  private readonly byUpstreamId = new Map<string, ItemTrack>();
  private readonly usedIds = new Set<string>();

  constructor(private readonly emit: Emit) {}

  get count(): number {
    return this.items.length;
  }

  /** Items closed by `output_item.done`, in output order: the terminal response's `output`. */
  finishedOutput(): ResponseItem[] {
    return this.items.flatMap((item) => (item.final ? [item.final] : []));
  }

  /** Whether an item the upstream names by this id was already seen. */
  knows(upstreamId: string): boolean {
    return this.byUpstreamId.has(upstreamId) || this.usedIds.has(upstreamId);
  }

  added(event: ResponseStreamEvent): void {
    const item = event.item;
    if (!item || !nonEmpty(item.type)) return;
    this.open(item, event);
  }

  done(event: ResponseStreamEvent): void {
    const item = event.item;
    if (!item || !nonEmpty(item.type)) return;
    const upstreamIndex = indexOf(event.output_index);
    let track = (upstreamIndex !== undefined ? this.byUpstreamIndex.get(upstreamIndex) : undefined) ?? (nonEmpty(item.id) ? this.byUpstreamId.get(item.id) : undefined);
    if (!track && upstreamIndex === undefined && !nonEmpty(item.id)) track = this.currentOpen(item.type);
    if (track?.final) {
      // The same item closed twice is dropped; a new item reusing an index is a new item.
      const sameItem = track.type === item.type && (!nonEmpty(item.id) || item.id === track.upstreamId || item.id === track.id);
      if (sameItem) return;
      track = undefined;
    }
    if (track && track.type !== item.type) track = undefined;
    // An item the upstream only ever sent as done (Codex fixture style): open it first,
    // with its content as deltas, so delta readers and Codex (which needs the item added
    // before its deltas) see it like any other.
    track ??= this.open(item, { ...event, type: 'response.output_item.added' });
    this.close(track, item, event);
  }

  /** An event that targets an item (deltas, part lifecycle, tool-call progress). */
  scoped(event: ResponseStreamEvent): void {
    const part = partEvent(event);
    const targetType = part?.kind.itemType ?? ITEM_EVENT_TARGETS[event.type];
    if (!targetType) return;
    const track = this.resolve(event, targetType);
    if (!track || track.final) return; // unknown target or an event after done: strict clients reject both
    if (part) {
      this.partEvent(track, part.kind, part.role, event);
      return;
    }
    const args = ARG_STREAMS[track.type];
    if (args && event.type === args.delta) {
      if (track.argsDone) return;
      const delta = typeof event.delta === 'string' ? event.delta : '';
      track.args += delta;
      this.emit({ ...event, output_index: track.index, item_id: track.id, delta });
      return;
    }
    if (args && event.type === args.done) {
      this.finishArgs(track, typeof event[args.field] === 'string' ? (event[args.field] as string) : track.args, event);
      return;
    }
    this.emit({ ...event, output_index: track.index, item_id: track.id });
  }

  /**
   * Closes every item still open when the response ends (`completed` / `incomplete`),
   * from what was streamed, so the terminal `output` holds every item the client saw.
   */
  closeOpen(status: 'completed' | 'incomplete'): void {
    for (const track of this.items) {
      if (track.final) continue;
      this.close(track, { ...this.snapshot(track), status }, undefined);
    }
  }

  // ---- opening and closing items ----

  private open(item: ResponseItem, event: ResponseStreamEvent): ItemTrack {
    const id = nonEmpty(item.id) && !this.usedIds.has(item.id) ? item.id : newItemId(item.type);
    this.usedIds.add(id);
    const track: ItemTrack = {
      index: this.items.length,
      id,
      type: item.type,
      upstreamId: nonEmpty(item.id) ? item.id : undefined,
      shell: item,
      parts: { content: [], summary: [] },
      partIndex: { content: new Map(), summary: new Map() },
      args: '',
      argsDone: false,
    };
    if (CALL_ID_TYPES.has(item.type)) track.callId = nonEmpty(item.call_id) ? item.call_id : newCallId();
    track.shell = this.shellOf(item, track);
    this.items.push(track);
    const upstreamIndex = indexOf(event.output_index);
    if (upstreamIndex !== undefined) this.byUpstreamIndex.set(upstreamIndex, track);
    if (track.upstreamId) this.byUpstreamId.set(track.upstreamId, track);
    this.emit({ ...event, type: 'response.output_item.added', output_index: track.index, item: track.shell });
    // Whatever the item already holds streams now as events. (From `added` this is the
    // rare upstream that pre-fills items; from `done` it is the item's whole content.)
    this.prefill(track, item);
    return track;
  }

  /** The item as `output_item.added` shows it: identity and metadata, nothing streamed yet. */
  private shellOf(item: ResponseItem, track: ItemTrack): ResponseItem {
    const shell: ResponseItem = { ...item, id: track.id };
    delete shell.result; // an image's base64 belongs to the finished item only
    if (track.callId !== undefined) shell.call_id = track.callId;
    if (STATUS_TYPES.has(item.type) || 'status' in item) shell.status = 'in_progress';
    if (item.type === 'message') {
      shell.role = nonEmpty(item.role) ? item.role : 'assistant';
      shell.content = [];
    }
    if (item.type === 'reasoning') {
      shell.summary = [];
      if (Array.isArray(item.content)) shell.content = [];
    }
    const args = ARG_STREAMS[item.type];
    if (args) shell[args.field] = '';
    return shell;
  }

  private prefill(track: ItemTrack, item: ResponseItem): void {
    const lists: Array<['content' | 'summary', unknown]> = [];
    if (track.type === 'message') lists.push(['content', item.content]);
    if (track.type === 'reasoning') lists.push(['summary', item.summary]);
    for (const [list, parts] of lists) {
      if (!Array.isArray(parts)) continue;
      parts.forEach((part: unknown, upstreamIndex) => {
        if (typeof part !== 'object' || part === null) return;
        const given = part as ContentPart;
        const kind = list === 'summary' ? SUMMARY_TEXT : messagePartKind(given.type);
        // Text parts open empty and receive their text as a delta; other parts open as they are.
        const opened = this.openPart(track, kind, kind.text ? undefined : given);
        track.partIndex[list].set(upstreamIndex, track.parts[list].length - 1);
        this.streamText(track, opened, partText(given, kind) ?? '');
      });
    }
    const args = ARG_STREAMS[track.type];
    const initial = args ? item[args.field] : undefined;
    if (args && nonEmpty(initial)) {
      track.args = initial;
      this.emit({ type: args.delta, output_index: track.index, item_id: track.id, delta: initial });
    }
  }

  private close(track: ItemTrack, item: ResponseItem, event: ResponseStreamEvent | undefined): void {
    const final: ResponseItem = { ...item, id: track.id, type: track.type };
    if (track.callId !== undefined) final.call_id = track.callId;
    if (STATUS_TYPES.has(track.type) && !nonEmpty(final.status)) final.status = 'completed';
    if (track.type === 'message') final.content = this.closeParts(track, 'content', item.content);
    if (track.type === 'reasoning') {
      final.summary = this.closeParts(track, 'summary', item.summary);
      if (track.parts.content.length > 0) {
        const closed = this.closeParts(track, 'content', item.content);
        if (!Array.isArray(item.content) || item.content.length === 0) final.content = closed;
      }
    }
    const args = ARG_STREAMS[track.type];
    if (args) {
      // A shell opened without the name (it came only with the finished item) gets it now, for the arguments' done event.
      if (!nonEmpty(track.shell.name) && nonEmpty(item.name)) track.shell = { ...track.shell, name: item.name };
      const value = item[args.field];
      final[args.field] = this.finishArgs(track, typeof value === 'string' ? value : track.args, undefined);
    }
    track.final = final;
    this.emit({ ...(event ?? {}), type: 'response.output_item.done', output_index: track.index, item: final });
  }

  /** Closes the tracked parts of one list against the final item's parts; returns the final list. */
  private closeParts(track: ItemTrack, list: 'content' | 'summary', finalParts: unknown): ContentPart[] {
    const given = Array.isArray(finalParts) ? finalParts.filter((p): p is ContentPart => typeof p === 'object' && p !== null) : [];
    const tracked = track.parts[list];
    const count = Math.max(given.length, tracked.length);
    for (let i = 0; i < count; i++) {
      const finalPart = given[i];
      let part = tracked[i];
      if (!part) {
        // A final part never streamed (only possible for content lists; prefill covered the rest).
        if (list === 'summary') part = this.openPart(track, SUMMARY_TEXT, undefined);
        else {
          const kind = track.type === 'reasoning' ? REASONING_TEXT : messagePartKind(finalPart?.type);
          part = this.openPart(track, kind, kind.text ? undefined : finalPart);
        }
      }
      const matches = finalPart !== undefined && finalPart.type === part.kind.partType;
      this.closePart(track, part, matches ? finalPart : undefined);
    }
    // The upstream's final list wins when it has one; a slim done item gets what was streamed.
    return given.length > 0 ? given.map(completePart) : tracked.map((p) => p.part);
  }

  // ---- parts ----

  private partEvent(track: ItemTrack, kind: PartKind, role: PartRole, event: ResponseStreamEvent): void {
    const list = track.parts[kind.list];
    const map = track.partIndex[kind.list];
    const upstreamIndex = indexOf(event[kind.indexField]);
    if (role === 'added') {
      if (upstreamIndex !== undefined && map.has(upstreamIndex)) return; // opened twice
      const part = event.part && typeof event.part === 'object' ? event.part : undefined;
      const opened = this.openPart(track, kind, part, event);
      if (upstreamIndex !== undefined) map.set(upstreamIndex, list.indexOf(opened));
      return;
    }
    let ours = upstreamIndex !== undefined ? map.get(upstreamIndex) : list.length > 0 ? list.length - 1 : undefined;
    if (ours === undefined) {
      // Deltas for a part that was never opened: open it, or strict clients fail on "missing content".
      const opened = this.openPart(track, kind, undefined);
      ours = list.indexOf(opened);
      if (upstreamIndex !== undefined) map.set(upstreamIndex, ours);
    }
    const part = list[ours];
    if (part.kind.partType !== kind.partType || part.partDone) return;
    const routing = { output_index: track.index, item_id: track.id, [kind.indexField]: ours };
    switch (role) {
      case 'delta': {
        if (part.textDone || !kind.text) return;
        const delta = typeof event.delta === 'string' ? event.delta : '';
        part.text += delta;
        part.part = { ...part.part, [kind.text.field]: part.text };
        this.emit(withLogprobs({ ...event, ...routing, delta }, kind));
        return;
      }
      case 'text_done': {
        if (part.textDone || !kind.text) return;
        const text = event[kind.text.field];
        this.finishText(track, part, typeof text === 'string' ? text : part.text, event);
        return;
      }
      case 'done': {
        this.closePart(track, part, event.part, event);
        return;
      }
      default:
        this.emit({ ...event, ...routing });
    }
  }

  private openPart(track: ItemTrack, kind: PartKind, given: ContentPart | undefined, event?: ResponseStreamEvent): PartTrack {
    const list = track.parts[kind.list];
    let part: ContentPart = given ? { ...given } : emptyPart(kind);
    part = completePart(part);
    if (kind.text && typeof part[kind.text.field] !== 'string') part = { ...part, [kind.text.field]: '' };
    const track_: PartTrack = { kind, part, text: partText(part, kind) ?? '', textDone: false, partDone: false };
    list.push(track_);
    this.emit({ ...(event ?? {}), type: kind.added, output_index: track.index, item_id: track.id, [kind.indexField]: list.length - 1, part });
    return track_;
  }

  /** Appends text to an open part as one delta. */
  private streamText(track: ItemTrack, part: PartTrack, text: string): void {
    if (!part.kind.text || text === '') return;
    part.text += text;
    part.part = { ...part.part, [part.kind.text.field]: part.text };
    const index = track.parts[part.kind.list].indexOf(part);
    this.emit(withLogprobs({ type: part.kind.text.delta, output_index: track.index, item_id: track.id, [part.kind.indexField]: index, delta: text }, part.kind));
  }

  /** Emits the text `done` event, preceded by a delta for any final text not yet streamed. */
  private finishText(track: ItemTrack, part: PartTrack, finalText: string, event?: ResponseStreamEvent): void {
    const kind = part.kind;
    if (!kind.text || part.textDone) return;
    if (finalText.length > part.text.length && finalText.startsWith(part.text)) this.streamText(track, part, finalText.slice(part.text.length));
    part.text = finalText;
    part.part = { ...part.part, [kind.text.field]: finalText };
    part.textDone = true;
    const index = track.parts[kind.list].indexOf(part);
    this.emit(withLogprobs({ ...(event ?? {}), type: kind.text.done, output_index: track.index, item_id: track.id, [kind.indexField]: index, [kind.text.field]: finalText }, kind));
  }

  private closePart(track: ItemTrack, part: PartTrack, finalPart: ContentPart | undefined, event?: ResponseStreamEvent): void {
    if (part.partDone) return;
    const kind = part.kind;
    if (kind.text) this.finishText(track, part, partText(finalPart, kind) ?? part.text);
    if (finalPart && finalPart.type === kind.partType) part.part = completePart(kind.text ? { ...part.part, ...finalPart, [kind.text.field]: part.text } : { ...finalPart });
    part.partDone = true;
    const index = track.parts[kind.list].indexOf(part);
    this.emit({ ...(event ?? {}), type: kind.done, output_index: track.index, item_id: track.id, [kind.indexField]: index, part: part.part });
  }

  // ---- tool-call arguments ----

  /** Emits the arguments/input `done`, preceded by a delta for any part not yet streamed; returns the final text. */
  private finishArgs(track: ItemTrack, finalText: string, event: ResponseStreamEvent | undefined): string {
    const args = ARG_STREAMS[track.type];
    if (!args || track.argsDone) return track.args;
    if (finalText.length > track.args.length && finalText.startsWith(track.args)) {
      this.emit({ type: args.delta, output_index: track.index, item_id: track.id, delta: finalText.slice(track.args.length) });
    }
    track.args = finalText;
    track.argsDone = true;
    const done: ResponseStreamEvent = { ...(event ?? {}), type: args.done, output_index: track.index, item_id: track.id, [args.field]: finalText };
    // The spec requires the function's name on function_call_arguments.done; the ChatGPT backend omits it.
    const name = nonEmpty(event?.name) ? event.name : track.shell.name;
    if (track.type === 'function_call' && nonEmpty(name)) done.name = name;
    this.emit(done);
    return finalText;
  }

  // ---- lookup ----

  /** The item an event targets: by the upstream's output_index, then its item_id, then the open item. */
  private resolve(event: ResponseStreamEvent, targetType: string): ItemTrack | undefined {
    const upstreamIndex = indexOf(event.output_index);
    const upstreamId = nonEmpty(event.item_id) ? event.item_id : undefined;
    const found = (upstreamIndex !== undefined ? this.byUpstreamIndex.get(upstreamIndex) : undefined) ?? (upstreamId ? this.byUpstreamId.get(upstreamId) : undefined);
    if (found) return found.type === targetType ? found : undefined;
    if (upstreamIndex === undefined && upstreamId === undefined) {
      const open = this.currentOpen(targetType);
      if (open) return open;
    }
    // Text or reasoning for an item that was never added: open one so the text is not lost.
    if (targetType !== 'message' && targetType !== 'reasoning') return undefined;
    const shell: ResponseItem = targetType === 'message' ? { type: 'message', role: 'assistant', content: [] } : { type: 'reasoning', summary: [] };
    if (upstreamId) shell.id = upstreamId;
    return this.open(shell, { type: 'response.output_item.added', output_index: upstreamIndex });
  }

  /** The most recently added item still open, if it has the wanted type. */
  private currentOpen(type: string): ItemTrack | undefined {
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i];
      if (item.final) continue;
      return item.type === type ? item : undefined;
    }
    return undefined;
  }

  /** What an open item holds so far, as an item. */
  private snapshot(track: ItemTrack): ResponseItem {
    const item: ResponseItem = { ...track.shell };
    if (track.type === 'message') item.content = track.parts.content.map((p) => p.part);
    if (track.type === 'reasoning') {
      item.summary = track.parts.summary.map((p) => p.part);
      if (track.parts.content.length > 0) item.content = track.parts.content.map((p) => p.part);
    }
    const args = ARG_STREAMS[track.type];
    if (args) item[args.field] = track.args;
    return item;
  }
}

/** Whether an event type is routed through OutputItems.scoped. */
export function isItemScoped(type: string): boolean {
  return CONTENT_PART_EVENT_TYPES.has(type) || type in ITEM_EVENT_TARGETS;
}
