import { describe, expect, test } from 'bun:test';
import { parseResponseEvents, parseSse, type SseMessage } from '../../src/stream/sse-parse';
import { collect } from './helpers';

const encoder = new TextEncoder();

/** A body that delivers the given byte chunks, then ends. */
function bodyOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

const textBody = (text: string) => bodyOf([encoder.encode(text)]);

// Every framing feature at once: LF, CRLF and lone CR line ends, a comment, a field without
// the space after the colon, multi-line data, an id that persists, an event without data,
// multi-byte UTF-8 (2, 3 and 4 bytes), and unknown fields.
const WIRE =
  ': keepalive\n\n' +
  'event: response.created\ndata: {"type":"response.created","text":"héllo — 🚀"}\n\n' +
  'event:response.output_text.delta\r\ndata:{"delta":"a"}\r\nid: 7\r\n\r\n' +
  'data: line one\rdata: line two\r\r' +
  'event: no-data\nretry: 100\nfoo: bar\n\n' +
  'data\ndata: after empty\n\n' +
  'event: last\ndata: {"ok":true}\n\n';

const EXPECTED: SseMessage[] = [
  { event: 'response.created', data: '{"type":"response.created","text":"héllo — 🚀"}' },
  { event: 'response.output_text.delta', data: '{"delta":"a"}', id: '7' },
  { data: 'line one\nline two', id: '7' },
  { data: '\nafter empty', id: '7' },
  { event: 'last', data: '{"ok":true}', id: '7' },
];

describe('parseSse', () => {
  test('decodes every SSE framing feature', async () => {
    expect(await collect(parseSse(textBody(WIRE)))).toEqual(EXPECTED);
  });

  test('gives the same events however the bytes are split (every boundary, including inside UTF-8 and CRLF)', async () => {
    const bytes = encoder.encode(WIRE);
    for (let cut = 1; cut < bytes.length; cut++) {
      const messages = await collect(parseSse(bodyOf([bytes.slice(0, cut), bytes.slice(cut)])));
      if (!Bun.deepEquals(messages, EXPECTED)) throw new Error(`split at byte ${cut} gave ${JSON.stringify(messages)}`);
    }
    // And one byte per chunk.
    const oneByOne = [...bytes].map((b) => Uint8Array.of(b));
    expect(await collect(parseSse(bodyOf(oneByOne)))).toEqual(EXPECTED);
  });

  test('a final event without the closing blank line is still delivered', async () => {
    expect(await collect(parseSse(textBody('data: a\n\ndata: {"type":"response.completed"}')))).toEqual([{ data: 'a' }, { data: '{"type":"response.completed"}' }]);
    expect(await collect(parseSse(textBody('data: b\r')))).toEqual([{ data: 'b' }]);
  });

  test('a leading BOM is ignored', async () => {
    expect(await collect(parseSse(bodyOf([Uint8Array.of(0xef, 0xbb, 0xbf), encoder.encode('data: x\n\n')])))).toEqual([{ data: 'x' }]);
  });

  test('return() cancels the body even while a read is pending', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('data: first\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const messages = parseSse(body);
    expect((await messages.next()).value).toEqual({ data: 'first' });
    const pending = messages.next();
    await messages.return(undefined);
    expect(cancelled).toBe(true);
    expect((await pending).done).toBe(true);
  });

  test('breaking out of the loop cancels the body', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(encoder.encode('data: more\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const message of parseSse(body)) {
      expect(message.data).toBe('more');
      break;
    }
    expect(cancelled).toBe(true);
  });
});

describe('parseResponseEvents', () => {
  test('decodes JSON data and skips [DONE] and empty data', async () => {
    const events = await collect(parseResponseEvents(textBody('data: {"type":"a","n":1}\n\ndata:\n\ndata: [DONE]\n\nevent: b\ndata: {"type":"b"}\n\n')));
    expect(events).toEqual([
      { type: 'a', n: 1 },
      { type: 'b' },
    ]);
  });

  test('takes the type from the event line when the JSON has none', async () => {
    expect(await collect(parseResponseEvents(textBody('event: response.in_progress\ndata: {"response":{}}\n\n')))).toEqual([{ type: 'response.in_progress', response: {} } as never]);
  });

  test('malformed JSON throws a descriptive error', async () => {
    const events = parseResponseEvents(textBody('data: {"type":"ok"}\n\nevent: response.output_text.delta\ndata: {"type": oops}\n\n'));
    expect((await events.next()).value).toEqual({ type: 'ok' });
    const error = await events.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^Malformed JSON in upstream SSE event 'response.output_text.delta': .*Data begins: .*oops/);
  });

  test('JSON that is not an event object throws', async () => {
    await expect(collect(parseResponseEvents(textBody('data: [1,2]\n\n')))).rejects.toThrow(/not a JSON object/);
    await expect(collect(parseResponseEvents(textBody('data: {"x":1}\n\n')))).rejects.toThrow(/no 'type'/);
  });

  test('return() reaches the body', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('data: {"type":"a"}\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const events = parseResponseEvents(body);
    await events.next();
    const pending = events.next();
    await events.return(undefined);
    expect(cancelled).toBe(true);
    expect((await pending).done).toBe(true);
  });
});
