/**
 * A transparent loopback TCP relay put between Codex CLI and CodexIn that writes down
 * every HTTP request Codex makes (method, path, headers, WebSocket upgrade or not) and
 * what the server answered to each WebSocket handshake. Bytes are passed on untouched,
 * so the relay cannot change what Codex or CodexIn see; it only lets a test state
 * "Codex opened exactly one WebSocket, it was accepted with 101 on the first try, and
 * no HTTP POST /v1/responses happened", which neither side's logs can prove.
 *
 * Parsing is HTTP/1.1 only (what Codex speaks to a plain http:// base URL): requests
 * are read back to back on a kept-alive connection using content-length; after an
 * upgrade, or a chunked body, the rest of the connection is opaque.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface SeenRequest {
  /** Connection number, from 1, in the order connections were accepted. */
  connection: number;
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** True for a WebSocket handshake (`Upgrade: websocket`). */
  websocket: boolean;
  /** For a handshake: the status line's code the server answered (101 = accepted), once seen. */
  handshakeStatus: number | null;
}

export interface TrafficRecorder {
  /** e.g. http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  /** Every request seen so far, in order. */
  readonly requests: SeenRequest[];
  /** Number of TCP connections accepted so far. */
  readonly connections: number;
  stop(): Promise<void>;
}

const HEADER_END = '\r\n\r\n';
/** A request head larger than this is not HTTP we understand: stop parsing that connection. */
const MAX_HEAD = 256 * 1024;

/** Starts a relay on 127.0.0.1 (random port) in front of `target`. */
export async function startTrafficRecorder(target: { hostname: string; port: number }): Promise<TrafficRecorder> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  const server: Server = createServer((client) => {
    const connection = ++connections;
    const upstream = createConnection({ host: target.hostname, port: target.port });
    sockets.add(client);
    sockets.add(upstream);

    // Client → server: parse request heads back to back.
    let buffer = Buffer.alloc(0);
    let skipBody = 0;
    let opaque = false;
    let pendingHandshake: SeenRequest | null = null;

    client.on('data', (chunk: Buffer) => {
      if (opaque) return;
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (skipBody > 0) {
          const n = Math.min(skipBody, buffer.length);
          buffer = buffer.subarray(n);
          skipBody -= n;
          if (skipBody > 0) return;
        }
        const end = buffer.indexOf(HEADER_END);
        if (end < 0) {
          if (buffer.length > MAX_HEAD) opaque = true;
          return;
        }
        const head = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + HEADER_END.length);
        const [requestLine = '', ...headerLines] = head.split('\r\n');
        const [method = '', path = ''] = requestLine.split(' ');
        const headers: Record<string, string> = {};
        for (const line of headerLines) {
          const colon = line.indexOf(':');
          if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const websocket = (headers['upgrade'] ?? '').toLowerCase() === 'websocket';
        const seen: SeenRequest = { connection, method, path, headers, websocket, handshakeStatus: null };
        requests.push(seen);
        if (websocket) {
          pendingHandshake = seen;
          opaque = true;
          return;
        }
        if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
          opaque = true;
          return;
        }
        skipBody = Number(headers['content-length'] ?? '0') || 0;
      }
    });

    // Server → client: the status line answering a handshake.
    let answer = '';
    upstream.on('data', (chunk: Buffer) => {
      if (!pendingHandshake) return;
      answer += chunk.toString('latin1');
      const lineEnd = answer.indexOf('\r\n');
      if (lineEnd < 0) return;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer.slice(0, lineEnd))?.[1] ?? NaN);
      pendingHandshake.handshakeStatus = Number.isFinite(status) ? status : -1;
      pendingHandshake = null;
      answer = '';
    });

    client.pipe(upstream);
    upstream.pipe(client);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('traffic recorder: no TCP address');

  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    get connections() {
      return connections;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    },
  };
}
