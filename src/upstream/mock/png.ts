/**
 * A valid 1x1 RGBA PNG (chunk CRCs checked), small enough to inline as the result
 * of every simulated image generation.
 */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

export function mockPngBase64(): string {
  return PNG_BASE64;
}

export function mockPng(): Uint8Array {
  return new Uint8Array(Buffer.from(PNG_BASE64, 'base64'));
}
