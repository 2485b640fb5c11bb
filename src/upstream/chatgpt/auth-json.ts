/**
 * Reads a Codex CLI `auth.json` (ChatGPT login) into the fields CodexIn stores.
 * Format: research/chatgpt-upstream-protocol.md §4.1.
 */
import type { ImportAccountInput } from '../../store/accounts';
import { chatGptClaims } from './jwt';

export class AuthJsonError extends Error {
  override name = 'AuthJsonError';
}

export function parseAuthJson(text: string): ImportAccountInput {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new AuthJsonError('not a JSON file; expected a Codex CLI auth.json (~/.codex/auth.json)');
  }
  if (!doc || typeof doc !== 'object') throw new AuthJsonError('expected a JSON object');
  const d = doc as Record<string, unknown>;
  const tokens = d.tokens as Record<string, unknown> | null | undefined;
  if (!tokens || typeof tokens !== 'object') {
    if (typeof d.OPENAI_API_KEY === 'string' && d.OPENAI_API_KEY) {
      throw new AuthJsonError('this auth.json holds an API key login, not a ChatGPT login; run "codex login" (ChatGPT) first, or use --upstream openai');
    }
    throw new AuthJsonError('no "tokens" object: this auth.json holds no ChatGPT login (run "codex login" first)');
  }
  const need = (name: string): string => {
    const v = tokens[name];
    if (typeof v !== 'string' || v === '') throw new AuthJsonError(`tokens.${name} is missing`);
    return v;
  };
  const idToken = need('id_token');
  const accessToken = need('access_token');
  const refreshToken = need('refresh_token');
  const idClaims = chatGptClaims(idToken);
  const accessClaims = chatGptClaims(accessToken);
  const accountId = (typeof tokens.account_id === 'string' && tokens.account_id) || idClaims.accountId || accessClaims.accountId;
  if (!accountId) throw new AuthJsonError('cannot find the ChatGPT account id (tokens.account_id or the id_token claims)');
  const lastRefresh = typeof d.last_refresh === 'string' ? Date.parse(d.last_refresh) : NaN;
  return {
    chatgptAccountId: accountId,
    email: idClaims.email ?? accessClaims.email,
    plan: idClaims.plan ?? accessClaims.plan,
    idToken,
    accessToken,
    refreshToken,
    accessExpiresAt: accessClaims.exp !== null ? accessClaims.exp * 1000 : null,
    lastRefreshAt: Number.isFinite(lastRefresh) ? lastRefresh : null,
  };
}
