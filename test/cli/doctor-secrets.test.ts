/** `codexin doctor` on secrets at rest: the key opens the tokens, and the files are private. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createSimulator, type Simulator } from '../../src/upstream/mock';
import { makeTempDir, removeTempDirs, runCli } from '../support/binary';

let sim: Simulator;
let simUrl: string;
let stopSim: () => Promise<void>;

beforeAll(async () => {
  sim = createSimulator();
  const running = await sim.start();
  simUrl = running.url;
  stopSim = running.stop;
});
afterAll(async () => {
  await stopSim();
  removeTempDirs();
});

interface Report {
  healthy: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

async function doctor(dataDir: string, extra: string[] = [], env: Record<string, string> = {}) {
  const run = await runCli(['doctor', '--json', '--data-dir', dataDir, '--upstream-url', `${simUrl}/backend-api`, ...extra], { env });
  const report = JSON.parse(run.stdout) as Report;
  return { code: run.code, report, check: (name: string) => report.checks.find((c) => c.name === name)! };
}

async function withAccount(): Promise<string> {
  const dataDir = makeTempDir('doctor-secrets');
  const path = join(makeTempDir('auth'), 'auth.json');
  writeFileSync(path, JSON.stringify(sim.issueAccount().authJson));
  expect((await runCli(['accounts', 'import', path, '--data-dir', dataDir])).code).toBe(0);
  return dataDir;
}

test('a healthy data dir: the key opens the tokens and every file is private', async () => {
  const dataDir = await withAccount();
  const { code, check } = await doctor(dataDir);
  expect(code).toBe(0);
  expect(check('secret key')).toMatchObject({ ok: true });
  expect(check('secret key').detail).toMatch(new RegExp(`^${join(dataDir, 'secret.key')} \\(fingerprint [0-9a-f]{16}\\) opens the tokens of 1 account;`));
  expect(check('file modes')).toMatchObject({ ok: true });
});

test('a wrong key fails the key check and skips the accounts it cannot read', async () => {
  const dataDir = await withAccount();
  const { code, report, check } = await doctor(dataDir, [], { CODEXIN_SECRET_KEY: randomBytes(32).toString('hex') });
  expect(code).toBe(1);
  expect(check('secret key')).toMatchObject({ name: 'secret key', ok: false });
  expect(check('secret key').detail).toMatch(/^CODEXIN_SECRET_KEY: the secret key does not open the stored tokens \(wrong key\?\); stored accounts: acct_[\w-]+$/);
  expect(report.checks.some((c) => c.name.startsWith('account '))).toBe(false);
});

test('a key file readable by others fails with the chmod that fixes it; our own loose files are tightened and reported', async () => {
  const dataDir = await withAccount();
  const keyFile = join(makeTempDir('keys'), 'codexin.key');
  copyFileSync(join(dataDir, 'secret.key'), keyFile);
  chmodSync(keyFile, 0o644);
  const loose = await doctor(dataDir, ['--secret-key-file', keyFile]);
  expect(loose.code).toBe(1);
  expect(loose.check('secret key').ok).toBe(true);
  expect(loose.check('file modes')).toEqual({ name: 'file modes', ok: false, detail: `${keyFile} is 644 (want 600: chmod 600 ${keyFile})` });

  chmodSync(join(dataDir, 'codexin.db'), 0o644);
  const fixed = await doctor(dataDir);
  expect(fixed.code).toBe(0);
  expect(fixed.check('file modes').detail).toBe(`tightened now: ${join(dataDir, 'codexin.db')} is 644 (want 600: chmod 600 ${join(dataDir, 'codexin.db')})`);
});
