/**
 * The WebSocket transport holds the same line as HTTP: frames are validated by the
 * request schema, the key is re-checked before every turn (and revocation closes the
 * socket), one turn runs at a time behind a small bounded queue, nothing queued
 * reaches the upstream after the client left, a slow reader pauses the upstream, and
 * a failed continuation forgets the response it continued.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { startGateway, type TestGateway } from '../support/gateway';
import { HIGH_WATER_BYTES, MAX_QUEUED } from '../../src/ws/responses-socket';

let gw: TestGateway;
let baseUrl: string;
let wsUrl: string;
let admin: string;
beforeAll(async () => {
  gw = await startGateway();
  baseUrl = gw.listen();
  wsUrl = baseUrl.replace('http', 'ws') + '/v1/responses';
  admin = gw.key(['admin']);
});
afterAll(() => gw.stop());
beforeEach(() => gw.sim.reset());

type Frame = Record<string, unknown> & { type: string; status?: number; error?: { code: string; param: string | null } };

interface Client {
  ws: WebSocket;
  frames: Frame[];
  closed: Promise<{ code: number; at: number }>;
  /** Resolves with the frames up to the next terminal event or error frame. */
  next(): Promise<Frame[]>;
  send(frame: object): void;
}

async function open(secret: string): Promise<Client> {
  const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${secret}` } } as unknown as string[]);
  const frames: Frame[] = [];
  let consumed = 0;
  let wake: (() => void) | null = null;
  const closed = new Promise<{ code: number; at: number }>((resolve) => (ws.onclose = (e) => resolve({ code: e.code, at: performance.now() })));
  ws.onmessage = (m) => {
    frames.push(JSON.parse(String(m.data)) as Frame);
    wake?.();
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('socket error'));
  });
  return {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(JSON.stringify(frame)),
    async next() {
      const deadline = Date.now() + 10_000;
      for (;;) {
        // An error frame (with a status) ends a turn; an `error` event inside a stream is followed by response.failed.
        const end = frames.findIndex((f, i) => i >= consumed && (['response.completed', 'response.failed', 'response.incomplete'].includes(f.type) || (f.type === 'error' && f.status !== undefined)));
        if (end >= 0) {
          const turn = frames.slice(consumed, end + 1);
          consumed = end + 1;
          return turn;
        }
        if (Date.now() > deadline) throw new Error('no terminal frame');
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

const upstreamTurns = () => gw.sim.requests.filter((r) => r.path === '/backend-api/codex/responses').length;
const create = (extra: object = {}) => ({ type: 'response.create', model: 'gpt-5.5', input: 'hello', ...extra });
const keyId = (name: string) => gw.keys.list().find((k) => k.name === name)!.id;

describe('frames are validated like HTTP bodies', () => {
  test.each([
    [{ input: 42 }, 'input'],
    [{ tools: 'nope' }, 'tools'],
    [{ model: 7 }, 'model'],
  ])('%j → error frame 400 naming the param, nothing sent upstream', async (bad, param) => {
    const client = await open(gw.key());
    client.send(create(bad));
    const [frame] = await client.next();
    expect(frame).toMatchObject({ type: 'error', status: 400, error: { param, code: 'invalid_request' } });
    // The same body over HTTP is refused for the same field.
    const http = await gw.call('/v1/responses', { key: gw.key(), method: 'POST', json: { model: 'gpt-5.5', input: 'hello', ...bad } });
    expect(http.status).toBe(400);
    expect(((await http.json()) as { error: { param: string } }).error.param.split('.')[0]).toBe(param);
    expect(upstreamTurns()).toBe(0);
    // Still usable.
    client.send(create());
    expect((await client.next()).at(-1)!.type).toBe('response.completed');
    client.ws.close();
  });
});

describe('the key is checked on every turn', () => {
  test('revoked mid-connection: the socket is closed within a second and no further turn runs', async () => {
    const secret = gw.key([], { name: 'ws-revoke' });
    const client = await open(secret);
    client.send(create());
    expect((await client.next()).at(-1)!.type).toBe('response.completed');
    const revokedAt = performance.now();
    expect((await gw.call(`/admin/keys/${keyId('ws-revoke')}`, { key: admin, method: 'DELETE' })).status).toBe(200);
    const closed = await client.closed;
    expect(closed.at - revokedAt).toBeLessThan(1000);
    expect(closed.code).toBe(1008);
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', status: 401, error: { code: 'key_revoked' } });
    expect(upstreamTurns()).toBe(1);
    // And a new handshake with it is refused.
    const refused = await fetch(wsUrl.replace('ws', 'http'), { headers: { authorization: `Bearer ${secret}`, upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } });
    expect(refused.status).toBe(401);
  });

  test('expiry closes the socket; a PATCH to rpm 1 limits the next turn', async () => {
    const expiring = gw.keys.create({ name: 'ws-expiring', expiresAt: Date.now() + 400 }).secret;
    const client = await open(expiring);
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', status: 401, error: { code: 'key_expired' } });

    const secret = gw.key([], { name: 'ws-patched' });
    const limited = await open(secret);
    limited.send(create());
    expect((await limited.next()).at(-1)!.type).toBe('response.completed');
    expect((await gw.call(`/admin/keys/${keyId('ws-patched')}`, { key: admin, method: 'PATCH', json: { rpm: 1 } })).status).toBe(200);
    limited.send(create());
    expect((await limited.next()).at(-1)!.type).toBe('response.completed');
    limited.send(create());
    expect((await limited.next()).at(-1)).toMatchObject({ type: 'error', status: 429, error: { code: 'rate_limit_exceeded' } });
    expect(upstreamTurns()).toBe(2);
    limited.ws.close();
  });
});

describe('one turn at a time, a bounded queue', () => {
  test(`frames past ${MAX_QUEUED} waiting get an error frame`, async () => {
    const client = await open(gw.key());
    gw.sim.enqueue({ kind: 'silence', afterEvents: 2, ms: 300 });
    for (let i = 0; i < MAX_QUEUED + 3; i++) client.send(create({ input: `turn ${i}` }));
    const turns: Frame[][] = [];
    for (let i = 0; i < MAX_QUEUED + 3; i++) turns.push(await client.next());
    const refused = turns.filter((t) => t.at(-1)!.type === 'error');
    expect(refused).toHaveLength(2);
    for (const t of refused) expect(t.at(-1)).toMatchObject({ status: 429, error: { code: 'too_many_pending_requests' } });
    expect(turns.filter((t) => t.at(-1)!.type === 'response.completed')).toHaveLength(MAX_QUEUED + 1);
    expect(upstreamTurns()).toBe(MAX_QUEUED + 1);
    client.ws.close();
  });

  test('frames queued before a disconnect never reach the upstream', async () => {
    const client = await open(gw.key());
    gw.sim.enqueue({ kind: 'silence', afterEvents: 2, ms: 500 });
    for (let i = 0; i < 4; i++) client.send(create({ input: `queued ${i}` }));
    await Bun.sleep(100);
    client.ws.close();
    await client.closed;
    await Bun.sleep(800);
    expect(upstreamTurns()).toBe(1);
    // The running turn was cancelled upstream.
    expect(gw.sim.aborts.length).toBeGreaterThanOrEqual(1);
  });
});

describe('continuations', () => {
  test('a failed continuation evicts previous_response_id: reusing it is previous_response_not_found', async () => {
    const client = await open(gw.key());
    client.send(create({ input: 'first' }));
    const first = (await client.next()).at(-1)!;
    const id = (first.response as { id: string }).id;
    gw.sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 3 });
    client.send(create({ previous_response_id: id, input: 'second' }));
    expect((await client.next()).at(-1)!.type).toBe('response.failed');
    client.send(create({ previous_response_id: id, input: 'third' }));
    expect((await client.next()).at(-1)).toMatchObject({ type: 'error', status: 400, error: { code: 'previous_response_not_found', param: 'previous_response_id' } });
    expect(upstreamTurns()).toBe(2);
    client.ws.close();
  });
});

/** A WebSocket client over a raw TCP socket, so the test decides when it reads. */
function rawClient(secret: string): Promise<{ sendText(text: string): void; pause(): void; resume(): void; received(): number; destroy(): void }> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const socket = connect(Number(url.port), url.hostname);
    let bytes = 0;
    let upgraded = false;
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(
        [`GET /v1/responses HTTP/1.1`, `Host: ${url.host}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', `Authorization: Bearer ${secret}`, '', ''].join('\r\n'),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (upgraded) return;
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 101')) return reject(new Error(`handshake refused: ${chunk.toString().split('\r\n')[0]}`));
      upgraded = true;
      resolve({
        sendText(text) {
          const payload = Buffer.from(text);
          const mask = Buffer.from([1, 2, 3, 4]);
          const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
          const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
          socket.write(Buffer.concat([header, mask, masked]));
        },
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        received: () => bytes,
        destroy: () => socket.destroy(),
      });
    });
  });
}

describe('a slow reader', () => {
  test('pauses the upstream instead of buffering the answer, and gets all of it once it reads', async () => {
    const client = await rawClient(gw.key([], { name: 'ws-slow' }));
    // About 40 MB of frames: far more than the socket buffers between us and the client.
    gw.sim.enqueue({ kind: 'text', text: 'x'.repeat(10_000_000), chunkSize: 4000 });
    client.pause();
    client.sendText(JSON.stringify(create({ input: 'a very long answer' })));
    // Wait until the socket buffers between us and the reader are full and frames wait in CodexIn.
    const filling = Date.now() + 15_000;
    while (gw.socket.buffered() === 0 && Date.now() < filling) await Bun.sleep(50);
    await Bun.sleep(500);
    gw.usage.flush();
    const rows = () => (gw.db.query('SELECT count(*) AS n FROM usage WHERE key_id = $id').get({ id: keyId('ws-slow') }) as { n: number }).n;
    // Not finished: the turn is waiting for the reader, and what waits for it is bounded.
    expect(rows()).toBe(0);
    const waiting = gw.socket.buffered();
    expect(waiting).toBeGreaterThan(0);
    expect(waiting).toBeLessThan(2 * 1024 * 1024);
    expect(HIGH_WATER_BYTES).toBeLessThanOrEqual(1024 * 1024);
    client.resume();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      gw.usage.flush();
      if (rows() > 0) break;
      await Bun.sleep(100);
    }
    expect(rows()).toBe(1);
    expect(client.received()).toBeGreaterThan(30_000_000);
    client.destroy();
  }, 30_000);
});
