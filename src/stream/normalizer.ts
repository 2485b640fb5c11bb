/**
 * The synchronous state machine behind normalizeEvents(): one upstream event in,
 * the clean events to emit out (without sequence numbers; the driver stamps them).
 *
 * It owns the response-level contract; OutputItems owns the items:
 * - the first event is `response.created` with a full response object and `output: []`;
 * - the response keeps one id, created_at and model from the first event to the last
 *   (openai-node rejects "Lifecycle response identity changed");
 * - `response.in_progress` / `response.queued` only before the first item, because the
 *   strict accumulator replaces its whole snapshot on every lifecycle event;
 * - exactly one terminal event, whose `output` is every finished item (the ChatGPT
 *   backend sends `[]`) and whose `usage` is complete; an upstream `error` becomes
 *   `error` + `response.failed`.
 */
import type { ResponseItem, ResponseObject, ResponseStreamEvent } from '../openai/responses-types';
import { completeResponse } from '../openai/response-defaults';
import { ALLOWED_EVENT_TYPES } from './event-types';
import { newResponseId } from './ids';
import { isItemScoped, OutputItems } from './normalize-items';
import { normalizeErrorEvent, normalizeResponseError, type StreamErrorBody } from './stream-error';
import { normalizeUsage } from './usage';

export interface NormalizeOptions {
  /** The model name clients see on every lifecycle event (the name they asked for). */
  model: string;
  /** Request fields echoed on the response object (instructions, tools, store, ...). */
  requestMeta?: Partial<ResponseObject>;
}

type TerminalStatus = 'completed' | 'incomplete' | 'failed';

const TERMINAL_STATUS: Readonly<Record<string, TerminalStatus>> = {
  'response.completed': 'completed',
  'response.incomplete': 'incomplete',
  'response.failed': 'failed',
};

/** Fields the normalizer decides itself; an upstream's or requestMeta's values for them are ignored. */
const CONTROLLED_FIELDS = ['id', 'object', 'created_at', 'completed_at', 'status', 'model', 'output', 'output_text', 'usage', 'error', 'incomplete_details'] as const;

function withoutControlled(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return {};
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const field of CONTROLLED_FIELDS) delete copy[field];
  return copy;
}

export class ResponseNormalizer {
  private out: ResponseStreamEvent[] = [];
  private readonly items = new OutputItems((event) => this.out.push(event));
  private identity?: { id: string; created_at: number };
  /** The upstream's latest response object: its extra fields (tools, reasoning, ...) are echoed. */
  private upstreamResponse: Record<string, unknown> = {};
  private ended = false;

  constructor(private readonly options: NormalizeOptions) {}

  /** True once the terminal event was produced: nothing may follow it. */
  get finished(): boolean {
    return this.ended;
  }

  push(event: ResponseStreamEvent): ResponseStreamEvent[] {
    if (this.ended || typeof event !== 'object' || event === null || typeof event.type !== 'string') return [];
    if (!ALLOWED_EVENT_TYPES.has(event.type) || event.type === 'keepalive') return [];
    const type = event.type;
    if (type in TERMINAL_STATUS) this.terminal(TERMINAL_STATUS[type], event.response);
    else if (type === 'error') this.fail(normalizeErrorEvent(event));
    else if (type === 'response.created' || type === 'response.queued' || type === 'response.in_progress') this.lifecycle(type, event);
    else {
      this.ensureCreated(undefined);
      if (type === 'response.output_item.added') this.items.added(event);
      else if (type === 'response.output_item.done') this.items.done(event);
      else if (isItemScoped(type)) this.items.scoped(event);
      else this.out.push({ ...event });
    }
    return this.drain();
  }

  /** The upstream ended (or broke) without a terminal event: fail the response loudly. */
  abort(code: 'stream_incomplete' | 'upstream_stream_error', message: string): ResponseStreamEvent[] {
    // The `error` event names what broke; response.error.code stays within the spec's enum of codes.
    if (!this.ended) this.fail({ type: 'server_error', code, message, param: null }, 'server_error');
    return this.drain();
  }

  private drain(): ResponseStreamEvent[] {
    const events = this.out;
    this.out = [];
    return events;
  }

  private lifecycle(type: string, event: ResponseStreamEvent): void {
    if (!this.identity) {
      this.ensureCreated(event.response);
      if (type === 'response.created') return;
    }
    // A second `created`, or progress after items exist, would reset strict clients' snapshots.
    if (type === 'response.created' || this.items.count > 0) return;
    this.absorb(event.response);
    const status = type === 'response.queued' ? 'queued' : 'in_progress';
    this.out.push({ type, response: this.response(status, { output: [] }) });
  }

  private ensureCreated(upstream: unknown): void {
    if (this.identity) return;
    const given = typeof upstream === 'object' && upstream !== null ? (upstream as Record<string, unknown>) : {};
    const meta = this.options.requestMeta ?? {};
    const id = [given.id, meta.id].find((v): v is string => typeof v === 'string' && v !== '') ?? newResponseId();
    const createdAt = [given.created_at, meta.created_at].find((v): v is number => typeof v === 'number' && Number.isFinite(v));
    this.identity = { id, created_at: createdAt ?? Math.floor(Date.now() / 1000) };
    this.absorb(upstream);
    const status = given.status === 'queued' ? 'queued' : 'in_progress';
    this.out.push({ type: 'response.created', response: this.response(status, { output: [] }) });
  }

  private absorb(upstream: unknown): void {
    if (typeof upstream === 'object' && upstream !== null) this.upstreamResponse = withoutControlled(upstream);
  }

  private terminal(status: TerminalStatus, upstream: ResponseObject | undefined): void {
    this.ensureCreated(upstream);
    this.absorb(upstream);
    if (status !== 'failed') {
      this.adoptUnstreamed(upstream?.output);
      this.items.closeOpen(status);
    }
    const given = (upstream ?? {}) as Partial<ResponseObject>;
    this.out.push({
      type: `response.${status}`,
      response: this.response(status, {
        output: this.items.finishedOutput(),
        usage: normalizeUsage(given.usage),
        error:
          status === 'failed'
            ? normalizeResponseError(given.error, { code: 'server_error', message: 'The upstream response failed without giving a reason.' })
            : null,
        incomplete_details: status === 'incomplete' ? (given.incomplete_details ?? null) : null,
      }),
    });
    this.ended = true;
  }

  /**
   * Items that appear only in the terminal response (an upstream that streams no item
   * events) are replayed as if they had been streamed, so streaming clients see them.
   * When items were streamed, only ones with an id we never saw are added: items without
   * an id cannot be matched and are assumed to be the streamed ones.
   */
  private adoptUnstreamed(output: unknown): void {
    if (!Array.isArray(output)) return;
    const streamedAny = this.items.count > 0;
    for (const item of output as unknown[]) {
      if (typeof item !== 'object' || item === null) continue;
      const candidate = item as ResponseItem;
      if (typeof candidate.type !== 'string') continue;
      const id = typeof candidate.id === 'string' && candidate.id !== '' ? candidate.id : undefined;
      if (streamedAny && (!id || this.items.knows(id))) continue;
      this.items.done({ type: 'response.output_item.done', item: candidate });
    }
  }

  private fail(error: StreamErrorBody, responseCode?: string): void {
    this.ensureCreated(undefined);
    // Nested `error` is what the API sends and SDKs read; the spec's ResponseErrorEvent puts code/message/param at the top: carry both.
    this.out.push({ type: 'error', code: error.code, message: error.message, param: error.param, error });
    this.out.push({
      type: 'response.failed',
      response: this.response('failed', {
        output: this.items.finishedOutput(),
        usage: normalizeUsage(undefined),
        error: { code: responseCode ?? error.code ?? error.type, message: error.message },
        incomplete_details: null,
      }),
    });
    this.ended = true;
  }

  private response(
    status: ResponseObject['status'],
    parts: { output: ResponseItem[]; usage?: ResponseObject['usage']; error?: ResponseObject['error']; incomplete_details?: ResponseObject['incomplete_details'] },
  ): ResponseObject {
    const identity = this.identity ?? { id: newResponseId(), created_at: Math.floor(Date.now() / 1000) };
    // Every lifecycle event carries the whole object: what neither the request nor the upstream gave takes the API default.
    return completeResponse({
      id: identity.id,
      object: 'response',
      created_at: identity.created_at,
      status,
      model: this.options.model,
      ...this.upstreamResponse,
      // The client's own request fields win over the upstream's echo of the rewritten request
      // (the ChatGPT backend sees store:false and the Codex instructions, not what the client sent).
      ...withoutControlled(this.options.requestMeta),
      output: parts.output,
      usage: parts.usage ?? null,
      error: parts.error ?? null,
      incomplete_details: parts.incomplete_details ?? null,
    });
  }
}
