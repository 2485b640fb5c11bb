/**
 * Model calls that answer in one piece (remote compaction, transcription) and the
 * upstream file service: they spend the same ChatGPT account as streamed calls, so
 * they pass the same admission (rpm, token quota, concurrency, process capacity) and
 * leave the same trail through the same meter: a usage row, and the model and
 * account on the request's trace.
 */
import { ApiError } from '../openai/api-error';
import type { Usage } from '../openai/responses-types';
import type { UsageStore } from '../store/usage';
import type { KeyRecord } from '../store/keys';
import type { RequestTrace } from '../observe/trace';
import type { KeyLimiter } from './admission';
import { startMeter } from './meter';

export interface UnaryCallDeps {
  usage: UsageStore;
  limiter: KeyLimiter;
}

export interface UnaryCallInfo {
  key: KeyRecord;
  route: string;
  model: string | null;
  trace: RequestTrace;
  /** Estimated input tokens, reserved against the key's token quota until the call ends. */
  inputTokens?: number;
  /** Response headers of an admitted call (x-ratelimit-*) are written here. */
  headers?: Record<string, string>;
}

export async function unaryCall<T extends { accountId: string | null }>(deps: UnaryCallDeps, info: UnaryCallInfo, run: () => Promise<T>, usageOf: (result: T) => Usage | null = () => null): Promise<T> {
  const { trace } = info;
  trace.model = info.model;
  const admission = await deps.limiter.admit(info.key, { inputTokens: info.inputTokens });
  if (info.headers) Object.assign(info.headers, admission.headers);
  const meter = startMeter(deps, { key: info.key, route: info.route, model: info.model, trace, admission, completesTrace: false });
  const started = performance.now();
  try {
    const result = await run();
    trace.accountId = result.accountId;
    trace.ttfbMs = performance.now() - started;
    meter({ status: 200, usage: usageOf(result) });
    return result;
  } catch (error) {
    const apiError = error instanceof ApiError ? error : null;
    if (apiError) Object.assign(apiError.headers, admission.headers, apiError.headers);
    meter({ status: apiError?.status ?? 500, usage: null, errorCode: apiError?.code ?? 'internal_error' });
    throw error;
  }
}
