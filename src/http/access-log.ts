/**
 * Completes the trace of every request that is not a model call (those complete
 * when their stream ends): one log line and the request metrics per request.
 */
import { Elysia } from 'elysia';
import { traceOf } from '../observe/trace';
import type { Observer } from '../observe/observer';

export function accessLogPlugin(observer: Observer) {
  return new Elysia({ name: 'codexin.access-log' }).onAfterResponse({ as: 'global' }, ({ request, set, responseValue, route }) => {
    const trace = traceOf(request);
    if (!trace || trace.deferred) return;
    trace.route ??= route ?? null;
    const status = trace.status ?? (responseValue instanceof Response ? responseValue.status : typeof set.status === 'number' ? set.status : 200);
    observer.complete(trace, status);
  });
}
