/**
 * The hostile-input campaign of issue 12 as a script (not a test: it takes a minute
 * and the figures go in the closing note). Starts dist/codexin with the simulator,
 * fires every hostile input the suites use plus their cross product with keys and
 * encodings, over real sockets, and prints: inputs tried, statuses, every 5xx, any
 * reply that is not the OpenAI envelope, the slowest /healthz, and peak RSS.
 *
 *   make build && node_modules/.bin/bun test/hardening/attack-binary.ts   (WIDE=1: ×12 the JSON cases)
 */
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { removeTempDirs, startServer, stopAllServers } from '../support/binary';
import { form, makeWav } from '../support/media';
import { rawRequest } from './raw-http';

const server = await startServer({ args: ['--upstream', 'mock'] });
const admin = server.adminKey!;
const base = server.url;
const statuses: Record<string, number> = {};
const serverErrors: string[] = [];
const notEnvelope: string[] = [];
let tried = 0;
let documented503 = 0;
let slowestHealthMs = 0;

const peakRssMb = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024;

async function create(body: unknown): Promise<string> {
  const res = await fetch(`${base}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return ((await res.json()) as { key: string }).key;
}
const advanced = await create({ name: 'attacker', scopes: ['advanced'] });
const basic = await create({ name: 'basic' });

interface Case {
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | FormData;
}

function record(label: string, status: number, text: string, contentType: string | null) {
  tried++;
  statuses[status] = (statuses[status] ?? 0) + 1;
  // 503 server_busy is the documented answer when bodies in memory pass the process budget.
  if (status === 503 && text.includes('"server_busy"')) documented503++;
  else if (status >= 500) serverErrors.push(`${label} → ${status} ${text.slice(0, 160)}`);
  if (status >= 400 && status !== 431) {
    let ok = false;
    try {
      const e = (JSON.parse(text) as { error?: { message?: unknown; type?: unknown } }).error;
      ok = typeof e?.message === 'string' && typeof e.type === 'string' && (contentType ?? '').includes('json');
    } catch {
      ok = false;
    }
    // Bun's own 400 for unparseable HTTP has an empty body (documented).
    if (!ok && !(status === 400 && text === '')) notEnvelope.push(`${label} → ${status} ${text.slice(0, 120)}`);
  }
}

const slowest: { ms: number; label: string }[] = [];

async function run(c: Case): Promise<void> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}${c.path}`, { method: c.method, headers: c.headers, body: c.body });
    const text = res.headers.get('content-type')?.includes('event-stream') ? '' : await res.text();
    record(c.label, res.status, text, res.headers.get('content-type'));
    slowest.push({ ms: performance.now() - started, label: `${c.label} → ${res.status}` });
    if (slowest.length > 50) slowest.sort((a, b) => b.ms - a.ms).splice(10);
  } catch (error) {
    // A refused upload can close the socket before the client finished writing.
    tried++;
    statuses['socket'] = (statuses['socket'] ?? 0) + 1;
    if (!/ECONNRESET|socket|closed|EPIPE/i.test(String(error))) serverErrors.push(`${c.label} → ${String(error).slice(0, 160)}`);
  }
}

const HOSTILE: unknown[] = [
  null, 0, -1, 1e308, 2 ** 63, 1.5, '', 'x', 'string', '\u0000', '\r\n', '\ud800', 'é'.repeat(3000), 'z'.repeat(100_000), true, [], {}, [1], [null], [{}], [[[]]],
  [{ type: 'message' }], [{ role: 'user' }], [{ role: 'user', content: 5 }], [{ role: 'user', content: [null] }], [{ role: 'user', content: [{ type: 'input_text' }] }],
  [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,!!!' }] }], [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-../../etc/passwd' }] }],
  [{ type: 'function_call_output', output: {} }], [{ type: 'item_reference', id: 'x' }], [{ role: 'assistant', tool_calls: [{ id: 'x', type: 'function', function: 5 }] }],
  [{ type: 'function', function: null }], { type: 'json_schema', json_schema: 5 }, { effort: 5 }, { '__proto__': { polluted: true } },
];
const JSON_ROUTES: Record<string, { method: string; valid: Record<string, unknown>; fields: string[]; key: string }> = {
  '/v1/responses': { method: 'POST', key: advanced, valid: { model: 'gpt-5.5', input: 'hi' }, fields: ['model', 'input', 'tools', 'tool_choice', 'reasoning', 'instructions', 'text', 'include', 'prompt_cache_key', 'client_metadata', 'parallel_tool_calls', 'stream', 'previous_response_id'] },
  '/v1/responses/compact': { method: 'POST', key: advanced, valid: { model: 'gpt-5.5', input: 'hi' }, fields: ['model', 'input', 'tools', 'instructions'] },
  '/v1/chat/completions': { method: 'POST', key: advanced, valid: { model: 'gpt-5.5', messages: [{ role: 'user', content: 'hi' }] }, fields: ['model', 'messages', 'input', 'tools', 'tool_choice', 'functions', 'response_format', 'reasoning_effort', 'stream_options', 'prompt_cache_key', 'n', 'logprobs', 'stream'] },
  '/v1/codex/image-analysis': { method: 'POST', key: advanced, valid: { prompt: 'hi', image_url: 'data:image/png;base64,iVBORw0KGgo=' }, fields: ['prompt', 'image_url', 'detail', 'model', 'stream'] },
  '/v1/images/generations': { method: 'POST', key: advanced, valid: { prompt: 'hi' }, fields: ['prompt', 'n', 'size', 'quality', 'background', 'output_format', 'model'] },
  '/admin/keys': { method: 'POST', key: admin, valid: { name: 'x' }, fields: ['name', 'scopes', 'expires_in_seconds', 'rpm', 'token_quota_daily', 'token_quota_weekly', 'max_concurrent', 'models'] },
};

const cases: Case[] = [];
const json = (key: string | null) => ({ 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) });
// WIDE=1: every hostile field value also compressed in each encoding and sent with a basic key and with none.
const WIDE = process.env.WIDE === '1';
const ENCODINGS: [string, (b: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>][] = WIDE
  ? [['identity', (b) => b], ['gzip', (b) => new Uint8Array(Bun.gzipSync(b))], ['zstd', (b) => new Uint8Array(Bun.zstdCompressSync(b))], ['deflate', (b) => new Uint8Array(deflateSync(b))]]
  : [['identity', (b) => b]];
for (const [path, r] of Object.entries(JSON_ROUTES)) {
  for (const field of r.fields) {
    for (const value of HOSTILE) {
      for (const start of [r.valid, {}]) {
        const plain = new Uint8Array(new TextEncoder().encode(JSON.stringify({ ...start, [field]: value })));
        for (const [encoding, encode] of ENCODINGS) {
          for (const key of WIDE ? [r.key, basic, null] : [r.key]) {
            cases.push({ label: `${path} ${field}=${JSON.stringify(value)?.slice(0, 40)} ${encoding}`, method: r.method, path, headers: { ...json(key), 'content-encoding': encoding }, body: encode(plain) });
          }
        }
      }
    }
  }
  const bodies: (string | Uint8Array)[] = ['{', '{"a":', '{"a":1,}', 'nul', '"s"', '[]', '1', 'null', '', ' ', `{"a":${'['.repeat(60_000)}${']'.repeat(60_000)}}`, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), '\u0000'];
  for (const body of bodies) {
    for (const key of [r.key, null, 'ci_bogus', basic]) cases.push({ label: `${path} raw ${String(body).slice(0, 20)} key=${key?.slice(0, 6)}`, method: r.method, path, headers: json(key), body });
  }
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml']) {
    cases.push({ label: `${path} type ${type}`, method: r.method, path, headers: { ...json(r.key), 'content-type': type }, body: '{}' });
  }
}

// Bombs, in every encoding, with and without a key.
const bomb = new Uint8Array(512 * 1024 * 1024);
const encoded: [string, Uint8Array][] = [['zstd', Bun.zstdCompressSync(bomb)], ['gzip', Bun.gzipSync(bomb)], ['deflate', new Uint8Array(deflateSync(bomb))], ['br', new Uint8Array(10)], ['gzip', new Uint8Array([1, 2, 3])]];
for (const path of ['/v1/responses', '/v1/chat/completions', '/admin/keys', '/v1/files']) {
  for (const [encoding, payload] of encoded) {
    for (const key of [admin, null]) cases.push({ label: `${path} bomb ${encoding}`, method: 'POST', path, headers: { ...json(key), 'content-encoding': encoding, ...(path === '/v1/files' ? { 'content-type': 'multipart/form-data; boundary=x' } : {}) }, body: payload });
  }
}

// Multipart.
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
for (const path of ['/v1/files', '/v1/audio/transcriptions', '/v1/codex/images']) {
  const forms = (): FormData[] => {
    const two = form({ purpose: 'user_data' });
    two.append('file', new Blob([png]), 'a.png');
    two.append('file', new Blob([png]), 'b.png');
    return [
      form({ purpose: 'user_data' }),
      form({ purpose: 'user_data', file: 'text instead of a file' }),
      two,
      form({ purpose: 'user_data', file: { bytes: 'not an image', filename: 'x.png', type: 'image/png' } }),
      form({ purpose: 'user_data', file: { bytes: 'not audio', filename: 'x.wav', type: 'audio/wav' } }),
      form({ purpose: 'user_data', file: { bytes: '', filename: 'empty.png' } }),
      form({ purpose: '\u0000', file: { bytes: png, filename: '../../etc/passwd', type: 'image/png' } }),
      form({ purpose: 'string', model: 'string', language: 'string', response_format: 'string', file: { bytes: makeWav(0.1), filename: 'a.wav', type: 'audio/wav' } }),
      form({ purpose: 'user_data', 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '1e308', file: { bytes: png, filename: 'a.png' } }),
    ];
  };
  for (const key of [advanced, basic, null]) {
    for (const fd of forms()) cases.push({ label: `${path} multipart key=${key?.slice(0, 6)}`, method: 'POST', path, headers: key ? { authorization: `Bearer ${key}` } : {}, body: fd });
    cases.push({ label: `${path} huge part`, method: 'POST', path, headers: key ? { authorization: `Bearer ${key}` } : {}, body: form({ purpose: 'user_data', file: { bytes: new Uint8Array(120 * 1024 * 1024), filename: 'big.bin' } }) });
    for (const [type, body] of [['multipart/form-data; boundary=abc', '--zzz\r\n\r\nx'], ['multipart/form-data', 'x'], ['application/json', '{}']] as const) {
      cases.push({ label: `${path} broken ${type}`, method: 'POST', path, headers: { 'content-type': type, ...(key ? { authorization: `Bearer ${key}` } : {}) }, body });
    }
  }
}

// Ids, queries, methods, paths.
for (const id of ['..%2F..%2Fetc%2Fpasswd', '%2e%2e', '..', 'file-%00', '%', '%zz', '%ff%fe', 'x'.repeat(6000), 'file-%E2%80%AE', '%5C..%5Cwin']) {
  for (const [method, suffix] of [['GET', ''], ['GET', '/content'], ['DELETE', '']] as const) {
    for (const key of [advanced, basic, null]) cases.push({ label: `${method} /v1/files/${id.slice(0, 20)}${suffix}`, method, path: `/v1/files/${id}${suffix}`, headers: key ? { authorization: `Bearer ${key}` } : {} });
  }
  for (const method of ['GET', 'PATCH', 'DELETE']) cases.push({ label: `${method} /admin/keys/${id.slice(0, 20)}`, method, path: `/admin/keys/${id}`, headers: json(admin), body: method === 'PATCH' ? '{"name":"x"}' : undefined });
}
for (const q of ['limit=abc', 'limit=1e308', 'limit=-1', 'order=x', 'after=%00', 'purpose=%ff', 'limit=' + '9'.repeat(400)]) cases.push({ label: `files ?${q.slice(0, 20)}`, method: 'GET', path: `/v1/files?${q}`, headers: { authorization: `Bearer ${advanced}` } });
for (const q of ['days=abc', 'days=1e308', 'days=0', 'group=x', 'id=%00']) cases.push({ label: `usage ?${q}`, method: 'GET', path: `/admin/usage?${q}`, headers: { authorization: `Bearer ${admin}` } });
for (const path of ['/v1/models', '/v1/me', '/v1/files', '/admin/keys', '/admin/accounts', '/admin/usage', '/admin/models', '/metrics', '/v1/models/gpt-5.5', '/v1/models/%00']) {
  for (const headers of [{}, { authorization: 'Bearer ' }, { authorization: 'Basic abc' }, { authorization: `Bearer ${'\u00ff'.repeat(50)}` }, { 'x-api-key': 'x'.repeat(8000) }, { authorization: `Bearer ${basic}` }] as Record<string, string>[]) cases.push({ label: `GET ${path}`, method: 'GET', path, headers });
}
for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) for (const path of ['/v1/responses', '/v1/chat/completions', '/v1/models', '/healthz']) cases.push({ label: `${method} ${path}`, method, path, headers: json(advanced), body: '{}' });
for (const path of ['/v2/x', '/%00', `/${'a/'.repeat(3000)}`, '/v1/responses/../../etc/passwd', '/v1//responses', '/V1/RESPONSES']) cases.push({ label: `GET ${path.slice(0, 30)}`, method: 'GET', path });

console.log(`${cases.length} HTTP cases; running…`);
const health = setInterval(async () => {
  const started = performance.now();
  const ok = (await fetch(`${base}/healthz`).catch(() => null))?.status === 200;
  slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
  if (!ok) serverErrors.push('/healthz did not answer 200');
}, 200);
const CONCURRENCY = 8;
let next = 0;
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (next < cases.length) await run(cases[next++]!);
}));

// Raw HTTP that fetch refuses to send.
const port = server.port;
const raws = [
  'GET /healthz HTTP/1.0\r\n\r\n',
  'GET /v1/models HTTP/1.0\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n',
  `GET /v1/models HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${advanced}\r\nConnection: close\r\n\r\n`,
  'GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n',
  'POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\n',
  `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
  'GARBAGE\r\n\r\n',
  'TRACE /v1/responses HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
  'PROPFIND /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
  'GET http://evil.example/healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
  'GET /me HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n',
];
for (const raw of raws) {
  for (let i = 0; i < 10; i++) {
    try {
      const res = await rawRequest(port, raw);
      record(`raw ${raw.slice(0, 30)}`, res.status, res.body, res.headers['content-type'] ?? null);
    } catch (error) {
      tried++;
      serverErrors.push(`raw ${raw.slice(0, 30)} → ${String(error).slice(0, 100)}`);
    }
  }
}
clearInterval(health);

console.log(JSON.stringify({ inputs: tried, statuses, server_errors: serverErrors.length, documented_503_server_busy: documented503, not_envelope: notEnvelope.length, slowest_healthz_ms: Math.round(slowestHealthMs), peak_rss_mb: Math.round(peakRssMb()) }, null, 2));
for (const { ms, label } of slowest.sort((a, b) => b.ms - a.ms).slice(0, 8)) console.log(`slow: ${Math.round(ms)} ms ${label}`);
for (const line of serverErrors.slice(0, 30)) console.log('5xx:', line);
for (const line of notEnvelope.slice(0, 30)) console.log('not an envelope:', line);
await stopAllServers();
removeTempDirs();
