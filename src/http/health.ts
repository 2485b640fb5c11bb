/**
 * /healthz answers while the process runs; /readyz answers 200 only when the
 * database works and the upstream has at least one usable account.
 */
import { Elysia, t } from 'elysia';
import type { Db } from '../store/db';

export interface UpstreamReadiness {
  ready: boolean;
  kind: string;
  accounts: { total: number; active: number; needs_login: number; cooling_down: number; disabled: number };
  message?: string;
}

const AccountCounts = t.Object({ total: t.Number(), active: t.Number(), needs_login: t.Number(), cooling_down: t.Number(), disabled: t.Number() });

const ReadinessSchema = t.Object({
  status: t.UnionEnum(['ready', 'not_ready']),
  database: t.Boolean(),
  upstream: t.Object({ ready: t.Boolean(), kind: t.String(), accounts: AccountCounts, message: t.Optional(t.String()) }),
});

export function healthPlugin(db: Db, upstreamReadiness: () => UpstreamReadiness) {
  return new Elysia({ name: 'codexin.health', detail: { tags: ['Health'] } })
    .get('/healthz', () => ({ status: 'ok' as const }), {
      response: { 200: t.Object({ status: t.Literal('ok') }) },
      detail: { summary: 'Liveness: the process is up' },
    })
    .get(
      '/readyz',
      ({ status }) => {
        let database = true;
        try {
          db.query('SELECT 1').get();
        } catch {
          database = false;
        }
        const upstream = upstreamReadiness();
        const ready = database && upstream.ready;
        return status(ready ? 200 : 503, { status: ready ? ('ready' as const) : ('not_ready' as const), database, upstream });
      },
      {
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
        detail: { summary: 'Readiness: database open and an upstream account usable' },
      },
    );
}
