/**
 * Minimal RFC 6455 WebSocket client over `node:net` / `node:tls` that parses frames in place.
 *
 * Why not undici's WebSocket or `ws`: they hand every text frame over as a fresh JS string or Buffer.
 * This client hands the handler the socket bytes themselves, `(buf, start, end)`, so a byte decoder
 * can read the frame with no per-frame allocation (design §5). bench/wsclient.ts keeps the proof.
 *
 * Hot path (`onChunk`): the clock is read once per socket chunk and that value is passed as `recvTs`
 * to every frame of the chunk (design §3). A frame that lies within one chunk is delivered as a view
 * on the chunk: nothing is allocated. A frame split across chunks is completed in a preallocated
 * carry buffer (it grows only for a frame larger than it), and a fragmented message is reassembled
 * in a reusable growable buffer. On plain `ws://` the socket reads into one preallocated buffer
 * (`onread`), so not even the chunk is allocated; `wss://` gets one Buffer per TLS record from Node.
 *
 * The buffer passed to `onMessage` is only valid during the call: it is reused for the next read.
 *
 * Keep-alive per protocols.md §1.2: every server ping is answered with a pong carrying the same
 * payload; the server's close (e.g. at the 24 h mark) is answered and followed by a reconnect with
 * exponential backoff and jitter. No extension is offered (no permessage-deflate), so RSV bits set
 * on a frame are a protocol error. Text frames are not UTF-8 validated (the decoder reads bytes).
 */
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { nowNs } from '../util/clock.js';

export interface WsHandler {
  /** Handshake completed; `send` may be used from here. */
  onOpen(): void;
  /**
   * One complete message: bytes `buf[start, end)`. `buf` is reused after the call returns: copy what
   * must outlive it. `recvTs` is the clock reading (ns) of the socket chunk that completed the message.
   */
  onMessage(buf: Buffer, start: number, end: number, recvTs: number, isBinary: boolean): void;
  /**
   * The connection attempt or the connection ended (server close, socket error, protocol error,
   * failed handshake, timeout, or `close()`). Called once per connection attempt that had a socket.
   * `code` is the close code received or sent (1006 when the socket simply died).
   */
  onClose(code: number, reason: string, willReconnect: boolean): void;
  /** Socket errors, handshake failures, protocol errors, timeouts. Informational. */
  onError?(err: Error): void;
}

export interface WsBackoffOptions {
  /** Delay before the first reconnect, ms. Default 100. */
  initialMs?: number;
  /** Upper bound of the delay, ms. Default 10_000. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  multiplier?: number;
  /** Fraction (0..1) of the delay that is randomised: delay in [base*(1-jitter), base]. Default 0.3. */
  jitter?: number;
  /** A connection open at least this long resets the attempt counter. Default 5_000. */
  resetAfterMs?: number;
  /** A connection that delivered at least this many messages resets the attempt counter. Default 1. */
  resetAfterMessages?: number;
}

export interface WsClientOptions {
  /** Reconnect after the connection ends (not after `close()`). Default true. */
  reconnect?: boolean;
  backoff?: WsBackoffOptions;
  /** TCP connect + TLS + HTTP upgrade must finish within this, ms. Default 10_000. */
  connectTimeoutMs?: number;
  /** Close and reconnect when nothing at all is received for this long, ms. 0 = off (default). */
  idleTimeoutMs?: number;
  /** Extra handshake headers. */
  headers?: Record<string, string>;
  /** Largest frame payload and largest reassembled message, bytes. Default 16 MiB. Larger -> close 1009. */
  maxFrameBytes?: number;
  /** Uniform [0, 1) source for backoff jitter (inject for tests). Default Math.random. */
  random?: () => number;
  /** Nanosecond clock for recvTs and connection age (inject for tests). Default nowNs. */
  clock?: () => number;
  /** TCP_NODELAY. Default true. */
  noDelay?: boolean;
  /** Extra options for tls.connect on wss:// (e.g. `ca` for a simulator). */
  tls?: tls.ConnectionOptions;
  /** Size of the preallocated read buffer (ws://) and initial carry buffer, bytes. Default 64 KiB. */
  readBufferBytes?: number;
}

/**
 * 'idle' before the first connect(); 'connecting' during TCP/TLS connect and the HTTP upgrade; 'open';
 * 'closed' after a connection ended, including while a reconnect is pending (see `reconnectPending`).
 */
export type WsState = 'idle' | 'connecting' | 'open' | 'closed';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_HANDSHAKE_BYTES = 64 * 1024;
const CLOSE_LINGER_MS = 1_000;
const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
const MASK_POOL_BYTES = 4096;

type Sock = net.Socket | tls.TLSSocket;

export class WsClient {
  readonly url: URL;
  private readonly handler: WsHandler;
  private readonly isTls: boolean;
  private readonly host: string;
  private readonly port: number;
  private readonly path: string;
  private readonly extraHeaders: string;

  private readonly reconnectEnabled: boolean;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly multiplier: number;
  private readonly jitter: number;
  private readonly resetAfterNs: number;
  private readonly resetAfterMessages: number;
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxFrameBytes: number;
  private readonly random: () => number;
  private readonly clock: () => number;
  private readonly noDelay: boolean;
  private readonly tlsOptions: tls.ConnectionOptions | undefined;

  // connection
  private sock: Sock | null = null;
  private _state: WsState = 'idle';
  private userClosed = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private expectedAccept = '';
  private openedAtNs = 0;
  private lastRecvNs = 0;
  private messagesThisConn = 0;
  /** Bumped whenever the current connection is torn down: parsing stops when it changes. */
  private gen = 0;

  // handshake
  private hsBuf: Buffer;
  private hsLen = 0;

  // frame parsing
  private readonly readBuf: Buffer;
  private carry: Buffer;
  private carryLen = 0;
  /** Total bytes (header + payload) of the frame in carry; 0 while its header is incomplete. */
  private carryNeed = 0;
  private carryHdr = 0;
  private frag: Buffer;
  private fragLen = 0;
  /** Opcode of the message being reassembled, 0 when none. */
  private fragOpcode = 0;

  // outgoing masks
  private readonly maskPool: Buffer = Buffer.allocUnsafe(MASK_POOL_BYTES);
  private maskPos = MASK_POOL_BYTES;

  // counters
  private _connects = 0;
  private _reconnects = 0;
  private _framesIn = 0;
  private _messagesIn = 0;
  private _bytesIn = 0;
  private _pingsIn = 0;
  private _pongsIn = 0;
  private _pongsOut = 0;
  private _protocolErrors = 0;
  private _handshakeErrors = 0;

  constructor(url: string, handler: WsHandler, opts: WsClientOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`WsClient: unsupported scheme ${u.protocol}`);
    this.url = u;
    this.handler = handler;
    this.isTls = u.protocol === 'wss:';
    this.host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.port = u.port !== '' ? Number(u.port) : this.isTls ? 443 : 80;
    this.path = (u.pathname || '/') + u.search;
    let extra = '';
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (/[\r\n:]/.test(k) || /[\r\n]/.test(v)) throw new Error(`WsClient: invalid header ${k}`);
      extra += `${k}: ${v}\r\n`;
    }
    this.extraHeaders = extra;

    const b = opts.backoff ?? {};
    this.reconnectEnabled = opts.reconnect ?? true;
    this.initialMs = b.initialMs ?? 100;
    this.maxMs = b.maxMs ?? 10_000;
    this.multiplier = b.multiplier ?? 2;
    this.jitter = Math.min(1, Math.max(0, b.jitter ?? 0.3));
    this.resetAfterNs = (b.resetAfterMs ?? 5_000) * 1e6;
    this.resetAfterMessages = b.resetAfterMessages ?? 1;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    this.maxFrameBytes = opts.maxFrameBytes ?? 16 * 1024 * 1024;
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? nowNs;
    this.noDelay = opts.noDelay ?? true;
    this.tlsOptions = opts.tls;

    const rb = Math.max(1024, opts.readBufferBytes ?? 64 * 1024);
    this.readBuf = Buffer.allocUnsafe(rb);
    this.carry = Buffer.allocUnsafe(rb);
    this.frag = Buffer.allocUnsafe(rb);
    this.hsBuf = Buffer.allocUnsafe(4096);
  }

  // ---------------------------------------------------------------- counters

  get state(): WsState { return this._state; }
  /** Connections that completed the handshake. */
  get connects(): number { return this._connects; }
  /** Connection attempts started by the backoff timer. */
  get reconnects(): number { return this._reconnects; }
  /** Frames received (data, continuation and control). */
  get framesIn(): number { return this._framesIn; }
  /** Complete messages delivered to onMessage. */
  get messagesIn(): number { return this._messagesIn; }
  /** Bytes read from the socket (handshake included). */
  get bytesIn(): number { return this._bytesIn; }
  get pingsIn(): number { return this._pingsIn; }
  get pongsIn(): number { return this._pongsIn; }
  get pongsOut(): number { return this._pongsOut; }
  /** Frame-level violations (masked server frame, bad opcode, RSV bits, oversize, ...). */
  get protocolErrors(): number { return this._protocolErrors; }
  /** Failed upgrades (non-101, wrong accept, missing headers, unexpected extension). */
  get handshakeErrors(): number { return this._handshakeErrors; }
  /** Failed attempts since the last stable connection: the next reconnect waits nextBackoffMs(this). */
  get backoffAttempt(): number { return this.attempt; }
  get reconnectPending(): boolean { return this.reconnectTimer !== null; }
  /** Bytes queued in the socket's user-space write buffer (0 when not connected). */
  get bufferedAmount(): number { return this.sock === null ? 0 : this.sock.writableLength; }

  /**
   * Delay before reconnect attempt `attempt` (0-based): base = min(maxMs, initialMs * multiplier^attempt),
   * then the `jitter` fraction of it is drawn uniformly: result in [base * (1 - jitter), base].
   * Pure apart from one call to the injected `random`.
   */
  nextBackoffMs(attempt: number): number {
    const base = Math.min(this.maxMs, this.initialMs * Math.pow(this.multiplier, Math.max(0, attempt)));
    return base * (1 - this.jitter) + this.random() * base * this.jitter;
  }

  // ---------------------------------------------------------------- public API

  /** Start connecting (no-op while connecting or open). Also re-arms reconnects after `close()`. */
  connect(): void {
    this.userClosed = false;
    if (this.sock !== null) return;
    this.clearReconnectTimer();
    this.attempt = 0;
    this.open();
  }

  /**
   * Send one masked text frame. False when not open; true once handed to the socket (it queues when the
   * kernel buffer is full: see `bufferedAmount`). Allocates the frame: meant for control traffic such as
   * SUBSCRIBE, not for a per-message path.
   */
  send(text: string): boolean {
    const sock = this.sock;
    if (sock === null || this._state !== 'open') return false;
    const len = Buffer.byteLength(text, 'utf8');
    const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(hdr + 4 + len);
    this.writeHeader(frame, 0x80 | OP_TEXT, len);
    frame.write(text, hdr + 4, len, 'utf8');
    this.maskInPlace(frame, hdr, hdr + 4, hdr + 4 + len);
    sock.write(frame);
    return true;
  }

  /**
   * Send `bytes[start, end)` (UTF-8 text the caller wrote) as one masked text frame. Same contract as
   * `send`, without the string: the frame is the only allocation (the socket may hold it after write()).
   */
  sendText(bytes: Uint8Array, start: number, end: number): boolean {
    const sock = this.sock;
    if (sock === null || this._state !== 'open') return false;
    const len = end - start;
    const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(hdr + 4 + len);
    this.writeHeader(frame, 0x80 | OP_TEXT, len);
    // a byte loop, not frame.set(bytes.subarray(...)): no view object per frame
    for (let i = start, j = hdr + 4; i < end; i++, j++) frame[j] = bytes[i]!;
    this.maskInPlace(frame, hdr, hdr + 4, hdr + 4 + len);
    sock.write(frame);
    return true;
  }

  /** Close with `code` (default 1000) and do not reconnect. */
  close(code = 1000): void {
    this.userClosed = true;
    this.clearReconnectTimer();
    const sock = this.sock;
    if (sock === null) {
      if (this._state !== 'idle') this._state = 'closed';
      return;
    }
    if (this._state === 'open') {
      this.sendControl(OP_CLOSE, closePayload(code, ''), 0, -1);
      this.finish(code, 'client close', true);
    } else {
      this.finish(code, 'client close', false);
    }
  }

  // ---------------------------------------------------------------- connection lifecycle

  private open(): void {
    this._state = 'connecting';
    this.hsLen = 0;
    this.carryLen = 0;
    this.carryNeed = 0;
    this.fragLen = 0;
    this.fragOpcode = 0;
    this.messagesThisConn = 0;

    const key = randomBytes(16).toString('base64');
    this.expectedAccept = createHash('sha1').update(key + WS_GUID).digest('base64');
    const request =
      `GET ${this.path} HTTP/1.1\r\n` +
      `Host: ${this.url.host}\r\n` +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${key}\r\n` +
      'Sec-WebSocket-Version: 13\r\n' +
      this.extraHeaders +
      '\r\n';

    let sock: Sock;
    if (this.isTls) {
      const servername = net.isIP(this.host) === 0 ? this.host : undefined;
      const t = tls.connect({ ...this.tlsOptions, host: this.host, port: this.port, servername, ALPNProtocols: ['http/1.1'] });
      t.on('data', (chunk: Buffer) => {
        if (this.sock === t) this.onChunk(chunk, chunk.length);
      });
      t.once('secureConnect', () => {
        if (this.sock === t) t.write(request);
      });
      sock = t;
    } else {
      const readBuf = this.readBuf;
      const s: net.Socket = net.connect({
        host: this.host,
        port: this.port,
        onread: {
          buffer: readBuf,
          callback: (n: number): boolean => {
            if (this.sock === s) this.onChunk(readBuf, n);
            return true;
          },
        },
      });
      s.once('connect', () => {
        if (this.sock === s) s.write(request);
      });
      sock = s;
    }
    this.sock = sock;
    sock.setNoDelay(this.noDelay);
    sock.on('error', (err: Error) => {
      if (this.sock !== sock) return;
      this.emitError(err);
      this.finish(1006, err.message, false);
    });
    sock.on('close', () => {
      if (this.sock !== sock) return;
      this.finish(1006, this._state === 'open' ? 'connection lost' : 'connection closed during handshake', false);
    });
    if (this.connectTimeoutMs > 0) {
      this.connectTimer = setTimeout(() => {
        this.connectTimer = null;
        if (this.sock !== sock || this._state !== 'connecting') return;
        this.emitError(new Error(`WsClient: connect timeout after ${this.connectTimeoutMs} ms`));
        this.finish(1006, 'connect timeout', false);
      }, this.connectTimeoutMs);
    }
  }

  /**
   * Tear the current connection down once: report onClose, then schedule a reconnect per policy.
   * `graceful`: a close frame was written; end the socket and let it linger briefly for the peer.
   */
  private finish(code: number, reason: string, graceful: boolean): void {
    const sock = this.sock;
    if (sock === null) return;
    this.sock = null;
    this.gen++;
    const wasOpen = this._state === 'open';
    this._state = 'closed';
    if (this.connectTimer !== null) { clearTimeout(this.connectTimer); this.connectTimer = null; }
    if (this.idleTimer !== null) { clearInterval(this.idleTimer); this.idleTimer = null; }
    if (graceful && !sock.destroyed) {
      sock.end();
      setTimeout(() => sock.destroy(), CLOSE_LINGER_MS).unref();
    } else {
      sock.destroy();
    }
    // drop any partial frame / message of the dead connection
    this.carryLen = 0;
    this.carryNeed = 0;
    this.fragLen = 0;
    this.fragOpcode = 0;
    this.hsLen = 0;

    if (wasOpen && (this.clock() - this.openedAtNs >= this.resetAfterNs || this.messagesThisConn >= this.resetAfterMessages)) {
      this.attempt = 0;
    }
    const willReconnect = this.reconnectEnabled && !this.userClosed;
    this.handler.onClose(code, reason, willReconnect);
    // the handler may have called close() or connect() meanwhile
    if (willReconnect && !this.userClosed && this.sock === null && this.reconnectTimer === null) {
      const delay = this.nextBackoffMs(this.attempt);
      this.attempt++;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        if (this.userClosed || this.sock !== null) return;
        this._reconnects++;
        this.open();
      }, delay);
    }
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer !== null) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
  }

  private emitError(err: Error): void {
    if (this.handler.onError !== undefined) this.handler.onError(err);
  }

  /** Protocol violation: count it, tell the server why (best effort) and drop the connection. */
  private fail(code: number, msg: string): void {
    this._protocolErrors++;
    this.emitError(new Error(`WsClient: ${msg}`));
    this.sendControl(OP_CLOSE, closePayload(code, ''), 0, -1);
    this.finish(code, msg, true);
  }

  private startIdleTimer(): void {
    const period = Math.max(10, Math.min(1_000, this.idleTimeoutMs / 4));
    const gen = this.gen;
    this.idleTimer = setInterval(() => {
      if (this.gen !== gen || this._state !== 'open') return;
      if ((this.clock() - this.lastRecvNs) / 1e6 >= this.idleTimeoutMs) {
        this.emitError(new Error(`WsClient: nothing received for ${this.idleTimeoutMs} ms`));
        this.finish(1006, 'idle timeout', false);
      }
    }, period);
    this.idleTimer.unref();
  }

  // ---------------------------------------------------------------- receive path

  /** One socket read: `buf[0, len)`. The only clock read of the receive path. */
  private onChunk(buf: Buffer, len: number): void {
    const ts = this.clock();
    this._bytesIn += len;
    this.lastRecvNs = ts;
    const gen = this.gen;
    try {
      let pos = 0;
      if (this._state === 'connecting') {
        pos = this.onHandshakeBytes(buf, len);
        if (pos < 0 || this.gen !== gen) return;
      }
      if (this.carryLen > 0) {
        pos = this.fillCarry(buf, pos, len, ts, gen);
        if (pos < 0) return;
      }
      this.parseFrames(buf, pos, len, ts, gen);
    } catch (err) {
      // a handler threw: parser state is unknown, so drop the connection (and reconnect per policy)
      this.emitError(err instanceof Error ? err : new Error(String(err)));
      if (this.gen !== gen) return;
      this.sendControl(OP_CLOSE, closePayload(1011, ''), 0, -1);
      this.finish(1011, 'handler error', true);
    }
  }

  /** Frames lying in `buf[pos, end)`; a trailing partial frame goes to the carry buffer. */
  private parseFrames(buf: Buffer, pos: number, end: number, ts: number, gen: number): void {
    while (pos < end) {
      const avail = end - pos;
      if (avail < 2) { this.stash(buf, pos, end, 0, 0); return; }
      const b1 = buf[pos + 1]!;
      if ((b1 & 0x80) !== 0) { this.fail(1002, 'masked frame from server'); return; }
      const l7 = b1 & 0x7f;
      let hdr = 2;
      let plen = l7;
      if (l7 === 126) {
        if (avail < 4) { this.stash(buf, pos, end, 0, 0); return; }
        hdr = 4;
        plen = (buf[pos + 2]! << 8) | buf[pos + 3]!;
      } else if (l7 === 127) {
        if (avail < 10) { this.stash(buf, pos, end, 0, 0); return; }
        hdr = 10;
        plen = this.len64(buf, pos + 2);
        if (plen < 0) return;
      }
      if (plen > this.maxFrameBytes) { this.fail(1009, `frame of ${plen} bytes exceeds maxFrameBytes`); return; }
      const total = hdr + plen;
      if (avail < total) { this.stash(buf, pos, end, total, hdr); return; }
      this.onFrame(buf[pos]!, buf, pos + hdr, pos + total, ts);
      if (this.gen !== gen) return;
      pos += total;
    }
  }

  /** 64-bit payload length at buf[off]; -1 (after failing the connection) when it cannot be valid. */
  private len64(buf: Buffer, off: number): number {
    const hi = buf.readUInt32BE(off);
    const lo = buf.readUInt32BE(off + 4);
    if (hi >= 0x80000000) { this.fail(1002, '64-bit length with the top bit set'); return -1; }
    if (hi > 0x1fffff) { this.fail(1009, 'frame length beyond 2^53'); return -1; }
    return hi * 4294967296 + lo;
  }

  /** Keep a partial frame `buf[pos, end)`. `total`/`hdr` are known when its header was complete. */
  private stash(buf: Buffer, pos: number, end: number, total: number, hdr: number): void {
    if (total > this.carry.length) this.growCarry(total);
    buf.copy(this.carry, 0, pos, end);
    this.carryLen = end - pos;
    this.carryNeed = total;
    this.carryHdr = hdr;
  }

  private growCarry(need: number): void {
    let cap = this.carry.length;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.carry.copy(next, 0, 0, this.carryLen);
    this.carry = next;
  }

  /**
   * Complete the frame held in carry from `buf[pos, end)`. Returns the position after the bytes used,
   * or -1 when the chunk is used up with the frame still partial or the connection went down.
   */
  private fillCarry(buf: Buffer, pos: number, end: number, ts: number, gen: number): number {
    // header still partial: take bytes until it is complete (at most 10)
    while (this.carryNeed === 0) {
      let want = 2;
      if (this.carryLen >= 2) {
        const b1 = this.carry[1]!;
        if ((b1 & 0x80) !== 0) { this.fail(1002, 'masked frame from server'); return -1; }
        const l7 = b1 & 0x7f;
        want = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
        if (this.carryLen >= want) {
          let plen = l7;
          if (l7 === 126) plen = (this.carry[2]! << 8) | this.carry[3]!;
          else if (l7 === 127) { plen = this.len64(this.carry, 2); if (plen < 0) return -1; }
          if (plen > this.maxFrameBytes) { this.fail(1009, `frame of ${plen} bytes exceeds maxFrameBytes`); return -1; }
          if (want + plen > this.carry.length) this.growCarry(want + plen);
          this.carryNeed = want + plen;
          this.carryHdr = want;
          break;
        }
      }
      if (pos >= end) return -1;
      const n = Math.min(want - this.carryLen, end - pos);
      buf.copy(this.carry, this.carryLen, pos, pos + n);
      this.carryLen += n;
      pos += n;
    }
    const n = Math.min(this.carryNeed - this.carryLen, end - pos);
    if (n > 0) {
      buf.copy(this.carry, this.carryLen, pos, pos + n);
      this.carryLen += n;
      pos += n;
    }
    if (this.carryLen < this.carryNeed) return -1;
    const total = this.carryNeed;
    const hdr = this.carryHdr;
    this.carryLen = 0;
    this.carryNeed = 0;
    this.onFrame(this.carry[0]!, this.carry, hdr, total, ts);
    return this.gen === gen ? pos : -1;
  }

  /** One complete frame: first byte `b0`, payload `buf[start, end)`. */
  private onFrame(b0: number, buf: Buffer, start: number, end: number, ts: number): void {
    this._framesIn++;
    if ((b0 & 0x70) !== 0) { this.fail(1002, 'RSV bits set without a negotiated extension'); return; }
    const fin = (b0 & 0x80) !== 0;
    const op = b0 & 0x0f;
    if (op === OP_TEXT || op === OP_BINARY) {
      if (this.fragOpcode !== 0) { this.fail(1002, 'new data frame inside a fragmented message'); return; }
      if (fin) {
        this._messagesIn++;
        this.messagesThisConn++;
        this.handler.onMessage(buf, start, end, ts, op === OP_BINARY);
        return;
      }
      this.fragOpcode = op;
      this.fragLen = 0;
      this.appendFrag(buf, start, end);
      return;
    }
    if (op === OP_CONT) {
      if (this.fragOpcode === 0) { this.fail(1002, 'continuation frame without a message'); return; }
      if (!this.appendFrag(buf, start, end)) return;
      if (fin) {
        const isBinary = this.fragOpcode === OP_BINARY;
        const len = this.fragLen;
        this.fragOpcode = 0;
        this.fragLen = 0;
        this._messagesIn++;
        this.messagesThisConn++;
        this.handler.onMessage(this.frag, 0, len, ts, isBinary);
      }
      return;
    }
    // control frames: may sit between the fragments of a message
    if (op >= OP_CLOSE && (!fin || end - start > 125)) { this.fail(1002, 'fragmented or oversized control frame'); return; }
    if (op === OP_PING) {
      this._pingsIn++;
      this.sendControl(OP_PONG, buf, start, end);
      this._pongsOut++;
      return;
    }
    if (op === OP_PONG) {
      this._pongsIn++;
      return;
    }
    if (op === OP_CLOSE) {
      this.onCloseFrame(buf, start, end);
      return;
    }
    this.fail(1002, `unknown opcode ${op}`);
  }

  private appendFrag(buf: Buffer, start: number, end: number): boolean {
    const len = end - start;
    const need = this.fragLen + len;
    if (need > this.maxFrameBytes) { this.fail(1009, `message of ${need}+ bytes exceeds maxFrameBytes`); return false; }
    if (need > this.frag.length) {
      let cap = this.frag.length;
      while (cap < need) cap *= 2;
      const next = Buffer.allocUnsafe(cap);
      this.frag.copy(next, 0, 0, this.fragLen);
      this.frag = next;
    }
    buf.copy(this.frag, this.fragLen, start, end);
    this.fragLen = need;
    return true;
  }

  private onCloseFrame(buf: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len === 1) { this.fail(1002, 'close frame with a 1-byte payload'); return; }
    let code = 1005;
    let reason = '';
    if (len >= 2) {
      code = (buf[start]! << 8) | buf[start + 1]!;
      if (code < 1000 || code === 1004 || code === 1005 || code === 1006 || code === 1015 || (code > 1015 && code < 3000) || code > 4999) {
        this.fail(1002, `invalid close code ${code}`);
        return;
      }
      reason = buf.toString('utf8', start + 2, end);
    }
    // echo the status code, then end our side
    this.sendControl(OP_CLOSE, buf, start, len >= 2 ? start + 2 : start);
    this.finish(code, reason, true);
  }

  // ---------------------------------------------------------------- handshake

  /** Handshake bytes; returns the offset in `buf` where frames start, or -1 (incomplete or failed). */
  private onHandshakeBytes(buf: Buffer, len: number): number {
    if (this.hsLen + len > MAX_HANDSHAKE_BYTES) {
      this.handshakeFailed('handshake response too large');
      return -1;
    }
    if (this.hsLen + len > this.hsBuf.length) {
      const next = Buffer.allocUnsafe(Math.min(MAX_HANDSHAKE_BYTES, Math.max(this.hsBuf.length * 2, this.hsLen + len)));
      this.hsBuf.copy(next, 0, 0, this.hsLen);
      this.hsBuf = next;
    }
    const searchFrom = Math.max(0, this.hsLen - 3);
    buf.copy(this.hsBuf, this.hsLen, 0, len);
    this.hsLen += len;
    const idx = this.hsBuf.subarray(0, this.hsLen).indexOf('\r\n\r\n', searchFrom, 'latin1');
    if (idx < 0) return -1;
    const headEnd = idx + 4;
    const err = this.checkHandshake(this.hsBuf.toString('latin1', 0, idx));
    if (err !== null) {
      this.handshakeFailed(err);
      return -1;
    }
    // bytes after the header block all came with this chunk
    const rest = this.hsLen - headEnd;
    this.hsLen = 0;
    if (this.connectTimer !== null) { clearTimeout(this.connectTimer); this.connectTimer = null; }
    this._state = 'open';
    this._connects++;
    this.openedAtNs = this.clock();
    if (this.idleTimeoutMs > 0) this.startIdleTimer();
    const gen = this.gen;
    this.handler.onOpen();
    if (this.gen !== gen) return -1;
    return len - rest;
  }

  /** Null when the response is a valid upgrade for our key, else the reason. */
  private checkHandshake(head: string): string | null {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '');
    if (status === null) return `bad status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`;
    if (status[1] !== '101') return `unexpected status ${lines[0]!.slice(9, 80)}`;
    let upgrade = '';
    let connection = '';
    let accept = '';
    let extensions = '';
    let protocol = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const c = line.indexOf(':');
      if (c <= 0) continue;
      const name = line.slice(0, c).trim().toLowerCase();
      const value = line.slice(c + 1).trim();
      if (name === 'upgrade') upgrade = value;
      else if (name === 'connection') connection = value;
      else if (name === 'sec-websocket-accept') accept = value;
      else if (name === 'sec-websocket-extensions') extensions = value;
      else if (name === 'sec-websocket-protocol') protocol = value;
    }
    if (upgrade.toLowerCase() !== 'websocket') return 'missing Upgrade: websocket';
    if (!connection.toLowerCase().split(',').some((t) => t.trim() === 'upgrade')) return 'missing Connection: Upgrade';
    if (accept !== this.expectedAccept) return 'wrong Sec-WebSocket-Accept';
    if (extensions !== '') return `server chose an extension we did not offer: ${extensions}`;
    if (protocol !== '') return `server chose a subprotocol we did not offer: ${protocol}`;
    return null;
  }

  private handshakeFailed(msg: string): void {
    this._handshakeErrors++;
    this.emitError(new Error(`WsClient: handshake failed: ${msg}`));
    this.finish(1006, `handshake failed: ${msg}`, false);
  }

  // ---------------------------------------------------------------- send path

  private writeHeader(frame: Buffer, b0: number, len: number): void {
    frame[0] = b0;
    if (len < 126) {
      frame[1] = 0x80 | len;
    } else if (len < 65536) {
      frame[1] = 0x80 | 126;
      frame[2] = len >>> 8;
      frame[3] = len & 0xff;
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(Math.floor(len / 4294967296), 2);
      frame.writeUInt32BE(len >>> 0, 6);
    }
  }

  /** Copy 4 fresh mask bytes to frame[keyAt] and XOR frame[from, to) with them. */
  private maskInPlace(frame: Buffer, keyAt: number, from: number, to: number): void {
    if (this.maskPos + 4 > MASK_POOL_BYTES) {
      randomFillSync(this.maskPool);
      this.maskPos = 0;
    }
    const p = this.maskPos;
    this.maskPos += 4;
    const pool = this.maskPool;
    frame[keyAt] = pool[p]!;
    frame[keyAt + 1] = pool[p + 1]!;
    frame[keyAt + 2] = pool[p + 2]!;
    frame[keyAt + 3] = pool[p + 3]!;
    for (let i = from, j = 0; i < to; i++, j = (j + 1) & 3) frame[i] = frame[i]! ^ frame[keyAt + j]!;
  }

  /**
   * Masked control frame (payload <= 125 bytes) with payload `src[start, end)`; `end` -1 means all of
   * `src`. A fresh Buffer per frame: the socket may hold it after write() returns. Rare, not hot.
   */
  private sendControl(op: number, src: Buffer, start: number, end: number): void {
    const sock = this.sock;
    if (sock === null || sock.destroyed || !sock.writable) return;
    const stop = end < 0 ? src.length : end;
    const len = Math.min(125, stop - start);
    const frame = Buffer.allocUnsafe(6 + len);
    this.writeHeader(frame, 0x80 | op, len);
    src.copy(frame, 6, start, start + len);
    this.maskInPlace(frame, 2, 6, 6 + len);
    sock.write(frame);
  }
}

/** Close frame payload: 2-byte code + UTF-8 reason (kept within the 125-byte control limit). */
function closePayload(code: number, reason: string): Buffer {
  const r = Buffer.from(reason, 'utf8').subarray(0, 123);
  const b = Buffer.allocUnsafe(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}
