import type { HttpResponse, WebSocket } from 'uWebSockets.js';
import { Lane } from '../latency/DelayLanes.js';
import type { LatencyModel, Sampler } from '../latency/Latency.js';
import type { GateRestRequest, GateRestResponse } from '../gate/rest.js';
import type { GateSocket } from '../gate/socket.js';
import { FaultInjector, type Armed, type ConnTarget, type FrameFilter } from './Faults.js';
import { F_API, F_DEPTH, F_MARKET, F_USER, WireCore, type FrameDialect, type ReqKind } from './WireCore.js';

/** What the wire needs from the Gate venue. */
export interface GateWireHost {
  sockets(): Iterable<GateSocket>;
  /** Writes frames to a socket now (counted as sent). */
  writeFrames(s: GateSocket, frames: readonly string[]): void;
  /** One client text frame (ping, subscribe, WS API request) handled by the venue: its direct replies. */
  message(s: GateSocket, text: string): string[];
  /** The REST dialect (the venue acts on the request). */
  rest(req: GateRestRequest): GateRestResponse;
  writeResponse(res: HttpResponse, r: GateRestResponse): void;
  /** Order-driven market frames and private pushes go out. */
  afterExec(): void;
  /** venue clock, ms */
  now(): number;
  onError(e: unknown): void;
}

/** What a frame is: a public push, a private push, or a reply on the connection (WS API, subscribe, pong). */
const enum FrameClass {
  Market = 0,
  User = 1,
  Reply = 2,
}

const OBU_NEEDLE = '"channel":"futures.order_book_update"';
const PRIVATE_NEEDLES = ['"channel":"futures.orders"', '"channel":"futures.usertrades"', '"channel":"futures.positions"', '"channel":"futures.balances"'];

/** The filter's stream as a Gate channel: Gate names (with or without `futures.`) or the Binance names of the same data. */
const STREAM_ALIASES: Record<string, string> = {
  depth: 'order_book_update',
  depthUpdate: 'order_book_update',
  bookTicker: 'book_ticker',
  aggTrade: 'trades',
  trade: 'trades',
  markPrice: 'tickers',
  kline: 'candlesticks',
  ORDER_TRADE_UPDATE: 'orders',
  TRADE_LITE: 'usertrades',
  ACCOUNT_UPDATE: 'positions',
};

export function gateChannelNeedle(stream: string): string {
  const s = stream.startsWith('futures.') ? stream.slice(8) : stream;
  return `"channel":"futures.${STREAM_ALIASES[s] ?? s}"`;
}

/** Whether a Gate frame matches a filter: its channel, and its contract (`"s"` or `"contract"`). */
export function gateFrameMatches(frame: string, f: FrameFilter): boolean {
  if (f.stream !== undefined && !frame.includes(gateChannelNeedle(f.stream))) return false;
  if (f.symbol !== undefined) {
    const c = f.symbol.toUpperCase();
    if (!frame.includes(`"s":"${c}"`) && !frame.includes(`"contract":"${c}"`)) return false;
  }
  return true;
}

function frameClass(f: string): FrameClass {
  if (!f.includes('"event":"update"')) return FrameClass.Reply;
  for (const n of PRIVATE_NEEDLES) if (f.includes(n)) return FrameClass.User;
  return FrameClass.Market;
}

/** A frame's targets (one connection carries all kinds): its own class; `api` = a WS API reply. */
function frameBits(f: string): number {
  const cls = frameClass(f);
  if (cls === FrameClass.Market) return F_MARKET | (f.includes(OBU_NEEDLE) ? F_DEPTH : 0);
  if (cls === FrameClass.User) return F_USER;
  return f.includes('"request_id"') ? F_API : 0;
}

/** Gate frames: order_book_update pushes, contracts with `_`, junk that starts like a channel frame. */
const GATE_FRAMES: FrameDialect = {
  matches: gateFrameMatches,
  gapSymbol: (f) => /"s":"([A-Z0-9_]+)"/.exec(f)?.[1],
  garbagePrefix: '\u0001{"channel":',
};

/** Gate REST paths of order entry (protocols.md §2.9). */
export function gateRestKind(method: string, path: string): ReqKind {
  const base = '/api/v4/futures/usdt/';
  if (method === 'get' || !path.startsWith(base)) return 'other';
  const rest = path.slice(base.length);
  if (rest === 'orders' || rest === 'batch_orders') return method === 'post' ? 'place' : method === 'delete' ? 'cancel' : 'other';
  if (rest.startsWith('orders/')) return method === 'delete' ? 'cancel' : method === 'put' ? 'order' : 'other';
  if (rest === 'price_orders' || rest.startsWith('price_orders/') || rest === 'countdown_cancel_all') return 'order';
  return 'other';
}

export function gateApiKind(channel: string): ReqKind {
  if (channel === 'futures.order_place' || channel === 'futures.order_batch_place') return 'place';
  if (channel === 'futures.order_cancel' || channel === 'futures.order_cancel_cp' || channel === 'futures.order_cancel_ids') return 'cancel';
  if (channel === 'futures.order_amend') return 'order';
  return 'other';
}

interface GateErr {
  http: number;
  label: string;
  message: string;
  /** the text goes under `detail` (as ORDER_POC_IMMEDIATE does) */
  detail?: boolean;
  headers: Array<[string, string]>;
}

const LABEL_TEXT: Record<string, string> = {
  INSUFFICIENT_AVAILABLE: 'Insufficient available balance',
  ORDER_POC_IMMEDIATE: 'order price would match immediately (post-only)',
  ORDER_FOK: 'FOK order cannot be filled completely',
  INCREASE_POSITION: 'reduce-only order would increase position',
  TOO_MANY_ORDERS: 'Open orders exceed the limit',
  TOO_MANY_REQUESTS: 'Request Rate limit Exceeded (311)',
  PRICE_TOO_DEVIATED: 'order price deviates too much from mark price',
  SIZE_TOO_LARGE: 'Order size is larger than the maximum',
  SIZE_TOO_SMALL: 'Order size is smaller than the minimum',
  RISK_LIMIT_EXCEEDED: 'Risk limit exceeded',
  CONTRACT_IN_DELISTING: 'Contract is delisting: only reduce/close orders are allowed',
  REQUEST_EXPIRED: 'Request timestamp is too far from server time (60s)',
  INTERNAL: 'Internal server error',
  SERVER_ERROR: 'Internal server error',
  TOO_BUSY: 'Server is too busy, please try again later',
  IP_FORBIDDEN: 'IP address is banned (simulated)',
};

/** The HTTP status Gate answers a label with. */
function httpOfLabel(label: string): number {
  switch (label) {
    case 'TOO_MANY_REQUESTS':
      return 429;
    case 'INVALID_KEY':
    case 'INVALID_SIGNATURE':
    case 'MISSING_REQUIRED_HEADER':
    case 'REQUEST_EXPIRED':
      return 401;
    case 'IP_FORBIDDEN':
    case 'FORBIDDEN':
    case 'READ_ONLY':
    case 'ACCOUNT_LOCKED':
      return 403;
    case 'ORDER_NOT_FOUND':
      return 404;
    case 'INTERNAL':
    case 'SERVER_ERROR':
      return 500;
    case 'TOO_BUSY':
      return 503;
    default:
      return 400;
  }
}

/** A Binance reject code armed on the Gate venue: the label of the same refusal. */
const LABEL_OF_CODE: Record<number, string> = {
  [-1003]: 'TOO_MANY_REQUESTS',
  [-1008]: 'TOO_MANY_REQUESTS',
  [-1015]: 'TOO_MANY_REQUESTS',
  [-1021]: 'REQUEST_EXPIRED',
  [-2018]: 'INSUFFICIENT_AVAILABLE',
  [-2019]: 'INSUFFICIENT_AVAILABLE',
  [-2022]: 'INCREASE_POSITION',
  [-4131]: 'PRICE_TOO_DEVIATED',
  [-5021]: 'ORDER_FOK',
  [-5022]: 'ORDER_POC_IMMEDIATE',
};

/**
 * Where the simulator's latency model and fault injection meet the Gate venue's sockets and REST port
 * (the Gate counterpart of BinanceWire, over the same FaultInjector and LatencyModel). The venue hands
 * frames, client messages and REST requests here only while something is configured or armed
 * (`framesActive`, `messagesActive`, `restActive`); otherwise its direct path runs and none of this does.
 *
 * Gate has one kind of connection (`/v4/ws/usdt`) for market data, private channels and the WS API, so
 * targets are told apart by what a connection does: `market` = it has public subscriptions, `user` =
 * private ones, `api` = it sent WS API requests; and each frame by its channel (public push, private push,
 * reply). All frames of a connection go through one FIFO lane, so delays never reorder them.
 *
 * - `depthGap` skips `futures.order_book_update` pushes (the next push's U is no longer previous u + 1);
 * - `http` answers Gate's `{"label","message"}`: 500 INTERNAL, 503 TOO_BUSY, 429 TOO_MANY_REQUESTS with
 *   X-Gate-RateLimit-* headers (reset after `retryAfter` s), 418 -> 403 IP_FORBIDDEN (Gate's refusal of a
 *   banned address); `label` overrides the label. Over the WS API the same error comes as `data.errs`;
 * - `reject` answers the given labels (or the labels of the given Binance codes);
 * - `loseAck` / `delayAck` on an `order_place` lose or delay both its ack echo and its result.
 *
 * The pipeline itself is WireCore's (shared with BinanceWire); this class keeps the Gate dialect.
 */
export class GateWire extends WireCore<GateSocket, GateWireHost> {
  private readonly lanes = new WeakMap<GateSocket, { in: Lane; out: Lane }>();

  constructor(host: GateWireHost, faults: FaultInjector, latency: LatencyModel | null, seed: number) {
    super(host, faults, latency, (seed ^ 0x6a7e) >>> 0, GATE_FRAMES);
  }

  // ------------------------------------------------------------------ switches

  /** Pushes go through `frames`. */
  get framesActive(): boolean {
    return this.framesOn;
  }

  /** Client messages go through `message` (replies share the lane with pushes). */
  get messagesActive(): boolean {
    return (this.latency !== null && this.latency.requests) || this.faults.requestArmed || this.framesActive;
  }

  // ------------------------------------------------------------------ immediate faults

  private targeted(s: GateSocket, target: ConnTarget | 'all'): boolean {
    if (target === 'all') return true;
    if (target === 'market') return s.pub.size > 0;
    if (target === 'user') return s.priv.length > 0;
    return s.apiUsed === true;
  }

  protected dropNow(target: ConnTarget | 'all'): void {
    for (const s of [...this.host.sockets()]) {
      if (s.closed || s.ws === null || !this.targeted(s, target)) continue;
      this.faults.stats.drops++;
      s.ws.close();
    }
  }

  protected stallNow(target: ConnTarget | 'all', until: number, discard: boolean): void {
    for (const s of this.host.sockets()) {
      if (s.closed || !this.targeted(s, target)) continue;
      this.stallConn(s, () => this.lane(s).out, until, discard);
    }
  }

  // ------------------------------------------------------------------ frames

  private lane(s: GateSocket): { in: Lane; out: Lane } {
    let l = this.lanes.get(s);
    if (l === undefined) {
      l = { in: new Lane(), out: new Lane() };
      this.lanes.set(s, l);
    }
    return l;
  }

  /** Frame faults on frames about to go to one connection; null when the connection was dropped. */
  private faulted(s: GateSocket, frames: readonly string[]): readonly string[] | null {
    return this.faulty ? this.applyFrameFaults(s, frames, frameBits, () => s.ws?.close()) : frames;
  }

  /** Pushes queued for a socket (from the venue's flush while `framesActive`). */
  frames(s: GateSocket, frames: readonly string[]): void {
    const out = this.faulted(s, frames);
    if (out === null || out.length === 0) return;
    const l = this.latency;
    let delayOf: ((f: string) => number) | null = null;
    if (l !== null && (l.feed !== null || l.user !== null)) {
      const c = l.counters;
      // each push by its own class (one connection carries all of them); replies are not delayed here
      delayOf = (f) => {
        const cls = frameClass(f);
        const sampler: Sampler | null = cls === FrameClass.Market ? l.feed : cls === FrameClass.User ? l.user : null;
        if (sampler === null) return 0;
        const d = sampler.next();
        if (cls === FrameClass.Market) c.feedDelayed++;
        else c.userDelayed++;
        return d;
      };
    }
    this.deliver(this.lane(s).out, out, (fs) => this.host.writeFrames(s, fs), delayOf);
  }

  /** Replies to a socket: frame faults (api replies), then `delayMs`, behind what the lane holds. */
  private replies(s: GateSocket, frames: readonly string[], delayMs: number): void {
    const out = this.faulted(s, frames);
    if (out === null || out.length === 0) return;
    this.onLane(this.lane(s).out, delayMs, () => this.host.writeFrames(s, out));
  }

  // ------------------------------------------------------------------ requests

  /** A client text frame (while `messagesActive`): WS API order requests get request faults and delays. */
  message(ws: WebSocket<GateSocket>, text: string): void {
    const s = ws.getUserData();
    let channel = '';
    let event = '';
    let reqId = '';
    try {
      const j = JSON.parse(text) as unknown;
      if (typeof j === 'object' && j !== null && !Array.isArray(j)) {
        const o = j as Record<string, unknown>;
        if (typeof o['channel'] === 'string') channel = o['channel'];
        if (typeof o['event'] === 'string') event = o['event'];
        const p = o['payload'];
        if (typeof p === 'object' && p !== null && !Array.isArray(p)) {
          const r = (p as Record<string, unknown>)['req_id'];
          reqId = typeof r === 'string' ? r : r === undefined ? '' : String(r);
        }
      }
    } catch {
      // the dialect answers malformed frames itself
    }
    const kind = event === 'api' ? gateApiKind(channel) : 'other';
    const fault = kind !== 'other' && this.faults.requestArmed ? this.faults.requestFault('wsapi', kind) : null;
    this.wsExchange(
      this.lane(s).in,
      kind,
      fault,
      () => {
        const err = this.faultError(fault);
        if (err === null) return this.host.message(s, text);
        if (err.executed) this.host.message(s, text);
        return [this.apiErrorFrame(s, channel, reqId, err.e)];
      },
      () => s.closed,
      () => ws.close(),
      (out, delayMs) => this.replies(s, out, delayMs),
    );
  }

  /** A REST request (while `restActive`); false when nothing applies (the venue answers it directly). */
  restRequest(req: GateRestRequest, res: HttpResponse, aborted: () => boolean): boolean {
    const kind = gateRestKind(req.method, req.path);
    const fault = kind !== 'other' && this.faults.requestArmed ? this.faults.requestFault('rest', kind) : null;
    return this.restExchange(
      kind,
      fault,
      (): GateRestResponse => {
        const err = this.faultError(fault);
        if (err === null) return this.host.rest(req);
        if (err.executed) this.host.rest(req);
        const e = err.e;
        return { status: e.http, body: JSON.stringify(e.detail ? { label: e.label, detail: e.message } : { label: e.label, message: e.message }), headers: e.headers };
      },
      (r) => this.host.writeResponse(res, r),
      () => res.close(),
      aborted,
    );
  }

  /** The error a `reject` / `http` fault answers (`executed`: the venue acts first), null for other faults. */
  private faultError(fault: Armed | null): { e: GateErr; executed: boolean } | null {
    if (fault === null) return null;
    const st = this.faults.stats;
    const spec = fault.spec;
    if (spec.kind === 'reject') {
      const labels = spec.label !== undefined ? (Array.isArray(spec.label) ? spec.label : [spec.label]) : (Array.isArray(spec.code) ? spec.code : [spec.code]).map((c) => (c !== undefined ? LABEL_OF_CODE[c] : undefined) ?? 'BAD_REQUEST');
      const label = labels[(fault.fired - 1) % labels.length]!;
      st.rejects++;
      const http = httpOfLabel(label);
      return { e: { http, label, message: spec.msg ?? LABEL_TEXT[label] ?? 'Order rejected by the venue simulator (injected fault)', detail: label === 'ORDER_POC_IMMEDIATE', headers: http === 429 ? this.rateHeaders(1) : [] }, executed: false };
    }
    if (spec.kind !== 'http') return null;
    const executed = spec.status >= 500 && spec.executed === true;
    if (executed) st.httpExecuted++;
    switch (spec.status) {
      case 500: {
        st.http500++;
        const label = spec.label ?? 'INTERNAL';
        return { e: { http: 500, label, message: LABEL_TEXT[label] ?? 'Internal server error', headers: [] }, executed };
      }
      case 503: {
        st.http503++;
        const label = spec.label ?? 'TOO_BUSY';
        return { e: { http: 503, label, message: LABEL_TEXT[label] ?? 'Service unavailable', headers: [] }, executed };
      }
      case 429: {
        st.http429++;
        const label = spec.label ?? 'TOO_MANY_REQUESTS';
        return { e: { http: 429, label, message: LABEL_TEXT[label] ?? 'Too many requests', headers: this.rateHeaders(spec.retryAfter ?? 1) }, executed: false };
      }
      default: {
        st.http418++;
        const label = spec.label ?? 'IP_FORBIDDEN';
        return { e: { http: 403, label, message: LABEL_TEXT[label] ?? 'Forbidden', headers: [] }, executed: false };
      }
    }
  }

  /** Rate-limit headers of a refusal: nothing left until `retryAfterS` from now (ms reset, as Gate sends it). */
  private rateHeaders(retryAfterS: number): Array<[string, string]> {
    return [
      ['X-Gate-RateLimit-Requests-Remain', '0'],
      ['X-Gate-RateLimit-Limit', '100'],
      ['X-Gate-RateLimit-Reset-Timestamp', String(this.host.now() + retryAfterS * 1000)],
    ];
  }

  /** A WS API error answer (protocols.md §2.7): `data.errs {label, message}`, the status in the header. */
  private apiErrorFrame(s: GateSocket, channel: string, reqId: string, e: GateErr): string {
    const now = this.host.now();
    const header: Record<string, unknown> = { response_time: String(now), status: String(e.http), channel, event: 'api', client_id: s.clientId, conn_id: s.connId };
    const reset = e.headers.find((h) => h[0] === 'X-Gate-RateLimit-Reset-Timestamp');
    if (reset !== undefined) {
      header['x_gate_ratelimit_requests_remain'] = 0;
      header['x_gate_ratelimit_limit'] = 100;
      header['x_gate_ratelimit_reset_timestamp'] = Number(reset[1]);
    }
    return JSON.stringify({ request_id: reqId, ack: false, header, data: { errs: { label: e.label, message: e.message } } });
  }
}
