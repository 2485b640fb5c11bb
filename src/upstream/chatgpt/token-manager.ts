/**
 * Keeps each account's access token fresh. Refresh tokens rotate and a reused one
 * kills the login, so refreshes are single-flight per account: 20 concurrent
 * requests with an expired token cause exactly one refresh, and all of them use
 * its result. Rotated tokens are persisted before they are used, compare-and-set on
 * the refresh token spent, so a peer's rotation is adopted rather than clobbered.
 * Across instances sharing a database, the store's exclusiveRefresh keeps every other
 * refresher of the account out (PostgreSQL: an advisory lock per account), and the
 * re-read under it sees a peer's finished rotation and adopts it: exactly one refresh
 * cluster-wide.
 */
import type { AccountRecord, AccountStore } from '../../store/accounts';
import type { Logger } from '../../log';
import { RefreshError, refreshTokens } from './oauth';

const REFRESH_SKEW_MS = 5 * 60_000;
// Tokens without an `exp` claim are refreshed on the Codex CLI's cadence.
const MAX_TOKEN_AGE_MS = 8 * 24 * 3_600_000;
// After "refresh_token_reused", how long to watch the store for a peer's rotation before giving up on the login.
const PEER_SAVE_WAIT_MS = 2_000;
const PEER_SAVE_POLL_MS = 50;

/** The reused-token failure when an earlier round trip was cut off: the rotation it got was lost with it. */
function lostRotation(startedAt: number): RefreshError {
  return new RefreshError(
    `a token refresh started at ${new Date(startedAt).toISOString()} never completed (CodexIn was stopped or lost the connection during it) ` +
      'after the auth server had already rotated the refresh token, so the new token was lost; log in again with "codexin login" or re-import a fresh auth.json',
    true,
    'refresh_interrupted',
  );
}

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
      return await this.refresh(accountId, account.accessToken);
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
    return this.refresh(accountId, rejectedAccessToken);
  }

  private refresh(accountId: string, staleAccessToken: string): Promise<AccountRecord> {
    const running = this.inflight.get(accountId);
    if (running) return running;
    const job = this.accounts.exclusiveRefresh(accountId, () => this.doRefresh(accountId, staleAccessToken)).finally(() => this.inflight.delete(accountId));
    this.inflight.set(accountId, job);
    return job;
  }

  /**
   * One refresh, safe against another writer of the same account (a second store
   * handle, a re-import): it starts from the stored tokens, saves its result only if
   * the refresh token it spent is still the stored one, and adopts the stored tokens
   * when someone else rotated first, instead of failing or overwriting them.
   */
  private async doRefresh(accountId: string, staleAccessToken: string): Promise<AccountRecord> {
    const account = await this.accounts.reread(accountId);
    if (!account) throw new RefreshError('the account was removed', true, null);
    if (account.accessToken !== staleAccessToken && !this.needsRefresh(account) && account.status === 'active') return this.adopted(account);
    const spent = account.refreshToken;
    // Set by a round trip that never got its answer saved: a peer's in flight, or one cut off by a kill.
    const earlierAttempt = account.refreshStartedAt;
    await this.accounts.markRefreshInFlight(accountId, Date.now());
    let tokens;
    try {
      tokens = await refreshTokens(this.authUrl, account, this.fetchImpl);
    } catch (error) {
      if (!(error instanceof RefreshError && error.permanent)) {
        if (!(error instanceof RefreshError) || error.answered) await this.accounts.markRefreshInFlight(accountId, null);
        this.logger.warn('account token refresh failed', { account_id: accountId, error: (error as Error).message });
        throw error;
      }
      // "Reused" usually means a peer spent the same token a moment earlier: give its save a moment to land.
      const rotated = error.code === 'refresh_token_reused' ? await this.peerRotation(accountId, spent) : await this.rotatedBy(accountId, spent);
      if (rotated) return this.adoptedAfterRace(rotated);
      const reason = error.code === 'refresh_token_reused' && earlierAttempt !== null ? lostRotation(earlierAttempt) : error;
      const marked = await this.accounts.markNeedsLogin(accountId, spent, reason.message);
      if (!marked.saved) {
        if (marked.current && marked.current.refreshToken !== spent) return this.adoptedAfterRace(marked.current);
        throw reason;
      }
      this.logger.warn('account needs login', { account_id: accountId, reason: reason === error ? (error.code ?? 'rejected') : 'refresh_interrupted' });
      throw reason;
    }
    const saved = await this.accounts.saveRefreshedTokens(accountId, spent, tokens);
    if (saved.saved) {
      this.logger.info('account token refreshed', { account_id: accountId });
      return saved.record;
    }
    // The stored tokens changed while ours were in flight (e.g. a re-import): the stored ones win.
    if (!saved.current) throw new RefreshError('the account was removed', true, null);
    return this.adoptedAfterRace(saved.current);
  }

  /** Adopts a peer's tokens after our own round trip lost to it; our mark is not an interrupted refresh. */
  private async adoptedAfterRace(account: AccountRecord): Promise<AccountRecord> {
    if (account.refreshStartedAt !== null) await this.accounts.markRefreshInFlight(account.id, null);
    return this.adopted(this.accounts.get(account.id) ?? account);
  }

  private adopted(account: AccountRecord): AccountRecord {
    this.logger.info('account token rotated elsewhere; using the stored tokens', { account_id: account.id });
    return account;
  }

  /** The stored account when its refresh token is no longer `spent` (someone else rotated it). */
  private async rotatedBy(accountId: string, spent: string): Promise<AccountRecord | null> {
    const stored = await this.accounts.reread(accountId);
    return stored && stored.refreshToken !== spent && stored.status === 'active' ? stored : null;
  }

  private async peerRotation(accountId: string, spent: string): Promise<AccountRecord | null> {
    for (let waited = 0; ; waited += PEER_SAVE_POLL_MS) {
      const rotated = await this.rotatedBy(accountId, spent);
      if (rotated || waited >= PEER_SAVE_WAIT_MS) return rotated;
      await Bun.sleep(PEER_SAVE_POLL_MS);
    }
  }
}
