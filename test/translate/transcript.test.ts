/** Transcript formatting (srt/vtt clocks, verbose_json, word timings) and WAV duration parsing. */
import { describe, expect, test } from 'bun:test';
import { estimatedDuration, formatTranscript, toSrt, toVtt, wordTimings } from '../../src/translate/transcript';
import { wavDurationSeconds } from '../../src/service/wav';
import { makeWav } from '../support/media';

describe('subtitles', () => {
  test('clocks past an hour, with milliseconds', () => {
    expect(toSrt(' hi ', 3723.456)).toBe('1\n00:00:00,000 --> 01:02:03,456\nhi\n\n');
    expect(toVtt('hi', 59.9996)).toBe('WEBVTT\n\n00:00:00.000 --> 00:01:00.000\nhi\n\n');
  });
});

describe('formatTranscript', () => {
  const meta = { duration: 4, language: 'fr', granularities: [] as string[] };
  test('json carries usage only when the duration was measured', () => {
    expect(JSON.parse(formatTranscript('bonjour', 'json', meta).body)).toEqual({ text: 'bonjour', usage: { type: 'duration', seconds: 4 } });
    expect(JSON.parse(formatTranscript('bonjour', 'json', { ...meta, duration: null }).body)).toEqual({ text: 'bonjour' });
  });
  test('verbose_json without a known language says unknown; duration estimated from the words', () => {
    const body = JSON.parse(formatTranscript('one two three four five', 'verbose_json', { duration: null, language: null, granularities: ['word'] }).body);
    expect(body.language).toBe('unknown');
    expect(body.duration).toBe(2);
    expect(body.words).toHaveLength(5);
  });
  test('estimated duration is never below one second', () => {
    expect(estimatedDuration('')).toBe(1);
    expect(estimatedDuration('a b c d e f g h i j')).toBe(4);
  });
  test('word timings drop punctuation and split time by word length', () => {
    expect(wordTimings('Hi, there!', 1)).toEqual([
      { word: 'Hi', start: 0, end: 0.286 },
      { word: 'there', start: 0.286, end: 1 },
    ]);
  });
});

describe('wavDurationSeconds', () => {
  test('reads the header of generated PCM', () => {
    expect(wavDurationSeconds(makeWav(1))).toBe(1);
    expect(wavDurationSeconds(makeWav(0.5, 8000))).toBe(0.5);
    expect(wavDurationSeconds(makeWav(2, 44_100))).toBe(2);
  });
  test('a streaming writer with no data size: counts the bytes present', () => {
    const wav = makeWav(1);
    new DataView(wav.buffer).setUint32(40, 0xffffffff, true);
    expect(wavDurationSeconds(wav)).toBe(1);
  });
  test('not a WAV → null', () => {
    expect(wavDurationSeconds(new TextEncoder().encode('ID3 mp3 data here'))).toBeNull();
    expect(wavDurationSeconds(new Uint8Array(4))).toBeNull();
  });
});
