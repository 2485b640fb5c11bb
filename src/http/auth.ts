/**
 * API-key authentication as an Elysia macro. Routes opt in with `{ auth: 'any' }`,
 * `{ auth: 'advanced' }` or `{ auth: 'admin' }`.
 *
 * | presented key                     | result                                   |
 * |-----------------------------------|------------------------------------------|
 * | none                              | 401 missing_api_key                      |
 * | unknown / revoked / expired       | 401 invalid_api_key / key_revoked / key_expired |
 * | valid, lacks the route's scope    | 403 (advanced_access_required / admin_access_required) |
 * | valid with scope (admin implies all) | handler runs with `apiKey` in context  |
 *
 * Keys come from `Authorization: Bearer` or `x-api-key`, never from the query string
 * (a query string ends up in access logs).
 */
import { Elysia } from 'elysia';
import { ApiError } from '../openai/api-error';
import type { KeyRecord, KeyStore } from '../store/keys';
import { traceOf } from '../observe/trace';

export type AuthRequirement = 'any' | 'advanced' | 'admin';

export function presentedKey(headers: Record<string, string | undefined>): string | null {
  const authorization = headers['authorization'];
  if (authorization) {
    const m = /^bearer\s+(.+)$/i.exec(authorization.trim());
    if (m) return m[1]!.trim();
  }
  const xApiKey = headers['x-api-key'];
  return xApiKey ? xApiKey.trim() : null;
}

export function authenticate(keys: KeyStore, headers: Record<string, string | undefined>, requirement: AuthRequirement): KeyRecord {
  const secret = presentedKey(headers);
  if (!secret) {
    throw new ApiError(401, 'authentication_error', 'Missing API key: send it as "Authorization: Bearer ci_..." or "x-api-key: ci_...".', {
      code: 'missing_api_key',
    });
  }
  const found = keys.authenticate(secret);
  if (!found.ok) {
    const [message, code] =
      found.reason === 'revoked'
        ? ['This API key has been revoked; ask the operator for a new one.', 'key_revoked']
        : found.reason === 'expired'
          ? ['This API key has expired; ask the operator for a new one.', 'key_expired']
          : ['Invalid API key: it is not known to this CodexIn server.', 'invalid_api_key'];
    throw new ApiError(401, 'authentication_error', message, { code });
  }
  const key = found.key;
  if (requirement !== 'any' && !key.scopes.includes('admin') && !key.scopes.includes(requirement)) {
    throw new ApiError(
      403,
      'permission_error',
      requirement === 'admin'
        ? 'This route needs an API key with admin access.'
        : 'This route needs an API key with advanced access; ask the operator to enable it for your key (codexin keys create --advanced).',
      { code: `${requirement}_access_required` },
    );
  }
  keys.touch(key);
  return key;
}

// The key found by the transform hook, handed to resolve for the handler's context.
const authenticated = new WeakMap<Request, KeyRecord>();

export function authPlugin(keys: KeyStore) {
  return new Elysia({ name: 'codexin.auth' }).macro({
    auth(requirement: AuthRequirement) {
      return {
        detail: { security: [{ bearerAuth: [] }] },
        // Transform runs before body validation: an unauthenticated caller gets 401, not a schema lesson.
        transform({ headers, request }: { headers: Record<string, string | undefined>; request: Request }) {
          const started = performance.now();
          const trace = traceOf(request);
          try {
            const apiKey = authenticate(keys, headers, requirement);
            if (trace) trace.keyId = apiKey.id;
            authenticated.set(request, apiKey);
          } finally {
            if (trace) trace.authMs = performance.now() - started;
          }
        },
        resolve({ request }: { request: Request }) {
          const apiKey = authenticated.get(request);
          // Unreachable unless the hook order changes: fail closed.
          if (!apiKey) throw new ApiError(401, 'authentication_error', 'Missing API key.', { code: 'missing_api_key' });
          return { apiKey };
        },
      };
    },
  });
}
