/**
 * POST /v1/audio/transcriptions: OpenAI's transcription API over the upstream's
 * speech-to-text (ChatGPT `/transcribe`, or an OpenAI-compatible
 * `/audio/transcriptions`). The upstream returns text only; every
 * response_format is built here (translate/transcript.ts).
 */
import { Elysia, t } from 'elysia';
import { ApiError, badRequest, quote } from '../openai/api-error';
import { ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import { listField, multipartParser, textField } from '../http/multipart-body';
import { requestIdPlugin } from '../http/request-id';
import type { authPlugin } from '../http/auth';
import type { KeyStore } from '../store/keys';
import type { AssetsUpstream } from '../upstream/types';
import { detectMime } from '../service/files';
import { wavDurationSeconds } from '../service/wav';
import { unaryCall, type UnaryCallDeps } from '../call/unary-call';
import { formatTranscript, TRANSCRIPT_FORMATS, type TranscriptFormat } from '../translate/transcript';
import { MULTIPART_OVERHEAD_BYTES } from './files';

/** The upstream transcription limit (research §5.2: about 25 MB). */
export const MAX_AUDIO_BYTES = 25 * 1024 * 1024;
export const DEFAULT_TRANSCRIPTION_MODEL = 'gpt-4o-transcribe';

// The containers OpenAI's transcription API accepts, by extension.
const AUDIO_EXTENSIONS = new Set(['flac', 'mp3', 'mp4', 'mpeg', 'mpga', 'm4a', 'ogg', 'oga', 'opus', 'wav', 'webm']);

export interface AudioRouteDeps extends UnaryCallDeps {
  assets: AssetsUpstream;
  keys: KeyStore;
}

const TranscriptionBodySchema = t.Object(
  {
    file: t.File({ description: 'Audio: flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm; at most 25 MB' }),
    model: t.Optional(t.String({ description: `Echoed for compatibility (default ${DEFAULT_TRANSCRIPTION_MODEL}); the ChatGPT upstream has one model` })),
    language: t.Optional(t.String({ description: 'ISO-639-1 code, e.g. en' })),
    prompt: t.Optional(t.String()),
    response_format: t.Optional(t.String({ description: 'json (default) | text | srt | vtt | verbose_json' })),
    temperature: t.Optional(t.String({ description: 'Accepted and ignored' })),
    timestamp_granularities: t.Optional(t.Union([t.String(), t.Array(t.String())], { description: 'word and/or segment (verbose_json only); also sent as timestamp_granularities[]' })),
  },
  { additionalProperties: true, example: { model: 'gpt-4o-transcribe', language: 'en', response_format: 'json' } },
);

const TranscriptionSchema = t.Object(
  {
    text: t.String(),
    task: t.Optional(t.String()),
    language: t.Optional(t.String()),
    duration: t.Optional(t.Number()),
    segments: t.Optional(t.Array(t.Object({}, { additionalProperties: true }))),
    words: t.Optional(t.Array(t.Object({ word: t.String(), start: t.Number(), end: t.Number() }))),
  },
  { additionalProperties: true, description: 'json / verbose_json; text, srt and vtt come as text/plain' },
);

function isAudio(filename: string, mime: string): boolean {
  const ext = filename.includes('.') ? filename.split('.').pop()!.toLowerCase() : '';
  if (AUDIO_EXTENSIONS.has(ext)) return true;
  return mime.startsWith('audio/') || mime.startsWith('video/');
}

function formatOf(value: string | undefined): TranscriptFormat {
  const format = value ?? 'json';
  if ((TRANSCRIPT_FORMATS as readonly string[]).includes(format)) return format as TranscriptFormat;
  throw badRequest(
    `response_format '${format}' is not supported here; use one of ${TRANSCRIPT_FORMATS.join(', ')}${format === 'diarized_json' ? ' (the upstream does not identify speakers)' : ''}.`,
    'response_format',
    'unsupported_response_format',
  );
}

/** Fields the ChatGPT transcription service has no counterpart for: accepted, dropped, named. */
function ignoredTranscriptionParams(body: Parameters<typeof textField>[0]): string[] {
  const ignored = ['temperature', 'chunking_strategy'].filter((name) => (textField(body, name) ?? '') !== '');
  for (const name of ['include', 'known_speaker_names', 'known_speaker_references']) if (listField(body, name).length > 0) ignored.push(name);
  return ignored;
}

function granularitiesOf(values: string[], format: TranscriptFormat): string[] {
  for (const g of values) {
    if (g !== 'word' && g !== 'segment') throw badRequest(`timestamp_granularities may contain 'word' and 'segment', not '${g}'.`, 'timestamp_granularities', 'invalid_value');
  }
  if (values.length && format !== 'verbose_json') {
    throw badRequest("timestamp_granularities needs response_format 'verbose_json'.", 'timestamp_granularities', 'invalid_value');
  }
  return values;
}

export function audioRoutes(auth: ReturnType<typeof authPlugin>, deps: AudioRouteDeps) {
  return new Elysia({ name: 'codexin.routes.audio', detail: { tags: ['Audio'] } })
    .use(requestIdPlugin)
    .use(auth)
    .post(
      '/v1/audio/transcriptions',
      async ({ body, apiKey, request, requestId, trace }) => {
        const file = body.file;
        const format = formatOf(textField(body, 'response_format'));
        const granularities = granularitiesOf(listField(body, 'timestamp_granularities'), format);
        if (textField(body, 'stream') === 'true') throw badRequest('Streaming transcription is not supported; omit stream.', 'stream', 'unsupported_parameter');
        if (file.size > MAX_AUDIO_BYTES) {
          throw new ApiError(413, 'invalid_request_error', `The audio file is ${file.size} bytes; the limit is ${MAX_AUDIO_BYTES} bytes (25 MB).`, { param: 'file', code: 'file_too_large' });
        }
        if (file.size === 0) throw badRequest('The audio file is empty.', 'file', 'empty_file');
        const bytes = new Uint8Array(await file.arrayBuffer());
        const filename = file.name || 'audio.wav';
        const mime = detectMime(filename, bytes, file.type);
        if (!isAudio(filename, mime)) {
          throw badRequest(`The file "${quote(filename)}" (${quote(mime, 100)}) is not audio; send flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm.`, 'file', 'invalid_file_format');
        }
        const model = textField(body, 'model') || DEFAULT_TRANSCRIPTION_MODEL;
        const language = textField(body, 'language') || undefined;
        const transcript = await unaryCall(deps, { key: apiKey, route: '/v1/audio/transcriptions', model, trace }, () =>
          deps.assets.transcribe(
            { bytes, filename, mime, model, language, prompt: textField(body, 'prompt') || undefined },
            { signal: request.signal, keyId: apiKey.id, requestId },
          ),
        );
        const formatted = formatTranscript(transcript.text, format, { duration: wavDurationSeconds(bytes), language: language ?? null, granularities });
        const headers: Record<string, string> = { 'content-type': formatted.contentType, 'x-request-id': requestId };
        const ignored = ignoredTranscriptionParams(body);
        if (ignored.length) headers['x-codexin-ignored-params'] = ignored.join(', ');
        return new Response(formatted.body, { headers });
      },
      {
        auth: 'advanced',
        parse: [
          multipartParser({
            maxBytes: MAX_AUDIO_BYTES + MULTIPART_OVERHEAD_BYTES,
            requiredFiles: ['file'],
            requirement: 'advanced',
          }),
          'formdata',
        ],
        body: TranscriptionBodySchema,
        response: { 200: TranscriptionSchema, 400: ErrorEnvelopeSchema, 413: ErrorEnvelopeSchema, 415: ErrorEnvelopeSchema, 501: ErrorEnvelopeSchema, 502: ErrorEnvelopeSchema, 503: ErrorEnvelopeSchema, ...authErrorResponses },
        detail: {
          summary: 'Transcribe audio',
          description:
            'OpenAI-compatible speech-to-text. `text`, `srt` and `vtt` are returned as text/plain. The upstream gives text only: srt/vtt are one cue spanning the audio, verbose_json has one segment, and `words` (with `timestamp_granularities[]=word`) are spread evenly over the duration. The duration is read from a WAV header; for other containers it is estimated from the text. Streaming and `diarized_json` are not supported (400).',
        },
      },
    );
}
