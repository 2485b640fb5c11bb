/**
 * The one error model of CodexIn. Anything that should reach a client as an
 * OpenAI-shaped error is an ApiError: a status, an OpenAI `type`, a `code`, and a
 * message that tells the user what to do next. `http/errors.ts` renders it.
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'usage_limit_reached'
  | 'server_error'
  | 'upstream_error'
  | 'service_unavailable_error'
  | (string & {});

export interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null; [key: string]: unknown };
}

export interface ApiErrorOptions {
  param?: string | null;
  code?: string | null;
  /** Extra response headers, e.g. retry-after on a 429. */
  headers?: Record<string, string>;
  /** Extra fields kept inside `error` (e.g. the upstream's `resets_at`, `plan_type`). */
  extra?: Record<string, unknown>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(status: number, type: ErrorType, message: string, options: ApiErrorOptions = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }

  toEnvelope(): ErrorEnvelope {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code, ...this.extra } };
  }

  toResponse(requestHeaders: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(this.toEnvelope()), {
      status: this.status,
      headers: { 'content-type': 'application/json', ...this.headers, ...requestHeaders },
    });
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new ApiError(400, 'invalid_request_error', message, { param, code });

/** Longest client-sent value an error message repeats back. */
export const MAX_QUOTED_CHARS = 200;

/** A client value fit to quote in a message: a 10 MB model name comes back as its first 200 characters. */
export function quote(value: unknown, maxChars = MAX_QUOTED_CHARS): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length > maxChars ? `${text.slice(0, maxChars)}… (${text.length} characters)` : text;
}
