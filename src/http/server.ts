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

const MODEL_ROUTE = /^\/v1\/(responses|chat\/completions|completions|codex\/|images\/|audio\/)/;

export interface ListenOptions {
  hostname: string;
  port: number;
  maxRequestBodySize: number;
}

const servers = new WeakMap<Request, Server<SocketState>>();

/**
 * Upgrades a WebSocket handshake that a route has authorized. False when the request
 * is not served by a listening server (app.handle in tests) or is no handshake.
 */
export function upgradeRequest(request: Request, data: SocketState, headers: Record<string, string>): boolean {
  const server = servers.get(request);
  return server ? server.upgrade(request, { data, headers }) : false;
}

export function listen(app: App, socket: ResponsesSocket, opts: ListenOptions): Server<SocketState> {
  return Bun.serve<SocketState>({
    hostname: opts.hostname,
    port: opts.port,
    idleTimeout: 120,
    maxRequestBodySize: opts.maxRequestBodySize,
    reusePort: false,
    development: false,
    fetch(request, server) {
      if (request.method === 'GET') {
        if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') servers.set(request, server);
      } else if (request.method === 'POST' && MODEL_ROUTE.test(new URL(request.url).pathname)) server.timeout(request, 0);
      return app.handle(request);
    },
    websocket: socket.websocket,
  });
}
