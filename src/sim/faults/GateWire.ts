import type { HttpResponse, WebSocket } from 'uWebSockets.js';
import { Lane, LaneScheduler } from '../latency/DelayLanes.js';
import type { LatencyModel, Sampler } from '../latency/Latency.js';
import { Rng } from '../rng.js';
import type { GateRestRequest, GateRestResponse } from '../gate/rest.js';
import type { GateSocket } from '../gate/socket.js';
import type { FaultControl, WireStats } from './BinanceWire.js';
import { FaultInjector, FaultSpecError, parseFaultList, parseFaultSpec, type Armed, type ConnTarget, type FaultSpec, type FrameFilter } from './Faults.js';

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

type ReqKind = 'place' | 'cancel' | 'order' | 'other';
/** What a frame is: a public push, a private push, or a reply on the connection (WS API, subscribe, pong). */
const enum FrameClass {
  Market = 0,
  User = 1,
  Reply = 2,
}

const NO_DELAY = { orderMs: 0, ackMs: 0 };
const REORDER_MAX_HOLD_MS = 1000;
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
 */
export class GateWire implements FaultControl {
  readonly sched: LaneScheduler;
  private readonly lanes = new WeakMap<GateSocket, { in: Lane; out: Lane }>();
  private readonly held = new Map<GateSocket, { frame: string; filter: FrameFilter; since: number }>();
  private readonly gapLeft = new Map<GateSocket, { n: number; symbol: string | undefined }>();
  private readonly discardUntil = new WeakMap<GateSocket, number>();
  private stallEnd = 0;
  private readonly garbageRng: Rng;

  constructor(
    private readonly host: GateWireHost,
    readonly faults: FaultInjector,
    readonly latency: LatencyModel | null,
    seed: number,
  ) {
    this.garbageRng = new Rng((seed ^ 0x6a7e) >>> 0);
    this.sched = new LaneScheduler(undefined, (e) => host.onError(e));
  }

  // ------------------------------------------------------------------ switches

  private get busy(): boolean {
    if (this.sched.busy) return true;
    if (this.held.size > 0 || this.gapLeft.size > 0) {
      for (const k of this.held.keys()) if (k.closed) this.held.delete(k);
      for (const k of this.gapLeft.keys()) if (k.closed) this.gapLeft.delete(k);
      if (this.held.size > 0 || this.gapLeft.size > 0) return true;
    }
    return this.stalled();
  }

  private stalled(): boolean {
    if (this.stallEnd === 0) return false;
    if (this.sched.now() < this.stallEnd) return true;
    this.stallEnd = 0;
    return false;
  }

  /** Pushes go through `frames`. */
  get framesActive(): boolean {
    const l = this.latency;
    return (l !== null && (l.feed !== null || l.user !== null)) || this.faults.frameArmed || this.busy;
  }

  /** Client messages go through `message` (replies share the lane with pushes). */
  get messagesActive(): boolean {
    return (this.latency !== null && this.latency.requests) || this.faults.requestArmed || this.framesActive;
  }

  /** REST requests go through `restRequest`. */
  get restActive(): boolean {
    return (this.latency !== null && this.latency.requests) || this.faults.requestArmed;
  }

  // ------------------------------------------------------------------ FaultControl

  inject(spec: FaultSpec): number {
    const s = parseFaultSpec(spec);
    const id = this.faults.arm(s);
    if (s.kind === 'drop' && s.probability === undefined) this.dropNow(s.target ?? 'market');
    else if (s.kind === 'stall') this.stallNow(s.target ?? 'market', s.ms, s.discard ?? false);
    return id;
  }

  clear(id?: number): number {
    return this.faults.clear(id);
  }

  active(): Array<{ id: number; spec: FaultSpec; fired: number; left: number | null }> {
    return this.faults.active();
  }

  stats(): WireStats {
    const lc = this.latency?.counters;
    return {
      ...this.faults.stats,
      latencyFeedFrames: lc?.feedDelayed ?? 0,
      latencyUserFrames: lc?.userDelayed ?? 0,
      latencyOrders: lc?.ordersDelayed ?? 0,
      latencyAcks: lc?.acksDelayed ?? 0,
      queued: this.sched.queued,
    };
  }

  close(): void {
    this.sched.close();
    this.held.clear();
    this.gapLeft.clear();
  }

  /**
   * `/_sim/...` on the REST port: `POST /_sim/faults` (a fault, a list, or {"faults":[...]}) -> {"ids"},
   * `GET /_sim/faults` -> {"active","stats"}, `DELETE /_sim/faults[?id=N]` -> {"cleared"},
   * `GET /_sim/latency` -> the latency model. Null for other paths.
   */
  control(method: string, path: string, query: string, body: string): GateRestResponse | null {
    if (!path.startsWith('/_sim/')) return null;
    const ok = (j: unknown): GateRestResponse => ({ status: 200, body: JSON.stringify(j), headers: [] });
    const bad = (status: number, msg: string): GateRestResponse => ({ status, body: JSON.stringify({ error: msg }), headers: [] });
    if (path === '/_sim/faults') {
      if (method === 'get') return ok({ active: this.active(), stats: this.stats() });
      if (method === 'delete') {
        const id = new URLSearchParams(query).get('id');
        return ok({ cleared: this.clear(id !== null && id !== '' ? Number(id) : undefined) });
      }
      if (method === 'post') {
        let j: unknown;
        try {
          j = JSON.parse(body);
        } catch {
          return bad(400, 'body must be JSON: a fault, a list of faults, or {"faults":[...]}');
        }
        try {
          return ok({ ids: parseFaultList(j).map((f) => this.inject(f)) });
        } catch (e) {
          if (e instanceof FaultSpecError) return bad(400, e.message);
          throw e;
        }
      }
      return bad(405, 'GET, POST or DELETE');
    }
    if (path === '/_sim/latency' && method === 'get') return ok(this.latency?.describe() ?? {});
    return bad(404, 'unknown control path (/_sim/faults, /_sim/latency)');
  }

  // ------------------------------------------------------------------ immediate faults

  private targeted(s: GateSocket, target: ConnTarget | 'all'): boolean {
    if (target === 'all') return true;
    if (target === 'market') return s.pub.size > 0;
    if (target === 'user') return s.priv.length > 0;
    return s.apiUsed === true;
  }

  private dropNow(target: ConnTarget | 'all'): void {
    for (const s of [...this.host.sockets()]) {
      if (s.closed || s.ws === null || !this.targeted(s, target)) continue;
      this.faults.stats.drops++;
      s.ws.close();
    }
  }

  private stallNow(target: ConnTarget | 'all', ms: number, discard: boolean): void {
    const until = this.sched.now() + ms;
    if (until > this.stallEnd) this.stallEnd = until;
    for (const s of this.host.sockets()) {
      if (s.closed || !this.targeted(s, target)) continue;
      this.faults.stats.stalls++;
      if (discard) this.discardUntil.set(s, until);
      else this.sched.hold(this.lane(s).out, until);
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
  private applyFrameFaults(s: GateSocket, frames: readonly string[]): string[] | null {
    const st = this.faults.stats;
    const now = this.sched.now();
    const armed = this.faults.frameArmed ? this.faults.frameFaults() : [];
    const out: string[] = [];
    const discardEnd = this.discardUntil.get(s);
    for (let i = 0; i < frames.length; i++) {
      let f = frames[i]!;
      if (discardEnd !== undefined && now < discardEnd) {
        st.stallDiscards++;
        continue;
      }
      const cls = frameClass(f);
      const obu = cls === FrameClass.Market && f.includes(OBU_NEEDLE);
      const gap = this.gapLeft.get(s);
      if (gap !== undefined && obu && (gap.symbol === undefined || f.includes(`"s":"${gap.symbol}"`))) {
        st.depthEventsSkipped++;
        if (--gap.n <= 0) this.gapLeft.delete(s);
        continue;
      }
      const market = cls === FrameClass.Market;
      const user = cls === FrameClass.User;
      const api = cls === FrameClass.Reply && f.includes('"request_id"');
      let skip = false;
      let dup = false;
      let hold: FrameFilter | null = null;
      let garbage: string | null = null;
      for (let k = 0; k < armed.length && !skip; k++) {
        const a: Armed = armed[k]!;
        const spec = a.spec;
        switch (spec.kind) {
          case 'drop': {
            const t = spec.target ?? 'market';
            if (!(t === 'all' || (t === 'market' && market) || (t === 'user' && user) || (t === 'api' && api))) break;
            if (!this.faults.fire(a)) break;
            st.drops++;
            s.ws?.close();
            return null;
          }
          case 'depthGap': {
            if (!obu) break;
            const sym = spec.symbol?.toUpperCase();
            if (sym !== undefined && !f.includes(`"s":"${sym}"`)) break;
            if (!this.faults.fire(a)) break;
            st.depthEventsSkipped++;
            const more = (spec.events ?? 1) - 1;
            if (more > 0) this.gapLeft.set(s, { n: more, symbol: sym ?? /"s":"([A-Z0-9_]+)"/.exec(f)?.[1] });
            skip = true;
            break;
          }
          case 'duplicate':
          case 'reorder':
          case 'malformed': {
            const t = spec.target ?? 'market';
            if (!((t === 'market' && market) || (t === 'user' && user) || (t === 'api' && api))) break;
            if (!gateFrameMatches(f, spec)) break;
            if (spec.kind === 'reorder' && (this.held.has(s) || hold !== null)) break;
            if (!this.faults.fire(a)) break;
            if (spec.kind === 'duplicate') {
              st.duplicates++;
              dup = true;
            } else if (spec.kind === 'reorder') {
              st.reorders++;
              hold = spec;
            } else {
              st.malformed++;
              if ((spec.mode ?? 'truncate') === 'truncate') f = f.slice(0, Math.max(1, f.length >> 1));
              else garbage = this.garbage();
            }
            break;
          }
          default:
            break;
        }
      }
      if (skip) continue;
      if (hold !== null) {
        this.held.set(s, { frame: f, filter: hold, since: now });
        continue;
      }
      if (garbage !== null) out.push(garbage);
      out.push(f);
      if (dup) out.push(f);
      const h = this.held.get(s);
      if (h !== undefined && (gateFrameMatches(f, h.filter) || now - h.since > REORDER_MAX_HOLD_MS)) {
        out.push(h.frame);
        this.held.delete(s);
      }
    }
    return out;
  }

  private garbage(): string {
    const r = this.garbageRng;
    let s = '\u0001{"channel":';
    const n = 8 + r.int(24);
    for (let i = 0; i < n; i++) s += String.fromCharCode(33 + r.int(90));
    return s;
  }

  private faulty(): boolean {
    return this.faults.frameArmed || this.held.size > 0 || this.gapLeft.size > 0 || this.stalled();
  }

  /** Pushes queued for a socket (from the venue's flush while `framesActive`). */
  frames(s: GateSocket, frames: readonly string[]): void {
    let out: readonly string[] = frames;
    if (this.faulty()) {
      const r = this.applyFrameFaults(s, frames);
      if (r === null) return;
      out = r;
    }
    if (out.length === 0) return;
    const l = this.latency;
    const lane = this.lane(s).out;
    const t = this.sched.now();
    if (l === null || (l.feed === null && l.user === null)) {
      if (lane.size === 0 && t >= lane.holdUntil) {
        this.host.writeFrames(s, out);
        return;
      }
      const copy = out.slice();
      this.sched.push(lane, t, () => this.host.writeFrames(s, copy));
      return;
    }
    const c = l.counters;
    for (let i = 0; i < out.length; i++) {
      const f = out[i]!;
      const cls = frameClass(f);
      const sampler: Sampler | null = cls === FrameClass.Market ? l.feed : cls === FrameClass.User ? l.user : null;
      let due = t;
      if (sampler !== null) {
        due += sampler.next();
        if (cls === FrameClass.Market) c.feedDelayed++;
        else c.userDelayed++;
      }
      this.sched.push(lane, due, () => this.host.writeFrames(s, [f]));
    }
  }

  /** Replies to a socket: frame faults (api replies), then `delayMs`, behind what the lane holds. */
  private replies(s: GateSocket, frames: readonly string[], delayMs: number): void {
    let out: readonly string[] = frames;
    if (this.faulty()) {
      const r = this.applyFrameFaults(s, frames);
      if (r === null) return;
      out = r;
    }
    if (out.length === 0) return;
    const lane = this.lane(s).out;
    const send = (): void => this.host.writeFrames(s, out);
    if (delayMs > 0) this.sched.push(lane, this.sched.now() + delayMs, send);
    else this.sched.runOrQueue(lane, send);
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
    const delays = kind !== 'other' && this.latency !== null && this.latency.requests ? this.latency.request() : NO_DELAY;
    const exec = (): void => {
      // The venue got the request: it acts on it even if the connection died meanwhile.
      const err = this.faultError(fault);
      let out: string[];
      if (err !== null) {
        if (err.executed) this.host.message(s, text);
        out = [this.apiErrorFrame(s, channel, reqId, err.e)];
      } else out = this.host.message(s, text);
      this.host.afterExec();
      if (this.ackLost(fault)) {
        if ((fault!.spec as { mode?: string }).mode === 'close' && !s.closed) ws.close();
        return;
      }
      if (s.closed) return;
      this.replies(s, out, delays.ackMs + this.ackDelay(fault));
    };
    const lanes = this.lane(s);
    if (delays.orderMs > 0) this.sched.push(lanes.in, this.sched.now() + delays.orderMs, exec);
    else this.sched.runOrQueue(lanes.in, exec);
  }

  /** A REST request (while `restActive`); false when nothing applies (the venue answers it directly). */
  restRequest(req: GateRestRequest, res: HttpResponse, aborted: () => boolean): boolean {
    const kind = gateRestKind(req.method, req.path);
    const fault = kind !== 'other' && this.faults.requestArmed ? this.faults.requestFault('rest', kind) : null;
    const delays = kind !== 'other' && this.latency !== null && this.latency.requests ? this.latency.request() : NO_DELAY;
    if (fault === null && delays.orderMs <= 0 && delays.ackMs <= 0) return false;
    const lane = new Lane();
    const exec = (): void => {
      const err = this.faultError(fault);
      let r: GateRestResponse;
      if (err !== null) {
        if (err.executed) this.host.rest(req);
        const e = err.e;
        r = { status: e.http, body: JSON.stringify(e.detail ? { label: e.label, detail: e.message } : { label: e.label, message: e.message }), headers: e.headers };
      } else r = this.host.rest(req);
      this.host.afterExec();
      if (this.ackLost(fault)) {
        if ((fault!.spec as { mode?: string }).mode === 'close' && !aborted()) res.close();
        return;
      }
      const write = (): void => {
        if (!aborted()) this.host.writeResponse(res, r);
      };
      const ack = delays.ackMs + this.ackDelay(fault);
      if (ack > 0) this.sched.push(lane, this.sched.now() + ack, write);
      else write();
    };
    if (delays.orderMs > 0) this.sched.push(lane, this.sched.now() + delays.orderMs, exec);
    else exec();
    return true;
  }

  private ackLost(fault: Armed | null): boolean {
    if (fault === null || fault.spec.kind !== 'loseAck') return false;
    this.faults.stats.acksLost++;
    return true;
  }

  private ackDelay(fault: Armed | null): number {
    if (fault === null || fault.spec.kind !== 'delayAck') return 0;
    this.faults.stats.acksDelayed++;
    return fault.spec.ms;
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
