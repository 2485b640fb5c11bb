/** Recorded traffic the tests use lives in test/fixtures/ (provenance and licences in its README). */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixturePath(relative: string): string {
  const path = ROOT + relative;
  if (!existsSync(path)) throw new Error(`fixture ${relative} not found at ${path}: add it to test/fixtures/ with its provenance`);
  return path;
}

export function readFixtureJson<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(fixturePath(relative), 'utf8')) as T;
}

/** A recorded Responses stream: one event JSON per line. */
export function readEventLines(relative: string): Record<string, unknown>[] {
  return readFileSync(fixturePath(relative), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
