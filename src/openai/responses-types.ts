/**
 * Wire types of the OpenAI Responses API as CodexIn speaks it internally.
 *
 * Everything inside the gateway is a Responses request going in and a stream of
 * Responses events coming out (DESIGN.md §1). These types name the fields we read
 * or write; every object stays open (`[key: string]: unknown`) because pass-through
 * bodies must keep fields a newer client or upstream sends.
 */

export type JsonObject = { [key: string]: unknown };

export interface ContentPart extends JsonObject {
  type: string; // input_text | input_image | input_file | output_text | refusal | ...
  text?: string;
  image_url?: string;
  file_id?: string;
  detail?: string;
}

export interface ResponseItem extends JsonObject {
  type: string; // message | reasoning | function_call | function_call_output | custom_tool_call | ...
  id?: string;
  role?: string;
  status?: string;
  content?: ContentPart[] | string | null;
  call_id?: string;
  name?: string;
  arguments?: string;
  input?: string;
  output?: unknown;
  summary?: ContentPart[];
  encrypted_content?: string | null;
  phase?: string;
  result?: string;
  revised_prompt?: string;
}

export interface Tool extends JsonObject {
  type: string;
  name?: string;
}

/** The canonical request every route normalizes to before the upstream adapter. */
export interface ResponsesRequest extends JsonObject {
  model: string;
  input?: string | ResponseItem[];
  instructions?: string | null;
  tools?: Tool[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  reasoning?: { effort?: string; summary?: string | null; [key: string]: unknown } | null;
  text?: JsonObject;
  include?: string[];
  stream?: boolean;
  store?: boolean;
  prompt_cache_key?: string;
  service_tier?: string;
  previous_response_id?: string | null;
  client_metadata?: JsonObject;
  max_output_tokens?: number | null;
}

export interface Usage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseError extends JsonObject {
  code?: string | null;
  message: string;
  type?: string;
}

export interface ResponseObject extends JsonObject {
  id: string;
  object: 'response';
  created_at: number;
  /** When the response completed (unix seconds); null until then. */
  completed_at?: number | null;
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed' | 'queued' | 'cancelled';
  model: string;
  output: ResponseItem[];
  usage: Usage | null;
  error: ResponseError | null;
  incomplete_details: { reason: string } | null;
  output_text?: string;
}

/**
 * One event of a Responses stream (the JSON of an SSE `data:` line or a WebSocket frame).
 * `type` decides which of the optional fields are present.
 */
export interface ResponseStreamEvent extends JsonObject {
  type: string;
  sequence_number?: number;
  response?: ResponseObject;
  output_index?: number;
  content_index?: number;
  summary_index?: number;
  item_id?: string;
  item?: ResponseItem;
  part?: ContentPart;
  delta?: string;
  text?: string;
  arguments?: string;
  error?: ResponseError & { param?: string | null };
  message?: string;
}

/** Terminal event types: exactly one of these ends a well-formed stream. */
export const TERMINAL_EVENT_TYPES = new Set(['response.completed', 'response.incomplete', 'response.failed']);
