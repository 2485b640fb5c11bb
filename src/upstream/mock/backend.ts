/**
 * The ChatGPT backend's Codex routes (protocol §3.1): responses (SSE), compact,
 * models and usage. All of them sit behind the same bearer + account-id check.
 */
import { randomUUID } from 'node:crypto';
import type { SimAccount } from './accounts';
import { detail, isObject, json, type Ctx } from './http';
import { opaqueBlob } from './ids';
import { healthyQuota, quotaHeaders, whamUsage } from './ratelimits';
import { checkModel, checkResponsesRequest } from './rules';
import type { SimState } from './state';
import { newTurn, outcomeFor, sseResponse } from './turns';

export function authenticate(state: SimState, ctx: Ctx): SimAccount | null {
  return state.accounts.authenticate(ctx.req.headers.get('authorization'), ctx.req.headers.get('chatgpt-account-id'));
}

export const unauthorized = (): Response => detail(401, 'Unauthorized');

export function codexResponses(state: SimState, ctx: Ctx): Response {
  const account = authenticate(state, ctx);
  if (!account) return unauthorized();
  const checked = checkResponsesRequest(ctx.json, state.models);
  if (!checked.ok) return checked.response;

  const quota = healthyQuota(account.plan);
  const turn = newTurn(state, ctx, checked.body, checked.model, quota);
  const outcome = outcomeFor(state, turn, account.plan);
  if (outcome.kind === 'response') return outcome.response;
  return sseResponse(state, ctx, outcome, {
    ...quotaHeaders(quota),
    'x-oai-request-id': randomUUID(),
    'openai-model': checked.model,
    'x-models-etag': state.catalog.etag,
    // Sticky routing token: echoed within a turn, minted otherwise (§3.4).
    'x-codex-turn-state': ctx.req.headers.get('x-codex-turn-state') ?? `ts_${randomUUID()}`,
  });
}

/** Remote compaction: keeps user/developer messages and appends an opaque summary (§1.6). */
export function codexCompact(state: SimState, ctx: Ctx): Response {
  if (!authenticate(state, ctx)) return unauthorized();
  if (!isObject(ctx.json)) return detail(400, 'Could not parse request body as JSON');
  const checked = checkModel(ctx.json, state.models);
  if (!checked.ok) return checked.response;
  const input = Array.isArray(ctx.json.input) ? ctx.json.input : [];
  const kept = input.filter((item) => isObject(item) && (item.type === undefined || item.type === 'message') && (item.role === 'user' || item.role === 'developer'));
  return json({ output: [...kept, { type: 'compaction', encrypted_content: opaqueBlob() }] }, 200, { 'x-oai-request-id': randomUUID() });
}

export function codexModels(state: SimState, ctx: Ctx): Response {
  if (!authenticate(state, ctx)) return unauthorized();
  if (!ctx.url.searchParams.get('client_version')) return detail(400, 'client_version is required');
  const { body, etag } = state.catalog;
  if (ctx.req.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers: { etag } });
  return json(body, 200, { etag });
}

export function whamUsageRoute(state: SimState, ctx: Ctx): Response {
  const account = authenticate(state, ctx);
  if (!account) return unauthorized();
  return json(whamUsage(healthyQuota(account.plan)));
}
