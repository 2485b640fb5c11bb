/**
 * The benchmark's results: their shape, the markdown table, and the README section.
 * `bun bench/report.ts bench/results/latest.json` re-renders latest.md and the README
 * table from a saved run (after a change to the table's layout).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClosedResult, HoldResult, TargetResult } from './load';
import type { Machine } from './processes';
import type { HoldRun } from './run';
import { SHARED_DB_KEYS, SHARED_DB_MODES, SHARED_DB_TARGET_MS, sharedDbTargetName, type SharedDbResult } from './shared-db';

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  codexinVersion: string;
  machine: Machine;
  load: { start: string; end: string };
  fdLimit: { soft: number; hard: number };
  startup: { runs: number[]; medianMs: number; idleRssKb: number[]; idleRssMedianKb: number; binaryBytes: number };
  nonStream64: ClosedResult;
  nonStream1: ClosedResult;
  streamResponses: ClosedResult;
  streamChat: ClosedResult;
  afterLoadIdleRssKb: number;
  hold: { requestedLarge: number; fdCap: number; runs: HoldRun[] };
  /** Scenario 6; absent in runs saved before it existed. */
  sharedDb?: SharedDbResult;
}

const ms = (v: number, digits = 2) => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : 'n/a');
const plus3 = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)} ms` : 'n/a');
const plus = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)} ms` : 'n/a');
const num = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a');
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
const verdict = (ok: boolean) => (ok ? 'pass' : '**MISS**');

function byName(result: ClosedResult): { direct: TargetResult; raw: TargetResult; codexin: TargetResult } {
  const get = (name: string) => result.targets.find((t) => t.name === name)!;
  return { direct: get('direct'), raw: get('raw'), codexin: get('codexin') };
}

type Row = [string, string, string, string, string, string, string];

const split = (t: TargetResult) => [t.ttfbParts.toUpstream.p50, t.ttfbParts.atUpstream.p50, t.ttfbParts.fromUpstream.p50].map((v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a')).join(' / ') + ' ms';

function streamRows(label: string, result: ClosedResult): Row[] {
  const { direct, raw, codexin } = byName(result);
  const ttfbAdded = codexin.ttfb.p50 - direct.ttfb.p50;
  const lagAdded = codexin.lag.p50 - direct.lag.p50;
  const errors = direct.errors + raw.errors + codexin.errors;
  return [
    [label, 'time to first event p50', ms(direct.ttfb.p50), ms(raw.ttfb.p50), ms(codexin.ttfb.p50), `${plus(ttfbAdded)} vs direct (${plus(codexin.ttfb.p50 - raw.ttfb.p50)} vs raw)`, `< 1 ms: ${verdict(ttfbAdded < 1)}`],
    ['', 'time to first event p99', ms(direct.ttfb.p99), ms(raw.ttfb.p99), ms(codexin.ttfb.p99), `${plus(codexin.ttfb.p99 - direct.ttfb.p99)} vs direct`, ''],
    ['', 'first event p50, split: to upstream / at upstream / back', split(direct), split(raw), split(codexin), '', ''],
    ['', 'delta lag p50 (upstream write → client)', ms(direct.lag.p50), ms(raw.lag.p50), ms(codexin.lag.p50), `${plus(lagAdded)} per event (${plus(codexin.lag.p50 - raw.lag.p50)} vs raw)`, `≤ 1 ms: ${verdict(lagAdded <= 1)}`],
    ['', 'delta lag p99', ms(direct.lag.p99), ms(raw.lag.p99), ms(codexin.lag.p99), `${plus(codexin.lag.p99 - direct.lag.p99)} per event`, ''],
    ['', 'gap between deltas, mean (upstream: 5 ms)', ms(direct.gap.mean, 3), ms(raw.gap.mean, 3), ms(codexin.gap.mean, 3), `${plus(codexin.gap.mean - direct.gap.mean)} per event`, ''],
    ['', 'streams / deltas per stream / errors', `${num(direct.requests)} / ${direct.deltasPerResponse.toFixed(0)}`, `${num(raw.requests)} / ${raw.deltasPerResponse.toFixed(0)}`, `${num(codexin.requests)} / ${codexin.deltasPerResponse.toFixed(0)}`, `errors: ${errors}, unmatched traces: ${codexin.traceMismatches}, upstream connections used by CodexIn: ${codexin.upstreamConnections}`, ''],
    ['', 'CodexIn CPU per stream', '', ms(raw.cpuMsPerRequest ?? NaN), ms(codexin.cpuMsPerRequest ?? NaN), codexin.cpuMsPerRequest && raw.cpuMsPerRequest ? `${(codexin.cpuMsPerRequest / raw.cpuMsPerRequest).toFixed(1)}× raw` : '', ''],
  ];
}

/** Scenario 6: one row per (mode × key), each compared with SQLite on the same kind of key. */
function sharedDbTable(result: SharedDbResult): string {
  const get = (name: string) => result.closed.targets.find((t) => t.name === name)!;
  const rows = SHARED_DB_MODES.flatMap((mode) =>
    SHARED_DB_KEYS.map((key) => {
      const t = get(sharedDbTargetName(mode, key));
      const base = get(sharedDbTargetName('sqlite', key));
      const added = t.latency.p50 - base.latency.p50;
      const isBase = mode === 'sqlite';
      return [
        mode,
        key === 'rpm' ? `\`--rpm ${num(result.rpm)}\`` : 'no limits',
        ms(t.latency.p50, 3),
        ms(t.latency.p99, 3),
        isBase ? '' : plus3(added),
        isBase ? '' : plus3(t.latency.p99 - base.latency.p99),
        ms(t.cpuMsPerRequest ?? NaN, 3),
        `${num(t.requests)} / ${t.errors}`,
        isBase ? '' : `< ${SHARED_DB_TARGET_MS} ms: ${verdict(added < SHARED_DB_TARGET_MS)}`,
      ];
    }),
  );
  return [
    `6. Shared database: non-stream \`/v1/responses\` (scenario 1's request), 1 connection, the six targets in alternating rounds of one run. PostgreSQL ${result.postgresVersion} and Redis ${result.redisVersion} on loopback (\`test/support/services.ts\`: fsync off). "added" is the mode's figure minus SQLite's for the same kind of key: without limits the request is served from memory and its usage row written behind; with \`--rpm\` its admission is one PL/pgSQL call (PostgreSQL) or one Lua script (Redis), never refused.`,
    '',
    '| mode | key | latency p50 | latency p99 | added p50 vs SQLite | added p99 vs SQLite | CodexIn CPU per request | requests / errors | target |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const ns = byName(r.nonStream64);
  const ns1 = byName(r.nonStream1);
  const rows: Row[] = [];
  const tputRatio = ns.codexin.rps / ns.raw.rps;
  const p50Added = ns.codexin.latency.p50 - ns.direct.latency.p50;
  const p99Added = ns.codexin.latency.p99 - ns.direct.latency.p99;
  rows.push(
    ['1. non-stream `/v1/responses`, small body, 64 concurrent', 'throughput', `${num(ns.direct.rps)} req/s`, `${num(ns.raw.rps)} req/s`, `${num(ns.codexin.rps)} req/s`, `${(tputRatio * 100).toFixed(0)}% of raw`, `≥ 70%: ${verdict(tputRatio >= 0.7)}`],
    ['', 'latency p50', ms(ns.direct.latency.p50), ms(ns.raw.latency.p50), ms(ns.codexin.latency.p50), `${plus(p50Added)} vs direct (${plus(ns.codexin.latency.p50 - ns.raw.latency.p50)} vs raw)`, `< 1 ms: ${verdict(p50Added < 1)}`],
    ['', 'latency p99', ms(ns.direct.latency.p99), ms(ns.raw.latency.p99), ms(ns.codexin.latency.p99), `${plus(p99Added)} vs direct`, `< 5 ms: ${verdict(p99Added < 5)}`],
    ['', 'CPU per request (proxy process)', '', ms(ns.raw.cpuMsPerRequest ?? NaN, 3), ms(ns.codexin.cpuMsPerRequest ?? NaN, 3), ns.codexin.cpuMsPerRequest && ns.raw.cpuMsPerRequest ? `${(ns.codexin.cpuMsPerRequest / ns.raw.cpuMsPerRequest).toFixed(1)}× raw` : '', ''],
    ['', 'errors', String(ns.direct.errors), String(ns.raw.errors), String(ns.codexin.errors), '', ''],
    ['1b. same, 1 connection (no queueing)', 'latency p50', ms(ns1.direct.latency.p50), ms(ns1.raw.latency.p50), ms(ns1.codexin.latency.p50), `${plus(ns1.codexin.latency.p50 - ns1.direct.latency.p50)} vs direct`, ''],
    ['', 'latency p99', ms(ns1.direct.latency.p99), ms(ns1.raw.latency.p99), ms(ns1.codexin.latency.p99), `${plus(ns1.codexin.latency.p99 - ns1.direct.latency.p99)} vs direct`, ''],
  );
  rows.push(...streamRows('2. streaming `/v1/responses`, 200 deltas, 32 concurrent', r.streamResponses));
  rows.push(...streamRows('3. streaming `/v1/chat/completions` (translated), 200 deltas, 32 concurrent', r.streamChat));

  const holdErrors = (h: HoldResult) => h.errors.connect + h.errors.status + h.errors.timeout + h.errors.cut + h.errors.ended;
  for (const run of r.hold.runs) {
    const h = run.codexin;
    const x = run.raw;
    const errors = holdErrors(h);
    const fixed = run.env.BUN_CONFIG_MAX_HTTP_REQUESTS ? ` with BUN_CONFIG_MAX_HTTP_REQUESTS=${run.env.BUN_CONFIG_MAX_HTTP_REQUESTS}` : ', as shipped (no env)';
    const isLarge = run.label === 'large';
    const label = `4. ${num(h.requested)} concurrent slow streams${fixed}${isLarge && h.requested < r.hold.requestedLarge ? ` (${num(r.hold.requestedLarge)} asked; the fd limit ${r.fdLimit.soft} allows ${num(h.requested)})` : ''}`;
    const target = isLarge ? `0 errors, < 40 KB: ${verdict(errors === 0 && h.rssPerStreamKb < 40)}` : run.label === 'as-shipped' ? `0 errors: ${verdict(errors === 0)}` : '';
    rows.push([label, 'open / errors', '', x ? `${num(x.opened)} open, ${holdErrors(x)} errors` : '', `${num(h.opened)} open, ${errors} errors`, h.errorSamples.slice(0, 2).join('; '), target]);
    if (run.label !== 'as-shipped') {
      rows.push(
        ['', 'RSS per stream (VmRSS during − before)', '', x ? `${x.rssPerStreamKb.toFixed(1)} KB` : '', `${h.rssPerStreamKb.toFixed(1)} KB`, `${mb(h.rssKb.before)} → ${mb(h.rssKb.duringMax)} (after close ${mb(h.rssKb.after)})${x ? `; ${(h.rssPerStreamKb / x.rssPerStreamKb).toFixed(1)}× raw` : ''}`, ''],
        ['', 'delta lag while open p50 / p99', '', x ? `${ms(x.lag.p50)} / ${ms(x.lag.p99)}` : '', `${ms(h.lag.p50)} / ${ms(h.lag.p99)}`, `${num(h.deltasDuringHold)} deltas in ${h.holdSeconds.toFixed(0)} s`, ''],
        ['', 'time to first event while opening p50 / p99', '', x ? `${ms(x.ttfb.p50)} / ${ms(x.ttfb.p99)}` : '', `${ms(h.ttfb.p50)} / ${ms(h.ttfb.p99)}`, `all open in ${h.openSeconds.toFixed(1)} s`, ''],
      );
    }
  }
  const s = r.startup;
  rows.push(
    ['5. startup (exec → first `/healthz` 200)', `median of ${s.runs.length}`, '', '', ms(s.medianMs, 1), `runs: ${s.runs.map((v) => v.toFixed(0)).join(', ')} ms`, `< 150 ms: ${verdict(s.medianMs < 150)}`],
    ['', 'idle RSS (2 s after start)', '', '', mb(s.idleRssMedianKb), `after the load phases: ${mb(r.afterLoadIdleRssKb)}`, `< 60 MB: ${verdict(s.idleRssMedianKb < 60 * 1024)}`],
    ['', 'binary size', '', '', `${(s.binaryBytes / 1024 / 1024).toFixed(1)} MB`, 'includes the Bun runtime', ''],
  );

  const table = [
    '| scenario | measure | direct | raw proxy | CodexIn | CodexIn vs baseline | target |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');

  return [
    `Measured ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC by \`make bench\` (CodexIn ${r.codexinVersion}, compiled binary) on ${m.cores} cores (${m.cpuModel}), ${m.memTotalGiB.toFixed(1)} GiB RAM, Linux ${m.kernel}, Bun ${m.bun}. ` +
      `Load average (\`/proc/loadavg\`) ${r.load.start} at the start, ${r.load.end} at the end; the machine is shared with other test runs, so absolute numbers are noisy: compare columns, which were measured in alternating rounds of the same run.${r.quick ? ' **QUICK smoke run: not representative.**' : ''}`,
    '',
    '- **direct**: the client posts to the simulator\'s `/backend-api/codex/responses` (the route CodexIn uses) the exact body and headers CodexIn sends upstream, so the upstream does identical work in every column and the difference is the proxy\'s. Non-stream "direct" reads the SSE reply to its end (the ChatGPT backend only streams; CodexIn aggregates it into one JSON Response).',
    '- **raw proxy**: `bench/raw-proxy.ts`, Bun.serve + fetch forwarding bytes: no auth, parsing or metering.',
    '- Load comes from a separate process (`bench/load.ts`, HTTP/1.1 keep-alive on loopback). Latencies are closed-loop at the stated concurrency, so at 64 connections they include queueing on 2 shared cores. "Delta lag" is the time from the simulator writing a text delta to the client reading it (clocks aligned across processes).',
    '',
    table,
    '',
    ...(r.sharedDb ? [sharedDbTable(r.sharedDb), ''] : []),
  ].join('\n');
}

const BEGIN = '<!-- bench:begin (generated by make bench; edit bench/report.ts) -->';
const END = '<!-- bench:end -->';

/** Replaces the text between the bench markers in the README; false when they are absent. */
export function updateReadme(path: string, markdown: string): boolean {
  const text = readFileSync(path, 'utf8');
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) return false;
  writeFileSync(path, `${text.slice(0, begin + BEGIN.length)}\n${markdown}\n${text.slice(end)}`);
  return true;
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: bun bench/report.ts RESULT.json\n');
    process.exit(2);
  }
  const markdown = renderMarkdown(JSON.parse(readFileSync(path, 'utf8')) as BenchReport);
  const root = join(import.meta.dir, '..');
  writeFileSync(join(root, 'bench', 'results', 'latest.md'), markdown);
  process.stdout.write(updateReadme(join(root, 'README.md'), markdown) ? 'latest.md and README.md updated\n' : 'latest.md updated (no bench markers in README.md)\n');
}
