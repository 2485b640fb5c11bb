/** Raw HTTP/1.x over a TCP socket: the requests fetch() refuses to send (odd Host headers, HTTP/1.0). */
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function rawRequest(port: number, request: string, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms: ${JSON.stringify(out.slice(0, 200))}`));
    }, timeoutMs);
    const finish = () => {
      const end = out.indexOf('\r\n\r\n');
      if (end === -1) return false;
      const [statusLine, ...lines] = out.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = out.slice(end + 4);
      const length = headers['content-length'] === undefined ? 0 : Number(headers['content-length']);
      if (Buffer.byteLength(body) < length) return false;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body });
      return true;
    };
    socket.on('data', (d) => {
      out += d.toString('utf8');
      finish();
    });
    socket.on('close', () => {
      if (!finish()) {
        clearTimeout(timer);
        reject(new Error(`connection closed: ${JSON.stringify(out.slice(0, 200))}`));
      }
    });
    socket.on('error', () => {});
  });
}

/** The answer as a fetch Response, so the envelope assertions apply unchanged. */
export function asResponse(raw: RawResponse): Response {
  return new Response(raw.body, { status: raw.status, headers: raw.headers });
}
