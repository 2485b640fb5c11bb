/**
 * Every operation of the OpenAPI document, tried the way Swagger UI's "Try it out"
 * does, against the compiled binary on the simulator (`serve --upstream mock`):
 * each request body is the operation's documented example, sent as it is, and the
 * answer is a 2xx.
 *
 * What the test fills in itself, and nothing else:
 * - the `authorization` header (the first-run admin key);
 * - path parameters, with ids created in this test (a file, a key, the simulated
 *   account, a model of GET /v1/models, a device login started by its documented example);
 * - the file of a multipart operation (Swagger UI asks the user to choose one): a
 *   small sample of the documented kind (a WAV for audio, a PNG for images, text for files);
 * - `GET /v1/responses` is the WebSocket transport: it is opened as a WebSocket and
 *   sent one `response.create` frame (the documented example of POST /v1/responses).
 * Query parameters are left out unless documented with an example, as Swagger UI does.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startServer, type RunningServer } from '../support/binary';
import { makeWav } from '../support/media';
import { makePng } from './responses/helpers';

type Json = Record<string, any>;

let server: RunningServer;
let doc: Json;
let auth: Record<string, string>;
beforeAll(async () => {
  server = await startServer({ args: ['--upstream', 'mock'] });
  auth = { authorization: `Bearer ${server.adminKey}` };
  doc = (await (await fetch(`${server.url}/docs/json`)).json()) as Json;
});
afterAll(() => server.stop());

/** The documented example of a media type: `example`, the first of `examples`, or the schema's own. */
function documentedExample(media: Json | undefined): unknown {
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  const named = media.examples && Object.values(media.examples as Record<string, { value?: unknown }>)[0];
  if (named?.value !== undefined) return named.value;
  const schema = media.schema as Json | undefined;
  return schema?.example ?? (Array.isArray(schema?.examples) ? schema.examples[0] : undefined);
}

function sampleFile(path: string): File {
  if (path.includes('audio')) return new File([makeWav(1)], 'sample.wav', { type: 'audio/wav' });
  if (path.includes('image')) return new File([makePng(4, 4, [20, 160, 40])], 'sample.png', { type: 'image/png' });
  return new File(['sample file contents\n'], 'sample.txt', { type: 'text/plain' });
}

async function request(method: string, path: string, op: Json): Promise<Response> {
  const content = op.requestBody?.content as Record<string, Json> | undefined;
  const headers: Record<string, string> = { ...auth };
  let body: RequestInit['body'];
  if (content?.['application/json']) {
    const example = documentedExample(content['application/json']);
    expect(example, `${method} ${path} documents a request example`).toBeDefined();
    headers['content-type'] = 'application/json';
    body = JSON.stringify(example);
  } else if (content?.['multipart/form-data']) {
    const media = content['multipart/form-data'];
    const example = documentedExample(media) as Json | undefined;
    expect(example, `${method} ${path} documents a request example`).toBeDefined();
    const form = new FormData();
    for (const [name, value] of Object.entries(example!)) form.set(name, String(value));
    for (const [name, prop] of Object.entries((media.schema?.properties ?? {}) as Record<string, Json>)) {
      if (prop.format === 'binary' || prop.type === 'string' && prop.contentMediaType) form.set(name, sampleFile(path));
    }
    if (!form.has('file')) form.set('file', sampleFile(path));
    body = form;
  }
  const query = new URLSearchParams();
  for (const p of (op.parameters ?? []) as Json[]) if (p.in === 'query' && p.example !== undefined) query.set(p.name, String(p.example));
  const qs = query.size ? `?${query}` : '';
  return fetch(`${server.url}${path}${qs}`, { method: method.toUpperCase(), headers, body });
}

/** Runs a WebSocket turn with the documented example of POST /v1/responses. */
async function webSocketTurn(): Promise<string> {
  const example = documentedExample(doc.paths['/v1/responses'].post.requestBody.content['application/json']) as Json;
  const ws = new WebSocket(server.url.replace('http', 'ws') + '/v1/responses', { headers: auth } as unknown as string[]);
  return new Promise<string>((resolve, reject) => {
    ws.onopen = () => ws.send(JSON.stringify({ type: 'response.create', ...example }));
    ws.onerror = () => reject(new Error('socket error'));
    ws.onmessage = (m) => {
      const frame = JSON.parse(String(m.data)) as Json;
      if (['response.completed', 'response.failed', 'error'].includes(frame.type)) {
        ws.close();
        resolve(frame.type);
      }
    };
    setTimeout(() => reject(new Error('no terminal frame')), 10_000);
  });
}

describe('every documented example succeeds as it is (compiled binary, --upstream mock)', () => {
  test('all operations', async () => {
    // Ids for path parameters, created here.
    const file = (await (await request('post', '/v1/files', doc.paths['/v1/files'].post)).json()) as Json;
    const key = (await (await request('post', '/admin/keys', doc.paths['/admin/keys'].post)).json()) as Json;
    const accounts = (await (await fetch(`${server.url}/admin/accounts`, { headers: auth })).json()) as Json;
    const models = (await (await fetch(`${server.url}/v1/models`, { headers: auth })).json()) as Json;
    const login = (await (await request('post', '/admin/accounts/logins', doc.paths['/admin/accounts/logins'].post)).json()) as Json;
    const ids: Record<string, string> = {
      logins: login.id,
      files: file.id,
      keys: key.id,
      accounts: accounts.data[0].id,
      models: models.data[0].id,
    };
    const fill = (path: string) =>
      path
        .replace(/\/(files|keys|accounts|models|logins)\/\{id\}/, (_m, kind: string) => `/${kind}/${encodeURIComponent(ids[kind]!)}`)
        .replace('{action}', 'enable');

    // Destructive operations last, so the ids they remove are not needed afterwards.
    const operations: Array<[string, string, Json]> = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(ops)) operations.push([method, path, op]);
    }
    const order = (method: string, path: string) => (method === 'delete' ? (path.includes('accounts') ? 2 : 1) : 0);
    operations.sort((a, b) => order(a[0], a[1]) - order(b[0], b[1]));

    const failures: string[] = [];
    for (const [method, path, op] of operations) {
      if (method === 'get' && path === '/v1/responses') {
        const end = await webSocketTurn();
        if (end !== 'response.completed') failures.push(`GET /v1/responses (WebSocket): ${end}`);
        continue;
      }
      const res = await request(method, fill(path), op);
      if (res.status < 200 || res.status > 299) failures.push(`${method.toUpperCase()} ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
      else await res.body?.cancel();
    }
    expect(failures).toEqual([]);
    expect(operations.length).toBeGreaterThan(30);
  }, 60_000);
});
