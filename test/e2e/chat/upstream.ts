/**
 * What reached the simulated ChatGPT backend, and the usage the simulator reports for
 * its own (unscripted) answers.
 */
import type { RecordedRequest, Simulator } from '../../../src/upstream/mock';

export const RESPONSES_PATH = '/backend-api/codex/responses';

export type Json = Record<string, unknown>;

/** The Responses requests CodexIn sent upstream, oldest first. */
export function upstreamCalls(sim: Simulator): RecordedRequest[] {
  return sim.requests.filter((r) => r.method === 'POST' && r.path === RESPONSES_PATH);
}

/** The body of the only Responses request since the last reset (fails when there were more or none). */
export function onlyUpstreamBody(sim: Simulator): Json {
  const calls = upstreamCalls(sim);
  if (calls.length !== 1) throw new Error(`expected exactly one upstream Responses request, got ${calls.length}`);
  return calls[0]!.body as Json;
}

export function inputItems(body: Json): Json[] {
  return Array.isArray(body.input) ? (body.input as Json[]) : [];
}

export interface ChatUsageShape {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/**
 * The usage the simulator reports for an answer it generated itself (built-in replies and
 * the text / function_call scenarios), in Chat Completions terms. This restates the
 * simulator's documented accounting (src/upstream/mock/turns.ts `newTurn`,
 * src/upstream/mock/events.ts `usageFor`):
 * - input = ceil(raw request body length / 4);
 * - cached = 0 unless an earlier request carried the same `prompt_cache_key`; then the
 *   overlap of the two input sizes (≥ 1024: whole 128-token blocks; else 90 %, at least 1);
 * - reasoning = the reasoning item's tokens, present when the request carried a `reasoning`
 *   object whose effort is not "none" (src/upstream/mock/reply.ts `reasoningFor`);
 * - output = ceil(characters of message text + call name + call arguments / 4) + reasoning.
 */
export function simulatedUsage(
  sim: Simulator,
  request: RecordedRequest,
  out: { texts?: string[]; calls?: { name: string; arguments: string }[]; reasoningTokens?: number },
): ChatUsageShape {
  const calls = upstreamCalls(sim);
  const at = calls.indexOf(request);
  if (at < 0) throw new Error('the request is not a recorded upstream Responses request');
  const tokensOf = (r: RecordedRequest) => Math.max(1, Math.ceil(r.rawBody.length / 4));
  const input = tokensOf(request);
  const key = (request.body as Json).prompt_cache_key;
  let cached = 0;
  if (typeof key === 'string' && key !== '') {
    const previous = calls
      .slice(0, at)
      .reverse()
      .find((r) => (r.body as Json).prompt_cache_key === key);
    if (previous) {
      const overlap = Math.min(tokensOf(previous), input);
      cached = overlap >= 1024 ? Math.floor(overlap / 128) * 128 : Math.max(1, Math.floor(overlap * 0.9));
    }
  }
  const chars =
    (out.texts ?? []).reduce((n, t) => n + t.length, 0) + (out.calls ?? []).reduce((n, c) => n + c.name.length + c.arguments.length, 0);
  const reasoning = out.reasoningTokens ?? simulatedReasoningTokens(request.body as Json);
  const output = Math.ceil(chars / 4) + reasoning;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: cached },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

const EFFORT_TOKENS: Record<string, number> = { minimal: 8, low: 16, medium: 64, high: 192, xhigh: 512 };

/** Tokens of the reasoning item the simulator adds to its own answer for this request body (0: none). */
export function simulatedReasoningTokens(body: Json): number {
  const reasoning = body.reasoning;
  if (typeof reasoning !== 'object' || reasoning === null || Array.isArray(reasoning)) return 0;
  const effort = typeof (reasoning as Json).effort === 'string' ? ((reasoning as Json).effort as string) : 'medium';
  if (effort === 'none') return 0;
  return EFFORT_TOKENS[effort] ?? 64;
}

/** A real, valid 1x1 PNG (one red pixel; IHDR/IDAT/IEND with correct CRCs) as a data URL. */
export function tinyPngDataUrl(): string {
  return `data:image/png;base64,${TINY_PNG_BASE64}`;
}

const TINY_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
