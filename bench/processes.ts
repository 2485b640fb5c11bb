/** Starting and stopping the processes under test, and reading what /proc says about them. */
import { openSync, closeSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Subprocess } from 'bun';

export const REPO = resolve(import.meta.dir, '..');
export const BINARY = resolve(REPO, 'dist', 'codexin');
/** The Bun running this script (the repo's pinned one under `make bench`). */
export const BUN = process.execPath;

const live = new Set<Subprocess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** The runner's environment without CODEXIN_* (a developer's settings must not leak in), plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !name.startsWith('CODEXIN_')) env[name] = value;
  return { ...env, ...extra };
}

export interface Running {
  pid: number;
  port: number;
  url: string;
  proc: Subprocess;
  stop(): Promise<void>;
}

/** Spawns `cmd`, waits for `ready` on stdout (its group 1 is the port), stderr to `logPath`. */
export async function startProcess(cmd: string[], opts: { ready: RegExp; logPath: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Running> {
  const logFd = openSync(opts.logPath, 'a');
  const proc = Bun.spawn({ cmd, cwd: REPO, env: cleanEnv(opts.env), stdin: 'ignore', stdout: 'pipe', stderr: logFd });
  closeSync(logFd);
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  const decoder = new TextDecoder();
  let out = '';
  const reader = proc.stdout.getReader();
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let port: number | null = null;
  while (port === null) {
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())));
    const chunk = await Promise.race([reader.read(), timer]);
    if (chunk === 'timeout' || chunk.done) {
      proc.kill('SIGKILL');
      throw new Error(`${cmd.join(' ')} did not become ready:\n${out}\n(see ${opts.logPath})`);
    }
    out += decoder.decode(chunk.value, { stream: true });
    const m = opts.ready.exec(out);
    if (m) port = Number(m[1]);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch {
      // the child went away
    }
  })();
  return {
    pid: proc.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await proc.exited;
      clearTimeout(t);
    },
  };
}

/** Runs a command to completion (with a time limit); returns its stdout. */
export async function run(cmd: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<string> {
  const proc = Bun.spawn({ cmd, cwd: REPO, env: cleanEnv(opts.env), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  live.add(proc);
  const t = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(t);
  live.delete(proc);
  if (code !== 0) throw new Error(`${cmd.join(' ')} exited ${code}: ${stderr}`);
  return stdout;
}

/** Runs a child that must finish within `timeoutMs`, its output shown as progress. */
export async function runVisible(cmd: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<void> {
  const proc = Bun.spawn({ cmd, cwd: REPO, env: cleanEnv(env), stdin: 'ignore', stdout: 'inherit', stderr: 'inherit' });
  live.add(proc);
  let timedOut = false;
  const t = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, timeoutMs);
  const code = await proc.exited;
  clearTimeout(t);
  live.delete(proc);
  if (timedOut) throw new Error(`${cmd.join(' ')} exceeded ${timeoutMs} ms (killed)`);
  if (code !== 0) throw new Error(`${cmd.join(' ')} exited ${code}`);
}

export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** A loopback port free right now (for the startup runs, which must know where to poll). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

export function softFdLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  if (!m) return 1024;
  return m[1] === 'unlimited' ? 1_048_576 : Number(m[1]);
}

export function hardFdLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  if (!m) return 1024;
  return m[2] === 'unlimited' ? 1_048_576 : Number(m[2]);
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memTotalGiB: number;
  bun: string;
  kernel: string;
}

export function machine(binaryBun: string): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const mem = /MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return {
    cores: navigator.hardwareConcurrency,
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memTotalGiB: mem ? Number(mem[1]) / 1024 / 1024 : NaN,
    bun: binaryBun,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  };
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
