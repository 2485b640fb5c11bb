/**
 * Any Responses-compatible API with an API key (`--upstream openai`). No request
 * rewriting beyond always streaming: a stream:false client is aggregated by us, so
 * both paths share one event pipeline.
 */
import { ApiError } from '../../openai/api-error';
import type { ResponseItem, ResponsesRequest } from '../../openai/responses-types';
import type { CompactResult, Upstream, UpstreamCallContext, UpstreamStream } from '../types';
import { retryAfterHeaders } from '../chatgpt/errors';
import { clientSafeText, errorBodyText } from '../client-safe';
import { fetchWithHeaderDeadline, UpstreamTimeout } from '../header-deadline';

export class OpenAiUpstream implements Upstream {
  readonly kind = 'openai' as const;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly headerTimeoutMs = 120_000,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async createResponse(request: ResponsesRequest, ctx: UpstreamCallContext): Promise<UpstreamStream> {
    const response = await this.post('/responses', { ...request, stream: true }, ctx, 'text/event-stream');
    if (!response.body) throw new ApiError(502, 'upstream_error', 'The upstream answered with an empty body.', { code: 'upstream_error' });
    return { body: response.body, headers: {}, accountId: null };
  }

  async compact(request: ResponsesRequest, ctx: UpstreamCallContext): Promise<CompactResult> {
    const response = await this.post('/responses/compact', { ...request, stream: undefined }, ctx, 'application/json');
    return (await response.json()) as { output: ResponseItem[] };
  }

  private async post(path: string, body: unknown, ctx: UpstreamCallContext, accept: string): Promise<Response> {
    let response: Response;
    try {
      response = await fetchWithHeaderDeadline(
        this.fetchImpl,
        `${this.baseUrl}${path}`,
        { method: 'POST', headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json', accept, 'x-client-request-id': ctx.requestId }, body: JSON.stringify(body) },
        ctx.signal,
        this.headerTimeoutMs,
      );
    } catch (error) {
      if (ctx.signal.aborted) throw new ApiError(499, 'request_cancelled', 'The client closed the request.');
      if (error instanceof UpstreamTimeout) {
        throw new ApiError(504, 'upstream_error', `The upstream did not answer within ${Math.round(error.afterMs / 1000)} s; retry shortly.`, { code: 'upstream_timeout' });
      }
      throw new ApiError(502, 'upstream_error', `The upstream could not be reached: ${(error as Error).message}`, { code: 'upstream_unreachable' });
    }
    if (response.ok) return response;
    const text = await errorBodyText(response);
    let err: Record<string, unknown> | null = null;
    try {
      err = ((JSON.parse(text) as { error?: Record<string, unknown> }).error ?? null) as Record<string, unknown> | null;
    } catch {
      // Non-JSON error bodies get the generic message below.
    }
    const message = typeof err?.message === 'string' ? clientSafeText(err.message) : `The upstream failed (HTTP ${response.status}).`;
    if (response.status === 401 || response.status === 403) {
      throw new ApiError(502, 'upstream_error', `The upstream rejected this server's API key (HTTP ${response.status}); the operator should check OPENAI_API_KEY.`, { code: 'upstream_unauthorized' });
    }
    if (response.status === 429) {
      throw new ApiError(429, typeof err?.type === 'string' ? err.type : 'rate_limit_error', message, {
        code: typeof err?.code === 'string' ? clientSafeText(err.code, 100) : 'rate_limit_exceeded',
        headers: retryAfterHeaders(Number(response.headers.get('retry-after') ?? '1') || 1),
      });
    }
    if (response.status < 500) {
      throw new ApiError(response.status, typeof err?.type === 'string' ? err.type : 'invalid_request_error', message, {
        code: typeof err?.code === 'string' ? clientSafeText(err.code, 100) : null,
        param: typeof err?.param === 'string' ? err.param : null,
      });
    }
    throw new ApiError(502, 'upstream_error', message, { code: 'upstream_error' });
  }
}
