/**
 * /admin/*: the operator API (admin scope only). Keys, accounts, usage and the model
 * catalog. Nothing here ever returns a token; a key's secret appears once, in the
 * answer to its creation.
 */
import { Elysia, t } from 'elysia';
import { ApiError, quote } from '../openai/api-error';
import { ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import { jsonParser } from '../http/json-body';
import type { authPlugin } from '../http/auth';
import { KEY_SCOPES, keyView, type KeyPatch, type KeyRecord, type KeyStore } from '../store/keys';
import { accountView, type AccountStore } from '../store/accounts';
import type { UsageStore } from '../store/usage';
import type { ModelRecord, ModelStore } from '../store/models';
import type { Upstream } from '../upstream/types';
import type { KeyLimiter } from '../call/admission';

const nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()]);

const KeyViewSchema = t.Object({
  id: t.String(),
  name: t.String(),
  prefix: t.String({ description: 'The first characters of the key, for recognising it' }),
  scopes: t.Array(t.String()),
  created_at: t.Number(),
  last_used_at: nullable(t.Number()),
  expires_at: nullable(t.Number()),
  revoked_at: nullable(t.Number()),
  rpm: nullable(t.Number()),
  token_quota_daily: nullable(t.Number()),
  token_quota_weekly: nullable(t.Number()),
  max_concurrent: nullable(t.Number()),
  models: nullable(t.Array(t.String())),
  usage_reset_at: nullable(t.Number()),
});

// Upper bounds keep every value a safe integer that SQLite's strict INTEGER columns
// store exactly: 1e308 or 2**63 are 400s naming the field, not 500s from the insert.
const MAX_RPM = 1_000_000;
const MAX_CONCURRENT = 100_000;
const MAX_QUOTA = Number.MAX_SAFE_INTEGER;
/** 9999-12-31T23:59:59.999Z in unix ms. */
const MAX_TIMESTAMP_MS = 253_402_300_799_999;
const MAX_EXPIRES_IN_SECONDS = 100 * 366 * 86_400;

const limitFields = {
  rpm: t.Optional(nullable(t.Integer({ minimum: 1, maximum: MAX_RPM, description: 'Requests per minute' }))),
  token_quota_daily: t.Optional(nullable(t.Integer({ minimum: 1, maximum: MAX_QUOTA, description: 'Input + output tokens per UTC day' }))),
  token_quota_weekly: t.Optional(nullable(t.Integer({ minimum: 1, maximum: MAX_QUOTA, description: 'Input + output tokens per UTC week' }))),
  max_concurrent: t.Optional(nullable(t.Integer({ minimum: 1, maximum: MAX_CONCURRENT, description: 'Model calls in flight at once' }))),
  models: t.Optional(nullable(t.Array(t.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000, description: 'Allowed model ids (null: all)' }))),
};

const KeyCreateSchema = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 200 }),
    scopes: t.Optional(t.Array(t.UnionEnum([...KEY_SCOPES]))),
    expires_in_seconds: t.Optional(t.Integer({ minimum: 1, maximum: MAX_EXPIRES_IN_SECONDS })),
    ...limitFields,
  },
  { example: { name: 'ci-bot', scopes: ['advanced'], expires_in_seconds: 2592000, rpm: 60 } },
);

const KeyPatchSchema = t.Object({
  name: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
  scopes: t.Optional(t.Array(t.UnionEnum([...KEY_SCOPES]), { description: 'Replaces the scopes, e.g. ["advanced"] to grant advanced access, [] to remove it' })),
  expires_at: t.Optional(nullable(t.Integer({ minimum: 0, maximum: MAX_TIMESTAMP_MS, description: 'Unix milliseconds; null: never' }))),
  ...limitFields,
}, { example: { name: 'ci-bot (renamed)', rpm: 120 } });

const UsageTotalsSchema = t.Object({ requests: t.Number(), input_tokens: t.Number(), cached_tokens: t.Number(), output_tokens: t.Number(), reasoning_tokens: t.Number() });
const KeyWithUsageSchema = t.Composite([KeyViewSchema, t.Object({ usage: UsageTotalsSchema, active_requests: t.Number() })]);
const AccountViewSchema = t.Object({
  id: t.String(),
  label: t.String(),
  chatgpt_account_id: t.String(),
  email: nullable(t.String()),
  plan: nullable(t.String()),
  status: t.UnionEnum(['active', 'needs_login', 'disabled']),
  status_message: nullable(t.String()),
  access_expires_at: nullable(t.Number()),
  last_refresh_at: nullable(t.Number()),
  cooldown_until: nullable(t.Number()),
  last_used_at: nullable(t.Number()),
  quota: nullable(t.Record(t.String(), t.String(), { description: 'The x-codex-* quota headers last seen from the upstream' })),
});
const ModelViewSchema = t.Object({
  id: t.String(),
  upstream_slug: t.String(),
  display_name: t.String(),
  context_window: t.Number(),
  default_reasoning_effort: nullable(t.String()),
  enabled: t.Boolean(),
});
const list = <T extends Parameters<typeof t.Array>[0]>(item: T) => t.Object({ object: t.Literal('list'), data: t.Array(item) });

function modelView(m: ModelRecord) {
  return { id: m.id, upstream_slug: m.upstreamSlug, display_name: m.displayName, context_window: m.contextWindow, default_reasoning_effort: m.defaultReasoningEffort, enabled: m.enabled };
}

function notFound(what: string, id: string): ApiError {
  return new ApiError(404, 'invalid_request_error', `No ${what} with id ${quote(id)}.`, { param: 'id', code: `${what}_not_found` });
}

function isActiveAdmin(key: KeyRecord, now: number): boolean {
  return key.scopes.includes('admin') && key.revokedAt === null && (key.expiresAt === null || key.expiresAt > now);
}

/** 409 when `after` (the key once changed; null: revoked) would leave no usable admin key. */
function keepAnAdmin(keys: KeyStore, before: KeyRecord, after: KeyRecord | null): void {
  const now = Date.now();
  if (!isActiveAdmin(before, now) || (after && isActiveAdmin(after, now))) return;
  if (keys.list().some((k) => k.id !== before.id && isActiveAdmin(k, now))) return;
  throw new ApiError(
    409,
    'invalid_request_error',
    'This is the last usable admin key: revoking it, expiring it or dropping its admin scope would lock every operator out. Create another admin key first (POST /admin/keys with "scopes":["admin"] or `codexin keys create --admin`).',
    { param: 'id', code: 'last_admin_key' },
  );
}

export interface AdminDeps {
  keys: KeyStore;
  accounts: AccountStore;
  usage: UsageStore;
  models: ModelStore;
  upstream: Upstream;
  limiter: KeyLimiter;
  maxBodyBytes: number;
}

export function adminRoutes(auth: ReturnType<typeof authPlugin>, deps: AdminDeps) {
  const withUsage = async (id: string) => {
    const key = deps.keys.get(id);
    if (!key) throw notFound('key', id);
    return { ...keyView(key), usage: await deps.usage.totalsForKey(id, key.usageResetAt ?? 0), active_requests: deps.limiter.activeFor(id) };
  };
  const errors = { 400: ErrorEnvelopeSchema, 404: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema, ...authErrorResponses };
  // The 'json' entry is never reached (ours always answers); it makes the OpenAPI document show the JSON body.
  const json: [ReturnType<typeof jsonParser>, 'json'] = [jsonParser(deps.maxBodyBytes, 'admin'), 'json'];
  return (
    new Elysia({ name: 'codexin.routes.admin', prefix: '/admin', detail: { tags: ['Admin'] } })
      .use(auth)
      // Keys
      .get('/keys', () => ({ object: 'list' as const, data: deps.keys.list().map(keyView) }), {
        auth: 'admin',
        response: { 200: t.Object({ object: t.Literal('list'), data: t.Array(KeyViewSchema) }), ...authErrorResponses },
        detail: { summary: 'List API keys (no secrets)' },
      })
      .post(
        '/keys',
        async ({ body, status }) => {
          const { record, secret } = await deps.keys.create({
            name: body.name,
            scopes: body.scopes ?? [],
            expiresAt: body.expires_in_seconds ? Date.now() + body.expires_in_seconds * 1000 : null,
            rpm: body.rpm ?? null,
            tokenQuotaDaily: body.token_quota_daily ?? null,
            tokenQuotaWeekly: body.token_quota_weekly ?? null,
            maxConcurrent: body.max_concurrent ?? null,
            allowedModels: body.models ?? null,
          });
          return status(201, { ...keyView(record), key: secret });
        },
        {
          auth: 'admin',
          parse: json,
          body: KeyCreateSchema,
          response: { 201: t.Composite([KeyViewSchema, t.Object({ key: t.String({ description: 'The secret: shown only in this response' }) })]), ...errors },
          detail: { summary: 'Create an API key', description: 'The secret `key` is returned once and never stored in clear.' },
        },
      )
      .get('/keys/:id', ({ params }) => withUsage(params.id), {
        auth: 'admin',
        params: t.Object({ id: t.String() }),
        response: { 200: KeyWithUsageSchema, ...errors },
        detail: { summary: 'Get a key with its usage since the last reset' },
      })
      .patch(
        '/keys/:id',
        async ({ params, body }) => {
          const patch: KeyPatch = {};
          if (body.name !== undefined) patch.name = body.name;
          if (body.scopes !== undefined) patch.scopes = body.scopes;
          if (body.expires_at !== undefined) patch.expiresAt = body.expires_at;
          if (body.rpm !== undefined) patch.rpm = body.rpm;
          if (body.token_quota_daily !== undefined) patch.tokenQuotaDaily = body.token_quota_daily;
          if (body.token_quota_weekly !== undefined) patch.tokenQuotaWeekly = body.token_quota_weekly;
          if (body.max_concurrent !== undefined) patch.maxConcurrent = body.max_concurrent;
          if (body.models !== undefined) patch.allowedModels = body.models;
          const current = deps.keys.get(params.id);
          if (!current) throw notFound('key', params.id);
          keepAnAdmin(deps.keys, current, { ...current, ...patch });
          await deps.keys.update(params.id, patch);
          return withUsage(params.id);
        },
        {
          auth: 'admin',
          parse: json,
          params: t.Object({ id: t.String() }),
          body: KeyPatchSchema,
          response: { 200: KeyWithUsageSchema, ...errors },
          detail: { summary: 'Update a key: scopes (advanced/admin), limits, expiry', description: 'Fields left out are unchanged; null clears a limit.' },
        },
      )
      .post(
        '/keys/:id/reset-usage',
        async ({ params }) => {
          if (!(await deps.keys.resetUsage(params.id))) throw notFound('key', params.id);
          return withUsage(params.id);
        },
        { auth: 'admin', params: t.Object({ id: t.String() }), response: { 200: KeyWithUsageSchema, ...errors }, detail: { summary: 'Restart the token quotas of a key from zero (history is kept)' } },
      )
      .delete(
        '/keys/:id',
        async ({ params }) => {
          const current = deps.keys.get(params.id);
          if (!current) throw notFound('key', params.id);
          keepAnAdmin(deps.keys, current, null);
          await deps.keys.revoke(params.id);
          return { id: params.id, object: 'key' as const, revoked: true };
        },
        {
          auth: 'admin',
          params: t.Object({ id: t.String() }),
          response: { 200: t.Object({ id: t.String(), object: t.Literal('key'), revoked: t.Boolean() }), ...errors },
          detail: { summary: 'Revoke a key' },
        },
      )
      // Accounts
      .get('/accounts', () => ({ object: 'list' as const, data: deps.accounts.list().map(accountView) }), {
        auth: 'admin',
        response: { 200: list(AccountViewSchema), ...authErrorResponses },
        detail: { summary: 'List ChatGPT accounts with their state and upstream quota (no tokens)' },
      })
      .post(
        '/accounts/:id/:action',
        async ({ params }) => {
          const account = deps.accounts.get(params.id);
          if (!account) throw notFound('account', params.id);
          if (params.action === 'disable') await deps.accounts.setStatus(account.id, 'disabled', 'disabled by the operator');
          else if (account.status === 'disabled') await deps.accounts.setStatus(account.id, 'active', null);
          return accountView(deps.accounts.get(account.id)!);
        },
        {
          auth: 'admin',
          params: t.Object({ id: t.String(), action: t.UnionEnum(['disable', 'enable']) }),
          response: { 200: AccountViewSchema, ...errors },
          detail: { summary: 'Disable an account (it gets no traffic) or enable it again' },
        },
      )
      .delete(
        '/accounts/:id',
        async ({ params }) => {
          if (!(await deps.accounts.remove(params.id))) throw notFound('account', params.id);
          return { id: params.id, object: 'account' as const, deleted: true };
        },
        {
          auth: 'admin',
          params: t.Object({ id: t.String() }),
          response: { 200: t.Object({ id: t.String(), object: t.Literal('account'), deleted: t.Boolean() }), ...errors },
          detail: { summary: 'Remove an account and its tokens' },
        },
      )
      // Usage
      .get(
        '/usage',
        async ({ query }) => {
          const days = query.days ?? 7;
          const since = Date.now() - days * 86_400_000;
          return { object: 'list' as const, group: query.group ?? 'key', days, data: await deps.usage.byDay(query.group ?? 'key', since, query.id) };
        },
        {
          auth: 'admin',
          query: t.Object({
            group: t.Optional(t.UnionEnum(['key', 'account'])),
            id: t.Optional(t.String({ description: 'Only this key or account' })),
            days: t.Optional(t.Numeric({ minimum: 1, maximum: 366 })),
          }),
          response: {
            200: t.Object({
              object: t.Literal('list'),
              group: t.UnionEnum(['key', 'account']),
              days: t.Number(),
              data: t.Array(t.Composite([UsageTotalsSchema, t.Object({ day: t.String({ description: 'UTC day, YYYY-MM-DD' }), id: nullable(t.String()) })])),
            }),
            ...errors,
          },
          detail: { summary: 'Usage per UTC day, per key or per account, tokens by kind' },
        },
      )
      // Models
      .get('/models', () => ({ object: 'list' as const, data: deps.models.listAll().map(modelView) }), {
        auth: 'admin',
        response: { 200: list(ModelViewSchema), ...authErrorResponses },
        detail: { summary: 'The whole model catalog, disabled models included' },
      })
      .patch(
        '/models/:id',
        async ({ params, body }) => {
          const model = await deps.models.setEnabled(params.id, body.enabled);
          if (!model) throw notFound('model', params.id);
          return modelView(model);
        },
        {
          auth: 'admin',
          parse: json,
          params: t.Object({ id: t.String() }),
          body: t.Object({ enabled: t.Boolean() }, { example: { enabled: true } }),
          response: { 200: ModelViewSchema, ...errors },
          detail: { summary: 'Enable or disable a model' },
        },
      )
      .post(
        '/models/refresh',
        async () => {
          if (!deps.upstream.listModels) {
            throw new ApiError(501, 'invalid_request_error', 'This upstream publishes no model catalog.', { code: 'not_supported' });
          }
          const listed = (await deps.upstream.listModels()).filter((m) => m.listed);
          const result = await deps.models.mergeCatalog(listed);
          return { ...result, data: deps.models.listAll().map(modelView) };
        },
        {
          auth: 'admin',
          response: { 200: t.Object({ added: t.Array(t.String()), updated: t.Array(t.String()), data: t.Array(ModelViewSchema) }), 501: ErrorEnvelopeSchema, ...errors },
          detail: { summary: 'Refresh the catalog from the upstream (/codex/models)', description: 'New models are added enabled; existing ones get fresh metadata.' },
        },
      )
  );
}
