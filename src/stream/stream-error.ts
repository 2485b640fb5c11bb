/**
 * The two error shapes a Responses stream carries, normalized:
 * - the `error` event, `{type:"error", error:{type, code, message, param}}` (first-party shape,
 *   read by openai-node, the Python SDK and the AI SDK), which upstreams also send flat
 *   (`{type:"error", message, code}`, the ChatGPT backend's cyber-policy refusal) or wrapped
 *   with an HTTP status (the WebSocket form);
 * - `response.error` on `response.failed`, `{code, message}` (read by Codex and the AI SDK).
 */
import type { ResponseError, ResponseStreamEvent } from '../openai/responses-types';

export interface StreamErrorBody {
  type: string;
  code: string | null;
  message: string;
  param: string | null;
  [key: string]: unknown;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Reads either shape of an upstream `error` event. */
export function normalizeErrorEvent(event: ResponseStreamEvent): StreamErrorBody {
  const nested = typeof event.error === 'object' && event.error !== null ? (event.error as Record<string, unknown>) : undefined;
  const source: Record<string, unknown> = nested ?? event;
  const code = text(source.code) ?? null;
  return {
    // Keep extra fields the upstream gave (resets_at, plan_type, ...): they help the user.
    ...(nested ?? {}),
    // The flat form's `type` is the event type ("error"), not an error class.
    type: text(nested?.type) ?? code ?? 'server_error',
    code,
    message: text(source.message) ?? 'The upstream reported an error without a message.',
    param: text(source.param) ?? null,
  };
}

/** The `response.error` object of a failed response, from whatever the upstream sent. */
export function normalizeResponseError(raw: unknown, fallback: { code: string; message: string }): ResponseError {
  const error = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    ...error,
    code: text(error.code) ?? text(error.type) ?? fallback.code,
    message: text(error.message) ?? fallback.message,
  };
}
