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
 *
 * The key is looked up once, when the request arrives (onRequest). Elysia runs a
 * route's body parser before the macro's hooks, so our JSON and multipart parsers call
 * `requireKey` first: an unknown key or a missing scope is answered without reading a
 * byte of the body. The macro's transform/resolve then reuse the same lookup.
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

function missingKey(): ApiError {
  return new ApiError(401, 'authentication_error', 'Missing API key: send it as "Authorization: Bearer ci_..." or "x-api-key: ci_...".', {
    code: 'missing_api_key',
  });
}

/** Who the presented key is, without the route's scope check (401 when nobody). */
export function identify(keys: KeyStore, headers: Record<string, string | undefined>): KeyRecord {
  const secret = presentedKey(headers);
  if (!secret) throw missingKey();
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
  return found.key;
}

/** 403 unless the key has the scope (admin implies every scope). */
export function authorize(key: KeyRecord, requirement: AuthRequirement): KeyRecord {
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
  return key;
}

export function authenticate(keys: KeyStore, headers: Record<string, string | undefined>, requirement: AuthRequirement): KeyRecord {
  const key = authorize(identify(keys, headers), requirement);
  keys.touch(key);
  return key;
}

type Identity = { key: KeyRecord } | { error: ApiError };

// Each request's key, looked up once when the request arrives: body parsers check it
// before reading a byte (Elysia parses before a macro's hooks run), and the macro's
// transform/resolve reuse it.
const identities = new WeakMap<Request, Identity>();

function lookUp(keys: KeyStore, request: Request): Identity {
  const started = performance.now();
  const trace = traceOf(request);
  try {
    const key = identify(keys, Object.fromEntries(request.headers));
    if (trace) trace.keyId = key.id;
    return { key };
  } catch (error) {
    if (error instanceof ApiError) return { error };
    throw error;
  } finally {
    if (trace) trace.authMs = performance.now() - started;
  }
}

/**
 * With a shared database, a key created on another instance an instant ago may not
 * be in this one's memory yet: an unknown secret is looked up in the database (once
 * per secret between key changes) before it is refused. An unreachable database
 * refuses it as unknown rather than failing the request.
 */
async function lookUpRemote(keys: KeyStore, request: Request, first: Identity): Promise<Identity> {
  const secret = presentedKey(Object.fromEntries(request.headers));
  if (!secret || !keys.authenticateRemote) return first;
  try {
    const found = await keys.authenticateRemote(secret);
    return !found.ok && found.reason === 'unknown' ? first : lookUp(keys, request);
  } catch {
    return first;
  }
}

function isUnknownKey(identity: Identity): boolean {
  return 'error' in identity && identity.error.code === 'invalid_api_key';
}

/**
 * The request's key with the route's scope, or the 401/403 to answer. Fails closed
 * when the auth plugin never saw the request.
 */
export function requireKey(request: Request, requirement: AuthRequirement): KeyRecord {
  const identity = identities.get(request);
  if (!identity) throw missingKey();
  if ('error' in identity) throw identity.error;
  return authorize(identity.key, requirement);
}

export function authPlugin(keys: KeyStore) {
  return new Elysia({ name: 'codexin.auth' })
    .onRequest(({ request }) => {
      const identity = lookUp(keys, request);
      identities.set(request, identity);
      // Only a miss waits on the database; a known key is answered from memory.
      if (keys.authenticateRemote && isUnknownKey(identity)) {
        return lookUpRemote(keys, request, identity).then((found) => {
          identities.set(request, found);
        });
      }
    })
    .macro({
      auth(requirement: AuthRequirement) {
        return {
          detail: { security: [{ bearerAuth: [] }] },
          // Transform runs before body validation: an unauthenticated caller gets 401, not a schema lesson.
          transform({ request }: { request: Request }) {
            keys.touch(requireKey(request, requirement));
          },
          resolve({ request }: { request: Request }) {
            return { apiKey: requireKey(request, requirement) };
          },
        };
      },
    });
}
