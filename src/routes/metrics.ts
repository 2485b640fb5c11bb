/**
 * GET /metrics in the Prometheus text format. Readable with an admin key, or with
 * CODEXIN_METRICS_TOKEN so a scraper needs no admin rights.
 */
import { Elysia } from 'elysia';
import { timingSafeEqual } from 'node:crypto';
import { authenticate, presentedKey } from '../http/auth';
import type { KeyStore } from '../store/keys';
import type { Metrics } from '../observe/metrics';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function metricsRoutes(deps: { keys: KeyStore; metrics: Metrics; metricsToken: string | null }) {
  return new Elysia({ name: 'codexin.routes.metrics', detail: { tags: ['Health'] } }).get(
    '/metrics',
    async ({ headers }) => {
      const presented = presentedKey(headers);
      if (!(deps.metricsToken && presented && sameSecret(presented, deps.metricsToken))) authenticate(deps.keys, headers, 'admin');
      return new Response(await deps.metrics.registry.metrics(), { headers: { 'content-type': deps.metrics.registry.contentType } });
    },
    {
      detail: {
        summary: 'Prometheus metrics (admin key or CODEXIN_METRICS_TOKEN)',
        security: [{ bearerAuth: [] }],
        responses: {
          200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: { description: 'Missing or invalid key' },
          403: { description: 'Not an admin key' },
        },
      },
    },
  );
}
