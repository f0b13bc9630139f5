import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import uWS from 'uWebSockets.js';
import { afterEach, describe, expect, it } from 'vitest';
import { WsClient, type WsClientOptions, type WsHandler } from '../src/net/WsClient.js';
import { sleep, waitFor } from './helpers/wait.js';

// ------------------------------------------------------------------ helpers

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const cleanups: Array<() => void> = [];

afterEach(() => {
  while (cleanups.length > 0) {
    try {
      cleanups.pop()!();
    } catch {
      /* already closed */
    }
  }
});

interface Msg { text: string; data: Buffer; ts: number; bin: boolean }
interface Closed { code: number; reason: string; willReconnect: boolean }

function collector() {
  const c = {
    opens: 0,
    msgs: [] as Msg[],
    closes: [] as Closed[],
    errors: [] as Error[],
    handler: null as unknown as WsHandler,
  };
  c.handler = {
    onOpen: () => { c.opens++; },
    onMessage: (buf, start, end, ts, bin) => {
      const data = Buffer.from(buf.subarray(start, end)); // copy: buf is reused
      c.msgs.push({ text: data.toString('utf8'), data, ts, bin });
    },
    onClose: (code, reason, willReconnect) => { c.closes.push({ code, reason, willReconnect }); },
    onError: (err) => { c.errors.push(err); },
  };
  return c;
}

function client(url: string, handler: WsHandler, opts?: WsClientOptions): WsClient {
  const c = new WsClient(url, handler, { backoff: { initialMs: 20, maxMs: 200, jitter: 0 }, ...opts });
  cleanups.push(() => c.close());
  return c;
}

/** Deterministic payload of n bytes (printable, so it is valid UTF-8 text). */
function payload(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = 33 + ((i * 31 + seed * 7) % 90);
  return b;
}

/** A server-to-client frame (unmasked unless asked). */
function frame(op: number, data: Buffer | string, o: { fin?: boolean; mask?: boolean; rsv?: number } = {}): Buffer {
  const p = typeof data === 'string' ? Buffer.from(data) : data;
  const fin = o.fin ?? true;
  const len = p.length;
  const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const maskLen = o.mask === true ? 4 : 0;
  const f = Buffer.alloc(hdr + maskLen + len);
  f[0] = (fin ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | op;
  const m = o.mask === true ? 0x80 : 0;
  if (len < 126) f[1] = m | len;
  else if (len < 65536) { f[1] = m | 126; f.writeUInt16BE(len, 2); }
  else { f[1] = m | 127; f.writeUInt32BE(Math.floor(len / 2 ** 32), 2); f.writeUInt32BE(len >>> 0, 6); }
  if (o.mask === true) {
    const key = [0x11, 0x22, 0x33, 0x44];
    for (let i = 0; i < 4; i++) f[hdr + i] = key[i]!;
    for (let i = 0; i < len; i++) f[hdr + 4 + i] = p[i]! ^ key[i & 3]!;
  } else {
    p.copy(f, hdr);
  }
  return f;
}

interface ClientFrame { fin: boolean; op: number; masked: boolean; payload: Buffer }

/** Decode client frames from `buf`; returns the frames and the unconsumed tail. */
function decodeClientFrames(buf: Buffer): { frames: ClientFrame[]; rest: Buffer } {
  const frames: ClientFrame[] = [];
  let pos = 0;
  for (;;) {
    if (buf.length - pos < 2) break;
    const b0 = buf[pos]!;
    const b1 = buf[pos + 1]!;
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    let hdr = 2;
    if (len === 126) { if (buf.length - pos < 4) break; len = buf.readUInt16BE(pos + 2); hdr = 4; }
    else if (len === 127) { if (buf.length - pos < 10) break; len = buf.readUInt32BE(pos + 2) * 2 ** 32 + buf.readUInt32BE(pos + 6); hdr = 10; }
    const keyLen = masked ? 4 : 0;
    if (buf.length - pos < hdr + keyLen + len) break;
    const body = Buffer.from(buf.subarray(pos + hdr + keyLen, pos + hdr + keyLen + len));
    if (masked) for (let i = 0; i < len; i++) body[i] = body[i]! ^ buf[pos + hdr + (i & 3)]!;
    frames.push({ fin: (b0 & 0x80) !== 0, op: b0 & 0x0f, masked, payload: body });
    pos += hdr + keyLen + len;
  }
  return { frames, rest: buf.subarray(pos) };
}

interface RawConn {
  sock: net.Socket;
  request: string;
  /** Frames the client sent after the upgrade. */
  frames: ClientFrame[];
  index: number;
}

interface RawServerOpts {
  /** Build the upgrade response (default: a correct 101). Return null to never answer. */
  respond?: (key: string, index: number) => string | null;
  /** Called after the response was written (only for 101 responses). */
  onConn?: (c: RawConn) => void | Promise<void>;
  tls?: { key: Buffer; cert: Buffer };
}

function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

function ok101(key: string): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`;
}

/** A tiny hand-written WS server: performs the upgrade and lets the test write raw frames. */
async function rawServer(o: RawServerOpts = {}) {
  const conns: RawConn[] = [];
  const connTimes: number[] = [];
  const sockets = new Set<net.Socket>();
  const onSocket = (sock: net.Socket): void => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.setNoDelay(true);
    const index = connTimes.length;
    connTimes.push(performance.now());
    let head = Buffer.alloc(0);
    let conn: RawConn | null = null;
    let tail = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      if (conn !== null) {
        const r = decodeClientFrames(Buffer.concat([tail, d]));
        conn.frames.push(...r.frames);
        tail = Buffer.from(r.rest);
        return;
      }
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const request = head.subarray(0, end).toString('latin1');
      const key = /sec-websocket-key: *(\S+)/i.exec(request)?.[1] ?? '';
      const resp = (o.respond ?? ok101)(key, index);
      if (resp === null) return;
      sock.write(resp, 'latin1');
      if (!resp.startsWith('HTTP/1.1 101')) { sock.end(); return; }
      conn = { sock, request, frames: [], index };
      conns.push(conn);
      void o.onConn?.(conn);
    });
  };
  const server = o.tls !== undefined ? tls.createServer({ key: o.tls.key, cert: o.tls.cert }, onSocket) : net.createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const close = (): void => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  cleanups.push(close);
  return { port, url: `ws://127.0.0.1:${port}/ws`, conns, connTimes, close };
}

/** Write `buf` in pieces, pausing between writes so they arrive as separate TCP segments / reads. */
async function writeInPieces(sock: net.Socket, buf: Buffer, sizes: (i: number) => number, pauseMs = 1): Promise<number> {
  let pos = 0;
  let writes = 0;
  for (let i = 0; pos < buf.length; i++) {
    const n = Math.min(buf.length - pos, Math.max(1, sizes(i)));
    sock.write(buf.subarray(pos, pos + n));
    pos += n;
    writes++;
    await sleep(pauseMs);
  }
  return writes;
}

type UwsWs = uWS.WebSocket<{ id: number }>;

async function uwsServer(b: {
  open?: (ws: UwsWs, index: number) => void;
  message?: (ws: UwsWs, msg: ArrayBuffer, isBinary: boolean) => void;
  pong?: (ws: UwsWs, msg: ArrayBuffer) => void;
  close?: (ws: UwsWs, code: number, msg: ArrayBuffer) => void;
}) {
  const live = new Set<UwsWs>();
  let opened = 0;
  const app = uWS.App();
  app.ws<{ id: number }>('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: 4 * 1024 * 1024,
    maxBackpressure: 64 * 1024 * 1024,
    idleTimeout: 0,
    upgrade: (res, req, ctx) => {
      res.upgrade({ id: opened }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
    },
    open: (ws) => { live.add(ws); b.open?.(ws, opened++); },
    message: (ws, msg, isBinary) => b.message?.(ws, msg, isBinary),
    pong: (ws, msg) => b.pong?.(ws, msg),
    close: (ws, code, msg) => { live.delete(ws); b.close?.(ws, code, msg); },
  });
  const ls = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s === false ? reject(new Error('uWS listen failed')) : resolve(s))),
  );
  const port = uWS.us_socket_local_port(ls);
  const close = (): void => {
    for (const ws of [...live]) ws.close();
    uWS.us_listen_socket_close(ls);
  };
  cleanups.push(close);
  return { port, url: `ws://127.0.0.1:${port}/stream?streams=btcusdt@bookTicker`, live, close };
}

// ------------------------------------------------------------------ tests

describe('WsClient against uWebSockets.js', () => {
  it('delivers text frames of every length class byte-exact and in order (7/16/64-bit lengths)', async () => {
    const sizes = [0, 1, 17, 125, 126, 127, 1000, 65535, 65536, 70_000, 1_048_579, 3];
    const sent = sizes.map((n, i) => payload(n, i));
    const srv = await uwsServer({
      open: (ws) => {
        for (const p of sent) ws.send(p, false);
        ws.send(Buffer.from([0, 1, 2, 255, 254]), true);
      },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    expect(ws.state).toBe('connecting');
    await waitFor(() => c.msgs.length === sent.length + 1, 'all messages');
    expect(ws.state).toBe('open');
    expect(c.opens).toBe(1);
    for (let i = 0; i < sent.length; i++) {
      expect(c.msgs[i]!.data.length).toBe(sent[i]!.length);
      expect(c.msgs[i]!.data.equals(sent[i]!)).toBe(true);
      expect(c.msgs[i]!.bin).toBe(false);
    }
    const last = c.msgs[sent.length]!;
    expect(last.bin).toBe(true);
    expect([...last.data]).toEqual([0, 1, 2, 255, 254]);
    expect(ws.messagesIn).toBe(sent.length + 1);
    expect(ws.framesIn).toBe(sent.length + 1);
    expect(ws.protocolErrors).toBe(0);
    expect(ws.bytesIn).toBeGreaterThan(sent.reduce((a, b) => a + b.length, 0));
    expect(c.errors).toEqual([]);
  });

  it('answers a server ping with a pong carrying the same payload', async () => {
    const pongs: string[] = [];
    const srv = await uwsServer({
      open: (ws) => { ws.ping('hb-1234567890'); ws.ping(''); ws.send('after-ping'); },
      pong: (_ws, msg) => { pongs.push(Buffer.from(msg).toString()); },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => pongs.length === 2 && c.msgs.length === 1, 'pongs');
    expect(pongs).toEqual(['hb-1234567890', '']);
    expect(ws.pingsIn).toBe(2);
    expect(ws.pongsOut).toBe(2);
    expect(c.msgs[0]!.text).toBe('after-ping');
  });

  it('sends masked text frames the server accepts (7/16/64-bit lengths)', async () => {
    const got: string[] = [];
    const srv = await uwsServer({ message: (_ws, msg, isBinary) => { if (!isBinary) got.push(Buffer.from(msg).toString()); } });
    const c = collector();
    const ws = client(srv.url, c.handler);
    expect(ws.send('too early')).toBe(false);
    ws.connect();
    await waitFor(() => ws.state === 'open', 'open');
    const texts = ['{"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":1}', 'é€𝄞'.repeat(40), 'x'.repeat(70_000), ''];
    for (const t of texts) expect(ws.send(t)).toBe(true);
    await waitFor(() => got.length === texts.length, 'server receipt');
    expect(got).toEqual(texts);
  });

  it('reconnects after a server close frame (code and reason reported) and receives again', async () => {
    const srv = await uwsServer({
      open: (ws, i) => {
        ws.send(`hello-${i}`);
        if (i === 0) ws.end(4001, 'bye');
      },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.msgs.length === 2, 'message after reconnect');
    expect(c.msgs.map((m) => m.text)).toEqual(['hello-0', 'hello-1']);
    expect(c.closes[0]).toEqual({ code: 4001, reason: 'bye', willReconnect: true });
    expect(ws.connects).toBe(2);
    expect(ws.reconnects).toBe(1);
    expect(ws.state).toBe('open');
  });

  it('reconnects after an abrupt server-side socket close (no close frame)', async () => {
    const srv = await uwsServer({
      open: (ws, i) => {
        ws.send(`hello-${i}`);
        if (i < 2) setTimeout(() => { try { ws.close(); } catch { /* gone */ } }, 5);
      },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.msgs.length === 3, 'message after 2 reconnects');
    expect(c.msgs.map((m) => m.text)).toEqual(['hello-0', 'hello-1', 'hello-2']);
    expect(c.closes.map((x) => [x.code, x.willReconnect])).toEqual([[1006, true], [1006, true]]);
    expect(ws.reconnects).toBe(2);
  });

  it('close() sends a close frame, reports willReconnect=false and never reconnects', async () => {
    const serverClose: number[] = [];
    const srv = await uwsServer({ open: (ws) => ws.send('hi'), close: (_ws, code) => serverClose.push(code) });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.msgs.length === 1, 'hi');
    ws.close(1000);
    expect(ws.state).toBe('closed');
    expect(c.closes).toEqual([{ code: 1000, reason: 'client close', willReconnect: false }]);
    await waitFor(() => serverClose.length === 1, 'server close event');
    expect(serverClose[0]).toBe(1000);
    await sleep(150);
    expect(ws.connects).toBe(1);
    expect(ws.reconnects).toBe(0);
    expect(ws.reconnectPending).toBe(false);
    expect(ws.send('x')).toBe(false);
  });
});

describe('WsClient frame parsing (hand-built frames)', () => {
  it('reassembles fragmented messages with control frames interleaved', async () => {
    const big = [payload(70_000, 1), payload(70_000, 2), payload(12_345, 3)];
    const srv = await rawServer({
      onConn: ({ sock }) => {
        sock.write(Buffer.concat([
          frame(0x1, 'Hel', { fin: false }),
          frame(0x9, 'ping-in-the-middle'),
          frame(0x0, 'lo, ', { fin: false }),
          frame(0xa, 'unsolicited'),
          frame(0x0, 'world'),
          frame(0x2, big[0]!, { fin: false }),
          frame(0x0, big[1]!, { fin: false }),
          frame(0x9, ''),
          frame(0x0, big[2]!),
          frame(0x1, 'plain'),
          frame(0x1, Buffer.alloc(0), { fin: false }),
          frame(0x0, Buffer.alloc(0)),
        ]));
      },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.msgs.length === 4, 'messages');
    expect(c.msgs[0]!.text).toBe('Hello, world');
    expect(c.msgs[0]!.bin).toBe(false);
    expect(c.msgs[1]!.bin).toBe(true);
    expect(c.msgs[1]!.data.equals(Buffer.concat(big))).toBe(true);
    expect(c.msgs[2]!.text).toBe('plain');
    expect(c.msgs[3]!.data.length).toBe(0);
    expect(ws.pingsIn).toBe(2);
    expect(ws.pongsIn).toBe(1);
    await waitFor(() => srv.conns[0]!.frames.length === 2, 'pongs at server');
    const pongs = srv.conns[0]!.frames;
    expect(pongs.map((f) => [f.op, f.masked, f.fin, f.payload.toString()])).toEqual([
      [0xa, true, true, 'ping-in-the-middle'],
      [0xa, true, true, ''],
    ]);
    expect(ws.protocolErrors).toBe(0);
  });

  it('completes frames split across many TCP reads, down to one byte per read', async () => {
    const msgs = [payload(5, 1), payload(125, 2), payload(126, 3), payload(300, 4), payload(65_535, 5), payload(65_536, 6), payload(200_000, 7), payload(2, 8)];
    const wire = Buffer.concat([
      ...msgs.slice(0, 4).map((m) => frame(0x1, m)),
      frame(0x9, 'split-ping'),
      frame(0x1, Buffer.from('frag-a'), { fin: false }),
      frame(0x0, Buffer.from('frag-b')),
      ...msgs.slice(4).map((m) => frame(0x1, m)),
    ]);
    const srv = await rawServer({
      onConn: async ({ sock }) => {
        // first ~700 bytes (all header shapes, small frames, the ping, the fragments) one byte per read
        await writeInPieces(sock, wire.subarray(0, 700), () => 1, 1);
        // then uneven pieces, so 16- and 64-bit headers and payloads straddle reads
        let seed = 12345;
        const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
        await writeInPieces(sock, wire.subarray(700), (i) => (i % 5 === 0 ? 1 + (rnd() % 9) : 1 + (rnd() % 20_000)), 1);
      },
    });
    const c = collector();
    let reads = 0;
    const ws = client(srv.url, c.handler, { clock: () => ++reads });
    ws.connect();
    await waitFor(() => c.msgs.length === msgs.length + 1, 'all split messages', 20_000);
    expect(reads).toBeGreaterThan(600); // one clock read per socket read: the bytes really came in pieces
    const expected = [...msgs.slice(0, 4), Buffer.from('frag-afrag-b'), ...msgs.slice(4)];
    for (let i = 0; i < expected.length; i++) expect(c.msgs[i]!.data.equals(expected[i]!)).toBe(true);
    await waitFor(() => srv.conns[0]!.frames.length === 1, 'pong');
    expect(srv.conns[0]!.frames[0]!.payload.toString()).toBe('split-ping');
    expect(ws.protocolErrors).toBe(0);
    expect(c.errors).toEqual([]);
  });

  it('reads the clock once per socket chunk and stamps every frame of the chunk with it', async () => {
    let t = 1_000;
    let reads = 0;
    const clock = (): number => { reads++; return (t += 1_000); };
    const srv = await rawServer({
      onConn: async ({ sock }) => {
        sock.write(Buffer.concat([frame(0x1, 'a'), frame(0x1, 'b'), frame(0x1, 'c')]));
        await sleep(30);
        sock.write(frame(0x1, 'd'));
      },
    });
    const c = collector();
    const ws = client(srv.url, c.handler, { clock });
    ws.connect();
    await waitFor(() => c.msgs.length === 4, 'messages');
    expect(c.msgs[0]!.ts).toBe(c.msgs[1]!.ts);
    expect(c.msgs[1]!.ts).toBe(c.msgs[2]!.ts);
    expect(c.msgs[3]!.ts).toBeGreaterThan(c.msgs[2]!.ts);
    // handshake chunk (+ open timestamp) and at most two frame chunks
    expect(reads).toBeLessThanOrEqual(5);
  });

  it('treats a masked server frame as a protocol error (close 1002, counted, then reconnects)', async () => {
    const srv = await rawServer({
      onConn: ({ sock, index }) => {
        sock.write(index === 0 ? frame(0x1, 'secret', { mask: true }) : frame(0x1, 'clean'));
      },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.msgs.length === 1, 'message after reconnect');
    expect(c.msgs[0]!.text).toBe('clean');
    expect(ws.protocolErrors).toBe(1);
    expect(c.closes[0]).toMatchObject({ code: 1002, willReconnect: true });
    expect(c.errors[0]!.message).toMatch(/masked/);
    const sentByClient = srv.conns[0]!.frames;
    expect(sentByClient[0]!.op).toBe(0x8);
    expect(sentByClient[0]!.payload.readUInt16BE(0)).toBe(1002);
  });

  it('fails the connection on other protocol violations', async () => {
    const bad: Array<[string, Buffer, number]> = [
      ['continuation without start', frame(0x0, 'x'), 1002],
      ['RSV1 without extension', frame(0x1, 'x', { rsv: 4 }), 1002],
      ['reserved opcode', frame(0x3, 'x'), 1002],
      ['fragmented ping', frame(0x9, 'x', { fin: false }), 1002],
      ['new message inside a fragmented one', Buffer.concat([frame(0x1, 'a', { fin: false }), frame(0x1, 'b')]), 1002],
      ['control frame over 125 bytes', frame(0x9, payload(126, 1)), 1002],
      ['1-byte close payload', frame(0x8, Buffer.from([3])), 1002],
      ['frame over maxFrameBytes', frame(0x1, payload(2_000, 1)), 1009],
      ['fragmented message over maxFrameBytes', Buffer.concat([frame(0x1, payload(600, 1), { fin: false }), frame(0x0, payload(600, 2))]), 1009],
    ];
    for (const [what, wire, code] of bad) {
      const srv = await rawServer({ onConn: ({ sock }) => { sock.write(wire); } });
      const c = collector();
      const ws = client(srv.url, c.handler, { maxFrameBytes: 1_000, reconnect: false });
      ws.connect();
      await waitFor(() => c.closes.length === 1, what);
      expect(c.closes[0], what).toMatchObject({ code, willReconnect: false });
      expect(ws.protocolErrors, what).toBe(1);
      expect(c.msgs, what).toEqual([]);
      ws.close();
      srv.close();
    }
  });

  it('replies to a server close frame with the same code, then reconnects', async () => {
    const srv = await rawServer({
      onConn: ({ sock, index }) => {
        if (index === 0) {
          sock.write(Buffer.concat([frame(0x1, 'before'), frame(0x8, Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('24h limit')])), frame(0x1, 'ignored')]));
        } else {
          sock.write(frame(0x1, 'after'));
        }
      },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.msgs.length === 2, 'after');
    expect(c.msgs.map((m) => m.text)).toEqual(['before', 'after']);
    expect(c.closes[0]).toEqual({ code: 4000, reason: '24h limit', willReconnect: true });
    const reply = srv.conns[0]!.frames[0]!;
    expect(reply.op).toBe(0x8);
    expect(reply.masked).toBe(true);
    expect(reply.payload.readUInt16BE(0)).toBe(4000);
  });

  it('sends the expected upgrade request: key, version, extra headers, no extensions offered', async () => {
    const srv = await rawServer({ onConn: ({ sock }) => { sock.write(frame(0x1, 'x')); } });
    const c = collector();
    const ws = client(`ws://127.0.0.1:${srv.port}/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker`, c.handler, {
      headers: { 'User-Agent': 'hft-engine', 'X-Test': '1' },
    });
    ws.connect();
    await waitFor(() => c.msgs.length === 1, 'message');
    const req = srv.conns[0]!.request;
    expect(req.split('\r\n')[0]).toBe('GET /stream?streams=btcusdt@bookTicker/ethusdt@bookTicker HTTP/1.1');
    expect(req).toMatch(/\r\nHost: 127\.0\.0\.1:\d+\r\n/);
    expect(req).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/);
    expect(Buffer.from(/Sec-WebSocket-Key: (\S+)/.exec(req)![1]!, 'base64').length).toBe(16);
    expect(req).toMatch(/\r\nUser-Agent: hft-engine\r\nX-Test: 1$/);
    expect(req.toLowerCase()).not.toContain('sec-websocket-extensions');
    expect(() => new WsClient('http://x/', c.handler)).toThrow(/scheme/);
    expect(() => new WsClient('ws://x/', c.handler, { headers: { 'X-Evil': 'a\r\nb' } })).toThrow(/header/);
  });

  it('a handler that throws drops the connection (1011) and reconnects; the process survives', async () => {
    const srv = await rawServer({ onConn: ({ sock, index }) => { sock.write(frame(0x1, index === 0 ? 'boom' : 'fine')); } });
    const c = collector();
    const inner = c.handler;
    const ws = client(srv.url, {
      ...inner,
      onMessage: (buf, s, e, ts, bin) => {
        if (buf.toString('utf8', s, e) === 'boom') throw new Error('decoder bug');
        inner.onMessage(buf, s, e, ts, bin);
      },
    });
    ws.connect();
    await waitFor(() => c.msgs.length === 1, 'fine');
    expect(c.closes[0]).toMatchObject({ code: 1011, willReconnect: true });
    expect(c.errors.map((e) => e.message)).toContain('decoder bug');
  });
});

describe('WsClient handshake failures, timeouts and backoff', () => {
  it('non-101 response -> error, onClose, reconnect (no crash)', async () => {
    const srv = await rawServer({
      respond: (key, i) => (i === 0 ? 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n' : ok101(key)),
      onConn: ({ sock }) => { sock.write(frame(0x1, 'welcome')); },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.msgs.length === 1, 'welcome');
    expect(ws.handshakeErrors).toBe(1);
    expect(c.errors[0]!.message).toMatch(/handshake failed: unexpected status 403/);
    expect(c.closes[0]).toMatchObject({ code: 1006, willReconnect: true });
    expect(c.opens).toBe(1);
  });

  it('wrong Sec-WebSocket-Accept, or an extension not offered -> error + reconnect', async () => {
    const srv = await rawServer({
      respond: (key, i) => {
        if (i === 0) return ok101('not-the-key');
        if (i === 1) return ok101(key).replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n');
        return ok101(key);
      },
      onConn: ({ sock }) => { sock.write(frame(0x1, 'welcome')); },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.msgs.length === 1, 'welcome');
    expect(ws.handshakeErrors).toBe(2);
    expect(c.errors[0]!.message).toMatch(/wrong Sec-WebSocket-Accept/);
    expect(c.errors[1]!.message).toMatch(/extension/);
    expect(c.closes.map((x) => x.willReconnect)).toEqual([true, true]);
  });

  it('handshake and first frames arriving in the same chunk are both handled', async () => {
    const srv = await rawServer({
      respond: (key) => ok101(key) + frame(0x1, 'glued-1').toString('latin1') + frame(0x1, 'glued-2').toString('latin1'),
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.msgs.length === 2, 'glued frames');
    expect(c.msgs.map((m) => m.text)).toEqual(['glued-1', 'glued-2']);
  });

  it('connect timeout and connection refused -> error + reconnect, no crash', async () => {
    const silent = await rawServer({ respond: () => null });
    const c = collector();
    const ws = client(silent.url, c.handler, { connectTimeoutMs: 80 });
    ws.connect();
    await waitFor(() => silent.connTimes.length >= 2, 'second attempt after timeout');
    expect(c.errors[0]!.message).toMatch(/connect timeout/);
    expect(c.closes[0]).toMatchObject({ code: 1006, reason: 'connect timeout', willReconnect: true });
    ws.close();

    const port = silent.port;
    silent.close();
    await sleep(20);
    const c2 = collector();
    const ws2 = client(`ws://127.0.0.1:${port}/`, c2.handler);
    ws2.connect();
    await waitFor(() => c2.closes.length >= 2, 'refused twice');
    expect(c2.errors[0]!.message).toMatch(/ECONNREFUSED/);
    expect(c2.closes[0]!.willReconnect).toBe(true);
    expect(ws2.connects).toBe(0);
    ws2.close();
    expect(ws2.state).toBe('closed');
  });

  it('idle timeout drops a silent connection and reconnects', async () => {
    const srv = await rawServer({ onConn: ({ sock, index }) => { sock.write(frame(0x1, `c${index}`)); } });
    const c = collector();
    const ws = client(srv.url, c.handler, { idleTimeoutMs: 120 });
    ws.connect();
    await waitFor(() => c.msgs.length >= 2, 'second connection');
    expect(c.closes[0]).toMatchObject({ reason: 'idle timeout', willReconnect: true });
    expect(c.msgs.slice(0, 2).map((m) => m.text)).toEqual(['c0', 'c1']);
  });

  it('nextBackoffMs grows by the multiplier, is capped, and jitters within [base*(1-j), base]', () => {
    let r = 0;
    const c = collector();
    const ws = new WsClient('ws://127.0.0.1:1/', c.handler, {
      backoff: { initialMs: 100, maxMs: 10_000, multiplier: 2, jitter: 0.3 },
      random: () => r,
    });
    const bases = [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000];
    for (let a = 0; a < bases.length; a++) {
      r = 0;
      expect(ws.nextBackoffMs(a)).toBeCloseTo(bases[a]! * 0.7, 9);
      r = 0.999999;
      expect(ws.nextBackoffMs(a)).toBeCloseTo(bases[a]! * (0.7 + 0.3 * 0.999999), 6);
      r = 0.5;
      expect(ws.nextBackoffMs(a)).toBeCloseTo(bases[a]! * 0.85, 9);
    }
    expect(ws.nextBackoffMs(5_000)).toBeCloseTo(10_000 * 0.85, 6); // no overflow past the cap
    // many draws with a real RNG: always in range
    const ws2 = new WsClient('ws://127.0.0.1:1/', c.handler, { backoff: { initialMs: 50, maxMs: 1_000, jitter: 1 } });
    for (let a = 0; a < 12; a++) {
      const base = Math.min(1_000, 50 * 2 ** a);
      for (let k = 0; k < 200; k++) {
        const d = ws2.nextBackoffMs(a);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(base);
      }
    }
    // defaults
    const ws3 = new WsClient('ws://127.0.0.1:1/', c.handler, { random: () => 0 });
    expect(ws3.nextBackoffMs(0)).toBeCloseTo(70, 9);
    expect(ws3.nextBackoffMs(20)).toBeCloseTo(7_000, 9);
  });

  it('live reconnect delays follow the backoff schedule while the server keeps failing', async () => {
    const srv = await rawServer({ respond: () => 'HTTP/1.1 503 Service Unavailable\r\n\r\n' });
    const c = collector();
    const ws = client(srv.url, c.handler, { backoff: { initialMs: 20, multiplier: 2, maxMs: 100, jitter: 0.5 }, random: () => 1 });
    ws.connect();
    await waitFor(() => srv.connTimes.length >= 6, '6 attempts');
    ws.close();
    const gaps = srv.connTimes.slice(1, 6).map((t, i) => t - srv.connTimes[i]!);
    const expected = [20, 40, 80, 100, 100];
    for (let i = 0; i < gaps.length; i++) {
      expect(gaps[i]!).toBeGreaterThanOrEqual(expected[i]! - 3);
      expect(gaps[i]!).toBeLessThan(expected[i]! + 120);
    }
    expect(ws.handshakeErrors).toBeGreaterThanOrEqual(5);
    expect(c.opens).toBe(0);
  });

  it('the attempt counter resets once a connection delivered messages', async () => {
    const srv = await rawServer({
      respond: (key, i) => (i < 3 ? 'HTTP/1.1 500 Oops\r\n\r\n' : ok101(key)),
      onConn: ({ sock }) => { sock.write(frame(0x1, 'data')); setTimeout(() => sock.destroy(), 10); },
    });
    const c = collector();
    const ws = client(srv.url, c.handler);
    ws.connect();
    await waitFor(() => c.closes.length === 3, 'three failed handshakes');
    expect(ws.backoffAttempt).toBe(3);
    await waitFor(() => c.closes.length === 4, 'drop after data');
    // reset to 0 by the delivered message, then 1 for the reconnect just scheduled
    expect(ws.backoffAttempt).toBe(1);
  });
});

describe('WsClient over TLS', () => {
  let cert: { key: Buffer; cert: Buffer } | null = null;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'wsc-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    cert = { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
    rmSync(dir, { recursive: true, force: true });
  } catch {
    cert = null;
  }

  it.skipIf(cert === null)('wss:// with SNI and a verified certificate; split frames, ping and reconnect', async () => {
    const srv = await rawServer({
      tls: cert!,
      onConn: async ({ sock, index }) => {
        const wire = Buffer.concat([frame(0x9, 'tls-ping'), frame(0x1, payload(70_000, index)), frame(0x1, `tls-${index}`)]);
        await writeInPieces(sock, wire, (i) => (i < 20 ? 1 : 8_192), 1);
        if (index === 0) sock.destroy();
      },
    });
    const c = collector();
    const ws = client(`wss://localhost:${srv.port}/ws`, c.handler, { tls: { ca: cert!.cert } });
    ws.connect();
    await waitFor(() => c.msgs.length === 4, 'tls messages');
    expect(c.msgs[0]!.data.equals(payload(70_000, 0))).toBe(true);
    expect(c.msgs.map((m) => m.text.length < 100 ? m.text : '*')).toEqual(['*', 'tls-0', '*', 'tls-1']);
    expect(ws.pongsOut).toBe(2);
    expect(ws.reconnects).toBe(1);
    expect(c.errors).toEqual([]);
  });
});
