/**
 * TypeBox schemas of the OpenAI shapes CodexIn emits on its simple JSON routes.
 * They feed both response validation and the OpenAPI document.
 */
import { t } from 'elysia';
import { Type } from '@sinclair/typebox';

export const ErrorEnvelopeSchema = t.Object(
  {
    error: t.Object({
      message: t.String(),
      type: t.String(),
      param: t.Union([t.String(), t.Null()]),
      code: t.Union([t.String(), t.Null()]),
    }, { additionalProperties: true }),
  },
  { description: 'OpenAI error envelope' },
);

export const ModelSchema = t.Object({
  id: t.String({ examples: ['gpt-5.5'] }),
  object: t.Literal('model'),
  // Plain TypeBox integers: Elysia's t.Integer also accepts numeric strings, which is noise in an output schema.
  created: Type.Integer(),
  owned_by: t.String(),
  context_window: Type.Integer({ description: 'Maximum context length in tokens' }),
});

export const ModelListSchema = t.Object({
  object: t.Literal('list'),
  data: t.Array(ModelSchema),
});

/** The error statuses every authenticated JSON route can answer with. */
export const authErrorResponses = {
  401: ErrorEnvelopeSchema,
  403: ErrorEnvelopeSchema,
  429: ErrorEnvelopeSchema,
} as const;
