/** Recorded traffic lives in the steering repo's shared/fixtures, beside this repo (CI clones it there). */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));

export function fixturePath(relative: string): string {
  const path = ROOT + relative;
  if (!existsSync(path)) throw new Error(`fixture ${relative} not found at ${path}: the shared/ folder must sit beside the repository`);
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
