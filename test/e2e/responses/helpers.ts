/**
 * Shared helpers of the /v1/responses end-to-end suite (responses-sdk, responses-hermes,
 * responses-faults): raw SSE reading with arrival times, a real PNG encoder, the
 * Responses event-stream contract checks, scripted upstream streams with chosen
 * usage numbers, and a read-only view of CodexIn's usage table.
 */
import { Database } from 'bun:sqlite';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { expect } from 'bun:test';
import type { E2EStack } from '../../support/stack';
import type { RecordedRequest } from '../../../src/upstream/mock';

export const MODEL = 'gpt-5.5';

export type Json = Record<string, any>;

// ---------------------------------------------------------------------------
// Raw HTTP + SSE

export function postResponses(stack: E2EStack, key: string, body: unknown, init: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${stack.baseUrl}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify(body),
    signal: init.signal,
  });
}

/** One SSE frame as it arrived: an event (`event:` + `data:`) or a comment line (`: keepalive`). */
export type SseFrame =
  | { kind: 'event'; event: string | undefined; data: Json; raw: string; at: number }
  | { kind: 'comment'; text: string; at: number };

/**
 * Reads an SSE body frame by frame (WHATWG framing: blank-line separated blocks,
 * `:` comments), stamping each frame with its arrival time.
 */
export async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<SseFrame> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      buffer = buffer.replace(/\r\n?/g, '\n');
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        yield* parseBlock(block);
      }
      if (done) {
        if (buffer.trim() !== '') yield* parseBlock(buffer);
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function* parseBlock(block: string): Generator<SseFrame> {
  const at = Date.now();
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      yield { kind: 'comment', text: line.slice(1).trim(), at };
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return;
  const raw = data.join('\n');
  yield { kind: 'event', event, data: JSON.parse(raw) as Json, raw, at };
}

export async function readAllFrames(res: Response): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  for await (const f of sseFrames(res.body!)) frames.push(f);
  return frames;
}

export function eventsOf(frames: SseFrame[]): Json[] {
  return frames.filter((f): f is Extract<SseFrame, { kind: 'event' }> => f.kind === 'event').map((f) => f.data);
}

// ---------------------------------------------------------------------------
// Stream contract (client-traffic.md §0.2, §2.2)

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * The checks every Responses SSE stream must pass, whatever it carries:
 * `event:` name equals the JSON `type`, sequence numbers 0..n-1, `response.created`
 * first, exactly one terminal event and it is last, no upstream-only (`codex.*`) event,
 * output items added in order with non-empty ids, and an `output_item.done` per added item.
 * Returns the events.
 */
export function expectWellFormedStream(frames: SseFrame[]): Json[] {
  const eventFrames = frames.filter((f): f is Extract<SseFrame, { kind: 'event' }> => f.kind === 'event');
  for (const f of eventFrames) expect(f.event).toBe(f.data.type);
  const events = eventFrames.map((f) => f.data);
  expect(events.length).toBeGreaterThan(2);
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  expect(events[0]!.type).toBe('response.created');
  expect(events.filter((e) => TERMINAL.has(e.type)).length).toBe(1);
  expect(TERMINAL.has(events[events.length - 1]!.type)).toBe(true);
  expect(events.filter((e) => typeof e.type !== 'string' || e.type.startsWith('codex.') || !/^(response\.|error$)/.test(e.type))).toEqual([]);
  const added = events.filter((e) => e.type === 'response.output_item.added');
  expect(added.map((e) => e.output_index)).toEqual(added.map((_, i) => i));
  const done = events.filter((e) => e.type === 'response.output_item.done');
  for (const e of [...added, ...done]) {
    expect(typeof e.item.id).toBe('string');
    expect(e.item.id.length).toBeGreaterThan(0);
  }
  const terminal = events[events.length - 1]!;
  if (terminal.type !== 'response.failed') {
    expect(done.map((e) => e.output_index).sort()).toEqual(added.map((e) => e.output_index));
    expect(done.map((e) => e.item.id)).toEqual(added.map((e) => e.item.id));
  }
  return events;
}

/** Usage with all five counters as numbers, total = input + output. */
export function expectWellFormedUsage(usage: Json | null | undefined): void {
  expect(usage).toBeTruthy();
  for (const n of [usage!.input_tokens, usage!.output_tokens, usage!.total_tokens, usage!.input_tokens_details?.cached_tokens, usage!.output_tokens_details?.reasoning_tokens]) {
    expect(typeof n).toBe('number');
    expect(Number.isInteger(n) && n >= 0).toBe(true);
  }
  expect(usage!.total_tokens).toBe(usage!.input_tokens + usage!.output_tokens);
}

export function textOfMessage(item: Json): string {
  return (item.content ?? [])
    .filter((p: Json) => p.type === 'output_text')
    .map((p: Json) => p.text)
    .join('');
}

// ---------------------------------------------------------------------------
// What reached the simulator

export function upstreamResponsesRequests(stack: E2EStack): RecordedRequest[] {
  return stack.sim.requests.filter((r) => r.method === 'POST' && r.path === '/backend-api/codex/responses');
}

export function lastUpstreamBody(stack: E2EStack): Json {
  const reqs = upstreamResponsesRequests(stack);
  expect(reqs.length).toBeGreaterThan(0);
  return reqs[reqs.length - 1]!.body as Json;
}

/**
 * Usage the simulator reports for its generated streams (src/upstream/mock/events.ts
 * `usageFor`, turns.ts `newTurn`): input = ceil(upstream body length / 4), output =
 * ceil(output chars / 4) + reasoning tokens. Fed with the recorded upstream body and the
 * text we scripted, it gives the numbers CodexIn must pass on unchanged.
 */
export function simulatedUsage(upstreamRawBody: string, outputChars: number, reasoningTokens = 0, cachedTokens = 0): Json {
  const input = Math.max(1, Math.ceil(upstreamRawBody.length / 4));
  const output = Math.ceil(outputChars / 4) + reasoningTokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cachedTokens },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: input + output,
  };
}

// ---------------------------------------------------------------------------
// Hand-written upstream streams (the `events` scenario)

export interface ScriptedUsage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

/**
 * A complete ChatGPT-backend stream for one assistant message, written out event by
 * event: `codex.rate_limits` in it, and `response.completed.output` EMPTY as the real
 * backend sends it (protocol §3.4), with the given usage.
 */
export function scriptedTextStream(opts: { responseId: string; messageId: string; text: string; deltas: string[]; usage: ScriptedUsage }): object[] {
  const base = { id: opts.responseId, object: 'response', created_at: Math.floor(Date.now() / 1000), model: MODEL, output: [] as unknown[], usage: null };
  const at = { item_id: opts.messageId, output_index: 0, content_index: 0 };
  const part = { type: 'output_text', annotations: [], logprobs: [], text: opts.text };
  return [
    { type: 'response.created', response: { ...base, status: 'in_progress' } },
    { type: 'response.in_progress', response: { ...base, status: 'in_progress' } },
    {
      type: 'codex.rate_limits',
      plan_type: 'plus',
      rate_limits: { primary: { used_percent: 1, window_minutes: 300, reset_at: 0 }, secondary: null },
      credits: { has_credits: false, unlimited: false, balance: '0' },
      metered_limit_name: 'codex',
    },
    { type: 'response.output_item.added', output_index: 0, item: { id: opts.messageId, type: 'message', status: 'in_progress', content: [], role: 'assistant', phase: 'final_answer' } },
    { type: 'response.content_part.added', ...at, part: { ...part, text: '' } },
    ...opts.deltas.map((delta) => ({ type: 'response.output_text.delta', ...at, delta, logprobs: [] })),
    { type: 'response.output_text.done', ...at, text: opts.text, logprobs: [] },
    { type: 'response.content_part.done', ...at, part },
    { type: 'response.output_item.done', output_index: 0, item: { id: opts.messageId, type: 'message', status: 'completed', content: [part], role: 'assistant', phase: 'final_answer' } },
    {
      type: 'response.completed',
      response: {
        ...base,
        status: 'completed',
        output: [],
        usage: {
          input_tokens: opts.usage.input,
          input_tokens_details: { cached_tokens: opts.usage.cached },
          output_tokens: opts.usage.output,
          output_tokens_details: { reasoning_tokens: opts.usage.reasoning },
          total_tokens: opts.usage.input + opts.usage.output,
        },
      },
    },
  ];
}

// ---------------------------------------------------------------------------
// CodexIn's usage table, read-only

export interface UsageRow {
  key_id: string | null;
  account_id: string | null;
  route: string;
  model: string | null;
  status: number;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  request_id: string | null;
}

/**
 * One request's metering row, looked up by its x-request-id. Token totals are read through
 * the admin API (GET /admin/keys/:id); the per-request status (e.g. 499 for a client that
 * went away) is visible only in the SQLite `usage` table, read here read-only while the
 * server runs (WAL). Polls briefly: metering may land just after the last byte.
 */
export async function usageRowFor(stack: E2EStack, requestId: string, timeoutMs = 3000): Promise<UsageRow | null> {
  const path = join(stack.dataDir, 'codexin.db');
  expect(existsSync(path)).toBe(true);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const db = new Database(path, { readonly: true });
    try {
      const row = db.query('SELECT key_id, account_id, route, model, status, input_tokens, cached_tokens, output_tokens, reasoning_tokens, request_id FROM usage WHERE request_id = ?').get(requestId) as UsageRow | null;
      if (row) return row;
    } finally {
      db.close();
    }
    if (Date.now() > until) return null;
    await Bun.sleep(50);
  }
}

// ---------------------------------------------------------------------------
// A real PNG, built here (signature, IHDR, IDAT with zlib data, IEND, CRC-32 per chunk)

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A width×height RGB PNG filled with one colour. */
export function makePng(width: number, height: number, rgb: [number, number, number] = [200, 30, 30]): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit depth, truecolour, deflate, adaptive filter, no interlace
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) raw.set(rgb, row + 1 + x * 3);
  }
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0))];
  const png = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    png.set(p, at);
    at += p.length;
  }
  return png;
}

export function pngDataUrl(png: Uint8Array = makePng(2, 2)): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}
