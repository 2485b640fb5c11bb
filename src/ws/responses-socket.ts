/**
 * The Responses WebSocket transport on GET /v1/responses, which Codex CLI tries
 * first when pointed at a base URL with `openai_base_url`
 * (research/chatgpt-upstream-protocol.md §1.7). Frames in: `{"type":"response.create", ...request}`;
 * frames out: each Responses event as JSON text. Within one connection a request
 * may continue the previous one with `previous_response_id` and only the new
 * input, so the connection keeps the last conversation. `generate: false`
 * (Codex's prewarm) answers created + completed without calling the upstream.
 *
 * The handshake is a route of the app (routes/responses.ts): the same auth macro
 * and request id as HTTP. Each frame is checked against the same TypeBox schema as
 * POST /v1/responses, and the key is checked again before every turn (revoked,
 * expired, or over a limit → an error frame; a revoked or expired key also closes
 * every socket it holds, within a second). One turn runs at a time and at most
 * MAX_QUEUED wait behind it; a frame over that gets an error frame. When the client
 * leaves, queued frames are dropped and the running turn is cancelled. A slow reader
 * pauses the upstream (sinks/ws-frames.ts waits for `drain`) instead of growing a buffer.
 */
import type { ServerWebSocket, WebSocketHandler } from 'bun';
import { ValidationError } from 'elysia';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ApiError } from '../openai/api-error';
import type { ResponseItem, ResponseObject, ResponsesRequest } from '../openai/responses-types';
import { ResponsesCreateSchema } from '../openai/responses-schema';
import { describeValidation } from '../http/errors';
import { newRequestId } from '../http/request-id';
import { newTrace } from '../observe/trace';
import type { KeyRecord, KeyStore } from '../store/keys';
import { startResponse, forwardableHeaders, type ResponsesServiceDeps } from '../call/model-call';
import type { Pump } from '../call/pump';
import { wsFrameSink } from '../sinks/ws-frames';
import { completeResponse, requestEcho } from '../openai/response-defaults';
import { jsonDepth, MAX_JSON_DEPTH } from '../http/json-body';

/** Frames that may wait behind the running turn. */
export const MAX_QUEUED = 4;
export { HIGH_WATER_BYTES } from '../sinks/ws-frames';
/** How often open sockets re-check their keys for changes made by another process. */
const KEY_RECHECK_MS = 1000;

export interface SocketState {
  key: KeyRecord;
  forwardHeaders: Record<string, string>;
  /** The conversation so far: the last request's full input plus its output. */
  history: ResponseItem[] | null;
  lastResponseId: string | null;
  queue: string[];
  running: boolean;
  /** Cancels the running turn's upstream request before its stream starts. */
  aborting: AbortController | null;
  /** The running turn's pump, once its stream started. */
  inflight: Pump | null;
  closed: boolean;
  /** Resolves the turn waiting for the client to read what was sent. */
  drained: (() => void) | null;
}

export interface ResponsesSocket {
  /** The per-connection state for an authenticated handshake. */
  stateFor(key: KeyRecord, headers: Record<string, string | undefined>): SocketState;
  websocket: WebSocketHandler<SocketState>;
  /** Open sockets (for tests and metrics). */
  readonly open: number;
  /** Bytes sent but not yet taken by the clients, over all open sockets. */
  buffered(): number;
}

// Only `status`: Codex reads `status_code` as an alias of it, and a frame carrying both fails to parse (Codex then waits forever).
function errorFrame(error: ApiError): Record<string, unknown> {
  return { type: 'error', status: error.status, error: error.toEnvelope().error, headers: error.headers };
}

// Per-turn routing values Codex sends inside each frame's client_metadata; they supersede the handshake's.
const PER_TURN_METADATA = ['x-codex-turn-metadata', 'x-codex-window-id', 'x-codex-turn-state', 'x-openai-subagent'];

function turnHeaders(handshake: Record<string, string>, clientMetadata: unknown): Record<string, string> {
  if (!clientMetadata || typeof clientMetadata !== 'object') return handshake;
  const headers = { ...handshake };
  for (const name of PER_TURN_METADATA) {
    const value = (clientMetadata as Record<string, unknown>)[name];
    if (typeof value === 'string' && value !== '') headers[name] = value;
  }
  return headers;
}

function toInputItems(input: ResponsesRequest['input']): ResponseItem[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  return input;
}

const checkRequest = TypeCompiler.Compile(ResponsesCreateSchema);

/** The frame as a request, or the same 400 (naming the param) that HTTP gives for the same body. */
function parseFrame(raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = jsonDepth(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH ? undefined : JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError(400, 'invalid_request_error', 'Each WebSocket message must be a JSON object {"type":"response.create", ...}.', { code: 'invalid_json' });
  }
  const frame = parsed as Record<string, unknown>;
  if (frame.type !== 'response.create') {
    throw new ApiError(400, 'invalid_request_error', `Unsupported message type ${JSON.stringify(frame.type)}; send "response.create".`, { param: 'type', code: 'unsupported_message_type' });
  }
  if (!checkRequest.Check(frame)) throw describeValidation(new ValidationError('body', checkRequest, frame));
  return frame;
}

function keyRefusal(reason: 'unknown' | 'revoked' | 'expired'): ApiError {
  const [message, code] =
    reason === 'revoked'
      ? ['This API key has been revoked; ask the operator for a new one.', 'key_revoked']
      : reason === 'expired'
        ? ['This API key has expired; ask the operator for a new one.', 'key_expired']
        : ['Invalid API key: it is not known to this CodexIn server.', 'invalid_api_key'];
  return new ApiError(401, 'authentication_error', message, { code });
}

export function createResponsesSocket(deps: ResponsesServiceDeps & { keys: KeyStore; maxFrameBytes?: number }): ResponsesSocket {
  const byKey = new Map<string, Set<ServerWebSocket<SocketState>>>();
  let recheckTimer: ReturnType<typeof setInterval> | null = null;

  function send(ws: ServerWebSocket<SocketState>, frame: unknown): void {
    if (!ws.data.closed) ws.send(JSON.stringify(frame));
  }

  /** Ends every socket of a key that may no longer be used. */
  function refuseKey(id: string, reason: 'unknown' | 'revoked' | 'expired'): void {
    for (const ws of byKey.get(id) ?? []) {
      send(ws, errorFrame(keyRefusal(reason)));
      ws.close(1008, reason === 'unknown' ? 'key removed' : `key ${reason}`);
    }
  }

  deps.keys.onChange((key, id) => {
    if (!key) refuseKey(id, 'unknown');
    else if (key.revokedAt !== null) refuseKey(id, 'revoked');
    else if (key.expiresAt !== null && key.expiresAt <= Date.now()) refuseKey(id, 'expired');
  });

  // Catches expiry and changes committed by another process (keys.get reloads then, and the listener above fires).
  function recheckAll(): void {
    for (const id of [...byKey.keys()]) {
      const found = deps.keys.recheck(id);
      if (!found.ok) refuseKey(id, found.reason);
    }
  }

  function track(ws: ServerWebSocket<SocketState>): void {
    let set = byKey.get(ws.data.key.id);
    if (!set) byKey.set(ws.data.key.id, (set = new Set()));
    set.add(ws);
    recheckTimer ??= setInterval(recheckAll, KEY_RECHECK_MS);
    recheckTimer.unref?.();
  }

  function untrack(ws: ServerWebSocket<SocketState>): void {
    const set = byKey.get(ws.data.key.id);
    set?.delete(ws);
    if (set?.size === 0) byKey.delete(ws.data.key.id);
    if (byKey.size === 0 && recheckTimer) {
      clearInterval(recheckTimer);
      recheckTimer = null;
    }
  }

  async function turn(ws: ServerWebSocket<SocketState>, raw: string): Promise<void> {
    const state = ws.data;
    const trace = newTrace(newRequestId(), 'WS', '/v1/responses');
    trace.route = 'ws /v1/responses';
    trace.keyId = state.key.id;
    let previousId: string | null = null;
    try {
      const standing = deps.keys.recheck(state.key.id);
      if (!standing.ok) {
        refuseKey(state.key.id, standing.reason);
        return;
      }
      // Limits changed by the admin apply from the next turn.
      state.key = standing.key;
      const frame = parseFrame(raw);
      const { type: _type, generate, previous_response_id: previous, ...fields } = frame;
      const request = fields as unknown as ResponsesRequest;
      let input = toInputItems(request.input);
      if (typeof previous === 'string' && previous !== '') {
        if (previous !== state.lastResponseId || !state.history) {
          throw new ApiError(400, 'invalid_request_error', `Previous response '${previous}' is not known on this connection; send the full input instead.`, { param: 'previous_response_id', code: 'previous_response_not_found' });
        }
        previousId = previous;
        input = [...state.history, ...input];
      }
      if (generate === false) {
        // Codex's prewarm: remember the context, answer without spending a model call.
        const id = 'resp_' + crypto.randomUUID().replace(/-/g, '');
        const response: ResponseObject = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), status: 'in_progress', model: request.model, output: [], usage: null, error: null, incomplete_details: null, ...requestEcho(request) };
        send(ws, { type: 'response.created', sequence_number: 0, response: completeResponse(response) });
        send(ws, { type: 'response.completed', sequence_number: 1, response: completeResponse({ ...response, status: 'completed', usage: { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 } }) });
        state.history = input;
        state.lastResponseId = id;
        return;
      }
      const controller = new AbortController();
      state.aborting = controller;
      const started = await startResponse(deps, {
        request: { ...request, input },
        key: state.key,
        trace,
        route: 'ws /v1/responses',
        signal: controller.signal,
        forwardHeaders: turnHeaders(state.forwardHeaders, request.client_metadata),
      });
      const pump = started.pipe(wsFrameSink({ socket: ws as ServerWebSocket<unknown>, closed: () => state.closed, drained: () => new Promise((resolve) => (state.drained = resolve)) }));
      state.inflight = pump;
      if (state.closed) pump.cancel();
      const final = (await pump.done).final;
      if (final && final.status !== 'failed') {
        state.history = [...input, ...final.output];
        state.lastResponseId = final.id;
      } else if (previousId !== null && state.lastResponseId === previousId) {
        // A failed continuation evicts the response it continued (Open Responses): reusing it is an error.
        state.history = null;
        state.lastResponseId = null;
      }
    } catch (error) {
      if (previousId !== null && state.lastResponseId === previousId) {
        state.history = null;
        state.lastResponseId = null;
      }
      // Failures before the call started (bad frame, unknown model, limits) still get their log line.
      if (error instanceof ApiError) trace.errorCode ??= error.code ?? error.type;
      deps.observer.complete(trace, error instanceof ApiError ? error.status : 500);
      if (state.closed) return;
      send(ws, errorFrame(error instanceof ApiError ? error : new ApiError(500, 'server_error', 'Internal error while streaming the response.', { code: 'internal_error' })));
      if (!(error instanceof ApiError)) deps.observer.logger.error('websocket request failed', { request_id: trace.requestId, error: (error as Error).message });
    } finally {
      state.inflight = null;
      state.aborting = null;
    }
  }

  async function drain(ws: ServerWebSocket<SocketState>): Promise<void> {
    const state = ws.data;
    state.running = true;
    try {
      for (let next = state.queue.shift(); next !== undefined && !state.closed; next = state.queue.shift()) await turn(ws, next);
    } finally {
      state.running = false;
    }
  }

  return {
    stateFor(key, headers) {
      return { key, forwardHeaders: forwardableHeaders(headers), history: null, lastResponseId: null, queue: [], running: false, aborting: null, inflight: null, closed: false, drained: null };
    },
    buffered() {
      let n = 0;
      for (const set of byKey.values()) for (const ws of set) n += ws.getBufferedAmount();
      return n;
    },
    get open() {
      let n = 0;
      for (const set of byKey.values()) n += set.size;
      return n;
    },
    websocket: {
      // Codex keeps a connection for up to an hour and goes quiet between turns.
      idleTimeout: 960,
      perMessageDeflate: true,
      // One frame is one request body: the same cap as HTTP bodies.
      maxPayloadLength: deps.maxFrameBytes ?? 16 * 1024 * 1024,
      open(ws) {
        track(ws);
      },
      message(ws, message) {
        const state = ws.data;
        if (state.closed) return;
        if (state.queue.length >= MAX_QUEUED) {
          send(ws, errorFrame(new ApiError(429, 'rate_limit_error', `At most one response runs per connection and ${MAX_QUEUED} may wait; wait for a response to finish before sending more.`, { code: 'too_many_pending_requests' })));
          return;
        }
        state.queue.push(typeof message === 'string' ? message : new TextDecoder().decode(message));
        if (!state.running) void drain(ws);
      },
      drain(ws) {
        const resolve = ws.data.drained;
        ws.data.drained = null;
        resolve?.();
      },
      close(ws) {
        const state = ws.data;
        state.closed = true;
        // Nothing queued reaches the upstream once the client has gone.
        state.queue.length = 0;
        state.aborting?.abort();
        state.inflight?.cancel();
        state.drained?.();
        untrack(ws);
      },
    },
  };
}
