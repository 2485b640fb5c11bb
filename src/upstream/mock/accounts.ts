/**
 * The simulated ChatGPT identity store: accounts, the access tokens the backend
 * accepts, and rotating refresh tokens (protocol §4.1, §4.2).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt, signFakeJwt } from './jwt';
import type { IssueAccountOptions, IssuedAccount } from './types';

export const CODEX_CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';

// Real ChatGPT access tokens live about ten days; tests shorten it per account.
const DEFAULT_ACCESS_TTL_SECONDS = 864_000;

export interface SimAccount {
  accountId: string;
  plan: string;
  email: string;
  userId: string;
  accessTtlSeconds: number;
}

export interface TokenSet {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export type RotateResult = { ok: true; account: SimAccount; tokens: TokenSet } | { ok: false; code: 'refresh_token_reused' | 'refresh_token_invalidated' };

export class AccountRegistry {
  private readonly accounts = new Map<string, SimAccount>();
  private readonly accessTokens = new Map<string, string>();
  private readonly refreshTokens = new Map<string, { accountId: string; used: boolean }>();
  private serial = 0;

  constructor(private readonly defaultPlan: string) {}

  issue(opts: IssueAccountOptions = {}): IssuedAccount {
    return this.register(opts).issued;
  }

  /** Like issue(), also telling the token lifetime the OAuth answer reports. */
  register(opts: IssueAccountOptions = {}): { issued: IssuedAccount; tokens: TokenSet } {
    this.serial += 1;
    const account: SimAccount = {
      accountId: opts.accountId ?? randomUUID(),
      plan: opts.plan ?? this.defaultPlan,
      email: opts.email ?? `user${this.serial}@example.com`,
      userId: `user-${randomBytes(12).toString('base64url')}`,
      accessTtlSeconds: opts.accessTtlSeconds ?? DEFAULT_ACCESS_TTL_SECONDS,
    };
    this.accounts.set(account.accountId, account);
    const tokens = this.mint(account, account.accessTtlSeconds);
    const issued: IssuedAccount = {
      accountId: account.accountId,
      plan: account.plan,
      email: account.email,
      idToken: tokens.idToken,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      authJson: {
        auth_mode: 'chatgpt',
        OPENAI_API_KEY: null,
        tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: account.accountId },
        last_refresh: new Date().toISOString(),
      },
    };
    return { issued, tokens };
  }

  /** A refresh_token grant: the presented token is spent whatever happens next. */
  rotate(refreshToken: string): RotateResult {
    const entry = this.refreshTokens.get(refreshToken);
    if (!entry) return { ok: false, code: 'refresh_token_invalidated' };
    if (entry.used) return { ok: false, code: 'refresh_token_reused' };
    const account = this.accounts.get(entry.accountId);
    if (!account) return { ok: false, code: 'refresh_token_invalidated' };
    entry.used = true;
    // An account issued with an already expired token must still be recoverable by refresh.
    const ttl = account.accessTtlSeconds > 0 ? account.accessTtlSeconds : DEFAULT_ACCESS_TTL_SECONDS;
    return { ok: true, account, tokens: this.mint(account, ttl) };
  }

  /**
   * The account behind a bearer token, or null (the backend then answers 401).
   * Tokens minted before a refresh stay valid until their own `exp`, as real ones do.
   */
  authenticate(authorization: string | null, accountHeader: string | null): SimAccount | null {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match || !accountHeader) return null;
    const token = match[1]!;
    const accountId = this.accessTokens.get(token);
    if (!accountId || accountId !== accountHeader) return null;
    const exp = decodeJwt(token)?.exp;
    if (typeof exp !== 'number' || exp <= Date.now() / 1000) return null;
    return this.accounts.get(accountId) ?? null;
  }

  private mint(account: SimAccount, ttlSeconds: number): TokenSet {
    const now = Math.floor(Date.now() / 1000);
    const auth = {
      chatgpt_account_id: account.accountId,
      chatgpt_plan_type: account.plan,
      chatgpt_user_id: account.userId,
      user_id: account.userId,
    };
    const profile = { email: account.email, email_verified: true };
    const idToken = signFakeJwt({
      aud: [CODEX_CLIENT_ID],
      email: account.email,
      email_verified: true,
      exp: now + 3600,
      iat: now,
      iss: 'https://auth.openai.com',
      sub: `auth0|${account.userId}`,
      'https://api.openai.com/auth': auth,
      'https://api.openai.com/profile': profile,
    });
    const accessToken = signFakeJwt({
      aud: ['https://api.openai.com/v1'],
      client_id: CODEX_CLIENT_ID,
      email: account.email,
      exp: now + ttlSeconds,
      iat: now,
      iss: 'https://auth.openai.com',
      // Two tokens minted in the same second must differ, or rotation would be invisible.
      jti: randomUUID(),
      scp: ['openid', 'profile', 'email', 'offline_access'],
      sub: `auth0|${account.userId}`,
      'https://api.openai.com/auth': auth,
      'https://api.openai.com/profile': profile,
    });
    const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
    this.accessTokens.set(accessToken, account.accountId);
    this.refreshTokens.set(refreshToken, { accountId: account.accountId, used: false });
    return { idToken, accessToken, refreshToken, expiresIn: ttlSeconds };
  }
}
