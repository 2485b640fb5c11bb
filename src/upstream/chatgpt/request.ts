/**
 * Canonical Responses request → the body and headers the ChatGPT Codex backend
 * accepts (research/chatgpt-upstream-protocol.md §3.3). Pure: no I/O.
 *
 * The backend only streams, only accepts `store:false`, rejects a list of sampling
 * and bookkeeping parameters, and refuses `system` input roles. Everything else a
 * client sends is kept, so fields a newer client adds still reach the model.
 */
import type { ResponseItem, ResponsesRequest, JsonObject } from '../../openai/responses-types';
import { badRequest } from '../../openai/api-error';
import { VERSION } from '../../version';

/** Parameters the backend rejects (400 "Unsupported parameter") or that have no meaning without storage. */
export const CHATGPT_DROPPED_PARAMS = [
  'max_output_tokens',
  'max_completion_tokens',
  'max_tool_calls',
  'temperature',
  'top_p',
  'top_logprobs',
  'truncation',
  'user',
  'safety_identifier',
  'metadata',
  'prompt_cache_retention',
  'prompt_cache_options',
  'stream_options',
  'previous_response_id',
  'context_management',
  'background',
  'conversation',
  // WebSocket-only field (Codex's prewarm); the transport handles it before the adapter.
  'generate',
] as const;

/** The Codex CLI version we present as; the backend gates models by client version. */
export const CODEX_CLIENT_VERSION = '0.169.0';
export const ORIGINATOR = 'codex_cli_rs';
export const USER_AGENT = `${ORIGINATOR}/${CODEX_CLIENT_VERSION} (CodexIn ${VERSION})`;

// Input item types whose ids refer to stored items: with store:false the backend can't resolve them.
const STRIP_ID_TYPES = new Set(['message', 'reasoning', 'function_call', 'custom_tool_call', 'web_search_call', 'local_shell_call']);

export interface ChatGptRequest {
  body: JsonObject;
  promptCacheKey: string;
  dropped: string[];
}

function normalizeInput(input: ResponsesRequest['input']): ResponseItem[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  return input.map((item, index) => {
    if (!item || typeof item !== 'object') throw badRequest(`input[${index}] must be an object`, `input[${index}]`);
    // Bare {role, content} messages (EasyInputMessage) have no type.
    const typed: ResponseItem = item.type === undefined && typeof item.role === 'string' ? { ...item, type: 'message' } : { ...item };
    if (typed.type === 'item_reference') {
      throw badRequest(
        `input[${index}] is an item_reference, but this server does not store responses (the upstream requires store:false). Send the full item instead (for the AI SDK: providerOptions.openai.store = false).`,
        `input[${index}]`,
        'item_reference_unsupported',
      );
    }
    if (typed.type === 'message' && typed.role === 'system') typed.role = 'developer';
    if (typed.type === 'message' && typeof typed.content === 'string') {
      typed.content = [{ type: typed.role === 'assistant' ? 'output_text' : 'input_text', text: typed.content }];
    }
    if (STRIP_ID_TYPES.has(typed.type)) delete typed.id;
    return typed;
  });
}

/** Same key + same conversation start → same cache key, so upstream prompt caching hits. */
export function derivePromptCacheKey(keyId: string, request: ResponsesRequest, input: ResponseItem[]): string {
  const firstUser = input.find((i) => i.type === 'message' && i.role === 'user');
  const seed = JSON.stringify([keyId, request.model, request.instructions ?? '', firstUser?.content ?? null]);
  return 'ci-' + new Bun.CryptoHasher('sha256').update(seed).digest('hex').slice(0, 32);
}

export function toChatGptRequest(request: ResponsesRequest, keyId: string): ChatGptRequest {
  const body: JsonObject = { ...request };
  const dropped: string[] = [];
  for (const name of CHATGPT_DROPPED_PARAMS) {
    if (name in body) {
      if (body[name] !== null && body[name] !== undefined) dropped.push(name);
      delete body[name];
    }
  }
  if (typeof body.service_tier === 'string' && body.service_tier !== 'priority') {
    if (body.service_tier !== 'auto' && body.service_tier !== 'default') dropped.push('service_tier');
    delete body.service_tier;
  }
  // Nothing is stored upstream (store must be false there): a client asking for storage is told.
  if (request.store === true) dropped.push('store');
  const input = normalizeInput(request.input);
  body.input = input;
  body.instructions = typeof request.instructions === 'string' ? request.instructions : '';
  body.stream = true;
  body.store = false;
  if (Array.isArray(body.tools)) {
    body.tools = (body.tools as JsonObject[]).map((tool) =>
      typeof tool.type === 'string' && tool.type.startsWith('web_search_preview') ? { ...tool, type: 'web_search' } : tool,
    );
  }
  if (body.reasoning !== null) {
    const include = new Set(Array.isArray(body.include) ? (body.include as string[]) : []);
    include.add('reasoning.encrypted_content');
    body.include = [...include];
  }
  const promptCacheKey = typeof request.prompt_cache_key === 'string' && request.prompt_cache_key ? request.prompt_cache_key : derivePromptCacheKey(keyId, request, input);
  body.prompt_cache_key = promptCacheKey;
  return { body, promptCacheKey, dropped };
}

// Control characters (CR/LF/NUL...) cannot be in a header value: fetch throws and the
// client would see a 502 for its own mistake.
const CONTROL_CHARS = /[\x00-\x08\x0a-\x1f\x7f]/;
const NON_LATIN1 = /[^\x00-\xff]/;
/** Far above any real routing value, well below what proxies accept for one header line. */
export const MAX_HEADER_VALUE_CHARS = 8192;

/**
 * A client-sourced value ready for an upstream header: 400 naming `param` when it holds
 * control characters; text beyond Latin-1 is sent as its UTF-8 bytes (what a client
 * putting UTF-8 into a header sends), since fetch refuses such header strings.
 */
export function toHeaderValue(value: string, param: string): string {
  if (CONTROL_CHARS.test(value)) {
    throw badRequest(`'${param}' contains control characters (CR, LF, NUL...); it is sent upstream as an HTTP header, so use printable text.`, param, 'invalid_header_value');
  }
  if (value.length > MAX_HEADER_VALUE_CHARS) {
    throw badRequest(`'${param}' is longer than ${MAX_HEADER_VALUE_CHARS} characters; it is sent upstream as an HTTP header.`, param, 'invalid_header_value');
  }
  return NON_LATIN1.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/** The forwarded routing headers made header-safe; over the WebSocket they come from client_metadata. */
export function headerSafeForward(forward: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!forward) return forward;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(forward)) out[name] = toHeaderValue(value, name === 'session_id' ? 'session_id' : `client_metadata.${name}`);
  return out;
}

// Client headers that carry Codex session routing and are safe to pass upstream.
const FORWARDED_HEADERS = ['x-codex-turn-state', 'x-codex-window-id', 'x-codex-turn-metadata', 'x-client-request-id', 'x-openai-subagent', 'x-codex-beta-features'];

export function chatGptHeaders(opts: {
  accessToken: string;
  chatgptAccountId: string;
  sessionId: string;
  forward?: Record<string, string>;
}): Record<string, string> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${opts.accessToken}`,
    'chatgpt-account-id': opts.chatgptAccountId,
    originator: ORIGINATOR,
    'user-agent': USER_AGENT,
    version: CODEX_CLIENT_VERSION,
    session_id: opts.sessionId,
    'content-type': 'application/json',
    accept: 'text/event-stream',
  };
  for (const name of FORWARDED_HEADERS) {
    const value = opts.forward?.[name];
    if (value) headers[name] = value;
  }
  return headers;
}
