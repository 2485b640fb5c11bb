/**
 * A minimal HTTP/1.1 client over Bun.connect for the load generator: keep-alive,
 * Content-Length and chunked bodies, and SSE frames reported the moment their bytes
 * arrive. Not `fetch`: Bun's fetch runs on a separate HTTP thread (one more hop in
 * every timing) and caps itself at 256 requests in flight, which would hide the
 * 10,000-stream scenario behind the client's own limit.
 *
 * Bodies are decoded as latin1 (one char per byte): the generator only looks for
 * delimiters and ASCII event names, and the benchmark's text is ASCII.
 */
import type { Socket } from 'bun';

export const now = (): number => performance.now();

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface Observer {
  /** One complete SSE frame (the text before its blank line), with its arrival time. */
  onFrame?(frame: string, t: number): void;
}

export interface Exchange {
  status: number;
  tSent: number;
  /** Status line and headers received. */
  tHead: number;
  /** First complete SSE frame received (NaN for non-SSE bodies). */
  tFirstFrame: number;
  tDone: number;
  frames: number;
  bodyBytes: number;
  /** The body text, kept only when `keepBody` was asked for. */
  body?: string;
}

type Phase = 'idle' | 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'until-close';

interface Pending {
  resolve(e: Exchange): void;
  reject(error: Error): void;
  observer: Observer | undefined;
  keepBody: boolean;
  exchange: Exchange;
}

const handlers = {
  open(socket: Socket<Connection>) {
    socket.setNoDelay(true);
  },
  data(socket: Socket<Connection>, data: Buffer) {
    socket.data.onData(data.toString('latin1'), now());
  },
  drain(socket: Socket<Connection>) {
    socket.data.onDrain();
  },
  close(socket: Socket<Connection>) {
    socket.data.onClose();
  },
  error(socket: Socket<Connection>, error: Error) {
    socket.data.onClose(error);
  },
  connectError(socket: Socket<Connection>, error: Error) {
    socket.data.onClose(error);
  },
};

export class Connection {
  private socket: Socket<Connection> | null = null;
  private buf = '';
  private phase: Phase = 'idle';
  private remaining = 0;
  private sse = false;
  private sseBuf = '';
  private closeAfter = false;
  private unsent = '';
  private pending: Pending | null = null;
  closed = false;

  private constructor() {}

  static async open(host: string, port: number): Promise<Connection> {
    const conn = new Connection();
    conn.socket = await Bun.connect<Connection>({ hostname: host, port, data: conn, socket: handlers });
    return conn;
  }

  /** Sends one request and resolves when its response has fully arrived. */
  request(spec: RequestSpec, opts: { observer?: Observer; keepBody?: boolean } = {}): Promise<Exchange> {
    if (this.closed || !this.socket) return Promise.reject(new Error('connection closed'));
    if (this.pending) return Promise.reject(new Error('request already in flight'));
    let head = `${spec.method} ${spec.path} HTTP/1.1\r\nhost: bench\r\n`;
    for (const [name, value] of Object.entries(spec.headers)) head += `${name}: ${value}\r\n`;
    const body = spec.body ?? '';
    if (spec.method === 'POST') head += `content-length: ${Buffer.byteLength(body)}\r\n`;
    const text = `${head}\r\n${body}`;
    return new Promise<Exchange>((resolve, reject) => {
      const exchange: Exchange = { status: 0, tSent: now(), tHead: NaN, tFirstFrame: NaN, tDone: NaN, frames: 0, bodyBytes: 0 };
      this.pending = { resolve, reject, observer: opts.observer, keepBody: opts.keepBody ?? false, exchange };
      this.phase = 'head';
      this.write(text);
    });
  }

  close(): void {
    if (this.closed) return;
    this.socket?.end();
    this.onClose();
  }

  private write(text: string): void {
    const data = this.unsent + text;
    const written = this.socket!.write(data);
    this.unsent = written < 0 ? '' : data.slice(written);
  }

  onDrain(): void {
    if (this.unsent) this.write('');
  }

  onClose(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    const pending = this.pending;
    this.pending = null;
    if (!pending) return;
    if (this.phase === 'until-close') {
      pending.exchange.tDone = now();
      pending.resolve(pending.exchange);
    } else {
      pending.reject(error ?? new Error(`connection closed (${this.phase})`));
    }
  }

  onData(text: string, t: number): void {
    this.buf += text;
    const p = this.pending;
    if (!p) {
      this.buf = '';
      return;
    }
    for (;;) {
      switch (this.phase) {
        case 'head': {
          const end = this.buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          this.parseHead(this.buf.slice(0, end), p.exchange, t);
          this.buf = this.buf.slice(end + 4);
          break;
        }
        case 'length': {
          const take = Math.min(this.remaining, this.buf.length);
          if (take > 0) this.feed(this.buf.slice(0, take), t, p);
          this.buf = this.buf.slice(take);
          this.remaining -= take;
          if (this.remaining > 0) return;
          this.finish(t);
          return;
        }
        case 'chunk-size': {
          const end = this.buf.indexOf('\r\n');
          if (end < 0) return;
          const size = parseInt(this.buf.slice(0, end).split(';')[0]!, 16);
          this.buf = this.buf.slice(end + 2);
          if (!Number.isFinite(size)) {
            this.fail(new Error('bad chunk size'));
            return;
          }
          if (size === 0) this.phase = 'trailer';
          else {
            this.remaining = size;
            this.phase = 'chunk-data';
          }
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.remaining, this.buf.length);
          if (take > 0) this.feed(this.buf.slice(0, take), t, p);
          this.buf = this.buf.slice(take);
          this.remaining -= take;
          if (this.remaining > 0) return;
          this.phase = 'chunk-crlf';
          break;
        }
        case 'chunk-crlf': {
          if (this.buf.length < 2) return;
          this.buf = this.buf.slice(2);
          this.phase = 'chunk-size';
          break;
        }
        case 'trailer': {
          const end = this.buf.indexOf('\r\n');
          if (end < 0) return;
          const line = this.buf.slice(0, end);
          this.buf = this.buf.slice(end + 2);
          if (line === '') {
            this.finish(t);
            return;
          }
          break;
        }
        case 'until-close': {
          this.feed(this.buf, t, p);
          this.buf = '';
          return;
        }
        case 'idle':
          this.buf = '';
          return;
      }
    }
  }

  private parseHead(head: string, exchange: Exchange, t: number): void {
    const lines = head.split('\r\n');
    exchange.status = Number(lines[0]!.split(' ')[1]);
    exchange.tHead = t;
    let length: number | null = null;
    let chunked = false;
    this.sse = false;
    this.closeAfter = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.includes('chunked');
      else if (name === 'content-type') this.sse = value.startsWith('text/event-stream');
      else if (name === 'connection') this.closeAfter = value === 'close';
    }
    this.sseBuf = '';
    if (chunked) this.phase = 'chunk-size';
    else if (length !== null) {
      this.remaining = length;
      this.phase = 'length';
      if (length === 0) this.finish(t);
    } else this.phase = 'until-close';
  }

  private feed(text: string, t: number, p: Pending): void {
    const ex = p.exchange;
    ex.bodyBytes += text.length;
    if (p.keepBody) ex.body = (ex.body ?? '') + text;
    if (!this.sse) return;
    this.sseBuf += text;
    let start = 0;
    for (;;) {
      const end = this.sseBuf.indexOf('\n\n', start);
      if (end < 0) break;
      const frame = this.sseBuf.slice(start, end);
      start = end + 2;
      if (frame === '' || frame.startsWith(':')) continue;
      ex.frames += 1;
      if (ex.frames === 1) ex.tFirstFrame = t;
      p.observer?.onFrame?.(frame, t);
    }
    if (start > 0) this.sseBuf = this.sseBuf.slice(start);
  }

  private finish(t: number): void {
    const p = this.pending;
    this.phase = 'idle';
    this.pending = null;
    if (!p) return;
    p.exchange.tDone = t;
    if (this.closeAfter) this.close();
    p.resolve(p.exchange);
  }

  private fail(error: Error): void {
    const p = this.pending;
    this.pending = null;
    this.phase = 'idle';
    this.close();
    p?.reject(error);
  }
}
