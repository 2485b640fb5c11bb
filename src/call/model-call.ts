/**
 * The model call: the only way to a model, shared by every route that needs one
 * (/v1/responses over HTTP and WebSocket, chat completions, image helpers; compact
 * and the asset routes go through unary-call.ts with the same admission and meter).
 * Resolve the model and the key's limits → admit → send → the normalized event
 * stream → meter exactly once when it ends.
 */
import { ApiError, quote } from '../openai/api-error';
import type { ResponseObject, ResponsesRequest } from '../openai/responses-types';
import { validateInputImages } from '../openai/image-input';
import { requestEcho } from '../openai/response-defaults';
import type { Upstream } from '../upstream/types';
import type { ModelStore } from '../store/models';
import type { UsageStore } from '../store/usage';
import type { KeyRecord } from '../store/keys';
import { estimateInputTokens, type Admission, type KeyLimiter } from './admission';
import { outcomeOf, startMeter } from './meter';
import type { Observer } from '../observe/observer';
import { serverTiming, type RequestTrace } from '../observe/trace';
import { startPump, type Pump, type PumpSource } from './pump';
import type { Sink } from '../sinks/sink';
import { aggregateSink } from '../sinks/aggregate';

import { resolveFileInputs, type FileInputSource } from '../service/file-inputs';

const DEFAULT_UPSTREAM_IDLE_MS = 300_000;

export interface ResponsesServiceDeps {
  upstream: Upstream;
  models: ModelStore;
  usage: UsageStore;
  limiter: KeyLimiter;
  observer: Observer;
  /** A stream whose upstream sends nothing for this long is ended with an error (default 5 min, Codex's own idle limit). */
  upstreamIdleMs?: number;
  /** Uploaded files: `file_id` references in the input are inlined from here. */
  fileInputs?: FileInputSource;
}

export interface ResponseCall {
  request: ResponsesRequest;
  key: KeyRecord;
  /** The request's trace: the call fills in model, account and timings, and completes it. */
  trace: RequestTrace;
  route: string;
  signal: AbortSignal;
  forwardHeaders?: Record<string, string>;
  /** An admission taken by the caller (n image generations admitted together); the call then releases it. */
  admission?: Admission;
}

export interface StartedResponse {
  headers: Record<string, string>;
  model: string;
  /**
   * Runs the stream into a sink through one pump; metered when it ends, however it
   * ends. Called at most once.
   */
  pipe(sink: Sink, opts?: { keepaliveMs?: number }): Pump;
  /** The whole response into one Response object (stream: false); rejects with the ApiError of a failed one. */
  aggregate(): Promise<ResponseObject>;
  /** The client left before the stream was piped anywhere: cancel the upstream and meter it. */
  abandon(): void;
}

/** Resolves the requested model against the catalog and the key's allow-list. */
export function resolveModel(models: ModelStore, key: KeyRecord, requested: string): { id: string; upstreamSlug: string } {
  const model = models.get(requested);
  if (!model || !model.enabled) {
    throw new ApiError(404, 'invalid_request_error', `The model '${quote(requested)}' does not exist on this server; GET /v1/models lists the available ones.`, {
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
  const trace = call.trace;
  const model = resolveModel(deps.models, call.key, call.request.model);
  trace.model = model.id;
  call = { ...call, request: await resolveFileInputs(deps.fileInputs, call.request, call.key.id) };
  validateInputImages(call.request.input);
  const admission = call.admission ?? await deps.limiter.admit(call.key, { inputTokens: estimateInputTokens(call.request.input) + estimateInputTokens(call.request.instructions) });
  // From here the call owns the trace: it is completed when the stream ends, not when the handler returns.
  trace.deferred = true;
  deps.observer.metrics.activeStreams.inc();
  const meter = startMeter(deps, { key: call.key, route: call.route, model: model.id, trace, admission, completesTrace: true });
  const finish = (final: ResponseObject | null, status?: number): void => meter(outcomeOf(final, status));
  let upstream;
  try {
    const upstreamRequest: ResponsesRequest = { ...call.request, model: model.upstreamSlug };
    upstream = await deps.upstream.createResponse(upstreamRequest, {
      signal: call.signal,
      keyId: call.key.id,
      requestId: trace.requestId,
      forwardHeaders: call.forwardHeaders,
    });
  } catch (error) {
    if (error instanceof ApiError) trace.errorCode = error.code ?? error.type;
    meter({ status: error instanceof ApiError ? error.status : 502, usage: null, errorCode: error instanceof ApiError ? error.code : 'upstream_error' });
    deps.observer.metrics.activeStreams.dec();
    if (error instanceof ApiError) Object.assign(error.headers, admission.headers, error.headers);
    throw error;
  }
  trace.accountId = upstream.accountId;
  trace.ttfbMs = performance.now() - trace.start;
  const source: PumpSource = upstream.body ? { body: upstream.body } : { events: upstream.events ?? (async function* () {})() };
  let piped = false;
  const end = (final: ResponseObject | null, status?: number): void => {
    deps.observer.metrics.activeStreams.dec();
    finish(final, status);
  };
  const pipe: StartedResponse['pipe'] = (sink, opts = {}) => {
    if (piped) throw new Error('a model call is piped once');
    piped = true;
    const pump = startPump(source, sink, {
      model: model.id,
      requestMeta: requestEcho(call.request),
      idleMs: deps.upstreamIdleMs ?? DEFAULT_UPSTREAM_IDLE_MS,
      keepaliveMs: opts.keepaliveMs ?? 0,
    });
    void pump.done.then(({ final, cancelled }) => end(final, final ? undefined : cancelled ? 499 : undefined));
    return pump;
  };
  return {
    headers: { ...upstream.headers, ...admission.headers, 'server-timing': serverTiming(trace) },
    model: model.id,
    pipe,
    async aggregate() {
      const sink = aggregateSink();
      await pipe(sink).done;
      return sink.aggregator.result();
    },
    abandon() {
      if (piped) return;
      piped = true;
      void upstream.body?.cancel().catch(() => {});
      void Promise.resolve(upstream.events?.[Symbol.asyncIterator]().return?.()).catch(() => {});
      end(null, 499);
    },
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
