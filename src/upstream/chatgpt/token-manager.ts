/**
 * Keeps each account's access token fresh. Refresh tokens rotate and a reused one
 * kills the login, so refreshes are single-flight per account: 20 concurrent
 * requests with an expired token cause exactly one refresh, and all of them use
 * its result. Rotated tokens are persisted before they are used.
 */
import type { AccountRecord, AccountStore } from '../../store/accounts';
import type { Logger } from '../../log';
import { RefreshError, refreshTokens } from './oauth';

const REFRESH_SKEW_MS = 5 * 60_000;
// Tokens without an `exp` claim are refreshed on the Codex CLI's cadence.
const MAX_TOKEN_AGE_MS = 8 * 24 * 3_600_000;

export class TokenManager {
  private readonly inflight = new Map<string, Promise<AccountRecord>>();

  constructor(
    private readonly accounts: AccountStore,
    private readonly authUrl: string,
    private readonly logger: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  needsRefresh(account: AccountRecord, now = Date.now()): boolean {
    if (account.accessExpiresAt !== null) return account.accessExpiresAt - REFRESH_SKEW_MS <= now;
    return account.lastRefreshAt === null || now - account.lastRefreshAt > MAX_TOKEN_AGE_MS;
  }

  /** The account with a usable access token, refreshing first when it is about to expire. */
  async fresh(accountId: string): Promise<AccountRecord> {
    const account = this.accounts.get(accountId);
    if (!account) throw new RefreshError('the account was removed', true, null);
    if (!this.needsRefresh(account)) return account;
    try {
      return await this.refresh(accountId);
    } catch (error) {
      // A transient failure with a still-valid token: keep serving with it.
      if (error instanceof RefreshError && !error.permanent && account.accessExpiresAt !== null && account.accessExpiresAt > Date.now()) return account;
      throw error;
    }
  }

  /**
   * Called after the upstream answered 401 to `rejectedAccessToken`. If another request
   * already rotated the token, its result is reused instead of refreshing again.
   */
  async afterUnauthorized(accountId: string, rejectedAccessToken: string): Promise<AccountRecord> {
    const account = this.accounts.get(accountId);
    if (!account) throw new RefreshError('the account was removed', true, null);
    if (account.accessToken !== rejectedAccessToken) return account;
    return this.refresh(accountId);
  }

  private refresh(accountId: string): Promise<AccountRecord> {
    const running = this.inflight.get(accountId);
    if (running) return running;
    const job = this.doRefresh(accountId).finally(() => this.inflight.delete(accountId));
    this.inflight.set(accountId, job);
    return job;
  }

  private async doRefresh(accountId: string): Promise<AccountRecord> {
    const account = this.accounts.get(accountId);
    if (!account) throw new RefreshError('the account was removed', true, null);
    try {
      const tokens = await refreshTokens(this.authUrl, account, this.fetchImpl);
      this.accounts.saveTokens(accountId, tokens);
      this.logger.info('account token refreshed', { account_id: accountId });
      return this.accounts.get(accountId)!;
    } catch (error) {
      if (error instanceof RefreshError && error.permanent) {
        this.accounts.setStatus(accountId, 'needs_login', error.message);
        this.logger.warn('account needs login', { account_id: accountId, reason: error.code ?? 'rejected' });
      } else {
        this.logger.warn('account token refresh failed', { account_id: accountId, error: (error as Error).message });
      }
      throw error;
    }
  }
}
