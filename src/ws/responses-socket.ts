/**
 * The Responses WebSocket transport on GET /v1/responses, which Codex CLI tries
 * first when pointed at a base URL with `openai_base_url`
 * (research/chatgpt-upstream-protocol.md §1.7). Frames in: `{"type":"response.create", ...request}`;
 * frames out: each Responses event as JSON text. Within one connection a request
 * may continue the previous one with `previous_response_id` and only the new
 * input, so the connection keeps the last conversation. `generate: false`
 * (Codex's prewarm) answers created + completed without calling the upstream.
 *
 * It lives beside Elysia rather than in it: the socket needs Bun's own upgrade
 * and per-connection state, and errors must go out as error frames, not as HTTP.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from 'bun';
import { ApiError } from '../openai/api-error';
import type { ResponseItem, ResponseObject, ResponseStreamEvent, ResponsesRequest } from '../openai/responses-types';
import { authenticate } from '../http/auth';
import { newRequestId } from '../http/request-id';
import { newTrace } from '../observe/trace';
import type { KeyRecord, KeyStore } from '../store/keys';
import { startResponse, forwardableHeaders, type ResponsesServiceDeps } from '../call/model-call';

interface SocketState {
  key: KeyRecord;
  forwardHeaders: Record<string, string>;
  /** The conversation so far: the last request's full input plus its output. */
  history: ResponseItem[] | null;
  lastResponseId: string | null;
  /** Requests on one connection run one after another. */
  queue: Promise<void>;
  inflight: AbortController | null;
  closed: boolean;
}

export interface ResponsesSocket {
  /** Upgrades a WebSocket handshake on /v1/responses; returns a Response when it refuses, undefined when upgraded, null when not a handshake. */
  handleUpgrade(request: Request, server: Server<SocketState>): Response | undefined | null;
  websocket: WebSocketHandler<SocketState>;
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

function send(ws: ServerWebSocket<SocketState>, frame: unknown): void {
  if (!ws.data.closed) ws.send(JSON.stringify(frame));
}

export function createResponsesSocket(deps: ResponsesServiceDeps & { keys: KeyStore }): ResponsesSocket {
  async function run(ws: ServerWebSocket<SocketState>, raw: string): Promise<void> {
    const state = ws.data;
    let frame: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      frame = parsed as Record<string, unknown>;
    } catch {
      send(ws, errorFrame(new ApiError(400, 'invalid_request_error', 'Each WebSocket message must be a JSON object {"type":"response.create", ...}.', { code: 'invalid_json' })));
      return;
    }
    if (frame.type !== 'response.create') {
      send(ws, errorFrame(new ApiError(400, 'invalid_request_error', `Unsupported message type ${JSON.stringify(frame.type)}; send "response.create".`, { param: 'type', code: 'unsupported_message_type' })));
      return;
    }
    const { type: _type, generate, previous_response_id: previousId, ...fields } = frame;
    const request = fields as unknown as ResponsesRequest;
    if (typeof request.model !== 'string' || request.model === '') {
      send(ws, errorFrame(new ApiError(400, 'invalid_request_error', "Missing required parameter: 'model'.", { param: 'model', code: 'missing_required_parameter' })));
      return;
    }
    let input = toInputItems(request.input);
    if (typeof previousId === 'string' && previousId !== '') {
      if (previousId !== state.lastResponseId || !state.history) {
        send(ws, errorFrame(new ApiError(400, 'invalid_request_error', `Previous response '${previousId}' is not known on this connection; send the full input instead.`, { param: 'previous_response_id', code: 'previous_response_not_found' })));
        return;
      }
      input = [...state.history, ...input];
    }
    if (generate === false) {
      // Codex's prewarm: remember the context, answer without spending a model call.
      const id = 'resp_' + crypto.randomUUID().replace(/-/g, '');
      const response: ResponseObject = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), status: 'in_progress', model: request.model, output: [], usage: null, error: null, incomplete_details: null };
      send(ws, { type: 'response.created', sequence_number: 0, response });
      send(ws, { type: 'response.completed', sequence_number: 1, response: { ...response, status: 'completed', usage: { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 } } });
      state.history = input;
      state.lastResponseId = id;
      return;
    }
    const controller = new AbortController();
    state.inflight = controller;
    let final: ResponseObject | null = null;
    const trace = newTrace(newRequestId(), 'WS', '/v1/responses');
    trace.route = 'ws /v1/responses';
    trace.keyId = state.key.id;
    try {
      const started = await startResponse(deps, {
        request: { ...request, input },
        key: state.key,
        trace,
        route: 'ws /v1/responses',
        signal: controller.signal,
        forwardHeaders: turnHeaders(state.forwardHeaders, request.client_metadata),
      });
      for await (const event of started.events as AsyncIterable<ResponseStreamEvent>) {
        if (state.closed) break;
        send(ws, event);
        if (event.type === 'response.completed' || event.type === 'response.incomplete' || event.type === 'response.failed') final = event.response ?? null;
      }
      if (final && final.status !== 'failed') {
        state.history = [...input, ...final.output];
        state.lastResponseId = final.id;
      }
    } catch (error) {
      // Failures before the call started (unknown model, limits) still get their log line.
      deps.observer.complete(trace, error instanceof ApiError ? error.status : 500);
      if (state.closed) return;
      send(ws, errorFrame(error instanceof ApiError ? error : new ApiError(500, 'server_error', 'Internal error while streaming the response.', { code: 'internal_error' })));
      if (!(error instanceof ApiError)) deps.observer.logger.error('websocket request failed', { request_id: trace.requestId, error: (error as Error).message });
    } finally {
      state.inflight = null;
    }
  }

  return {
    handleUpgrade(request, server) {
      if ((request.headers.get('upgrade') ?? '').toLowerCase() !== 'websocket') return null;
      const headers = Object.fromEntries(request.headers) as Record<string, string>;
      let key: KeyRecord;
      try {
        key = authenticate(deps.keys, headers, 'any');
      } catch (error) {
        if (error instanceof ApiError) return error.toResponse({ 'x-request-id': newRequestId() });
        throw error;
      }
      const state: SocketState = { key, forwardHeaders: forwardableHeaders(headers), history: null, lastResponseId: null, queue: Promise.resolve(), inflight: null, closed: false };
      if (server.upgrade(request, { data: state, headers: { 'x-request-id': newRequestId() } })) return undefined;
      return new ApiError(400, 'invalid_request_error', 'WebSocket upgrade failed.', { code: 'upgrade_failed' }).toResponse();
    },
    websocket: {
      // Codex keeps a connection for up to an hour and goes quiet between turns.
      idleTimeout: 960,
      perMessageDeflate: true,
      message(ws, message) {
        const text = typeof message === 'string' ? message : new TextDecoder().decode(message);
        ws.data.queue = ws.data.queue.then(() => run(ws, text));
      },
      close(ws) {
        ws.data.closed = true;
        ws.data.inflight?.abort();
      },
    },
  };
}
