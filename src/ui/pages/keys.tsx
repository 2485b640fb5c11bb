/** Keys: list with scopes, limits, expiry, last use and today's usage; create (secret shown once), edit limits, revoke. */
import { useState } from 'preact/hooks';
import { call, type ClientConfig, type CreatedKey, type KeyView, type List, type UsageRow } from '../api';
import { ActionButton, ConfirmDialog, CopyButton, LoadState, Modal, Notice, useLoad } from '../components';
import { count, dateTime, lastDays, relative } from '../format';

interface LimitFields {
  rpm: string;
  token_quota_daily: string;
  token_quota_weekly: string;
  max_concurrent: string;
  models: string;
}

const LIMIT_LABELS: [keyof LimitFields, string, string][] = [
  ['rpm', 'Requests per minute', 'no limit'],
  ['token_quota_daily', 'Tokens per day', 'no limit'],
  ['token_quota_weekly', 'Tokens per week', 'no limit'],
  ['max_concurrent', 'Requests at once', 'no limit'],
  ['models', 'Allowed models (comma-separated)', 'all models'],
];

function limitsOf(key: KeyView | null): LimitFields {
  const s = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));
  return { rpm: s(key?.rpm), token_quota_daily: s(key?.token_quota_daily), token_quota_weekly: s(key?.token_quota_weekly), max_concurrent: s(key?.max_concurrent), models: key?.models?.join(', ') ?? '' };
}

/** Form text → API fields; an empty field is null (no limit). Throws a sentence when a number is not a positive whole number. */
function limitsBody(fields: LimitFields): Record<string, number | string[] | null> {
  const body: Record<string, number | string[] | null> = {};
  for (const [name, label] of LIMIT_LABELS) {
    const raw = fields[name].trim();
    if (name === 'models') {
      const models = raw.split(',').map((m) => m.trim()).filter(Boolean);
      body.models = models.length ? models : null;
      continue;
    }
    if (raw === '') {
      body[name] = null;
      continue;
    }
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${label} must be a whole number of at least 1, or empty for no limit.`);
    body[name] = n;
  }
  return body;
}

function LimitInputs({ fields, onChange, idPrefix }: { fields: LimitFields; onChange: (f: LimitFields) => void; idPrefix: string }) {
  return (
    <fieldset class="grid">
      <legend>Limits (empty: none)</legend>
      {LIMIT_LABELS.map(([name, label, placeholder]) => (
        <label key={name} for={`${idPrefix}-${name}`}>
          {label}
          <input
            id={`${idPrefix}-${name}`}
            inputMode={name === 'models' ? 'text' : 'numeric'}
            placeholder={placeholder}
            value={fields[name]}
            onInput={(e) => onChange({ ...fields, [name]: e.currentTarget.value })}
          />
        </label>
      ))}
    </fieldset>
  );
}

function limitsSummary(k: KeyView): string {
  const parts: string[] = [];
  if (k.rpm !== null) parts.push(`${k.rpm}/min`);
  if (k.token_quota_daily !== null) parts.push(`${count(k.token_quota_daily)} tokens/day`);
  if (k.token_quota_weekly !== null) parts.push(`${count(k.token_quota_weekly)} tokens/week`);
  if (k.max_concurrent !== null) parts.push(`${k.max_concurrent} at once`);
  if (k.models !== null) parts.push(`models: ${k.models.join(', ')}`);
  return parts.length ? parts.join(' · ') : 'none';
}

function CreateKey({ adminKey, open, onClose, onCreated }: { adminKey: string; open: boolean; onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [advanced, setAdvanced] = useState(false);
  const [admin, setAdmin] = useState(false);
  const [expiresDays, setExpiresDays] = useState('');
  const [limits, setLimits] = useState<LimitFields>(limitsOf(null));
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ key: CreatedKey; config: ClientConfig | null; configError: string | null } | null>(null);

  const close = () => {
    setName('');
    setAdvanced(false);
    setAdmin(false);
    setExpiresDays('');
    setLimits(limitsOf(null));
    setError(null);
    setCreated(null);
    onClose();
  };

  const submit = async () => {
    setError(null);
    if (!name.trim()) throw new Error('Give the key a name, e.g. who or what will use it.');
    const body: Record<string, unknown> = { name: name.trim(), scopes: [...(advanced ? ['advanced'] : []), ...(admin ? ['admin'] : [])], ...limitsBody(limits) };
    for (const field of Object.keys(body)) if (body[field] === null) delete body[field];
    if (expiresDays.trim()) {
      const days = Number(expiresDays);
      if (!Number.isFinite(days) || days <= 0) throw new Error('Expires in (days) must be a positive number, or empty for never.');
      body.expires_in_seconds = Math.round(days * 86_400);
    }
    const key = await call<CreatedKey>(adminKey, 'POST', '/admin/keys', body);
    // The ready client config is what the key holder would see at /v1/me with this key.
    let config: ClientConfig | null = null;
    let configError: string | null = null;
    try {
      config = (await call<{ client_config: ClientConfig }>(key.key, 'GET', '/v1/me')).client_config;
    } catch (failure) {
      configError = failure instanceof Error ? failure.message : String(failure);
    }
    setCreated({ key, config, configError });
    onCreated();
  };

  return (
    <Modal title={created ? 'Key created' : 'Create a key'} open={open} onClose={close}>
      {created ? (
        <div class="stack">
          <Notice kind="ok">Copy the key now: it is shown only this once and cannot be recovered.</Notice>
          <label>
            New key for {created.key.name}
            <input class="mono" readOnly value={created.key.key} data-testid="new-key" onFocus={(e) => e.currentTarget.select()} />
          </label>
          <div class="row">
            <CopyButton text={created.key.key} label="Copy key" />
          </div>
          {created.config ? (
            <>
              <h3>Client configuration</h3>
              <p>Environment for OpenAI SDKs:</p>
              <pre class="code" data-testid="client-env">{`export OPENAI_BASE_URL=${created.config.base_url}\nexport OPENAI_API_KEY=${created.key.key}`}</pre>
              <p>Codex CLI (~/.codex/config.toml), with CODEXIN_API_KEY set to the key:</p>
              <pre class="code">{created.config.codex_config_toml}</pre>
              <div class="row">
                <CopyButton text={created.config.codex_config_toml} label="Copy Codex config" />
              </div>
            </>
          ) : (
            <Notice kind="error">Could not load the client configuration: {created.configError}</Notice>
          )}
          <div class="row">
            <button type="button" class="btn btn-primary" onClick={close}>
              Done, I copied it
            </button>
          </div>
        </div>
      ) : (
        <form class="stack" onSubmit={(e) => e.preventDefault()}>
          <label for="new-key-name">
            Name
            <input id="new-key-name" value={name} maxLength={200} required onInput={(e) => setName(e.currentTarget.value)} placeholder="e.g. alice-laptop" />
          </label>
          <fieldset class="row">
            <legend>Scopes</legend>
            <label class="check">
              <input type="checkbox" checked={advanced} onChange={(e) => setAdvanced(e.currentTarget.checked)} /> Advanced (files, audio, image generation)
            </label>
            <label class="check">
              <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} /> Admin (this dashboard and /admin)
            </label>
          </fieldset>
          <LimitInputs fields={limits} onChange={setLimits} idPrefix="new" />
          <label for="new-key-expires">
            Expires in (days; empty: never)
            <input id="new-key-expires" inputMode="decimal" value={expiresDays} onInput={(e) => setExpiresDays(e.currentTarget.value)} />
          </label>
          {error ? <Notice kind="error">{error}</Notice> : null}
          <div class="row">
            <ActionButton kind="primary" label="Create key" busyLabel="Creating…" onError={setError} run={submit} />
            <button type="button" class="btn btn-plain" onClick={close}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}

function EditLimits({ adminKey, target, onClose, onSaved }: { adminKey: string; target: KeyView | null; onClose: () => void; onSaved: (message: string) => void }) {
  const [fields, setFields] = useState<LimitFields>(limitsOf(target));
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  if (target && editing !== target.id) {
    setEditing(target.id);
    setFields(limitsOf(target));
    setError(null);
  }
  return (
    <Modal title={`Limits of ${target?.name ?? ''}`} open={target !== null} onClose={() => (setEditing(null), onClose())}>
      <form class="stack" onSubmit={(e) => e.preventDefault()}>
        <LimitInputs fields={fields} onChange={setFields} idPrefix="edit" />
        {error ? <Notice kind="error">{error}</Notice> : null}
        <div class="row">
          <ActionButton
            kind="primary"
            label="Save limits"
            busyLabel="Saving…"
            onError={setError}
            run={async () => {
              await call(adminKey, 'PATCH', `/admin/keys/${encodeURIComponent(target!.id)}`, limitsBody(fields));
              onSaved(`Saved the limits of ${target!.name}.`);
              setEditing(null);
              onClose();
            }}
          />
          <button type="button" class="btn btn-plain" onClick={() => (setEditing(null), onClose())}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function KeysPage({ adminKey }: { adminKey: string }) {
  const keys = useLoad(() => call<List<KeyView>>(adminKey, 'GET', '/admin/keys'), [adminKey]);
  const today = lastDays(1)[0]!;
  const usage = useLoad(() => call<List<UsageRow>>(adminKey, 'GET', '/admin/usage?group=key&days=1'), [adminKey]);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<KeyView | null>(null);
  const [revoking, setRevoking] = useState<KeyView | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const reload = () => {
    keys.reload();
    usage.reload();
  };
  const todayOf = (id: string) => usage.data?.data.find((r) => r.day === today && r.id === id);
  const live = keys.data?.data.filter((k) => k.revoked_at === null) ?? [];
  const revoked = keys.data?.data.filter((k) => k.revoked_at !== null) ?? [];
  return (
    <section aria-labelledby="keys-title">
      <div class="page-head">
        <h2 id="keys-title">Keys</h2>
        <div class="row">
          <button type="button" class="btn btn-plain" onClick={reload} disabled={keys.loading}>
            {keys.loading ? 'Refreshing…' : 'Refresh'}
          </button>
          <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
            Create key
          </button>
        </div>
      </div>
      {message ? <Notice kind={message.kind}>{message.text}</Notice> : null}
      <LoadState loaded={keys} what="keys" />
      {keys.data ? (
        <div class="table-wrap">
          <table class="stackable">
            <caption class="sr-only">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Limits</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Today</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {live.map((k) => {
                const t = todayOf(k.id);
                return (
                  <tr key={k.id} data-key-id={k.id}>
                    <th scope="row" data-label="Name">{k.name}</th>
                    <td class="mono" data-label="Key">{k.prefix}…</td>
                    <td data-label="Scopes">{k.scopes.length ? k.scopes.join(', ') : 'basic'}</td>
                    <td data-label="Limits">{limitsSummary(k)}</td>
                    <td data-label="Expires">{k.expires_at === null ? 'never' : `${dateTime(k.expires_at)} (${relative(k.expires_at)})`}</td>
                    <td data-label="Last used">{relative(k.last_used_at)}</td>
                    <td data-label="Today">{t ? `${t.requests} req · ${count(t.input_tokens + t.output_tokens)} tokens` : '0 req'}</td>
                    <td class="actions">
                      <button type="button" class="btn btn-plain" aria-label={`Edit limits of ${k.name}`} onClick={() => setEditing(k)}>
                        Edit limits
                      </button>
                      <button type="button" class="btn btn-danger" aria-label={`Revoke ${k.name}`} onClick={() => setRevoking(k)}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {revoked.length ? (
        <details>
          <summary>{revoked.length} revoked</summary>
          <ul>
            {revoked.map((k) => (
              <li key={k.id}>
                {k.name} ({k.prefix}…), revoked {relative(k.revoked_at)}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <CreateKey adminKey={adminKey} open={creating} onClose={() => setCreating(false)} onCreated={reload} />
      <EditLimits
        adminKey={adminKey}
        target={editing}
        onClose={() => setEditing(null)}
        onSaved={(text) => {
          setMessage({ kind: 'ok', text });
          reload();
        }}
      />
      <ConfirmDialog
        title={`Revoke ${revoking?.name ?? ''}?`}
        body="Every client using this key gets 401 from now on. This cannot be undone."
        confirmLabel="Revoke key"
        busyLabel="Revoking…"
        open={revoking !== null}
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          await call(adminKey, 'DELETE', `/admin/keys/${encodeURIComponent(revoking!.id)}`);
          setMessage({ kind: 'ok', text: `Revoked ${revoking!.name}.` });
          reload();
        }}
      />
    </section>
  );
}
