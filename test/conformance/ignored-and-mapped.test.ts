/**
 * Parameters the upstream has no counterpart for are accepted and named in
 * `x-codexin-ignored-params` (audio: temperature, include[], chunking_strategy,
 * known_speaker_names[]; images: partial_images), and an upstream 404 is mapped to
 * what it means instead of a 400 "Not Found".
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type TestGateway } from '../support/gateway';
import { form, makeWav } from '../support/media';
import { mapUpstreamError } from '../../src/upstream/chatgpt/errors';

let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startGateway();
  key = gw.key(['advanced']);
});
afterAll(() => gw.stop());

function ignored(res: Response): string[] {
  return (res.headers.get('x-codexin-ignored-params') ?? '').split(', ').filter(Boolean).sort();
}

describe('audio transcription names what it drops', () => {
  test('temperature, include[], chunking_strategy and known_speaker_names[]', async () => {
    const body = form({
      model: 'gpt-4o-transcribe',
      file: { bytes: makeWav(1), filename: 'tone.wav', type: 'audio/wav' },
      temperature: '0.2',
      'include[]': 'logprobs',
      chunking_strategy: 'auto',
      'known_speaker_names[]': ['alice', 'bob'],
    });
    const res = await gw.call('/v1/audio/transcriptions', { method: 'POST', key, body });
    expect(res.status).toBe(200);
    expect(ignored(res)).toEqual(['chunking_strategy', 'include', 'known_speaker_names', 'temperature']);
  });

  test('nothing named when nothing is dropped', async () => {
    const res = await gw.call('/v1/audio/transcriptions', { method: 'POST', key, body: form({ file: { bytes: makeWav(1), filename: 'tone.wav', type: 'audio/wav' } }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-codexin-ignored-params')).toBeNull();
  });
});

describe('image generation names partial_images', () => {
  test('partial_images (a streaming option; streaming is refused) is named', async () => {
    const res = await gw.call('/v1/images/generations', { method: 'POST', key, json: { prompt: 'a red dot', partial_images: 2 } });
    expect(res.status).toBe(200);
    expect(ignored(res)).toContain('partial_images');
  });
});

describe('an upstream 404', () => {
  test('naming a model is a 404 model_not_found', async () => {
    gw.sim.enqueue({ kind: 'http_error', status: 404, body: { detail: "Model 'gpt-9' not found" } });
    const res = await gw.call('/v1/responses', { method: 'POST', key, json: { model: 'gpt-5.5', input: 'hi' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: Record<string, unknown> }).error).toMatchObject({ code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
  });

  test('a bare Not Found is the operator\'s problem: 502 upstream_not_found', async () => {
    gw.sim.enqueue({ kind: 'http_error', status: 404, body: { detail: 'Not Found' } });
    const res = await gw.call('/v1/responses', { method: 'POST', key, json: { model: 'gpt-5.5', input: 'hi' } });
    expect(res.status).toBe(502);
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    expect(error.code).toBe('upstream_not_found');
    expect(error.message).not.toBe('Not Found');
  });

  test('mapUpstreamError keeps 400 and 422 as invalid requests', () => {
    expect(mapUpstreamError(422, '{"detail":"bad"}', new Headers()).status).toBe(400);
    expect(mapUpstreamError(404, 'not json', new Headers()).status).toBe(502);
  });
});
