/**
 * Transcript text → every OpenAI `response_format`. The upstream returns one
 * plain text with no timings, so subtitles are a single cue spanning the whole
 * audio, verbose_json has one segment, and word timings (when asked for) are
 * spread over the duration in proportion to each word's length: approximate,
 * and documented as such. Pure: no I/O.
 */

export const TRANSCRIPT_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

export interface TranscriptMeta {
  /** Seconds of audio, measured from the file; null when unknown. */
  duration: number | null;
  language: string | null;
  /** `timestamp_granularities` (verbose_json only). */
  granularities: string[];
}

export interface FormattedTranscript {
  contentType: string;
  body: string;
}

// Speech runs at about 150 words a minute: the fallback length of audio we could not measure.
const WORDS_PER_SECOND = 2.5;

export function estimatedDuration(text: string): number {
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.max(1, words / WORDS_PER_SECOND);
}

function clock(seconds: number, separator: ',' | '.'): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

export function toSrt(text: string, duration: number): string {
  return `1\n${clock(0, ',')} --> ${clock(duration, ',')}\n${text.trim()}\n\n`;
}

export function toVtt(text: string, duration: number): string {
  return `WEBVTT\n\n${clock(0, '.')} --> ${clock(duration, '.')}\n${text.trim()}\n\n`;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

export function wordTimings(text: string, duration: number): { word: string; start: number; end: number }[] {
  const words = text
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}']+|[^\p{L}\p{N}']+$/gu, ''))
    .filter(Boolean);
  const total = words.reduce((n, w) => n + w.length, 0);
  let at = 0;
  return words.map((word) => {
    const start = at;
    at += (word.length / total) * duration;
    return { word, start: round(start), end: round(at) };
  });
}

export function formatTranscript(text: string, format: TranscriptFormat, meta: TranscriptMeta): FormattedTranscript {
  const duration = meta.duration ?? estimatedDuration(text);
  const usage = meta.duration !== null ? { usage: { type: 'duration', seconds: Math.ceil(meta.duration) } } : {};
  switch (format) {
    case 'text':
      return { contentType: 'text/plain; charset=utf-8', body: text };
    case 'srt':
      return { contentType: 'text/plain; charset=utf-8', body: toSrt(text, duration) };
    case 'vtt':
      return { contentType: 'text/plain; charset=utf-8', body: toVtt(text, duration) };
    case 'json':
      return { contentType: 'application/json', body: JSON.stringify({ text, ...usage }) };
    case 'verbose_json': {
      const segment = {
        id: 0,
        seek: 0,
        start: 0,
        end: round(duration),
        text,
        tokens: [] as number[],
        temperature: 0,
        avg_logprob: 0,
        compression_ratio: 1,
        no_speech_prob: 0,
      };
      const body: Record<string, unknown> = { task: 'transcribe', language: meta.language ?? 'unknown', duration: round(duration), text, segments: [segment] };
      if (meta.granularities.includes('word')) body.words = wordTimings(text, duration);
      return { contentType: 'application/json', body: JSON.stringify({ ...body, ...usage }) };
    }
  }
}
