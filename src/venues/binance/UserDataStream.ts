import { Client } from 'undici';
import type { SymbolRegistry } from '../../core/SymbolRegistry.js';
import { WsClient, type WsClientOptions } from '../../net/WsClient.js';
import { AU, AccountUpdateReason, ExecType, OrderStatus, RP, RecordType, RejectReason, REPORT_MSG_MAX, W, packHeader } from '../../ring/layout.js';
import type { SlotWriter } from '../../ring/SlotWriter.js';
import { signHex } from './sign.js';
import {
  AccountFlag,
  ExecFlag,
  OrderOrigin,
  UserDataDecoder,
  UserDataStatus,
  parseClientOrderId,
  type UserDataDecoderOptions,
  type UserDataListener,
} from './UserDataDecoder.js';

// ---------------------------------------------------------------------------------------------- REST seam

/** An order as `GET /fapi/v1/openOrders` / `GET /fapi/v1/order` return it (the fields reconcile needs). */
export interface RestOrderState {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: string;
  status: string;
  executedQty: number;
  avgPrice: number;
  updateTime: number;
}

/** A position as `GET /fapi/v3/positionRisk` returns it. */
export interface RestPosition {
  symbol: string;
  positionSide: string;
  positionAmt: number;
  entryPrice: number;
  /** NaN when absent */
  breakEvenPrice: number;
  unRealizedProfit: number;
  isolatedWallet: number;
  updateTime: number;
}

/**
 * The REST calls the user-data stream needs. Kept this small so BinanceRestClient (or a test double) can
 * stand behind it; `UndiciUserStreamRest` is a direct implementation. Failures throw UserStreamRestError.
 */
export interface UserStreamRest {
  /** POST /fapi/v1/listenKey: the live key (extended) or a new one. */
  createListenKey(): Promise<string>;
  /** PUT /fapi/v1/listenKey (+60 min). -1125 when the key is gone. */
  keepAlive(listenKey: string): Promise<void>;
  /** DELETE /fapi/v1/listenKey. */
  close(listenKey: string): Promise<void>;
  /** GET /fapi/v1/openOrders (all symbols). */
  openOrders(): Promise<RestOrderState[]>;
  /** GET /fapi/v3/positionRisk. */
  positionRisk(): Promise<RestPosition[]>;
  /** GET /fapi/v1/order; null when the venue does not know the order (-2013). */
  queryOrder(symbol: string, orderId: number): Promise<RestOrderState | null>;
}

export class UserStreamRestError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'UserStreamRestError';
  }
}

export interface UndiciUserStreamRestOptions {
  /** `https://fapi.binance.com` or the simulator's restUrl */
  restUrl: string;
  apiKey: string;
  apiSecret: string;
  recvWindow?: number;
  /** wall-clock ms adjusted to the venue's clock; default Date.now */
  venueTimeMs?: () => number;
  timeoutMs?: number;
}

function num(v: unknown, missing = NaN): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') return Number(v);
  return missing;
}

function restOrder(o: Record<string, unknown>): RestOrderState {
  return {
    symbol: String(o['symbol'] ?? ''),
    orderId: num(o['orderId'], 0),
    clientOrderId: String(o['clientOrderId'] ?? ''),
    side: String(o['side'] ?? ''),
    status: String(o['status'] ?? ''),
    executedQty: num(o['executedQty'], 0),
    avgPrice: num(o['avgPrice'], 0),
    updateTime: num(o['updateTime'], 0),
  };
}

/** UserStreamRest over one undici keep-alive Client (off the hot path: JSON.parse is fine here). */
export class UndiciUserStreamRest implements UserStreamRest {
  private readonly client: Client;
  private readonly secret: string;
  private readonly apiKey: string;
  private readonly recvWindow: number;
  private readonly venueTimeMs: () => number;
  private readonly timeoutMs: number;

  constructor(o: UndiciUserStreamRestOptions) {
    this.client = new Client(new URL(o.restUrl).origin, { keepAliveTimeout: 60_000 });
    this.secret = o.apiSecret;
    this.apiKey = o.apiKey;
    this.recvWindow = o.recvWindow ?? 5000;
    this.venueTimeMs = o.venueTimeMs ?? Date.now;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  private async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, signed: boolean, params: string): Promise<unknown> {
    let qs = params;
    if (signed) {
      qs = `${qs === '' ? '' : `${qs}&`}recvWindow=${this.recvWindow}&timestamp=${Math.floor(this.venueTimeMs())}`;
      qs += `&signature=${signHex(this.secret, qs)}`;
    }
    const res = await this.client.request({
      method,
      path: qs === '' ? path : `${path}?${qs}`,
      headers: { 'x-mbx-apikey': this.apiKey },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      throw new UserStreamRestError(res.statusCode, 0, `${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 80)}`);
    }
    const code = typeof j === 'object' && j !== null && !Array.isArray(j) ? (j as Record<string, unknown>)['code'] : undefined;
    if (res.statusCode !== 200 || (typeof code === 'number' && code < 0)) {
      const msg = (j as Record<string, unknown> | null)?.['msg'];
      throw new UserStreamRestError(res.statusCode, typeof code === 'number' ? code : 0, `${method} ${path}: ${typeof msg === 'string' ? msg : `HTTP ${res.statusCode}`}`);
    }
    return j;
  }

  async createListenKey(): Promise<string> {
    const j = (await this.call('POST', '/fapi/v1/listenKey', false, '')) as { listenKey?: unknown };
    if (typeof j.listenKey !== 'string' || j.listenKey === '') throw new UserStreamRestError(200, 0, 'POST /fapi/v1/listenKey: no listenKey in the reply');
    return j.listenKey;
  }

  async keepAlive(listenKey: string): Promise<void> {
    await this.call('PUT', '/fapi/v1/listenKey', false, `listenKey=${encodeURIComponent(listenKey)}`);
  }

  async close(listenKey: string): Promise<void> {
    await this.call('DELETE', '/fapi/v1/listenKey', false, `listenKey=${encodeURIComponent(listenKey)}`);
  }

  async openOrders(): Promise<RestOrderState[]> {
    const j = await this.call('GET', '/fapi/v1/openOrders', true, '');
    if (!Array.isArray(j)) throw new UserStreamRestError(200, 0, 'GET /fapi/v1/openOrders: not an array');
    return j.map((o) => restOrder(o as Record<string, unknown>));
  }

  async positionRisk(): Promise<RestPosition[]> {
    const j = await this.call('GET', '/fapi/v3/positionRisk', true, '');
    if (!Array.isArray(j)) throw new UserStreamRestError(200, 0, 'GET /fapi/v3/positionRisk: not an array');
    return j.map((x) => {
      const p = x as Record<string, unknown>;
      return {
        symbol: String(p['symbol'] ?? ''),
        positionSide: String(p['positionSide'] ?? 'BOTH'),
        positionAmt: num(p['positionAmt'], 0),
        entryPrice: num(p['entryPrice']),
        breakEvenPrice: num(p['breakEvenPrice']),
        unRealizedProfit: num(p['unRealizedProfit']),
        isolatedWallet: num(p['isolatedWallet'], 0),
        updateTime: num(p['updateTime'], 0),
      };
    });
  }

  async queryOrder(symbol: string, orderId: number): Promise<RestOrderState | null> {
    try {
      const j = await this.call('GET', '/fapi/v1/order', true, `symbol=${encodeURIComponent(symbol)}&orderId=${orderId}`);
      return restOrder(j as Record<string, unknown>);
    } catch (e) {
      if (e instanceof UserStreamRestError && e.code === -2013) return null;
      throw e;
    }
  }

  async destroy(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------- tracker

const TERMINAL = (s: number): boolean => s === OrderStatus.Filled || s === OrderStatus.Canceled || s === OrderStatus.Expired || s === OrderStatus.Rejected;

/**
 * Open orders as the stream last reported them, keyed by order id: open addressing with linear probing
 * and backward-shift deletion over typed arrays (no allocation per event). Reconcile compares REST
 * snapshots against it to report only what changed while the stream was down. Exported for tests.
 */
export class OrderTracker {
  readonly keys: Float64Array;
  readonly sym: Int32Array;
  readonly intentId: Float64Array;
  readonly side: Float64Array;
  readonly status: Uint8Array;
  readonly cum: Float64Array;
  readonly avg: Float64Array;
  readonly venueTime: Float64Array;
  size = 0;
  full = 0;
  private readonly mask: number;
  private readonly max: number;

  constructor(maxOrders: number) {
    let cap = 16;
    while (cap < maxOrders * 2) cap <<= 1;
    this.mask = cap - 1;
    this.max = maxOrders;
    this.keys = new Float64Array(cap);
    this.sym = new Int32Array(cap);
    this.intentId = new Float64Array(cap);
    this.side = new Float64Array(cap);
    this.status = new Uint8Array(cap);
    this.cum = new Float64Array(cap);
    this.avg = new Float64Array(cap);
    this.venueTime = new Float64Array(cap);
  }

  private home(orderId: number): number {
    return Math.imul((orderId >>> 0) ^ Math.floor(orderId / 4294967296), 0x9e3779b1) >>> 0 & this.mask;
  }

  find(orderId: number): number {
    let i = this.home(orderId);
    for (;;) {
      const k = this.keys[i]!;
      if (k === orderId) return i;
      if (k === 0) return -1;
      i = (i + 1) & this.mask;
    }
  }

  /** Records an order's state; a final state removes it. */
  update(orderId: number, sym: number, intentId: number, side: number, status: number, cum: number, avg: number, venueTime: number): void {
    let i = this.find(orderId);
    if (TERMINAL(status)) {
      if (i >= 0) this.remove(i);
      return;
    }
    if (i < 0) {
      if (this.size >= this.max || orderId <= 0) {
        this.full++;
        return;
      }
      i = this.home(orderId);
      while (this.keys[i] !== 0) i = (i + 1) & this.mask;
      this.keys[i] = orderId;
      this.size++;
    }
    this.sym[i] = sym;
    this.intentId[i] = intentId;
    this.side[i] = side;
    this.status[i] = status;
    this.cum[i] = cum;
    this.avg[i] = avg;
    this.venueTime[i] = venueTime;
  }

  remove(i: number): void {
    const m = this.mask;
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      const k = this.keys[j]!;
      if (k === 0) break;
      const h = this.home(k);
      // move j into the hole unless its home lies cyclically in (hole, j]
      if (hole <= j ? h <= hole || h > j : h <= hole && h > j) {
        this.keys[hole] = k;
        this.sym[hole] = this.sym[j]!;
        this.intentId[hole] = this.intentId[j]!;
        this.side[hole] = this.side[j]!;
        this.status[hole] = this.status[j]!;
        this.cum[hole] = this.cum[j]!;
        this.avg[hole] = this.avg[j]!;
        this.venueTime[hole] = this.venueTime[j]!;
        hole = j;
      }
    }
    this.keys[hole] = 0;
    this.size--;
  }

  /** Order ids currently tracked (allocates; reconcile only). */
  ids(): number[] {
    const out: number[] = [];
    for (let i = 0; i <= this.mask; i++) if (this.keys[i] !== 0) out.push(this.keys[i]!);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------- stream

export interface UserDataStreamOptions {
  /** Stream host base: `wss://fstream.binance.com` (or the simulator's wsUrl). */
  wsBaseUrl: string;
  /** `legacy`: `<base>/ws/<listenKey>`; `private` (2026 split): `<base>/private/ws?listenKey=<k>&events=A/B/...`. */
  urlStyle?: 'legacy' | 'private';
  /** Events asked for on the private path. Default: every event the decoder reads. */
  events?: readonly string[];
  rest: UserStreamRest;
  /** Decoder settings; the stream adds its own listener and chains `listener`. */
  decoder: UserDataDecoderOptions;
  /** Ring C (the stream must be the only producer on its thread's writer, as the gateway is). */
  out: SlotWriter;
  /** Listen-key keep-alive period. Default 30 min. */
  keepAliveMs?: number;
  /** Reconnect backoff. Defaults 200 ms doubling up to 30 s, 30% jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Reconcile through REST right after the first connection too. Default true. */
  reconcileOnStart?: boolean;
  /** Open orders tracked for reconcile. Default 1024. */
  maxTrackedOrders?: number;
  /** Lifecycle notes (connected, disconnected, listenKeyExpired, reconciled, error): off the hot path. */
  onEvent?: (kind: UserStreamEvent, detail: string) => void;
  ws?: WsClientOptions;
}

export type UserStreamEvent = 'connected' | 'disconnected' | 'listenKeyExpired' | 'reconciled' | 'error';

export interface UserStreamCounters {
  connects: number;
  disconnects: number;
  listenKeyExpired: number;
  keepAlives: number;
  keepAliveErrors: number;
  errors: number;
  reconciles: number;
  reconcileOrders: number;
  reconcilePositions: number;
  /** frames or records that waited for room in ring C */
  backlogged: number;
}

const DEFAULT_EVENTS = ['ORDER_TRADE_UPDATE', 'TRADE_LITE', 'ACCOUNT_UPDATE', 'ALGO_UPDATE', 'MARGIN_CALL'];

const REST_STATUS: Record<string, OrderStatus> = {
  NEW: OrderStatus.New,
  PARTIALLY_FILLED: OrderStatus.PartiallyFilled,
  FILLED: OrderStatus.Filled,
  CANCELED: OrderStatus.Canceled,
  REJECTED: OrderStatus.Rejected,
  EXPIRED: OrderStatus.Expired,
  EXPIRED_IN_MATCH: OrderStatus.Expired,
};

const UTF8 = new TextEncoder();

/** Quantities are decimals of at most ~8 places: keep a difference of two of them clean of float noise. */
function qtyDiff(a: number, b: number): number {
  return Math.round((a - b) * 1e10) / 1e10;
}

/** A frame (copied) or a prepared record waiting for room in ring C, in arrival order. */
interface Pending {
  frame: Buffer | null;
  record: Float64Array | null;
  recvTs: number;
}

/**
 * Owns the user-data stream: listen key lifecycle (create, keep-alive every `keepAliveMs`, close on stop),
 * the WebSocket (legacy `/ws/<key>` or the 2026 `/private/ws?listenKey=...&events=...`), decoding into ring
 * C, and recovery. On any disconnect or `listenKeyExpired`: get a key (POST returns the live one or a new
 * one), reconnect with backoff, then reconcile through REST (open orders, position risk, and a query for
 * each tracked order that is no longer open): ExecReports flagged Reconcile for orders whose state changed
 * while the stream was down, AccountUpdates with reason Reconcile for positions. The new connection is
 * opened before the REST snapshot is taken, so no event falls between the two; snapshots older than what
 * the stream already reported (by venue time) are not written.
 *
 * A full ring C never drops: the frame (or reconcile record) is copied into a backlog and retried every
 * millisecond; later frames queue behind it, so order is kept.
 */
export class UserDataStream {
  readonly counters: UserStreamCounters = {
    connects: 0, disconnects: 0, listenKeyExpired: 0, keepAlives: 0, keepAliveErrors: 0, errors: 0,
    reconciles: 0, reconcileOrders: 0, reconcilePositions: 0, backlogged: 0,
  };
  readonly decoder: UserDataDecoder;
  private readonly opts: UserDataStreamOptions;
  private readonly rest: UserStreamRest;
  private readonly out: SlotWriter;
  private readonly symbols: SymbolRegistry;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly tracker: OrderTracker;
  /** per symbol x side (BOTH, LONG, SHORT): last position amount and venue time seen on the stream */
  private readonly posAmt: Float64Array;
  private readonly posTime: Float64Array;

  private ws: WsClient | null = null;
  private wsOpen = false;
  private gen = 0;
  private key: string | null = null;
  private stopped = true;
  private cycling = false;
  private pendingRestart = false;
  private needReconcile = false;
  private attempt = 0;
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  /** rejects the connect() in progress (its socket is being dropped) */
  private pendingConnect: ((e: Error) => void) | null = null;
  private readonly backlog: Pending[] = [];

  constructor(opts: UserDataStreamOptions) {
    this.opts = opts;
    this.rest = opts.rest;
    this.out = opts.out;
    this.symbols = opts.decoder.symbols;
    this.prefix = opts.decoder.clientIdPrefix;
    this.now = opts.decoder.now;
    this.tracker = new OrderTracker(opts.maxTrackedOrders ?? 1024);
    this.posAmt = new Float64Array(this.symbols.size * 3);
    this.posTime = new Float64Array(this.symbols.size * 3).fill(-1);
    const user = opts.decoder.listener;
    const listener: UserDataListener = {
      onOrderEvent: (symbolId, orderId, intentId, status, cumQty, avgPrice, side, venueTime) => {
        this.tracker.update(orderId, symbolId, intentId, side, status, cumQty, avgPrice, venueTime);
        user?.onOrderEvent?.(symbolId, orderId, intentId, status, cumQty, avgPrice, side, venueTime);
      },
      onPosition: (symbolId, sideFlags, positionAmt, eventTime) => {
        const k = symbolId * 3 + sideIndex(sideFlags);
        this.posAmt[k] = positionAmt;
        this.posTime[k] = eventTime;
        user?.onPosition?.(symbolId, sideFlags, positionAmt, eventTime);
      },
      onMarginCall: (...a) => user?.onMarginCall?.(...a),
    };
    this.decoder = new UserDataDecoder({ ...opts.decoder, listener });
  }

  get listenKey(): string | null {
    return this.key;
  }

  get connected(): boolean {
    return this.wsOpen;
  }

  get trackedOrders(): number {
    return this.tracker.size;
  }

  /** Frames / records waiting for room in ring C. */
  get backlogSize(): number {
    return this.backlog.length;
  }

  /** Registers an order acknowledged by a transport (so a reconcile notices when it closed unseen). */
  trackOrder(symbolId: number, orderId: number, intentId: number, side: number, status: OrderStatus, cumQty: number, avgPrice: number, venueTime: number): void {
    this.tracker.update(orderId, symbolId, intentId, side, status, cumQty, avgPrice, venueTime);
  }

  /** Connects (key, socket, first reconcile unless disabled); resolves once the stream is up. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.needReconcile = this.opts.reconcileOnStart ?? true;
    const period = this.opts.keepAliveMs ?? 30 * 60_000;
    this.keepAliveTimer = setInterval(() => void this.keepAlive(), period);
    this.keepAliveTimer.unref();
    await this.cycle();
  }

  /** Closes the socket and the listen key. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.keepAliveTimer !== null) clearInterval(this.keepAliveTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.keepAliveTimer = null;
    this.retryTimer = null;
    this.cancelSleep();
    this.dropSocket();
    const key = this.key;
    this.key = null;
    if (key !== null) await this.rest.close(key).catch(() => undefined);
  }

  /** Forces the recovery path (tests, operator). */
  restart(why = 'restart requested'): void {
    if (this.stopped) return;
    this.dropSocket();
    this.needReconcile = true;
    this.note('disconnected', why);
    if (this.cycling) this.pendingRestart = true;
    else void this.cycle();
  }

  // ------------------------------------------------------------------ lifecycle

  private note(kind: UserStreamEvent, detail: string): void {
    if (kind === 'error') this.counters.errors++;
    this.opts.onEvent?.(kind, detail);
  }

  private url(key: string): string {
    const base = this.opts.wsBaseUrl.replace(/\/+$/, '');
    if ((this.opts.urlStyle ?? 'legacy') === 'private') {
      return `${base}/private/ws?listenKey=${encodeURIComponent(key)}&events=${(this.opts.events ?? DEFAULT_EVENTS).join('/')}`;
    }
    return `${base}/ws/${encodeURIComponent(key)}`;
  }

  private backoffMs(): number {
    const b = this.opts.backoff ?? {};
    const base = Math.min(b.maxMs ?? 30_000, (b.initialMs ?? 200) * Math.pow(2, this.attempt));
    return base * 0.7 + Math.random() * base * 0.3;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(() => {
        this.sleepTimer = null;
        this.wake = null;
        resolve();
      }, ms);
    });
  }

  private cancelSleep(): void {
    if (this.sleepTimer !== null) clearTimeout(this.sleepTimer);
    this.sleepTimer = null;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Key, socket, reconcile; retried with backoff until it succeeds or the stream stops. */
  private async cycle(): Promise<void> {
    if (this.cycling) return;
    this.cycling = true;
    try {
      while (!this.stopped) {
        this.pendingRestart = false;
        try {
          if (!this.wsOpen) {
            const key = await this.rest.createListenKey();
            if (this.stopped) return;
            this.key = key;
            await this.connect(key);
          }
          if (this.needReconcile) {
            // cleared first: a disconnect during the REST calls sets it again for the next round
            this.needReconcile = false;
            try {
              await this.reconcile();
            } catch (e) {
              this.needReconcile = true;
              throw e;
            }
          }
          this.attempt = 0;
          if (!this.pendingRestart) return;
        } catch (e) {
          if (this.stopped) return;
          this.note('error', (e as Error).message);
          await this.sleep(this.backoffMs());
          this.attempt++;
        }
      }
    } finally {
      this.cycling = false;
      if (this.pendingRestart && !this.stopped) {
        this.pendingRestart = false;
        void this.cycle();
      }
    }
  }

  /** Opens a socket on `key`; resolves when open, rejects if it closes first. */
  private connect(key: string): Promise<void> {
    this.dropSocket();
    const gen = ++this.gen;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      this.pendingConnect = reject;
      const ws = new WsClient(
        this.url(key),
        {
          onOpen: () => {
            if (gen !== this.gen) return;
            opened = true;
            this.pendingConnect = null;
            this.wsOpen = true;
            this.counters.connects++;
            this.note('connected', key);
            resolve();
          },
          onMessage: (buf, start, end, recvTs) => {
            if (gen === this.gen) this.onFrame(buf, start, end, recvTs);
          },
          onClose: (code, reason) => {
            if (gen !== this.gen) return;
            this.wsOpen = false;
            this.ws = null;
            if (!opened) {
              this.pendingConnect = null;
              reject(new Error(`user stream: connection failed (${code} ${reason})`));
              return;
            }
            this.counters.disconnects++;
            this.restart(`connection closed (${code}${reason ? ` ${reason}` : ''})`);
          },
        },
        { ...this.opts.ws, reconnect: false },
      );
      this.ws = ws;
      ws.connect();
    });
  }

  /** Closes the current socket without triggering recovery (its events are ignored from here on). */
  private dropSocket(): void {
    this.gen++;
    const pending = this.pendingConnect;
    this.pendingConnect = null;
    pending?.(new Error('user stream: connection abandoned'));
    const ws = this.ws;
    this.ws = null;
    this.wsOpen = false;
    ws?.close();
  }

  private async keepAlive(): Promise<void> {
    const key = this.key;
    if (key === null || this.stopped) return;
    try {
      await this.rest.keepAlive(key);
      this.counters.keepAlives++;
    } catch (e) {
      this.counters.keepAliveErrors++;
      this.note('error', `keep-alive: ${(e as Error).message}`);
      // the key is gone: a new one and a new connection
      if (e instanceof UserStreamRestError && e.code === -1125 && this.key === key) this.restart('listen key no longer valid');
    }
  }

  // ------------------------------------------------------------------ frames

  private onFrame(buf: Buffer, start: number, end: number, recvTs: number): void {
    if (this.backlog.length > 0) {
      this.queue(Buffer.from(buf.subarray(start, end)), null, recvTs);
      this.flushBacklog();
      return;
    }
    const r = this.decoder.decode(buf, start, end, recvTs, this.out);
    if (r === UserDataStatus.RingFull) this.queue(Buffer.from(buf.subarray(start, end)), null, recvTs);
    else if (r === UserDataStatus.ListenKeyExpired) this.onExpired();
  }

  private onExpired(): void {
    this.counters.listenKeyExpired++;
    this.note('listenKeyExpired', this.key ?? '');
    this.key = null;
    this.restart('listenKeyExpired');
  }

  private queue(frame: Buffer | null, record: Float64Array | null, recvTs: number): void {
    this.counters.backlogged++;
    this.backlog.push({ frame, record, recvTs });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flushBacklog();
    }, 1);
  }

  private flushBacklog(): void {
    const out = this.out;
    while (this.backlog.length > 0) {
      const p = this.backlog[0]!;
      if (p.frame !== null) {
        const r = this.decoder.decode(p.frame, 0, p.frame.length, p.recvTs, out);
        if (r === UserDataStatus.RingFull) break;
        this.backlog.shift();
        if (r === UserDataStatus.ListenKeyExpired) this.onExpired();
      } else {
        const base = out.claim();
        if (base < 0) {
          out.abort();
          break;
        }
        out.f64.set(p.record!, base);
        out.commit();
        this.backlog.shift();
      }
    }
    if (this.backlog.length > 0) this.scheduleRetry();
  }

  /**
   * Writes one record through `fill` into ring C, or into a spare slot queued behind the backlog when the
   * ring is full or records already wait (keeps the order).
   */
  private emit(fill: (f64: Float64Array, i32: Int32Array, u8: Uint8Array, base: number) => void): void {
    const out = this.out;
    const base = this.backlog.length === 0 ? out.claim() : -1;
    if (base >= 0) {
      fill(out.f64, out.i32, out.u8, base);
      out.f64[base + W.PUB_TS] = this.now();
      out.commit();
      return;
    }
    out.abort();
    const rec = new Float64Array(out.slotWords);
    fill(rec, new Int32Array(rec.buffer), new Uint8Array(rec.buffer), 0);
    rec[W.PUB_TS] = this.now();
    this.queue(null, rec, rec[W.RECV_TS]!);
  }

  // ------------------------------------------------------------------ reconcile

  private async reconcile(): Promise<void> {
    const snapshotMs = Date.now();
    const [orders, positions] = await Promise.all([this.rest.openOrders(), this.rest.positionRisk()]);
    if (this.stopped) return;
    let nOrders = 0;
    let nPos = 0;
    const open = new Set<number>();
    for (const o of orders) {
      open.add(o.orderId);
      if (this.reconcileOrder(o)) nOrders++;
    }
    // tracked as open but no longer open: ask for the final state
    for (const orderId of this.tracker.ids()) {
      if (open.has(orderId)) continue;
      const t = this.tracker.find(orderId);
      if (t < 0) continue; // closed by a stream event meanwhile
      const name = this.symbols.name(this.tracker.sym[t]!);
      const o = await this.rest.queryOrder(name, orderId);
      if (this.stopped) return;
      if (o === null) {
        this.note('error', `reconcile: order ${orderId} (${name}) unknown to the venue`);
        continue;
      }
      if (this.reconcileOrder(o)) nOrders++;
    }
    const seen = new Set<number>();
    for (const p of positions) {
      const sym = this.symbols.id(p.symbol);
      if (sym < 0) continue;
      const flags = p.positionSide === 'LONG' ? AccountFlag.Long : p.positionSide === 'SHORT' ? AccountFlag.Short : 0;
      const k = sym * 3 + sideIndex(flags);
      seen.add(k);
      // the stream already reported a newer state
      if (p.updateTime < this.posTime[k]!) continue;
      this.writePosition(sym, flags | (p.isolatedWallet !== 0 ? AccountFlag.Isolated : 0), p.updateTime, p.positionAmt, p.entryPrice, p.breakEvenPrice, p.unRealizedProfit);
      this.posAmt[k] = p.positionAmt;
      this.posTime[k] = p.updateTime;
      nPos++;
    }
    // positionRisk v3 lists only symbols with a position or open orders: one we hold that is absent is flat
    for (let k = 0; k < this.posAmt.length; k++) {
      if (seen.has(k) || this.posAmt[k] === 0 || this.posTime[k]! > snapshotMs) continue;
      const flags = k % 3 === 1 ? AccountFlag.Long : k % 3 === 2 ? AccountFlag.Short : 0;
      this.writePosition(Math.floor(k / 3), flags, snapshotMs, 0, 0, 0, 0);
      this.posAmt[k] = 0;
      this.posTime[k] = snapshotMs;
      nPos++;
    }
    this.counters.reconciles++;
    this.counters.reconcileOrders += nOrders;
    this.counters.reconcilePositions += nPos;
    this.note('reconciled', `${nOrders} order reports, ${nPos} positions`);
  }

  /** Reports a REST order state if it differs from what the stream said (and is not older); true if written. */
  private reconcileOrder(o: RestOrderState): boolean {
    const sym = this.symbols.id(o.symbol);
    const status = REST_STATUS[o.status];
    if (sym < 0 || status === undefined || o.orderId <= 0) return false;
    const side = o.side === 'BUY' ? 1 : -1;
    const t = this.tracker.find(o.orderId);
    let prevCum = NaN;
    let prevAvg = 0;
    if (t >= 0) {
      if (o.updateTime < this.tracker.venueTime[t]!) return false;
      prevCum = this.tracker.cum[t]!;
      prevAvg = this.tracker.avg[t]!;
      if (status === this.tracker.status[t] && o.executedQty === prevCum) return false;
    }
    const { intentId, origin } = parseClientOrderId(o.clientOrderId, this.prefix);
    let execType: ExecType;
    let lastQty = 0;
    let lastPrice = 0;
    if (t >= 0 && o.executedQty > prevCum) {
      // fills missed while disconnected, as one: their quantity and average price
      execType = ExecType.Fill;
      lastQty = qtyDiff(o.executedQty, prevCum);
      lastPrice = prevCum > 0 ? (o.executedQty * o.avgPrice - prevCum * prevAvg) / lastQty : o.avgPrice;
    } else if (status === OrderStatus.Canceled) execType = ExecType.Canceled;
    else if (status === OrderStatus.Expired) execType = ExecType.Expired;
    else if (status === OrderStatus.Rejected) execType = ExecType.Reject;
    else execType = ExecType.Ack; // an order the stream never showed: state only (its fills may be known from the transport)
    const recvTs = this.now();
    const clid = o.clientOrderId;
    this.emit((f64, i32, u8, base) => {
      const foreign = intentId < 0;
      i32[base * 2] = packHeader(RecordType.ExecReport, ExecFlag.Stream | ExecFlag.Reconcile | (foreign ? ExecFlag.Foreign : 0), foreign ? origin : OrderOrigin.Ours);
      i32[base * 2 + 1] = sym;
      f64[base + W.RECV_TS] = recvTs;
      f64[base + RP.INTENT_ID] = intentId;
      f64[base + RP.STATUS] = status;
      f64[base + RP.EXEC_TYPE] = execType;
      f64[base + RP.SIDE] = side;
      f64[base + RP.LAST_QTY] = lastQty;
      f64[base + RP.LAST_PRICE] = lastPrice;
      f64[base + RP.CUM_QTY] = o.executedQty;
      f64[base + RP.AVG_PRICE] = o.avgPrice;
      f64[base + RP.FEE] = NaN; // not in the REST order
      f64[base + RP.ORDER_ID] = o.orderId;
      f64[base + RP.ERROR_CODE] = 0;
      f64[base + RP.SENT_TS] = 0;
      f64[base + RP.ACK_TS] = recvTs;
      f64[base + RP.VENUE_TIME] = o.updateTime;
      f64[base + RP.IS_MAKER] = 0;
      f64[base + RP.REASON] = status === OrderStatus.Rejected ? RejectReason.Venue : RejectReason.None;
      let len = 0;
      if (foreign) len = UTF8.encodeInto(clid, u8.subarray((base + RP.MSG) * 8, (base + RP.MSG) * 8 + REPORT_MSG_MAX)).written;
      f64[base + RP.MSG_LEN] = len;
    });
    this.tracker.update(o.orderId, sym, intentId, side, status, o.executedQty, o.avgPrice, o.updateTime);
    return true;
  }

  private writePosition(sym: number, flags: number, time: number, amt: number, entry: number, bep: number, upnl: number): void {
    const recvTs = this.now();
    this.emit((f64, i32, _u8, base) => {
      i32[base * 2] = packHeader(RecordType.AccountUpdate, flags, 0);
      i32[base * 2 + 1] = sym;
      f64[base + W.RECV_TS] = recvTs;
      f64[base + AU.EVENT_TIME] = time;
      f64[base + AU.POSITION_AMT] = amt;
      f64[base + AU.ENTRY_PRICE] = entry;
      f64[base + AU.BREAK_EVEN_PRICE] = bep;
      f64[base + AU.UNREALIZED_PNL] = upnl;
      f64[base + AU.REALIZED_PNL] = NaN; // not in positionRisk
      f64[base + AU.WALLET_BALANCE] = 0;
      f64[base + AU.CROSS_WALLET_BALANCE] = 0;
      f64[base + AU.REASON] = AccountUpdateReason.Reconcile;
      f64[base + AU.HAS_BALANCE] = 0;
      f64[base + AU.HAS_POSITION] = 1;
    });
  }
}

function sideIndex(flags: number): number {
  return (flags & AccountFlag.Long) !== 0 ? 1 : (flags & AccountFlag.Short) !== 0 ? 2 : 0;
}
