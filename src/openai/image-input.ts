/**
 * Checks inline images before they travel upstream, so a bad image gets a clear
 * 400/413 from us instead of an opaque upstream failure half a megabyte later.
 */
import { ApiError } from './api-error';
import type { ResponseItem } from './responses-types';

export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const ACCEPTED_MIME = new Set(['image/png', 'image/jpeg', 'image/jpg', 'image/gif', 'image/webp']);

/** The image type the leading bytes announce (magic numbers), or null when they are no supported image. */
export function sniffMime(bytes: Uint8Array): string | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46) return 'image/gif';
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46 && bytes[8] === 0x57 && bytes[9] === 0x45) return 'image/webp';
  return null;
}

/** Validates one image URL; `param` names where it sits, for the error. */
export function validateImageUrl(url: string, param: string, maxBytes = MAX_IMAGE_BYTES): void {
  if (/^https?:\/\//i.test(url)) return;
  const m = /^data:([^;,]+)(;[^,]*)?,(.*)$/s.exec(url);
  if (!m) {
    throw new ApiError(400, 'invalid_request_error', `${param} must be a data URL (data:image/png;base64,...) or an http(s) URL.`, { param, code: 'invalid_image_url' });
  }
  const mime = m[1]!.toLowerCase();
  if (!ACCEPTED_MIME.has(mime)) {
    throw new ApiError(400, 'invalid_request_error', `${param} has media type "${mime}"; supported images are PNG, JPEG, GIF and WebP.`, { param, code: 'invalid_image_format' });
  }
  if (!(m[2] ?? '').includes('base64')) {
    throw new ApiError(400, 'invalid_request_error', `${param} must be base64-encoded (data:${mime};base64,...).`, { param, code: 'invalid_image_data' });
  }
  const data = m[3]!.replace(/\s+/g, '');
  if (data.length * 0.75 > maxBytes + 3) {
    throw new ApiError(413, 'invalid_request_error', `${param} is larger than the ${Math.round(maxBytes / 1048576)} MB image limit.`, { param, code: 'image_too_large' });
  }
  if (data.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(data) || data.length % 4 === 1) {
    throw new ApiError(400, 'invalid_request_error', `${param} is not valid base64 data.`, { param, code: 'invalid_image_data' });
  }
  const head = Buffer.from(data.slice(0, 64), 'base64');
  if (sniffMime(head) === null) {
    throw new ApiError(400, 'invalid_request_error', `${param} does not contain a PNG, JPEG, GIF or WebP image.`, { param, code: 'invalid_image_data' });
  }
}

function checkParts(parts: unknown, at: string): void {
  if (!Array.isArray(parts)) return;
  parts.forEach((part, j) => {
    if (part && typeof part === 'object' && (part as { type?: unknown }).type === 'input_image') {
      const url = (part as { image_url?: unknown }).image_url;
      if (typeof url === 'string') validateImageUrl(url, `${at}[${j}].image_url`);
    }
  });
}

/** Validates every inline image in a Responses input. */
export function validateInputImages(input: string | ResponseItem[] | undefined): void {
  if (!Array.isArray(input)) return;
  input.forEach((item, i) => {
    checkParts(item.content, `input[${i}].content`);
    checkParts(item.output, `input[${i}].output`);
  });
}
