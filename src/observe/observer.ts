/**
 * Closes a request trace: one structured log line and the request metrics. Called
 * once per request: by the HTTP plugin for ordinary requests, by the responses
 * service when a model call's stream ends. The line never carries a key, a token
 * or prompt text: ids, sizes and timings only.
 */
import type { Logger } from '../log';
import type { Metrics } from './metrics';
import type { RequestTrace } from './trace';

export class Observer {
  constructor(
    readonly logger: Logger,
    readonly metrics: Metrics,
  ) {}

  complete(trace: RequestTrace, status: number, now = performance.now()): void {
    if (trace.done) return;
    trace.done = true;
    trace.status = status;
    const route = trace.route ?? 'unmatched';
    const latencyMs = now - trace.start;
    this.metrics.requests.inc({ route, status: String(status), model: trace.model ?? '' });
    this.metrics.duration.observe({ route }, latencyMs / 1000);
    if (trace.ttfbMs !== null) this.metrics.ttfb.observe({ route }, trace.ttfbMs / 1000);
    const u = trace.usage;
    if (u) {
      const model = trace.model ?? '';
      this.metrics.tokens.inc({ kind: 'input', model }, u.input_tokens);
      this.metrics.tokens.inc({ kind: 'cached', model }, u.input_tokens_details.cached_tokens);
      this.metrics.tokens.inc({ kind: 'output', model }, u.output_tokens);
      this.metrics.tokens.inc({ kind: 'reasoning', model }, u.output_tokens_details.reasoning_tokens);
    }
    const fields: Record<string, unknown> = {
      request_id: trace.requestId,
      method: trace.method,
      route,
      path: trace.path,
      status,
      latency_ms: Math.round(latencyMs * 10) / 10,
      key_id: trace.keyId,
    };
    if (status >= 400 && trace.errorCode) fields.error_code = trace.errorCode;
    if (trace.model) fields.model = trace.model;
    if (trace.accountId) fields.account_id = trace.accountId;
    if (trace.ttfbMs !== null) fields.ttfb_ms = Math.round(trace.ttfbMs * 10) / 10;
    if (u) {
      fields.input_tokens = u.input_tokens;
      fields.cached_tokens = u.input_tokens_details.cached_tokens;
      fields.output_tokens = u.output_tokens;
      fields.reasoning_tokens = u.output_tokens_details.reasoning_tokens;
    }
    this.logger.info('request', fields);
  }
}
