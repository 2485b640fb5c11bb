/**
 * Serving one Responses request once it is accepted: token accounting, scenario
 * pick, and the SSE answer. Shared by the ChatGPT route and the OpenAI-mode route.
 */
import type { Turn } from './events';
import type { Ctx, JsonObject } from './http';
import { newId } from './ids';
import type { QuotaSnapshot } from './ratelimits';
import { resolve, type Outcome } from './scenarios';
import { nextScenario, type SimState } from './state';
import { sseBody } from './streams';

/**
 * Real caching is prefix-based in 128-token blocks past 1024 tokens; small test
 * prompts still report a hit so a repeated prompt_cache_key is observable.
 */
function cachedTokens(previous: number, current: number): number {
  const overlap = Math.min(previous, current);
  if (overlap >= 1024) return Math.floor(overlap / 128) * 128;
  return Math.max(1, Math.floor(overlap * 0.9));
}

export function newTurn(state: SimState, ctx: Ctx, body: JsonObject, model: string, quota: QuotaSnapshot | null): Turn {
  const inputTokens = Math.max(1, Math.ceil(ctx.rawBody.length / 4));
  let cached = 0;
  const key = body.prompt_cache_key;
  if (typeof key === 'string' && key !== '') {
    const previous = state.promptCache.get(key);
    if (previous !== undefined) cached = cachedTokens(previous, inputTokens);
    state.promptCache.set(key, inputTokens);
  }
  return { id: newId('resp'), createdAt: Math.floor(Date.now() / 1000), model, request: body, inputTokens, cachedTokens: cached, quota };
}

/** Picks the scripted or built-in answer and counts it as served. */
export function outcomeFor(state: SimState, turn: Turn, plan: string): Outcome {
  state.stats.responses += 1;
  return resolve(nextScenario(state), { turn, plan, modelsEtag: state.catalog.etag });
}

export function sseResponse(state: SimState, ctx: Ctx, outcome: Extract<Outcome, { kind: 'stream' }>, headers: Record<string, string>): Response {
  const path = ctx.url.pathname;
  const { body, abort } = sseBody({
    steps: outcome.steps,
    delayMs: outcome.delayMs,
    keepaliveMs: state.silenceKeepaliveMs,
    viaServer: ctx.viaServer,
    onAbort: () => state.aborts.push({ path, at: Date.now() }),
  });
  // Over a socket Bun reports a vanished client through the request signal as well as cancel().
  ctx.req.signal.addEventListener('abort', abort, { once: true });
  return new Response(body, {
    status: outcome.status,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers, ...outcome.headers },
  });
}
