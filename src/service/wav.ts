/**
 * Audio duration from a RIFF/WAVE header: the transcription upstream returns only
 * text, so subtitle timings (srt/vtt) and verbose_json's `duration` come from the
 * file itself. Other containers (mp3, webm, ...) would need a demuxer: for them the
 * caller estimates from the text.
 */

/** Seconds of audio in a WAV file, or null when the bytes are not a readable WAV. */
export function wavDurationSeconds(bytes: Uint8Array): number | null {
  if (bytes.length < 12) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  let byteRate = 0;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    // fmt chunk: format(2) channels(2) sampleRate(4) byteRate(4) ...
    if (id === 'fmt ' && at + 16 <= bytes.length) byteRate = view.getUint32(at + 16, true);
    if (id === 'data') {
      if (byteRate === 0) return null;
      // Streaming writers leave the size unset (0 or 0xFFFFFFFF): count what is actually there.
      const available = bytes.length - (at + 8);
      const dataBytes = size === 0 || size > available ? available : size;
      return dataBytes / byteRate;
    }
    at += 8 + size + (size % 2);
  }
  return null;
}
