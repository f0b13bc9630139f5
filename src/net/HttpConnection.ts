/**
 * One persistent HTTP/1.1 keep-alive connection to one origin, hand-written over `node:net` (or
 * `node:tls` for https://), for the order path.
 *
 * Why not undici's `Client`: undici 7 defers every write on an idle keep-alive socket by one
 * `setImmediate` (idle socket validation) and builds a Request object per call, so the send stage
 * (call -> bytes written) costs tens of microseconds more than the write itself. Here `request()`
 * encodes the whole request into a pooled buffer and hands it to the socket with ONE `socket.write`
 * in the same tick; `onWritten` fires synchronously right after it. bench/httpTransport.ts keeps the
 * proof, side by side with undici in one run.
 *
 * Per request nothing is allocated on our side except the response body Buffer (and, when the
 * request length differs from that pooled buffer's previous request, one Buffer view): the request
 * slot, the write buffer and its write callback are pooled, the header block is pre-encoded by the
 * caller, and responses are read into one preallocated buffer (`onread`, plain TCP) and parsed in
 * place. The header view passed to `onResponse` is reused: read it during the call only.
 *
 * Pipelining: at most `maxInFlight` requests are on the wire (default 1); the rest wait in a FIFO
 * queue and are written as soon as a response completes. Responses are paired with requests in order.
 *
 * Failure semantics (what `written` in `onError` means): `written === true` means the request bytes
 * reached the socket, so the server may have acted on it (an order's fate is unknown); `false` means
 * the request was never written (safe to resend). On a timeout, a socket error, an unexpected close
 * or a protocol error the connection is destroyed; every outstanding request errors (written ones
 * with `true`, queued ones with `false`) and the connection is re-established on the next request.
 * On a response carrying `connection: close` (or an HTTP/1.0 response without keep-alive), the
 * response is delivered, requests already written behind it error with `written === true`, and the
 * queued ones are kept and sent on a new connection.
 *
 * Not done on purpose: no idle-socket validation before a write (the caller keeps the connection
 * warm, e.g. a periodic GET /fapi/v1/time; a socket whose FIN was already seen is never written to),
 * no automatic retry (never resend an order blindly), no redirects, no compression, no `Expect`.
 *
 * Handler callbacks are called synchronously from `request()` (`onWritten`, and `onError` when the
 * connection was closed by `close()`) and from socket events; they may call `request()` again.
 * They must not throw.
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import { nowNs } from '../util/clock.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PUT';

/** Read access to the headers of the response being delivered (valid only during `onResponse`). */
export interface HttpHeaderView {
  /** Value of the first header with this name (case-insensitive), or undefined. */
  get(name: string): string | undefined;
}

export interface HttpResponseHandler {
  /** The request bytes were handed to the socket; `ts` is one clock reading taken right after `socket.write`. */
  onWritten(ts: number): void;
  /** A complete response. `body` is owned by the handler; `headers` is reused after the call returns. */
  onResponse(status: number, body: Buffer, headers: HttpHeaderView): void;
  /** The request failed. `written`: its bytes reached the socket (the server may have acted on it). */
  onError(err: Error, written: boolean): void;
}

export interface HttpConnectionOptions {
  /** Requests on the wire at once (HTTP/1.1 pipelining). Default 1. */
  maxInFlight?: number;
  /** TCP (+TLS) connect timeout, ms; 0 = none. Default 5000. */
  connectTimeoutMs?: number;
  /** Per-request timeout, ms, counted from the `request()` call (queue wait included); 0 = none. Default 10_000. */
  requestTimeoutMs?: number;
  /** Reconnect at once when an idle connection is closed by the server (default false: on the next request). */
  idleReconnect?: boolean;
  /** Clock for `onWritten` timestamps. Default `nowNs` (float64 ns). */
  clock?: () => number;
  /** Extra options for `tls.connect` on https:// (e.g. `ca` for a test server). */
  tls?: tls.ConnectionOptions;
}

export interface HttpConnectionCounters {
  /** `request()` calls. */
  requests: number;
  /** Responses delivered to `onResponse`. */
  responses: number;
  /** Requests that ended in `onError`. */
  errors: number;
  /** Connection attempts made after the first connection had been established. */
  reconnects: number;
  /** Requests that timed out (each destroyed the connection). */
  timeouts: number;
  /** Request bytes written. */
  bytesOut: number;
  /** Response bytes read. */
  bytesIn: number;
}

export type HttpConnectionErrorCode = 'ETIMEDOUT' | 'ECONNRESET' | 'ECONNECT' | 'EPROTO' | 'ECLOSED';

export class HttpConnectionError extends Error {
  constructor(
    readonly code: HttpConnectionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpConnectionError';
  }
}

// ---- internals ------------------------------------------------------------------------------------------

const enum ConnState {
  Idle = 0,
  Connecting = 1,
  Open = 2,
  Closed = 3,
}

const enum ParseState {
  Head = 0,
  BodyLength = 1,
  ChunkSize = 2,
  ChunkData = 3,
  ChunkDataEnd = 4,
  Trailers = 5,
  BodyUntilClose = 6,
}

const CR = 13;
const LF = 10;
const WRITE_BUF_SIZE = 2048;
const READ_BUF_SIZE = 64 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_HEADERS = 256;
const EMPTY = Buffer.alloc(0);
const CONTENT_LENGTH = Buffer.from('content-length: ', 'latin1');
const PREFIX_GET = Buffer.from('GET ', 'latin1');
const PREFIX_POST = Buffer.from('POST ', 'latin1');
const PREFIX_DELETE = Buffer.from('DELETE ', 'latin1');
const PREFIX_PUT = Buffer.from('PUT ', 'latin1');

/** One request, from `request()` to its response or error. Pooled. */
class Slot {
  handler: HttpResponseHandler | null = null;
  method: HttpMethod = 'GET';
  path = '';
  headerBlock: Buffer = EMPTY;
  body: Uint8Array | null = null;
  /** performance.now() ms after which the request times out (Infinity: no timeout). */
  deadline = Infinity;
  written = false;

  clear(): void {
    this.handler = null;
    this.path = '';
    this.headerBlock = EMPTY;
    this.body = null;
    this.written = false;
  }
}

/** A write buffer the socket may keep until its write callback; recycled there. */
class WriteBuf {
  buf: Buffer;
  view: Buffer;
  viewLen = -1;
  readonly done: (err?: Error | null) => void;

  constructor(size: number, pool: WriteBuf[]) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = this.buf;
    this.done = (): void => {
      pool.push(this);
    };
  }

  /** The first `len` bytes as a Buffer (cached: the same length reuses the same view). */
  slice(len: number): Buffer {
    if (len !== this.viewLen) {
      this.view = this.buf.subarray(0, len);
      this.viewLen = len;
    }
    return this.view;
  }

  ensure(size: number): void {
    if (this.buf.length >= size) return;
    this.buf = Buffer.allocUnsafe(Math.max(size, this.buf.length * 2));
    this.viewLen = -1;
  }
}

class HeaderStore implements HttpHeaderView {
  buf: Buffer = Buffer.allocUnsafe(1024);
  /** Per header: name start, name end, value start, value end (in `buf`). */
  offs = new Int32Array(4 * 32);
  count = 0;

  get(name: string): string | undefined {
    const i = this.find(name);
    return i < 0 ? undefined : this.buf.toString('latin1', this.offs[i + 2]!, this.offs[i + 3]!);
  }

  /** Index into `offs` of the first header with this name, or -1. */
  find(name: string): number {
    const buf = this.buf;
    const offs = this.offs;
    const len = name.length;
    outer: for (let h = 0; h < this.count; h++) {
      const i = h * 4;
      const ns = offs[i]!;
      if (offs[i + 1]! - ns !== len) continue;
      for (let j = 0; j < len; j++) {
        let a = buf[ns + j]!;
        let b = name.charCodeAt(j);
        if (a >= 65 && a <= 90) a |= 0x20;
        if (b >= 65 && b <= 90) b |= 0x20;
        if (a !== b) continue outer;
      }
      return i;
    }
    return -1;
  }

  add(ns: number, ne: number, vs: number, ve: number): void {
    let i = this.count * 4;
    if (i + 4 > this.offs.length) {
      const o = new Int32Array(this.offs.length * 2);
      o.set(this.offs);
      this.offs = o;
    }
    const offs = this.offs;
    offs[i++] = ns;
    offs[i++] = ne;
    offs[i++] = vs;
    offs[i] = ve;
    this.count++;
  }
}

/** true when buf[s, e) equals the lower-case ASCII `lower`, ignoring case. */
function eqLower(buf: Buffer, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let j = 0; j < lower.length; j++) {
    let c = buf[s + j]!;
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== lower.charCodeAt(j)) return false;
  }
  return true;
}

/** true when the comma-separated list buf[s, e) contains the token `lower` (case-insensitive). */
function hasToken(buf: Buffer, s: number, e: number, lower: string): boolean {
  let i = s;
  while (i < e) {
    let j = i;
    while (j < e && buf[j] !== 44) j++;
    let a = i;
    let b = j;
    while (a < b && (buf[a] === 32 || buf[a] === 9)) a++;
    while (b > a && (buf[b - 1] === 32 || buf[b - 1] === 9)) b--;
    if (eqLower(buf, a, b, lower)) return true;
    i = j + 1;
  }
  return false;
}

/** Index of the first "\r\n\r\n" starting within [from, to) and ending by `to`, or -1. */
function findHeadEnd(b: Buffer, from: number, to: number): number {
  for (let i = from + 3; i < to; i++) {
    if (b[i] === LF && b[i - 1] === CR && b[i - 2] === LF && b[i - 3] === CR) return i - 3;
  }
  return -1;
}

/** Writes the decimal digits of a non-negative integer at `o`; returns the new offset. */
function writeUint(buf: Buffer, o: number, n: number): number {
  if (n === 0) {
    buf[o] = 48;
    return o + 1;
  }
  let digits = 0;
  for (let t = n; t > 0; t = Math.floor(t / 10)) digits++;
  let p = o + digits;
  for (let t = n; t > 0; t = Math.floor(t / 10)) buf[--p] = 48 + (t % 10);
  return o + digits;
}

type Sock = net.Socket | tls.TLSSocket;

interface Detached {
  handlers: HttpResponseHandler[];
  written: boolean[];
  waiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
}

/**
 * One persistent HTTP/1.1 connection to one origin (see the file comment for the contract).
 */
export class HttpConnection {
  readonly counters: HttpConnectionCounters = { requests: 0, responses: 0, errors: 0, reconnects: 0, timeouts: 0, bytesOut: 0, bytesIn: 0 };

  private readonly host: string;
  private readonly port: number;
  private readonly isTls: boolean;
  private readonly tlsOptions: tls.ConnectionOptions;
  private readonly maxInFlight: number;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly idleReconnect: boolean;
  private readonly clock: () => number;
  /** " HTTP/1.1\r\nhost: <host>\r\n" */
  private readonly lineTail: Buffer;

  private state = ConnState.Idle;
  private sock: Sock | null = null;
  /** Bumped whenever the socket changes: callbacks of an older socket are ignored. */
  private gen = 0;
  private everConnected = false;
  private connectTimer: NodeJS.Timeout | null = null;
  private connectWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  /** performance.now() when the current connection opened. */
  private openedAt = 0;

  // Outstanding requests: a ring of slots. [head, wEnd) written (in flight), [wEnd, tail) queued.
  private slots: Slot[];
  private mask: number;
  private head = 0;
  private wEnd = 0;
  private tail = 0;

  private readonly writePool: WriteBuf[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly onTimerBound = (): void => this.onTimer();

  // Response parser.
  private readonly readBuf = Buffer.allocUnsafe(READ_BUF_SIZE);
  private pState = ParseState.Head;
  private headCarry = Buffer.allocUnsafe(1024);
  private headCarryLen = 0;
  private readonly headers = new HeaderStore();
  private status = 0;
  private closeAfter = false;
  private bodyBuf: Buffer = EMPTY;
  /** Reusable accumulator of chunked and read-until-close bodies (copied out when complete). */
  private acc: Buffer = Buffer.allocUnsafe(4096);
  private bodyLen = 0;
  private bodyNeed = 0;
  private chunkSize = 0;
  private chunkDigits = 0;
  private chunkExt = false;
  private lineLen = 0;
  private sawCr = false;

  constructor(origin: string, opts: HttpConnectionOptions = {}) {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`HttpConnection: unsupported protocol ${u.protocol} in ${origin}`);
    this.isTls = u.protocol === 'https:';
    this.host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.port = u.port !== '' ? Number(u.port) : this.isTls ? 443 : 80;
    this.tlsOptions = opts.tls ?? {};
    const maxInFlight = opts.maxInFlight ?? 1;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be an integer >= 1 (got ${maxInFlight})`);
    this.maxInFlight = maxInFlight;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.idleReconnect = opts.idleReconnect ?? false;
    this.clock = opts.clock ?? nowNs;
    this.lineTail = Buffer.from(` HTTP/1.1\r\nhost: ${u.host}\r\n`, 'latin1');
    this.slots = [];
    for (let i = 0; i < 16; i++) this.slots.push(new Slot());
    this.mask = 15;
    for (let i = 0; i < 2; i++) this.writePool.push(new WriteBuf(WRITE_BUF_SIZE, this.writePool));
  }

  /** Socket open and writable. */
  get connected(): boolean {
    return this.state === ConnState.Open;
  }

  /** Requests written and waiting for their response. */
  get inFlight(): number {
    return this.wEnd - this.head;
  }

  /** Requests waiting to be written. */
  get queued(): number {
    return this.tail - this.wEnd;
  }

  /** Opens the connection (no-op when open); resolves once connected. */
  connect(): Promise<void> {
    if (this.state === ConnState.Open) return Promise.resolve();
    if (this.state === ConnState.Closed) return Promise.reject(new HttpConnectionError('ECLOSED', 'connection closed'));
    const p = new Promise<void>((resolve, reject) => {
      this.connectWaiters.push({ resolve, reject });
    });
    if (this.state === ConnState.Idle) this.open();
    return p;
  }

  /**
   * Sends a request: written at once when the connection is open and fewer than `maxInFlight`
   * requests are on the wire, else queued (and the connection opened when it is not).
   * `headerBlock`: pre-encoded header lines, each ending in \r\n (host and content-length are added
   * here). `path` must be ASCII (percent-encoded). `body` is read when the request is written.
   */
  request(method: HttpMethod, path: string, headerBlock: Buffer, body: Uint8Array | null, handler: HttpResponseHandler): void {
    const c = this.counters;
    c.requests++;
    if (this.state === ConnState.Closed) {
      c.errors++;
      handler.onError(new HttpConnectionError('ECLOSED', 'connection closed'), false);
      return;
    }
    if (this.tail - this.head === this.slots.length) this.grow();
    const s = this.slots[this.tail & this.mask]!;
    this.tail++;
    s.handler = handler;
    s.method = method;
    s.path = path;
    s.headerBlock = headerBlock;
    s.body = body;
    s.written = false;
    if (this.requestTimeoutMs > 0) {
      s.deadline = performance.now() + this.requestTimeoutMs;
      if (this.timer === null) this.armTimer(this.requestTimeoutMs);
    } else {
      s.deadline = Infinity;
    }
    if (this.state === ConnState.Open) {
      // No `sock.writable` check here (a getter chain costs ~0.6 us cold): socket ends and errors
      // reach us as events and take the state out of Open; pump() does check.
      if (this.wEnd === this.tail - 1 && this.wEnd - this.head < this.maxInFlight) this.writeNext();
      else this.pump();
    } else if (this.state === ConnState.Idle) {
      this.open();
    }
  }

  /** Errors every outstanding request (ECLOSED) and closes the socket; the connection cannot be used again. */
  close(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const sock = this.sock;
    const p =
      sock === null || sock.closed
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            sock.once('close', () => resolve());
          });
    this.state = ConnState.Closed;
    this.teardown(new HttpConnectionError('ECLOSED', 'connection closed'), null, ConnState.Closed);
    return p;
  }

  // ---- write path ---------------------------------------------------------------------------------------

  /** Writes the first queued request (caller checked: open, queue non-empty, room in flight). */
  private writeNext(): void {
    const s = this.slots[this.wEnd & this.mask]!;
    const sock = this.sock!;
    const path = s.path;
    const hb = s.headerBlock;
    const body = s.body;
    const bodyLen = body === null ? 0 : body.byteLength;
    const prefix = s.method === 'POST' ? PREFIX_POST : s.method === 'GET' ? PREFIX_GET : s.method === 'DELETE' ? PREFIX_DELETE : PREFIX_PUT;
    const lineTail = this.lineTail;
    const need = prefix.length + path.length + lineTail.length + CONTENT_LENGTH.length + 18 + hb.length + 2 + bodyLen;
    let wb = this.writePool.pop();
    if (wb === undefined) wb = new WriteBuf(Math.max(WRITE_BUF_SIZE, need), this.writePool);
    else wb.ensure(need);
    const buf = wb.buf;
    buf.set(prefix, 0);
    let o = prefix.length;
    // A JS loop beats Buffer#write here (a cold C++ call cost ~2 us per request in the bench).
    for (let i = 0; i < path.length; i++) buf[o++] = path.charCodeAt(i);
    buf.set(lineTail, o);
    o += lineTail.length;
    if (body !== null || s.method === 'POST' || s.method === 'PUT') {
      buf.set(CONTENT_LENGTH, o);
      o = writeUint(buf, o + CONTENT_LENGTH.length, bodyLen);
      buf[o++] = CR;
      buf[o++] = LF;
    }
    buf.set(hb, o);
    o += hb.length;
    buf[o++] = CR;
    buf[o++] = LF;
    if (body !== null) {
      buf.set(body, o);
      o += bodyLen;
    }
    this.wEnd++;
    s.written = true;
    const handler = s.handler!;
    s.body = null;
    this.counters.bytesOut += o;
    sock.write(wb.slice(o), wb.done);
    handler.onWritten(this.clock());
  }

  /** Writes queued requests while there is room in flight. */
  private pump(): void {
    if (this.state === ConnState.Open && this.wEnd !== this.tail && !this.sock!.writable) {
      this.reopen();
      return;
    }
    while (this.state === ConnState.Open && this.wEnd !== this.tail && this.wEnd - this.head < this.maxInFlight) this.writeNext();
  }

  private grow(): void {
    const old = this.slots;
    const n = this.tail - this.head;
    const next: Slot[] = [];
    for (let i = 0; i < n; i++) next.push(old[(this.head + i) & this.mask]!);
    // Free slots of the old ring, then fresh ones.
    for (let i = n; i < old.length; i++) next.push(old[(this.head + i) & this.mask]!);
    for (let i = old.length; i < old.length * 2; i++) next.push(new Slot());
    this.wEnd -= this.head;
    this.tail = n;
    this.head = 0;
    this.slots = next;
    this.mask = next.length - 1;
  }

  // ---- connection ---------------------------------------------------------------------------------------

  private open(): void {
    if (this.everConnected) this.counters.reconnects++;
    this.state = ConnState.Connecting;
    const gen = ++this.gen;
    this.resetParser();
    let sock: Sock;
    if (this.isTls) {
      const servername = net.isIP(this.host) === 0 ? this.host : undefined;
      const t = tls.connect({ ...this.tlsOptions, host: this.host, port: this.port, servername, ALPNProtocols: ['http/1.1'] });
      t.setNoDelay(true);
      t.on('data', (chunk: Buffer) => {
        if (this.gen === gen) this.onData(chunk, chunk.length);
      });
      t.once('secureConnect', () => this.onConnected(gen));
      sock = t;
    } else {
      const readBuf = this.readBuf;
      sock = net.connect({
        host: this.host,
        port: this.port,
        noDelay: true,
        onread: {
          buffer: readBuf,
          callback: (n: number): boolean => {
            if (this.gen === gen) this.onData(readBuf, n);
            return true;
          },
        },
      });
      sock.once('connect', () => this.onConnected(gen));
    }
    this.sock = sock;
    sock.on('error', (err: Error) => this.onSocketGone(gen, err));
    sock.on('end', () => this.onSocketGone(gen, null));
    sock.on('close', () => this.onSocketGone(gen, null));
    if (this.connectTimeoutMs > 0) {
      this.connectTimer = setTimeout(() => {
        this.connectTimer = null;
        if (this.gen === gen && this.state === ConnState.Connecting) {
          this.onSocketGone(gen, new HttpConnectionError('ECONNECT', `connect to ${this.host}:${this.port} timed out after ${this.connectTimeoutMs} ms`));
        }
      }, this.connectTimeoutMs);
    }
  }

  private onConnected(gen: number): void {
    if (this.gen !== gen || this.state !== ConnState.Connecting) return;
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
    this.state = ConnState.Open;
    this.everConnected = true;
    this.openedAt = performance.now();
    for (const w of this.connectWaiters.splice(0)) w.resolve();
    this.pump();
  }

  /** The socket of generation `gen` errored, ended or closed. */
  private onSocketGone(gen: number, err: Error | null): void {
    if (this.gen !== gen) return;
    if (this.state === ConnState.Connecting) {
      const e =
        err instanceof HttpConnectionError
          ? err
          : new HttpConnectionError('ECONNECT', `cannot connect to ${this.host}:${this.port}${err ? `: ${err.message}` : ''}`, { cause: err ?? undefined });
      this.teardown(e, null, ConnState.Idle);
      return;
    }
    if (this.state !== ConnState.Open) return;
    // A response that ends with the connection completes now.
    if (err === null && this.pState === ParseState.BodyUntilClose && this.head !== this.wEnd) {
      this.closeAfter = true;
      this.finishResponse(this.accBody(), gen);
      return;
    }
    // Eager reconnect only after an idle close of a connection that lived a while (no connect loop
    // against a server that accepts and drops at once).
    const eager = this.idleReconnect && this.head === this.tail && performance.now() - this.openedAt >= 1000;
    const e = new HttpConnectionError('ECONNRESET', err ? `connection lost: ${err.message}` : 'connection closed by the server', { cause: err ?? undefined });
    this.teardown(e, null, ConnState.Idle);
    if (eager && (this.state as ConnState) === ConnState.Idle) this.open();
  }

  /**
   * The socket died before we saw its events (not writable any more): written requests fail, queued
   * ones (never written) go out on a new connection.
   */
  private reopen(): void {
    const d = this.detach(ConnState.Idle, true);
    this.notify(d, new HttpConnectionError('ECONNRESET', 'connection lost'), null);
    if (this.state === ConnState.Idle && this.head !== this.tail) this.open();
  }

  /** Destroys the socket and errors every outstanding request (`firstErr`, if given, goes to the oldest one). */
  private teardown(err: Error, firstErr: Error | null, next: ConnState): void {
    this.notify(this.detach(next, false), err, firstErr);
  }

  /**
   * Destroys the socket and detaches the outstanding requests (written ones, and queued ones unless
   * `keepQueued`: those then stay queued for the next connection). No handler is called here.
   */
  private detach(next: ConnState, keepQueued: boolean): Detached {
    this.gen++;
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
    const sock = this.sock;
    this.sock = null;
    if (sock !== null && !sock.destroyed) sock.destroy();
    if (this.state !== ConnState.Closed) this.state = next;
    this.resetParser();
    const handlers: HttpResponseHandler[] = [];
    const written: boolean[] = [];
    const end = keepQueued ? this.wEnd : this.tail;
    for (let i = this.head; i < end; i++) {
      const s = this.slots[i & this.mask]!;
      handlers.push(s.handler!);
      written.push(s.written);
      s.clear();
    }
    if (keepQueued) {
      // Move the queued slots to the front (the freed ones go behind them).
      const n = this.tail - this.wEnd;
      if (this.head !== this.wEnd) {
        for (let i = 0; i < n; i++) {
          const a = (this.head + i) & this.mask;
          const b = (this.wEnd + i) & this.mask;
          const t = this.slots[a]!;
          this.slots[a] = this.slots[b]!;
          this.slots[b] = t;
        }
      }
      this.wEnd = this.head;
      this.tail = this.head + n;
    } else {
      this.head = this.wEnd = this.tail = 0;
    }
    const waiters = this.state === ConnState.Open ? [] : this.connectWaiters.splice(0);
    return { handlers, written, waiters };
  }

  private notify(d: Detached, err: Error, firstErr: Error | null): void {
    this.counters.errors += d.handlers.length;
    for (let i = 0; i < d.handlers.length; i++) d.handlers[i]!.onError(i === 0 && firstErr !== null ? firstErr : err, d.written[i]!);
    for (const w of d.waiters) w.reject(err);
  }

  // ---- timeouts -----------------------------------------------------------------------------------------

  private armTimer(ms: number): void {
    const t = setTimeout(this.onTimerBound, ms);
    t.unref();
    this.timer = t;
  }

  private onTimer(): void {
    this.timer = null;
    if (this.head === this.tail || this.state === ConnState.Closed) return;
    // FIFO with one timeout: the oldest outstanding request has the earliest deadline.
    const s = this.slots[this.head & this.mask]!;
    const left = s.deadline - performance.now();
    if (left > 0.5) {
      this.armTimer(Math.ceil(left));
      return;
    }
    this.counters.timeouts++;
    const e = new HttpConnectionError('ETIMEDOUT', `request timed out after ${this.requestTimeoutMs} ms (${s.written ? 'written' : 'not written'})`);
    const behind = new HttpConnectionError('ECONNRESET', 'connection reset after an earlier request timed out');
    this.teardown(behind, e, ConnState.Idle);
  }

  // ---- response parser ----------------------------------------------------------------------------------

  private resetParser(): void {
    this.pState = ParseState.Head;
    this.headCarryLen = 0;
    this.bodyBuf = EMPTY;
    this.bodyLen = 0;
    this.closeAfter = false;
  }

  private protocolError(msg: string): void {
    this.teardown(new HttpConnectionError('EPROTO', msg), null, ConnState.Idle);
  }

  private onData(buf: Buffer, n: number): void {
    this.counters.bytesIn += n;
    const gen = this.gen;
    let p = 0;
    while (p < n) {
      if (this.gen !== gen) return;
      switch (this.pState) {
        case ParseState.Head: {
          p = this.parseHead(buf, p, n, gen);
          if (p < 0) return;
          break;
        }
        case ParseState.BodyLength: {
          const take = Math.min(n - p, this.bodyNeed - this.bodyLen);
          buf.copy(this.bodyBuf, this.bodyLen, p, p + take);
          this.bodyLen += take;
          p += take;
          if (this.bodyLen === this.bodyNeed) this.finishResponse(this.bodyBuf, gen);
          break;
        }
        case ParseState.ChunkSize: {
          const c = buf[p++]!;
          if (c === LF) {
            if (this.chunkDigits === 0) return this.protocolError('bad chunk size line');
            this.chunkExt = false;
            this.chunkDigits = 0;
            if (this.chunkSize === 0) {
              this.pState = ParseState.Trailers;
              this.lineLen = 0;
            } else {
              this.pState = ParseState.ChunkData;
              this.ensureAcc(this.bodyLen + this.chunkSize);
            }
          } else if (this.chunkExt || c === CR) {
            // extension or CR before LF: skipped
          } else if (c === 59 /* ; */ || c === 32 || c === 9) {
            this.chunkExt = true;
          } else {
            const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
            if (d < 0 || this.chunkDigits >= 12) return this.protocolError('bad chunk size');
            this.chunkSize = this.chunkSize * 16 + d;
            this.chunkDigits++;
          }
          break;
        }
        case ParseState.ChunkData: {
          const take = Math.min(n - p, this.chunkSize);
          buf.copy(this.acc, this.bodyLen, p, p + take);
          this.bodyLen += take;
          this.chunkSize -= take;
          p += take;
          if (this.chunkSize === 0) {
            this.pState = ParseState.ChunkDataEnd;
            this.sawCr = false;
          }
          break;
        }
        case ParseState.ChunkDataEnd: {
          const c = buf[p++]!;
          if (c === CR && !this.sawCr) this.sawCr = true;
          else if (c === LF) {
            this.pState = ParseState.ChunkSize;
            this.chunkSize = 0;
            this.chunkDigits = 0;
            this.chunkExt = false;
          } else return this.protocolError('missing CRLF after chunk data');
          break;
        }
        case ParseState.Trailers: {
          const c = buf[p++]!;
          if (c === LF) {
            if (this.lineLen === 0) this.finishResponse(this.accBody(), gen);
            this.lineLen = 0;
          } else if (c !== CR) {
            this.lineLen++;
          }
          break;
        }
        case ParseState.BodyUntilClose: {
          const take = n - p;
          this.ensureAcc(this.bodyLen + take);
          buf.copy(this.acc, this.bodyLen, p, n);
          this.bodyLen += take;
          p = n;
          break;
        }
      }
    }
  }

  private ensureAcc(size: number): void {
    if (this.acc.length >= size) return;
    const b = Buffer.allocUnsafe(Math.max(size, this.acc.length * 2));
    this.acc.copy(b, 0, 0, this.bodyLen);
    this.acc = b;
  }

  /** A copy of the accumulated body. */
  private accBody(): Buffer {
    if (this.bodyLen === 0) return EMPTY;
    const body = Buffer.allocUnsafe(this.bodyLen);
    this.acc.copy(body, 0, 0, this.bodyLen);
    return body;
  }

  /** Consumes head bytes from buf[p, n); returns the new offset (n when the head is incomplete), -1 on error/abort. */
  private parseHead(buf: Buffer, p: number, n: number, gen: number): number {
    if (this.head === this.wEnd) {
      this.protocolError('response bytes with no request in flight');
      return -1;
    }
    let src: Buffer;
    let start: number;
    let end: number;
    let next: number;
    if (this.headCarryLen === 0) {
      const i = findHeadEnd(buf, p, n);
      if (i < 0) {
        this.carryHead(buf, p, n);
        return this.headCarryLen > MAX_HEAD_BYTES ? this.headTooLarge() : n;
      }
      src = buf;
      start = p;
      end = i + 4;
      next = end;
    } else {
      const prev = this.headCarryLen;
      this.carryHead(buf, p, n);
      const i = findHeadEnd(this.headCarry, Math.max(0, prev - 3), this.headCarryLen);
      if (i < 0) return this.headCarryLen > MAX_HEAD_BYTES ? this.headTooLarge() : n;
      src = this.headCarry;
      start = 0;
      end = i + 4;
      next = p + (end - prev);
      this.headCarryLen = 0;
    }
    if (end - start > MAX_HEAD_BYTES) return this.headTooLarge();
    if (!this.processHead(src, start, end)) return -1;
    if (this.pState === ParseState.Head) {
      // Interim 1xx response: skipped; or a response with no body: delivered now.
      if (this.status >= 200) {
        this.finishResponse(EMPTY, gen);
        if (this.gen !== gen) return -1;
      }
    }
    return next;
  }

  private headTooLarge(): number {
    this.protocolError('response head too large');
    return -1;
  }

  private carryHead(buf: Buffer, p: number, n: number): void {
    const need = this.headCarryLen + (n - p);
    if (need > this.headCarry.length) {
      const b = Buffer.allocUnsafe(Math.max(need, this.headCarry.length * 2));
      this.headCarry.copy(b, 0, 0, this.headCarryLen);
      this.headCarry = b;
    }
    buf.copy(this.headCarry, this.headCarryLen, p, n);
    this.headCarryLen = need;
  }

  /** Parses a complete head src[start, end) (ends with CRLFCRLF) into the header store and parser state. */
  private processHead(src: Buffer, start: number, end: number): boolean {
    const hs = this.headers;
    const len = end - start;
    if (hs.buf.length < len) hs.buf = Buffer.allocUnsafe(Math.max(len, hs.buf.length * 2));
    const b = hs.buf;
    src.copy(b, 0, start, end);
    hs.count = 0;
    // Status line: HTTP/1.x SSS reason
    if (len < 16 || b[0] !== 72 || b[1] !== 84 || b[2] !== 84 || b[3] !== 80 || b[4] !== 47 || b[5] !== 49 || b[6] !== 46 || b[8] !== 32) {
      this.protocolError('bad status line');
      return false;
    }
    const minor = b[7]! - 48;
    const s0 = b[9]! - 48;
    const s1 = b[10]! - 48;
    const s2 = b[11]! - 48;
    if (minor < 0 || minor > 9 || s0 < 1 || s0 > 5 || s1 < 0 || s1 > 9 || s2 < 0 || s2 > 9 || (b[12] !== 32 && b[12] !== CR)) {
      this.protocolError('bad status line');
      return false;
    }
    const status = s0 * 100 + s1 * 10 + s2;
    let i = 12;
    while (i < len && b[i] !== LF) i++;
    i++;
    let contentLength = -1;
    let chunked = false;
    let close = minor === 0;
    // Header lines until the empty line.
    while (i < len) {
      let e = i;
      while (e < len && b[e] !== LF) e++;
      let le = e;
      if (le > i && b[le - 1] === CR) le--;
      if (le === i) break; // empty line: end of head
      let colon = i;
      while (colon < le && b[colon] !== 58) colon++;
      if (colon === le || colon === i || b[i] === 32 || b[i] === 9) {
        this.protocolError('bad header line');
        return false;
      }
      let vs = colon + 1;
      let ve = le;
      while (vs < ve && (b[vs] === 32 || b[vs] === 9)) vs++;
      while (ve > vs && (b[ve - 1] === 32 || b[ve - 1] === 9)) ve--;
      if (hs.count >= MAX_HEADERS) {
        this.protocolError('too many headers');
        return false;
      }
      hs.add(i, colon, vs, ve);
      const nl = colon - i;
      if (nl === 14 && eqLower(b, i, colon, 'content-length')) {
        if (ve === vs || ve - vs > 15) {
          this.protocolError('bad content-length');
          return false;
        }
        let v = 0;
        for (let k = vs; k < ve; k++) {
          const d = b[k]! - 48;
          if (d < 0 || d > 9) {
            this.protocolError('bad content-length');
            return false;
          }
          v = v * 10 + d;
        }
        if (contentLength >= 0 && contentLength !== v) {
          this.protocolError('conflicting content-length');
          return false;
        }
        contentLength = v;
      } else if (nl === 17 && eqLower(b, i, colon, 'transfer-encoding')) {
        chunked = hasToken(b, vs, ve, 'chunked');
      } else if (nl === 10 && eqLower(b, i, colon, 'connection')) {
        if (hasToken(b, vs, ve, 'close')) close = true;
        else if (hasToken(b, vs, ve, 'keep-alive')) close = minor === 0 ? false : close;
      }
      i = e + 1;
    }
    this.status = status;
    this.closeAfter = close;
    this.bodyLen = 0;
    if (status < 200) {
      if (status === 101) {
        this.protocolError('unexpected 101 Switching Protocols');
        return false;
      }
      this.pState = ParseState.Head;
      this.closeAfter = false;
      return true;
    }
    if (status === 204 || status === 304) {
      this.pState = ParseState.Head;
    } else if (chunked) {
      this.pState = ParseState.ChunkSize;
      this.chunkSize = 0;
      this.chunkDigits = 0;
      this.chunkExt = false;
    } else if (contentLength >= 0) {
      if (contentLength === 0) {
        this.pState = ParseState.Head;
      } else {
        this.pState = ParseState.BodyLength;
        this.bodyNeed = contentLength;
        this.bodyBuf = Buffer.allocUnsafe(contentLength);
      }
    } else {
      this.pState = ParseState.BodyUntilClose;
      this.closeAfter = true;
    }
    return true;
  }

  /** Delivers the response of the oldest in-flight request, then writes queued requests. */
  private finishResponse(body: Buffer, gen: number): void {
    const s = this.slots[this.head & this.mask]!;
    const handler = s.handler!;
    s.clear();
    this.head++;
    const status = this.status;
    const closeAfter = this.closeAfter;
    this.pState = ParseState.Head;
    this.bodyBuf = EMPTY;
    this.bodyLen = 0;
    this.counters.responses++;
    if (this.head === this.tail) {
      // Nothing outstanding: rebase the ring indices.
      this.head = this.wEnd = this.tail = 0;
    }
    // On `connection: close`: no more writes on this socket; requests written behind this one are
    // lost (errored after this response is delivered), queued ones wait for the next connection.
    const lost = closeAfter ? this.detach(ConnState.Idle, true) : null;
    handler.onResponse(status, body, this.headers);
    if (lost !== null) {
      this.notify(lost, new HttpConnectionError('ECONNRESET', 'connection closed by the server (connection: close) before the response'), null);
      if (this.state === ConnState.Idle && (this.head !== this.tail || (this.idleReconnect && lost.handlers.length === 0))) this.open();
      return;
    }
    if (this.gen === gen) this.pump();
  }
}
