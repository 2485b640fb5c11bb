/**
 * The kinds of parts that stream inside output items, and how each one streams:
 * which list of the item holds it, which index field addresses it, which events open,
 * fill and close it. Message text, refusals and raw reasoning live in `content`
 * (`content_index`); reasoning summaries live in `summary` (`summary_index`).
 */
import type { ContentPart, ResponseStreamEvent } from '../openai/responses-types';

/** How one kind of part streams: its list on the item, its index field, its events. */
export interface PartKind {
  partType: string;
  itemType: 'message' | 'reasoning';
  list: 'content' | 'summary';
  indexField: 'content_index' | 'summary_index';
  added: string;
  done: string;
  /** Text events; absent for part types that carry no streamed text. */
  text?: { field: 'text' | 'refusal'; delta: string; done: string };
}

export const OUTPUT_TEXT: PartKind = {
  partType: 'output_text',
  itemType: 'message',
  list: 'content',
  indexField: 'content_index',
  added: 'response.content_part.added',
  done: 'response.content_part.done',
  text: { field: 'text', delta: 'response.output_text.delta', done: 'response.output_text.done' },
};
export const REFUSAL: PartKind = {
  ...OUTPUT_TEXT,
  partType: 'refusal',
  text: { field: 'refusal', delta: 'response.refusal.delta', done: 'response.refusal.done' },
};
export const REASONING_TEXT: PartKind = {
  ...OUTPUT_TEXT,
  partType: 'reasoning_text',
  itemType: 'reasoning',
  text: { field: 'text', delta: 'response.reasoning_text.delta', done: 'response.reasoning_text.done' },
};
export const SUMMARY_TEXT: PartKind = {
  partType: 'summary_text',
  itemType: 'reasoning',
  list: 'summary',
  indexField: 'summary_index',
  added: 'response.reasoning_summary_part.added',
  done: 'response.reasoning_summary_part.done',
  text: { field: 'text', delta: 'response.reasoning_summary_text.delta', done: 'response.reasoning_summary_text.done' },
};

/** A message part of a type without text events (e.g. audio): passed through as given. */
function opaqueKind(partType: string): PartKind {
  const { text: _text, ...kind } = OUTPUT_TEXT;
  return { ...kind, partType };
}

export function messagePartKind(partType: unknown): PartKind {
  if (partType === undefined || partType === 'output_text') return OUTPUT_TEXT;
  if (partType === 'refusal') return REFUSAL;
  if (partType === 'reasoning_text') return REASONING_TEXT;
  return opaqueKind(String(partType));
}

export type PartRole = 'added' | 'done' | 'delta' | 'text_done' | 'other';

/** Which part kind and role an item-scoped event has, if it is a part event. */
export function partEvent(event: ResponseStreamEvent): { kind: PartKind; role: PartRole } | undefined {
  switch (event.type) {
    case 'response.content_part.added':
      return { kind: messagePartKind(event.part?.type), role: 'added' };
    case 'response.content_part.done':
      return { kind: messagePartKind(event.part?.type), role: 'done' };
    case 'response.reasoning_summary_part.added':
      return { kind: SUMMARY_TEXT, role: 'added' };
    case 'response.reasoning_summary_part.done':
      return { kind: SUMMARY_TEXT, role: 'done' };
  }
  for (const kind of [OUTPUT_TEXT, REFUSAL, REASONING_TEXT, SUMMARY_TEXT]) {
    if (event.type === kind.text?.delta) return { kind, role: 'delta' };
    if (event.type === kind.text?.done) return { kind, role: 'text_done' };
  }
  if (event.type === 'response.output_text.annotation.added') return { kind: OUTPUT_TEXT, role: 'other' };
  return undefined;
}

export function partText(part: ContentPart | undefined, kind: PartKind): string | undefined {
  const value = kind.text && part ? part[kind.text.field] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export function emptyPart(kind: PartKind): ContentPart {
  switch (kind.partType) {
    case 'output_text':
      return { type: 'output_text', text: '', annotations: [] };
    case 'refusal':
      return { type: 'refusal', refusal: '' };
    default:
      return { type: kind.partType, text: '' };
  }
}
