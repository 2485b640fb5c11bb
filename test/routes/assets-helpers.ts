/** Shared checks of the route tests: the OpenAI error envelope and what reached the simulator. */
import { expect } from 'bun:test';
import type { TestGateway } from '../support/gateway';
import type { RecordedRequest } from '../../src/upstream/mock';

export type Json = Record<string, any>;

/** Asserts an OpenAI error envelope with this status, type, code and param; returns the error object. */
export async function expectError(res: Response, status: number, code: string | null, param: string | null = null, type = 'invalid_request_error'): Promise<Json> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = JSON.parse(text) as { error: Json };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.type).toBe(type);
  expect(body.error.code).toBe(code);
  expect(body.error.param).toBe(param);
  expect(String(body.error.message).length).toBeGreaterThan(10);
  return body.error;
}

export function upstreamCalls(gw: TestGateway, path: string, method = 'POST'): RecordedRequest[] {
  return gw.sim.requests.filter((r) => r.path === path && r.method === method);
}

/** JSON bodies of the Responses requests that reached the simulator. */
export function responsesBodies(gw: TestGateway): Json[] {
  return upstreamCalls(gw, '/backend-api/codex/responses').map((r) => r.body as Json);
}

export function dataUrl(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;
}

/** The id of the key most recently created by gw.key(). */
export function lastKeyId(gw: TestGateway): string {
  return gw.keys.list().at(-1)!.id;
}
