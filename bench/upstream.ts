/**
 * The benchmark's upstream: the ChatGPT-backend simulator (src/upstream/mock), served
 * on loopback from the runner process, with two additions for measuring:
 *
 * - an emission log: for requests carrying `x-client-request-id` (CodexIn forwards it
 *   upstream), when the request arrived and when its first frame and each
 *   `response.output_text.delta` frame were handed to the socket;
 * - `GET /__bench/clock`: this process's clock, so the load generator (another process)
 *   can put its arrival times on the same clock and compute per-event lag.
 *
 * Every client (direct, raw proxy, CodexIn) goes through this same wrapper, so its small
 * cost is in every baseline alike.
 */
import { createSimulator, type IssuedAccount, type Simulator } from '../src/upstream/mock';

const DELTA = new TextEncoder().encode('event: response.output_text.delta\n');
const MAX_TRACED = 40_000;

function isDelta(chunk: Uint8Array): boolean {
  if (chunk.length < DELTA.length) return false;
  for (let i = 0; i < DELTA.length; i++) if (chunk[i] !== DELTA[i]) return false;
  return true;
}

/** What the upstream saw of one traced request, on this process's clock (ms). */
export interface Emission {
  /** The request reached the upstream. */
  arrived: number;
  /** The first SSE frame was handed to the socket. */
  first: number;
  /** Each text delta was handed to the socket. */
  deltas: number[];
  /** The client's source port: a port seen again means a reused keep-alive connection. */
  port: number;
}

/** Passes the simulator's body through one chunk per pull (it enqueues one frame per pull), timing frames. */
function tap(body: ReadableStream<Uint8Array>, emission: Emission): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        const t = performance.now();
        if (Number.isNaN(emission.first)) emission.first = t;
        if (isDelta(value)) emission.deltas.push(t);
        controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

export interface BenchUpstream {
  sim: Simulator;
  url: string;
  host: string;
  port: number;
  account: IssuedAccount;
  stop(): Promise<void>;
}

export function startBenchUpstream(): BenchUpstream {
  const sim = createSimulator();
  const account = sim.issueAccount({ plan: 'pro' });
  const emissions = new Map<string, Emission>();
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(req, server) {
      const path = new URL(req.url).pathname;
      if (path === '/__bench/clock') return Response.json({ t: performance.now() });
      if (path === '/__bench/emissions') {
        const prefix = new URL(req.url).searchParams.get('prefix') ?? '';
        const out: Record<string, Emission> = {};
        for (const [id, emission] of emissions) {
          if (!id.startsWith(prefix)) continue;
          out[id] = emission;
          emissions.delete(id);
        }
        return Response.json(out);
      }
      const arrived = performance.now();
      const traceId = req.headers.get('x-client-request-id');
      const res = await sim.fetch(req);
      if (!traceId || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return res;
      const emission: Emission = { arrived, first: NaN, deltas: [], port: server.requestIP(req)?.port ?? 0 };
      if (emissions.size >= MAX_TRACED) emissions.delete(emissions.keys().next().value!);
      emissions.set(traceId, emission);
      return new Response(tap(res.body, emission), { status: res.status, headers: res.headers });
    },
    error: (error) => new Response(`bench upstream error: ${error.message}`, { status: 500 }),
  });
  // The simulator records every request for tests to inspect; a benchmark would grow that without bound.
  const trim = setInterval(() => {
    if (sim.requests.length > 2000) sim.requests.length = 0;
    if (sim.aborts.length > 2000) sim.aborts.length = 0;
  }, 250);
  return {
    sim,
    url: `http://127.0.0.1:${server.port}`,
    host: '127.0.0.1',
    port: server.port!,
    account,
    async stop() {
      clearInterval(trim);
      await server.stop(true);
    },
  };
}
