/**
 * ChatGptAssets against the simulator (in-process, through a fetch that can
 * rewrite answers): confirm polling until success, the poll deadline, a failed
 * processing status, a 401 that refreshes the token once, and cancellation.
 */
import { describe, expect, test } from 'bun:test';
import { createSimulator } from '../../../src/upstream/mock';
import { openDatabase } from '../../../src/store/db';
import { SqliteAccountStore } from '../../../src/store/accounts';
import { AccountPool } from '../../../src/upstream/pool';
import { TokenManager } from '../../../src/upstream/chatgpt/token-manager';
import { ChatGptAssets } from '../../../src/upstream/chatgpt/assets';
import { parseAuthJson } from '../../../src/upstream/chatgpt/auth-json';
import { ApiError } from '../../../src/openai/api-error';
import { silentLogger } from '../../../src/log';
import { mockPng } from '../../../src/upstream/mock';

const ORIGIN = 'http://simulator.test';
type Rewrite = (req: Request) => Response | null;

function setup(rewrite: Rewrite = () => null, timing = { pollIntervalMs: 5, pollTimeoutMs: 200 }) {
  const sim = createSimulator();
  const accounts = new SqliteAccountStore(openDatabase(':memory:'));
  accounts.upsert(parseAuthJson(JSON.stringify(sim.issueAccount().authJson)));
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    // The code under test always calls fetch(url, init).
    const req = new Request(input instanceof Request ? input.url : String(input), init);
    return rewrite(req) ?? sim.fetch(req);
  }) as typeof fetch;
  const tokens = new TokenManager(accounts, ORIGIN, silentLogger, fetchImpl);
  const assets = new ChatGptAssets({ baseUrl: `${ORIGIN}/backend-api`, accounts, pool: new AccountPool(accounts), tokens, logger: silentLogger, fetchImpl }, timing);
  return { sim, assets, accounts };
}

const ctx = (signal = new AbortController().signal) => ({ signal, keyId: 'key_test', requestId: 'req_test' });
const png = { bytes: mockPng(), filename: 'p.png', mime: 'image/png' };

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('ChatGptAssets.uploadFile', () => {
  test('polls past `retry` and returns the file service ids', async () => {
    const { sim, assets } = setup();
    const uploaded = await assets.uploadFile(png, ctx());
    expect(uploaded.fileId).toMatch(/^file_/);
    expect(uploaded.downloadUrl).toBe(`${ORIGIN}/download/${uploaded.fileId}`);
    expect(uploaded.mimeType).toBe('image/png');
    expect(uploaded.accountId).toBeTruthy();
    expect(sim.requests.filter((r) => r.path.endsWith('/uploaded'))).toHaveLength(2);
  });

  test('still processing at the deadline → 504 upstream_timeout', async () => {
    const { assets } = setup((req) => (req.url.endsWith('/uploaded') ? Response.json({ status: 'retry' }) : null), { pollIntervalMs: 10, pollTimeoutMs: 60 });
    const error = await failure(assets.uploadFile(png, ctx()));
    expect(error.status).toBe(504);
    expect(error.code).toBe('upstream_timeout');
  });

  test('a failed processing status → 502 with the upstream message', async () => {
    const { assets } = setup((req) => (req.url.endsWith('/uploaded') ? Response.json({ status: 'failed', error_message: 'virus scan failed' }) : null));
    const error = await failure(assets.uploadFile(png, ctx()));
    expect(error.status).toBe(502);
    expect(error.message).toContain('virus scan failed');
  });

  test('the blob store refusing the PUT → 502 upstream_upload_failed', async () => {
    const { assets } = setup((req) => (req.method === 'PUT' ? new Response('<Error/>', { status: 403 }) : null));
    const error = await failure(assets.uploadFile(png, ctx()));
    expect(error.code).toBe('upstream_upload_failed');
  });

  test('a 401 refreshes the token once and retries with the new one', async () => {
    let rejected: string | null = null;
    const { sim, assets } = setup((req) => {
      if (req.url.endsWith('/backend-api/files') && rejected === null) {
        rejected = req.headers.get('authorization');
        return Response.json({ detail: 'Unauthorized' }, { status: 401 });
      }
      return null;
    });
    const uploaded = await assets.uploadFile(png, ctx());
    expect(uploaded.fileId).toMatch(/^file_/);
    expect(sim.refreshCount).toBe(1);
    const retried = sim.requests.find((r) => r.path === '/backend-api/files')!;
    expect(rejected).toMatch(/^Bearer /);
    expect(retried.headers['authorization']).not.toBe(rejected!);
  });

  test('a cancelled client stops the upload (499)', async () => {
    const controller = new AbortController();
    const { assets } = setup((req) => {
      if (req.url.endsWith('/uploaded')) controller.abort();
      return null;
    });
    const error = await failure(assets.uploadFile(png, ctx(controller.signal)));
    expect(error.status).toBe(499);
  });

  test('no account at all → 503 no_upstream_account', async () => {
    const { assets, accounts } = setup();
    for (const a of accounts.list()) accounts.remove(a.id);
    const error = await failure(assets.uploadFile(png, ctx()));
    expect(error.status).toBe(503);
    expect(error.code).toBe('no_upstream_account');
  });
});

describe('ChatGptAssets.transcribe', () => {
  test('sends multipart to /transcribe as Codex Desktop and returns the text', async () => {
    const { sim, assets } = setup();
    const result = await assets.transcribe({ bytes: new Uint8Array(10), filename: 'a.webm', mime: 'audio/webm', model: 'm', language: 'en' }, ctx());
    expect(result.text).toBe('Simulated transcript of 10 bytes');
    const call = sim.requests.find((r) => r.path === '/backend-api/transcribe')!;
    expect(call.headers['originator']).toBe('Codex Desktop');
    expect(call.headers['content-type']).toStartWith('multipart/form-data');
  });
});
