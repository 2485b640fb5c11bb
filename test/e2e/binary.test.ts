/**
 * The compiled binary on its own: copied alone into an empty directory outside the
 * repo and run with nothing but PATH and HOME, it must need no node_modules, no
 * source tree and no network to version, manage keys, serve the API and its docs,
 * and shut down cleanly.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bearer, binaryPath, makeTempDir, removeTempDirs, REPO_ROOT, runCli, startServer, stopAllServers, type RunCliOptions, type StartServerOptions } from '../support/binary';

const KEY_FORMAT = /^ci_[A-Za-z0-9_-]{43,}$/;

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

let binDir: string;
let binary: string;
let home: string;

/** PATH (system dirs only) and HOME: nothing else reaches the binary. */
function minimalEnv(): Record<string, string> {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home };
}

function cli(args: string[], options: RunCliOptions = {}) {
  return runCli(args, { command: [binary], cwd: binDir, inheritEnv: false, env: minimalEnv(), ...options });
}

function serve(options: StartServerOptions = {}) {
  return startServer({ command: [binary], cwd: binDir, inheritEnv: false, env: minimalEnv(), ...options });
}

beforeAll(() => {
  binDir = makeTempDir('bin');
  home = makeTempDir('home');
  expect(binDir.startsWith(REPO_ROOT)).toBe(false);
  binary = join(binDir, 'codexin');
  copyFileSync(binaryPath(), binary);
  expect(statSync(binary).mode & 0o111).not.toBe(0);
  expect(readdirSync(binDir)).toEqual(['codexin']);
});

afterEach(stopAllServers);
afterAll(removeTempDirs);

describe('standalone binary', () => {
  test('version, --version and version --json', async () => {
    const plain = await cli(['version']);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toBe('');
    expect(plain.stdout).toMatch(/^codexin \d+\.\d+\.\d+\S* \(bun \d+\.\d+\.\d+\S*\)\n$/);

    const flag = await cli(['--version']);
    expect(flag.code).toBe(0);
    expect(flag.stdout).toBe(plain.stdout);

    const json = await cli(['version', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { version: string; bun: string };
    expect(plain.stdout).toContain(`codexin ${parsed.version} (bun ${parsed.bun})`);
  });

  test('keys create/list work, with the default data dir under HOME and a relative --data-dir under cwd', async () => {
    const created = await cli(['keys', 'create', '--name', 'standalone', '--json']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; name: string };
    expect(key.key).toMatch(KEY_FORMAT);
    expect(key.name).toBe('standalone');
    expect(existsSync(join(home, '.codexin', 'codexin.db'))).toBe(true);

    const listed = await cli(['keys', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((k) => k.id)).toContain(key.id);

    const workDir = makeTempDir('cwd');
    const relative = await cli(['keys', 'create', '--name', 'rel', '--data-dir', 'data', '--json'], { cwd: workDir });
    expect(relative.code).toBe(0);
    expect(existsSync(join(workDir, 'data', 'codexin.db'))).toBe(true);
  });

  test('serve: admin key once, health, models, docs, request ids, clean SIGTERM', async () => {
    const dataDir = makeTempDir('data');
    const before = readdirSync(binDir).sort();
    const server = await serve({ dataDir });

    // first start on an empty key table prints one admin key, before the listening line
    expect(server.adminKey).toMatch(KEY_FORMAT);
    expect(server.stdout().match(/ci_[A-Za-z0-9_-]{20,}/g)).toEqual([server.adminKey!]);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const version = JSON.parse((await cli(['version', '--json'])).stdout) as { version: string };
    expect(server.version).toBe(version.version);

    const requestIds: string[] = [];
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(server.url + path, { headers });
      const id = res.headers.get('x-request-id');
      expect(id, `x-request-id on GET ${path}`).toBeTruthy();
      requestIds.push(id!);
      return res;
    };
    const auth = bearer(server.adminKey!);

    // /healthz
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toContain('application/json');
    expect(await health.json()).toStrictEqual({ status: 'ok' });

    // /v1/models: OpenAI list shape, gpt-5.5 first, context_window on each
    const models = await get('/v1/models', auth);
    expect(models.status).toBe(200);
    const list = (await models.json()) as { object: string; data: Array<Record<string, unknown>> };
    expect(list.object).toBe('list');
    expect(list.data.length).toBeGreaterThan(0);
    expect(list.data[0]!.id).toBe('gpt-5.5');
    for (const model of list.data) {
      // (field by field: Bun's toMatchObject writes asymmetric matchers into the received object)
      expect(typeof model.id).toBe('string');
      expect(model.object).toBe('model');
      expect(Number.isInteger(model.created)).toBe(true);
      expect(typeof model.owned_by).toBe('string');
      expect(Number.isInteger(model.context_window)).toBe(true);
      expect(model.context_window as number).toBeGreaterThan(0);
    }
    const one = await get('/v1/models/gpt-5.5', auth);
    expect(one.status).toBe(200);
    expect(await one.json()).toStrictEqual(list.data[0]);

    // /v1/models needs a key
    const anonymous = await get('/v1/models');
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('missing_api_key');

    // unknown route and wrong method: OpenAI error envelopes
    const missing = await get('/v1/nothing-here', auth);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toStrictEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'unknown_url' } });
    const wrongMethod = await fetch(server.url + '/healthz', { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toContain('GET');
    expect(wrongMethod.headers.get('x-request-id')).toBeTruthy();
    requestIds.push(wrongMethod.headers.get('x-request-id')!);
    expect(((await wrongMethod.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');

    // /docs: Swagger UI page that only references embedded assets
    const docs = await get('/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    const html = await docs.text();
    const tags = [...html.matchAll(/<script\b[^>]*>[\s\S]*?<\/script>|<link\b[^>]*>/gi)].map((m) => m[0]);
    expect(tags.length).toBeGreaterThanOrEqual(2);
    for (const tag of tags) expect(tag).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+/i);
    const refs = [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]!);
    expect(refs).toContain('/docs-assets/swagger-ui-bundle.js');
    expect(refs).toContain('/docs-assets/swagger-ui.css');
    for (const ref of refs) expect(ref.startsWith('/docs-assets/')).toBe(true);

    // the embedded assets
    const js = await get('/docs-assets/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^(text|application)\/javascript\b/);
    const jsText = await js.text();
    expect(jsText.length).toBeGreaterThan(100_000);
    expect(jsText).toContain('SwaggerUIBundle');
    const css = await get('/docs-assets/swagger-ui.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css\b/);
    expect((await css.text()).length).toBeGreaterThan(10_000);

    // /docs/json: OpenAPI 3.x with bearer auth and the routes
    const spec = await get('/docs/json');
    expect(spec.status).toBe(200);
    const doc = (await spec.json()) as {
      openapi: string;
      components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
      paths: Record<string, Record<string, { security?: Array<Record<string, unknown>> }>>;
    };
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/models']?.get).toBeDefined();
    expect(doc.paths['/v1/models']!.get!.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/healthz']?.get).toBeDefined();
    // the documented model object says integers are integers (not "integer or numeric string")
    const listSchema = (doc.paths['/v1/models']!.get as { responses: Record<string, { content: Record<string, { schema: JsonSchema }> }> }).responses['200']!.content['application/json']!.schema;
    const modelProps = listSchema.properties!.data!.items!.properties!;
    expect(modelProps.created).toMatchObject({ type: 'integer' });
    expect(modelProps.context_window).toMatchObject({ type: 'integer' });
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/docs-assets'))).toBe(false);

    // every response carried its own request id
    expect(new Set(requestIds).size).toBe(requestIds.length);

    // SIGTERM: exit 0, promptly
    const stopped = await server.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.signal).toBeNull();
    expect(stopped.ms).toBeLessThan(3_000);
    await expect(fetch(server.url + '/healthz')).rejects.toThrow();

    // nothing was written next to the binary
    expect(readdirSync(binDir).sort()).toEqual(before);
  });

  test('a second start on the same data dir prints no key, and the first admin key still works', async () => {
    const dataDir = makeTempDir('data');
    const first = await serve({ dataDir });
    expect(first.adminKey).toMatch(KEY_FORMAT);
    expect((await fetch(first.url + '/healthz')).status).toBe(200);
    expect((await first.stop()).code).toBe(0);

    const second = await serve({ dataDir });
    expect(second.adminKey).toBeNull();
    expect(second.stdout()).not.toMatch(/ci_[A-Za-z0-9_-]{20,}/);
    const models = await fetch(second.url + '/v1/models', { headers: bearer(first.adminKey!) });
    expect(models.status).toBe(200);
    expect((await second.stop()).code).toBe(0);
    expect(second.stdout()).not.toMatch(/ci_[A-Za-z0-9_-]{20,}/);
    expect(second.stderr()).not.toContain(first.adminKey!);
  });

  test('SIGTERM sent the moment the listening line appears still exits 0', async () => {
    // A supervisor may signal as soon as the server says it is up: the handlers must already be in place.
    for (let i = 0; i < 3; i++) {
      const server = await serve();
      const stopped = await server.stop();
      expect({ attempt: i, code: stopped.code, signal: stopped.signal }).toEqual({ attempt: i, code: 0, signal: null });
    }
  });

  test('SIGTERM while a client holds an idle keep-alive connection still exits promptly', async () => {
    const server = await serve();
    // fetch keeps the connection alive in its pool after this request
    const res = await fetch(server.url + '/healthz');
    expect(res.status).toBe(200);
    await res.text();
    const stopped = await server.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(3_000);
  });
});
