import type { HttpResponse, WebSocket } from 'uWebSockets.js';
import { Lane, LaneScheduler } from '../latency/DelayLanes.js';
import type { LatencyModel, Sampler } from '../latency/Latency.js';
import { Rng } from '../rng.js';
import { E } from '../binance/errors.js';
import type { RestRequest, RestResponse } from '../binance/rest.js';
import type { MdSocket } from '../binance/streams.js';
import type { ApiSocket } from '../binance/wsApi.js';
import { DEPTH_NEEDLE, FaultInjector, FaultSpecError, frameMatches, parseFaultList, parseFaultSpec, type Armed, type ConnTarget, type FaultSpec, type FaultStats, type FrameFilter } from './Faults.js';

/** What the wire needs from the venue. */
export interface WireHost {
  mdSockets(): Iterable<MdSocket>;
  apiSockets(): Iterable<WebSocket<ApiSocket>>;
  /** Writes frames to a market/user-data socket now (counted as sent). */
  writeFrames(s: MdSocket, frames: readonly string[]): void;
  /** The REST dialect (request executed by the venue). */
  rest(req: RestRequest): RestResponse;
  /** The WebSocket API dialect (request executed by the venue); returns the response frame. */
  wsApi(text: string, sock: ApiSocket): string;
  writeResponse(res: HttpResponse, r: RestResponse): void;
  /** Order-driven market and user-data frames go out. */
  afterExec(): void;
  usedWeight(): number;
  /** venue clock, ms */
  now(): number;
  /** A delayed task (a frame write, a request) threw. */
  onError(e: unknown): void;
}

/** Fault and latency counters of the venue (BinanceVenueStats.faults). */
export interface WireStats extends FaultStats {
  /** frames and requests the latency model delayed */
  latencyFeedFrames: number;
  latencyUserFrames: number;
  latencyOrders: number;
  latencyAcks: number;
  /** frames and responses waiting in delay queues now */
  queued: number;
}

/** Control of the injected faults (handle.faults). */
export interface FaultControl {
  /** Arms (or applies) a fault; returns its id. Throws FaultSpecError for a bad spec. */
  inject(spec: FaultSpec): number;
  /** Disarms one fault by id, or all of them; returns how many. The clock skew stays (inject clockSkew 0). */
  clear(id?: number): number;
  /** Armed faults. */
  active(): Array<{ id: number; spec: FaultSpec; fired: number; left: number | null }>;
  stats(): WireStats;
}

type ReqKind = 'place' | 'cancel' | 'order' | 'other';

const NO_DELAY = { orderMs: 0, ackMs: 0 };

/** A frame held back by `reorder` until a later frame of its filter went out. */
interface Held {
  frame: string;
  filter: FrameFilter;
  since: number;
}

/** Held frames go out at the latest this long after they were held, if nothing of their kind follows. */
const REORDER_MAX_HOLD_MS = 1000;

const REJECT_MSGS: Record<number, string> = {
  [-1008]: 'Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again.',
  [-1015]: 'Too many new orders; current limit is 300 orders per TEN_SECONDS.',
  [-1021]: 'Timestamp for this request is outside of the recvWindow.',
  [-2010]: 'Order would immediately match and take.',
  [-2018]: 'Balance is insufficient.',
  [-2019]: 'Margin is insufficient.',
  [-2022]: 'ReduceOnly Order is rejected.',
  [-4131]: "The counterparty's best price does not meet the PERCENT_PRICE filter limit",
  [-4164]: "Order's notional must be no smaller than 100 (unless you choose reduce only).",
  [-5021]: 'Due to the order could not be filled immediately, the FOK order has been rejected.',
  [-5022]: 'Due to the order could not be executed as maker, the Post Only order will be rejected.',
  [-5028]: 'Timestamp for this request is outside of the ME recvWindow.',
};

/** HTTP status the venue uses with a code (protocols.md §1.6: -1008 comes with 503, rate limits with 429). */
function httpOfCode(code: number): number {
  if (code === -1008) return 503;
  if (code === -1003 || code === -1015) return 429;
  return 400;
}

function restKind(method: string, path: string): ReqKind {
  if (method === 'get' || !path.startsWith('/fapi/')) return 'other';
  if (path === '/fapi/v1/order' || path === '/fapi/v1/batchOrders') return method === 'post' ? 'place' : method === 'delete' ? 'cancel' : 'order';
  if (path === '/fapi/v1/allOpenOrders') return 'cancel';
  if (path === '/fapi/v1/algoOrder' || path === '/fapi/v1/algoOpenOrders' || path === '/fapi/v1/countdownCancelAll') return 'order';
  return 'other';
}

function apiKind(method: string): ReqKind {
  if (method === 'order.place') return 'place';
  if (method === 'order.cancel') return 'cancel';
  if (method === 'order.modify' || method.startsWith('algoOrder.')) return 'order';
  return 'other';
}

/**
 * Where the simulator's latency model and fault injection meet its sockets (Binance dialect). The venue
 * hands frames, WS API messages and REST requests here only while something is configured or armed
 * (`mdActive`, `apiActive`, `restActive`); otherwise it takes its direct path and none of this runs.
 *
 * - market/user-data frames: frame faults (drop, depth gap, duplicate, reorder, malformed), then the
 *   feed/user delay, through one FIFO lane per socket (a stall holds the lane);
 * - WS API: request faults and the order delay on an inbound lane per socket (requests are handled in
 *   arrival order), responses through an outbound lane (frame faults with target api, ack delay);
 * - REST: request faults, order delay, then ack delay per request.
 */
export class BinanceWire implements FaultControl {
  readonly sched: LaneScheduler;
  private readonly mdLanes = new WeakMap<MdSocket, Lane>();
  private readonly apiLanes = new WeakMap<ApiSocket, { in: Lane; out: Lane }>();
  /** per connection (its uWS user data) */
  private readonly held = new Map<MdSocket | ApiSocket, Held>();
  private readonly gapLeft = new Map<MdSocket | ApiSocket, { n: number; symbol: string | undefined }>();
  private readonly discardUntil = new WeakMap<MdSocket | ApiSocket, number>();
  /** end of the latest stall (the wired paths stay on until then) */
  private stallEnd = 0;
  private readonly garbageRng: Rng;

  constructor(
    private readonly host: WireHost,
    readonly faults: FaultInjector,
    readonly latency: LatencyModel | null,
    seed: number,
  ) {
    this.garbageRng = new Rng((seed ^ 0x5eed) >>> 0);
    this.sched = new LaneScheduler(undefined, (e) => host.onError(e));
  }

  // ------------------------------------------------------------------ switches (checked by the venue)

  /** Something is queued, held or stalled: later frames must take the same path to keep their order. */
  private get busy(): boolean {
    if (this.sched.busy) return true;
    if (this.held.size > 0 || this.gapLeft.size > 0) {
      // state of closed connections must not keep the wired paths on
      for (const k of this.held.keys()) if (k.closed) this.held.delete(k);
      for (const k of this.gapLeft.keys()) if (k.closed) this.gapLeft.delete(k);
      if (this.held.size > 0 || this.gapLeft.size > 0) return true;
    }
    return this.stalled();
  }

  /** A stall is in progress (no clock read when none was injected). */
  private stalled(): boolean {
    if (this.stallEnd === 0) return false;
    if (this.sched.now() < this.stallEnd) return true;
    this.stallEnd = 0;
    return false;
  }

  /** Market/user-data frames go through `mdFrames`. */
  get mdActive(): boolean {
    const l = this.latency;
    return (l !== null && (l.feed !== null || l.user !== null)) || this.faults.frameArmed || this.busy;
  }

  /** WS API messages go through `apiMessage`. */
  get apiActive(): boolean {
    return (this.latency !== null && this.latency.requests) || this.faults.requestArmed || this.faults.frameArmed || this.busy;
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
   * `/_sim/...` control requests: `POST /_sim/faults` (a fault, a list, or {"faults":[...]}) -> {"ids":[..]},
   * `GET /_sim/faults` -> {"active":[..],"stats":{..}}, `DELETE /_sim/faults[?id=N]` -> {"cleared":n},
   * `GET /_sim/latency` -> the latency model. Null for other paths.
   */
  control(method: string, path: string, query: string, body: string): RestResponse | null {
    if (!path.startsWith('/_sim/')) return null;
    const ok = (j: unknown): RestResponse => ({ status: 200, body: JSON.stringify(j), headers: [] });
    const bad = (status: number, msg: string): RestResponse => ({ status, body: JSON.stringify({ error: msg }), headers: [] });
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

  private isUser(s: MdSocket): boolean {
    return s.base === 'private' || s.userSubs.length > 0;
  }

  private isMarket(s: MdSocket): boolean {
    return s.base !== 'private' && (s.entries.size > 0 || s.userSubs.length === 0);
  }

  private mdTargeted(s: MdSocket, target: ConnTarget | 'all'): boolean {
    return target === 'all' || (target === 'market' ? this.isMarket(s) : target === 'user' ? this.isUser(s) : false);
  }

  private dropNow(target: ConnTarget | 'all'): void {
    for (const s of [...this.host.mdSockets()]) {
      if (s.closed || s.ws === null || !this.mdTargeted(s, target)) continue;
      this.faults.stats.drops++;
      s.ws.close();
    }
    if (target === 'api' || target === 'all') {
      for (const ws of [...this.host.apiSockets()]) {
        if (ws.getUserData().closed) continue;
        this.faults.stats.drops++;
        ws.close();
      }
    }
  }

  private stallNow(target: ConnTarget | 'all', ms: number, discard: boolean): void {
    const until = this.sched.now() + ms;
    if (until > this.stallEnd) this.stallEnd = until;
    for (const s of this.host.mdSockets()) {
      if (s.closed || !this.mdTargeted(s, target)) continue;
      this.faults.stats.stalls++;
      if (discard) this.discardUntil.set(s, until);
      else this.sched.hold(this.mdLane(s), until);
    }
    if (target === 'api' || target === 'all') {
      for (const ws of this.host.apiSockets()) {
        const d = ws.getUserData();
        if (d.closed) continue;
        this.faults.stats.stalls++;
        if (discard) this.discardUntil.set(d, until);
        else this.sched.hold(this.apiLane(d).out, until);
      }
    }
  }

  // ------------------------------------------------------------------ frames

  private mdLane(s: MdSocket): Lane {
    let l = this.mdLanes.get(s);
    if (l === undefined) {
      l = new Lane();
      this.mdLanes.set(s, l);
    }
    return l;
  }

  private apiLane(d: ApiSocket): { in: Lane; out: Lane } {
    let l = this.apiLanes.get(d);
    if (l === undefined) {
      l = { in: new Lane(), out: new Lane() };
      this.apiLanes.set(d, l);
    }
    return l;
  }

  /**
   * Frame faults on the frames about to go to one connection. Returns what is to be written (null when the
   * connection was dropped). `close` closes the connection.
   */
  private applyFrameFaults(key: MdSocket | ApiSocket, frames: readonly string[], market: boolean, user: boolean, api: boolean, close: () => void): string[] | null {
    const st = this.faults.stats;
    const now = this.sched.now();
    const armed = this.faults.frameArmed ? this.faults.frameFaults() : [];
    const out: string[] = [];
    const discardEnd = this.discardUntil.get(key);
    for (let i = 0; i < frames.length; i++) {
      let f = frames[i]!;
      if (discardEnd !== undefined && now < discardEnd) {
        st.stallDiscards++;
        continue;
      }
      const gap = this.gapLeft.get(key);
      if (gap !== undefined && f.includes(DEPTH_NEEDLE) && (gap.symbol === undefined || f.includes(`"s":"${gap.symbol}"`))) {
        st.depthEventsSkipped++;
        if (--gap.n <= 0) this.gapLeft.delete(key);
        continue;
      }
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
            close();
            return null;
          }
          case 'depthGap': {
            if (!market || !f.includes(DEPTH_NEEDLE)) break;
            const sym = spec.symbol?.toUpperCase();
            if (sym !== undefined && !f.includes(`"s":"${sym}"`)) break;
            if (!this.faults.fire(a)) break;
            st.depthEventsSkipped++;
            const more = (spec.events ?? 1) - 1;
            // the gap continues with the symbol of the skipped event (a one-symbol gap)
            if (more > 0) this.gapLeft.set(key, { n: more, symbol: sym ?? /"s":"([A-Z0-9]+)"/.exec(f)?.[1] });
            skip = true;
            break;
          }
          case 'duplicate':
          case 'reorder':
          case 'malformed': {
            const t = spec.target ?? 'market';
            if (!((t === 'market' && market) || (t === 'user' && user) || (t === 'api' && api))) break;
            if (!frameMatches(f, spec)) break;
            if (spec.kind === 'reorder' && (this.held.has(key) || hold !== null)) break;
            if (!this.faults.fire(a)) break;
            if (spec.kind === 'duplicate') {
              st.duplicates++;
              dup = true;
            } else if (spec.kind === 'reorder') {
              st.reorders++;
              hold = spec;
            } else {
              st.malformed++;
              // truncate: the frame is damaged (its event is lost); garbage: junk goes out before it
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
        this.held.set(key, { frame: f, filter: hold, since: now });
        continue;
      }
      if (garbage !== null) out.push(garbage);
      out.push(f);
      if (dup) out.push(f);
      const h = this.held.get(key);
      if (h !== undefined && (frameMatches(f, h.filter) || now - h.since > REORDER_MAX_HOLD_MS)) {
        out.push(h.frame);
        this.held.delete(key);
      }
    }
    return out;
  }

  private garbage(): string {
    const r = this.garbageRng;
    let s = '\u0001{"e":';
    const n = 8 + r.int(24);
    for (let i = 0; i < n; i++) s += String.fromCharCode(33 + r.int(90));
    return s;
  }

  /** Frames queued for a market/user-data socket (called from the venue's flush while `mdActive`). */
  mdFrames(s: MdSocket, frames: readonly string[]): void {
    const user = this.isUser(s);
    const market = this.isMarket(s);
    let out: readonly string[] = frames;
    if (this.faults.frameArmed || this.held.size > 0 || this.gapLeft.size > 0 || this.stalled()) {
      const r = this.applyFrameFaults(s, frames, market, user, false, () => s.ws?.close());
      if (r === null) return;
      out = r;
    }
    if (out.length === 0) return;
    const l = this.latency;
    const sampler: Sampler | null = l === null ? null : market ? l.feed : l.user;
    const lane = this.mdLane(s);
    const t = this.sched.now();
    if (sampler === null) {
      if (lane.size === 0 && t >= lane.holdUntil) {
        this.host.writeFrames(s, out);
        return;
      }
      const copy = out.slice();
      this.sched.push(lane, t, () => this.host.writeFrames(s, copy));
      return;
    }
    const c = l!.counters;
    for (let i = 0; i < out.length; i++) {
      const f = out[i]!;
      if (market) c.feedDelayed++;
      else c.userDelayed++;
      this.sched.push(lane, t + sampler.next(), () => this.host.writeFrames(s, [f]));
    }
  }

  /** One response frame to a WS API socket: frame faults with target api, then `delayMs`, in order. */
  private apiOut(ws: WebSocket<ApiSocket>, d: ApiSocket, frame: string, delayMs: number): void {
    let out: readonly string[] = [frame];
    if (this.faults.frameArmed || this.held.size > 0 || this.stalled()) {
      const r = this.applyFrameFaults(d, out, false, false, true, () => {
        if (!d.closed) ws.close();
      });
      if (r === null) return;
      out = r;
    }
    const send = (): void => {
      if (d.closed) return;
      for (const f of out) ws.send(f, false);
    };
    const lane = this.apiLane(d).out;
    if (delayMs > 0) this.sched.push(lane, this.sched.now() + delayMs, send);
    else this.sched.runOrQueue(lane, send);
  }

  // ------------------------------------------------------------------ requests

  /** A WS API text message (called while `apiActive`). */
  apiMessage(ws: WebSocket<ApiSocket>, text: string): void {
    const d = ws.getUserData();
    let id: unknown = null;
    let method = '';
    try {
      const j = JSON.parse(text) as unknown;
      if (typeof j === 'object' && j !== null && !Array.isArray(j)) {
        const o = j as Record<string, unknown>;
        id = typeof o['id'] === 'string' || typeof o['id'] === 'number' ? o['id'] : null;
        if (typeof o['method'] === 'string') method = o['method'];
      }
    } catch {
      // the dialect answers malformed requests itself
    }
    const kind = apiKind(method);
    const fault = this.faults.requestArmed ? this.faults.requestFault('wsapi', kind) : null;
    const delays = kind !== 'other' && this.latency !== null && this.latency.requests ? this.latency.request() : NO_DELAY;
    const lanes = this.apiLane(d);
    const exec = (): void => {
      // The venue got the request: it acts on it even if the connection died meanwhile.
      const reply = this.runRequest(fault, () => this.host.wsApi(text, d), (status, code, msg, headers) => {
        void headers;
        const error = code === null ? { msg } : { code, msg };
        return JSON.stringify({ id, status, error });
      });
      this.host.afterExec();
      if (this.ackLost(fault)) {
        if ((fault!.spec as { mode?: string }).mode === 'close' && !d.closed) ws.close();
        return;
      }
      if (d.closed) return;
      this.apiOut(ws, d, reply, delays.ackMs + this.ackDelay(fault));
    };
    if (delays.orderMs > 0) this.sched.push(lanes.in, this.sched.now() + delays.orderMs, exec);
    else this.sched.runOrQueue(lanes.in, exec);
  }

  /**
   * A REST request (called while `restActive`). Returns false when neither a fault nor a delay applies:
   * the venue then answers it on its direct path.
   */
  restRequest(req: RestRequest, res: HttpResponse, aborted: () => boolean): boolean {
    const kind = restKind(req.method, req.path);
    const fault = this.faults.requestArmed ? this.faults.requestFault('rest', kind) : null;
    const delays = kind !== 'other' && this.latency !== null && this.latency.requests ? this.latency.request() : NO_DELAY;
    if (fault === null && delays.orderMs <= 0 && delays.ackMs <= 0) return false;
    // One lane per request: REST clients here wait for each answer before the next request on a connection.
    const lane = new Lane();
    const exec = (): void => {
      const r = this.runRequest(fault, () => this.host.rest(req), (status, code, msg, headers) => {
        const body = code === null ? JSON.stringify({ timestamp: this.host.now(), path: req.path, msg }) : JSON.stringify({ code, msg });
        const h: Array<[string, string]> = [['X-MBX-USED-WEIGHT-1M', String(this.host.usedWeight())], ...headers];
        return { status, body, headers: h };
      });
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

  /**
   * The venue's answer to a request under a request fault: `reject` and `http` answer an error (the venue
   * acts first only for an `executed` 5xx); anything else is the dialect's own answer. `error` builds the
   * dialect's error (code null: a gateway error without a code, as the venue's 503 pages are).
   */
  private runRequest<T>(fault: Armed | null, run: () => T, error: (status: number, code: number | null, msg: string, headers: Array<[string, string]>) => T): T {
    if (fault === null) return run();
    const st = this.faults.stats;
    const spec = fault.spec;
    if (spec.kind === 'reject') {
      const codes = Array.isArray(spec.code) ? spec.code : [spec.code];
      const code = codes[(fault.fired - 1) % codes.length]!;
      st.rejects++;
      return error(httpOfCode(code), code, spec.msg ?? REJECT_MSGS[code] ?? 'Order rejected by the venue simulator (injected fault).', []);
    }
    if (spec.kind === 'http') {
      const status = spec.status;
      if (status >= 500 && spec.executed === true) {
        run();
        st.httpExecuted++;
      }
      if (status === 500) {
        st.http500++;
        return error(500, -1000, 'An unknown error occured while processing the request.', []);
      }
      if (status === 503) {
        st.http503++;
        const m = spec.message ?? 'unknown';
        if (m === 'throttled') return error(503, -1008, REJECT_MSGS[-1008]!, []);
        return error(503, null, m === 'unavailable' ? 'Service Unavailable.' : 'Unknown error, please check your request or try again later.', []);
      }
      if (status === 429) {
        st.http429++;
        const ra = spec.retryAfter ?? 1;
        return error(429, -1003, 'Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.', [['Retry-After', String(ra)]]);
      }
      st.http418++;
      const ra = spec.retryAfter ?? 120;
      const b = E.banned(this.host.now() + ra * 1000);
      return error(418, b.code, b.msg, [['Retry-After', String(ra)]]);
    }
    return run();
  }
}
