/**
 * Upstream calls outside the Responses path (file uploads, transcription) spend
 * the same ChatGPT account as model calls, so they obey the same per-key limits
 * and leave the same trail: an admission by the key limiter, a usage row (no
 * token counts), and the model and account on the request's trace.
 */
import { ApiError } from '../openai/api-error';
import type { UsageStore } from '../store/usage';
import type { KeyRecord } from '../store/keys';
import type { RequestTrace } from '../observe/trace';
import type { KeyLimiter } from './limits';

export interface AssetCallDeps {
  usage: UsageStore;
  limiter: KeyLimiter;
}

export interface AssetCallInfo {
  key: KeyRecord;
  route: string;
  model: string | null;
  trace: RequestTrace;
}

export async function meteredAssetCall<T extends { accountId: string | null }>(deps: AssetCallDeps, info: AssetCallInfo, run: () => Promise<T>): Promise<T> {
  const { trace } = info;
  trace.model = info.model;
  const admission = deps.limiter.admit(info.key);
  const started = performance.now();
  let status = 200;
  let errorCode: string | null = null;
  try {
    const result = await run();
    trace.accountId = result.accountId;
    return result;
  } catch (error) {
    status = error instanceof ApiError ? error.status : 500;
    errorCode = error instanceof ApiError ? error.code : 'internal_error';
    throw error;
  } finally {
    admission.release();
    deps.usage.record({
      keyId: info.key.id,
      accountId: trace.accountId,
      route: info.route,
      model: info.model,
      status,
      usage: null,
      latencyMs: Math.round(performance.now() - started),
      ttfbMs: null,
      requestId: trace.requestId,
      errorCode,
    });
  }
}
