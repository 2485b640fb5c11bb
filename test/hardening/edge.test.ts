/**
 * What reaches the socket before Elysia: short and missing Host headers still route
 * by the real path, two Host headers are a 400, an oversized Content-Length is a 413
 * in the envelope, and nothing answers in plain text.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import net from 'node:net';
import { startGateway, type TestGateway } from '../support/gateway';
import { expectError } from './envelope';
import { asResponse, rawRequest } from './raw-http';
import { pathAndQuery } from '../../src/http/edge';

let gw: TestGateway;
let port: number;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  port = Number(new URL(gw.listen()).port);
  key = gw.key();
});
afterAll(() => gw.stop());

describe('Host header', () => {
  for (const host of ['a', 'ab', 'api', 'api:1', 'localhost', '[::1]']) {
    test(`Host: ${host} routes by the real path`, async () => {
      const res = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
      const models = await rawRequest(port, `GET /v1/models?x=1 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\n\r\n`);
      expect(models.status).toBe(200);
      expect((JSON.parse(models.body) as { object: string }).object).toBe('list');
    });
  }
  test('a POST behind `proxy_pass http://api;` still reaches its route', async () => {
    const body = JSON.stringify({ model: 'gpt-5.5', input: 'via a short host' });
    const res = await rawRequest(port, `POST /v1/responses HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).object).toBe('response');
  });
  test('behind a short Host, a client that goes away still cancels the upstream stream', async () => {
    gw.sim.enqueue({ kind: 'many_events', deltas: 1000, intervalMs: 20 });
    const before = gw.sim.aborts.length;
    const body = JSON.stringify({ model: 'gpt-5.5', input: 'stream for a while', stream: true });
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /v1/responses HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.destroy();
    const deadline = Date.now() + 5000;
    while (gw.sim.aborts.length === before && Date.now() < deadline) await Bun.sleep(20);
    expect(gw.sim.aborts.length).toBe(before + 1);
  });
  test('HTTP/1.0 without Host is served, not a plain-text 500', async () => {
    const res = await rawRequest(port, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    const unknown = await rawRequest(port, 'GET /nope HTTP/1.0\r\n\r\n');
    await expectError(asResponse(unknown), 404, 'unknown_url');
  });
  test('two Host headers are a 400', async () => {
    const res = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n');
    await expectError(asResponse(res), 400, 'invalid_host');
    expect(res.headers['x-request-id']).toMatch(/^req_/);
  });
});

describe('framing Bun refuses before any CodexIn code (empty-bodied 400s, documented)', () => {
  const cases: [string, string][] = [
    ['Content-Length with Transfer-Encoding (request smuggling)', 'POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n'],
    ['two different Content-Lengths', 'POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\nConnection: close\r\n\r\n{}'],
    ['a negative Content-Length', 'POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n{}'],
    ['a NUL in a header value', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\nConnection: close\r\n\r\n'],
    ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'],
  ];
  for (const [label, raw] of cases) {
    test(`${label}: 400`, async () => {
      expect((await rawRequest(port, raw)).status).toBe(400);
    });
  }
  test('the server keeps answering afterwards', async () => {
    expect((await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).status).toBe(200);
  });
});

describe('sizes', () => {
  test('a Content-Length past the server limit is a 413 envelope, not an empty body', async () => {
    const res = await rawRequest(port, `POST /v1/responses HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\n`);
    await expectError(asResponse(res), 413, 'request_too_large');
  });
  test('headers over 16 KiB are refused by Bun (431) and the server keeps answering', async () => {
    const res = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(431);
    expect((await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).status).toBe(200);
  });
});

test('pathAndQuery takes the path from absolute and origin-form URLs', () => {
  expect(pathAndQuery('http://api/healthz?x=1')).toBe('/healthz?x=1');
  expect(pathAndQuery('/v1/models')).toBe('/v1/models');
  expect(pathAndQuery('http://a')).toBe('/');
  expect(pathAndQuery('http://a:1/b/c?u=http://x/y')).toBe('/b/c?u=http://x/y');
});
