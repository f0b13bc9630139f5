import type { HttpResponse, WebSocket } from 'uWebSockets.js';
import { Lane } from '../latency/DelayLanes.js';
import type { LatencyModel, Sampler } from '../latency/Latency.js';
import { E } from '../binance/errors.js';
import type { RestRequest, RestResponse } from '../binance/rest.js';
import type { MdSocket } from '../binance/streams.js';
import type { ApiSocket } from '../binance/wsApi.js';
import { DEPTH_NEEDLE, FaultInjector, frameMatches, type Armed, type ConnTarget } from './Faults.js';
import { F_API, F_DEPTH, F_MARKET, F_USER, WireCore, type FrameDialect, type ReqKind } from './WireCore.js';

// kept here for their users (the venue, tests): the shared definitions live in WireCore
export type { FaultControl, WireStats } from './WireCore.js';

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

/** Binance frames: `"e":"depthUpdate"` diffs, `"s"` symbols, junk that starts like an event. */
const BINANCE_FRAMES: FrameDialect = {
  matches: frameMatches,
  gapSymbol: (f) => /"s":"([A-Z0-9]+)"/.exec(f)?.[1],
  garbagePrefix: '\u0001{"e":',
};

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
 *
 * The pipeline itself is WireCore's; this class keeps the Binance connections, frames and error bodies.
 */
export class BinanceWire extends WireCore<MdSocket | ApiSocket, WireHost> {
  private readonly mdLanes = new WeakMap<MdSocket, Lane>();
  private readonly apiLanes = new WeakMap<ApiSocket, { in: Lane; out: Lane }>();

  constructor(host: WireHost, faults: FaultInjector, latency: LatencyModel | null, seed: number) {
    super(host, faults, latency, (seed ^ 0x5eed) >>> 0, BINANCE_FRAMES);
  }

  // ------------------------------------------------------------------ switches (checked by the venue)

  /** Market/user-data frames go through `mdFrames`. */
  get mdActive(): boolean {
    return this.framesOn;
  }

  /** WS API messages go through `apiMessage`. */
  get apiActive(): boolean {
    return (this.latency !== null && this.latency.requests) || this.faults.requestArmed || this.faults.frameArmed || this.busy;
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

  protected dropNow(target: ConnTarget | 'all'): void {
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

  protected stallNow(target: ConnTarget | 'all', until: number, discard: boolean): void {
    for (const s of this.host.mdSockets()) {
      if (s.closed || !this.mdTargeted(s, target)) continue;
      this.stallConn(s, () => this.mdLane(s), until, discard);
    }
    if (target === 'api' || target === 'all') {
      for (const ws of this.host.apiSockets()) {
        const d = ws.getUserData();
        if (d.closed) continue;
        this.stallConn(d, () => this.apiLane(d).out, until, discard);
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

  /** Frames queued for a market/user-data socket (called from the venue's flush while `mdActive`). */
  mdFrames(s: MdSocket, frames: readonly string[]): void {
    const market = this.isMarket(s);
    // a socket's frames count for its targets; only depth diffs can start or continue a gap
    const base = (market ? F_MARKET : 0) | (this.isUser(s) ? F_USER : 0);
    let out: readonly string[] = frames;
    if (this.faulty) {
      const r = this.applyFrameFaults(s, frames, (f) => base | (f.includes(DEPTH_NEEDLE) ? F_DEPTH : 0), () => s.ws?.close());
      if (r === null) return;
      out = r;
    }
    if (out.length === 0) return;
    const l = this.latency;
    const sampler: Sampler | null = l === null ? null : market ? l.feed : l.user;
    let delayOf: ((f: string) => number) | null = null;
    if (sampler !== null) {
      const c = l!.counters;
      delayOf = () => {
        if (market) c.feedDelayed++;
        else c.userDelayed++;
        return sampler.next();
      };
    }
    this.deliver(this.mdLane(s), out, (fs) => this.host.writeFrames(s, fs), delayOf);
  }

  /** One response frame to a WS API socket: frame faults with target api, then `delayMs`, in order. */
  private apiOut(ws: WebSocket<ApiSocket>, d: ApiSocket, frame: string, delayMs: number): void {
    let out: readonly string[] = [frame];
    // (a depth gap never involves a WS API socket, so `faulty` counting gaps changes nothing here)
    if (this.faulty) {
      const r = this.applyFrameFaults(d, out, () => F_API, () => {
        if (!d.closed) ws.close();
      });
      if (r === null) return;
      out = r;
    }
    // an empty send still takes its place in the lane (responses keep their spacing)
    this.onLane(this.apiLane(d).out, delayMs, () => {
      if (d.closed) return;
      for (const f of out) ws.send(f, false);
    });
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
    this.wsExchange(
      this.apiLane(d).in,
      kind,
      fault,
      () =>
        this.runRequest(fault, () => this.host.wsApi(text, d), (status, code, msg, headers) => {
          void headers;
          const error = code === null ? { msg } : { code, msg };
          return JSON.stringify({ id, status, error });
        }),
      () => d.closed,
      () => ws.close(),
      (reply, delayMs) => this.apiOut(ws, d, reply, delayMs),
    );
  }

  /**
   * A REST request (called while `restActive`). Returns false when neither a fault nor a delay applies:
   * the venue then answers it on its direct path.
   */
  restRequest(req: RestRequest, res: HttpResponse, aborted: () => boolean): boolean {
    const kind = restKind(req.method, req.path);
    const fault = this.faults.requestArmed ? this.faults.requestFault('rest', kind) : null;
    return this.restExchange(
      kind,
      fault,
      () =>
        this.runRequest(fault, () => this.host.rest(req), (status, code, msg, headers): RestResponse => {
          const body = code === null ? JSON.stringify({ timestamp: this.host.now(), path: req.path, msg }) : JSON.stringify({ code, msg });
          const h: Array<[string, string]> = [['X-MBX-USED-WEIGHT-1M', String(this.host.usedWeight())], ...headers];
          return { status, body, headers: h };
        }),
      (r) => this.host.writeResponse(res, r),
      () => res.close(),
      aborted,
    );
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
