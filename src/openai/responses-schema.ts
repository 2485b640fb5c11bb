/**
 * TypeBox schema of POST /v1/responses. It names and documents the fields of the
 * OpenAI Responses API and keeps any other field (additionalProperties), so a
 * parameter a newer client sends is passed on rather than silently stripped.
 */
import { t, type TSchema } from 'elysia';
import type { SchemaOptions } from '@sinclair/typebox';

const open = { additionalProperties: true } as const;

/**
 * A field the spec types as nullable: `null` is accepted and means absent
 * (nullsAsAbsent() removes it before the request goes on). SDKs send explicit nulls:
 * the Python SDK's pydantic tools send `description: null`, `model_dump()` history
 * sends `phase: null`.
 */
function nullable<T extends TSchema>(schema: T, options: SchemaOptions = {}) {
  return t.Optional(t.Union([schema, t.Null()], options));
}

const ContentPart = t.Object(
  {
    type: t.String({ description: 'input_text | input_image | input_file | output_text | refusal | ...' }),
    text: t.Optional(t.String()),
    image_url: nullable(t.String(), { description: 'data: URL (base64) or http(s) URL' }),
    file_id: nullable(t.String()),
    detail: nullable(t.String(), { description: 'auto | low | high | original' }),
  },
  open,
);

export const InputItemSchema = t.Object(
  {
    type: t.Optional(
      t.String({
        description:
          'message | reasoning | function_call | function_call_output | custom_tool_call | custom_tool_call_output | image_generation_call | web_search_call | local_shell_call | compaction | ...',
      }),
    ),
    role: t.Optional(t.String({ description: 'user | assistant | developer | system (sent upstream as developer)' })),
    content: t.Optional(t.Union([t.String(), t.Array(ContentPart), t.Null()])),
    call_id: t.Optional(t.String()),
    name: t.Optional(t.String()),
    arguments: t.Optional(t.String()),
    output: t.Optional(t.Unknown()),
    phase: nullable(t.String(), { description: 'commentary | final_answer' }),
  },
  open,
);

export const ToolSchema = t.Object(
  {
    type: t.String({ description: 'function | custom | web_search | image_generation | local_shell | namespace | tool_search | ...' }),
    name: t.Optional(t.String()),
    description: nullable(t.String()),
    parameters: t.Optional(t.Unknown()),
    strict: t.Optional(t.Union([t.Boolean(), t.Null()])),
  },
  open,
);

export const ResponsesCreateSchema = t.Object(
  {
    model: t.String({ minLength: 1, description: 'A model id from GET /v1/models', examples: ['gpt-5.5'] }),
    input: t.Optional(t.Union([t.String(), t.Array(InputItemSchema)], { description: 'A string, or the conversation as input items' })),
    instructions: t.Optional(t.Union([t.String(), t.Null()])),
    stream: nullable(t.Boolean(), { description: 'Stream Server-Sent Events (default false)' }),
    tools: nullable(t.Array(ToolSchema)),
    tool_choice: t.Optional(t.Unknown()),
    parallel_tool_calls: nullable(t.Boolean()),
    reasoning: t.Optional(
      t.Union([
        t.Object({ effort: nullable(t.String(), { description: 'none | minimal | low | medium | high | xhigh' }), summary: nullable(t.String(), { description: 'auto | concise | detailed' }) }, open),
        t.Null(),
      ]),
    ),
    text: nullable(t.Object({ verbosity: nullable(t.String(), { description: 'low | medium | high' }), format: t.Optional(t.Unknown()) }, open)),
    include: nullable(t.Array(t.String())),
    store: nullable(t.Boolean(), { description: 'Nothing is stored (the upstream requires store:false); true is named in x-codexin-ignored-params' }),
    prompt_cache_key: nullable(t.String()),
    service_tier: nullable(t.String()),
    previous_response_id: t.Optional(t.Union([t.String(), t.Null()], { description: 'Only within one WebSocket connection' })),
    client_metadata: nullable(t.Object({}, open)),
    max_output_tokens: t.Optional(t.Union([t.Integer({ minimum: 1 }), t.Null()], { description: 'Accepted; the ChatGPT upstream ignores it' })),
  },
  {
    ...open,
    description: 'OpenAI Responses API request',
    // Swagger UI pre-fills the try-it-out body with this; it succeeds as it is.
    example: { model: 'gpt-5.5', input: 'Say hello in one short sentence.', instructions: 'You are a concise assistant.', stream: false },
  },
);

/** A request to POST /v1/responses/compact: the conversation to compact. */
export const CompactRequestSchema = t.Object(ResponsesCreateSchema.properties, {
  ...open,
  description: 'The conversation to compact, as a Responses request',
  example: {
    model: 'gpt-5.5',
    instructions: 'You are a concise assistant.',
    input: [
      { role: 'user', content: 'What is the capital of France?' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Paris.' }] },
      { role: 'user', content: 'And of Italy?' },
    ],
  },
});

export const ResponseObjectSchema = t.Object(
  {
    id: t.String(),
    object: t.Literal('response'),
    created_at: t.Number(),
    status: t.String(),
    model: t.String(),
    output: t.Array(t.Object({ type: t.String(), id: t.Optional(t.String()) }, open)),
    output_text: t.Optional(t.String()),
    usage: t.Union([
      t.Object(
        {
          input_tokens: t.Number(),
          input_tokens_details: t.Object({ cached_tokens: t.Number() }),
          output_tokens: t.Number(),
          output_tokens_details: t.Object({ reasoning_tokens: t.Number() }),
          total_tokens: t.Number(),
        },
        open,
      ),
      t.Null(),
    ]),
    error: t.Union([t.Object({}, open), t.Null()]),
    incomplete_details: t.Union([t.Object({ reason: t.String() }, open), t.Null()]),
    completed_at: t.Union([t.Number(), t.Null()], { description: 'Set when status is completed' }),
    // Echoed from the request, or the API's default when it was not given.
    instructions: t.Union([t.String(), t.Array(t.Unknown()), t.Null()]),
    tools: t.Array(t.Object({ type: t.String() }, open)),
    tool_choice: t.Unknown({ description: 'auto (default) | none | required | a tool choice object' }),
    parallel_tool_calls: t.Boolean(),
    reasoning: t.Union([t.Object({}, open), t.Null()]),
    text: t.Object({ format: t.Object({ type: t.String() }, open), verbosity: t.Optional(t.String()) }, open),
    truncation: t.String(),
    temperature: t.Number(),
    top_p: t.Number(),
    presence_penalty: t.Number(),
    frequency_penalty: t.Number(),
    top_logprobs: t.Number(),
    max_output_tokens: t.Union([t.Number(), t.Null()]),
    max_tool_calls: t.Union([t.Number(), t.Null()]),
    previous_response_id: t.Union([t.String(), t.Null()]),
    metadata: t.Union([t.Record(t.String(), t.String()), t.Null()]),
    store: t.Boolean({ description: 'Always false: nothing is stored' }),
    background: t.Boolean(),
    service_tier: t.String(),
    safety_identifier: t.Union([t.String(), t.Null()]),
    prompt_cache_key: t.Union([t.String(), t.Null()]),
  },
  { ...open, description: 'A Response (stream:false), or with stream:true a text/event-stream of Responses events' },
);

export const CompactResourceSchema = t.Object(
  {
    id: t.String(),
    object: t.Literal('response.compaction'),
    created_at: t.Number(),
    output: t.Array(InputItemSchema, { description: 'The compacted conversation: send it as `input` on the next request' }),
    usage: ResponseObjectSchema.properties.usage,
  },
  { ...open, description: 'The compaction resource' },
);
