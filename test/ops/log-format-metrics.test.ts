/**
 * Operating aids: the error code on failed requests' log lines, the pretty log
 * format and how --log-format/CODEXIN_LOG_FORMAT choose it, and the process and
 * build-info metrics on /metrics.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { resolveConfig } from '../../src/config';
import { createLogger, prettyLine } from '../../src/log';
import { VERSION } from '../../src/version';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let basic: string;
beforeAll(async () => {
  gw = await startGateway();
  basic = gw.key();
});
afterAll(() => gw.stop());

async function requestLines(): Promise<Record<string, unknown>[]> {
  // Access-log lines are written after the response is handed over.
  await Bun.sleep(30);
  return gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
}

describe('request log lines of failed requests', () => {
  test('carry the OpenAI error code of 4xx answers, and none on a success', async () => {
    await Bun.sleep(30);
    gw.logs.length = 0;
    await (await gw.call('/v1/models', { key: 'ci_not-a-real-key' })).text();
    await (await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'no-such-model', input: 'x' } })).text();
    await (await gw.call('/v1/nowhere', { key: basic })).text();
    await (await gw.call('/v1/models', { key: basic })).text();
    const lines = await requestLines();
    expect(lines.map((l) => [l.status, l.error_code ?? null])).toEqual([
      [401, 'invalid_api_key'],
      [404, 'model_not_found'],
      [404, 'unknown_url'],
      [200, null],
    ]);
  });

  test('an upstream refusal relayed to the client is logged with its code too', async () => {
    await Bun.sleep(30);
    gw.logs.length = 0;
    gw.sim.enqueue({ kind: 'usage_limit', resetsInSeconds: 300 });
    const res = await gw.call('/v1/responses', { key: basic, method: 'POST', json: { model: 'gpt-5.5', input: 'limited' } });
    const body = (await res.json()) as { error: { code: string | null; type: string } };
    const [line] = await requestLines();
    expect(res.status).toBe(429);
    expect(line!.status).toBe(429);
    expect(line!.error_code).toBe(body.error.code ?? body.error.type);
  });
});

describe('pretty log format', () => {
  test('a request line leads with method, path, status, latency and error code; other fields follow as key=value', () => {
    const line = prettyLine(new Date('2026-01-02T03:04:05.678Z'), 'info', 'request', {
      request_id: 'req_1',
      method: 'POST',
      path: '/v1/responses',
      status: 429,
      latency_ms: 12.5,
      error_code: 'rate_limit_exceeded',
      key_id: 'key_a',
      account_id: null,
    });
    expect(line).toBe('03:04:05.678 INFO  request POST /v1/responses 429 12.5ms rate_limit_exceeded request_id=req_1 key_id=key_a');
  });

  test('values with spaces are quoted so a line stays one line of key=value pairs', () => {
    expect(prettyLine(new Date(0), 'warn', 'refresh failed', { reason: 'auth server unreachable', n: 2 })).toBe('00:00:00.000 WARN  refresh failed reason="auth server unreachable" n=2');
  });

  test('createLogger writes pretty lines when asked and JSON otherwise', () => {
    const pretty: string[] = [];
    const json: string[] = [];
    createLogger('info', (l) => pretty.push(l), 'pretty').info('listening', { url: 'http://127.0.0.1:1' });
    createLogger('info', (l) => json.push(l)).info('listening', { url: 'http://127.0.0.1:1' });
    expect(pretty[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  listening url=http:\/\/127\.0\.0\.1:1$/);
    expect(JSON.parse(json[0]!)).toMatchObject({ level: 'info', msg: 'listening', url: 'http://127.0.0.1:1' });
  });

  test('--log-format wins over CODEXIN_LOG_FORMAT; a bad value is a config error', () => {
    expect(resolveConfig({ 'log-format': 'json' }, { CODEXIN_LOG_FORMAT: 'pretty' }).logFormat).toBe('json');
    expect(resolveConfig({}, { CODEXIN_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => resolveConfig({ 'log-format': 'xml' }, {})).toThrow('--log-format: "xml" is not one of pretty, json');
  });

  test('without a choice it follows whether stderr is a terminal', () => {
    expect(resolveConfig({}, {}).logFormat).toBe(process.stderr.isTTY ? 'pretty' : 'json');
  });
});

describe('process and build metrics', () => {
  test('/metrics has process_* and nodejs_* metrics and codexin_build_info with the version', async () => {
    const text = await (await gw.call('/metrics', { key: gw.key(['admin']) })).text();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'nodejs_eventloop_lag_seconds']) {
      expect(text).toMatch(new RegExp(`^${name} [\\d.e+-]+$`, 'm'));
    }
    expect(text).toContain(`codexin_build_info{version="${VERSION}",bun="${Bun.version}",compiled="false"} 1`);
    const rss = Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)![1]);
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
  });
});
