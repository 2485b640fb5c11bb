/** Requests: the most recent API calls of the keys (model calls and the rest of /v1) with who, where, outcome and timings, filterable by outcome. No prompts, no secrets. */
import { useState } from 'preact/hooks';
import { call, type AccountView, type KeyView, type List, type RecentRequest } from '../api';
import { LoadState, Notice, messageOf, useLoad } from '../components';
import { dateTime, duration } from '../format';

type Outcome = 'all' | 'ok' | 'error';
const PAGE = 50;

interface Page {
  data: RecentRequest[];
  next_before: number | null;
}

const ms = (v: number | null) => (v === null ? '–' : duration(v));

export function RequestsPage({ adminKey }: { adminKey: string }) {
  const [outcome, setOutcome] = useState<Outcome>('all');
  const [older, setOlder] = useState<{ rows: RecentRequest[]; next: number | null } | null>(null);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const first = useLoad(async () => {
    setOlder(null);
    return call<Page>(adminKey, 'GET', `/admin/requests?limit=${PAGE}&outcome=${outcome}`);
  }, [adminKey, outcome]);
  const names = useLoad(async () => {
    const [keys, accounts] = await Promise.all([call<List<KeyView>>(adminKey, 'GET', '/admin/keys'), call<List<AccountView>>(adminKey, 'GET', '/admin/accounts')]);
    const map = new Map<string, string>();
    for (const k of keys.data) map.set(k.id, k.name);
    for (const a of accounts.data) map.set(a.id, a.label);
    return map;
  }, [adminKey, first.data]);
  const nameOf = (id: string | null) => (id === null ? '–' : (names.data?.get(id) ?? id));
  const rows = [...(first.data?.data ?? []), ...(older?.rows ?? [])];
  const next = older ? older.next : (first.data?.next_before ?? null);

  return (
    <section aria-labelledby="requests-title">
      <div class="page-head">
        <h2 id="requests-title">Recent requests</h2>
        <div class="row">
          <label class="inline" for="requests-outcome">
            Show
            <select id="requests-outcome" value={outcome} onChange={(e) => setOutcome(e.currentTarget.value as Outcome)}>
              <option value="all">all</option>
              <option value="ok">succeeded</option>
              <option value="error">failed</option>
            </select>
          </label>
          <button type="button" class="btn btn-plain" onClick={first.reload} disabled={first.loading}>
            {first.loading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      <p class="muted">Every /v1 call a key made, model calls with their tokens: ids, outcome and timings; prompts and replies are never stored. The request id is the one in x-request-id and in the server's log.</p>
      <LoadState loaded={first} what="requests" />
      {first.data && rows.length === 0 ? <Notice kind="info">{outcome === 'error' ? 'No failed requests.' : 'No requests yet.'}</Notice> : null}
      {rows.length > 0 ? (
        <div class="table-wrap">
          <table class="stackable" data-testid="requests">
            <caption class="sr-only">Recent requests, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Key</th>
                <th scope="col">Account</th>
                <th scope="col">Route</th>
                <th scope="col">Model</th>
                <th scope="col">Status</th>
                <th scope="col">Error</th>
                <th scope="col">Latency</th>
                <th scope="col">First byte</th>
                <th scope="col">Tokens in/out</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} class={r.status >= 400 ? 'failed' : ''}>
                  <td data-label="Time">{dateTime(r.at)}</td>
                  <td data-label="Key">{nameOf(r.key_id)}</td>
                  <td data-label="Account">{nameOf(r.account_id)}</td>
                  <td class="mono" data-label="Route">{r.route}</td>
                  <td data-label="Model">{r.model ?? '–'}</td>
                  <td data-label="Status">
                    <span class={`status status-${r.status >= 400 ? 'bad' : 'good'}`}>{r.status}</span>
                  </td>
                  <td class="mono" data-label="Error">{r.error_code ?? ''}</td>
                  <td data-label="Latency">{ms(r.latency_ms)}</td>
                  <td data-label="First byte">{ms(r.ttfb_ms)}</td>
                  <td data-label="Tokens in/out">
                    {r.input_tokens}/{r.output_tokens}
                  </td>
                  <td class="mono small" data-label="Request id">
                    {r.request_id ?? '–'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {olderError ? <Notice kind="error">Could not load older requests: {olderError}</Notice> : null}
      {next !== null ? (
        <button
          type="button"
          class="btn btn-plain"
          disabled={loadingOlder}
          onClick={async () => {
            setLoadingOlder(true);
            setOlderError(null);
            try {
              const page = await call<Page>(adminKey, 'GET', `/admin/requests?limit=${PAGE}&outcome=${outcome}&before=${next}`);
              setOlder({ rows: [...(older?.rows ?? []), ...page.data], next: page.next_before });
            } catch (failure) {
              setOlderError(messageOf(failure));
            } finally {
              setLoadingOlder(false);
            }
          }}
        >
          {loadingOlder ? 'Loading older…' : 'Older requests'}
        </button>
      ) : null}
    </section>
  );
}
