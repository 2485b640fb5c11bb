/**
 * The load generator: a separate process (`bun bench/load.ts CONFIG.json RESULT.json`)
 * so its CPU is not the server's, driving loopback HTTP/1.1 with bench/http-client.ts.
 *
 * - `closed`: a closed loop of `concurrency` keep-alive connections per target, targets
 *   alternating in rounds (direct, raw, CodexIn, then rotated) so background noise on a
 *   shared machine hits every target alike. Measures throughput, latency, time to first
 *   SSE frame, and for traced streams the lag of every text delta from the moment the
 *   upstream wrote it (clocks aligned through the upstream's /__bench/clock).
 * - `hold`: opens N slow streams, holds them, samples the server's VmRSS, then closes.
 *
 * Every loop is bounded by a deadline and a request cap.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Connection, now, type Exchange } from './http-client';
import { EMPTY, Reservoir, summarize, type Summary } from './stats';
import type { Emission } from './upstream';

export type Format = 'sse-responses' | 'sse-chat' | 'json';

export interface Target {
  name: string;
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  body: string;
  format: Format;
  /** Process whose CPU time is charged to this target (the proxy under test). */
  pid?: number;
}

export interface TraceEndpoint {
  host: string;
  port: number;
}

export interface ClosedConfig {
  mode: 'closed';
  targets: Target[];
  concurrency: number;
  rounds: number;
  roundSeconds: number;
  warmupSeconds: number;
  /** Set to measure per-delta lag against the upstream's emission log. */
  trace?: TraceEndpoint;
  maxRequestsPerPass: number;
}

export interface HoldConfig {
  mode: 'hold';
  target: Target;
  streams: number;
  /** Streams opened together; the next batch starts when each has its first frame or timed out. */
  batch: number;
  openTimeoutSeconds: number;
  holdSeconds: number;
  rssPid: number;
  trace: TraceEndpoint;
  /** Send SIGUSR2 to rssPid before opening and in the middle of the hold (bench/memprobe.ts answers it). */
  probe?: boolean;
}

export type LoadConfig = ClosedConfig | HoldConfig;

export interface TargetResult {
  name: string;
  requests: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  rps: number;
  /** Request sent → response complete. */
  latency: Summary;
  /** Request sent → first complete SSE frame. */
  ttfb: Summary;
  /** Upstream wrote a text delta → the client received it (ms, same clock). */
  lag: Summary;
  /** Between consecutive text deltas of one stream. */
  gap: Summary;
  /**
   * Time to first event split at the upstream (traced streams): client → request reaches
   * the upstream; upstream → its first frame is written; that frame → the client has it.
   */
  ttfbParts: { toUpstream: Summary; atUpstream: Summary; fromUpstream: Summary };
  /** Distinct upstream connections (client source ports) seen for the traced requests. */
  upstreamConnections: number;
  deltasPerResponse: number;
  /** CPU time of `pid` per request, in ms (utime + stime, 10 ms ticks). */
  cpuMsPerRequest: number | null;
  /** Traced streams whose delta count differed from the upstream's (buffering merges or drops would show here). */
  traceMismatches: number;
}

export interface ClosedResult {
  mode: 'closed';
  clockOffsetMs: number;
  targets: TargetResult[];
}

export interface HoldResult {
  mode: 'hold';
  requested: number;
  opened: number;
  errors: { connect: number; status: number; timeout: number; cut: number; ended: number };
  errorSamples: string[];
  openSeconds: number;
  ttfb: Summary;
  rssKb: { before: number; duringMax: number; after: number; samples: number[] };
  rssPerStreamKb: number;
  /** Delta lag for deltas written during the hold window. */
  lag: Summary;
  deltasDuringHold: number;
  holdSeconds: number;
}

// ---------------------------------------------------------------------------

function isDelta(frame: string, format: Format): boolean {
  if (format === 'sse-responses') return frame.startsWith('event: response.output_text.delta\n');
  if (format !== 'sse-chat' || !frame.startsWith('data: {')) return false;
  // Only frames carrying text are parsed: a cheap test first.
  if (!frame.includes('"content":"')) return false;
  const chunk = JSON.parse(frame.slice(6)) as { choices?: { delta?: { content?: unknown } }[] };
  const content = chunk.choices?.[0]?.delta?.content;
  return typeof content === 'string' && content.length > 0;
}

function isComplete(format: Format, ex: Exchange, lastFrame: string): boolean {
  if (format === 'json') return (ex.body ?? '').includes('"status":"completed"');
  if (format === 'sse-chat') return lastFrame === 'data: [DONE]';
  return lastFrame.startsWith('event: response.completed\n');
}

export function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

export function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Offset to add to this process's performance.now() to get the upstream's. */
async function clockOffset(trace: TraceEndpoint): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 40; i++) {
    const t0 = now();
    const { t } = (await (await fetch(`http://${trace.host}:${trace.port}/__bench/clock`)).json()) as { t: number };
    const t1 = now();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: t - (t0 + t1) / 2 };
  }
  return best.offset;
}

async function takeEmissions(trace: TraceEndpoint, prefix: string): Promise<Record<string, Emission>> {
  const res = await fetch(`http://${trace.host}:${trace.port}/__bench/emissions?prefix=${encodeURIComponent(prefix)}`);
  return (await res.json()) as Record<string, Emission>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// closed loop

interface Acc {
  requests: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  latency: Reservoir;
  ttfb: Reservoir;
  lag: Reservoir;
  gap: Reservoir;
  toUpstream: Reservoir;
  atUpstream: Reservoir;
  fromUpstream: Reservoir;
  upstreamPorts: Set<number>;
  deltas: number;
  cpuTicks: number;
  cpuKnown: boolean;
  traceMismatches: number;
}

function newAcc(): Acc {
  return {
    requests: 0,
    errors: 0,
    errorSamples: [],
    seconds: 0,
    latency: new Reservoir(),
    ttfb: new Reservoir(),
    lag: new Reservoir(),
    gap: new Reservoir(),
    toUpstream: new Reservoir(),
    atUpstream: new Reservoir(),
    fromUpstream: new Reservoir(),
    upstreamPorts: new Set(),
    deltas: 0,
    cpuTicks: 0,
    cpuKnown: true,
    traceMismatches: 0,
  };
}

function noteError(acc: Acc, message: string): void {
  acc.errors += 1;
  if (acc.errorSamples.length < 5 && !acc.errorSamples.includes(message)) acc.errorSamples.push(message);
}

let passSerial = 0;

async function pass(cfg: ClosedConfig, target: Target, seconds: number, acc: Acc | null, offset: number): Promise<void> {
  const prefix = `bench-${process.pid}-${++passSerial}-`;
  const traced = cfg.trace && acc && target.format !== 'json';
  const arrivalsById = new Map<string, { arrivals: number[]; tSent: number; tFirst: number }>();
  const conns = await Promise.all(Array.from({ length: cfg.concurrency }, () => Connection.open(target.host, target.port)));
  const cpu0 = target.pid ? cpuTicks(target.pid) : null;
  const t0 = now();
  const deadline = t0 + seconds * 1000;
  let started = 0;
  let serial = 0;
  await Promise.all(
    conns.map(async (first) => {
      let conn = first;
      while (now() < deadline && started < cfg.maxRequestsPerPass) {
        started += 1;
        const id = `${prefix}${serial++}`;
        const arrivals: number[] = [];
        let lastFrame = '';
        const headers = traced ? { ...target.headers, 'x-client-request-id': id } : target.headers;
        try {
          const ex = await conn.request(
            { method: 'POST', path: target.path, headers, body: target.body },
            {
              keepBody: target.format === 'json',
              observer: {
                onFrame(frame, t) {
                  lastFrame = frame;
                  if (isDelta(frame, target.format)) arrivals.push(t);
                },
              },
            },
          );
          if (!acc) continue;
          if (ex.status !== 200) {
            noteError(acc, `HTTP ${ex.status}`);
            continue;
          }
          if (!isComplete(target.format, ex, lastFrame)) {
            noteError(acc, `incomplete response (last frame: ${lastFrame.slice(0, 60)})`);
            continue;
          }
          acc.requests += 1;
          acc.latency.push(ex.tDone - ex.tSent);
          if (target.format !== 'json' || !Number.isNaN(ex.tFirstFrame)) acc.ttfb.push((Number.isNaN(ex.tFirstFrame) ? ex.tDone : ex.tFirstFrame) - ex.tSent);
          acc.deltas += arrivals.length;
          for (let i = 1; i < arrivals.length; i++) acc.gap.push(arrivals[i]! - arrivals[i - 1]!);
          if (traced) arrivalsById.set(id, { arrivals, tSent: ex.tSent, tFirst: ex.tFirstFrame });
        } catch (error) {
          if (acc) noteError(acc, (error as Error).message);
          conn.close();
          try {
            conn = await Connection.open(target.host, target.port);
          } catch (e) {
            if (acc) noteError(acc, `reconnect: ${(e as Error).message}`);
            return;
          }
        }
      }
      conn.close();
    }),
  );
  const elapsed = (now() - t0) / 1000;
  for (const c of conns) c.close();
  if (!acc) {
    if (cfg.trace) await takeEmissions(cfg.trace, prefix);
    return;
  }
  acc.seconds += elapsed;
  const cpu1 = target.pid ? cpuTicks(target.pid) : null;
  if (cpu0 === null || cpu1 === null) acc.cpuKnown = false;
  else acc.cpuTicks += cpu1 - cpu0;
  if (traced) {
    const emitted = await takeEmissions(cfg.trace!, prefix);
    for (const [id, { arrivals, tSent, tFirst }] of arrivalsById) {
      const em = emitted[id];
      if (!em || em.deltas.length !== arrivals.length || typeof em.first !== 'number') {
        acc.traceMismatches += 1;
        continue;
      }
      for (let i = 0; i < arrivals.length; i++) acc.lag.push(arrivals[i]! + offset - em.deltas[i]!);
      acc.toUpstream.push(em.arrived - (tSent + offset));
      acc.atUpstream.push(em.first - em.arrived);
      acc.fromUpstream.push(tFirst + offset - em.first);
      acc.upstreamPorts.add(em.port);
    }
  }
}

async function closed(cfg: ClosedConfig): Promise<ClosedResult> {
  const offset = cfg.trace ? await clockOffset(cfg.trace) : 0;
  for (const target of cfg.targets) await pass(cfg, target, cfg.warmupSeconds, null, offset);
  const accs = new Map(cfg.targets.map((t) => [t.name, newAcc()]));
  for (let round = 0; round < cfg.rounds; round++) {
    // Rotate the order each round so no target always runs first or last.
    const order = cfg.targets.map((_, i) => cfg.targets[(i + round) % cfg.targets.length]!);
    for (const target of order) {
      await pass(cfg, target, cfg.roundSeconds, accs.get(target.name)!, offset);
      process.stderr.write(`  round ${round + 1}/${cfg.rounds} ${target.name}: ${accs.get(target.name)!.requests} ok\n`);
    }
  }
  return {
    mode: 'closed',
    clockOffsetMs: offset,
    targets: cfg.targets.map((t) => {
      const a = accs.get(t.name)!;
      return {
        name: t.name,
        requests: a.requests,
        errors: a.errors,
        errorSamples: a.errorSamples,
        seconds: a.seconds,
        rps: a.requests / a.seconds,
        latency: summarize(a.latency.values),
        ttfb: summarize(a.ttfb.values),
        lag: a.lag.values.length ? summarize(a.lag.values) : { ...EMPTY },
        gap: a.gap.values.length ? summarize(a.gap.values) : { ...EMPTY },
        ttfbParts: { toUpstream: summarize(a.toUpstream.values), atUpstream: summarize(a.atUpstream.values), fromUpstream: summarize(a.fromUpstream.values) },
        upstreamConnections: a.upstreamPorts.size,
        deltasPerResponse: a.requests ? a.deltas / a.requests : 0,
        cpuMsPerRequest: t.pid && a.cpuKnown && a.requests ? (a.cpuTicks * 10) / a.requests : null,
        traceMismatches: a.traceMismatches,
      };
    }),
  };
}

// ---------------------------------------------------------------------------
// hold: many slow streams open at once

interface HeldStream {
  id: string;
  conn: Connection | null;
  arrivals: number[];
  opened: boolean;
  ended: boolean;
  /** Closed by the generator after its open timeout: its end is not another error. */
  abandoned: boolean;
}

async function hold(cfg: HoldConfig): Promise<HoldResult> {
  const offset = await clockOffset(cfg.trace);
  const target = cfg.target;
  const prefix = `hold-${process.pid}-`;
  const errors = { connect: 0, status: 0, timeout: 0, cut: 0, ended: 0 };
  const errorSamples: string[] = [];
  const note = (kind: keyof typeof errors, message: string) => {
    errors[kind] += 1;
    if (errorSamples.length < 8 && !errorSamples.includes(message)) errorSamples.push(message);
  };
  let closing = false;
  const ttfb = new Reservoir();
  const streams: HeldStream[] = [];
  const probe = async () => {
    if (!cfg.probe) return;
    process.kill(cfg.rssPid, 'SIGUSR2');
    await sleep(2000);
  };
  await probe();
  const rssBefore = rssKb(cfg.rssPid);

  const openOne = async (index: number): Promise<void> => {
    const s: HeldStream = { id: `${prefix}${index}`, conn: null, arrivals: [], opened: false, ended: false, abandoned: false };
    streams.push(s);
    try {
      s.conn = await Connection.open(target.host, target.port);
    } catch (error) {
      note('connect', `connect: ${(error as Error).message}`);
      return;
    }
    const sent = now();
    let firstFrame!: () => void;
    const gotFirst = new Promise<void>((r) => (firstFrame = r));
    const done = s.conn
      .request(
        { method: 'POST', path: target.path, headers: { ...target.headers, 'x-client-request-id': s.id }, body: target.body },
        {
          observer: {
            onFrame(frame, t) {
              if (!s.opened) {
                s.opened = true;
                ttfb.push(t - sent);
                firstFrame();
              }
              if (isDelta(frame, target.format)) s.arrivals.push(t);
            },
          },
        },
      )
      .then(
        (ex) => {
          s.ended = true;
          if (s.abandoned) return;
          if (ex.status !== 200) note('status', `HTTP ${ex.status}`);
          else if (!closing) note('ended', 'stream ended before the benchmark closed it');
        },
        (error: Error) => {
          s.ended = true;
          if (!closing && !s.abandoned) note('cut', `cut: ${error.message}`);
        },
      );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), cfg.openTimeoutSeconds * 1000)));
    const outcome = await Promise.race([gotFirst, done, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout' && !s.opened) {
      note('timeout', `no first event within ${cfg.openTimeoutSeconds} s`);
      s.abandoned = true;
      s.conn.close();
    }
  };

  const openStarted = now();
  for (let i = 0; i < cfg.streams; i += cfg.batch) {
    const batch = Array.from({ length: Math.min(cfg.batch, cfg.streams - i) }, (_, k) => openOne(i + k));
    await Promise.all(batch);
    process.stderr.write(`  opened ${streams.filter((s) => s.opened && !s.ended).length}/${cfg.streams}\n`);
  }
  const openSeconds = (now() - openStarted) / 1000;

  const holdStart = now();
  const samples: number[] = [];
  let probed = false;
  while (now() - holdStart < cfg.holdSeconds * 1000) {
    await sleep(1000);
    samples.push(rssKb(cfg.rssPid));
    if (!probed && now() - holdStart >= (cfg.holdSeconds * 1000) / 2) {
      probed = true;
      await probe();
    }
  }
  const holdEnd = now();
  closing = true;
  const opened = streams.filter((s) => s.opened).length;
  for (const s of streams) s.conn?.close();
  await sleep(2000);
  const rssAfter = rssKb(cfg.rssPid);

  const emitted = await takeEmissions(cfg.trace, prefix);
  const lag = new Reservoir();
  let deltasDuringHold = 0;
  const from = holdStart + offset;
  const to = holdEnd + offset;
  for (const s of streams) {
    const em = emitted[s.id]?.deltas;
    if (!em) continue;
    // Deltas arrive in order: the i-th arrival is the i-th emission (unless the stream was cut).
    for (let i = 0; i < Math.min(em.length, s.arrivals.length); i++) {
      if (em[i]! < from || em[i]! > to) continue;
      deltasDuringHold += 1;
      lag.push(s.arrivals[i]! + offset - em[i]!);
    }
  }
  const duringMax = Math.max(...samples.filter((v) => Number.isFinite(v)));
  return {
    mode: 'hold',
    requested: cfg.streams,
    opened,
    errors,
    errorSamples,
    openSeconds,
    ttfb: summarize(ttfb.values),
    rssKb: { before: rssBefore, duringMax, after: rssAfter, samples },
    rssPerStreamKb: opened ? (duringMax - rssBefore) / opened : NaN,
    lag: summarize(lag.values),
    deltasDuringHold,
    holdSeconds: (holdEnd - holdStart) / 1000,
  };
}

// ---------------------------------------------------------------------------

if (import.meta.main) {
  const [configPath, resultPath] = process.argv.slice(2);
  if (!configPath || !resultPath) {
    process.stderr.write('usage: bun bench/load.ts CONFIG.json RESULT.json\n');
    process.exit(2);
  }
  const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as LoadConfig;
  const result = cfg.mode === 'closed' ? await closed(cfg) : await hold(cfg);
  writeFileSync(resultPath, JSON.stringify(result));
  process.exit(0);
}
