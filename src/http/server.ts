/**
 * Binds the app to a socket with Bun.serve. Every request, WebSocket handshakes
 * included, goes through the Elysia app; the handshake's route upgrades with the
 * server this module hands it (upgradeRequest). Model routes get their idle timeout
 * lifted, because a model may think for minutes before the first byte (non-stream)
 * or between events (stream; keepalives cover proxies, this covers Bun's own 120 s
 * idle cut-off).
 */
import type { Server } from 'bun';
import type { App } from '../app';
import type { ResponsesSocket, SocketState } from '../ws/responses-socket';
import { admitRequest, BUN_BODY_LIMIT, edgeError } from './edge';

const MODEL_ROUTE = /^\/v1\/(responses|chat\/completions|completions|codex\/|images\/|audio\/)/;

export interface ListenOptions {
  hostname: string;
  port: number;
  maxRequestBodySize: number;
}

/** Handshakes by the request the app sees (re-addressed for a short Host) → the server and Bun's own request to upgrade. */
const servers = new WeakMap<Request, { server: Server<SocketState>; original: Request }>();

/**
 * Upgrades a WebSocket handshake that a route has authorized. False when the request
 * is not served by a listening server (app.handle in tests) or is no handshake.
 */
export function upgradeRequest(request: Request, data: SocketState, headers: Record<string, string>): boolean {
  const entry = servers.get(request);
  return entry ? entry.server.upgrade(entry.original, { data, headers }) : false;
}

export function listen(app: App, socket: ResponsesSocket, opts: ListenOptions): Server<SocketState> {
  return Bun.serve<SocketState>({
    hostname: opts.hostname,
    port: opts.port,
    idleTimeout: 120,
    maxRequestBodySize: BUN_BODY_LIMIT,
    reusePort: false,
    development: false,
    error: edgeError,
    fetch(request, server) {
      const admitted = admitRequest(request, opts.maxRequestBodySize);
      if (admitted instanceof Response) return admitted;
      if (request.method === 'GET') {
        if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') servers.set(admitted, { server, original: request });
      } else if (request.method === 'POST' && MODEL_ROUTE.test(new URL(admitted.url).pathname)) server.timeout(request, 0);
      return app.handle(admitted);
    },
    websocket: socket.websocket,
  });
}
