/**
 * The suite and the build read nothing outside the checkout: a clone in an empty
 * directory passes `make test`. Guards against a test (or a build step) pointing
 * back at the steering repository's shared/ folder or at an absolute machine path.
 */
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../support/binary';

const SELF = relative(REPO_ROOT, import.meta.path);
const OUTSIDE = [/\.\.\/shared\b/, /\bshared\/fixtures\b/, /\/work\//];

function trackedFiles(): string[] {
  const listed = Bun.spawnSync(['git', 'ls-files', '-z', 'test', 'bench', 'Makefile', '.ci', 'package.json', 'bunfig.toml', 'tsconfig.json'], { cwd: REPO_ROOT });
  if (listed.exitCode !== 0) throw new Error(`git ls-files failed: ${listed.stderr.toString()}`);
  return listed.stdout.toString().split('\0').filter((f) => f && f !== SELF && !f.startsWith('test/fixtures/'));
}

test('no test, benchmark or build file refers to a path outside the repository', () => {
  const files = trackedFiles();
  expect(files.length).toBeGreaterThan(50);
  const offending: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    text.split('\n').forEach((line, i) => {
      if (OUTSIDE.some((pattern) => pattern.test(line))) offending.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  expect(offending).toEqual([]);
});

test('every fixture the helpers can read is in test/fixtures/ and listed in its README', () => {
  const readme = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'README.md'), 'utf8');
  const listed = Bun.spawnSync(['git', 'ls-files', 'test/fixtures'], { cwd: REPO_ROOT }).stdout.toString().split('\n').filter(Boolean);
  const data = listed.filter((f) => !f.endsWith('README.md'));
  expect(data.length).toBeGreaterThan(0);
  for (const file of data) expect({ file, documented: readme.includes(file.split('/').pop()!) }).toEqual({ file, documented: true });
});
