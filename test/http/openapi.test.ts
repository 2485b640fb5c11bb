/** The OpenAPI document behind Swagger UI: complete enough to explore and call every route. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

type Operation = { security?: unknown[]; requestBody?: { content: Record<string, unknown> }; responses?: Record<string, unknown>; tags?: string[] };

test('every operation is tagged, documents a success response, and is secured unless it is public', async () => {
  const doc = (await (await gw.call('/docs/json')).json()) as { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };
  expect(doc.openapi).toMatch(/^3\./);
  expect(doc.components.securitySchemes.bearerAuth).toBeDefined();
  const publicPaths = new Set(['/healthz', '/readyz', '/v1/responses']);
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
  expect(operations.length).toBeGreaterThan(30);
  for (const { path, method, op } of operations) {
    const where = `${method.toUpperCase()} ${path}`;
    expect({ where, tagged: (op.tags ?? []).length > 0 }).toEqual({ where, tagged: true });
    const statuses = Object.keys(op.responses ?? {});
    const documentsOutcome = statuses.some((s) => /^2\d\d$/.test(s)) || (where === 'GET /v1/responses' && statuses.includes('426'));
    expect({ where, documentsOutcome }).toEqual({ where, documentsOutcome: true });
    const isPublic = publicPaths.has(path) && !(path === '/v1/responses' && method === 'post');
    if (!isPublic) expect({ where, secured: (op.security ?? []).length > 0 }).toEqual({ where, secured: true });
    if ((method === 'post' || method === 'patch') && !/\/(reset-usage|refresh|disable|enable|\{action\})$/.test(path)) {
      expect({ where, body: Object.keys(op.requestBody?.content ?? {}).length > 0 }).toEqual({ where, body: true });
    }
  }
});
