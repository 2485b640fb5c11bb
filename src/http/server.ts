/**
 * Binds the app to a socket with Bun.serve. Two things happen here, before Elysia:
 * WebSocket handshakes on /v1/responses go to the Responses socket, and model
 * routes get their idle timeout lifted, because a model may think for minutes
 * before the first byte (non-stream) or between events (stream; keepalives cover
 * proxies, this covers Bun's own 120 s idle cut-off).
 */
import type { Server } from 'bun';
import type { App } from '../app';
import type { ResponsesSocket } from '../ws/responses-socket';
import { admitRequest, BUN_BODY_LIMIT, edgeError } from './edge';

const MODEL_ROUTE = /^\/v1\/(responses|chat\/completions|completions|codex\/|images\/|audio\/)/;

export interface ListenOptions {
  hostname: string;
  port: number;
  maxRequestBodySize: number;
}

export function listen(app: App, socket: ResponsesSocket, opts: ListenOptions): Server<unknown> {
  return Bun.serve({
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
      const path = new URL(admitted.url).pathname;
      if (request.method === 'GET' && path === '/v1/responses') {
        const refused = socket.handleUpgrade(request, server as Parameters<ResponsesSocket['handleUpgrade']>[1]);
        if (refused === undefined) return undefined;
        if (refused) return refused;
      }
      if (request.method === 'POST' && MODEL_ROUTE.test(path)) server.timeout(request, 0);
      return app.handle(admitted);
    },
    websocket: socket.websocket,
  }) as Server<unknown>;
}
