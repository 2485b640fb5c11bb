/**
 * Gives every request an id, echoed as `x-request-id` on every response (success or
 * error) so a user can quote it and an operator can find the log line, and opens
 * the request's trace (src/observe/trace.ts) that the log line and metrics are built from.
 */
import { Elysia } from 'elysia';
import { attachTrace, newTrace, traceOf, type RequestTrace } from '../observe/trace';

export function newRequestId(): string {
  return 'req_' + Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('hex');
}

export const requestIdPlugin = new Elysia({ name: 'codexin.request-id' })
  .onRequest(({ request, set }) => {
    const requestId = newRequestId();
    set.headers['x-request-id'] = requestId;
    attachTrace(request, newTrace(requestId, request.method, new URL(request.url).pathname));
  })
  .derive({ as: 'global' }, ({ request, set, route }) => {
    const trace: RequestTrace = traceOf(request) ?? newTrace(String(set.headers['x-request-id']), request.method, new URL(request.url).pathname);
    trace.route = route ?? null;
    return { requestId: trace.requestId, trace };
  });
