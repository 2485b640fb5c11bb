/**
 * Reads the claims of ChatGPT's id/access tokens. Signatures are not checked: the
 * tokens come from the auth server over TLS and are only ever sent back to it, so
 * their claims are used for bookkeeping (expiry, account id, plan), not for trust.
 */

export interface ChatGptClaims {
  exp: number | null;
  email: string | null;
  accountId: string | null;
  plan: string | null;
  userId: string | null;
}

export function decodeJwtPayload(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length < 2) return null;
  try {
    const json = Buffer.from(parts[1]!, 'base64url').toString('utf8');
    const payload: unknown = JSON.parse(json);
    return payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

export function chatGptClaims(token: string): ChatGptClaims {
  const p = decodeJwtPayload(token) ?? {};
  const auth = (p['https://api.openai.com/auth'] ?? {}) as Record<string, unknown>;
  const profile = (p['https://api.openai.com/profile'] ?? {}) as Record<string, unknown>;
  return {
    exp: typeof p.exp === 'number' ? p.exp : null,
    email: str(p.email) ?? str(profile.email),
    accountId: str(auth.chatgpt_account_id),
    plan: str(auth.chatgpt_plan_type),
    userId: str(auth.chatgpt_user_id) ?? str(auth.user_id),
  };
}
