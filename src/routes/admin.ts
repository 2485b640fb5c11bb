/** /admin/*: operator API (admin scope). Keys and accounts; never returns a secret except a new key once. */
import { Elysia, t } from 'elysia';
import { ApiError } from '../openai/api-error';
import { ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import { jsonParser } from '../http/json-body';
import type { authPlugin } from '../http/auth';
import { KEY_SCOPES, type KeyRecord, type KeyStore } from '../store/keys';
import { accountView, type AccountStore } from '../store/accounts';

const KeyView = t.Object({
  id: t.String(),
  name: t.String(),
  prefix: t.String({ description: 'The first characters of the key, for recognising it' }),
  scopes: t.Array(t.String()),
  created_at: t.Number(),
  last_used_at: t.Union([t.Number(), t.Null()]),
  expires_at: t.Union([t.Number(), t.Null()]),
  revoked_at: t.Union([t.Number(), t.Null()]),
  rpm: t.Union([t.Number(), t.Null()]),
  models: t.Union([t.Array(t.String()), t.Null()]),
});

function keyView(k: KeyRecord) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt,
    expires_at: k.expiresAt,
    revoked_at: k.revokedAt,
    rpm: k.rpm,
    models: k.allowedModels,
  };
}

export function adminRoutes(auth: ReturnType<typeof authPlugin>, deps: { keys: KeyStore; accounts: AccountStore; maxBodyBytes: number }) {
  return new Elysia({ name: 'codexin.routes.admin', prefix: '/admin', detail: { tags: ['Admin'] } })
    .use(auth)
    .get('/keys', () => ({ object: 'list' as const, data: deps.keys.list().map(keyView) }), {
      auth: 'admin',
      response: { 200: t.Object({ object: t.Literal('list'), data: t.Array(KeyView) }), ...authErrorResponses },
      detail: { summary: 'List API keys (no secrets)' },
    })
    .post(
      '/keys',
      ({ body, status }) => {
        const { record, secret } = deps.keys.create({
          name: body.name,
          scopes: body.scopes ?? [],
          expiresAt: body.expires_in_seconds ? Date.now() + body.expires_in_seconds * 1000 : null,
          rpm: body.rpm ?? null,
          allowedModels: body.models ?? null,
        });
        return status(201, { ...keyView(record), key: secret });
      },
      {
        auth: 'admin',
        parse: jsonParser(deps.maxBodyBytes),
        body: t.Object({
          name: t.String({ minLength: 1, maxLength: 200 }),
          scopes: t.Optional(t.Array(t.UnionEnum([...KEY_SCOPES]))),
          expires_in_seconds: t.Optional(t.Integer({ minimum: 1 })),
          rpm: t.Optional(t.Integer({ minimum: 1 })),
          models: t.Optional(t.Array(t.String(), { minItems: 1 })),
        }),
        response: { 201: t.Composite([KeyView, t.Object({ key: t.String({ description: 'The secret: shown only in this response' }) })]), 400: ErrorEnvelopeSchema, ...authErrorResponses },
        detail: { summary: 'Create an API key', description: 'The secret `key` is returned once and never stored in clear.' },
      },
    )
    .delete(
      '/keys/:id',
      ({ params }) => {
        if (!deps.keys.revoke(params.id)) throw new ApiError(404, 'invalid_request_error', `No key with id ${params.id}.`, { param: 'id', code: 'key_not_found' });
        return { id: params.id, object: 'key', revoked: true };
      },
      {
        auth: 'admin',
        params: t.Object({ id: t.String() }),
        response: { 200: t.Object({ id: t.String(), object: t.Literal('key'), revoked: t.Boolean() }), 404: ErrorEnvelopeSchema, ...authErrorResponses },
        detail: { summary: 'Revoke an API key' },
      },
    )
    .get('/accounts', () => ({ object: 'list' as const, data: deps.accounts.list().map(accountView) }), {
      auth: 'admin',
      detail: { summary: 'List ChatGPT accounts with their state and quota (no tokens)' },
    });
}
