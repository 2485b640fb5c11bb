/**
 * `POST /backend-api/transcribe` (protocol §5.2). The transcript is derived from
 * the audio's size so tests can assert it exactly.
 */
import { authenticate, unauthorized } from './backend';
import { detail, json, type Ctx } from './http';
import { httpErrorResponse } from './scenarios';
import type { SimState } from './state';

/** Duration in seconds of a RIFF/WAVE file, or null when the bytes are not one. */
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
    if (id === 'fmt ' && at + 16 <= bytes.length) byteRate = view.getUint32(at + 16, true);
    if (id === 'data') {
      if (byteRate === 0) return null;
      // Streaming writers leave the size unset (0 or 0xFFFFFFFF): use what is actually there.
      const available = bytes.length - (at + 8);
      const dataBytes = size === 0 || size > available ? available : size;
      return dataBytes / byteRate;
    }
    at += 8 + size + (size % 2);
  }
  return null;
}

export async function transcribe(state: SimState, ctx: Ctx): Promise<Response> {
  if (!authenticate(state, ctx)) return unauthorized();
  const scripted = state.transcribeQueue.shift();
  if (scripted) return httpErrorResponse(scripted);

  let form: Awaited<ReturnType<Response['formData']>> | null = null;
  try {
    form = await new Response(ctx.bytes, { headers: { 'content-type': ctx.req.headers.get('content-type') ?? '' } }).formData();
  } catch {
    form = null;
  }
  const file = form?.get('file');
  if (!file || typeof file === 'string') return detail(400, 'file is required');
  const bytes = new Uint8Array(await file.arrayBuffer());
  const seconds = wavDurationSeconds(bytes);
  const text = seconds !== null ? `Simulated transcript of ${seconds.toFixed(1)}s of audio` : `Simulated transcript of ${bytes.length} bytes`;
  return json({ text });
}
