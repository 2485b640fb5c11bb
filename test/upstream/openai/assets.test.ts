/** `--upstream openai`: transcription passes through to /audio/transcriptions; ChatGPT uploads are a clear 501. */
import { describe, expect, test } from 'bun:test';
import { OpenAiAssets } from '../../../src/upstream/openai/assets';
import { ApiError } from '../../../src/openai/api-error';

const ctx = { signal: new AbortController().signal, keyId: 'key_1', requestId: 'req_1' };

type Form = Awaited<ReturnType<Request['formData']>>;

function fakeApi(answer: (form: Form, req: Request) => Response) {
  const seen: Request[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    // The code under test always calls fetch(url, init).
    const req = new Request(input instanceof Request ? input.url : String(input), init);
    seen.push(req.clone() as Request);
    return answer(await req.formData(), req);
  }) as typeof fetch;
  return { seen, fetchImpl };
}

describe('OpenAiAssets', () => {
  test('transcribe posts multipart with model, language and prompt, asking for json', async () => {
    let fields: Record<string, string> = {};
    const api = fakeApi((form) => {
      fields = Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      return Response.json({ text: 'hello from the api' });
    });
    const assets = new OpenAiAssets('https://api.example.test/v1', 'sk-test', api.fetchImpl);
    const result = await assets.transcribe({ bytes: new Uint8Array(8), filename: 'a.wav', mime: 'audio/wav', model: 'whisper-1', language: 'en', prompt: 'names' }, ctx);
    expect(result).toEqual({ text: 'hello from the api', accountId: null });
    expect(api.seen[0]!.url).toBe('https://api.example.test/v1/audio/transcriptions');
    expect(api.seen[0]!.headers.get('authorization')).toBe('Bearer sk-test');
    expect(fields).toEqual({ model: 'whisper-1', response_format: 'json', language: 'en', prompt: 'names' });
  });

  test('an upstream 429 keeps retry-after; a 401 is the operator key, not the caller (502)', async () => {
    const limited = new OpenAiAssets('https://x.test/v1', 'sk', fakeApi(() => Response.json({ error: { message: 'slow down', code: 'rate_limit_exceeded' } }, { status: 429, headers: { 'retry-after': '9' } })).fetchImpl);
    const error = await limited.transcribe({ bytes: new Uint8Array(1), filename: 'a.wav', mime: 'audio/wav', model: 'm' }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).headers['retry-after']).toBe('9');
    const denied = new OpenAiAssets('https://x.test/v1', 'sk', fakeApi(() => Response.json({ error: { message: 'bad key' } }, { status: 401 })).fetchImpl);
    const error401 = await denied.transcribe({ bytes: new Uint8Array(1), filename: 'a.wav', mime: 'audio/wav', model: 'm' }, ctx).catch((e: unknown) => e);
    expect((error401 as ApiError).status).toBe(502);
  });

  test('uploadFile → 501 naming the mode', async () => {
    const assets = new OpenAiAssets('https://x.test/v1', 'sk');
    const error = (await assets.uploadFile({ bytes: new Uint8Array(1), filename: 'a.png', mime: 'image/png' }, ctx).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(501);
    expect(error.message).toContain('--upstream chatgpt');
  });
});
