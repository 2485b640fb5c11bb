/**
 * POST /v1/audio/transcriptions over the upstream's /transcribe: every
 * response_format (text/srt/vtt as text/plain, timings from the WAV header),
 * both spellings of timestamp_granularities, and the 4xx of bad input.
 * The simulator transcribes a WAV as "Simulated transcript of <seconds>s of audio".
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { form, makeWav } from '../support/media';
import { mockPng } from '../../src/upstream/mock';
import { expectError, lastKeyId, upstreamCalls, type Json } from './assets-helpers';

let gw: TestGateway;
let key: string;
let keyId: string;
let basic: string;
const WAV = makeWav(1);
const TEXT = 'Simulated transcript of 1.0s of audio';

beforeAll(async () => {
  gw = await startGateway();
  key = gw.key(['advanced']);
  keyId = lastKeyId(gw);
  basic = gw.key();
});
afterAll(() => gw.stop());
beforeEach(() => gw.sim.reset());

function transcribe(fields: Record<string, string | string[]> = {}, file: { bytes: Uint8Array | string; filename: string; type?: string } | null = { bytes: WAV, filename: 'tone.wav', type: 'audio/wav' }, k = key) {
  return gw.call('/v1/audio/transcriptions', { method: 'POST', key: k, body: form({ model: 'gpt-4o-transcribe', ...(file ? { file } : {}), ...fields }) });
}

describe('response formats', () => {
  test('json (default): {text, usage} with the measured duration', async () => {
    const res = await transcribe();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ text: TEXT, usage: { type: 'duration', seconds: 1 } });
  });

  test('text → text/plain, the bare transcript', async () => {
    const res = await transcribe({ response_format: 'text' });
    expect(res.headers.get('content-type')).toStartWith('text/plain');
    expect(await res.text()).toBe(TEXT);
  });

  test('srt → one cue spanning the audio', async () => {
    const res = await transcribe({ response_format: 'srt' }, { bytes: makeWav(2.5), filename: 'a.wav', type: 'audio/wav' });
    expect(res.headers.get('content-type')).toStartWith('text/plain');
    expect(await res.text()).toBe('1\n00:00:00,000 --> 00:00:02,500\nSimulated transcript of 2.5s of audio\n\n');
  });

  test('vtt → WEBVTT with one cue', async () => {
    const res = await transcribe({ response_format: 'vtt' });
    expect(res.headers.get('content-type')).toStartWith('text/plain');
    expect(await res.text()).toBe(`WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n${TEXT}\n\n`);
  });

  test('verbose_json: task, language, duration, text and one segment; no words unless asked', async () => {
    const body = (await (await transcribe({ response_format: 'verbose_json', language: 'en' })).json()) as Json;
    expect(body).toMatchObject({ task: 'transcribe', language: 'en', duration: 1, text: TEXT });
    expect(body.segments).toHaveLength(1);
    expect(body.segments[0]).toMatchObject({ id: 0, start: 0, end: 1, text: TEXT });
    expect(body.words).toBeUndefined();
  });

  test('verbose_json with timestamp_granularities[]=word: words spread over the duration, in order', async () => {
    const body = (await (await transcribe({ response_format: 'verbose_json', 'timestamp_granularities[]': ['word', 'segment'] })).json()) as Json;
    const words = body.words as { word: string; start: number; end: number }[];
    expect(words.map((w) => w.word)).toEqual(['Simulated', 'transcript', 'of', '1.0s', 'of', 'audio']);
    expect(words[0]!.start).toBe(0);
    expect(words.at(-1)!.end).toBeCloseTo(1, 3);
    for (let i = 1; i < words.length; i++) expect(words[i]!.start).toBeCloseTo(words[i - 1]!.end, 3);
    expect(body.segments).toHaveLength(1);
  });

  test('timestamp_granularities without brackets is accepted too', async () => {
    const body = (await (await transcribe({ response_format: 'verbose_json', timestamp_granularities: 'word' })).json()) as Json;
    expect(body.words).toHaveLength(6);
  });

  test('a non-WAV container: no usage, and subtitle timings are estimated from the text', async () => {
    const res = await transcribe({ response_format: 'json' }, { bytes: new Uint8Array(300).fill(7), filename: 'clip.webm', type: 'audio/webm' });
    expect(await res.json()).toEqual({ text: 'Simulated transcript of 300 bytes' });
    const srt = await (await transcribe({ response_format: 'srt' }, { bytes: new Uint8Array(300).fill(7), filename: 'clip.webm', type: 'audio/webm' })).text();
    // Five words at 2.5 words a second.
    expect(srt).toContain('00:00:00,000 --> 00:00:02,000');
  });
});

describe('what reaches the upstream', () => {
  test('the audio, language and prompt go to /backend-api/transcribe as multipart', async () => {
    await transcribe({ language: 'de', prompt: 'Glossary: CodexIn' });
    const [call] = upstreamCalls(gw, '/backend-api/transcribe');
    expect(call!.headers['content-type']).toStartWith('multipart/form-data; boundary=');
    expect(call!.headers['authorization']).toMatch(/^Bearer /);
    const parsed = await new Response(call!.rawBody, { headers: { 'content-type': call!.headers['content-type']! } }).formData();
    expect(parsed.get('language')).toBe('de');
    expect(parsed.get('prompt')).toBe('Glossary: CodexIn');
    const file = parsed.get('file') as File;
    expect(file.name).toBe('tone.wav');
    expect(file.type).toMatch(/^audio\/(x-)?wav/);
  });

  test('upstream 429 → 429 with retry-after', async () => {
    gw.sim.enqueueTranscribe({ kind: 'http_error', status: 429, body: { detail: 'Rate limit exceeded' }, headers: { 'retry-after': '12' } });
    const res = await transcribe();
    expect(res.headers.get('retry-after')).toBe('12');
    await expectError(res, 429, 'rate_limit_exceeded', null, 'rate_limit_error');
  });

  test('upstream 400 → 400 with its reason', async () => {
    gw.sim.enqueueTranscribe({ kind: 'http_error', status: 400, body: { detail: 'Audio file is too short' } });
    const error = await expectError(await transcribe(), 400, null);
    expect(error.message).toBe('Audio file is too short');
  });

  test('every call is metered with the requested model', () => {
    gw.usage.flush(); // rows are written behind the request
    const rows = gw.db.query("SELECT model, status FROM usage WHERE key_id = $key AND route = '/v1/audio/transcriptions'").all({ key: keyId }) as { model: string; status: number }[];
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.every((r) => r.model === 'gpt-4o-transcribe')).toBe(true);
    expect(rows.filter((r) => r.status === 429)).toHaveLength(1);
  });
});

describe('bad input', () => {
  test('unknown response_format → 400 param response_format (diarized_json too)', async () => {
    await expectError(await transcribe({ response_format: 'mp3' }), 400, 'unsupported_response_format', 'response_format');
    const error = await expectError(await transcribe({ response_format: 'diarized_json' }), 400, 'unsupported_response_format', 'response_format');
    expect(error.message).toContain('speakers');
    expect(upstreamCalls(gw, '/backend-api/transcribe')).toHaveLength(0);
  });

  test('timestamp_granularities: unknown value or without verbose_json → 400', async () => {
    await expectError(await transcribe({ response_format: 'verbose_json', 'timestamp_granularities[]': ['char'] }), 400, 'invalid_value', 'timestamp_granularities');
    await expectError(await transcribe({ response_format: 'json', 'timestamp_granularities[]': ['word'] }), 400, 'invalid_value', 'timestamp_granularities');
  });

  test('missing file part → 400 param file', async () => {
    await expectError(await transcribe({}, null), 400, 'missing_required_parameter', 'file');
  });

  test('not audio → 400 param file; empty → 400', async () => {
    await expectError(await transcribe({}, { bytes: mockPng(), filename: 'picture.png', type: 'image/png' }), 400, 'invalid_file_format', 'file');
    await expectError(await transcribe({}, { bytes: '', filename: 'silence.wav', type: 'audio/wav' }), 400, 'empty_file', 'file');
  });

  test('streaming → 400 param stream', async () => {
    await expectError(await transcribe({ stream: 'true' }), 400, 'unsupported_parameter', 'stream');
  });

  test('over 25 MB → 413', async () => {
    const big = new Uint8Array(25 * 1024 * 1024 + 1);
    big.set(WAV.subarray(0, 44));
    await expectError(await transcribe({}, { bytes: big, filename: 'long.wav', type: 'audio/wav' }), 413, 'file_too_large', 'file');
    expect(upstreamCalls(gw, '/backend-api/transcribe')).toHaveLength(0);
  });

  test('a key without advanced access → 403', async () => {
    await expectError(await transcribe({}, undefined, basic), 403, 'advanced_access_required', null, 'permission_error');
  });
});
