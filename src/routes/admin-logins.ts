/**
 * Device-code login of a new ChatGPT account from the dashboard:
 * POST /admin/accounts/logins starts one (the code and link to show the operator),
 * GET /admin/accounts/logins/:id says pending, complete (with the account) or failed.
 */
import { Elysia, t } from 'elysia';
import { ApiError } from '../openai/api-error';
import { ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import { jsonParser } from '../http/json-body';
import type { authPlugin } from '../http/auth';
import type { DeviceLogin, DeviceLogins } from '../service/device-logins';

const nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()]);

const LoginSchema = t.Object({
  id: t.String(),
  object: t.Literal('account.login'),
  status: t.UnionEnum(['pending', 'complete', 'failed']),
  user_code: t.String({ description: 'The code the operator enters at verification_url' }),
  verification_url: t.String(),
  expires_at: t.Number({ description: 'Unix milliseconds; the login fails after this' }),
  poll_interval_ms: t.Number(),
  account: nullable(
    t.Object({ id: t.String(), label: t.String(), chatgpt_account_id: t.String(), email: nullable(t.String()), plan: nullable(t.String()), created: t.Boolean({ description: 'False: an existing account logged in again' }) }),
  ),
  error: nullable(t.String()),
});

function loginView(login: DeviceLogin) {
  const s = login.state;
  return {
    id: login.id,
    object: 'account.login' as const,
    status: s.status,
    user_code: login.userCode,
    verification_url: login.verificationUrl,
    expires_at: login.expiresAt,
    poll_interval_ms: login.intervalMs,
    account:
      s.status === 'complete'
        ? { id: s.account.id, label: s.account.label, chatgpt_account_id: s.account.chatgpt_account_id, email: s.account.email, plan: s.account.plan, created: s.created }
        : null,
    error: s.status === 'failed' ? s.error : null,
  };
}

export interface AdminLoginsDeps {
  logins: DeviceLogins;
  maxBodyBytes: number;
}

export function adminLoginsRoutes(auth: ReturnType<typeof authPlugin>, deps: AdminLoginsDeps) {
  const json: [ReturnType<typeof jsonParser>, 'json'] = [jsonParser(deps.maxBodyBytes), 'json'];
  return new Elysia({ name: 'codexin.routes.admin-logins', prefix: '/admin/accounts/logins', detail: { tags: ['Admin'] } })
    .use(auth)
    .post(
      '',
      async ({ body, status }) => {
        return status(201, loginView(await deps.logins.start(body.label)));
      },
      {
        auth: 'admin',
        parse: json,
        body: t.Object({ label: t.Optional(t.String({ minLength: 1, maxLength: 200, description: 'A name for the new account (default: its email)' })) }, { example: { label: 'work account' } }),
        response: { 201: LoginSchema, 400: ErrorEnvelopeSchema, 502: ErrorEnvelopeSchema, ...authErrorResponses },
        detail: {
          summary: 'Start a device-code login for a new ChatGPT account',
          description: 'Show `user_code` and `verification_url` to the operator, then poll GET /admin/accounts/logins/{id} every `poll_interval_ms` until it is complete or failed.',
        },
      },
    )
    .get(
      '/:id',
      ({ params }) => {
        const login = deps.logins.get(params.id);
        if (!login) throw new ApiError(404, 'invalid_request_error', `No login with id ${params.id} (finished logins are forgotten after 10 minutes).`, { param: 'id', code: 'login_not_found' });
        return loginView(login);
      },
      {
        auth: 'admin',
        params: t.Object({ id: t.String() }),
        response: { 200: LoginSchema, 404: ErrorEnvelopeSchema, ...authErrorResponses },
        detail: { summary: 'The state of a device-code login: pending, complete (with the new account) or failed' },
      },
    );
}
