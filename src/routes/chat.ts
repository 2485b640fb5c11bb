/**
 * POST /v1/chat/completions: Chat Completions as an edge format over the one
 * Responses path. Translate the request, run it, translate the events or the
 * final Response back. Parameters the upstream cannot honour are dropped and named
 * in the `x-codexin-ignored-params` response header.
 */
import { Elysia } from 'elysia';
import { badRequest } from '../openai/api-error';
import type { ChatCompletionRequest } from '../openai/chat-types';
import type { JsonObject, ResponsesRequest } from '../openai/responses-types';
import { ChatCompletionCreateSchema, ChatCompletionSchema } from '../openai/chat-schema';
import { ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import { jsonParser } from '../http/json-body';
import { requestIdPlugin } from '../http/request-id';
import type { authPlugin } from '../http/auth';
import { chatRequestToResponses, isResponsesShapedBody, responsesShapedRequest } from '../translate/chat-request';
import { responseToChatCompletion } from '../translate/chat-response';
import { startResponse, forwardableHeaders } from '../call/model-call';
import { sseBody } from '../sinks/sse-body';
import { chatSseFormat } from '../sinks/chat-sse';
import { SSE_HEADERS, type ResponsesRouteDeps } from './responses';

function toResponsesRequest(body: Record<string, unknown>): { request: ResponsesRequest; ignoredParams: string[]; legacyFunctions: boolean } {
  // Cursor BYOK posts a Responses-shaped body here and expects Chat back.
  if (isResponsesShapedBody(body)) return { request: responsesShapedRequest(body as JsonObject), ignoredParams: [], legacyFunctions: false };
  if (!Array.isArray(body.messages)) throw badRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  const { stream: _stream, stream_options: _options, ...rest } = body;
  return chatRequestToResponses(rest as ChatCompletionRequest);
}

export function chatRoutes(auth: ReturnType<typeof authPlugin>, deps: ResponsesRouteDeps) {
  return new Elysia({ name: 'codexin.routes.chat', detail: { tags: ['Chat'] } })
    .use(requestIdPlugin)
    .use(auth)
    .post(
      '/v1/chat/completions',
      async ({ body, apiKey, request, requestId, trace }) => {
        const raw = body as Record<string, unknown>;
        const { request: responsesRequest, ignoredParams, legacyFunctions } = toResponsesRequest(raw);
        const started = await startResponse(deps, {
          request: responsesRequest,
          key: apiKey,
          trace,
          route: '/v1/chat/completions',
          signal: request.signal,
          forwardHeaders: forwardableHeaders(Object.fromEntries(request.headers)),
        });
        const headers: Record<string, string> = { ...started.headers, 'x-request-id': requestId };
        // The chat translation's drops plus any the upstream adapter made itself.
        const ignored = [...new Set([...ignoredParams, ...(started.headers['x-codexin-ignored-params']?.split(', ') ?? [])])];
        if (ignored.length) headers['x-codexin-ignored-params'] = ignored.join(', ');
        if (raw.stream === true) {
          const includeUsage = (raw.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true;
          return new Response(sseBody(chatSseFormat({ model: started.model, includeUsage, legacyFunctions }), started, deps.keepaliveMs), {
            headers: { ...SSE_HEADERS, ...headers },
          });
        }
        const response = await started.aggregate();
        return new Response(JSON.stringify(responseToChatCompletion(response, { model: started.model, legacyFunctions })), {
          headers: { 'content-type': 'application/json', ...headers },
        });
      },
      {
        auth: 'any',
        parse: [jsonParser(deps.maxBodyBytes), 'json'],
        body: ChatCompletionCreateSchema,
        response: { 200: ChatCompletionSchema, 400: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 413: ErrorEnvelopeSchema, 415: ErrorEnvelopeSchema, 502: ErrorEnvelopeSchema, 503: ErrorEnvelopeSchema, ...authErrorResponses },
        detail: {
          summary: 'Create a chat completion',
          description:
            'OpenAI Chat Completions, served through the Responses upstream. `stream: true` gives chat.completion.chunk events and `data: [DONE]`; `stream_options.include_usage` adds the usage chunk. Unsupported sampling parameters are accepted, dropped, and named in the `x-codexin-ignored-params` header; `n > 1`, `logprobs` and audio are rejected with 400.',
        },
      },
    );
}
