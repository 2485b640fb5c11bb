/**
 * One Responses call through the upstream, shared by every route that needs one
 * (/v1/responses over HTTP and WebSocket, chat completions, image helpers):
 * model and key checks, the upstream call, the normalized event stream, and the
 * metering tap that records usage when the stream ends.
 */
import { ApiError } from '../openai/api-error';
import type { ResponseObject, ResponseStreamEvent, ResponsesRequest } from '../openai/responses-types';
import { validateInputImages } from '../openai/image-input';
import type { Upstream } from '../upstream/types';
import type { ModelStore } from '../store/models';
import type { UsageStore } from '../store/usage';
import type { KeyRecord } from '../store/keys';
import type { Logger } from '../log';
import { normalizeEvents } from '../stream/normalize';

export interface ResponsesServiceDeps {
  upstream: Upstream;
  models: ModelStore;
  usage: UsageStore;
  logger: Logger;
}

export interface ResponseCall {
  request: ResponsesRequest;
  key: KeyRecord;
  requestId: string;
  route: string;
  signal: AbortSignal;
  forwardHeaders?: Record<string, string>;
}

export interface StartedResponse {
  /**
   * Normalized events: a clean stream every SDK accepts. Metered: usage is recorded
   * when the terminal event passes, or when the consumer stops early.
   */
  events: AsyncGenerator<ResponseStreamEvent, void, undefined>;
  headers: Record<string, string>;
  model: string;
  /** Records the outcome of a call whose events were not consumed to the end (e.g. failed aggregation). Idempotent. */
  finish(final: ResponseObject | null, status?: number): void;
}

/** Request fields a Response echoes back, as the OpenAI API does. */
function echoedFields(request: ResponsesRequest): Partial<ResponseObject> {
  const meta: Record<string, unknown> = {};
  for (const name of ['instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'text', 'prompt_cache_key', 'service_tier']) {
    if (request[name] !== undefined) meta[name] = request[name];
  }
  return meta as Partial<ResponseObject>;
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

async function* metered(events: AsyncGenerator<ResponseStreamEvent, void, undefined>, finish: StartedResponse['finish']): AsyncGenerator<ResponseStreamEvent, void, undefined> {
  let final: ResponseObject | null = null;
  try {
    for await (const event of events) {
      if (TERMINAL.has(event.type)) {
        final = event.response ?? null;
        finish(final);
      }
      yield event;
    }
  } finally {
    // Early stop (client went away) or a stream with no terminal event.
    finish(final, final ? undefined : 499);
  }
}

/** Resolves the requested model against the catalog and the key's allow-list. */
export function resolveModel(models: ModelStore, key: KeyRecord, requested: string): { id: string; upstreamSlug: string } {
  const model = models.get(requested);
  if (!model || !model.enabled) {
    throw new ApiError(404, 'invalid_request_error', `The model '${requested}' does not exist on this server; GET /v1/models lists the available ones.`, {
      param: 'model',
      code: 'model_not_found',
    });
  }
  if (key.allowedModels && !key.allowedModels.includes(model.id)) {
    throw new ApiError(403, 'permission_error', `This API key may not use '${model.id}'; allowed: ${key.allowedModels.join(', ')}.`, {
      param: 'model',
      code: 'model_not_allowed',
    });
  }
  return { id: model.id, upstreamSlug: model.upstreamSlug };
}

export async function startResponse(deps: ResponsesServiceDeps, call: ResponseCall): Promise<StartedResponse> {
  const started = Date.now();
  const model = resolveModel(deps.models, call.key, call.request.model);
  validateInputImages(call.request.input);
  const upstreamRequest: ResponsesRequest = { ...call.request, model: model.upstreamSlug };
  const upstream = await deps.upstream.createResponse(upstreamRequest, {
    signal: call.signal,
    keyId: call.key.id,
    requestId: call.requestId,
    forwardHeaders: call.forwardHeaders,
  });
  const ttfb = Date.now() - started;
  let finished = false;
  const finish: StartedResponse['finish'] = (final, status) => {
      if (finished) return;
      finished = true;
      const httpStatus = status ?? (final?.status === 'failed' || !final ? 502 : 200);
      deps.usage.record({
        keyId: call.key.id,
        accountId: upstream.accountId,
        route: call.route,
        model: model.id,
        status: httpStatus,
        usage: final?.usage ?? null,
        latencyMs: Date.now() - started,
        ttfbMs: ttfb,
        requestId: call.requestId,
      });
      deps.logger.info('request', {
        request_id: call.requestId,
        key_id: call.key.id,
        account_id: upstream.accountId,
        route: call.route,
        model: model.id,
        status: httpStatus,
        latency_ms: Date.now() - started,
        ttfb_ms: ttfb,
        input_tokens: final?.usage?.input_tokens ?? 0,
        output_tokens: final?.usage?.output_tokens ?? 0,
      });
  };
  return {
    events: metered(normalizeEvents(upstream.events, { model: model.id, requestMeta: echoedFields(call.request) }), finish),
    headers: upstream.headers,
    model: model.id,
    finish,
  };
}

/** Client headers worth passing upstream (Codex session routing), lower-cased. */
export function forwardableHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['session_id', 'session-id', 'x-codex-turn-state', 'x-codex-window-id', 'x-codex-turn-metadata', 'x-client-request-id', 'x-openai-subagent', 'x-codex-beta-features']) {
    const v = headers[name];
    if (v) out[name === 'session-id' ? 'session_id' : name] = v;
  }
  return out;
}
