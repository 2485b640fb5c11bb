/**
 * One usage shape for every consumer: the Responses `usage` with all five counters
 * present. The AI SDK drops a terminal event whose usage lacks `input_tokens` or
 * `output_tokens` numbers, and Codex fails to parse `*_details` objects without their
 * inner counter, so missing or null values become 0 rather than staying absent.
 * Chat-style names (prompt/completion) are accepted too, so any upstream can feed metering.
 */
import type { Usage } from '../openai/responses-types';

type Loose = Record<string, unknown>;

/**
 * No response uses a billion tokens; a larger figure is an upstream bug (1e308 has been
 * seen in testing) and would not fit the usage table's integer columns, so it is clamped.
 */
export const MAX_TOKEN_COUNT = 1_000_000_000;

function record(value: unknown): Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : {};
}

function count(...candidates: unknown[]): number | undefined {
  for (const value of candidates) {
    if (typeof value === 'number' && value >= 0) return Number.isFinite(value) ? Math.min(Math.floor(value), MAX_TOKEN_COUNT) : MAX_TOKEN_COUNT;
  }
  return undefined;
}

export function normalizeUsage(raw: unknown): Usage {
  const usage = record(raw);
  const inputDetails = record(usage.input_tokens_details ?? usage.prompt_tokens_details);
  const outputDetails = record(usage.output_tokens_details ?? usage.completion_tokens_details);
  const input = count(usage.input_tokens, usage.prompt_tokens) ?? 0;
  const output = count(usage.output_tokens, usage.completion_tokens) ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count(inputDetails.cached_tokens) ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(outputDetails.reasoning_tokens) ?? 0 },
    total_tokens: Math.min(count(usage.total_tokens) ?? input + output, 2 * MAX_TOKEN_COUNT),
  };
}
