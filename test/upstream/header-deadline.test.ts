/**
 * A stuck upstream must not hold a client forever: a deadline on the response
 * headers only, so long streams are untouched once they have started.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { fetchWithHeaderDeadline, UpstreamTimeout } from '../../src/upstream/header-deadline';
import { ChatGptUpstream } from '../../src/upstream/chatgpt/client';
import { AccountPool } from '../../src/upstream/pool';
import { TokenManager } from '../../src/upstream/chatgpt/token-manager';
import { silentLogger } from '../../src/log';
import { ApiError } from '../../src/openai/api-error';
import { startGateway, type TestGateway } from '../support/gateway';

let stuck: ReturnType<typeof Bun.serve>;
let stuckUrl: string;
const pending: (() => void)[] = [];

beforeAll(() => {
  stuck = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === '/slow-body') {
        // Headers now, then a body that takes longer than the deadline.
        const body = new ReadableStream({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode('first '));
            await Bun.sleep(400);
            controller.enqueue(new TextEncoder().encode('second'));
            controller.close();
          },
        });
        return new Response(body);
      }
      // Never answers.
      return new Promise<Response>((resolve) => pending.push(() => resolve(new Response('late'))));
    },
  });
  stuckUrl = `http://127.0.0.1:${stuck.port}`;
});
afterAll(() => {
  for (const release of pending) release();
  stuck.stop(true);
});

describe('fetchWithHeaderDeadline', () => {
  test('gives up when no headers arrive in time', async () => {
    const started = performance.now();
    const error = await fetchWithHeaderDeadline(fetch, `${stuckUrl}/hang`, {}, new AbortController().signal, 150).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTimeout);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test('a body that outlasts the deadline is not cut once headers arrived', async () => {
    const response = await fetchWithHeaderDeadline(fetch, `${stuckUrl}/slow-body`, {}, new AbortController().signal, 150);
    expect(await response.text()).toBe('first second');
  });

  test('a client abort is an abort, not a timeout', async () => {
    const client = new AbortController();
    setTimeout(() => client.abort(), 50);
    const error = await fetchWithHeaderDeadline(fetch, `${stuckUrl}/hang`, {}, client.signal, 5000).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(UpstreamTimeout);
    expect((error as Error).name).toBe('AbortError');
  });
});

describe('a stuck ChatGPT upstream', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.stop());

  test('the client gets 504 upstream_timeout instead of waiting forever, without retry storms', async () => {
    const upstream = new ChatGptUpstream({
      baseUrl: `${stuckUrl}/backend-api`,
      accounts: gw.accounts,
      pool: new AccountPool(gw.accounts),
      tokens: new TokenManager(gw.accounts, gw.config.authUrl, silentLogger),
      logger: silentLogger,
      headerTimeoutMs: 200,
    });
    const started = performance.now();
    const error = await upstream
      .createResponse({ model: 'gpt-5.5', input: 'x' }, { signal: new AbortController().signal, keyId: 'k', requestId: 'r' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(504);
    expect((error as ApiError).code).toBe('upstream_timeout');
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
