/**
 * Real media made by the tests themselves: a PCM WAV with a proper RIFF header
 * (a sine wave), and multipart bodies as the SDKs build them.
 */

/** A mono 16-bit PCM WAV of a `hz` sine wave lasting `seconds` at `sampleRate`. */
export function makeWav(seconds = 1, sampleRate = 16_000, hz = 440): Uint8Array {
  const samples = Math.round(seconds * sampleRate);
  const dataBytes = samples * 2;
  const buf = new ArrayBuffer(44 + dataBytes);
  const view = new DataView(buf);
  const ascii = (at: number, s: string) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples; i++) view.setInt16(44 + i * 2, Math.round(Math.sin((2 * Math.PI * hz * i) / sampleRate) * 0x3fff), true);
  return new Uint8Array(buf);
}

/** A multipart body: Blob-like values become file parts, the rest text fields (arrays repeat the name). */
export function form(fields: Record<string, string | string[] | { bytes: Uint8Array | string; filename: string; type?: string }>): FormData {
  const fd = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') fd.append(name, value);
    else if (Array.isArray(value)) value.forEach((v) => fd.append(name, v));
    else fd.append(name, new Blob([value.bytes], value.type === undefined ? {} : { type: value.type }), value.filename);
  }
  return fd;
}
