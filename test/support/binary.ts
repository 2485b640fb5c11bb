/**
 * Helpers for tests that drive CodexIn as a process: the compiled binary
 * (`dist/codexin`, built by `make build`) or the source entry point under Bun.
 *
 * - `binaryPath()` / `binaryCommand()` / `sourceCommand()`: what to execute.
 * - `runCli(args, opts)`: run one command to completion → `{ code, stdout, stderr }`.
 * - `startServer(opts)`: start `serve` on a random loopback port with a fresh data dir,
 *   learn its URL and first-run admin key from stdout, and get a `stop()` that sends
 *   SIGTERM and waits for the exit.
 * - `makeTempDir()` / `removeTempDirs()` / `stopAllServers()`: isolation and cleanup.
 *
 * Child processes get a sanitized environment by default: the test runner's env minus
 * every CODEXIN_* variable (so a developer's own settings never leak into a test), with
 * `env` layered on top. Pass `inheritEnv: false` to give the child exactly `env`.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Subprocess } from 'bun';

export const REPO_ROOT = resolve(import.meta.dir, '..', '..');
export const BINARY_PATH = join(REPO_ROOT, 'dist', 'codexin');
export const BUN_PATH = join(REPO_ROOT, 'node_modules', '.bin', 'bun');

/** The compiled binary; throws a message saying how to build it when it is missing. */
export function binaryPath(): string {
  if (!existsSync(BINARY_PATH) || !statSync(BINARY_PATH).isFile()) {
    throw new Error(`compiled binary not found at ${BINARY_PATH}: run "make build" first (the e2e and CLI tests drive dist/codexin)`);
  }
  return BINARY_PATH;
}

/** The command prefix that runs the compiled binary. */
export function binaryCommand(path: string = binaryPath()): string[] {
  return [path];
}

/** The command prefix that runs the CLI from source with the repo's pinned Bun. */
export function sourceCommand(): string[] {
  return [BUN_PATH, join(REPO_ROOT, 'src', 'main.ts')];
}

// ---------------------------------------------------------------------------
// Temp dirs

const tempDirs = new Set<string>();

/** A fresh, empty directory under the OS temp dir (never under the repo); removed by removeTempDirs(). */
export function makeTempDir(label = 'tmp'): string {
  const dir = mkdtempSync(join(tmpdir(), `codexin-test-${label.replace(/[^\w-]/g, '_')}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs) {
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

// ---------------------------------------------------------------------------
// Environment

export type EnvVars = Record<string, string | undefined>;

export interface ProcessOptions {
  /** Variables for the child; `undefined` removes a variable. */
  env?: EnvVars;
  /** Default true: start from the runner's env without CODEXIN_* variables. False: exactly `env`. */
  inheritEnv?: boolean;
  /** Working directory of the child (default: the repo root). */
  cwd?: string;
  /** Executable + leading args (default: the compiled binary). */
  command?: string[];
}

export function childEnv(options: Pick<ProcessOptions, 'env' | 'inheritEnv'> = {}): Record<string, string> {
  const base: EnvVars = options.inheritEnv === false ? {} : { ...process.env };
  if (options.inheritEnv !== false) {
    for (const name of Object.keys(base)) if (name.startsWith('CODEXIN_')) delete base[name];
  }
  const merged: EnvVars = { ...base, ...(options.env ?? {}) };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(merged)) if (value !== undefined) out[name] = value;
  return out;
}

// ---------------------------------------------------------------------------
// Live children: killed if a test file ends (or the runner exits) without stopping them.

const liveChildren = new Set<Subprocess>();

process.once('exit', () => {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function track(child: Subprocess): void {
  liveChildren.add(child);
  void child.exited.then(
    () => liveChildren.delete(child),
    () => liveChildren.delete(child),
  );
}

/** Drains a pipe into a growing string, calling `onData` after each chunk. */
function drain(stream: ReadableStream<Uint8Array>, sink: { text: string }, onData: () => void): Promise<void> {
  const decoder = new TextDecoder();
  return (async () => {
    try {
      for await (const chunk of stream) {
        sink.text += decoder.decode(chunk, { stream: true });
        onData();
      }
      sink.text += decoder.decode();
    } catch {
      // the pipe closes when the child dies; what was read stays in sink
    }
    onData();
  })();
}

function signalName(signal: string | number | null | undefined): string | null {
  return signal === null || signal === undefined ? null : String(signal);
}

function describeOutput(stdout: string, stderr: string): string {
  const clip = (s: string) => (s.length > 4000 ? s.slice(0, 2000) + '\n…\n' + s.slice(-2000) : s);
  return `--- stdout ---\n${clip(stdout) || '(empty)'}\n--- stderr ---\n${clip(stderr) || '(empty)'}`;
}

// ---------------------------------------------------------------------------
// runCli

export interface RunResult {
  /** Exit code; 128 + signal number when the child died of a signal (as a shell reports it). */
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions extends ProcessOptions {
  /** Kill the child and fail after this long (default 20 s). */
  timeoutMs?: number;
  /** Text written to the child's stdin (default: no stdin). */
  stdin?: string;
}

/** Runs one command to completion. Fails (after killing the child) when it outlives the timeout. */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<RunResult> {
  const cmd = [...(options.command ?? binaryCommand()), ...args];
  const child = Bun.spawn({
    cmd,
    cwd: options.cwd ?? REPO_ROOT,
    env: childEnv(options),
    stdin: options.stdin === undefined ? 'ignore' : new TextEncoder().encode(options.stdin),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  track(child);
  const out = { text: '' };
  const err = { text: '' };
  const pipes = Promise.all([drain(child.stdout, out, () => {}), drain(child.stderr, err, () => {})]);
  const timeoutMs = options.timeoutMs ?? 20_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  // (child.exited resolves to the exit code, or 128 + signal number)
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await child.exited;
    await pipes;
    throw new Error(`"${cmd.join(' ')}" did not exit within ${timeoutMs} ms (killed)\n${describeOutput(out.text, err.text)}`);
  }
  await pipes;
  return { code: outcome, signal: signalName(child.signalCode), stdout: out.text, stderr: err.text };
}

// ---------------------------------------------------------------------------
// startServer

export interface StartServerOptions extends ProcessOptions {
  /**
   * Extra arguments appended after the defaults
   * `serve --port 0 --host 127.0.0.1 --data-dir <dataDir>` (a repeated flag's last value wins).
   */
  args?: string[];
  /** Exact arguments (no defaults added); the data dir is then whatever they say. */
  rawArgs?: string[];
  /** Data dir for the default args (default: a fresh temp dir). Reuse one to restart on the same data. */
  dataDir?: string;
  /** Fail (after killing the child) when the listening line has not appeared by then (default 15 s). */
  startTimeoutMs?: number;
}

export interface StopResult {
  /** Exit code, or null when the process died of a signal. */
  code: number | null;
  signal: string | null;
  /** Time from SIGTERM to exit. */
  ms: number;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:43117 (no trailing slash) */
  url: string;
  port: number;
  /** The version printed in the listening line. */
  version: string;
  /** The first-run admin key, or null when this start printed none. */
  adminKey: string | null;
  /** The data dir passed by the default args (undefined with rawArgs). */
  dataDir: string | undefined;
  pid: number;
  /** Sends SIGTERM (once) and waits for exit; SIGKILLs and throws after `timeoutMs` (default 15 s). */
  stop(timeoutMs?: number): Promise<StopResult>;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code when the process ends for any reason. */
  exited: Promise<number>;
}

// A whole line (up to its newline), so a line split across pipe reads is never half-parsed.
const LISTENING_LINE = /^CodexIn (\S+) listening on (https?:\/\/\S+?):(\d+) \(.*\)\r?\n/m;
const ADMIN_KEY_LINE = /^\s*(ci_[A-Za-z0-9_-]{20,})\s*$/m;

const runningServers = new Set<RunningServer>();

/** Starts `serve` and resolves once it prints its listening line. */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const dataDir = options.rawArgs ? undefined : (options.dataDir ?? makeTempDir('data'));
  const args = options.rawArgs ?? ['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir!, ...(options.args ?? [])];
  const cmd = [...(options.command ?? binaryCommand()), ...args];
  const child = Bun.spawn({
    cmd,
    cwd: options.cwd ?? REPO_ROOT,
    env: childEnv(options),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  track(child);
  const out = { text: '' };
  const err = { text: '' };

  let onOutput: () => void = () => {};
  const pipes = Promise.all([drain(child.stdout, out, () => onOutput()), drain(child.stderr, err, () => onOutput())]);
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;

  let listening: RegExpExecArray;
  try {
    listening = await new Promise<RegExpExecArray>((resolveListening, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`"${cmd.join(' ')}" printed no listening line within ${startTimeoutMs} ms\n${describeOutput(out.text, err.text)}`)),
        startTimeoutMs,
      );
      onOutput = () => {
        const m = LISTENING_LINE.exec(out.text);
        if (m) {
          clearTimeout(timer);
          resolveListening(m);
        }
      };
      onOutput();
      void child.exited.then(async (code) => {
        await pipes;
        const m = LISTENING_LINE.exec(out.text);
        if (m) return; // resolved already through onOutput
        clearTimeout(timer);
        reject(new Error(`"${cmd.join(' ')}" exited with code ${code} before listening\n${describeOutput(out.text, err.text)}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await child.exited;
    throw error;
  }
  onOutput = () => {};

  const [, version, base, portText] = listening;
  const beforeListening = out.text.slice(0, listening.index);
  const adminKey = ADMIN_KEY_LINE.exec(beforeListening)?.[1] ?? null;

  let stopping: Promise<StopResult> | null = null;
  const server: RunningServer = {
    url: `${base}:${portText}`,
    port: Number(portText),
    version: version!,
    adminKey,
    dataDir,
    pid: child.pid,
    exited: child.exited,
    stdout: () => out.text,
    stderr: () => err.text,
    stop(timeoutMs = 15_000): Promise<StopResult> {
      stopping ??= (async (): Promise<StopResult> => {
        const started = performance.now();
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        let timer: ReturnType<typeof setTimeout> | undefined;
        const outcome = await Promise.race([
          child.exited,
          new Promise<'timeout'>((r) => {
            timer = setTimeout(() => r('timeout'), timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        runningServers.delete(server);
        if (outcome === 'timeout') {
          child.kill('SIGKILL');
          await child.exited;
          await pipes;
          throw new Error(`server pid ${child.pid} did not exit within ${timeoutMs} ms of SIGTERM (killed)\n${describeOutput(out.text, err.text)}`);
        }
        await pipes;
        return { code: child.exitCode, signal: signalName(child.signalCode), ms: performance.now() - started };
      })();
      return stopping;
    },
  };
  runningServers.add(server);
  return server;
}

/** Stops every server still running (for afterEach/afterAll); never throws. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...runningServers].map((s) => s.stop().catch(() => undefined)));
}

// ---------------------------------------------------------------------------
// Small HTTP helpers

/** Authorization header for a key. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}
