/**
 * TypeBox schema of POST /v1/chat/completions: the documented fields named for
 * Swagger, every other field kept (the translator decides what to forward or drop).
 */
import { t } from 'elysia';

const open = { additionalProperties: true } as const;

const ChatMessageSchema = t.Object(
  {
    role: t.String({ description: 'system | developer | user | assistant | tool | function' }),
    content: t.Optional(t.Union([t.String(), t.Array(t.Object({ type: t.String() }, open)), t.Null()])),
    name: t.Optional(t.String()),
    tool_calls: t.Optional(t.Array(t.Object({ id: t.String(), type: t.String() }, open))),
    tool_call_id: t.Optional(t.String()),
  },
  open,
);

const ChatCompletionBodySchema = t.Object(
  {
    model: t.String({ minLength: 1, examples: ['gpt-5.5'] }),
    messages: t.Array(ChatMessageSchema, { description: 'The conversation' }),
    stream: t.Optional(t.Union([t.Boolean(), t.Null()])),
    stream_options: t.Optional(t.Union([t.Object({ include_usage: t.Optional(t.Boolean()) }, open), t.Null()])),
    tools: t.Optional(t.Array(t.Object({ type: t.String() }, open))),
    tool_choice: t.Optional(t.Unknown()),
    parallel_tool_calls: t.Optional(t.Boolean()),
    response_format: t.Optional(t.Object({ type: t.String({ description: 'text | json_object | json_schema' }) }, open)),
    reasoning_effort: t.Optional(t.Union([t.String(), t.Null()])),
    max_tokens: t.Optional(t.Union([t.Integer(), t.Null()], { description: 'Accepted; the upstream ignores it (listed in x-codexin-ignored-params)' })),
    max_completion_tokens: t.Optional(t.Union([t.Integer(), t.Null()], { description: 'Accepted; the upstream ignores it (listed in x-codexin-ignored-params)' })),
    temperature: t.Optional(t.Union([t.Number(), t.Null()])),
    n: t.Optional(t.Union([t.Integer({ minimum: 1 }), t.Null()], { description: 'Only 1 is supported' })),
  },
  { ...open, description: 'OpenAI Chat Completions request' },
);

/** Cursor's BYOK mode posts a Responses-shaped body (`input`, no `messages`) here and expects Chat back. */
const ResponsesShapedChatBodySchema = t.Object(
  {
    model: t.String({ minLength: 1 }),
    input: t.Union([t.String(), t.Array(t.Object({}, open))]),
    stream: t.Optional(t.Union([t.Boolean(), t.Null()])),
  },
  { ...open, description: 'A Responses-shaped body (as Cursor sends), answered in Chat Completions form' },
);

export const ChatCompletionCreateSchema = t.Union([ChatCompletionBodySchema, ResponsesShapedChatBodySchema], {
  // Swagger UI pre-fills the try-it-out body with this; it succeeds as it is.
  example: {
    model: 'gpt-5.5',
    messages: [
      { role: 'system', content: 'You are a concise assistant.' },
      { role: 'user', content: 'Say hello in one short sentence.' },
    ],
  },
});

export const ChatCompletionSchema = t.Object(
  {
    id: t.String(),
    object: t.Literal('chat.completion'),
    created: t.Number(),
    model: t.String(),
    choices: t.Array(
      t.Object(
        {
          index: t.Number(),
          message: t.Object({ role: t.Literal('assistant'), content: t.Union([t.String(), t.Null()]) }, open),
          finish_reason: t.Union([t.String(), t.Null()]),
        },
        open,
      ),
    ),
    usage: t.Optional(t.Object({ prompt_tokens: t.Number(), completion_tokens: t.Number(), total_tokens: t.Number() }, open)),
  },
  { ...open, description: 'A chat completion (stream:false), or with stream:true a text/event-stream of chat.completion.chunk objects ending in [DONE]' },
);
