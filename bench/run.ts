/**
 * `make bench`: CodexIn (the compiled dist/codexin) against two baselines on the same
 * simulated upstream, all in one run, written to bench/results/.
 *
 *   load generator (bench/load.ts, own process) ──▶ direct:    simulator
 *                                               ──▶ raw proxy: bench/raw-proxy.ts ──▶ simulator
 *                                               ──▶ CodexIn:   dist/codexin       ──▶ simulator
 *
 * The simulator runs in this process (bench/upstream.ts). "Direct" posts exactly the body
 * and headers CodexIn sends upstream (captured from the simulator), to the ChatGPT route
 * `/backend-api/codex/responses` with the simulated account's token: the upstream then does
 * identical work for all three, and every difference is the proxy's.
 *
 * Environment: BENCH_QUICK=1 shortens every phase (a smoke run, not for the README).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClosedConfig, ClosedResult, HoldConfig, HoldResult, Target } from './load';
import { BINARY, BUN, REPO, freePort, hardFdLimit, killAll, loadAverage, machine, rssKb, run, runVisible, softFdLimit, startProcess, type Running } from './processes';
import { startBenchUpstream, type BenchUpstream } from './upstream';
import { median } from './stats';
import { renderMarkdown, updateReadme, type BenchReport } from './report';
import { sharedDatabase } from './shared-db';

const QUICK = process.env.BENCH_QUICK === '1';
const MODEL = 'gpt-5.5';
const LISTENING = /CodexIn \S+ listening on http:\/\/127\.0\.0\.1:(\d+) /;
const RESULTS = join(REPO, 'bench', 'results');
const WATCHDOG_MS = 9.5 * 60_000;

const P = QUICK
  ? { rounds: 1, roundSeconds: 2, warmup: 0.5, streamRoundSeconds: 2, startupRuns: 3, holdSeconds: 4, big: 2000, small: 500, sharedRoundSeconds: 2 }
  : { rounds: 3, roundSeconds: 5, warmup: 1.5, streamRoundSeconds: 5, startupRuns: 7, holdSeconds: 12, big: 10_000, small: 2000, sharedRoundSeconds: 3 };

const work = mkdtempSync(join(tmpdir(), 'codexin-bench-'));
const log = (line: string) => process.stdout.write(`${line}\n`);
const watchdog = setTimeout(() => {
  process.stderr.write(`bench: exceeded ${WATCHDOG_MS / 60_000} minutes, giving up\n`);
  killAll();
  process.exit(1);
}, WATCHDOG_MS);

// ---------------------------------------------------------------------------
// setup

/** `dist/codexin serve` on the simulated upstream; `where` says where its state lives (--data-dir, --database-url…). */
async function serveOn(where: string[], up: BenchUpstream, name: string, env: Record<string, string> = {}): Promise<Running> {
  return startProcess(
    [BINARY, 'serve', '--host', '127.0.0.1', '--port', '0', ...where, '--upstream', 'chatgpt', '--upstream-url', `${up.url}/backend-api`, '--auth-url', up.url],
    { ready: LISTENING, logPath: join(work, `${name}.log`), env },
  );
}

async function codexin(dataDir: string, up: BenchUpstream, name: string, env: Record<string, string> = {}): Promise<Running> {
  return serveOn(['--data-dir', dataDir], up, name, env);
}

async function prepareDataDir(up: BenchUpstream): Promise<{ dataDir: string; key: string }> {
  const dataDir = join(work, 'data');
  mkdirSync(dataDir);
  const authPath = join(work, 'auth.json');
  writeFileSync(authPath, JSON.stringify(up.account.authJson));
  await run([BINARY, 'accounts', 'import', authPath, '--data-dir', dataDir]);
  // No --rpm, --tokens-per-*, --max-concurrent: the limiter then never touches SQLite.
  const created = JSON.parse(await run([BINARY, 'keys', 'create', '--name', 'bench', '--json', '--data-dir', dataDir])) as { key: string };
  return { dataDir, key: created.key };
}

/** What CodexIn sent upstream for one client request: the body and headers "direct" replays. */
async function captureUpstream(up: BenchUpstream, server: Running, key: string, path: string, body: unknown): Promise<{ body: string; headers: Record<string, string> }> {
  up.sim.requests.length = 0;
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.text();
  if (res.status !== 200) throw new Error(`calibration ${path} answered ${res.status}`);
  const sent = up.sim.requests.findLast((r) => r.path === '/backend-api/codex/responses');
  if (!sent) throw new Error('calibration: the simulator saw no upstream request');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(sent.headers)) {
    if (!['host', 'content-length', 'connection', 'accept-encoding', 'x-client-request-id', 'transfer-encoding'].includes(name)) headers[name] = value;
  }
  return { body: sent.rawBody, headers };
}

async function runLoad<R>(name: string, config: ClosedConfig | HoldConfig, timeoutMs: number): Promise<R> {
  const cfgPath = join(work, `${name}.config.json`);
  const outPath = join(work, `${name}.result.json`);
  writeFileSync(cfgPath, JSON.stringify(config));
  await runVisible([BUN, join(REPO, 'bench', 'load.ts'), cfgPath, outPath], timeoutMs);
  return JSON.parse(readFileSync(outPath, 'utf8')) as R;
}

function closedTimeout(cfg: ClosedConfig, streamSeconds = 0): number {
  const passes = cfg.targets.length * (cfg.rounds + 1);
  return (passes * (cfg.roundSeconds + streamSeconds + 3) + 30) * 1000;
}

/** A few hundred quick requests, so a fresh process has compiled its hot paths before its memory is read. */
async function warm(target: Target, n: number): Promise<void> {
  for (let i = 0; i < n; i += 8) {
    await Promise.all(
      Array.from({ length: 8 }, () => fetch(`http://${target.host}:${target.port}${target.path}`, { method: 'POST', headers: target.headers, body: target.body }).then((r) => r.text())),
    );
  }
}

// ---------------------------------------------------------------------------
// scenario 5: startup, idle RSS, binary size

async function startup(dataDir: string, up: BenchUpstream): Promise<BenchReport['startup']> {
  const times: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < P.startupRuns; i++) {
    const port = freePort();
    const t0 = performance.now();
    const proc = Bun.spawn({
      cmd: [BINARY, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--upstream', 'chatgpt', '--upstream-url', `${up.url}/backend-api`, '--auth-url', up.url],
      cwd: REPO,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
    });
    let ms = NaN;
    while (performance.now() - t0 < 10_000) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.status === 200) {
          ms = performance.now() - t0;
          break;
        }
      } catch {
        // not listening yet
      }
      await Bun.sleep(1);
    }
    await Bun.sleep(2000);
    idle.push(rssKb(proc.pid));
    proc.kill('SIGTERM');
    await proc.exited;
    times.push(ms);
  }
  return { runs: times, medianMs: median(times), idleRssKb: idle, idleRssMedianKb: median(idle), binaryBytes: statSync(BINARY).size };
}

// ---------------------------------------------------------------------------
// scenario 4: many slow streams

export interface HoldRun {
  label: 'as-shipped' | 'small' | 'large';
  env: Record<string, string>;
  codexin: HoldResult;
  /** The raw proxy under the same load, for the per-stream memory floor of Bun.serve + fetch. */
  raw?: HoldResult;
}

const HOLD_TEXT = { kind: 'text', text: 'Hello! How can I help you today?', delayMs: 0 } as const;
// One text delta a second, for far longer than the hold: the benchmark closes the streams itself.
const HOLD_SLOW = { kind: 'many_events', deltas: 600, intervalMs: 1000 } as const;

async function holdOne(name: string, up: BenchUpstream, server: Running, target: Target, warmTarget: Target, streams: number, opts: { batch: number; openTimeoutSeconds: number; holdSeconds: number }): Promise<HoldResult> {
  try {
    up.sim.setDefault(HOLD_TEXT);
    await warm(warmTarget, 200);
    await Bun.sleep(1000);
    up.sim.setDefault(HOLD_SLOW);
    const cfg: HoldConfig = { mode: 'hold', target, streams, batch: opts.batch, openTimeoutSeconds: opts.openTimeoutSeconds, holdSeconds: opts.holdSeconds, rssPid: server.pid, trace: { host: up.host, port: up.port } };
    return await runLoad<HoldResult>(name, cfg, 240_000);
  } finally {
    up.sim.setDefault(null);
    await server.stop();
  }
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run "make build"`);
  mkdirSync(RESULTS, { recursive: true });
  const started = new Date();
  const binaryInfo = JSON.parse(await run([BINARY, 'version', '--json'])) as { version: string; bun: string };
  const fd = { soft: softFdLimit(), hard: hardFdLimit() };
  const report: BenchReport = {
    startedAt: started.toISOString(),
    quick: QUICK,
    codexinVersion: binaryInfo.version,
    machine: machine(binaryInfo.bun),
    load: { start: loadAverage(), end: '' },
    fdLimit: fd,
  } as BenchReport;
  log(`bench: CodexIn ${binaryInfo.version} (bun ${binaryInfo.bun}), ${report.machine.cores} cores, load ${report.load.start}, fd limit ${fd.soft}/${fd.hard}${QUICK ? ' [QUICK]' : ''}`);

  const up = startBenchUpstream();
  const { dataDir, key } = await prepareDataDir(up);

  log('5. startup');
  report.startup = await startup(dataDir, up);
  log(`   median ${report.startup.medianMs.toFixed(1)} ms, idle RSS ${(report.startup.idleRssMedianKb / 1024).toFixed(1)} MB`);

  const server = await codexin(dataDir, up, 'codexin');
  const raw = await startProcess([BUN, join(REPO, 'bench', 'raw-proxy.ts')], { ready: /raw-proxy listening on (\d+)/, logPath: join(work, 'raw-proxy.log'), env: { UPSTREAM_URL: up.url } });
  const codexHeaders = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const upstreamTargets = (captured: { body: string; headers: Record<string, string> }, format: Target['format']): Target[] => [
    { name: 'direct', host: up.host, port: up.port, path: '/backend-api/codex/responses', headers: captured.headers, body: captured.body, format },
    { name: 'raw', host: '127.0.0.1', port: raw.port, path: '/backend-api/codex/responses', headers: captured.headers, body: captured.body, format, pid: raw.pid },
  ];

  // 1. non-stream, small body
  log('1. non-stream /v1/responses, 64 concurrent');
  up.sim.setDefault({ kind: 'text', text: 'Hello! How can I help you today?', delayMs: 0 });
  const nsBody = { model: MODEL, input: 'Say hello.', stream: false };
  const nsUp = await captureUpstream(up, server, key, '/v1/responses', nsBody);
  const nsTargets: Target[] = [
    ...upstreamTargets(nsUp, 'sse-responses'),
    { name: 'codexin', host: '127.0.0.1', port: server.port, path: '/v1/responses', headers: codexHeaders, body: JSON.stringify(nsBody), format: 'json', pid: server.pid },
  ];
  const ns64: ClosedConfig = { mode: 'closed', targets: nsTargets, concurrency: 64, rounds: P.rounds, roundSeconds: P.roundSeconds, warmupSeconds: P.warmup, maxRequestsPerPass: 2_000_000 };
  report.nonStream64 = await runLoad<ClosedResult>('non-stream-64', ns64, closedTimeout(ns64));
  log('   … and unloaded (1 connection)');
  const ns1: ClosedConfig = { ...ns64, concurrency: 1, rounds: Math.max(1, P.rounds - 1), roundSeconds: Math.max(2, P.roundSeconds - 2) };
  report.nonStream1 = await runLoad<ClosedResult>('non-stream-1', ns1, closedTimeout(ns1));

  // 2. and 3. streaming: 200 text deltas, 5 ms apart
  up.sim.setDefault({ kind: 'many_events', deltas: 200, intervalMs: 5 });
  const streamSeconds = 2;
  log('2. streaming /v1/responses, 200 deltas 5 ms apart, 32 concurrent');
  const sBody = { model: MODEL, input: 'Say hello.', stream: true };
  const sUp = await captureUpstream(up, server, key, '/v1/responses', sBody);
  const s2: ClosedConfig = {
    mode: 'closed',
    targets: [...upstreamTargets(sUp, 'sse-responses'), { name: 'codexin', host: '127.0.0.1', port: server.port, path: '/v1/responses', headers: codexHeaders, body: JSON.stringify(sBody), format: 'sse-responses', pid: server.pid }],
    concurrency: 32,
    rounds: P.rounds,
    roundSeconds: P.streamRoundSeconds,
    warmupSeconds: P.warmup,
    trace: { host: up.host, port: up.port },
    maxRequestsPerPass: 200_000,
  };
  report.streamResponses = await runLoad<ClosedResult>('stream-responses', s2, closedTimeout(s2, streamSeconds));

  log('3. streaming /v1/chat/completions (translated), same upstream stream');
  const cBody = { model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }], stream: true };
  const cUp = await captureUpstream(up, server, key, '/v1/chat/completions', cBody);
  const s3: ClosedConfig = {
    ...s2,
    targets: [...upstreamTargets(cUp, 'sse-responses'), { name: 'codexin', host: '127.0.0.1', port: server.port, path: '/v1/chat/completions', headers: codexHeaders, body: JSON.stringify(cBody), format: 'sse-chat', pid: server.pid }],
  };
  report.streamChat = await runLoad<ClosedResult>('stream-chat', s3, closedTimeout(s3, streamSeconds));
  up.sim.setDefault(null);

  await Bun.sleep(2000);
  report.afterLoadIdleRssKb = rssKb(server.pid);
  await server.stop();
  await raw.stop();

  // 6. PostgreSQL mode vs SQLite, per request (before 4, which leaves thousands of sockets to wind down)
  log('6. shared database: SQLite vs PostgreSQL vs PostgreSQL + Redis, keys with and without rpm, 1 connection');
  up.sim.setDefault({ kind: 'text', text: 'Hello! How can I help you today?', delayMs: 0 });
  report.sharedDb = await sharedDatabase({
    up,
    work,
    serve: (name, where, env) => serveOn(where, up, name, env),
    load: (name, cfg) => runLoad<ClosedResult>(name, cfg, closedTimeout(cfg)),
    timing: { rounds: P.rounds, roundSeconds: P.sharedRoundSeconds, warmupSeconds: P.warmup },
    body: nsBody,
    log,
  });
  up.sim.setDefault(null);

  // 4. many concurrent slow streams. Each one holds two sockets in CodexIn (client + upstream).
  const fdCap = Math.floor((fd.soft - 200) / 2);
  const big = Math.min(P.big, fdCap);
  const fixedEnv = { BUN_CONFIG_MAX_HTTP_REQUESTS: '65535' };
  const streamTarget = (srv: Running): Target => ({ name: 'codexin', host: '127.0.0.1', port: srv.port, path: '/v1/responses', headers: codexHeaders, body: JSON.stringify(sBody), format: 'sse-responses' });
  const codexWarm = (srv: Running): Target => ({ ...streamTarget(srv), body: JSON.stringify(nsBody) });
  const holdCodexin = async (name: string, n: number, env: Record<string, string>, opts: { batch: number; openTimeoutSeconds: number; holdSeconds: number }) => {
    const srv = await codexin(dataDir, up, name, env);
    return holdOne(name, up, srv, streamTarget(srv), codexWarm(srv), n, opts);
  };
  const holdOpts = { batch: 500, openTimeoutSeconds: 30, holdSeconds: P.holdSeconds };
  log(`4a. ${P.small} slow streams, CodexIn as shipped (no BUN_CONFIG_MAX_HTTP_REQUESTS)`);
  const shipped = await holdCodexin('hold-as-shipped', P.small, {}, { batch: P.small, openTimeoutSeconds: 6, holdSeconds: 3 });
  log(`4b. ${P.small} slow streams, BUN_CONFIG_MAX_HTTP_REQUESTS=65535: CodexIn, then the raw proxy`);
  const small = await holdCodexin('hold-small', P.small, fixedEnv, holdOpts);
  const rawHold = await startProcess([BUN, join(REPO, 'bench', 'raw-proxy.ts')], { ready: /raw-proxy listening on (\d+)/, logPath: join(work, 'raw-hold.log'), env: { UPSTREAM_URL: up.url, ...fixedEnv } });
  const rawTarget: Target = { name: 'raw', host: '127.0.0.1', port: rawHold.port, path: '/backend-api/codex/responses', headers: sUp.headers, body: sUp.body, format: 'sse-responses' };
  const smallRaw = await holdOne('hold-small-raw', up, rawHold, rawTarget, { ...rawTarget, body: nsUp.body }, P.small, holdOpts);
  log(`4c. ${big} slow streams${big < P.big ? ` (${P.big} requested; capped by the fd limit ${fd.soft})` : ''}, BUN_CONFIG_MAX_HTTP_REQUESTS=65535`);
  const large = await holdCodexin('hold-large', big, fixedEnv, holdOpts);
  report.hold = {
    requestedLarge: P.big,
    fdCap,
    runs: [
      { label: 'as-shipped', env: {}, codexin: shipped },
      { label: 'small', env: fixedEnv, codexin: small, raw: smallRaw },
      { label: 'large', env: fixedEnv, codexin: large },
    ],
  };

  report.load.end = loadAverage();
  report.finishedAt = new Date().toISOString();
  await up.stop();

  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const markdown = renderMarkdown(report);
  writeFileSync(join(RESULTS, `${stamp}.json`), JSON.stringify(report, null, 2));
  if (!QUICK) {
    writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(report, null, 2));
    writeFileSync(join(RESULTS, 'latest.md'), markdown);
    if (updateReadme(join(REPO, 'README.md'), markdown)) log('README.md: Performance section updated');
  }
  log('');
  log(markdown);
}

main()
  .then(() => {
    clearTimeout(watchdog);
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  })
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n(logs kept in ${work})\n`);
    killAll();
    process.exit(1);
  });
