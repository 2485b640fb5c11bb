/**
 * `--upstream openai`: what maps naturally onto a plain OpenAI-compatible API.
 * Transcription is passed through to its `/audio/transcriptions` (asking for
 * `json`; CodexIn formats every response_format itself, the same way in every
 * mode). There is no ChatGPT file service behind an API key: uploads are a 501.
 */
import { ApiError } from '../../openai/api-error';
import type { AssetsUpstream, AssetUpload, Transcript, TranscriptionInput, UploadedAsset, UpstreamCallContext } from '../types';
import { retryAfterHeaders } from '../chatgpt/errors';
import { clientSafeText, errorBodyText } from '../client-safe';

async function upstreamError(response: Response): Promise<ApiError> {
  const text = await errorBodyText(response);
  let err: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (parsed.error && typeof parsed.error === 'object') err = parsed.error as Record<string, unknown>;
  } catch {
    // Non-JSON error bodies get the generic message below.
  }
  const message = typeof err.message === 'string' ? clientSafeText(err.message) : `The upstream failed (HTTP ${response.status}).`;
  const code = typeof err.code === 'string' ? clientSafeText(err.code, 100) : null;
  if (response.status === 401 || response.status === 403) {
    return new ApiError(502, 'upstream_error', `The upstream rejected this server's API key (HTTP ${response.status}); the operator should check OPENAI_API_KEY.`, { code: 'upstream_unauthorized' });
  }
  if (response.status === 429) {
    return new ApiError(429, 'rate_limit_error', message, { code: code ?? 'rate_limit_exceeded', headers: retryAfterHeaders(Number(response.headers.get('retry-after') ?? '1') || 1) });
  }
  if (response.status < 500) return new ApiError(response.status, 'invalid_request_error', message, { code, param: typeof err.param === 'string' ? err.param : null });
  return new ApiError(502, 'upstream_error', message, { code: 'upstream_error' });
}

export class OpenAiAssets implements AssetsUpstream {
  readonly kind = 'openai' as const;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async uploadFile(_file: AssetUpload, _ctx: UpstreamCallContext): Promise<UploadedAsset> {
    throw new ApiError(501, 'invalid_request_error', 'Uploading to the ChatGPT file service needs --upstream chatgpt; this server runs --upstream openai. Use POST /v1/files to store the file here instead.', {
      code: 'not_supported_by_upstream',
    });
  }

  async transcribe(input: TranscriptionInput, ctx: UpstreamCallContext): Promise<Transcript> {
    const form = new FormData();
    form.append('file', new Blob([input.bytes], { type: input.mime }), input.filename);
    form.append('model', input.model);
    form.append('response_format', 'json');
    if (input.language) form.append('language', input.language);
    if (input.prompt) form.append('prompt', input.prompt);
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}/audio/transcriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.apiKey}`, 'x-client-request-id': ctx.requestId },
        body: form,
        signal: ctx.signal,
      });
    } catch (error) {
      if (ctx.signal.aborted) throw new ApiError(499, 'request_cancelled', 'The client closed the request.');
      throw new ApiError(502, 'upstream_error', `The upstream could not be reached: ${(error as Error).message}`, { code: 'upstream_unreachable' });
    }
    if (!response.ok) throw await upstreamError(response);
    const body = (await response.json().catch(() => null)) as { text?: unknown } | null;
    if (!body || typeof body.text !== 'string') throw new ApiError(502, 'upstream_error', 'The upstream sent an unreadable transcription.', { code: 'upstream_error' });
    return { text: body.text, accountId: null };
  }
}
