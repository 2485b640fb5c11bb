/**
 * The "raw passthrough" baseline: forwards every request to UPSTREAM_URL and streams
 * the answer back, with no auth, no parsing, no metering. The practical lower bound for
 * any proxy built on Bun.serve + fetch, which is what CodexIn is.
 */
const upstream = process.env.UPSTREAM_URL!;
const HOP = ['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host'];

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  idleTimeout: 0,
  async fetch(req) {
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    for (const name of HOP) headers.delete(name);
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await req.arrayBuffer();
    const res = await fetch(upstream + url.pathname + url.search, { method: req.method, headers, body, signal: req.signal, decompress: false });
    const out = new Headers(res.headers);
    for (const name of HOP) out.delete(name);
    return new Response(res.body, { status: res.status, headers: out });
  },
});
process.stdout.write(`raw-proxy listening on ${server.port}\n`);
