/**
 * GET /v1/me: what a key holder may know about their own key: limits, usage,
 * and ready-to-paste client configuration. Never the secret (we don't have it).
 */
import { Elysia, t } from 'elysia';
import { authErrorResponses } from '../openai/schemas';
import type { authPlugin } from '../http/auth';
import { keyView } from '../store/keys';
import type { UsageStore } from '../store/usage';
import type { ModelStore } from '../store/models';
import type { KeyLimiter } from '../call/admission';

const DAY = 86_400_000;

const nullableNumber = t.Union([t.Number(), t.Null()]);
const Totals = t.Object({ requests: t.Number(), input_tokens: t.Number(), cached_tokens: t.Number(), output_tokens: t.Number(), reasoning_tokens: t.Number() });
const MeSchema = t.Object(
  {
    object: t.Literal('key'),
    id: t.String(),
    name: t.String(),
    prefix: t.String(),
    scopes: t.Array(t.String()),
    expires_at: nullableNumber,
    rpm: nullableNumber,
    token_quota_daily: nullableNumber,
    token_quota_weekly: nullableNumber,
    max_concurrent: nullableNumber,
    models: t.Union([t.Array(t.String()), t.Null()]),
    active_requests: t.Number(),
    usage: t.Object({ today: Totals, this_week: Totals, total: Totals }),
    client_config: t.Object({ base_url: t.String(), codex_config_toml: t.String(), env: t.Record(t.String(), t.String()) }),
  },
  { additionalProperties: true },
);

// What a Host may look like: a name or address and a port. Anything else is not pasted into config.
const HOST_SYNTAX = /^[\w.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/** The first value of a proxy header (proxies append: "client, proxy1"). */
function firstValue(value: string | null): string | null {
  const first = value?.split(',')[0]?.trim();
  return first ? first : null;
}

/**
 * The base URL the caller used to reach us, so the snippets work as pasted. The
 * X-Forwarded-* headers count only with --trust-proxy: without a proxy that sets them,
 * they are whatever the caller wrote.
 */
export function publicBaseUrl(request: Request, trustProxy: boolean): string {
  const url = new URL(request.url);
  const forwardedProto = trustProxy ? firstValue(request.headers.get('x-forwarded-proto'))?.toLowerCase() : null;
  const proto = forwardedProto === 'http' || forwardedProto === 'https' ? forwardedProto : url.protocol.replace(':', '');
  const candidates = [trustProxy ? firstValue(request.headers.get('x-forwarded-host')) : null, request.headers.get('host'), url.host];
  const host = candidates.find((c): c is string => typeof c === 'string' && HOST_SYNTAX.test(c)) ?? 'localhost';
  return `${proto}://${host}/v1`;
}

export function meRoutes(auth: ReturnType<typeof authPlugin>, deps: { usage: UsageStore; models: ModelStore; limiter: KeyLimiter; trustProxy: boolean }) {
  return new Elysia({ name: 'codexin.routes.me', detail: { tags: ['Models'] } }).use(auth).get(
    '/v1/me',
    async ({ apiKey, request }) => {
      const now = Date.now();
      const since = (start: number) => Math.max(start, apiKey.usageResetAt ?? 0);
      const dayStart = Math.floor(now / DAY) * DAY;
      const weekStart = dayStart - ((new Date(dayStart).getUTCDay() + 6) % 7) * DAY;
      const baseUrl = publicBaseUrl(request, deps.trustProxy);
      const model = apiKey.allowedModels?.[0] ?? deps.models.listEnabled()[0]?.id ?? 'gpt-5.5';
      const { usage_reset_at: _reset, ...key } = keyView(apiKey);
      return {
        object: 'key' as const,
        ...key,
        active_requests: deps.limiter.activeFor(apiKey.id),
        usage: {
          today: await deps.usage.totalsForKey(apiKey.id, since(dayStart)),
          this_week: await deps.usage.totalsForKey(apiKey.id, since(weekStart)),
          total: await deps.usage.totalsForKey(apiKey.id),
        },
        client_config: {
          base_url: baseUrl,
          codex_config_toml: [
            `model = "${model}"`,
            'model_provider = "codexin"',
            '',
            '[model_providers.codexin]',
            'name = "CodexIn"',
            `base_url = "${baseUrl}"`,
            'env_key = "CODEXIN_API_KEY"',
            'wire_api = "responses"',
          ].join('\n'),
          env: { OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: `<your ${apiKey.prefix}… key>`, CODEXIN_API_KEY: `<your ${apiKey.prefix}… key>` },
        },
      };
    },
    {
      auth: 'any',
      response: { 200: MeSchema, ...authErrorResponses },
      detail: { summary: "The caller's own key: limits, usage, and client configuration to paste" },
    },
  );
}
