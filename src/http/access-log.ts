/**
 * Completes the trace of every request that is not a model call (those complete
 * when their stream ends): one log line and the request metrics per request, and a
 * usage row (no tokens) for a key holder's /v1 request that no model call metered —
 * `/v1/models`, files, a call refused by its limits — so the operator's recent
 * requests show every call a key made, failures first among them.
 */
import { Elysia } from 'elysia';
import { traceOf } from '../observe/trace';
import type { Observer } from '../observe/observer';
import type { UsageStore } from '../store/usage';

export function accessLogPlugin(observer: Observer, usage: Pick<UsageStore, 'record'>) {
  return new Elysia({ name: 'codexin.access-log' }).onAfterResponse({ as: 'global' }, ({ request, set, responseValue, route }) => {
    const trace = traceOf(request);
    if (!trace || trace.deferred) return;
    trace.route ??= route ?? null;
    const status = trace.status ?? (responseValue instanceof Response ? responseValue.status : typeof set.status === 'number' ? set.status : 200);
    observer.complete(trace, status);
    if (trace.metered || !trace.keyId || status === 101 || !trace.path.startsWith('/v1/')) return;
    usage.record({
      keyId: trace.keyId,
      accountId: trace.accountId,
      route: trace.route ?? trace.path,
      model: trace.model,
      status,
      usage: null,
      latencyMs: Math.round(performance.now() - trace.start),
      ttfbMs: null,
      requestId: trace.requestId,
      errorCode: status >= 400 ? trace.errorCode : null,
    });
  });
}
