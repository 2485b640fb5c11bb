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
  /** The SSE body, decoded, normalized and cancelled by the model call's pump (no buffering). */
  body?: ReadableStream<Uint8Array>;
  /** Already parsed events, for an upstream that has no SSE body to hand over; used when `body` is absent. */
  events?: AsyncIterable<ResponseStreamEvent>;
  /** Headers worth passing to the client (e.g. x-codex-turn-state, openai-model). */
  headers: Record<string, string>;
  /** The account that served the request (chatgpt mode), for metering. */
  accountId: string | null;
}

/** The upstream's compaction answer, and the request fields it had to drop (named to the client). */
export interface CompactResult {
  output: ResponseItem[];
  ignoredParams?: string[];
  [key: string]: unknown;
}

export interface Upstream {
  readonly kind: 'chatgpt' | 'openai' | 'mock';
  /** Starts a streamed Responses call. Throws ApiError for non-2xx answers (before any event). */
  createResponse(request: ResponsesRequest, ctx: UpstreamCallContext): Promise<UpstreamStream>;
  /** Remote compaction (POST /responses/compact): returns the compacted output items. */
  compact(request: ResponsesRequest, ctx: UpstreamCallContext): Promise<CompactResult>;
  /** The upstream's model catalog, where it publishes one (ChatGPT's /codex/models). */
  listModels?(): Promise<UpstreamModel[]>;
}

export interface UpstreamModel {
  slug: string;
  displayName: string;
  contextWindow: number;
  defaultReasoningEffort: string | null;
  /** Hidden models (e.g. internal review models) are not offered to clients. */
  listed: boolean;
}

/** A file to send to the upstream's file or transcription service. */
export interface AssetUpload {
  bytes: Uint8Array;
  filename: string;
  mime: string;
}

/** A file the upstream's file service holds (ChatGPT: referenced as `sediment://<fileId>`). */
export interface UploadedAsset {
  fileId: string;
  downloadUrl: string | null;
  fileName: string;
  mimeType: string | null;
  /** The account that holds the file (chatgpt mode), for metering. */
  accountId: string | null;
}

export interface TranscriptionInput extends AssetUpload {
  /** The model the client asked for; only an OpenAI-compatible upstream uses it. */
  model: string;
  language?: string;
  prompt?: string;
}

export interface Transcript {
  text: string;
  accountId: string | null;
}

/**
 * The non-Responses services of an upstream: file storage and speech-to-text.
 * Kept apart from Upstream so each side stays small and a mode can lack one
 * (methods then throw a 501 ApiError saying so).
 */
export interface AssetsUpstream {
  readonly kind: 'chatgpt' | 'openai' | 'mock';
  /** Uploads a file and waits until the upstream has processed it. */
  uploadFile(file: AssetUpload, ctx: UpstreamCallContext): Promise<UploadedAsset>;
  /** Speech-to-text of one audio file. */
  transcribe(input: TranscriptionInput, ctx: UpstreamCallContext): Promise<Transcript>;
}
