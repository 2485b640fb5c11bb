/**
 * Wire types of the OpenAI Chat Completions API as CodexIn accepts and emits it.
 *
 * Chat Completions is an edge format (DESIGN.md §1): requests are translated to a
 * Responses request and the Responses output/events are translated back. These
 * types name the fields the translators read or write. Request-side objects stay
 * open (`[key: string]: unknown`) because clients send fields we do not name yet,
 * and the translator must see them to forward or report them.
 */

import type { JsonObject } from './responses-types';

// ---------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------

/** One part of a message's `content` array. `type` decides which field is present. */
export interface ChatContentPart extends JsonObject {
  type: string; // text | image_url | input_audio | file | refusal
  text?: string;
  /** Chat allows both `{url, detail}` and a bare URL string (older clients). */
  image_url?: string | { url: string; detail?: string; [key: string]: unknown };
  input_audio?: { data: string; format: string };
  file?: { file_id?: string; file_data?: string; filename?: string; [key: string]: unknown };
  refusal?: string;
}

export type ChatMessageContent = string | ChatContentPart[];

export interface ChatFunctionCall {
  name: string;
  arguments: string;
}

/** A tool call as it appears in an assistant message (request) or a completion (response). */
export interface ChatToolCall extends JsonObject {
  id: string;
  type: 'function' | 'custom' | (string & {});
  function?: ChatFunctionCall;
  /** Chat's freeform-tool call shape (`type: "custom"`). */
  custom?: { name: string; input: string };
}

export interface ChatSystemMessage extends JsonObject {
  role: 'system' | 'developer';
  content: ChatMessageContent;
  name?: string;
}

export interface ChatUserMessage extends JsonObject {
  role: 'user';
  content: ChatMessageContent;
  name?: string;
}

export interface ChatAssistantMessage extends JsonObject {
  role: 'assistant';
  content?: ChatMessageContent | null;
  refusal?: string | null;
  tool_calls?: ChatToolCall[];
  /** Legacy (pre-tools) single function call. */
  function_call?: ChatFunctionCall | null;
  /** Reasoning text some clients echo back (DeepSeek-style); never replayed upstream. */
  reasoning_content?: string | null;
  name?: string;
}

export interface ChatToolMessage extends JsonObject {
  role: 'tool';
  content: ChatMessageContent;
  tool_call_id: string;
}

/** Legacy result of an assistant `function_call`; it carries the function name, not a call id. */
export interface ChatFunctionMessage extends JsonObject {
  role: 'function';
  name: string;
  content: string | null;
}

export type ChatMessage =
  | ChatSystemMessage
  | ChatUserMessage
  | ChatAssistantMessage
  | ChatToolMessage
  | ChatFunctionMessage;

export type ChatRole = ChatMessage['role'];

export interface ChatFunctionDefinition extends JsonObject {
  name: string;
  description?: string;
  parameters?: JsonObject;
  strict?: boolean | null;
}

export interface ChatFunctionTool extends JsonObject {
  type: 'function';
  function: ChatFunctionDefinition;
}

/** Chat's freeform tool: `{type:"custom", custom:{name, description?, format?}}`. */
export interface ChatCustomTool extends JsonObject {
  type: 'custom';
  custom: {
    name: string;
    description?: string;
    format?: { type: 'text' } | { type: 'grammar'; grammar: { definition: string; syntax: string } } | JsonObject;
  };
}

/** Any other tool type is passed through to the Responses request untouched. */
export type ChatTool = ChatFunctionTool | ChatCustomTool | (JsonObject & { type: string });

export type ChatToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; function: { name: string } }
  | { type: 'custom'; custom: { name: string } }
  | { type: 'allowed_tools'; allowed_tools: { mode: string; tools: JsonObject[] } }
  | JsonObject;

export type ChatResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; description?: string; schema?: JsonObject; strict?: boolean | null };
    };

export interface ChatCompletionRequest extends JsonObject {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean; [key: string]: unknown } | null;
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  /** Legacy tool declaration (pre-`tools`). */
  functions?: ChatFunctionDefinition[];
  /** Legacy tool choice (pre-`tool_choice`). */
  function_call?: 'none' | 'auto' | { name: string };
  response_format?: ChatResponseFormat;
  reasoning_effort?: string | null;
  /** Non-standard but common (Open WebUI, Hermes): `{effort, summary?, enabled?}`. */
  reasoning?: { effort?: string; summary?: string; enabled?: boolean; [key: string]: unknown } | null;
  verbosity?: string | null;
  prompt_cache_key?: string;
  service_tier?: string | null;
  n?: number | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  audio?: JsonObject | null;
  modalities?: string[] | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  logit_bias?: Record<string, number> | null;
  user?: string;
  metadata?: Record<string, string> | null;
  store?: boolean | null;
  prediction?: JsonObject | null;
  web_search_options?: JsonObject | null;
}

// ---------------------------------------------------------------------------
// Response (non-stream)
// ---------------------------------------------------------------------------

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export type ChatFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  tool_calls?: ChatToolCall[];
  /** The legacy (`functions`) form of one tool call, answered to a request that used `functions`. */
  function_call?: { name: string; arguments: string };
  /** Reasoning summary text; the de-facto field clients (Hermes, AI SDK compatible) read. */
  reasoning_content?: string;
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  logprobs: null;
  finish_reason: ChatFinishReason;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  service_tier?: string;
  choices: ChatCompletionChoice[];
  usage?: ChatUsage;
}

// ---------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------

/** A tool-call fragment: the first carries id/type/name, later ones only argument text. */
export interface ChatToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionDelta {
  role?: 'assistant';
  content?: string;
  refusal?: string;
  reasoning_content?: string;
  tool_calls?: ChatToolCallDelta[];
  /** Legacy `functions` form: the first fragment carries the name, later ones argument text. */
  function_call?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: ChatCompletionDelta;
  logprobs: null;
  finish_reason: ChatFinishReason | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatCompletionChunkChoice[];
  /** Present only when the client asked for `stream_options.include_usage`: null until the last chunk. */
  usage?: ChatUsage | null;
}

/**
 * An error sent as a `data:` line mid-stream. The openai SDKs throw an APIError for any
 * data JSON with a truthy `error`, so this is how a stream failure reaches the caller.
 */
export interface ChatStreamError {
  error: { message: string; type: string; code: string | null; param: string | null };
}
