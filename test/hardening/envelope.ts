/** The assertion every hostile-input test makes: this exact status, and the OpenAI error envelope. */
import { expect } from 'bun:test';

export interface ErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export async function expectError(res: Response, status: number, code: string | null, param?: string | null): Promise<ErrorBody> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text.slice(0, 300)}`);
  expect(res.headers.get('content-type') ?? '').toContain('application/json');
  const body = JSON.parse(text) as { error: ErrorBody };
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(5);
  expect(body.error.message.length).toBeLessThan(1200);
  expect(typeof body.error.type).toBe('string');
  expect(body.error.code).toBe(code);
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

/** A request body that records whether anyone pulled a byte from it. */
export function watchedBody(bytes: Uint8Array): { body: ReadableStream<Uint8Array>; pulled: () => boolean } {
  let pulled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled = true;
      controller.enqueue(bytes);
      controller.close();
    },
  }, { highWaterMark: 0 });
  return { body, pulled: () => pulled };
}
