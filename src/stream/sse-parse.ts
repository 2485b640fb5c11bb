/**
 * Server-sent events decoding (WHATWG HTML §9.2 "event stream interpretation")
 * and, on top of it, the Responses event stream the upstreams send.
 *
 * Chunks from the network split anywhere: inside a line, between CR and LF, or in
 * the middle of a multi-byte UTF-8 character, so decoding is incremental.
 */
import type { ResponseStreamEvent } from '../openai/responses-types';
import { eagerReturn } from './eager-return';

export interface SseMessage {
  event?: string;
  data: string;
  id?: string;
}

/**
 * Yields one message per dispatched SSE event. `return()` cancels the body's
 * reader at once, which aborts the underlying fetch.
 */
export function parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage, void, undefined> {
  const reader = body.getReader();
  let cancelled = false;
  const cancel = (): Promise<void> => {
    cancelled = true;
    return reader.cancel();
  };
  return eagerReturn(decode(reader, () => cancelled), cancel);
}

/** The part of a stream reader decode() uses (Bun's DOM and node:stream/web reader types differ). */
interface ByteReader {
  read(): Promise<{ done: true; value?: Uint8Array } | { done: false; value: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

async function* decode(reader: ByteReader, isCancelled: () => boolean): AsyncGenerator<SseMessage, void, undefined> {
  // TextDecoder in streaming mode keeps a split multi-byte character until its rest arrives,
  // and drops a leading BOM as the spec asks.
  const decoder = new TextDecoder('utf-8');
  const event = new EventBuilder();
  const eol = /[\r\n]/g;
  let buffer = '';
  // buffer[0, scanned) is known to hold no line break: a long data line (a base64 image can be
  // megabytes) arriving in many chunks is then scanned once, not once per chunk.
  let scanned = 0;
  let finished = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (isCancelled()) return;
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      eol.lastIndex = scanned;
      while (true) {
        const match = eol.exec(buffer);
        if (!match) {
          scanned = buffer.length - start;
          break;
        }
        const end = match.index;
        const isCr = buffer.charCodeAt(end) === 13;
        // A CR at the very end may be the first half of a CRLF split across chunks: wait for more.
        if (isCr && end === buffer.length - 1 && !done) {
          scanned = end - start;
          break;
        }
        const line = buffer.slice(start, end);
        start = end + (isCr && buffer.charCodeAt(end + 1) === 10 ? 2 : 1);
        eol.lastIndex = start;
        const message = event.line(line);
        if (message) yield message;
      }
      buffer = buffer.slice(start);
      if (done) {
        // The spec discards an event that was not closed by a blank line. We flush it instead,
        // as openai-node does: losing a terminal event because a proxy dropped the final blank
        // line would turn a finished response into a failure.
        if (buffer !== '') {
          const message = event.line(buffer);
          if (message) yield message;
        }
        const last = event.line('');
        if (last) yield last;
        finished = true;
        return;
      }
    }
  } finally {
    // Ending early (consumer return, or an error while yielding) must stop the upstream body.
    if (!finished && !isCancelled()) await reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
}

/** Accumulates fields line by line; a blank line dispatches. */
class EventBuilder {
  private data: string[] = [];
  private type: string | undefined;
  private lastId: string | undefined;

  line(line: string): SseMessage | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null; // comment (keep-alives)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        // The spec ignores ids containing NULL; the last id persists across events.
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields do not concern a one-shot consumer.
        break;
    }
    return null;
  }

  private dispatch(): SseMessage | null {
    const type = this.type;
    this.type = undefined;
    if (this.data.length === 0) return null;
    const data = this.data.join('\n');
    this.data = [];
    const message: SseMessage = { data };
    if (type !== undefined && type !== '') message.event = type;
    if (this.lastId !== undefined) message.id = this.lastId;
    return message;
  }
}

/**
 * The upstream's Responses events: the JSON in each `data:`. `[DONE]` and empty data
 * are skipped (some proxies add them); anything else that is not a JSON object is an error,
 * because guessing would hide a broken upstream.
 */
export function parseResponseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ResponseStreamEvent, void, undefined> {
  const messages = parseSse(body);
  return eagerReturn(toEvents(messages), () => messages.return(undefined));
}

async function* toEvents(messages: AsyncGenerator<SseMessage, void, undefined>): AsyncGenerator<ResponseStreamEvent, void, undefined> {
  try {
    for await (const message of messages) {
      const data = message.data.trim();
      if (data === '' || data === '[DONE]') continue;
      yield decodeEvent(data, message.event);
    }
  } finally {
    await messages.return(undefined);
  }
}

function decodeEvent(data: string, eventName: string | undefined): ResponseStreamEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Malformed JSON in upstream SSE event${eventName ? ` '${eventName}'` : ''}: ${reason}. Data begins: ${JSON.stringify(data.slice(0, 200))}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`Upstream SSE event${eventName ? ` '${eventName}'` : ''} is not a JSON object. Data begins: ${JSON.stringify(data.slice(0, 200))}`);
  }
  const event = parsed as ResponseStreamEvent;
  // Some servers put the type only in the `event:` line; the JSON `type` is what everyone else reads.
  if (typeof event.type !== 'string' && eventName) return { ...event, type: eventName };
  if (typeof event.type !== 'string') {
    throw new Error(`Upstream SSE event has no 'type'. Data begins: ${JSON.stringify(data.slice(0, 200))}`);
  }
  return event;
}
