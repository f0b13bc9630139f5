import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpConnection, HttpConnectionError, type HttpHeaderView, type HttpResponseHandler } from '../src/net/HttpConnection.js';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';

// ---- helpers --------------------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  written: number[];
  status?: number;
  body?: string;
  headers?: Record<string, string | undefined>;
  error?: Error;
  errorWritten?: boolean;
}

/** A handler that records everything; `done` resolves on onResponse or onError. */
function recorder(readHeaders: string[] = []): { h: HttpResponseHandler; out: Outcome; done: Promise<Outcome> } {
  const out: Outcome = { written: [] };
  let resolve!: (o: Outcome) => void;
  const done = new Promise<Outcome>((r) => (resolve = r));
  const h: HttpResponseHandler = {
    onWritten(ts) {
      out.written.push(ts);
    },
    onResponse(status: number, body: Buffer, headers: HttpHeaderView) {
      out.status = status;
      out.body = body.toString('utf8');
      out.headers = {};
      for (const n of readHeaders) out.headers[n] = headers.get(n);
      resolve(out);
    },
    onError(err, written) {
      out.error = err;
      out.errorWritten = written;
      resolve(out);
    },
  };
  return { h, out, done };
}

interface RawRequest {
  method: string;
  path: string;
  head: string;
  body: string;
  raw: Buffer;
}

interface RawServer {
  url: string;
  port: number;
  connections: number;
  requests: RawRequest[];
  sockets: net.Socket[];
}

/**
 * A raw TCP server that splits the request stream (content-length bodies only) and calls `onRequest`
 * per request with the socket, so each test scripts the exact response bytes.
 */
async function rawServer(
  onRequest: (sock: net.Socket, req: RawRequest, index: number, conn: number) => void,
  opts: { server?: net.Server; onConnect?: (sock: net.Socket, conn: number) => void } = {},
): Promise<RawServer> {
  const server = opts.server;
  const st: RawServer = { url: '', port: 0, connections: 0, requests: [], sockets: [] };
  const onSocket = (sock: net.Socket): void => {
    const conn = st.connections++;
    st.sockets.push(sock);
    sock.setNoDelay(true);
    sock.on('error', () => {});
    opts.onConnect?.(sock, conn);
    let pending = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      for (;;) {
        const he = pending.indexOf('\r\n\r\n');
        if (he < 0) return;
        const head = pending.subarray(0, he).toString('latin1');
        const m = /\r\ncontent-length: (\d+)/i.exec(head);
        const len = m ? Number(m[1]) : 0;
        if (pending.length < he + 4 + len) return;
        const [method, path] = head.split(' ') as [string, string];
        const req: RawRequest = { method, path, head, body: pending.subarray(he + 4, he + 4 + len).toString('latin1'), raw: Buffer.from(pending.subarray(0, he + 4 + len)) };
        pending = pending.subarray(he + 4 + len);
        st.requests.push(req);
        onRequest(sock, req, st.requests.length - 1, conn);
      }
    });
  };
  const srv = server ?? net.createServer();
  srv.on(server ? 'secureConnection' : 'connection', onSocket);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const addr = srv.address() as net.AddressInfo;
  st.port = addr.port;
  st.url = `http://127.0.0.1:${addr.port}`;
  cleanups.push(async () => {
    for (const s of st.sockets) s.destroy();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  return st;
}

function conn(url: string, opts: ConstructorParameters<typeof HttpConnection>[1] = {}): HttpConnection {
  const c = new HttpConnection(url, opts);
  cleanups.push(() => c.close());
  return c;
}

const NO_HEADERS = Buffer.alloc(0);

function resp(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function chunkedResp(parts: string[], extra = ''): string {
  let s = `HTTP/1.1 200 OK\r\n${extra}Transfer-Encoding: chunked\r\n\r\n`;
  for (const p of parts) s += `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`;
  return s + '0\r\n\r\n';
}

/** Writes `data` in pieces (sizes from `sizes`, cycling), each piece after a timer tick so reads split. */
async function writeSplit(sock: net.Socket, data: string | Buffer, sizes: number[]): Promise<void> {
  const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  let i = 0;
  let k = 0;
  while (i < b.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    sock.write(b.subarray(i, i + n));
    i += n;
    await sleep(1);
  }
}

// ---- raw-server tests ---------------------------------------------------------------------------------

describe('HttpConnection against a scripted raw server', () => {
  it('writes the exact request bytes in one write and parses a content-length response (headers case-insensitive)', async () => {
    const srv = await rawServer((sock, req) => {
      if (req.method === 'GET') sock.write(resp('{"serverTime":1}', 'X-MBX-USED-WEIGHT-1M: 7\r\nRetry-After:  3 \r\n'));
      else sock.write('HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok');
    });
    let ts = 1000;
    const c = conn(srv.url, { clock: () => ++ts });
    await c.connect();
    expect(c.connected).toBe(true);
    const a = recorder(['x-mbx-used-weight-1m', 'RETRY-AFTER', 'content-type', 'x-missing']);
    c.request('GET', '/fapi/v1/time', NO_HEADERS, null, a.h);
    // onWritten ran synchronously, inside request(), with one clock reading.
    expect(a.out.written).toEqual([1001]);
    expect(c.inFlight).toBe(1);
    const ra = await a.done;
    expect(ra.status).toBe(200);
    expect(ra.body).toBe('{"serverTime":1}');
    expect(ra.headers).toEqual({ 'x-mbx-used-weight-1m': '7', 'RETRY-AFTER': '3', 'content-type': 'application/json', 'x-missing': undefined });

    const hb = Buffer.from('x-mbx-apikey: KEY\r\ncontent-type: application/x-www-form-urlencoded\r\n');
    const b = recorder();
    c.request('POST', '/fapi/v1/order', hb, Buffer.from('a=1&b=2'), b.h);
    const rb = await b.done;
    expect(rb.status).toBe(201);
    expect(rb.body).toBe('ok');
    const d = recorder();
    c.request('DELETE', '/fapi/v1/order?symbol=X', hb, null, d.h);
    await d.done;

    expect(srv.requests.map((r) => r.raw.toString('latin1'))).toEqual([
      `GET /fapi/v1/time HTTP/1.1\r\nhost: 127.0.0.1:${srv.port}\r\n\r\n`,
      `POST /fapi/v1/order HTTP/1.1\r\nhost: 127.0.0.1:${srv.port}\r\ncontent-length: 7\r\nx-mbx-apikey: KEY\r\ncontent-type: application/x-www-form-urlencoded\r\n\r\na=1&b=2`,
      `DELETE /fapi/v1/order?symbol=X HTTP/1.1\r\nhost: 127.0.0.1:${srv.port}\r\nx-mbx-apikey: KEY\r\ncontent-type: application/x-www-form-urlencoded\r\n\r\n`,
    ]);
    expect(srv.connections).toBe(1);
    const outBytes = srv.requests.reduce((s, r) => s + r.raw.length, 0);
    expect(c.counters).toMatchObject({ requests: 3, responses: 3, errors: 0, reconnects: 0, timeouts: 0, bytesOut: outBytes });
  });

  it('parses responses split byte by byte (content-length and chunked)', async () => {
    const r1 = resp('{"a":1}', 'x-mbx-order-count-10s: 5\r\n');
    const r2 = chunkedResp(['{"b":', '2}'], 'x-k: v\r\n');
    const srv = await rawServer((sock, _req, i) => void writeSplit(sock, i === 0 ? r1 : r2, [1]));
    const c = conn(srv.url);
    const a = recorder(['x-mbx-order-count-10s']);
    c.request('GET', '/a', NO_HEADERS, null, a.h);
    const b = recorder(['x-k', 'transfer-encoding']);
    c.request('GET', '/b', NO_HEADERS, null, b.h);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra).toMatchObject({ status: 200, body: '{"a":1}', headers: { 'x-mbx-order-count-10s': '5' } });
    expect(rb).toMatchObject({ status: 200, body: '{"b":2}', headers: { 'x-k': 'v', 'transfer-encoding': 'chunked' } });
    expect(c.counters.bytesIn).toBe(r1.length + r2.length);
    expect(c.counters.responses).toBe(2);
    expect(srv.connections).toBe(1);
  });

  it('delivers several responses that arrive in one write, in order (pipelined, maxInFlight 4)', async () => {
    const all =
      resp('first') +
      chunkedResp(['sec', 'ond'], 'X-Tag: two\r\n') +
      'HTTP/1.1 204 No Content\r\nx-tag: three\r\n\r\n' +
      'HTTP/1.1 100 Continue\r\n\r\n' +
      'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 9\r\nContent-Length: 6\r\n\r\nfourth';
    const srv = await rawServer((sock, _req, i) => {
      if (i === 3) sock.write(all); // all four answers, one write, after the 4th request arrived
    });
    const c = conn(srv.url, { maxInFlight: 4 });
    await c.connect();
    const rs = [0, 1, 2, 3].map(() => recorder(['x-tag', 'retry-after']));
    rs.forEach((r, i) => c.request('GET', `/${i}`, NO_HEADERS, null, r.h));
    // All four written at once (pipelining), none queued.
    expect(rs.map((r) => r.out.written.length)).toEqual([1, 1, 1, 1]);
    expect(c.inFlight).toBe(4);
    const out = await Promise.all(rs.map((r) => r.done));
    expect(out.map((o) => [o.status, o.body, o.headers?.['x-tag'], o.headers?.['retry-after']])).toEqual([
      [200, 'first', undefined, undefined],
      [200, 'second', 'two', undefined],
      [204, '', 'three', undefined],
      [429, 'fourth', undefined, '9'],
    ]);
    expect(c.counters).toMatchObject({ responses: 4, errors: 0 });
  });

  it('parses a stream of mixed responses cut at random points (chunk extensions, trailers, bare chunk CRLFs)', async () => {
    const bodies: string[] = [];
    let stream = '';
    for (let i = 0; i < 12; i++) {
      const body = `{"i":${i},"pad":"${'x'.repeat(i * 37)}"}`;
      bodies.push(body);
      if (i % 3 === 0) stream += resp(body);
      else if (i % 3 === 1) stream += chunkedResp([body.slice(0, 5), body.slice(5)]);
      else stream += `HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n${body.length.toString(16).toUpperCase()};ext=1\r\n${body}\r\n0\r\nx-trailer: t\r\n\r\n`;
    }
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 97) + 1;
    const sizes = Array.from({ length: 64 }, rand);
    const srv = await rawServer((sock, _req, i) => {
      if (i === 11) void writeSplit(sock, stream, sizes);
    });
    const c = conn(srv.url, { maxInFlight: 12 });
    const rs = bodies.map(() => recorder());
    rs.forEach((r, i) => c.request('GET', `/${i}`, NO_HEADERS, null, r.h));
    const out = await Promise.all(rs.map((r) => r.done));
    expect(out.map((o) => o.body)).toEqual(bodies);
    expect(out.every((o) => o.status === 200)).toBe(true);
    expect(c.counters).toMatchObject({ responses: 12, errors: 0, bytesIn: stream.length });
  });

  it('queues behind maxInFlight 1 and writes the next request only after the response completed', async () => {
    const srv = await rawServer((sock, _req, i) => void writeSplit(sock, resp(`r${i}`), [7]));
    const c = conn(srv.url);
    await c.connect();
    const rs = [0, 1, 2].map(() => recorder());
    const order: string[] = [];
    rs.forEach((r, i) => {
      const h = r.h;
      r.h = {
        onWritten: (ts) => {
          order.push(`w${i}`);
          h.onWritten(ts);
        },
        onResponse: (s, b, hd) => {
          order.push(`r${i}`);
          h.onResponse(s, b, hd);
        },
        onError: h.onError,
      };
      c.request('POST', '/o', NO_HEADERS, Buffer.from(`body${i}`), r.h);
    });
    expect(order).toEqual(['w0']);
    expect(c.queued).toBe(2);
    const out = await Promise.all(rs.map((r) => r.done));
    expect(out.map((o) => o.body)).toEqual(['r0', 'r1', 'r2']);
    expect(order).toEqual(['w0', 'r0', 'w1', 'r1', 'w2', 'r2']);
    expect(srv.requests.map((r) => r.body)).toEqual(['body0', 'body1', 'body2']);
  });

  it('honours connection: close (written request behind it fails written=true, the queued one goes out on a new connection)', async () => {
    const srv = await rawServer((sock, req, _i, connNo) => {
      if (connNo === 0 && req.path === '/1') {
        sock.end(resp('closing', 'Connection: close\r\n'));
      } else if (connNo === 1) {
        sock.write(resp(`again ${req.path}`));
      }
    });
    const c = conn(srv.url, { maxInFlight: 2 });
    await c.connect();
    const r1 = recorder();
    const r2 = recorder();
    const r3 = recorder();
    c.request('GET', '/1', NO_HEADERS, null, r1.h);
    c.request('GET', '/2', NO_HEADERS, null, r2.h);
    c.request('GET', '/3', NO_HEADERS, null, r3.h);
    expect([r1.out.written.length, r2.out.written.length, r3.out.written.length]).toEqual([1, 1, 0]);
    const [o1, o2, o3] = await Promise.all([r1.done, r2.done, r3.done]);
    expect(o1).toMatchObject({ status: 200, body: 'closing' });
    expect(o2.error).toBeInstanceOf(HttpConnectionError);
    expect((o2.error as HttpConnectionError).code).toBe('ECONNRESET');
    expect(o2.errorWritten).toBe(true);
    expect(o3).toMatchObject({ status: 200, body: 'again /3' });
    expect(srv.connections).toBe(2);
    expect(c.counters).toMatchObject({ requests: 3, responses: 2, errors: 1, reconnects: 1 });
    // The new connection stays usable.
    const r4 = recorder();
    c.request('GET', '/4', NO_HEADERS, null, r4.h);
    expect(await r4.done).toMatchObject({ status: 200, body: 'again /4' });
    expect(srv.connections).toBe(2);
  });

  it('reads a body without content-length until the server closes', async () => {
    const srv = await rawServer((sock) => {
      sock.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello ');
      setTimeout(() => sock.end('world'), 5);
    });
    const c = conn(srv.url);
    const r = recorder();
    c.request('GET', '/', NO_HEADERS, null, r.h);
    expect(await r.done).toMatchObject({ status: 200, body: 'hello world' });
    expect(c.counters.errors).toBe(0);
  });

  it('times out a request the server never answers: written=true for it, written=false for the queued one, then reconnects', async () => {
    let answer = false;
    const srv = await rawServer((sock, req) => {
      if (answer) sock.write(resp(`ok ${req.path}`));
    });
    const c = conn(srv.url, { requestTimeoutMs: 150 });
    await c.connect();
    const r1 = recorder();
    const r2 = recorder();
    const t0 = Date.now();
    c.request('POST', '/never', NO_HEADERS, Buffer.from('x=1'), r1.h);
    c.request('POST', '/queued', NO_HEADERS, Buffer.from('x=2'), r2.h);
    const [o1, o2] = await Promise.all([r1.done, r2.done]);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1000);
    expect((o1.error as HttpConnectionError).code).toBe('ETIMEDOUT');
    expect(o1.errorWritten).toBe(true);
    expect(o2.error).toBeInstanceOf(HttpConnectionError);
    expect(o2.errorWritten).toBe(false);
    expect(o2.written).toEqual([]);
    expect(c.counters).toMatchObject({ timeouts: 1, errors: 2, responses: 0 });
    expect(c.connected).toBe(false);
    expect(srv.requests.map((r) => r.path)).toEqual(['/never']);

    answer = true;
    const r3 = recorder();
    c.request('GET', '/later', NO_HEADERS, null, r3.h);
    expect(await r3.done).toMatchObject({ status: 200, body: 'ok /later' });
    expect(srv.connections).toBe(2);
    expect(c.counters).toMatchObject({ reconnects: 1, responses: 1, timeouts: 1 });
  });

  it('fails the in-flight request with written=true when the server closes mid-response, and recovers', async () => {
    const srv = await rawServer((sock, _req, i) => {
      if (i === 0) {
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial":');
        setTimeout(() => sock.destroy(), 10);
      } else {
        sock.write(resp('fine'));
      }
    });
    const c = conn(srv.url);
    const r1 = recorder();
    c.request('POST', '/o', NO_HEADERS, Buffer.from('q=1'), r1.h);
    const o1 = await r1.done;
    expect((o1.error as HttpConnectionError).code).toBe('ECONNRESET');
    expect(o1.errorWritten).toBe(true);
    expect(o1.written.length).toBe(1);
    const r2 = recorder();
    c.request('GET', '/t', NO_HEADERS, null, r2.h);
    expect(await r2.done).toMatchObject({ status: 200, body: 'fine' });
    expect(c.counters).toMatchObject({ requests: 2, responses: 1, errors: 1, reconnects: 1, timeouts: 0 });
  });

  it('reports a protocol error on a malformed status line', async () => {
    const srv = await rawServer((sock) => sock.write('HTTP/1.1 2x0 Bad\r\n\r\n'));
    const c = conn(srv.url);
    const r = recorder();
    c.request('GET', '/', NO_HEADERS, null, r.h);
    const o = await r.done;
    expect((o.error as HttpConnectionError).code).toBe('EPROTO');
    expect(o.errorWritten).toBe(true);
    expect(c.counters).toMatchObject({ errors: 1, responses: 0 });
  });

  it('drops a connection that sends bytes nobody asked for, and reconnects on the next request', async () => {
    const srv = await rawServer(
      (sock) => sock.write(resp('ok')),
      { onConnect: (sock, n) => void (n === 0 && sock.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n')) },
    );
    const c = conn(srv.url);
    await c.connect();
    for (let i = 0; i < 100 && c.connected; i++) await sleep(2);
    expect(c.connected).toBe(false);
    const r = recorder();
    c.request('GET', '/', NO_HEADERS, null, r.h);
    expect(await r.done).toMatchObject({ status: 200, body: 'ok' });
    expect(srv.connections).toBe(2);
    expect(c.counters).toMatchObject({ errors: 0, responses: 1, reconnects: 1 });
  });

  it('reconnects lazily after the server closed an idle keep-alive connection (no error)', async () => {
    const srv = await rawServer((sock, _req, i) => {
      sock.write(resp(`r${i}`));
      if (i === 0) setTimeout(() => sock.destroy(), 5);
    });
    const c = conn(srv.url);
    const r1 = recorder();
    c.request('GET', '/', NO_HEADERS, null, r1.h);
    expect(await r1.done).toMatchObject({ body: 'r0' });
    for (let i = 0; i < 100 && c.connected; i++) await sleep(2);
    expect(c.connected).toBe(false);
    const r2 = recorder();
    c.request('GET', '/', NO_HEADERS, null, r2.h);
    expect(await r2.done).toMatchObject({ status: 200, body: 'r1' });
    expect(srv.connections).toBe(2);
    expect(c.counters).toMatchObject({ requests: 2, responses: 2, errors: 0, reconnects: 1 });
  });

  it('connect failure: connect() rejects and queued requests fail with written=false', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = conn(`http://127.0.0.1:${port}`);
    const r = recorder();
    c.request('GET', '/', NO_HEADERS, null, r.h);
    const p = c.connect();
    await expect(p).rejects.toMatchObject({ code: 'ECONNECT' });
    const o = await r.done;
    expect((o.error as HttpConnectionError).code).toBe('ECONNECT');
    expect(o.errorWritten).toBe(false);
    expect(c.counters).toMatchObject({ requests: 1, errors: 1, reconnects: 0 });
  });

  it('close() fails outstanding requests and later requests synchronously', async () => {
    const srv = await rawServer(() => {});
    const c = conn(srv.url);
    await c.connect();
    const r1 = recorder();
    const r2 = recorder();
    c.request('GET', '/1', NO_HEADERS, null, r1.h);
    c.request('GET', '/2', NO_HEADERS, null, r2.h);
    await c.close();
    expect(r1.out).toMatchObject({ errorWritten: true });
    expect((r1.out.error as HttpConnectionError).code).toBe('ECLOSED');
    expect(r2.out).toMatchObject({ errorWritten: false });
    const r3 = recorder();
    c.request('GET', '/3', NO_HEADERS, null, r3.h);
    expect(r3.out.errorWritten).toBe(false);
    expect(c.counters.errors).toBe(3);
    await expect(c.connect()).rejects.toMatchObject({ code: 'ECLOSED' });
  });

  it('speaks https:// over node:tls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'httpconn-'));
    let key: Buffer;
    let cert: Buffer;
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
      key = readFileSync(join(dir, 'k.pem'));
      cert = readFileSync(join(dir, 'c.pem'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const srv = await rawServer((sock, req) => sock.write(chunkedResp([`tls ${req.path}`])), { server: tls.createServer({ key, cert }) });
    const c = conn(`https://localhost:${srv.port}`, { tls: { ca: cert } });
    const rs = [0, 1].map(() => recorder());
    rs.forEach((r, i) => c.request('GET', `/${i}`, NO_HEADERS, null, r.h));
    const out = await Promise.all(rs.map((r) => r.done));
    expect(out.map((o) => [o.status, o.body])).toEqual([
      [200, 'tls /0'],
      [200, 'tls /1'],
    ]);
    expect(srv.requests[0]!.head).toContain(`host: localhost:${srv.port}`);
    expect(srv.connections).toBe(1);
  });
});

// ---- against the simulated venue ----------------------------------------------------------------------

async function venue(): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, rate: 1000, paused: true });
  cleanups.push(() => v.close());
  return v;
}

/** A TCP proxy in front of the venue that counts the connections it sees. */
async function countingProxy(target: string): Promise<{ url: string; connections: () => number }> {
  const u = new URL(target);
  let n = 0;
  const socks: net.Socket[] = [];
  const srv = net.createServer((c) => {
    n++;
    const up = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true });
    c.setNoDelay(true);
    socks.push(c, up);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
    c.pipe(up);
    up.pipe(c);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  cleanups.push(async () => {
    for (const s of socks) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, connections: () => n };
}

function signedOrder(v: BinanceVenueHandle, clientId: string): Buffer {
  const q = `symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&newClientOrderId=${clientId}&newOrderRespType=RESULT&timestamp=${Date.now()}`;
  const sig = createHmac('sha256', v.apiSecret).update(q).digest('hex');
  return Buffer.from(`${q}&signature=${sig}`);
}

describe('HttpConnection against the simulated Binance venue', () => {
  it('GET /fapi/v1/time and a signed POST /fapi/v1/order', async () => {
    const v = await venue();
    const c = conn(v.restUrl);
    await c.connect();
    const t = recorder(['x-mbx-used-weight-1m']);
    c.request('GET', '/fapi/v1/time', NO_HEADERS, null, t.h);
    const ot = await t.done;
    expect(ot.status).toBe(200);
    const st = JSON.parse(ot.body!) as { serverTime: number };
    expect(Math.abs(st.serverTime - Date.now())).toBeLessThan(5000);
    expect(ot.headers!['x-mbx-used-weight-1m']).toBe('1');

    const hb = Buffer.from(`x-mbx-apikey: ${v.apiKey}\r\ncontent-type: application/x-www-form-urlencoded\r\n`);
    const o = recorder(['x-mbx-order-count-10s', 'x-mbx-order-count-1m']);
    c.request('POST', '/fapi/v1/order', hb, signedOrder(v, 'hc-one'), o.h);
    const oo = await o.done;
    expect(oo.status).toBe(200);
    const order = JSON.parse(oo.body!) as Record<string, unknown>;
    expect(order).toMatchObject({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', clientOrderId: 'hc-one', origQty: '0.010', status: 'FILLED' });
    expect(typeof order['orderId']).toBe('number');
    expect(oo.headers).toEqual({ 'x-mbx-order-count-10s': '1', 'x-mbx-order-count-1m': '1' });

    // A bad signature is answered (400/401 JSON), not a transport error.
    const bad = recorder();
    const body = Buffer.from(signedOrder(v, 'hc-bad').toString().replace(/signature=[0-9a-f]{4}/, 'signature=0000'));
    c.request('POST', '/fapi/v1/order', hb, body, bad.h);
    const ob = await bad.done;
    expect(ob.status).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(ob.body!)).toMatchObject({ code: -1022 });
    expect(c.counters).toMatchObject({ requests: 3, responses: 3, errors: 0, reconnects: 0 });
  });

  it('keeps request/response pairing over 200 sequential and 50 queued orders on one connection', async () => {
    const v = await venue();
    const proxy = await countingProxy(v.restUrl);
    const c = conn(proxy.url);
    const hb = Buffer.from(`x-mbx-apikey: ${v.apiKey}\r\ncontent-type: application/x-www-form-urlencoded\r\n`);
    for (let i = 0; i < 200; i++) {
      const r = recorder();
      c.request('POST', '/fapi/v1/order', hb, signedOrder(v, `seq-${i}`), r.h);
      const o = await r.done;
      expect(o.status).toBe(200);
      expect((JSON.parse(o.body!) as { clientOrderId: string }).clientOrderId).toBe(`seq-${i}`);
    }
    const rs = Array.from({ length: 50 }, () => recorder());
    const order: number[] = [];
    rs.forEach((r, i) => {
      const h = r.h;
      c.request('POST', '/fapi/v1/order', hb, signedOrder(v, `q-${i}`), {
        onWritten: h.onWritten,
        onResponse: (s, b, hd) => {
          order.push(i);
          h.onResponse(s, b, hd);
        },
        onError: h.onError,
      });
    });
    expect(c.inFlight).toBe(1);
    expect(c.queued).toBe(49);
    const out = await Promise.all(rs.map((r) => r.done));
    expect(out.map((o) => o.status)).toEqual(out.map(() => 200));
    expect(out.map((o) => (JSON.parse(o.body!) as { clientOrderId: string }).clientOrderId)).toEqual(rs.map((_, i) => `q-${i}`));
    expect(order).toEqual(rs.map((_, i) => i));
    expect(proxy.connections()).toBe(1);
    expect(c.counters).toMatchObject({ requests: 250, responses: 250, errors: 0, reconnects: 0, timeouts: 0 });
    expect(v.stats().orderRequests).toBe(250);
  });
});
