/**
 * The dashboard's only way to the server: fetch with the admin key as a bearer
 * header. Failures become an ApiFailure whose message is the server's own words
 * (the OpenAI error envelope) or, when the server is unreachable, says so.
 */

export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
  }
}

/** Window event fired when /admin answers 401; `detail` is the server's message. */
export const KEY_REJECTED = 'codexin:admin-key-rejected';

interface ErrorEnvelope {
  error?: { message?: string; code?: string | null };
}

export async function call<T>(key: string, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiFailure('The CodexIn server did not answer: is it still running?', 0, null);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // a non-JSON answer is reported by status below
  }
  if (!response.ok) {
    const envelope = parsed as ErrorEnvelope | null;
    const message = envelope?.error?.message ?? `The server answered HTTP ${response.status}.`;
    // The admin key stopped working (revoked, expired) while signed in: the app signs out.
    if (response.status === 401 && path.startsWith('/admin/')) dispatchEvent(new CustomEvent(KEY_REJECTED, { detail: message }));
    throw new ApiFailure(message, response.status, envelope?.error?.code ?? null);
  }
  return parsed as T;
}

// Shapes of the admin API (see /docs): only the fields the dashboard reads.

export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  rpm: number | null;
  token_quota_daily: number | null;
  token_quota_weekly: number | null;
  max_concurrent: number | null;
  models: string[] | null;
}

export interface CreatedKey extends KeyView {
  key: string;
}

export interface AccountView {
  id: string;
  label: string;
  chatgpt_account_id: string;
  email: string | null;
  plan: string | null;
  status: 'active' | 'needs_login' | 'disabled';
  status_message: string | null;
  access_expires_at: number | null;
  last_refresh_at: number | null;
  cooldown_until: number | null;
  last_used_at: number | null;
  quota: Record<string, string> | null;
}

export interface UsageRow {
  day: string;
  id: string | null;
  requests: number;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

export interface RecentRequest {
  id: number;
  at: number;
  request_id: string | null;
  key_id: string | null;
  account_id: string | null;
  route: string;
  model: string | null;
  status: number;
  error_code: string | null;
  latency_ms: number | null;
  ttfb_ms: number | null;
  input_tokens: number;
  output_tokens: number;
}

export interface DeviceLogin {
  id: string;
  status: 'pending' | 'complete' | 'failed';
  user_code: string;
  verification_url: string;
  expires_at: number;
  poll_interval_ms: number;
  account: { id: string; label: string; email: string | null; plan: string | null; created: boolean } | null;
  error: string | null;
}

export interface ClientConfig {
  base_url: string;
  codex_config_toml: string;
  env: Record<string, string>;
}

export interface List<T> {
  data: T[];
}
