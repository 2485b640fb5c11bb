/**
 * What CodexIn learns about one request while serving it: who called (key), what
 * ran (model, account), how long each part took. Filled in by the auth macro, the
 * responses service and the error plugin; read once at the end for the log line,
 * the metrics and Server-Timing. Keyed by the Request object, so it is freed with it.
 */
import type { Usage } from '../openai/responses-types';

export interface RequestTrace {
  requestId: string;
  start: number;
  method: string;
  path: string;
  /** The matched route pattern (low-cardinality label), when known. */
  route: string | null;
  keyId: string | null;
  authMs: number | null;
  model: string | null;
  accountId: string | null;
  ttfbMs: number | null;
  status: number | null;
  /** The OpenAI error code of a failed request (e.g. `invalid_api_key`), for its log line. */
  errorCode: string | null;
  usage: Usage | null;
  /** A model call completes the trace itself when its stream ends, not when the handler returns. */
  deferred: boolean;
  /** Set when a model call's meter writes this request's usage row (the access log then writes none). */
  metered: boolean;
  done: boolean;
}

const traces = new WeakMap<Request, RequestTrace>();

export function newTrace(requestId: string, method: string, path: string, start = performance.now()): RequestTrace {
  return { requestId, start, method, path, route: null, keyId: null, authMs: null, model: null, accountId: null, ttfbMs: null, status: null, errorCode: null, usage: null, deferred: false, metered: false, done: false };
}

export function attachTrace(request: Request, trace: RequestTrace): void {
  traces.set(request, trace);
}

export function traceOf(request: Request): RequestTrace | undefined {
  return traces.get(request);
}

/** `Server-Timing` for a proxied response: auth, upstream time to first byte, and total so far. */
export function serverTiming(trace: RequestTrace, now = performance.now()): string {
  const parts: string[] = [];
  if (trace.authMs !== null) parts.push(`auth;dur=${trace.authMs.toFixed(1)}`);
  if (trace.ttfbMs !== null) parts.push(`upstream;dur=${trace.ttfbMs.toFixed(1)};desc="upstream time to first byte"`);
  parts.push(`total;dur=${(now - trace.start).toFixed(1)}`);
  return parts.join(', ');
}
