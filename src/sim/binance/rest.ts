import type { MarketEvent, MarketSource } from '../market/types.js';
import type { SimAccount, VenueCore } from '../Venue.js';
import { WindowCounter } from '../WindowCounter.js';
import { E, errorJson, rejectToError, type BinanceError } from './errors.js';
import { depthSnapshotJson, exchangeInfoJson, orderObject } from './format.js';
import { parseNewOrder } from './orderParams.js';
import { checkTimestamp, parseParams, signedPayload, verifyHex } from './signing.js';

/** A REST request as the transport hands it over (raw query string and raw body, exactly as sent). */
export interface RestRequest {
  /** Lower-case HTTP method. */
  method: string;
  path: string;
  query: string;
  body: string;
  /** X-MBX-APIKEY header ('' when absent). */
  apiKey: string;
}

export interface RestResponse {
  status: number;
  body: string;
  headers: Array<[string, string]>;
}

export interface RestCounters {
  requests: number;
  errors: number;
  orderRequests: number;
}

export interface OrderOutcome {
  error: BinanceError | null;
  result: Record<string, unknown> | null;
  counts: { s10: number; m1: number } | null;
}

interface OrderCounters {
  s10: WindowCounter;
  m1: WindowCounter;
}

export const ORDER_LIMIT_10S = 300;
export const ORDER_LIMIT_1M = 1200;
export const WEIGHT_LIMIT_1M = 2400;

const VALID_DEPTH_LIMITS = new Set([5, 10, 20, 50, 100, 500, 1000]);

function depthWeight(limit: number): number {
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

/**
 * Binance USD-M REST dialect (`/fapi/...`) over the venue-neutral core. Transport-independent: the uWS
 * glue reads the request and writes the response.
 */
export class BinanceRest {
  readonly counters: RestCounters = { requests: 0, errors: 0, orderRequests: 0 };
  private readonly weight = new WindowCounter(60_000, 60);
  private readonly orderCounters = new Map<string, OrderCounters>();

  constructor(
    private readonly market: MarketSource,
    private readonly core: VenueCore,
    private readonly now: () => number,
    private readonly publish: (events: MarketEvent[]) => void,
    private readonly enforceRateLimits: boolean,
  ) {}

  handle(req: RestRequest): RestResponse {
    this.counters.requests++;
    const now = this.now();
    const key = `${req.method} ${req.path}`;
    let res: RestResponse;
    switch (key) {
      case 'get /fapi/v1/ping':
        res = this.ok('{}', this.useWeight(now, 1));
        break;
      case 'get /fapi/v1/time':
        res = this.ok(`{"serverTime":${now}}`, this.useWeight(now, 1));
        break;
      case 'get /fapi/v1/exchangeInfo':
        res = this.ok(exchangeInfoJson(this.market.instruments, now), this.useWeight(now, 1));
        break;
      case 'get /fapi/v1/depth':
        res = this.depth(req, now);
        break;
      case 'get /fapi/v1/ticker/bookTicker':
        res = this.bookTicker(req, now);
        break;
      case 'post /fapi/v1/order':
        res = this.newOrder(req, now);
        break;
      case 'delete /fapi/v1/order':
        res = this.cancelOrder(req, now);
        break;
      case 'delete /fapi/v1/allOpenOrders':
        res = this.cancelAll(req, now);
        break;
      case 'get /fapi/v1/openOrders':
        res = this.openOrders(req, now);
        break;
      default:
        res = this.error(E.notFound(), this.useWeight(now, 1));
    }
    if (res.status >= 400) this.counters.errors++;
    return res;
  }

  /** Current used weight (1 min window). */
  usedWeight(): number {
    return this.weight.value(this.now());
  }

  // ---- endpoints ------------------------------------------------------------------------------------

  private depth(req: RestRequest, now: number): RestResponse {
    const params = parseParams(req.query, '');
    const limitStr = params.get('limit');
    let limit = 500;
    if (limitStr !== undefined && limitStr !== '') {
      limit = Number(limitStr);
      if (!VALID_DEPTH_LIMITS.has(limit)) return this.error(E.invalidData('limit'), this.useWeight(now, 2));
    }
    const headers = this.useWeight(now, depthWeight(limit));
    const symbol = params.get('symbol');
    if (!symbol) return this.error(E.mandatory('symbol'), headers);
    const inst = this.market.instrument(symbol);
    if (!inst) return this.error(E.invalidSymbol(), headers);
    const snap = this.market.snapshot(inst.idx, limit, now);
    return this.ok(depthSnapshotJson(snap, inst), headers);
  }

  private bookTicker(req: RestRequest, now: number): RestResponse {
    const params = parseParams(req.query, '');
    const symbol = params.get('symbol');
    const one = (idx: number): Record<string, unknown> => {
      const inst = this.market.instruments[idx]!;
      const t = this.market.top(idx);
      return {
        symbol: inst.symbol,
        bidPrice: inst.priceStr(t.bid),
        bidQty: inst.qtyStr(t.bidQty),
        askPrice: inst.priceStr(t.ask),
        askQty: inst.qtyStr(t.askQty),
        time: now,
        lastUpdateId: t.u,
      };
    };
    if (symbol) {
      const headers = this.useWeight(now, 2);
      const inst = this.market.instrument(symbol);
      if (!inst) return this.error(E.invalidSymbol(), headers);
      return this.ok(JSON.stringify(one(inst.idx)), headers);
    }
    const headers = this.useWeight(now, 5);
    return this.ok(JSON.stringify(this.market.instruments.map((i) => one(i.idx))), headers);
  }

  private newOrder(req: RestRequest, now: number): RestResponse {
    this.counters.orderRequests++;
    const headers = this.useWeight(now, 0);
    const params = parseParams(req.query, req.body);
    const auth = this.authenticate(req, params, now);
    if ('code' in auth) return this.error(auth, headers);
    const r = this.submitOrder(auth.acc, params, now);
    if (r.counts) headers.push(['X-MBX-ORDER-COUNT-10S', String(r.counts.s10)], ['X-MBX-ORDER-COUNT-1M', String(r.counts.m1)]);
    if (r.error) return this.error(r.error, headers);
    return this.ok(JSON.stringify(r.result), headers);
  }

  /**
   * Places an order from already authenticated parameters (REST and WebSocket API share it). `counts`
   * is set once the order reached the order counters (parameter errors are not counted).
   */
  submitOrder(acc: SimAccount, params: Map<string, string>, now: number): OrderOutcome {
    const parsed = parseNewOrder(params, this.market, this.core);
    if ('code' in parsed) return { error: parsed, result: null, counts: null };
    const counts = this.countOrder(acc, now);
    if (this.enforceRateLimits && (counts.s10 > ORDER_LIMIT_10S || counts.m1 > ORDER_LIMIT_1M)) {
      return { error: E.tooManyOrders(), result: null, counts };
    }
    const r = this.core.placeOrder(acc, parsed.order, now);
    if (!r.ok) return { error: rejectToError(r.reason, parsed.order.inst.spec.minNotional), result: null, counts };
    if (r.events.length > 0) this.publish(r.events);
    return { error: null, result: orderObject(r.order, parsed.respType === 'ACK'), counts };
  }

  /** Cancels from authenticated parameters (REST and WebSocket API share it). */
  submitCancel(acc: SimAccount, params: Map<string, string>, now: number): OrderOutcome {
    const symbol = params.get('symbol');
    if (!symbol) return { error: E.mandatory('symbol'), result: null, counts: null };
    const inst = this.market.instrument(symbol);
    if (!inst) return { error: E.invalidSymbol(), result: null, counts: null };
    const idStr = params.get('orderId');
    const cid = params.get('origClientOrderId');
    if (!idStr && !cid) {
      return {
        error: { http: 400, code: -1102, msg: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!" },
        result: null,
        counts: null,
      };
    }
    let orderId: number | null = null;
    if (idStr) {
      if (!/^\d{1,16}$/.test(idStr)) return { error: E.invalidData('orderId'), result: null, counts: null };
      orderId = Number(idStr);
    }
    const r = this.core.cancelOrder(acc, inst.idx, orderId, orderId === null ? (cid ?? null) : null, now);
    if (!r.ok) return { error: E.unknownOrder(), result: null, counts: null };
    return { error: null, result: orderObject(r.order, false), counts: null };
  }

  /** The rateLimits array of WebSocket API responses (current counts). */
  rateLimitsFor(acc: SimAccount | null, now: number): Array<Record<string, unknown>> {
    const c = acc ? this.orderCounters.get(acc.id) : undefined;
    return [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: WEIGHT_LIMIT_1M, count: this.weight.value(now) },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: ORDER_LIMIT_10S, count: c ? c.s10.value(now) : 0 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: ORDER_LIMIT_1M, count: c ? c.m1.value(now) : 0 },
    ];
  }

  /** Adds request weight (shared by REST and the WebSocket API); returns the 1-minute total. */
  addWeight(now: number, w: number): number {
    return this.weight.add(now, w);
  }

  private cancelOrder(req: RestRequest, now: number): RestResponse {
    const headers = this.useWeight(now, 1);
    const params = parseParams(req.query, req.body);
    const auth = this.authenticate(req, params, now);
    if ('code' in auth) return this.error(auth, headers);
    const r = this.submitCancel(auth.acc, params, now);
    if (r.error) return this.error(r.error, headers);
    return this.ok(JSON.stringify(r.result), headers);
  }

  private cancelAll(req: RestRequest, now: number): RestResponse {
    const headers = this.useWeight(now, 1);
    const params = parseParams(req.query, req.body);
    const auth = this.authenticate(req, params, now);
    if ('code' in auth) return this.error(auth, headers);
    const symbol = params.get('symbol');
    if (!symbol) return this.error(E.mandatory('symbol'), headers);
    const inst = this.market.instrument(symbol);
    if (!inst) return this.error(E.invalidSymbol(), headers);
    this.core.cancelAll(auth.acc, inst.idx, now);
    return this.ok('{"code":200,"msg":"The operation of cancel all open order is done."}', headers);
  }

  private openOrders(req: RestRequest, now: number): RestResponse {
    const params = parseParams(req.query, '');
    const symbol = params.get('symbol');
    const headers = this.useWeight(now, symbol ? 1 : 40);
    const auth = this.authenticate(req, params, now);
    if ('code' in auth) return this.error(auth, headers);
    let sym: number | null = null;
    if (symbol) {
      const inst = this.market.instrument(symbol);
      if (!inst) return this.error(E.invalidSymbol(), headers);
      sym = inst.idx;
    }
    const list = this.core.openOrders(auth.acc, sym).map((o) => orderObject(o, false, true));
    return this.ok(JSON.stringify(list), headers);
  }

  // ---- plumbing -------------------------------------------------------------------------------------

  /**
   * SIGNED security: API key header (-2015, HTTP 401), `timestamp` within `recvWindow` (-1021), and
   * `signature` = hex HMAC-SHA256 over query + body as sent, minus the signature parameter (-1022).
   */
  private authenticate(req: RestRequest, params: Map<string, string>, now: number): { acc: SimAccount } | BinanceError {
    if (req.apiKey === '') return E.invalidApiKey();
    const acc = this.core.accountByApiKey(req.apiKey);
    if (!acc) return E.invalidApiKey();
    const ts = checkTimestamp(params, now);
    if (ts) return ts;
    const { payload, signature } = signedPayload(req.query, req.body);
    if (signature === null || signature === '') return E.mandatory('signature');
    if (!verifyHex(acc.apiSecret, payload, signature)) return E.invalidSignature();
    return { acc };
  }

  private useWeight(now: number, w: number): Array<[string, string]> {
    const used = w > 0 ? this.weight.add(now, w) : this.weight.value(now);
    return [['X-MBX-USED-WEIGHT-1M', String(used)]];
  }

  private countOrder(acc: SimAccount, now: number): { s10: number; m1: number } {
    let c = this.orderCounters.get(acc.id);
    if (!c) {
      c = { s10: new WindowCounter(10_000, 10), m1: new WindowCounter(60_000, 60) };
      this.orderCounters.set(acc.id, c);
    }
    return { s10: c.s10.add(now), m1: c.m1.add(now) };
  }

  private ok(body: string, headers: Array<[string, string]>): RestResponse {
    if (this.enforceRateLimits && Number(headers[0]?.[1] ?? 0) > WEIGHT_LIMIT_1M) return this.error(E.tooMuchWeight(), headers);
    return { status: 200, body, headers };
  }

  private error(e: BinanceError, headers: Array<[string, string]>): RestResponse {
    return { status: e.http, body: errorJson(e), headers };
  }
}
