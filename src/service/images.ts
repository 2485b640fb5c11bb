/**
 * The image helpers as Responses calls (DESIGN.md §1: every model call is one
 * canonical Responses request through startResponse, so metering, account
 * failover and error mapping are the same as for /v1/responses).
 *
 * - analysis: one user message with the prompt and the image;
 * - generation: the `image_generation` tool, forced with `tool_choice`
 *   (research/chatgpt-upstream-protocol.md §5.3); the image is the base64
 *   `result` of the `image_generation_call` output item.
 */
import { ApiError } from '../openai/api-error';
import type { ResponseObject, ResponsesRequest, Tool, Usage } from '../openai/responses-types';
import type { KeyRecord } from '../store/keys';
import type { ModelStore } from '../store/models';
import { outputText } from '../stream/aggregate';
import { startResponse, type ResponseCall, type ResponsesServiceDeps } from '../call/model-call';

/** The driving model when the caller names none: cheap, and the image tool does the work. */
export const PREFERRED_HELPER_MODEL = 'gpt-5.4-mini';

/**
 * The Responses model for a helper call: the requested one, else the preferred one when
 * enabled and allowed for the key, else the first model of the catalog the key may use.
 */
export function helperModel(models: ModelStore, key: KeyRecord, requested: string | undefined): string {
  if (requested) return requested;
  const usable = models.listEnabled().filter((m) => !key.allowedModels || key.allowedModels.includes(m.id));
  const chosen = usable.find((m) => m.id === PREFERRED_HELPER_MODEL) ?? usable[0];
  if (!chosen) throw new ApiError(403, 'permission_error', 'This API key may use no model of this server.', { param: 'model', code: 'model_not_allowed' });
  return chosen.id;
}

export function imageAnalysisRequest(model: string, prompt: string, imageUrl: string, detail: string | undefined): ResponsesRequest {
  return {
    model,
    instructions: '',
    input: [
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: prompt },
          { type: 'input_image', image_url: imageUrl, detail: detail ?? 'auto' },
        ],
      },
    ],
  };
}

export interface ImageGenerationOptions {
  prompt: string;
  /** A gpt-image-* model for the tool; absent lets the upstream choose. */
  imageModel?: string;
  size?: string;
  quality?: string;
  background?: string;
  outputFormat?: string;
  outputCompression?: number;
  moderation?: string;
}

export function imageGenerationRequest(model: string, opts: ImageGenerationOptions): ResponsesRequest {
  const tool: Tool = { type: 'image_generation' };
  if (opts.imageModel) tool.model = opts.imageModel;
  if (opts.size) tool.size = opts.size;
  if (opts.quality) tool.quality = opts.quality;
  if (opts.background) tool.background = opts.background;
  tool.output_format = opts.outputFormat ?? 'png';
  if (opts.outputCompression !== undefined) tool.output_compression = opts.outputCompression;
  if (opts.moderation) tool.moderation = opts.moderation;
  return {
    model,
    instructions: '',
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: opts.prompt }] }],
    tools: [tool],
    tool_choice: { type: 'image_generation' },
    parallel_tool_calls: false,
  };
}

export interface GeneratedImage {
  b64: string;
  revisedPrompt: string | null;
  size: string | null;
  quality: string | null;
  background: string | null;
  outputFormat: string | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The generated image of a response, or an ApiError saying why there is none. */
export function imageFromResponse(response: ResponseObject): GeneratedImage {
  const call = response.output.find((item) => item.type === 'image_generation_call');
  if (call && typeof call.result === 'string' && call.result !== '') {
    return {
      b64: call.result,
      revisedPrompt: str(call.revised_prompt),
      size: str(call.size),
      quality: str(call.quality),
      background: str(call.background),
      outputFormat: str(call.output_format),
    };
  }
  const said = outputText(response).trim();
  if (call) {
    throw new ApiError(400, 'invalid_request_error', `The upstream image generation call ended as "${String(call.status)}" without an image${said ? `; the model said: ${said}` : ''}.`, {
      code: 'image_generation_failed',
    });
  }
  throw new ApiError(400, 'invalid_request_error', said ? `The model did not generate an image. It said: ${said}` : 'The model did not generate an image (the upstream returned no image_generation_call).', {
    code: 'image_generation_refused',
  });
}

// Stream failures that are the upstream's trouble, not a verdict on the request.
const TRANSIENT_CODES = new Set(['server_error', 'upstream_error', 'stream_incomplete', 'upstream_unreachable', 'internal_error']);

/** A failed generation whose reason concerns the request (policy, unsupported tool) is the caller's 4xx, not our 502. */
function asClientError(error: unknown): unknown {
  if (!(error instanceof ApiError) || error.status !== 502 || !error.code || TRANSIENT_CODES.has(error.code)) return error;
  return new ApiError(400, 'invalid_request_error', `The upstream refused to generate the image: ${error.message}`, { code: error.code, extra: error.extra });
}

export interface ImageRun {
  response: ResponseObject;
  image: GeneratedImage;
}

/** One generation: one metered Responses call, aggregated. */
export async function generateImage(deps: ResponsesServiceDeps, call: ResponseCall): Promise<ImageRun> {
  const started = await startResponse(deps, call);
  let response: ResponseObject;
  try {
    response = await started.aggregate();
  } catch (error) {
    throw asClientError(error);
  }
  return { response, image: imageFromResponse(response) };
}

export function sumUsage(usages: (Usage | null)[]): Usage | null {
  const present = usages.filter((u): u is Usage => u !== null);
  if (!present.length) return null;
  return present.reduce((a, b) => ({
    input_tokens: a.input_tokens + b.input_tokens,
    input_tokens_details: { cached_tokens: a.input_tokens_details.cached_tokens + b.input_tokens_details.cached_tokens },
    output_tokens: a.output_tokens + b.output_tokens,
    output_tokens_details: { reasoning_tokens: a.output_tokens_details.reasoning_tokens + b.output_tokens_details.reasoning_tokens },
    total_tokens: a.total_tokens + b.total_tokens,
  }));
}

