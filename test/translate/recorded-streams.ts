/**
 * Test support: the recorded real Responses streams in /work/shared/fixtures (one event
 * JSON per line; read in place, never copied into the repo), and small async helpers.
 */

import type { ResponseStreamEvent } from '../../src/openai/responses-types';

/** All events of a fixture file, in order. */
export async function recordedEvents(name: string): Promise<ResponseStreamEvent[]> {
  const url = new URL(`../../../shared/fixtures/openai-responses-streams/${name}`, import.meta.url);
  const text = await Bun.file(url).text();
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
