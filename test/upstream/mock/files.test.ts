import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { authHeaders, startSim, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h.stop());
beforeEach(() => h.sim.reset());

/** A silent PCM WAV: `seconds` of 16-bit mono audio at `rate` Hz. */
function wav(seconds: number, rate = 16_000): Uint8Array {
  const dataBytes = Math.round(seconds * rate) * 2;
  const buf = new ArrayBuffer(44 + dataBytes);
  const v = new DataView(buf);
  const put = (at: number, s: string) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  put(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  put(36, 'data');
  v.setUint32(40, dataBytes, true);
  return new Uint8Array(buf);
}

describe('files', () => {
  const create = (body: unknown) =>
    fetch(`${h.url}/backend-api/files`, { method: 'POST', headers: authHeaders(h.account), body: JSON.stringify(body) });

  test('create → PUT → uploaded (retry, then success) → download', async () => {
    const content = new TextEncoder().encode('hello');
    const created = await create({ file_name: 'hello.txt', file_size: content.length, use_case: 'codex' });
    expect(created.status).toBe(200);
    const { file_id, upload_url } = (await created.json()) as { file_id: string; upload_url: string };
    expect(file_id).toMatch(/^file_/);
    expect(upload_url).toBe(`${h.url}/upload/${file_id}`);

    const noBlobType = await fetch(upload_url, { method: 'PUT', body: content });
    expect(noBlobType.status).toBe(400);
    const put = await fetch(upload_url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: content });
    expect(put.status).toBe(201);

    const confirm = () => fetch(`${h.url}/backend-api/files/${file_id}/uploaded`, { method: 'POST', headers: authHeaders(h.account), body: '{}' });
    expect(await (await confirm()).json()).toEqual({ status: 'retry' });
    const done = (await (await confirm()).json()) as Record<string, string>;
    expect(done).toEqual({ status: 'success', download_url: `${h.url}/download/${file_id}`, file_name: 'hello.txt', mime_type: 'text/plain' });

    const download = await fetch(done.download_url!);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('hello');
  });

  test('a file never PUT fails confirmation after the first retry', async () => {
    const { file_id } = (await (await create({ file_name: 'a.png', file_size: 3, use_case: 'codex' })).json()) as { file_id: string };
    const confirm = () => fetch(`${h.url}/backend-api/files/${file_id}/uploaded`, { method: 'POST', headers: authHeaders(h.account), body: '{}' });
    expect(((await (await confirm()).json()) as { status: string }).status).toBe('retry');
    expect(((await (await confirm()).json()) as { status: string }).status).toBe('failed');
  });

  test('requires auth and a file_name', async () => {
    expect((await fetch(`${h.url}/backend-api/files`, { method: 'POST', body: '{}' })).status).toBe(401);
    const res = await create({ file_size: 1 });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: 'file_name is required' });
  });

  test('enqueueFiles scripts a throttle on the next /files call only', async () => {
    const body = { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'Rate limit reached.' } };
    h.sim.enqueueFiles({ kind: 'http_error', status: 429, body, headers: { 'retry-after': '1' } });
    const throttled = await create({ file_name: 'x.txt', file_size: 1, use_case: 'codex' });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(await throttled.json()).toEqual(body);
    expect((await create({ file_name: 'x.txt', file_size: 1, use_case: 'codex' })).status).toBe(200);
  });
});

describe('transcribe', () => {
  const post = (form: FormData, headers = authHeaders(h.account)) => {
    const { 'content-type': _, ...rest } = headers;
    return fetch(`${h.url}/backend-api/transcribe`, { method: 'POST', headers: rest, body: form });
  };

  test('a WAV is transcribed from its RIFF duration', async () => {
    const form = new FormData();
    form.append('file', new File([wav(1.5)], 'speech.wav', { type: 'audio/wav' }));
    form.append('language', 'en');
    form.append('prompt', 'a test');
    const res = await post(form);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: 'Simulated transcript of 1.5s of audio' });
  });

  test('duration is rounded to 0.1 s', async () => {
    const form = new FormData();
    form.append('file', new File([wav(2.04, 8000)], 'a.wav', { type: 'audio/wav' }));
    expect(await (await post(form)).json()).toEqual({ text: 'Simulated transcript of 2.0s of audio' });
  });

  test('other audio is described by its size', async () => {
    const form = new FormData();
    form.append('file', new File([new Uint8Array(1234)], 'a.webm', { type: 'audio/webm' }));
    expect(await (await post(form)).json()).toEqual({ text: 'Simulated transcript of 1234 bytes' });
  });

  test('missing file → 400', async () => {
    const form = new FormData();
    form.append('language', 'en');
    const res = await post(form);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: 'file is required' });
  });

  test('requires auth', async () => {
    const form = new FormData();
    form.append('file', new File([wav(1)], 'a.wav'));
    expect((await fetch(`${h.url}/backend-api/transcribe`, { method: 'POST', body: form })).status).toBe(401);
  });

  test('enqueueTranscribe scripts an error', async () => {
    h.sim.enqueueTranscribe({ kind: 'http_error', status: 403, body: '<html>Just a moment...</html>', headers: { 'content-type': 'text/html' } });
    const form = new FormData();
    form.append('file', new File([wav(1)], 'a.wav'));
    const res = await post(form);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toContain('Just a moment');
    expect((await post(form)).status).toBe(200);
  });
});
