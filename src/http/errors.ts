/**
 * The single error plugin: every failure leaves CodexIn as an OpenAI error envelope
 * `{"error":{"message","type","param","code"}}` with the right status, whatever threw it.
 */
import { Elysia, ValidationError } from 'elysia';
import { DatabaseUnavailableError } from '../store/postgres/database';
import { ApiError, quote } from '../openai/api-error';
import type { Logger } from '../log';
import { traceOf } from '../observe/trace';

interface SchemaError {
  path?: string;
  value?: unknown;
  message?: string;
  summary?: string;
  schema?: { type?: unknown };
  errors?: Iterable<SchemaError>[];
}

/**
 * For a union (e.g. "integer or null"), TypeBox reports only "should be one of ...";
 * the useful message is the one from the variant the value was meant to match.
 */
function mostSpecific(error: SchemaError): SchemaError {
  const candidates: SchemaError[] = [];
  for (const variant of error.errors ?? []) {
    for (const inner of variant) {
      const type = inner.schema?.type;
      if (type !== 'null' && type !== 'undefined') candidates.push(inner);
      break;
    }
  }
  const actual = Array.isArray(error.value) ? 'array' : typeof error.value;
  const sameKind = candidates.find((c) => {
    const type = c.schema?.type;
    return type === actual || (actual === 'number' && type === 'integer');
  });
  // A variant whose error lies deeper than the union itself matched the value's outer shape
  // (e.g. `input` as an array of items): its error names the field inside that is wrong.
  const deeper = candidates.find((c) => typeof c.path === 'string' && typeof error.path === 'string' && c.path.length > error.path.length);
  const chosen = sameKind ?? deeper ?? candidates[0];
  return chosen ? mostSpecific(chosen) : error;
}

/** Turns a TypeBox validation failure into a message naming the offending field. */
export function describeValidation(error: ValidationError): ApiError {
  const first = error.all?.[0] as SchemaError | undefined;
  const specific = first ? mostSpecific(first) : undefined;
  const rawPath = specific?.path ?? first?.path;
  const path = rawPath ? rawPath.replace(/^\//, '').replace(/\//g, '.') : null;
  // 'property' is a t.Numeric-style transform failing on one value: Elysia does not say which.
  const where = error.type === 'query' ? 'query parameter' : error.type === 'params' ? 'path parameter' : error.type === 'property' ? 'parameter' : 'request body';
  const detail = specific !== first ? (specific?.message ?? 'does not match the expected schema') : (first?.summary ?? first?.message ?? 'does not match the expected schema');
  // Elysia decodes path parameters itself and hands over null when the percent-encoding is broken ("%zz").
  const brokenEncoding = error.type === 'params' && (specific ?? first)?.value === null;
  const message = brokenEncoding
    ? `Invalid path parameter: '${path}' is not valid percent-encoding.`
    : path
      ? `Invalid ${where}: '${path}': ${lowerFirst(detail)}`
      : `Invalid ${where}: ${lowerFirst(detail)}`;
  return new ApiError(400, 'invalid_request_error', message, { param: path, code: 'invalid_request' });
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** Compiles Elysia's route table into matchers, to tell 404 (no such path) from 405 (wrong method). */
export function methodsForPath(routes: ReadonlyArray<{ method: string; path: string }>, pathname: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    const pattern = '^' + route.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*') + '$';
    if (new RegExp(pattern).test(pathname)) methods.add(route.method.toUpperCase());
  }
  return [...methods];
}

export function errorPlugin(logger: Logger, routes: () => ReadonlyArray<{ method: string; path: string }>) {
  return new Elysia({ name: 'codexin.errors' }).onError({ as: 'global' }, ({ code, error, request, set }) => {
    const requestId = String(set.headers['x-request-id'] ?? '');
    let apiError: ApiError;
    // Elysia wraps whatever a parse hook throws in a ParseError; our JSON parser throws ApiErrors.
    const cause = code === 'PARSE' ? (error as Error).cause : undefined;
    if (error instanceof ApiError) {
      apiError = error;
    } else if (cause instanceof ApiError) {
      apiError = cause;
    } else if (code === 'VALIDATION' && error instanceof ValidationError) {
      apiError = describeValidation(error);
    } else if (code === 'NOT_FOUND') {
      const url = new URL(request.url);
      const allowed = methodsForPath(routes(), url.pathname).filter((m) => m !== 'ALL');
      apiError = allowed.length
        ? new ApiError(405, 'invalid_request_error', `Method ${quote(request.method, 20)} is not allowed on ${quote(url.pathname)}; use ${allowed.join(', ')}.`, {
            code: 'method_not_allowed',
            headers: { allow: allowed.join(', ') },
          })
        : new ApiError(404, 'invalid_request_error', `Unknown route: ${quote(request.method, 20)} ${quote(url.pathname)}. See /docs for the API.`, { code: 'unknown_url' });
    } else if (code === 'PARSE') {
      apiError = new ApiError(400, 'invalid_request_error', 'The request body could not be parsed: send valid JSON with content-type application/json.', {
        code: 'invalid_json',
      });
    } else if (code === 'INVALID_COOKIE_SIGNATURE' || code === 'INVALID_FILE_TYPE') {
      apiError = new ApiError(400, 'invalid_request_error', String((error as Error).message));
    } else if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
      // Another process (a CLI command, a backup) holds the data dir's database for longer than the busy timeout.
      apiError = new ApiError(503, 'server_error', 'The database is locked by another process right now, so this change cannot be saved; retry shortly.', {
        code: 'database_busy',
        headers: { 'retry-after': '1' },
      });
    } else if (error instanceof DatabaseUnavailableError) {
      // Requests keep being served from memory; what needs the database now waits for it.
      logger.warn('database unavailable', { request_id: requestId, error: error.message });
      apiError = new ApiError(503, 'server_error', 'The database is unreachable right now, so this change cannot be saved; retry shortly.', {
        code: 'database_unavailable',
        headers: { 'retry-after': '5' },
      });
    } else {
      logger.error('unhandled error', { request_id: requestId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      apiError = new ApiError(500, 'server_error', `Internal error; quote request id ${requestId} when reporting it.`, { code: 'internal_error' });
    }
    const trace = traceOf(request);
    if (trace) {
      trace.status = apiError.status;
      trace.errorCode = apiError.code ?? apiError.type;
    }
    return apiError.toResponse(requestId ? { 'x-request-id': requestId } : {});
  });
}
