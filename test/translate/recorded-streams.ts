/**
 * Test support: the recorded real Responses streams in test/fixtures/openai-responses-streams
 * (one event JSON per line; provenance in test/fixtures/README.md), and small async helpers.
 */

import type { ResponseStreamEvent } from '../../src/openai/responses-types';
import { fixturePath } from '../support/fixtures';

/** All events of a fixture file, in order. */
export async function recordedEvents(name: string): Promise<ResponseStreamEvent[]> {
  const text = await Bun.file(fixturePath(`openai-responses-streams/${name}`)).text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ResponseStreamEvent);
}

/** Some fixtures hold several responses back to back: split them at each `response.created`. */
export async function recordedResponses(name: string): Promise<ResponseStreamEvent[][]> {
  const streams: ResponseStreamEvent[][] = [];
  for (const event of await recordedEvents(name)) {
    if (event.type === 'response.created' || streams.length === 0) streams.push([]);
    streams[streams.length - 1].push(event);
  }
  return streams;
}

export async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
