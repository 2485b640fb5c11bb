/**
 * /healthz answers while the process runs; /readyz answers 200 only when the
 * database can be read and written (no other process holds it locked, it is not
 * read-only, and the last usage batch went in: a full disk shows there) and the
 * upstream has at least one usable account.
 */
import { Elysia, t } from 'elysia';
import type { UsageStore } from '../store/usage';

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
  database_error: t.Optional(t.String({ description: 'Why the database cannot be used, when it cannot' })),
  usage_pending_rows: t.Number({ description: 'Usage rows waiting to be written' }),
  upstream: t.Object({ ready: t.Boolean(), kind: t.String(), accounts: AccountCounts, message: t.Optional(t.String()) }),
});

export function healthPlugin(databaseProblem: () => Promise<string | null>, usage: UsageStore, upstreamReadiness: () => UpstreamReadiness) {
  return new Elysia({ name: 'codexin.health', detail: { tags: ['Health'] } })
    .get('/healthz', () => ({ status: 'ok' as const }), {
      response: { 200: t.Object({ status: t.Literal('ok') }) },
      detail: { summary: 'Liveness: the process is up' },
    })
    .get(
      '/readyz',
      async ({ status }) => {
        let error = await databaseProblem();
        const writes = usage.health();
        error ??= writes.writable ? (await usage.canWrite()).error : `usage writes failing: ${writes.lastError}`;
        const database = error === null;
        const upstream = upstreamReadiness();
        const ready = database && upstream.ready;
        return status(ready ? 200 : 503, {
          status: ready ? ('ready' as const) : ('not_ready' as const),
          database,
          ...(error ? { database_error: error } : {}),
          usage_pending_rows: writes.pending,
          upstream,
        });
      },
      {
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
        detail: { summary: 'Readiness: database readable and writable, and an upstream account usable' },
      },
    );
}
