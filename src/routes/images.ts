/**
 * Image routes:
 * - POST /v1/codex/image-analysis (any key): ask about one image;
 * - POST /v1/codex/image-generation and POST /v1/images/generations (advanced):
 *   OpenAI Images API over the Responses image_generation tool;
 * - POST /v1/codex/images (advanced): store an image here and upload it to the
 *   ChatGPT file service, returning its `sediment://` asset pointer.
 */
import { Elysia } from 'elysia';
import { ApiError, badRequest, quote } from '../openai/api-error';
import { MAX_IMAGE_BYTES, sniffMime, validateImageUrl } from '../openai/image-input';
import { ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import { toFileObject } from '../openai/files-schema';
import {
  CodexImageSchema,
  ImageAnalysisBodySchema,
  ImageAnalysisSchema,
  ImageGenerationBodySchema,
  ImageUploadBodySchema,
  ImagesResponseSchema,
} from '../openai/images-schema';
import type { Usage } from '../openai/responses-types';
import { jsonParser } from '../http/json-body';
import { multipartParser, textField } from '../http/multipart-body';
import { requestIdPlugin } from '../http/request-id';
import type { authPlugin } from '../http/auth';
import type { KeyRecord, KeyStore } from '../store/keys';
import type { RequestTrace } from '../observe/trace';
import type { AssetsUpstream } from '../upstream/types';
import { FILE_PURPOSES, type FileService } from '../service/files';
import { unaryCall } from '../call/unary-call';
import { startResponse, forwardableHeaders, resolveModel } from '../call/model-call';
import { estimateInputTokens } from '../call/admission';
import { generateImage, helperModel, imageAnalysisRequest, imageGenerationRequest, sumUsage, type GeneratedImage } from '../service/images';
import { sseBody } from '../sinks/sse-body';
import { analysisSseFormat } from '../sinks/analysis-sse';
import { MULTIPART_OVERHEAD_BYTES } from './files';
import { SSE_HEADERS, type ResponsesRouteDeps } from './responses';

export interface ImagesRouteDeps extends ResponsesRouteDeps {
  files: FileService;
  assets: AssetsUpstream;
  keys: KeyStore;
}

const errors = { 400: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 413: ErrorEnvelopeSchema, 415: ErrorEnvelopeSchema, 501: ErrorEnvelopeSchema, 502: ErrorEnvelopeSchema, 503: ErrorEnvelopeSchema, ...authErrorResponses };

// dall-e's quality names, mapped onto gpt-image's.
const QUALITY_ALIASES: Record<string, string> = { standard: 'medium', hd: 'high' };

/** `model` of the Images API names an image model; a catalog model id drives the Responses call instead. */
function splitModel(model: string | undefined): { responsesModel?: string; imageModel?: string; ignored: boolean } {
  if (!model) return { ignored: false };
  if (/^gpt-image/i.test(model)) return { imageModel: model, ignored: false };
  if (/^dall-e/i.test(model)) return { ignored: true };
  return { responsesModel: model, ignored: false };
}

function mimeOfFormat(format: string | null): string {
  return format === 'jpeg' ? 'image/jpeg' : format === 'webp' ? 'image/webp' : 'image/png';
}

export function imagesRoutes(auth: ReturnType<typeof authPlugin>, deps: ImagesRouteDeps) {
  const generation = async (
    { body, apiKey, request, trace, set }: {
      body: typeof ImageGenerationBodySchema.static;
      apiKey: KeyRecord;
      request: Request;
      trace: RequestTrace;
      set: { headers: Record<string, unknown> };
    },
    route: string,
  ) => {
    if (body.stream === true) throw badRequest('Streaming image generation is not supported; omit stream.', 'stream', 'unsupported_parameter');
    const { responsesModel, imageModel, ignored } = splitModel(body.model);
    const extra = body as Record<string, unknown>;
    // dall-e's style and the abuse-tracking user field have no upstream counterpart; partial images need streaming, which is refused.
    const named = (name: string) => (extra[name] !== undefined && extra[name] !== null ? name : null);
    const ignoredParams = [ignored ? 'model' : null, named('style'), named('user'), named('partial_images')].filter((p): p is string => p !== null);
    if (ignoredParams.length) set.headers['x-codexin-ignored-params'] = ignoredParams.join(', ');
    const model = helperModel(deps.models, apiKey, responsesModel);
    const upstreamRequest = imageGenerationRequest(model, {
      prompt: body.prompt,
      imageModel,
      size: body.size,
      quality: body.quality ? (QUALITY_ALIASES[body.quality] ?? body.quality) : undefined,
      background: body.background,
      outputFormat: body.output_format,
      outputCompression: body.output_compression,
      moderation: body.moderation,
    });
    const images: GeneratedImage[] = [];
    const usages: (Usage | null)[] = [];
    const n = body.n ?? 1;
    resolveModel(deps.models, apiKey, model);
    // All n calls are admitted up front (rpm, quota, concurrency): a key that may not
    // make n images gets its 429 before the first one is generated, not after.
    const group = await deps.limiter.admit(apiKey, { calls: n, inputTokens: estimateInputTokens(upstreamRequest.input) });
    const admission = { headers: group.headers, release: () => {} };
    try {
      // One call per image, one after another: the tool makes one image per call, and
      // parallel calls would spend the subscription's image quota in bursts.
      for (let i = 0; i < n; i++) {
        const run = await generateImage(deps, {
          request: upstreamRequest,
          key: apiKey,
          trace,
          route,
          signal: request.signal,
          forwardHeaders: forwardableHeaders(Object.fromEntries(request.headers)),
          admission,
        });
        images.push(run.image);
        usages.push(run.response.usage);
      }
    } finally {
      group.release();
    }
    Object.assign(set.headers, group.headers);
    const first = images[0]!;
    const usage = sumUsage(usages);
    return {
      created: Math.floor(Date.now() / 1000),
      data: images.map((img) => ({
        ...(body.response_format === 'url' ? { url: `data:${mimeOfFormat(img.outputFormat)};base64,${img.b64}` } : { b64_json: img.b64 }),
        ...(img.revisedPrompt ? { revised_prompt: img.revisedPrompt } : {}),
      })),
      ...(first.background ? { background: first.background } : {}),
      ...(first.outputFormat ? { output_format: first.outputFormat } : {}),
      ...(first.quality ? { quality: first.quality } : {}),
      ...(first.size ? { size: first.size } : {}),
      ...(usage ? { usage } : {}),
    };
  };

  const generationDetail = (summary: string) => ({
    summary,
    description:
      'A Responses call with the `image_generation` tool forced by `tool_choice`; returns `{created, data:[{b64_json, revised_prompt}]}`. `n > 1` runs that many calls one after another. When the upstream generates no image (a refusal, a policy block, a plan without the tool) the answer is a 400 quoting the upstream\'s reason. Streaming is not supported.',
  });

  return new Elysia({ name: 'codexin.routes.images', detail: { tags: ['Images'] } })
    .use(requestIdPlugin)
    .use(auth)
    .post(
      '/v1/codex/image-analysis',
      async ({ body, apiKey, request, requestId, trace }) => {
        validateImageUrl(body.image_url, 'image_url');
        if (!/^data:/i.test(body.image_url)) throw badRequest('image_url must be a data URL (data:image/png;base64,...).', 'image_url', 'invalid_image_url');
        const model = helperModel(deps.models, apiKey, body.model);
        const started = await startResponse(deps, {
          request: imageAnalysisRequest(model, body.prompt, body.image_url, body.detail),
          key: apiKey,
          trace,
          route: '/v1/codex/image-analysis',
          signal: request.signal,
          forwardHeaders: forwardableHeaders(Object.fromEntries(request.headers)),
        });
        if (body.stream === true) {
          const stream = sseBody(analysisSseFormat(started.model), started, deps.keepaliveMs);
          return new Response(stream, { headers: { ...SSE_HEADERS, ...started.headers, 'x-request-id': requestId } });
        }
        const response = await started.aggregate();
        const reply = { id: response.id, model: started.model, text: response.output_text ?? '', usage: response.usage };
        return new Response(JSON.stringify(reply), { headers: { 'content-type': 'application/json', ...started.headers, 'x-request-id': requestId } });
      },
      {
        auth: 'any',
        // The 'json' entry never runs (jsonParser always answers); it tells the OpenAPI document the body is JSON.
        parse: [jsonParser(deps.maxBodyBytes), 'json'],
        body: ImageAnalysisBodySchema,
        response: { 200: ImageAnalysisSchema, ...errors },
        detail: {
          summary: 'Ask about an image',
          description:
            'One Responses call with `input_text` + `input_image`. Reply: `{id, model, text, usage}`. With `stream: true` the reply is text/event-stream of three event kinds: `event: delta` `{"type":"delta","text"}` (the answer, piece by piece), then exactly one of `event: done` `{"type":"done","id","model","text","usage"}` or `event: error` `{"type":"error","error":{"message","type","code"}}`.',
        },
      },
    )
    .post('/v1/codex/image-generation', (ctx) => generation(ctx, '/v1/codex/image-generation'), {
      auth: 'advanced',
      parse: [jsonParser(deps.maxBodyBytes, 'advanced'), 'json'],
      body: ImageGenerationBodySchema,
      response: { 200: ImagesResponseSchema, ...errors },
      detail: generationDetail('Generate images (Codex helper)'),
    })
    .post('/v1/images/generations', (ctx) => generation(ctx, '/v1/images/generations'), {
      auth: 'advanced',
      parse: [jsonParser(deps.maxBodyBytes, 'advanced'), 'json'],
      body: ImageGenerationBodySchema,
      response: { 200: ImagesResponseSchema, ...errors },
      detail: generationDetail('Create images (OpenAI Images API)'),
    })
    .post(
      '/v1/codex/images',
      async ({ body, apiKey, request, requestId, trace }) => {
        const file = body.file;
        if (file.size > MAX_IMAGE_BYTES) {
          throw new ApiError(413, 'invalid_request_error', `The image is ${file.size} bytes; the limit is ${MAX_IMAGE_BYTES} bytes (20 MB).`, { param: 'file', code: 'file_too_large' });
        }
        const purpose = textField(body, 'purpose') ?? 'vision';
        if (!(FILE_PURPOSES as readonly string[]).includes(purpose)) throw badRequest(`'purpose' must be one of ${FILE_PURPOSES.join(', ')}.`, 'purpose', 'invalid_purpose');
        const bytes = new Uint8Array(await file.arrayBuffer());
        // The bytes decide: a declared image/png that is not one is refused, an octet-stream PNG is fine.
        const mime = sniffMime(bytes.subarray(0, 16));
        if (!mime) throw badRequest(`The file "${quote(file.name)}" is not a PNG, JPEG, GIF or WebP image.`, 'file', 'invalid_image_format');
        const filename = file.name || `image.${mime.split('/')[1]}`;
        const uploaded = await unaryCall(deps, { key: apiKey, route: '/v1/codex/images', model: null, trace }, () =>
          deps.assets.uploadFile({ bytes, filename, mime }, { signal: request.signal, keyId: apiKey.id, requestId }),
        );
        // Stored after the upstream accepted it, so a failed upload leaves nothing behind.
        const record = await deps.files.create(apiKey.id, { filename, purpose, bytes, declaredMime: mime, upstreamFileId: uploaded.fileId });
        return { ...toFileObject(record), asset_pointer: `sediment://${uploaded.fileId}`, upstream_file_id: uploaded.fileId, mime_type: mime };
      },
      {
        auth: 'advanced',
        parse: [
          multipartParser({
            maxBytes: MAX_IMAGE_BYTES + MULTIPART_OVERHEAD_BYTES,
            requiredFiles: ['file'],
            requirement: 'advanced',
          }),
          'formdata',
        ],
        body: ImageUploadBodySchema,
        response: { 200: CodexImageSchema, ...errors },
        detail: {
          summary: 'Upload an image to ChatGPT',
          description:
            'Stores the image here (like POST /v1/files, purpose `vision`) and uploads it to the ChatGPT file service (create → upload → confirm). Returns the local file object plus `asset_pointer` (`sediment://<upstream file id>`). An upstream 429 comes back as 429 with `retry-after`. Needs --upstream chatgpt (501 otherwise).',
        },
      },
    );
}
