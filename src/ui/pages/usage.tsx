/** Usage: requests and tokens per UTC day over the last 28 days, per key or per account, as charts and totals. */
import { useMemo, useState } from 'preact/hooks';
import { call, type AccountView, type KeyView, type List, type UsageRow } from '../api';
import { LoadState, Notice, useLoad } from '../components';
import { DayChart, type DaySeries } from '../chart';
import { count, lastDays } from '../format';

const DAYS = 28;
const MAX_SERIES = 8;

interface Totals {
  id: string | null;
  requests: number;
  tokens: number;
}

export function UsagePage({ adminKey }: { adminKey: string }) {
  const [group, setGroup] = useState<'key' | 'account'>('key');
  const usage = useLoad(() => call<List<UsageRow>>(adminKey, 'GET', `/admin/usage?group=${group}&days=${DAYS}`), [adminKey, group]);
  const names = useLoad(async () => {
    const [keys, accounts] = await Promise.all([call<List<KeyView>>(adminKey, 'GET', '/admin/keys'), call<List<AccountView>>(adminKey, 'GET', '/admin/accounts')]);
    const map = new Map<string, string>();
    for (const k of keys.data) map.set(k.id, `${k.name} (${k.prefix}…)`);
    for (const a of accounts.data) map.set(a.id, a.label);
    return map;
  }, [adminKey]);
  const nameOf = (id: string | null) => (id === null ? (group === 'key' ? 'no key' : 'no account') : (names.data?.get(id) ?? id));

  const days = useMemo(() => lastDays(DAYS), []);
  const { totals, requests, tokens } = useMemo(() => {
    // `days=28` reaches back 28×24 h, so it can include a sliver of a 29th UTC day: keep the charted days only.
    const shownDays = new Set(days);
    const rows = (usage.data?.data ?? []).filter((r) => shownDays.has(r.day));
    const byId = new Map<string | null, Totals>();
    for (const r of rows) {
      const t = byId.get(r.id) ?? { id: r.id, requests: 0, tokens: 0 };
      t.requests += r.requests;
      t.tokens += r.input_tokens + r.output_tokens;
      byId.set(r.id, t);
    }
    const totals = [...byId.values()].sort((a, b) => b.tokens - a.tokens || b.requests - a.requests);
    const shown = totals.slice(0, MAX_SERIES).map((t) => t.id);
    const perDay = (pick: (r: UsageRow) => number): DaySeries[] =>
      shown.map((id) => ({ label: nameOf(id), values: days.map((d) => rows.filter((r) => r.id === id && r.day === d).reduce((sum, r) => sum + pick(r), 0)) }));
    return { totals, requests: perDay((r) => r.requests), tokens: perDay((r) => r.input_tokens + r.output_tokens) };
  }, [usage.data, names.data, days]);

  return (
    <section aria-labelledby="usage-title">
      <div class="page-head">
        <h2 id="usage-title">Usage, last {DAYS} days</h2>
        <div class="row">
          <label class="inline" for="usage-group">
            Per
            <select id="usage-group" value={group} onChange={(e) => setGroup(e.currentTarget.value as 'key' | 'account')}>
              <option value="key">key</option>
              <option value="account">account</option>
            </select>
          </label>
          <button type="button" class="btn btn-plain" onClick={usage.reload} disabled={usage.loading}>
            {usage.loading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      <LoadState loaded={usage} what="usage" />
      {usage.data && totals.length === 0 ? <Notice kind="info">No requests in the last {DAYS} days.</Notice> : null}
      {totals.length > 0 ? (
        <>
          <div class="charts">
            <DayChart title={`Requests per day, per ${group}`} days={days} series={requests} unit="requests" />
            <DayChart title={`Tokens per day (input + output), per ${group}`} days={days} series={tokens} unit="tokens" />
          </div>
          {totals.length > MAX_SERIES ? <p class="muted">The charts show the {MAX_SERIES} biggest; the table lists all.</p> : null}
          <div class="table-wrap">
            <table data-testid="usage-totals">
              <caption>Totals per {group}</caption>
              <thead>
                <tr>
                  <th scope="col">{group === 'key' ? 'Key' : 'Account'}</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Tokens</th>
                </tr>
              </thead>
              <tbody>
                {totals.map((t) => (
                  <tr key={t.id ?? 'none'}>
                    <th scope="row">{nameOf(t.id)}</th>
                    <td>{t.requests}</td>
                    <td>{count(t.tokens)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}
