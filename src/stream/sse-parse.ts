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

/**
 * The synchronous core: bytes in, SSE messages out. Chunks may split anywhere; call
 * end() when the body ends to flush what is left.
 */
export class SseDecoder {
  // TextDecoder in streaming mode keeps a split multi-byte character until its rest arrives,
  // and drops a leading BOM as the spec asks.
  private readonly decoder = new TextDecoder('utf-8');
  private readonly event = new EventBuilder();
  private readonly eol = /[\r\n]/g;
  private buffer = '';
  // buffer[0, scanned) is known to hold no line break: a long data line (a base64 image can be
  // megabytes) arriving in many chunks is then scanned once, not once per chunk.
  private scanned = 0;

  push(chunk: Uint8Array, out: SseMessage[] = []): SseMessage[] {
    return this.take(this.decoder.decode(chunk, { stream: true }), false, out);
  }

  end(out: SseMessage[] = []): SseMessage[] {
    this.take(this.decoder.decode(), true, out);
    // The spec discards an event that was not closed by a blank line. We flush it instead,
    // as openai-node does: losing a terminal event because a proxy dropped the final blank
    // line would turn a finished response into a failure.
    if (this.buffer !== '') {
      const message = this.event.line(this.buffer);
      if (message) out.push(message);
      this.buffer = '';
    }
    const last = this.event.line('');
    if (last) out.push(last);
    return out;
  }

  private take(text: string, done: boolean, out: SseMessage[]): SseMessage[] {
    const buffer = this.buffer + text;
    const eol = this.eol;
    let start = 0;
    eol.lastIndex = this.scanned;
    while (true) {
      const match = eol.exec(buffer);
      if (!match) {
        this.scanned = buffer.length - start;
        break;
      }
      const end = match.index;
      const isCr = buffer.charCodeAt(end) === 13;
      // A CR at the very end may be the first half of a CRLF split across chunks: wait for more.
      if (isCr && end === buffer.length - 1 && !done) {
        this.scanned = end - start;
        break;
      }
      const line = buffer.slice(start, end);
      start = end + (isCr && buffer.charCodeAt(end + 1) === 10 ? 2 : 1);
      eol.lastIndex = start;
      const message = this.event.line(line);
      if (message) out.push(message);
    }
    this.buffer = start === 0 ? buffer : buffer.slice(start);
    return out;
  }
}

/** Bytes in, the upstream's Responses events out (see decodeEvent), synchronously. */
export class ResponseEventDecoder {
  private readonly sse = new SseDecoder();
  private readonly messages: SseMessage[] = [];

  push(chunk: Uint8Array): ResponseStreamEvent[] {
    return this.events(this.sse.push(chunk, this.messages));
  }

  end(): ResponseStreamEvent[] {
    return this.events(this.sse.end(this.messages));
  }

  private events(messages: SseMessage[]): ResponseStreamEvent[] {
    const out: ResponseStreamEvent[] = [];
    for (const message of messages) {
      const data = message.data.trim();
      if (data === '' || data === '[DONE]') continue;
      out.push(decodeEvent(data, message.event));
    }
    messages.length = 0;
    return out;
  }
}

async function* decode(reader: ByteReader, isCancelled: () => boolean): AsyncGenerator<SseMessage, void, undefined> {
  const decoder = new SseDecoder();
  let finished = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (isCancelled()) return;
      const messages = done ? decoder.end() : decoder.push(value);
      for (const message of messages) yield message;
      if (done) {
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

export function decodeEvent(data: string, eventName: string | undefined): ResponseStreamEvent {
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
