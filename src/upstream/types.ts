/**
 * The seam between the HTTP surface and whatever answers Responses requests.
 * Routes only ever see this interface; `chatgpt/`, `openai/` and the simulator
 * (through `chatgpt/` pointed at it) implement it.
 */
import type { ResponsesRequest, ResponseStreamEvent, ResponseItem } from '../openai/responses-types';

export interface UpstreamCallContext {
  /** Aborted when the client goes away; the upstream request must be cancelled with it. */
  signal: AbortSignal;
  /** The calling API key's id: scopes derived prompt-cache keys and metering. */
  keyId: string;
  /** The inbound request id, forwarded for correlation. */
  requestId: string;
  /** Client headers worth forwarding (session_id, x-codex-turn-state, ...), lower-cased names. */
  forwardHeaders?: Record<string, string>;
}

export interface UpstreamStream {
  /** Parsed events in arrival order; iterating pulls from the network (no buffering). */
  events: AsyncIterable<ResponseStreamEvent>;
  /** Headers worth passing to the client (e.g. x-codex-turn-state, openai-model). */
  headers: Record<string, string>;
  /** The account that served the request (chatgpt mode), for metering. */
  accountId: string | null;
}

export interface Upstream {
  readonly kind: 'chatgpt' | 'openai' | 'mock';
  /** Starts a streamed Responses call. Throws ApiError for non-2xx answers (before any event). */
  createResponse(request: ResponsesRequest, ctx: UpstreamCallContext): Promise<UpstreamStream>;
  /** Remote compaction (POST /responses/compact): returns the compacted output items. */
  compact(request: ResponsesRequest, ctx: UpstreamCallContext): Promise<{ output: ResponseItem[]; [key: string]: unknown }>;
}
