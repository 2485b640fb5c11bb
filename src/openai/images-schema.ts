/**
 * TypeBox schemas of the image routes: the image-analysis helper, image
 * generation (OpenAI Images API shape) and the ChatGPT image upload.
 */
import { t } from 'elysia';
import { Type } from '@sinclair/typebox';
import { FileObjectSchema } from './files-schema';

const UsageSchema = t.Object({}, { additionalProperties: true, description: 'Responses usage of the underlying call(s)' });

export const ImageAnalysisBodySchema = t.Object(
  {
    prompt: t.String({ minLength: 1, description: 'What to ask about the image' }),
    image_url: t.String({ description: 'A data URL (data:image/png;base64,...) of a PNG, JPEG, GIF or WebP image, at most 20 MB' }),
    model: t.Optional(t.String({ description: 'A model of GET /v1/models (default: gpt-5.4-mini when enabled, else the first model this key may use)' })),
    detail: t.Optional(t.Union([t.Literal('auto'), t.Literal('low'), t.Literal('high'), t.Literal('original')])),
    stream: t.Optional(t.Boolean()),
  },
  { additionalProperties: true, example: { prompt: 'What colour is this image?', image_url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGMQWFwPAAH5ATMaZSmcAAAAAElFTkSuQmCC', detail: 'auto' } },
);

export const ImageAnalysisSchema = t.Object({
  id: t.String({ description: 'The id of the underlying Response' }),
  model: t.String(),
  text: t.String(),
  usage: t.Union([UsageSchema, t.Null()]),
});

export const ImageGenerationBodySchema = t.Object(
  {
    prompt: t.String({ minLength: 1, maxLength: 32_000 }),
    model: t.Optional(
      t.String({
        description:
          'gpt-image-* names the image model of the tool; a model of GET /v1/models drives the Responses call instead; dall-e-* is accepted and ignored (the upstream has gpt-image only)',
      }),
    ),
    n: t.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Images are generated one after another (default 1)' })),
    size: t.Optional(t.String({ pattern: '^(auto|[0-9]{3,4}x[0-9]{3,4})$', description: 'auto, 1024x1024, 1536x1024, 1024x1536' })),
    quality: t.Optional(t.Union([t.Literal('auto'), t.Literal('low'), t.Literal('medium'), t.Literal('high'), t.Literal('standard'), t.Literal('hd')])),
    background: t.Optional(t.Union([t.Literal('auto'), t.Literal('transparent'), t.Literal('opaque')])),
    output_format: t.Optional(t.Union([t.Literal('png'), t.Literal('jpeg'), t.Literal('webp')])),
    output_compression: t.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    moderation: t.Optional(t.Union([t.Literal('auto'), t.Literal('low')])),
    response_format: t.Optional(t.Union([t.Literal('b64_json'), t.Literal('url')], { description: 'url gives a data: URL (nothing is hosted)' })),
    stream: t.Optional(t.Boolean()),
  },
  { additionalProperties: true, example: { prompt: 'A watercolour lighthouse at dawn', size: '1024x1024', quality: 'low', output_format: 'png' } },
);

export const ImagesResponseSchema = t.Object(
  {
    created: Type.Integer(),
    data: t.Array(
      t.Object({
        b64_json: t.Optional(t.String()),
        url: t.Optional(t.String()),
        revised_prompt: t.Optional(t.String()),
      }),
    ),
    background: t.Optional(t.String()),
    output_format: t.Optional(t.String()),
    quality: t.Optional(t.String()),
    size: t.Optional(t.String()),
    usage: t.Optional(UsageSchema),
  },
  { description: 'OpenAI ImagesResponse' },
);

export const ImageUploadBodySchema = t.Object(
  {
    file: t.File({ description: 'A PNG, JPEG, GIF or WebP image, at most 20 MB' }),
    purpose: t.Optional(t.String({ description: 'Purpose of the local copy (default vision)' })),
  },
  { additionalProperties: true, example: { purpose: 'vision' } },
);

export const CodexImageSchema = t.Composite([
  FileObjectSchema,
  t.Object({
    asset_pointer: t.String({ examples: ['sediment://file_00000000000000000000000000000000'], description: 'The upstream file as ChatGPT references it' }),
    upstream_file_id: t.String(),
    mime_type: t.String(),
  }),
]);
