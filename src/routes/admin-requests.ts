/**
 * GET /admin/requests: the most recent /v1 calls of the keys, model calls with their tokens (the dashboard's Requests page).
 * Who, where, what and how it went: key, account, route, model, status, error code,
 * latency, time to first byte, tokens. No prompt, no output, no secret.
 */
import { Elysia, t } from 'elysia';
import { ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import type { authPlugin } from '../http/auth';
import type { UsageStore } from '../store/usage';

const nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()]);

const RecentRequestSchema = t.Object({
  id: t.Number({ description: 'Row id; pages go backwards from it' }),
  at: t.Number({ description: 'When the request finished, Unix milliseconds' }),
  request_id: nullable(t.String()),
  key_id: nullable(t.String()),
  account_id: nullable(t.String()),
  route: t.String(),
  model: nullable(t.String()),
  status: t.Number({ description: 'HTTP status the client got (499: the client went away)' }),
  error_code: nullable(t.String({ description: 'The error code the client got, e.g. usage_limit_reached' })),
  latency_ms: nullable(t.Number()),
  ttfb_ms: nullable(t.Number({ description: 'Time to the first upstream byte' })),
  input_tokens: t.Number(),
  cached_tokens: t.Number(),
  output_tokens: t.Number(),
  reasoning_tokens: t.Number(),
});

export function adminRequestsRoutes(auth: ReturnType<typeof authPlugin>, deps: { usage: UsageStore }) {
  return new Elysia({ name: 'codexin.routes.admin-requests', prefix: '/admin', detail: { tags: ['Admin'] } }).use(auth).get(
    '/requests',
    async ({ query }) => {
      const limit = query.limit ?? 50;
      // The store flushes the rows written behind the requests before it reads.
      const data = await deps.usage.recentRequests({ limit, before: query.before, outcome: query.outcome, keyId: query.key_id });
      const last = data.at(-1);
      return { object: 'list' as const, data, next_before: data.length === limit && last ? last.id : null };
    },
    {
      auth: 'admin',
      query: t.Object({
        limit: t.Optional(t.Numeric({ minimum: 1, maximum: 500, description: 'Rows per page (default 50)' })),
        before: t.Optional(t.Numeric({ minimum: 1, description: 'Only rows older than this id: the previous page\'s next_before' })),
        outcome: t.Optional(t.UnionEnum(['all', 'ok', 'error'], { description: 'ok: status below 400; error: 400 and above' })),
        key_id: t.Optional(t.String({ description: 'Only this key' })),
      }),
      response: {
        200: t.Object({ object: t.Literal('list'), data: t.Array(RecentRequestSchema), next_before: nullable(t.Number({ description: 'Pass as before for the next page; null at the end' })) }),
        400: ErrorEnvelopeSchema,
        ...authErrorResponses,
      },
      detail: { summary: 'The most recent /v1 calls of the keys, newest first (no prompts, no secrets)' },
    },
  );
}
