/**
 * `POST /v1/responses` as the public OpenAI API answers it, for `--upstream openai`:
 * API-key auth, no ChatGPT body rules, stream or not, and a `response.completed`
 * that carries the full output.
 */
import { randomUUID } from 'node:crypto';
import { isObject, json, type Ctx } from './http';
import { newTurn, outcomeFor, sseResponse } from './turns';
import type { SimState } from './state';
import { collect } from './streams';

function openaiError(status: number, message: string, type: string, code: string | null, param: string | null = null): Response {
  return json({ error: { message, type, param, code } }, status);
}

const SERVER_ERROR = (): Response =>
  openaiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);

export function openaiResponses(state: SimState, ctx: Ctx): Response {
  const match = /^Bearer\s+(\S+)$/i.exec(ctx.req.headers.get('authorization') ?? '');
  if (!match) {
    return openaiError(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      'invalid_request_error',
      'invalid_api_key',
    );
  }
  if (!match[1]!.startsWith('sk-')) {
    return openaiError(401, `Incorrect API key provided: ${match[1]!.slice(0, 6)}***. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key');
  }
  if (!isObject(ctx.json)) return openaiError(400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
  const body = ctx.json;
  if (typeof body.model !== 'string' || body.model === '') {
    return openaiError(400, "Missing required parameter: 'model'.", 'invalid_request_error', 'missing_required_parameter', 'model');
  }

  const turn = newTurn(state, ctx, body, body.model, null);
  const outcome = outcomeFor(state, turn, 'api');
  if (outcome.kind === 'response') return outcome.response;
  const headers = { 'x-request-id': `req_${randomUUID().replaceAll('-', '')}`, 'openai-processing-ms': '42', 'openai-version': '2020-10-01' };
  if (body.stream === true) return sseResponse(state, ctx, outcome, headers);

  const { events, dropped } = collect(outcome.steps);
  const terminal = events.findLast((e) => e.type === 'response.completed' || e.type === 'response.failed' || e.type === 'response.incomplete');
  if (dropped || !terminal || !isObject(terminal.response)) return SERVER_ERROR();
  if (terminal.type === 'response.failed') {
    const error = isObject(terminal.response.error) ? terminal.response.error : {};
    return openaiError(500, String(error.message ?? 'The response failed.'), 'server_error', typeof error.code === 'string' ? error.code : null);
  }
  return json(terminal.response, outcome.status, { ...headers, ...outcome.headers });
}
