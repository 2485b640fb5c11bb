/**
 * POST /v1/responses (SSE or one JSON Response) and POST /v1/responses/compact.
 * Thin: parse, authorize, hand to the responses service, shape the reply.
 */
import { Elysia } from 'elysia';
import { ApiError } from '../openai/api-error';
import { ResponsesCreateSchema, ResponseObjectSchema, CompactResourceSchema, CompactRequestSchema } from '../openai/responses-schema';
import { compactionResource } from '../translate/compaction';
import { nullsAsAbsent } from '../openai/nulls-as-absent';
import { ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import { jsonParser } from '../http/json-body';
import type { authPlugin } from '../http/auth';
import { requestIdPlugin } from '../http/request-id';
import { startResponse, forwardableHeaders, resolveModel, type ResponsesServiceDeps } from '../call/model-call';
import { sseBody } from '../sinks/sse-body';
import { responsesSseFormat } from '../sinks/responses-sse';
import { unaryCall } from '../call/unary-call';
import { upgradeRequest } from '../http/server';
import type { ResponsesSocket } from '../ws/responses-socket';
import { estimateInputTokens } from '../call/admission';
import type { ResponsesRequest, Usage } from '../openai/responses-types';

/** The upstream's usage figures on a compaction result, when it sends them. */
function usageOfCompaction(result: Record<string, unknown>): Usage | null {
  const usage = result.usage as Partial<Usage> | undefined;
  if (!usage || typeof usage.input_tokens !== 'number' || typeof usage.output_tokens !== 'number') return null;
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.input_tokens_details?.cached_tokens ?? 0 },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.output_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens ?? usage.input_tokens + usage.output_tokens,
  };
}

export interface ResponsesRouteDeps extends ResponsesServiceDeps {
  keepaliveMs: number;
  maxBodyBytes: number;
  /** The WebSocket transport the GET handshake upgrades to (absent: 426). */
  socket?: ResponsesSocket;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Tells nginx-style proxies not to buffer the stream.
  'x-accel-buffering': 'no',
} as const;

const errorResponses = { 400: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 413: ErrorEnvelopeSchema, 415: ErrorEnvelopeSchema, 502: ErrorEnvelopeSchema, 503: ErrorEnvelopeSchema, ...authErrorResponses };

export function responsesRoutes(auth: ReturnType<typeof authPlugin>, deps: ResponsesRouteDeps) {
  return new Elysia({ name: 'codexin.routes.responses', detail: { tags: ['Responses'] } })
    .use(requestIdPlugin)
    .use(auth)
    .post(
      '/v1/responses',
      async ({ body: raw, apiKey, request, requestId, trace }) => {
        const body = nullsAsAbsent(raw);
        if (typeof body.previous_response_id === 'string' && body.previous_response_id !== '') {
          throw new ApiError(
            400,
            'invalid_request_error',
            'previous_response_id works only within one WebSocket connection (GET /v1/responses): the upstream stores no responses. Over HTTP, send the whole conversation in input.',
            { param: 'previous_response_id', code: 'previous_response_not_found' },
          );
        }
        const started = await startResponse(deps, {
          request: body,
          key: apiKey,
          trace,
          route: '/v1/responses',
          signal: request.signal,
          forwardHeaders: forwardableHeaders(Object.fromEntries(request.headers)),
        });
        if (body.stream === true) {
          const stream = sseBody(responsesSseFormat(), started, deps.keepaliveMs);
          return new Response(stream, { headers: { ...SSE_HEADERS, ...started.headers, 'x-request-id': requestId } });
        }
        const response = await started.aggregate();
        return new Response(JSON.stringify(response), {
          headers: { 'content-type': 'application/json', ...started.headers, 'x-request-id': requestId },
        });
      },
      {
        auth: 'any',
        parse: [jsonParser(deps.maxBodyBytes), 'json'],
        body: ResponsesCreateSchema,
        response: { 200: ResponseObjectSchema, ...errorResponses },
        detail: {
          summary: 'Create a model response',
          description:
            'OpenAI Responses API. With `stream: true` the reply is `text/event-stream` of Responses events (ending in response.completed, response.incomplete or response.failed); otherwise one Response object.',
        },
      },
    )
    .get(
      '/v1/responses',
      ({ apiKey, request, requestId, trace }) => {
        if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') {
          const state = deps.socket?.stateFor(apiKey, Object.fromEntries(request.headers));
          if (state && upgradeRequest(request, state, { 'x-request-id': requestId })) {
            // Each turn on the socket gets its own log line ('ws /v1/responses'); the handshake none.
            trace.deferred = true;
            return new Response(null, { status: 101 });
          }
        }
        throw new ApiError(426, 'invalid_request_error', 'GET /v1/responses is the WebSocket transport: connect with "Upgrade: websocket", or POST /v1/responses for HTTP.', {
          code: 'upgrade_required',
          headers: { upgrade: 'websocket', connection: 'Upgrade' },
        });
      },
      {
        auth: 'any',
        response: { 426: ErrorEnvelopeSchema, ...authErrorResponses },
        detail: {
          summary: 'Responses over WebSocket',
          description:
            'Upgrade to a WebSocket (auth: bearer key in the handshake, checked again before every turn). Send `{"type":"response.create", ...request}` text frames, validated like POST /v1/responses bodies; every Responses event comes back as one JSON text frame. One response runs at a time and at most 4 frames may wait. `previous_response_id` continues the previous response of the same connection (a failed continuation forgets it); errors arrive as `{"type":"error","status":...,"error":{...}}` frames.',
        },
      },
    )
    .post(
      '/v1/responses/compact',
      async ({ body: raw, apiKey, request, requestId, trace, set }) => {
        const body = nullsAsAbsent(raw);
        const model = resolveModel(deps.models, apiKey, body.model);
        const headers: Record<string, string> = {};
        const { result } = await unaryCall(
          deps,
          { key: apiKey, route: '/v1/responses/compact', model: model.id, trace, headers, inputTokens: estimateInputTokens(body.input) + estimateInputTokens(body.instructions) },
          async () => ({
            result: await deps.upstream.compact({ ...(body as ResponsesRequest), model: model.upstreamSlug }, {
              signal: request.signal,
              keyId: apiKey.id,
              requestId,
              forwardHeaders: forwardableHeaders(Object.fromEntries(request.headers)),
            }),
            accountId: null,
          }),
          ({ result }) => usageOfCompaction(result),
        );
        Object.assign(set.headers, headers);
        const { ignoredParams, ...compacted } = result;
        if (ignoredParams?.length) set.headers['x-codexin-ignored-params'] = ignoredParams.join(', ');
        return compactionResource(compacted);
      },
      {
        auth: 'any',
        parse: [jsonParser(deps.maxBodyBytes), 'json'],
        body: CompactRequestSchema,
        response: { 200: CompactResourceSchema, ...errorResponses },
        detail: {
          summary: 'Compact a conversation',
          description:
            'Remote compaction as used by Codex CLI: returns the compaction resource (`object: "response.compaction"`) whose `output` is the compacted conversation, to send as `input` next time. Request fields compaction does not use are named in `x-codexin-ignored-params`.',
        },
      },
    );
}
