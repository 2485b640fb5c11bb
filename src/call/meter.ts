/**
 * The end of every model call, exactly once: the admission is released, the usage
 * row queued (written behind the request), the estimator told what the call really
 * used, and the request's trace completed (log line + metrics).
 */
import type { ResponseObject, Usage } from '../openai/responses-types';
import type { UsageStore } from '../store/usage';
import type { KeyRecord } from '../store/keys';
import type { Observer } from '../observe/observer';
import type { RequestTrace } from '../observe/trace';
import type { Admission, KeyLimiter } from './admission';

export interface MeterDeps {
  usage: UsageStore;
  limiter: KeyLimiter;
  observer?: Observer;
}

export interface MeterInfo {
  key: KeyRecord;
  route: string;
  model: string | null;
  trace: RequestTrace;
  admission: Admission;
  /** True when the call owns the trace's completion (streams end after the handler returns). */
  completesTrace: boolean;
}

export interface CallOutcome {
  status: number;
  usage: Usage | null;
  errorCode?: string | null;
}

export type Meter = (outcome: CallOutcome) => void;

export function startMeter(deps: MeterDeps, info: MeterInfo): Meter {
  let done = false;
  info.trace.metered = true;
  return (outcome) => {
    if (done) return;
    done = true;
    const { trace } = info;
    info.admission.release();
    trace.usage = outcome.usage;
    if (outcome.errorCode) trace.errorCode ??= outcome.errorCode;
    if (outcome.usage) deps.limiter.settle(info.key.id, outcome.usage.output_tokens);
    deps.usage.record({
      keyId: info.key.id,
      accountId: trace.accountId,
      route: info.route,
      model: info.model,
      status: outcome.status,
      usage: outcome.usage,
      latencyMs: Math.round(performance.now() - trace.start),
      ttfbMs: trace.ttfbMs === null ? null : Math.round(trace.ttfbMs),
      requestId: trace.requestId,
      errorCode: outcome.errorCode ?? null,
    });
    if (info.completesTrace) deps.observer?.complete(trace, outcome.status);
  };
}

/** The outcome a terminal response (or its absence) stands for. */
export function outcomeOf(final: ResponseObject | null, status?: number): CallOutcome {
  const httpStatus = status ?? (final?.status === 'failed' || !final ? 502 : 200);
  const code = final?.status === 'failed' ? (final.error?.code ?? 'upstream_error') : status === 499 ? 'client_closed' : httpStatus >= 400 && !final ? 'stream_incomplete' : null;
  return { status: httpStatus, usage: final?.usage ?? null, errorCode: code };
}
