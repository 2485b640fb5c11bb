/**
 * Files, audio and images end to end on the compiled binary (`make build`) in
 * front of the ChatGPT-backend simulator: the `openai` SDK (7.x) for
 * files.create/retrieve/list/content/delete, audio.transcriptions.create with a
 * real WAV (json, text, srt, verbose_json) and images.generate; `curl` for the
 * image-analysis helper and the ChatGPT image upload with a real PNG.
 *
 * Expected values come from the test's own inputs or from what the simulator
 * recorded and answers by rule ("Simulated transcript of <seconds>s of audio").
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { NotFoundError, PermissionDeniedError, toFile } from 'openai';
import { startStack, type E2EStack } from '../support/stack';
import { makeTempDir, removeTempDirs } from '../support/binary';
import { makeWav } from '../support/media';
import { makePng, upstreamResponsesRequests, type Json } from './responses/helpers';

let stack: E2EStack;
let advancedKey: string;
let plainKey: string;
let client: OpenAI;
let tmp: string;
const PNG = makePng(4, 3, [20, 160, 40]);
const WAV = makeWav(1, 16_000, 440);
const WAV_TEXT = 'Simulated transcript of 1.0s of audio';

beforeAll(async () => {
  stack = await startStack();
  advancedKey = await stack.createKey(['--advanced']);
  plainKey = await stack.createKey();
  client = new OpenAI({ baseURL: stack.baseUrl, apiKey: advancedKey, maxRetries: 0, timeout: 30_000 });
  tmp = makeTempDir('assets');
});

afterAll(async () => {
  await stack?.stop();
  removeTempDirs();
});

beforeEach(() => stack.sim.reset());

async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn({ cmd: ['curl', '-sS', '--noproxy', '*', '--max-time', '30', ...args], stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

describe('openai SDK: files', () => {
  test('create → retrieve → list → content → use in a response → delete', async () => {
    const text = 'Quarterly numbers: 42, 17, 99.\n';
    const created = await client.files.create({ file: await toFile(Buffer.from(text), 'numbers.txt', { type: 'text/plain' }), purpose: 'user_data' });
    expect(created).toMatchObject({ object: 'file', filename: 'numbers.txt', purpose: 'user_data', bytes: text.length, status: 'processed' });
    expect(created.id).toMatch(/^file-/);

    expect(await client.files.retrieve(created.id)).toEqual(created);
    const listed: string[] = [];
    for await (const file of client.files.list({ purpose: 'user_data' })) listed.push(file.id);
    expect(listed).toContain(created.id);

    const content = await client.files.content(created.id);
    expect(content.headers.get('content-type')).toBe('text/plain');
    expect(await content.text()).toBe(text);

    const response = await client.responses.create({
      model: 'gpt-5.5',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Sum the numbers' }, { type: 'input_file', file_id: created.id }] }],
    });
    expect(response.status).toBe('completed');
    const sent = upstreamResponsesRequests(stack).at(-1)!.body as Json;
    expect(sent.input[0].content[1]).toEqual({ type: 'input_file', filename: 'numbers.txt', file_data: `data:text/plain;base64,${Buffer.from(text).toString('base64')}` });

    const deleted = await client.files.delete(created.id);
    expect(deleted).toEqual({ id: created.id, object: 'file', deleted: true });
    expect(await client.files.retrieve(created.id).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
  });

  test('a binary file round-trips byte for byte; another key cannot see it', async () => {
    const created = await client.files.create({ file: await toFile(PNG, 'green.png', { type: 'image/png' }), purpose: 'vision' });
    const bytes = new Uint8Array(await (await client.files.content(created.id)).arrayBuffer());
    expect(bytes).toEqual(new Uint8Array(PNG));
    const other = new OpenAI({ baseURL: stack.baseUrl, apiKey: stack.adminKey, maxRetries: 0 });
    expect(await other.files.retrieve(created.id).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
  });

  test('a key without advanced access gets PermissionDeniedError (403 advanced_access_required)', async () => {
    const plain = new OpenAI({ baseURL: stack.baseUrl, apiKey: plainKey, maxRetries: 0 });
    const error = await plain.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'user_data' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect((error as PermissionDeniedError).code).toBe('advanced_access_required');
  });
});

describe('openai SDK: audio.transcriptions', () => {
  test('json: {text} from a real 1 s 16 kHz WAV, sent to the upstream /transcribe', async () => {
    const result = await client.audio.transcriptions.create({ file: await toFile(WAV, 'tone.wav', { type: 'audio/wav' }), model: 'gpt-4o-transcribe', language: 'en' });
    expect(result.text).toBe(WAV_TEXT);
    const upstream = stack.sim.requests.filter((r) => r.path === '/backend-api/transcribe');
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.headers['content-type']).toStartWith('multipart/form-data');
  });

  test('text → a plain string', async () => {
    const result = await client.audio.transcriptions.create({ file: await toFile(WAV, 'tone.wav', { type: 'audio/wav' }), model: 'whisper-1', response_format: 'text' });
    expect(typeof result).toBe('string');
    expect(String(result).trim()).toBe(WAV_TEXT);
  });

  test('srt → one cue spanning the second of audio', async () => {
    const result = await client.audio.transcriptions.create({ file: await toFile(WAV, 'tone.wav', { type: 'audio/wav' }), model: 'whisper-1', response_format: 'srt' });
    expect(String(result)).toBe(`1\n00:00:00,000 --> 00:00:01,000\n${WAV_TEXT}\n\n`);
  });

  test('verbose_json with timestamp_granularities (sent as timestamp_granularities[]) has words', async () => {
    const result = await client.audio.transcriptions.create({
      file: await toFile(WAV, 'tone.wav', { type: 'audio/wav' }),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });
    expect(result.duration).toBe(1);
    expect(result.text).toBe(WAV_TEXT);
    expect(result.segments).toHaveLength(1);
    expect(result.words?.map((w) => w.word)).toEqual(['Simulated', 'transcript', 'of', '1.0s', 'of', 'audio']);
  });
});

describe('openai SDK: images.generate', () => {
  test('returns the generated PNG as b64_json with the revised prompt', async () => {
    const result = await client.images.generate({ prompt: 'a green square', model: 'gpt-image-1', size: '1024x1024' });
    expect(result.data).toHaveLength(1);
    const png = Buffer.from(result.data![0]!.b64_json!, 'base64');
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(result.data![0]!.revised_prompt).toBe('A simple illustration of: a green square');
    const sent = upstreamResponsesRequests(stack).at(-1)!.body as Json;
    expect(sent.tools).toEqual([{ type: 'image_generation', model: 'gpt-image-1', size: '1024x1024', output_format: 'png' }]);
    expect(sent.tool_choice).toEqual({ type: 'image_generation' });
  });
});

describe('curl', () => {
  test('image analysis with a real PNG (any key)', async () => {
    const bodyPath = join(tmp, 'analysis.json');
    writeFileSync(bodyPath, JSON.stringify({ prompt: 'What colour is this?', image_url: `data:image/png;base64,${Buffer.from(PNG).toString('base64')}` }));
    const out = await curl(['-X', 'POST', `${stack.baseUrl}/codex/image-analysis`, '-H', `authorization: Bearer ${plainKey}`, '-H', 'content-type: application/json', '--data-binary', `@${bodyPath}`]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const reply = JSON.parse(out.stdout) as Json;
    expect(reply.text).toBe('Echo: What colour is this? [image received]');
    expect(reply.id).toMatch(/^resp_/);
    const sent = upstreamResponsesRequests(stack).at(-1)!.body as Json;
    expect(sent.input[0].content[1].image_url).toBe(`data:image/png;base64,${Buffer.from(PNG).toString('base64')}`);
  });

  test('image analysis streamed: delta events then done', async () => {
    const bodyPath = join(tmp, 'analysis-stream.json');
    writeFileSync(bodyPath, JSON.stringify({ prompt: 'Describe it', stream: true, image_url: `data:image/png;base64,${Buffer.from(PNG).toString('base64')}` }));
    const out = await curl(['-N', '-X', 'POST', `${stack.baseUrl}/codex/image-analysis`, '-H', `authorization: Bearer ${plainKey}`, '-H', 'content-type: application/json', '--data-binary', `@${bodyPath}`]);
    expect(out.code).toBe(0);
    const events = out.stdout.split('\n\n').filter((b) => b.startsWith('event:')).map((b) => JSON.parse(/^data: (.+)$/m.exec(b)![1]!) as Json);
    expect(events.at(-1)!.type).toBe('done');
    expect(events.filter((e) => e.type === 'delta').map((e) => e.text).join('')).toBe(events.at(-1)!.text);
    expect(events.at(-1)!.text).toBe('Echo: Describe it [image received]');
  });

  test('image upload to ChatGPT with -F: asset pointer back, bytes stored here and upstream', async () => {
    const pngPath = join(tmp, 'green.png');
    writeFileSync(pngPath, PNG);
    const out = await curl(['-X', 'POST', `${stack.baseUrl}/codex/images`, '-H', `authorization: Bearer ${advancedKey}`, '-F', `file=@${pngPath};type=image/png`]);
    expect(out.code).toBe(0);
    const reply = JSON.parse(out.stdout) as Json;
    expect(reply.asset_pointer).toMatch(/^sediment:\/\/file_[0-9a-f]{32}$/);
    expect(reply.filename).toBe('green.png');
    const upstream = await fetch(`${stack.simUrl}/download/${reply.upstream_file_id}`);
    expect(new Uint8Array(await upstream.arrayBuffer())).toEqual(new Uint8Array(PNG));
    const local = await client.files.content(reply.id);
    expect(new Uint8Array(await local.arrayBuffer())).toEqual(new Uint8Array(PNG));
  });

  test('upload with a plain key → 403 advanced_access_required', async () => {
    const pngPath = join(tmp, 'green.png');
    writeFileSync(pngPath, PNG);
    const out = await curl(['-X', 'POST', `${stack.baseUrl}/codex/images`, '-H', `authorization: Bearer ${plainKey}`, '-F', `file=@${pngPath};type=image/png`, '-w', '\n%{http_code}']);
    const [body, status] = out.stdout.split('\n');
    expect(status).toBe('403');
    expect((JSON.parse(body!) as Json).error.code).toBe('advanced_access_required');
  });
});
