/**
 * The three-step file upload (protocol §5.1): create → PUT to a blob URL →
 * confirm. The blob store (Azure upstream) is played by the simulator itself at
 * `/upload/<id>` and `/download/<id>`.
 */
import { randomBytes } from 'node:crypto';
import { authenticate, unauthorized } from './backend';
import { detail, isObject, json, type Ctx } from './http';
import { httpErrorResponse } from './scenarios';
import type { SimState } from './state';

const MAX_FILE_BYTES = 512 * 1024 * 1024;

interface StoredFile {
  id: string;
  name: string;
  declaredSize: number;
  useCase: string;
  bytes: Uint8Array | null;
  confirmCalls: number;
}

export class FileStore {
  readonly files = new Map<string, StoredFile>();
}

function mimeOf(name: string): string {
  // Bun.file only inspects the extension here; nothing is read from disk.
  return Bun.file(name).type.split(';')[0] || 'application/octet-stream';
}

/** Azure answers in XML; clients only look at the status, but the shape stays honest. */
function azureError(status: number, code: string, message: string): Response {
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  return new Response(body, { status, headers: { 'content-type': 'application/xml', 'x-ms-error-code': code } });
}

/** Auth, then the scripted failure queue: both apply to every /backend-api/files route. */
function guard(state: SimState, ctx: Ctx): Response | null {
  if (!authenticate(state, ctx)) return unauthorized();
  const scripted = state.filesQueue.shift();
  return scripted ? httpErrorResponse(scripted) : null;
}

export function createFile(state: SimState, ctx: Ctx): Response {
  const blocked = guard(state, ctx);
  if (blocked) return blocked;
  const body = isObject(ctx.json) ? ctx.json : {};
  if (typeof body.file_name !== 'string' || body.file_name === '') return detail(400, 'file_name is required');
  if (typeof body.file_size !== 'number' || !Number.isFinite(body.file_size) || body.file_size < 0) return detail(400, 'file_size is required');
  if (body.file_size > MAX_FILE_BYTES) return detail(400, 'File is too large');
  const id = `file_${randomBytes(16).toString('hex')}`;
  state.files.files.set(id, {
    id,
    name: body.file_name,
    declaredSize: body.file_size,
    useCase: typeof body.use_case === 'string' ? body.use_case : 'codex',
    bytes: null,
    confirmCalls: 0,
  });
  return json({ file_id: id, upload_url: `${ctx.origin}/upload/${id}` });
}

export function uploadBlob(state: SimState, ctx: Ctx): Response {
  const file = state.files.files.get(ctx.params[0]!);
  if (!file) return azureError(404, 'BlobNotFound', 'The specified blob does not exist.');
  if (ctx.req.headers.get('x-ms-blob-type') !== 'BlockBlob') {
    return azureError(400, 'MissingRequiredHeader', "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type.");
  }
  file.bytes = ctx.bytes;
  return new Response(null, { status: 201 });
}

export function confirmUpload(state: SimState, ctx: Ctx): Response {
  const blocked = guard(state, ctx);
  if (blocked) return blocked;
  const file = state.files.files.get(ctx.params[0]!);
  if (!file) return detail(404, 'File not found');
  file.confirmCalls += 1;
  // The first confirmation always finds the file still processing, so clients must poll.
  if (file.confirmCalls === 1) return json({ status: 'retry' });
  if (!file.bytes) return json({ status: 'failed', error_message: 'The file was never uploaded.' });
  return json({ status: 'success', download_url: `${ctx.origin}/download/${file.id}`, file_name: file.name, mime_type: mimeOf(file.name) });
}

export function downloadBlob(state: SimState, ctx: Ctx): Response {
  const file = state.files.files.get(ctx.params[0]!);
  if (!file?.bytes) return azureError(404, 'BlobNotFound', 'The specified blob does not exist.');
  return new Response(file.bytes, { headers: { 'content-type': mimeOf(file.name), 'content-length': String(file.bytes.length) } });
}
