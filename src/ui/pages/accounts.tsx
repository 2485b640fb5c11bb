/** Accounts: each ChatGPT account with its status, plan, quota bars and cooldown; enable, disable, remove, add by device login. */
import { useEffect, useState } from 'preact/hooks';
import { call, type AccountView, type DeviceLogin, type List } from '../api';
import { ActionButton, ConfirmDialog, CopyButton, LoadState, Meter, Modal, Notice, useLoad } from '../components';
import { dateTime, quotaWindows, relative } from '../format';

const STATUS_WORDS: Record<AccountView['status'], string> = { active: 'Active', needs_login: 'Needs a new login', disabled: 'Disabled' };

function AccountCard({ account, adminKey, onChanged, onError }: { account: AccountView; adminKey: string; onChanged: (message: string) => void; onError: (m: string) => void }) {
  const [confirming, setConfirming] = useState(false);
  const cooling = account.cooldown_until !== null && account.cooldown_until > Date.now();
  const windows = quotaWindows(account.quota, account.last_used_at);
  const name = account.email && account.email !== account.label ? `${account.label} (${account.email})` : account.label;
  return (
    <article class="card" aria-labelledby={`acct-${account.id}`}>
      <header class="card-head">
        <h3 id={`acct-${account.id}`}>{name}</h3>
        <span class={`badge badge-${cooling ? 'cooling' : account.status}`}>{cooling ? 'Cooling down' : STATUS_WORDS[account.status]}</span>
      </header>
      <dl class="facts">
        <div>
          <dt>Plan</dt>
          <dd>{account.plan ?? 'unknown'}</dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd>{relative(account.last_used_at)}</dd>
        </div>
        <div>
          <dt>Cooldown</dt>
          <dd>{cooling ? `until ${dateTime(account.cooldown_until!)} (${relative(account.cooldown_until)})` : 'none'}</dd>
        </div>
        <div>
          <dt>Token expires</dt>
          <dd>{account.access_expires_at === null ? 'unknown' : relative(account.access_expires_at)}</dd>
        </div>
      </dl>
      {account.status_message ? <Notice kind={account.status === 'needs_login' ? 'error' : 'info'}>{account.status_message}</Notice> : null}
      <div class="meters">
        {windows.length === 0 ? (
          <p class="muted">No quota reported yet: it appears after the first request through this account.</p>
        ) : (
          windows.map((w) => <Meter key={w.name} label={w.name} percent={w.usedPercent} detail={w.resetsAt === null ? 'reset time unknown' : `resets ${relative(w.resetsAt)} (${dateTime(w.resetsAt)})`} />)
        )}
      </div>
      <div class="row">
        {account.status === 'disabled' ? (
          <ActionButton
            label="Enable"
            busyLabel="Enabling…"
            ariaLabel={`Enable ${account.label}`}
            onError={onError}
            run={async () => {
              await call(adminKey, 'POST', `/admin/accounts/${encodeURIComponent(account.id)}/enable`);
              onChanged(`Enabled ${account.label}.`);
            }}
          />
        ) : (
          <ActionButton
            label="Disable"
            busyLabel="Disabling…"
            ariaLabel={`Disable ${account.label}`}
            onError={onError}
            run={async () => {
              await call(adminKey, 'POST', `/admin/accounts/${encodeURIComponent(account.id)}/disable`);
              onChanged(`Disabled ${account.label}: it gets no traffic until enabled.`);
            }}
          />
        )}
        <button type="button" class="btn btn-danger" aria-label={`Remove ${account.label}`} onClick={() => setConfirming(true)}>
          Remove
        </button>
      </div>
      <ConfirmDialog
        title={`Remove ${account.label}?`}
        body="Its tokens are deleted from this server. To use the account again, log in or import it again."
        confirmLabel="Remove account"
        busyLabel="Removing…"
        open={confirming}
        onClose={() => setConfirming(false)}
        onConfirm={async () => {
          await call(adminKey, 'DELETE', `/admin/accounts/${encodeURIComponent(account.id)}`);
          onChanged(`Removed ${account.label}.`);
        }}
      />
    </article>
  );
}

/** Runs the device-code login: start, show code and link, poll until approved, report the new account. */
function AddAccount({ adminKey, open, onClose, onAdded, onLeftWaiting }: { adminKey: string; open: boolean; onClose: () => void; onAdded: (message: string) => void; onLeftWaiting: (message: string) => void }) {
  const [login, setLogin] = useState<DeviceLogin | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [label, setLabel] = useState('');

  useEffect(() => {
    if (!login || login.status !== 'pending' || !open) return;
    const timer = setTimeout(async () => {
      try {
        const next = await call<DeviceLogin>(adminKey, 'GET', `/admin/accounts/logins/${encodeURIComponent(login.id)}`);
        setLogin(next);
        if (next.status === 'complete' && next.account) onAdded(`${next.account.created ? 'Added' : 'Logged in again:'} ${next.account.label} (plan ${next.account.plan ?? 'unknown'}).`);
      } catch (failure) {
        setError(failure instanceof Error ? failure.message : String(failure));
      }
    }, Math.max(1000, login.poll_interval_ms));
    return () => clearTimeout(timer);
  }, [login, open]);

  const close = () => {
    if (login?.status === 'pending') onLeftWaiting(`The login with code ${login.user_code} is still waiting: once you approve it, the account appears here (press Refresh).`);
    setLogin(null);
    setError(null);
    setLabel('');
    onClose();
  };

  return (
    <Modal title="Add a ChatGPT account" open={open} onClose={close}>
      {login === null ? (
        <form
          onSubmit={(e) => e.preventDefault()}
          class="stack"
        >
          <p>CodexIn starts a device login: you open a ChatGPT page, enter a code, and the account is added here.</p>
          <label>
            Label (optional)
            <input value={label} onInput={(e) => setLabel(e.currentTarget.value)} maxLength={200} placeholder="e.g. team plus account" />
          </label>
          {error ? <Notice kind="error">{error}</Notice> : null}
          <div class="row">
            <ActionButton
              kind="primary"
              label="Start login"
              busyLabel="Asking ChatGPT for a code…"
              onError={setError}
              run={async () => {
                setError(null);
                setLogin(await call<DeviceLogin>(adminKey, 'POST', '/admin/accounts/logins', label.trim() ? { label: label.trim() } : {}));
              }}
            />
            <button type="button" class="btn btn-plain" onClick={close}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div class="stack">
          <p>
            Open <a href={login.verification_url} target="_blank" rel="noopener noreferrer">{login.verification_url}</a> and enter this code:
          </p>
          <p class="user-code" data-testid="user-code">
            {login.user_code}
          </p>
          <div class="row">
            <CopyButton text={login.user_code} label="Copy code" />
          </div>
          {login.status === 'pending' ? <Notice kind="info">Waiting for you to approve the login (until {dateTime(login.expires_at)})…</Notice> : null}
          {login.status === 'complete' && login.account ? (
            <Notice kind="ok">
              Account added: {login.account.label} (plan {login.account.plan ?? 'unknown'}).
            </Notice>
          ) : null}
          {login.status === 'failed' ? <Notice kind="error">The login failed: {login.error}</Notice> : null}
          {error ? <Notice kind="error">{error}</Notice> : null}
          <div class="row">
            <button type="button" class="btn btn-plain" onClick={close}>
              {login.status === 'pending' ? 'Close (the login keeps waiting)' : 'Done'}
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}

export function AccountsPage({ adminKey }: { adminKey: string }) {
  const accounts = useLoad(() => call<List<AccountView>>(adminKey, 'GET', '/admin/accounts'), [adminKey]);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error' | 'info'; text: string } | null>(null);
  const [adding, setAdding] = useState(false);
  const changed = (text: string) => {
    setMessage({ kind: 'ok', text });
    accounts.reload();
  };
  const failed = (text: string) => setMessage({ kind: 'error', text });
  return (
    <section aria-labelledby="accounts-title">
      <div class="page-head">
        <h2 id="accounts-title">Accounts</h2>
        <div class="row">
          <button type="button" class="btn btn-plain" onClick={accounts.reload} disabled={accounts.loading}>
            {accounts.loading ? 'Refreshing…' : 'Refresh'}
          </button>
          <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>
            Add account
          </button>
        </div>
      </div>
      {message ? <Notice kind={message.kind}>{message.text}</Notice> : null}
      <LoadState loaded={accounts} what="accounts" />
      {accounts.data && accounts.data.data.length === 0 ? (
        <Notice kind="info">No ChatGPT account yet. Add one here, or run "codexin accounts import ~/.codex/auth.json".</Notice>
      ) : null}
      <div class="cards">
        {accounts.data?.data.map((a) => <AccountCard key={a.id} account={a} adminKey={adminKey} onChanged={changed} onError={failed} />)}
      </div>
      <AddAccount adminKey={adminKey} open={adding} onClose={() => setAdding(false)} onAdded={changed} onLeftWaiting={(text) => setMessage({ kind: 'info', text })} />
    </section>
  );
}
