/** Sign-in: an admin key, checked against /admin/keys before it is kept for the session. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, call } from '../api';
import { Notice } from '../components';

function explain(failure: unknown): string {
  if (!(failure instanceof ApiFailure)) return failure instanceof Error ? failure.message : String(failure);
  if (failure.status === 403) return 'This key works, but it is not an admin key: the dashboard needs a key with admin access (codexin keys create --admin).';
  if (failure.status === 401) return `This key was not accepted: ${failure.message}`;
  return failure.message;
}

export function SignIn({ onSignedIn, notice }: { onSignedIn: (key: string) => void; notice: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  // The autofocus attribute is not applied reliably to elements added after load.
  useEffect(() => field.current?.focus(), []);
  return (
    <main class="signin">
      <h1>CodexIn dashboard</h1>
      <form
        class="stack card"
        onSubmit={async (e) => {
          e.preventDefault();
          const candidate = key.trim();
          if (!candidate) {
            setError('Enter an admin key (it starts with ci_).');
            return;
          }
          setBusy(true);
          setError(null);
          try {
            await call(candidate, 'GET', '/admin/keys');
            onSignedIn(candidate);
          } catch (failure) {
            setError(explain(failure));
          } finally {
            setBusy(false);
          }
        }}
      >
        {notice ? <Notice kind="info">{notice}</Notice> : null}
        <label for="admin-key">
          Admin key
          <input ref={field} id="admin-key" type="password" autoComplete="off" spellcheck={false} value={key} onInput={(e) => setKey(e.currentTarget.value)} placeholder="ci_…" />
        </label>
        <p class="muted">Kept in this tab only (session storage) and sent to this server's /admin API, nowhere else.</p>
        {error ? <Notice kind="error">{error}</Notice> : null}
        <button type="submit" class="btn btn-primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Checking the key…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
