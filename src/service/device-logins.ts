/**
 * Device-code logins started from the dashboard. The browser cannot wait 15
 * minutes on one HTTP request, so a login runs here in the background: start()
 * returns the code to show, the poll loop against the auth server runs on its own,
 * and get() reports pending → complete (with the new account) or failed.
 *
 * Bounded: at most MAX_PENDING logins wait at once, and finished ones are forgotten
 * after KEEP_FINISHED_MS, so a page left polling or a script hammering start()
 * cannot grow memory. Tokens never leave this module except into the account store.
 */
import { accountView, type AccountStore, type AccountView } from '../store/accounts';
import { completeDeviceLogin, startDeviceLogin } from '../upstream/chatgpt/oauth';
import { chatGptClaims } from '../upstream/chatgpt/jwt';
import { ApiError } from '../openai/api-error';

const LOGIN_TIMEOUT_MS = 15 * 60_000;
const KEEP_FINISHED_MS = 10 * 60_000;
const MAX_PENDING = 4;

export type DeviceLoginState =
  | { status: 'pending' }
  | { status: 'complete'; account: AccountView; created: boolean }
  | { status: 'failed'; error: string };

export interface DeviceLogin {
  id: string;
  userCode: string;
  verificationUrl: string;
  expiresAt: number;
  intervalMs: number;
  state: DeviceLoginState;
  finishedAt: number | null;
}

export class DeviceLogins {
  private readonly logins = new Map<string, DeviceLogin>();

  constructor(
    private readonly accounts: AccountStore,
    private readonly authUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async start(label?: string): Promise<DeviceLogin> {
    this.prune();
    const pending = [...this.logins.values()].filter((l) => l.state.status === 'pending').length;
    if (pending >= MAX_PENDING) {
      throw new ApiError(429, 'rate_limit_error', `${MAX_PENDING} logins are already waiting for approval; finish or let one expire (15 minutes) first.`, {
        code: 'too_many_pending_logins',
      });
    }
    let code;
    try {
      code = await startDeviceLogin(this.authUrl, this.fetchImpl);
    } catch (error) {
      throw new ApiError(502, 'upstream_error', `The ChatGPT auth server did not start a login: ${(error as Error).message}.`, { code: 'device_login_unavailable' });
    }
    const login: DeviceLogin = {
      id: 'login_' + Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('base64url'),
      userCode: code.userCode,
      verificationUrl: code.verificationUrl,
      expiresAt: Date.now() + LOGIN_TIMEOUT_MS,
      intervalMs: code.intervalMs,
      state: { status: 'pending' },
      finishedAt: null,
    };
    this.logins.set(login.id, login);
    void completeDeviceLogin(this.authUrl, code, { timeoutMs: LOGIN_TIMEOUT_MS, fetchImpl: this.fetchImpl })
      .then(async (tokens) => {
        const claims = chatGptClaims(tokens.idToken);
        const accessClaims = chatGptClaims(tokens.accessToken);
        const accountId = claims.accountId ?? accessClaims.accountId;
        if (!accountId) return this.finish(login, { status: 'failed', error: 'the login returned no ChatGPT account id' });
        const { record, created } = await this.accounts.upsert({
          ...tokens,
          chatgptAccountId: accountId,
          email: claims.email,
          plan: claims.plan ?? accessClaims.plan,
          label,
          lastRefreshAt: Date.now(),
        });
        this.finish(login, { status: 'complete', account: accountView(record), created });
      })
      // A failed login, and a login whose account could not be stored (database unreachable).
      .catch((error: unknown) => this.finish(login, { status: 'failed', error: (error as Error).message }));
    return login;
  }

  get(id: string): DeviceLogin | undefined {
    this.prune();
    return this.logins.get(id);
  }

  private finish(login: DeviceLogin, state: DeviceLoginState): void {
    login.state = state;
    login.finishedAt = Date.now();
  }

  private prune(now = Date.now()): void {
    for (const [id, login] of this.logins) {
      if (login.finishedAt !== null && now - login.finishedAt > KEEP_FINISHED_MS) this.logins.delete(id);
    }
  }
}
