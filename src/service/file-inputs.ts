/**
 * Resolves our file ids inside a Responses input before it goes upstream: the
 * ChatGPT backend cannot see files stored here, so each reference is inlined.
 *
 * - `{type:"input_file", file_id}`  → `{type:"input_file", filename, file_data:"data:<mime>;base64,..."}`
 * - `{type:"input_image", file_id}` → `{type:"input_image", image_url:"data:<image mime>;base64,..."}`
 *
 * Only ids this server issues (`file-...`) are resolved, and only the caller's own
 * files: anything else is a 404. Other ids (e.g. the ChatGPT file service's
 * `file_...`) pass through untouched for the upstream to judge.
 */
import { ApiError, quote } from '../openai/api-error';
import { sniffMime } from '../openai/image-input';
import type { ContentPart, ResponseItem, ResponsesRequest } from '../openai/responses-types';
import type { Awaitable } from '../store/awaitable';
import type { FileRecord } from '../store/files';

export interface FileInputSource {
  find(keyId: string, id: string): Awaitable<{ record: FileRecord; bytes: Uint8Array } | null>;
}

const OUR_ID = /^file-[A-Za-z0-9_-]+$/;

function dataUrl(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

async function resolvePart(part: ContentPart, at: string, keyId: string, source: FileInputSource): Promise<ContentPart> {
  if (part.type !== 'input_file' && part.type !== 'input_image') return part;
  if (typeof part.file_id !== 'string' || !OUR_ID.test(part.file_id)) return part;
  const found = await source.find(keyId, part.file_id);
  if (!found) {
    throw new ApiError(404, 'invalid_request_error', `No such File object: ${quote(part.file_id)}. It does not exist, has expired, or belongs to another API key.`, {
      param: `${at}.file_id`,
      code: 'file_not_found',
    });
  }
  const { file_id: _id, ...rest } = part;
  if (part.type === 'input_file') {
    return { ...rest, filename: typeof part.filename === 'string' && part.filename ? part.filename : found.record.filename, file_data: dataUrl(found.record.mime, found.bytes) };
  }
  // The bytes decide the image type: a PNG uploaded as application/octet-stream is still a PNG.
  const mime = sniffMime(found.bytes.subarray(0, 16));
  if (!mime) {
    throw new ApiError(400, 'invalid_request_error', `${at}.file_id (${part.file_id}) is not a PNG, JPEG, GIF or WebP image; send it as input_file instead.`, {
      param: `${at}.file_id`,
      code: 'invalid_image_format',
    });
  }
  return { ...rest, image_url: dataUrl(mime, found.bytes) };
}

async function resolveParts(parts: unknown, at: string, keyId: string, source: FileInputSource): Promise<unknown> {
  if (!Array.isArray(parts)) return parts;
  let changed = false;
  const out: unknown[] = [];
  // One part after another: the first missing file is the one the error names, as before.
  for (const [j, part] of parts.entries()) {
    if (!part || typeof part !== 'object') {
      out.push(part);
      continue;
    }
    const resolved = await resolvePart(part as ContentPart, `${at}[${j}]`, keyId, source);
    if (resolved !== part) changed = true;
    out.push(resolved);
  }
  return changed ? out : parts;
}

/** The request with every file reference of ours inlined; the same object when there is none. */
export async function resolveFileInputs(source: FileInputSource | undefined, request: ResponsesRequest, keyId: string): Promise<ResponsesRequest> {
  if (!source || !Array.isArray(request.input)) return request;
  let changed = false;
  const input: ResponseItem[] = [];
  for (const [i, item] of request.input.entries()) {
    if (!item || typeof item !== 'object') {
      input.push(item);
      continue;
    }
    const content = await resolveParts(item.content, `input[${i}].content`, keyId, source);
    // Tool outputs may carry files and images too (function_call_output with content parts).
    const output = await resolveParts(item.output, `input[${i}].output`, keyId, source);
    if (content === item.content && output === item.output) {
      input.push(item);
      continue;
    }
    changed = true;
    const copy: ResponseItem = { ...item };
    if (content !== item.content) copy.content = content as ResponseItem['content'];
    if (output !== item.output) copy.output = output;
    input.push(copy);
  }
  return changed ? { ...request, input } : request;
}
