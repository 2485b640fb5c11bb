/**
 * CPU profile of CodexIn under one benchmark load: `bun bench/profile.ts [non-stream|stream|chat] [seconds]`
 * (or `bun bench/profile.ts --summarize FILE.cpuprofile` for an existing profile), or what
 * open streams keep in memory: `bun bench/profile.ts memory [streams]` (heap probes, bench/memprobe.ts).
 *
 * Runs the server from source (`bun --cpu-prof src/main.ts serve`, so frames keep their
 * file names) in front of the bench upstream, drives it with bench/load.ts, stops it with
 * SIGTERM (the profile is written on exit), and prints where the time went: self and
 * total samples per function, and self samples per file. The .cpuprofile stays in a temp
 * dir (path printed) for Chrome DevTools.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { ClosedConfig, HoldConfig, HoldResult, Target } from './load';
import { BUN, REPO, run, runVisible, startProcess } from './processes';
import { startBenchUpstream } from './upstream';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const scenario = process.argv[2] ?? 'non-stream';
const seconds = Number(process.argv[3] ?? 15);
const work = mkdtempSync(join(tmpdir(), 'codexin-profile-'));
const source = [BUN, join(REPO, 'src', 'main.ts')];

function label(frame: CallFrame): string {
  const file = frame.url ? relative(REPO, frame.url.replace(/^file:\/\//, '')) : '(native)';
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

function fileOf(frame: CallFrame): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const path = relative(REPO, frame.url.replace(/^file:\/\//, ''));
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return nm ? `node_modules/${nm[1]}` : path;
}

export function summarizeProfile(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const files = new Map<string, number>();
  let all = 0;
  // Each sample stands for one sampling interval of JS-thread work. Weighting by timeDeltas
  // instead would charge idle gaps to whichever frame happens to be sampled next.
  profile.samples.forEach((id) => {
    const dt = 1;
    all += dt;
    const node = byId.get(id)!;
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + dt);
    files.set(fileOf(node.callFrame), (files.get(fileOf(node.callFrame)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!.callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + dt);
    }
  });
  const pct = (v: number) => `${((100 * v) / all).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${pct(v)}  ${k}`)
      .join('\n');
  return [`${all} samples (≈ ${(all / 1000).toFixed(1)} s of JS-thread work at the default 1 ms interval)`, '', '== self time by file/package ==', list(files), '', '== self time by function ==', list(self), '', '== total (inclusive) time by function ==', list(total)].join('\n');
}

/** What N open slow streams keep alive, from two heap probes bracketing them. */
async function memoryProfile(up: ReturnType<typeof startBenchUpstream>, pid: number, port: number, key: string, dir: string): Promise<void> {
  const streams = Number(process.argv[3] ?? 2000);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  up.sim.setDefault({ kind: 'text', text: 'Hello!', delayMs: 0 });
  for (let i = 0; i < 200; i++) await (await fetch(`http://127.0.0.1:${port}/v1/responses`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-5.5', input: 'hi' }) })).text();
  up.sim.setDefault({ kind: 'many_events', deltas: 600, intervalMs: 1000 });
  const target: Target = { name: 'codexin', host: '127.0.0.1', port, path: '/v1/responses', headers, body: JSON.stringify({ model: 'gpt-5.5', input: 'Say hello.', stream: true }), format: 'sse-responses' };
  const cfg: HoldConfig = { mode: 'hold', target, streams, batch: 500, openTimeoutSeconds: 30, holdSeconds: 10, rssPid: pid, trace: { host: up.host, port: up.port }, probe: true };
  writeFileSync(join(work, 'hold.json'), JSON.stringify(cfg));
  await runVisible([BUN, join(REPO, 'bench', 'load.ts'), join(work, 'hold.json'), join(work, 'hold-result.json')], 180_000);
  const held = JSON.parse(readFileSync(join(work, 'hold-result.json'), 'utf8')) as HoldResult;
  type Probe = { memory: NodeJS.MemoryUsage; heapSize: number; extraMemorySize: number; objectCount: number; objectTypeCounts: Record<string, number> };
  const [before, during] = [0, 1].map((i) => JSON.parse(readFileSync(join(dir, `probe-${i}.json`), 'utf8')) as Probe);
  const n = held.opened;
  const per = (a: number, b: number) => ((b - a) / n).toFixed(2);
  const kb = (a: number, b: number) => `${((b - a) / n / 1024).toFixed(1)} KB`;
  const types = Object.keys(during!.objectTypeCounts)
    .map((t) => [t, (during!.objectTypeCounts[t] ?? 0) - (before!.objectTypeCounts[t] ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30);
  process.stdout.write(
    [
      `${n} streams open. Per stream (during − before, after a full GC):`,
      `  RSS ${kb(before!.memory.rss, during!.memory.rss)}, JS heap ${kb(before!.heapSize, during!.heapSize)} (extra/external ${kb(before!.extraMemorySize, during!.extraMemorySize)}), live JS objects ${per(before!.objectCount, during!.objectCount)}`,
      '  live objects per stream by type:',
      ...types.map(([t, d]) => `    ${(d / n).toFixed(2).padStart(7)}  ${t}`),
    ].join('\n') + '\n',
  );
}

async function main(): Promise<void> {
  const up = startBenchUpstream();
  const dataDir = join(work, 'data');
  mkdirSync(dataDir);
  writeFileSync(join(work, 'auth.json'), JSON.stringify(up.account.authJson));
  await run([...source, 'accounts', 'import', join(work, 'auth.json'), '--data-dir', dataDir]);
  const key = (JSON.parse(await run([...source, 'keys', 'create', '--name', 'profile', '--json', '--data-dir', dataDir])) as { key: string }).key;
  const profDir = join(work, 'prof');
  mkdirSync(profDir);
  const memory = scenario === 'memory';
  const server = await startProcess(
    [BUN, ...(memory ? ['--preload', join(REPO, 'bench', 'memprobe.ts')] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]), join(REPO, 'src', 'main.ts'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--upstream', 'chatgpt', '--upstream-url', `${up.url}/backend-api`, '--auth-url', up.url],
    { ready: /listening on http:\/\/127\.0\.0\.1:(\d+) /, logPath: join(work, 'server.log'), env: { NODE_ENV: 'production', MEMPROBE_DIR: profDir, BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' } },
  );
  if (memory) {
    await memoryProfile(up, server.pid, server.port, key, profDir);
    await server.stop();
    await up.stop();
    process.exit(0);
  }
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  let target: Target;
  if (scenario === 'non-stream') {
    up.sim.setDefault({ kind: 'text', text: 'Hello! How can I help you today?', delayMs: 0 });
    target = { name: 'codexin', host: '127.0.0.1', port: server.port, path: '/v1/responses', headers, body: JSON.stringify({ model: 'gpt-5.5', input: 'Say hello.', stream: false }), format: 'json' };
  } else {
    up.sim.setDefault({ kind: 'many_events', deltas: 200, intervalMs: 5 });
    target =
      scenario === 'chat'
        ? { name: 'codexin', host: '127.0.0.1', port: server.port, path: '/v1/chat/completions', headers, body: JSON.stringify({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'Say hello.' }], stream: true }), format: 'sse-chat' }
        : { name: 'codexin', host: '127.0.0.1', port: server.port, path: '/v1/responses', headers, body: JSON.stringify({ model: 'gpt-5.5', input: 'Say hello.', stream: true }), format: 'sse-responses' };
  }
  const cfg: ClosedConfig = { mode: 'closed', targets: [target], concurrency: scenario === 'non-stream' ? 64 : 32, rounds: 1, roundSeconds: seconds, warmupSeconds: 1, maxRequestsPerPass: 5_000_000 };
  writeFileSync(join(work, 'load.json'), JSON.stringify(cfg));
  await runVisible([BUN, join(REPO, 'bench', 'load.ts'), join(work, 'load.json'), join(work, 'result.json')], (seconds + 60) * 1000);
  await server.stop();
  await up.stop();
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${profDir}`);
  const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile;
  process.stdout.write(`${summarizeProfile(profile)}\n\nprofile: ${join(profDir, file)} (open in Chrome DevTools → Performance)\n`);
  process.exit(0);
}

if (import.meta.main) {
  if (process.argv[2] === '--summarize') {
    // bun bench/profile.ts --summarize FILE.cpuprofile
    process.stdout.write(`${summarizeProfile(JSON.parse(readFileSync(process.argv[3]!, 'utf8')) as CpuProfile)}\n`);
    process.exit(0);
  }
  await main();
}
