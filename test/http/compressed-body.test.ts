/**
 * Codex CLI logged in with ChatGPT sends `Content-Encoding: zstd` bodies; other
 * clients may gzip. Both are inflated; a bad or unknown encoding is a clear 4xx.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';

let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  key = gw.key();
});
afterAll(() => gw.stop());

const body = JSON.stringify({ model: 'gpt-5.5', input: 'compressed hello' });
const post = (payload: Uint8Array | string, encoding: string) =>
  gw.call('/v1/responses', { key, method: 'POST', body: payload, headers: { 'content-type': 'application/json', 'content-encoding': encoding } });

test('zstd and gzip request bodies are inflated', async () => {
  for (const [encoding, payload] of [
    ['zstd', Bun.zstdCompressSync(new TextEncoder().encode(body))],
    ['gzip', Bun.gzipSync(new TextEncoder().encode(body))],
  ] as const) {
    const res = await post(payload, encoding);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { output_text: string }).output_text).toContain('compressed hello');
  }
});

test('a body that is not what its encoding says, or an unknown encoding, is refused clearly', async () => {
  const corrupt = await post('definitely not zstd', 'zstd');
  expect(corrupt.status).toBe(400);
  expect(((await corrupt.json()) as { error: { code: string } }).error.code).toBe('invalid_encoding');
  const unknown = await post(body, 'br-fancy');
  expect(unknown.status).toBe(415);
  expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('unsupported_content_encoding');
});
