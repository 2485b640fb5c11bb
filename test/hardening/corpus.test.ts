/**
 * The hostile-input corpus over every route: malformed JSON, wrong types per field,
 * huge strings, NUL bytes, invalid UTF-8, bad base64 and lying MIME types, multipart
 * with missing/duplicate/huge parts, bombs in each encoding, path traversal in file
 * ids, bad query strings and keys. Each case asserts its exact status and the OpenAI
 * envelope; the last test asserts that no input produced a 5xx.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { deflateSync } from 'node:zlib';
import { startGateway, type TestGateway } from '../support/gateway';
import { form, makeWav } from '../support/media';
import { expectError } from './envelope';

const MAX = 256 * 1024;
let gw: TestGateway;
let key: string;
let targetKeyId: string;
const seen = { inputs: 0, serverErrors: [] as string[] };

beforeAll(async () => {
  gw = await startGateway({ env: { CODEXIN_MAX_BODY_BYTES: String(MAX), CODEXIN_MAX_FILE_BYTES: String(MAX) } });
  key = gw.key(['advanced', 'admin']);
  targetKeyId = ((await (await call('POST', '/admin/keys', { json: { name: 'target' } })).json()) as { id: string }).id;
});
afterAll(async () => {
  console.log(`hostile-input corpus: ${seen.inputs} inputs, ${seen.serverErrors.length} 5xx`);
  await gw.stop();
});

async function call(method: string, path: string, init: { json?: unknown; body?: string | Uint8Array | FormData; headers?: Record<string, string>; key?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const presented = init.key === undefined ? key : init.key;
  if (presented !== null) headers.set('authorization', `Bearer ${presented}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const res = await gw.app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
  seen.inputs++;
  if (res.status >= 500) seen.serverErrors.push(`${method} ${path} → ${res.status}`);
  return res;
}

type FieldType = 'string' | 'bool' | 'int' | 'array' | 'object' | 'enum' | 'input';
interface JsonRoute {
  method: string;
  path: () => string;
  valid: Record<string, unknown>;
  fields: Record<string, FieldType | [FieldType, 'nullable']>;
  /** Whether an unknown model id is a 404 here. */
  model?: boolean;
}

const JSON_ROUTES: JsonRoute[] = [
  {
    method: 'POST',
    path: () => '/v1/responses',
    valid: { model: 'gpt-5.5', input: 'hi' },
    fields: { model: 'string', input: 'input', stream: ['bool', 'nullable'], tools: ['array', 'nullable'], instructions: ['string', 'nullable'], include: ['array', 'nullable'], parallel_tool_calls: ['bool', 'nullable'], prompt_cache_key: ['string', 'nullable'] },
    model: true,
  },
  { method: 'POST', path: () => '/v1/responses/compact', valid: { model: 'gpt-5.5', input: 'hi' }, fields: { model: 'string', input: 'input', tools: ['array', 'nullable'], instructions: ['string', 'nullable'] }, model: true },
  {
    method: 'POST',
    path: () => '/v1/chat/completions',
    valid: { model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] },
    fields: { model: 'string', messages: 'array', stream: ['bool', 'nullable'], tools: 'array', response_format: 'object', reasoning_effort: ['string', 'nullable'], max_tokens: ['int', 'nullable'], parallel_tool_calls: 'bool' },
    model: true,
  },
  {
    method: 'POST',
    path: () => '/v1/codex/image-analysis',
    valid: { prompt: 'hi', image_url: 'data:image/png;base64,iVBORw0KGgo=' },
    fields: { prompt: 'string', image_url: 'string', model: 'string', detail: 'enum', stream: 'bool' },
    model: true,
  },
  {
    method: 'POST',
    path: () => '/v1/images/generations',
    valid: { prompt: 'hi' },
    fields: { prompt: 'string', n: 'int', size: 'enum', model: 'string', quality: 'enum', response_format: 'enum', background: 'enum', output_format: 'enum' },
    model: true,
  },
  { method: 'POST', path: () => '/v1/codex/image-generation', valid: { prompt: 'hi' }, fields: { prompt: 'string', n: 'int', size: 'enum' }, model: true },
  {
    method: 'POST',
    path: () => '/admin/keys',
    valid: { name: 'x' },
    fields: { name: 'string', scopes: 'array', expires_in_seconds: 'int', rpm: ['int', 'nullable'], token_quota_daily: ['int', 'nullable'], max_concurrent: ['int', 'nullable'], models: ['array', 'nullable'] },
  },
  { method: 'PATCH', path: () => `/admin/keys/${targetKeyId}`, valid: {}, fields: { name: 'string', scopes: 'array', expires_at: ['int', 'nullable'], rpm: ['int', 'nullable'], models: ['array', 'nullable'] } },
  { method: 'PATCH', path: () => '/admin/models/gpt-5.5', valid: { enabled: true }, fields: { enabled: 'bool' } },
];

const WRONG: Record<string, unknown> = { number: 12345, string: 'wrong', bool: true, object: { x: 1 }, array: [1, 2], null: null };
const RIGHT_KINDS: Record<FieldType, string[]> = {
  string: ['string'],
  bool: ['bool'],
  int: ['number'],
  array: ['array'],
  object: ['object'],
  enum: [],
  input: ['string', 'array'],
};

const MALFORMED = ['{', '{"model":', '{"a":1,}', "{'a':1}", '{"a":1}}', 'nul', '{"a":"\\x"}', '{"a":01}', '\u0000{}'];
const NOT_OBJECTS = ['"s"', '[]', '[{}]', '1', 'null', 'true'];
const bomb = new TextEncoder().encode(`{"model":"gpt-5.5","input":"${' '.repeat(4 * 1024 * 1024)}"}`);
const BOMBS: [string, Uint8Array][] = [
  ['zstd', Bun.zstdCompressSync(bomb)],
  ['gzip', Bun.gzipSync(bomb)],
  ['deflate', new Uint8Array(deflateSync(bomb))],
];

for (const route of JSON_ROUTES) {
  const label = `${route.method} ${route.path().replace(/key_\w+/, ':id')}`;
  describe(label, () => {
    const send = (body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }, k?: string | null) =>
      call(route.method, route.path(), { body, headers, key: k });
    test('malformed JSON is 400 invalid_json', async () => {
      for (const body of MALFORMED) await expectError(await send(body), 400, 'invalid_json', null);
    });
    test('JSON that is not an object is 400 invalid_type', async () => {
      for (const body of NOT_OBJECTS) await expectError(await send(body), 400, 'invalid_type', null);
    });
    test('invalid UTF-8 and 300-deep nesting are 400 invalid_json', async () => {
      await expectError(await send(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])), 400, 'invalid_json', null);
      await expectError(await send(`{"a":${'['.repeat(300)}${']'.repeat(300)}}`), 400, 'invalid_json', null);
    });
    test('a body that is not JSON is 415', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
        await expectError(await send('{}', type ? { 'content-type': type } : {}), 415, 'unsupported_media_type', null);
      }
    });
    test('bombs in every encoding are 413, an unknown encoding 415, a truncated one 400', async () => {
      for (const [encoding, payload] of BOMBS) await expectError(await send(payload, { 'content-type': 'application/json', 'content-encoding': encoding }), 413, 'request_too_large', null);
      await expectError(await send('{}', { 'content-type': 'application/json', 'content-encoding': 'br' }), 415, 'unsupported_content_encoding', null);
      await expectError(await send(Bun.gzipSync(new TextEncoder().encode('{"a":1}')).slice(0, 12), { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400, 'invalid_encoding', null);
    });
    test('no key, an empty bearer, a garbage key: 401 before the body matters', async () => {
      await expectError(await send('{', undefined, null), 401, 'missing_api_key', null);
      await expectError(await send('{', { 'content-type': 'application/json', authorization: 'Bearer ' }, null), 401, 'missing_api_key', null);
      await expectError(await send('{', { 'content-type': 'application/json', authorization: `Bearer ci_${'\u00ff'.repeat(10)}` }, null), 401, 'invalid_api_key', null);
      await expectError(await send('{', { 'content-type': 'application/json', 'x-api-key': 'x'.repeat(8000) }, null), 401, 'invalid_api_key', null);
    });
    for (const [field, spec] of Object.entries(route.fields)) {
      const [type, nullable] = Array.isArray(spec) ? [spec[0], true] : [spec, false];
      test(`'${field}' of the wrong type is 400 naming it`, async () => {
        for (const [kind, value] of Object.entries(WRONG)) {
          if (RIGHT_KINDS[type].includes(kind) || (kind === 'null' && nullable)) continue;
          const error = await expectError(await call(route.method, route.path(), { json: { ...route.valid, [field]: value } }), 400, 'invalid_request');
          expect(error.param?.split('.')[0]).toBe(field);
        }
      });
    }
    if (route.model) {
      test('a huge, a NUL-laden or an unknown model is 404 model_not_found with the name capped', async () => {
        for (const model of ['m'.repeat(200_000), 'gpt-5.5\u0000', 'gpt-5.5\r\n', '../../etc/passwd', '🦄']) {
          const error = await expectError(await call(route.method, route.path(), { json: { ...route.valid, model } }), 404, 'model_not_found', 'model');
          expect(error.message.length).toBeLessThan(400);
        }
      });
    }
  });
}

describe('bad base64 and lying MIME types in JSON bodies', () => {
  const notPng = `data:image/png;base64,${btoa('just text, not an image')}`;
  const cases: [string, string, (url: string) => unknown, string][] = [
    ['/v1/responses', 'input[0].content[0].image_url', (url) => ({ model: 'gpt-5.5', input: [{ role: 'user', content: [{ type: 'input_image', image_url: url }] }] }), 'invalid_image_data'],
    ['/v1/chat/completions', 'input[0].content[0].image_url', (url) => ({ model: 'gpt-5.5', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] }), 'invalid_image_data'],
    ['/v1/codex/image-analysis', 'image_url', (url) => ({ prompt: 'what is it', image_url: url }), 'invalid_image_data'],
  ];
  for (const [path, param, body, code] of cases) {
    test(`${path}: invalid base64 and a non-image behind image/png are 400 ${code}`, async () => {
      for (const url of ['data:image/png;base64,!!!!', 'data:image/png;base64,@@@=', notPng]) {
        await expectError(await call('POST', path, { json: body(url) }), 400, code, param);
      }
    });
  }
});

describe('multipart routes', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
  // `limit`: the route's own body limit (files: CODEXIN_MAX_FILE_BYTES; audio 25 MB and images 20 MB are the upstream's), plus 1 MiB of framing.
  const MIB = 1024 * 1024;
  const ROUTES: { path: string; limit: number; good: () => { bytes: Uint8Array; filename: string; type: string }; lying: [number, string | null] }[] = [
    { path: '/v1/files', limit: MAX + MIB, good: () => ({ bytes: png, filename: 'a.png', type: 'image/png' }), lying: [200, null] },
    { path: '/v1/audio/transcriptions', limit: 26 * MIB, good: () => ({ bytes: makeWav(0.1), filename: 'a.wav', type: 'audio/wav' }), lying: [400, 'invalid_file_format'] },
    { path: '/v1/codex/images', limit: 21 * MIB, good: () => ({ bytes: png, filename: 'a.png', type: 'image/png' }), lying: [400, 'invalid_image_format'] },
  ];
  const post = (path: string, body: FormData | string | Uint8Array, headers?: Record<string, string>, k?: string | null) => call('POST', path, { body, headers, key: k });
  for (const route of ROUTES) {
    describe(route.path, () => {
      test('a missing file part is 400 missing_required_parameter; a text field instead is 400 invalid_file', async () => {
        await expectError(await post(route.path, form({ purpose: 'user_data' })), 400, 'missing_required_parameter', 'file');
        await expectError(await post(route.path, form({ purpose: 'user_data', file: 'not a file' })), 400, 'invalid_file', 'file');
      });
      test('two file parts are 400 duplicate_parameter', async () => {
        const fd = form({ purpose: 'user_data' });
        fd.append('file', new Blob([route.good().bytes]), 'a');
        fd.append('file', new Blob([route.good().bytes]), 'b');
        await expectError(await post(route.path, fd), 400, 'duplicate_parameter', 'file');
      });
      test('a part past the limit is 413; a compressed upload (a bomb) is 415 unread', async () => {
        await expectError(await post(route.path, form({ purpose: 'user_data', file: { bytes: new Uint8Array(route.limit + 1), filename: 'big.bin' } })), 413, 'request_too_large', null);
        for (const encoding of ['gzip', 'zstd', 'deflate']) {
          await expectError(await post(route.path, Bun.gzipSync(new Uint8Array(64 * 1024 * 1024)), { 'content-type': 'multipart/form-data; boundary=x', 'content-encoding': encoding }), 415, 'unsupported_content_encoding', null);
        }
      });
      test('a body that is not multipart, or has a broken boundary, is 415 / 400', async () => {
        await expectError(await post(route.path, '{"file":"x"}', { 'content-type': 'application/json' }), 415, 'unsupported_media_type', null);
        await expectError(await post(route.path, '--zzz\r\nContent-Disposition: form-data; name="file"\r\n\r\nx', { 'content-type': 'multipart/form-data; boundary=abc' }), 400, 'invalid_multipart', null);
        await expectError(await post(route.path, 'x', { 'content-type': 'multipart/form-data' }), 400, 'invalid_multipart', null);
        await expectError(await post(route.path, new Uint8Array([0xff, 0xfe, 0x00, 0x01]), { 'content-type': 'multipart/form-data; boundary=x' }), 400, 'invalid_multipart', null);
      });
      test(`text behind a declared image/png MIME type: ${route.lying[0]}`, async () => {
        const res = await post(route.path, form({ purpose: 'user_data', file: { bytes: 'just text', filename: 'x.png', type: 'image/png' } }));
        if (route.lying[1]) await expectError(res, route.lying[0], route.lying[1], 'file');
        else expect(res.status).toBe(route.lying[0]);
      });
      test('without a key: 401 before the upload is read; with a basic key: 403', async () => {
        await expectError(await post(route.path, form({ file: route.good() }), undefined, null), 401, 'missing_api_key', null);
        await expectError(await post(route.path, form({ file: route.good() }), undefined, gw.key()), 403, 'advanced_access_required', null);
      });
      for (const blank of ['', ' ', 'string']) {
        test(`optional fields sent as ${JSON.stringify(blank)} (what Swagger UI and HTML forms send) are absent, not invalid`, async () => {
          const fd = form({
            purpose: route.path === '/v1/files' ? 'user_data' : blank,
            model: blank,
            language: blank,
            prompt: blank,
            response_format: blank,
            temperature: blank,
            'timestamp_granularities[]': blank,
            'expires_after[anchor]': blank,
            'expires_after[seconds]': blank,
            file: route.good(),
          });
          fd.append('extra_file', new Blob([]), '');
          const res = await post(route.path, fd);
          const text = await res.text();
          if (res.status !== 200) throw new Error(`${res.status}: ${text}`);
        });
      }
    });
  }
});

describe('file ids and query strings', () => {
  const IDS = ['..%2F..%2Fetc%2Fpasswd', 'file-..%2F..%2Fsecret', '%2e%2e%2f%2e%2e%2fetc', 'file-%00', 'x'.repeat(5000), 'file-%E2%80%AE', '%5C..%5C..%5Cwindows'];
  test('traversal-looking file ids are 404 file_not_found on get, content and delete', async () => {
    for (const id of IDS) {
      for (const [method, suffix] of [['GET', ''], ['GET', '/content'], ['DELETE', '']] as const) {
        const error = await expectError(await call(method, `/v1/files/${id}${suffix}`), 404, 'file_not_found', 'file_id');
        expect(error.message.length).toBeLessThan(400);
      }
    }
  });
  test('dot segments resolve before routing: the result is an unknown route, never a file on disk', async () => {
    for (const path of ['/v1/files/..', '/v1/files/%2e%2e/content', '/v1/files/../../../etc/passwd']) await expectError(await call('GET', path), 404, 'unknown_url', null);
  });
  test('malformed percent-encoding in a file id is 400', async () => {
    for (const id of ['%', '%zz', '%ff%fe']) {
      const error = await expectError(await call('GET', `/v1/files/${id}`), 400, 'invalid_request', 'id');
      expect(error.message).toContain('percent-encoding');
    }
  });
  test('an input_file id of ours that names no file of this key is 404 before anything goes upstream', async () => {
    const before = gw.sim.requests.length;
    const other = (await (await call('POST', '/v1/files', { body: form({ purpose: 'user_data', file: { bytes: 'theirs', filename: 't.txt' } }), key: gw.key(['advanced']) })).json()) as { id: string };
    for (const id of ['file-doesnotexist', other.id]) {
      await expectError(await call('POST', '/v1/responses', { json: { model: 'gpt-5.5', input: [{ role: 'user', content: [{ type: 'input_file', file_id: id }] }] } }), 404, 'file_not_found', 'input[0].content[0].file_id');
    }
    expect(gw.sim.requests.length).toBe(before);
  });
  test('bad query values are 400 naming the parameter', async () => {
    const cases: [string, string, string][] = [
      ['/v1/files?limit=abc', 'limit', 'invalid_request'],
      ['/v1/files?limit=1e308', 'limit', 'invalid_value'],
      ['/v1/files?limit=-1', 'limit', 'invalid_value'],
      ['/v1/files?order=sideways', 'order', 'invalid_request'],
      ['/v1/files?after=%00', 'after', 'invalid_cursor'],
      ['/admin/usage?days=abc', 'days', 'invalid_request'],
      ['/admin/usage?group=everything', 'group', 'invalid_request'],
    ];
    for (const [path, param, code] of cases) await expectError(await call('GET', path), 400, code, param);
    // Out-of-range numeric query values: Elysia reports no field name, so the message must not blame the body.
    for (const path of ['/admin/usage?days=1e308', '/admin/usage?days=0']) {
      const error = await expectError(await call('GET', path), 400, 'invalid_request', null);
      expect(error.message).not.toContain('request body');
    }
  });
  test('admin path parameters that name nothing are 404 / 400', async () => {
    await expectError(await call('PATCH', '/admin/keys/%00', { json: { name: 'x' } }), 404, 'key_not_found', 'id');
    await expectError(await call('DELETE', `/admin/keys/${'k'.repeat(5000)}`), 404, 'key_not_found', 'id');
    await expectError(await call('POST', '/admin/accounts/x/explode'), 400, 'invalid_request', 'action');
    await expectError(await call('PATCH', '/admin/models/no-such-model', { json: { enabled: true } }), 404, 'model_not_found', 'id');
  });
});

describe('every GET route without a key, and methods that do not exist', () => {
  test('401 on every authenticated GET route', async () => {
    for (const path of ['/v1/models', '/v1/models/gpt-5.5', '/v1/me', '/v1/files', '/v1/files/file-x', '/v1/files/file-x/content', '/admin/keys', '/admin/keys/x', '/admin/accounts', '/admin/usage', '/admin/models', '/metrics']) {
      await expectError(await call('GET', path, { key: null }), 401, 'missing_api_key', null);
    }
  });
  test('a wrong method is 405 with Allow; an unknown path 404', async () => {
    for (const [method, path] of [['PUT', '/v1/responses'], ['DELETE', '/v1/chat/completions'], ['POST', '/v1/models'], ['PATCH', '/v1/files']] as const) {
      const res = await call(method, path, { json: {} });
      expect(res.headers.get('allow')).toBeTruthy();
      await expectError(res, 405, 'method_not_allowed', null);
    }
    for (const path of ['/v2/responses', '/v1/responses/x/y', '/%00', `/${'a/'.repeat(2000)}`]) await expectError(await call('GET', path), 404, 'unknown_url', null);
  });
});

test('no input in this corpus produced a 5xx', () => {
  expect(seen.inputs).toBeGreaterThan(500);
  expect(seen.serverErrors).toEqual([]);
});
