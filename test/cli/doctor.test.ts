/**
 * `codexin doctor`'s upstream check behind an HTTP proxy (HTTP_PROXY), run as the
 * compiled binary: a proxy's own 5xx/407 is a failure that names the proxy, a
 * working proxy is reported as the route taken, and proxy credentials never show.
 * The upstream host name resolves nowhere: only the proxy can reach it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { proxyFor } from '../../src/upstream/proxy-env';
import { createSimulator } from '../../src/upstream/mock';
import { makeTempDir, runCli } from '../support/binary';

const UPSTREAM = 'http://upstream.codexin-test.invalid/v1';
const sim = createSimulator();
let simUrl = '';
let stopSim: () => Promise<void> = async () => {};
const proxies: ReturnType<typeof Bun.serve>[] = [];

beforeAll(async () => {
  const running = await sim.start();
  simUrl = running.url;
  stopSim = running.stop;
});
afterAll(async () => {
  for (const p of proxies) p.stop(true);
  await stopSim();
});

/** A plain HTTP forward proxy (absolute-URI requests) with a scripted answer. */
function proxy(answer: (request: Request) => Response | Promise<Response>): string {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: answer });
  proxies.push(server);
  return `127.0.0.1:${server.port}`;
}

interface Report {
  healthy: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

async function doctor(env: Record<string, string | undefined>, upstreamUrl = UPSTREAM): Promise<{ code: number; report: Report; stdout: string }> {
  const result = await runCli(['doctor', '--upstream', 'openai', '--upstream-url', upstreamUrl, '--data-dir', makeTempDir('doctor-proxy'), '--json'], {
    env: { HTTPS_PROXY: undefined, https_proxy: undefined, http_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined, ...env },
  });
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stdout: result.stdout + result.stderr };
}

const upstreamCheck = (r: Report) => r.checks.find((c) => c.name === 'upstream')!;

describe('doctor behind an HTTP proxy', () => {
  test("a proxy's 502 is not a healthy upstream: FAIL naming the proxy and what to check", async () => {
    const address = proxy(() => new Response('<h1>502 Bad Gateway</h1>', { status: 502 }));
    const { code, report } = await doctor({ HTTP_PROXY: `http://${address}` });
    expect(code).toBe(1);
    expect(report.healthy).toBe(false);
    expect(upstreamCheck(report)).toEqual({
      name: 'upstream',
      ok: false,
      detail: `the proxy http://${address} answered HTTP 502 for ${UPSTREAM}: it could not reach the upstream; check the proxy's access, or list the host in NO_PROXY`,
    });
  });

  test('a proxy asking for credentials (407) says how to give them', async () => {
    const address = proxy(() => new Response('', { status: 407, headers: { 'proxy-authenticate': 'Basic realm="corp"' } }));
    const { code, report } = await doctor({ HTTP_PROXY: `http://${address}` });
    expect(code).toBe(1);
    expect(upstreamCheck(report).detail).toContain('wants credentials (HTTP 407)');
  });

  test('a working proxy reaches the upstream and the check says it went through it, without its password', async () => {
    const seen: string[] = [];
    const address = proxy((request) => {
      seen.push(request.url);
      const url = new URL(request.url);
      return fetch(`${simUrl}${url.pathname}`, { method: request.method });
    });
    const { code, report, stdout } = await doctor({ HTTP_PROXY: `http://alice:pr0xy-s3cret@${address}` });
    expect(seen).toEqual([UPSTREAM]);
    expect(code).toBe(0);
    expect(upstreamCheck(report)).toMatchObject({ ok: true, detail: expect.stringContaining(`reachable through the proxy http://${address} (HTTP `) });
    expect(stdout).not.toContain('pr0xy-s3cret');
  });

  test('an https upstream goes through HTTPS_PROXY with CONNECT; a refused tunnel is a failure naming the proxy', async () => {
    const requests: string[] = [];
    const tunnelProxy: TcpServer = createTcpServer((socket) =>
      socket.once('data', (head) => {
        requests.push(head.toString().split('\r\n')[0]!);
        socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      }),
    );
    const port = await new Promise<number>((resolve) => tunnelProxy.listen(0, '127.0.0.1', () => resolve((tunnelProxy.address() as { port: number }).port)));
    try {
      const https = 'https://upstream.codexin-test.invalid/backend-api';
      const { code, report } = await doctor({ HTTPS_PROXY: `http://127.0.0.1:${port}` }, https);
      expect(requests).toEqual(['CONNECT upstream.codexin-test.invalid:443 HTTP/1.1']);
      expect(code).toBe(1);
      const detail = upstreamCheck(report).detail;
      expect(detail).toStartWith(`${https} unreachable through the proxy http://127.0.0.1:${port}: `);
      expect(detail).toContain('502');
      expect(detail).toContain('check the proxy (HTTPS_PROXY/HTTP_PROXY) and NO_PROXY');
    } finally {
      tunnelProxy.close();
    }
  });

  test('without a proxy an unknown host fails and suggests one', async () => {
    const { code, report } = await doctor({ HTTP_PROXY: undefined });
    expect(code).toBe(1);
    expect(upstreamCheck(report).detail).toContain('whether this host needs a proxy (HTTPS_PROXY)');
  });
});

describe('proxyFor', () => {
  test('HTTPS_PROXY for https, HTTP_PROXY otherwise (and as the https fallback); lower-case twins too', () => {
    expect(proxyFor('https://chatgpt.com/x', { HTTPS_PROXY: 'http://a:1', HTTP_PROXY: 'http://b:2' })).toBe('http://a:1');
    expect(proxyFor('http://host/x', { HTTPS_PROXY: 'http://a:1', HTTP_PROXY: 'http://b:2' })).toBe('http://b:2');
    expect(proxyFor('https://chatgpt.com/x', { HTTP_PROXY: 'http://b:2' })).toBe('http://b:2');
    expect(proxyFor('https://chatgpt.com/x', { https_proxy: 'http://c:3' })).toBe('http://c:3');
    expect(proxyFor('https://chatgpt.com/x', {})).toBeNull();
  });

  test('NO_PROXY exempts exact hosts, domain suffixes and *', () => {
    const env = { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'localhost, .internal,example.com:443' };
    expect(proxyFor('https://localhost/x', env)).toBeNull();
    expect(proxyFor('https://api.internal/x', env)).toBeNull();
    expect(proxyFor('https://sub.example.com/x', env)).toBeNull();
    expect(proxyFor('https://example.com/x', env)).toBeNull();
    expect(proxyFor('https://notexample.com/x', env)).toBe('http://p:1');
    expect(proxyFor('https://chatgpt.com/x', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' })).toBeNull();
  });

  test('credentials in the proxy URL never come back', () => {
    expect(proxyFor('https://chatgpt.com/x', { HTTPS_PROXY: 'http://user:secret@proxy.corp:3128' })).toBe('http://proxy.corp:3128');
  });
});
