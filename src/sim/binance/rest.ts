import { formatScaled } from '../../core/decimal.js';
import type { MarkPrices } from '../market/MarkPrice.js';
import type { MarketEvent, MarketSource } from '../market/types.js';
import type { AlgoRejectReason, PriceMatch, SimAccount, SimOrder, VenueCore } from '../Venue.js';
import { WindowCounter } from '../WindowCounter.js';
import { accountInfo, algoObject, balances, leverageBrackets, maxNotionalFor, positionRiskV2, positionRiskV3 } from './accountFormat.js';
import { amendRejectToError, E, err, errorJson, rejectToError, type BinanceError } from './errors.js';
import { depthSnapshotJson, exchangeInfoJson, orderObject, PERCENT_PRICE_DOWN_PPM, PERCENT_PRICE_UP_PPM } from './format.js';
import { parseAlgoOrder, parseAmendOrder, parseNewOrder } from './orderParams.js';
import { checkTimestamp, parseParams, signedPayload, verifyHex } from './signing.js';
import type { UserStreams } from './userData.js';

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
  rateLimited: number;
  banned: number;
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

/** The venue's request-weight and order-count limits (exchangeInfo `rateLimits`). */
export interface RateLimits {
  weight1m: number;
  orders10s: number;
  orders1m: number;
}

export const ORDER_LIMIT_10S = 300;
export const ORDER_LIMIT_1M = 1200;
export const WEIGHT_LIMIT_1M = 2400;
export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = { weight1m: WEIGHT_LIMIT_1M, orders10s: ORDER_LIMIT_10S, orders1m: ORDER_LIMIT_1M };

/** 429s within a minute that earn an IP ban (418), and the first ban's length (doubling on repeat, up to 3 days). */
const BAN_AFTER_429S = 5;
const FIRST_BAN_MS = 120_000;
const MAX_BAN_MS = 3 * 86_400_000;

/** The widest startTime..endTime range of a trade query (7 days). */
const TRADES_WINDOW_MS = 7 * 86_400_000;
const VALID_DEPTH_LIMITS = new Set([5, 10, 20, 50, 100, 500, 1000]);

function depthWeight(limit: number): number {
  if (!VALID_DEPTH_LIMITS.has(limit)) return 2;
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

type Security = 'NONE' | 'USER_STREAM' | 'SIGNED';

interface Ctx {
  req: RestRequest;
  params: Map<string, string>;
  now: number;
  headers: Array<[string, string]>;
  acc: SimAccount;
}

interface Route {
  weight: number | ((p: Map<string, string>) => number);
  security: Security;
  /** Order-placing endpoints (order-count headers, -1015). */
  orders?: boolean;
  fn: (c: Ctx) => RestResponse;
}

export interface BinanceRestOptions {
  market: MarketSource;
  core: VenueCore;
  now: () => number;
  /** Broadcasts market events caused by orders. */
  publish: (events: MarketEvent[]) => void;
  enforceRateLimits: boolean;
  limits: RateLimits;
  users: UserStreams;
  marks: MarkPrices;
  /** A recorded depth response body for the symbol (replay source), answered verbatim; null = build one. */
  recordedDepth?: (symbol: string, limit: number) => string | null;
}

/**
 * Binance USD-M REST dialect (`/fapi/...`) over the venue-neutral core. Transport-independent: the uWS
 * glue reads the request and writes the response. Every response carries `X-MBX-USED-WEIGHT-1M`; order
 * endpoints add `X-MBX-ORDER-COUNT-10S` / `-1M`. With limits enforced, a request past the weight limit
 * gets 429 (-1003) without being executed, an order past the order-count limits 429 (-1015), both with
 * `Retry-After`; repeated 429s get the IP banned (418) for a while.
 */
export class BinanceRest {
  readonly counters: RestCounters = { requests: 0, errors: 0, orderRequests: 0, rateLimited: 0, banned: 0 };
  private readonly weight = new WindowCounter(60_000, 60);
  private readonly orderCounters = new Map<string, OrderCounters>();
  private readonly recent429 = new WindowCounter(60_000, 60);
  private banUntil = 0;
  private banMs = FIRST_BAN_MS;
  private readonly routes: Map<string, Route>;
  private readonly countdowns = new Map<string, { timer: NodeJS.Timeout; deadline: number }>();
  private readonly market: MarketSource;
  private readonly core: VenueCore;
  private readonly now: () => number;
  private readonly publish: (events: MarketEvent[]) => void;
  private readonly enforce: boolean;
  readonly limits: RateLimits;
  private readonly users: UserStreams;
  private readonly marks: MarkPrices;
  private readonly recordedDepth: ((symbol: string, limit: number) => string | null) | null;

  constructor(o: BinanceRestOptions) {
    this.market = o.market;
    this.core = o.core;
    this.now = o.now;
    this.publish = o.publish;
    this.enforce = o.enforceRateLimits;
    this.limits = o.limits;
    this.users = o.users;
    this.marks = o.marks;
    this.recordedDepth = o.recordedDepth ?? null;
    const r = (weight: Route['weight'], security: Security, fn: Route['fn'], orders = false): Route => ({ weight, security, fn, orders });
    this.routes = new Map<string, Route>([
      ['get /fapi/v1/ping', r(1, 'NONE', (c) => this.ok('{}', c.headers))],
      ['get /fapi/v1/time', r(1, 'NONE', (c) => this.ok(`{"serverTime":${c.now}}`, c.headers))],
      ['get /fapi/v1/exchangeInfo', r(1, 'NONE', (c) => this.ok(exchangeInfoJson(this.market.instruments, c.now, this.limits), c.headers))],
      ['get /fapi/v1/depth', r((p) => depthWeight(Number(p.get('limit') || 500)), 'NONE', (c) => this.depth(c))],
      ['get /fapi/v1/ticker/bookTicker', r((p) => (p.get('symbol') ? 2 : 5), 'NONE', (c) => this.bookTicker(c))],
      ['get /fapi/v1/premiumIndex', r((p) => (p.get('symbol') ? 1 : 10), 'NONE', (c) => this.premiumIndex(c))],
      ['post /fapi/v1/order', r(0, 'SIGNED', (c) => this.newOrder(c), true)],
      ['put /fapi/v1/order', r(1, 'SIGNED', (c) => this.orderReply(this.submitAmend(c.acc, c.params, c.now), c), true)],
      ['get /fapi/v1/order', r(1, 'SIGNED', (c) => this.queryOrder(c, false))],
      ['get /fapi/v1/openOrder', r(1, 'SIGNED', (c) => this.queryOrder(c, true))],
      ['delete /fapi/v1/order', r(1, 'SIGNED', (c) => this.cancelOrder(c))],
      ['post /fapi/v1/batchOrders', r(5, 'SIGNED', (c) => this.batchPlace(c), true)],
      ['delete /fapi/v1/batchOrders', r(1, 'SIGNED', (c) => this.batchCancel(c))],
      ['delete /fapi/v1/allOpenOrders', r(1, 'SIGNED', (c) => this.cancelAll(c))],
      ['get /fapi/v1/openOrders', r((p) => (p.get('symbol') ? 1 : 40), 'SIGNED', (c) => this.openOrders(c))],
      ['post /fapi/v1/countdownCancelAll', r(10, 'SIGNED', (c) => this.countdown(c))],
      ['post /fapi/v1/leverage', r(1, 'SIGNED', (c) => this.leverage(c))],
      ['get /fapi/v1/leverageBracket', r(1, 'SIGNED', (c) => this.brackets(c))],
      ['get /fapi/v2/positionRisk', r(5, 'SIGNED', (c) => this.positionRisk(c, true))],
      ['get /fapi/v3/positionRisk', r(5, 'SIGNED', (c) => this.positionRisk(c, false))],
      ['get /fapi/v2/account', r(5, 'SIGNED', (c) => this.ok(JSON.stringify(accountInfo(this.core, c.acc, true)), c.headers))],
      ['get /fapi/v3/account', r(5, 'SIGNED', (c) => this.ok(JSON.stringify(accountInfo(this.core, c.acc, false)), c.headers))],
      ['get /fapi/v2/balance', r(5, 'SIGNED', (c) => this.ok(JSON.stringify(balances(this.core, c.acc)), c.headers))],
      ['get /fapi/v3/balance', r(5, 'SIGNED', (c) => this.ok(JSON.stringify(balances(this.core, c.acc)), c.headers))],
      ['get /fapi/v1/userTrades', r(5, 'SIGNED', (c) => this.userTrades(c))],
      ['post /fapi/v1/listenKey', r(1, 'USER_STREAM', (c) => this.ok(JSON.stringify({ listenKey: this.users.start(c.acc, c.now) }), c.headers))],
      ['put /fapi/v1/listenKey', r(1, 'USER_STREAM', (c) => this.listenKeyPut(c))],
      ['delete /fapi/v1/listenKey', r(1, 'USER_STREAM', (c) => this.listenKeyDelete(c))],
      ['post /fapi/v1/algoOrder', r(0, 'SIGNED', (c) => this.newAlgo(c), true)],
      ['get /fapi/v1/algoOrder', r(1, 'SIGNED', (c) => this.queryAlgo(c))],
      ['delete /fapi/v1/algoOrder', r(1, 'SIGNED', (c) => this.cancelAlgo(c))],
      ['delete /fapi/v1/algoOpenOrders', r(1, 'SIGNED', (c) => this.cancelAllAlgos(c))],
      ['get /fapi/v1/openAlgoOrders', r((p) => (p.get('symbol') ? 1 : 40), 'SIGNED', (c) => this.openAlgos(c, true))],
      ['get /fapi/v1/allAlgoOrders', r(5, 'SIGNED', (c) => this.openAlgos(c, false))],
    ]);
  }

  handle(req: RestRequest): RestResponse {
    this.counters.requests++;
    const now = this.now();
    const res = this.dispatch(req, now);
    if (res.status >= 400) this.counters.errors++;
    if (res.status === 429) this.tooMany(now);
    return res;
  }

  private dispatch(req: RestRequest, now: number): RestResponse {
    if (this.enforce && now < this.banUntil) {
      this.counters.banned++;
      return this.error(E.banned(this.banUntil), [
        ['X-MBX-USED-WEIGHT-1M', String(this.weight.value(now))],
        ['Retry-After', String(Math.ceil((this.banUntil - now) / 1000))],
      ]);
    }
    const route = this.routes.get(`${req.method} ${req.path}`);
    if (!route) return this.error(E.notFound(), this.useWeight(now, 1));
    const params = route.security === 'NONE' && req.method === 'get' ? parseParams(req.query, '') : parseParams(req.query, req.body);
    const w = typeof route.weight === 'number' ? route.weight : route.weight(params);
    const headers = this.useWeight(now, Number.isFinite(w) ? w : 1);
    // Past the weight limit the request is refused before it does anything.
    if (this.enforce && Number(headers[0]![1]) > this.limits.weight1m) {
      headers.push(['Retry-After', String(secondsToWindowEnd(now, 60_000))]);
      return this.error(E.weightExceeded(this.limits.weight1m), headers);
    }
    if (route.orders) this.counters.orderRequests++;
    let acc: SimAccount | null = null;
    if (route.security !== 'NONE') {
      const auth = route.security === 'SIGNED' ? this.authenticate(req, params, now) : this.apiKeyOnly(req);
      if ('code' in auth) return this.error(auth, headers);
      acc = auth.acc;
    }
    return route.fn({ req, params, now, headers, acc: acc! });
  }

  /** Current used weight (1 min window). */
  usedWeight(): number {
    return this.weight.value(this.now());
  }

  /** Adds request weight (shared by REST and the WebSocket API); returns the 1-minute total. */
  addWeight(now: number, w: number): number {
    return this.weight.add(now, w);
  }

  /** Stops every dead-man-switch timer (venue shutdown). */
  close(): void {
    for (const c of this.countdowns.values()) clearTimeout(c.timer);
    this.countdowns.clear();
  }

  private tooMany(now: number): void {
    this.counters.rateLimited++;
    if (!this.enforce) return;
    if (this.recent429.add(now) < BAN_AFTER_429S) return;
    this.banUntil = now + this.banMs;
    this.banMs = Math.min(MAX_BAN_MS, this.banMs * 2);
  }

  // ---- market data ----------------------------------------------------------------------------------

  private depth(c: Ctx): RestResponse {
    const limitStr = c.params.get('limit');
    let limit = 500;
    if (limitStr !== undefined && limitStr !== '') {
      limit = Number(limitStr);
      if (!VALID_DEPTH_LIMITS.has(limit)) return this.error(E.invalidData('limit'), c.headers);
    }
    const symbol = c.params.get('symbol');
    if (!symbol) return this.error(E.mandatory('symbol'), c.headers);
    const inst = this.market.instrument(symbol);
    if (!inst) return this.error(E.invalidSymbol(), c.headers);
    const recorded = this.recordedDepth?.(inst.symbol, limit) ?? null;
    if (recorded !== null) return this.ok(recorded, c.headers);
    const snap = this.market.snapshot(inst.idx, limit, c.now);
    return this.ok(depthSnapshotJson(snap, inst), c.headers);
  }

  private bookTicker(c: Ctx): RestResponse {
    const symbol = c.params.get('symbol');
    const one = (idx: number): Record<string, unknown> => {
      const inst = this.market.instruments[idx]!;
      const t = this.market.top(idx);
      return {
        symbol: inst.symbol,
        bidPrice: inst.priceStr(t.bid),
        bidQty: inst.qtyStr(t.bidQty),
        askPrice: inst.priceStr(t.ask),
        askQty: inst.qtyStr(t.askQty),
        time: c.now,
        lastUpdateId: t.u,
      };
    };
    if (symbol) {
      const inst = this.market.instrument(symbol);
      if (!inst) return this.error(E.invalidSymbol(), c.headers);
      return this.ok(JSON.stringify(one(inst.idx)), c.headers);
    }
    return this.ok(JSON.stringify(this.market.instruments.map((i) => one(i.idx))), c.headers);
  }

  private premiumIndex(c: Ctx): RestResponse {
    const one = (idx: number): Record<string, unknown> => ({
      symbol: this.market.instruments[idx]!.symbol,
      markPrice: formatScaled(this.marks.mark8(idx), 8),
      indexPrice: formatScaled(this.marks.index8(idx), 8),
      estimatedSettlePrice: formatScaled(this.marks.index8(idx), 8),
      lastFundingRate: formatScaled(this.marks.fundingRate8(idx), 8),
      interestRate: '0.00010000',
      nextFundingTime: this.marks.nextFundingTime(c.now),
      time: c.now,
    });
    const symbol = c.params.get('symbol');
    if (symbol) {
      const inst = this.market.instrument(symbol);
      if (!inst) return this.error(E.invalidSymbol(), c.headers);
      return this.ok(JSON.stringify(one(inst.idx)), c.headers);
    }
    return this.ok(JSON.stringify(this.market.instruments.map((i) => one(i.idx))), c.headers);
  }

  // ---- orders -----------------------------------------------------------------------------------------

  private newOrder(c: Ctx): RestResponse {
    const r = this.submitOrder(c.acc, c.params, c.now);
    return this.orderReply(r, c);
  }

  private orderReply(r: OrderOutcome, c: Ctx): RestResponse {
    if (r.counts) c.headers.push(['X-MBX-ORDER-COUNT-10S', String(r.counts.s10)], ['X-MBX-ORDER-COUNT-1M', String(r.counts.m1)]);
    if (r.error) {
      if (r.error.http === 429) c.headers.push(['Retry-After', String(secondsToWindowEnd(c.now, 10_000))]);
      return this.error(r.error, c.headers);
    }
    return this.ok(JSON.stringify(r.result), c.headers);
  }

  /**
   * Places an order from already authenticated parameters (REST and WebSocket API share it). `counts`
   * is set once the order reached the order counters (parameter errors are not counted).
   */
  submitOrder(acc: SimAccount, params: Map<string, string>, now: number): OrderOutcome {
    const parsed = parseNewOrder(params, this.market, this.core);
    if ('code' in parsed) return { error: parsed, result: null, counts: null };
    const counts = this.countOrder(acc, now);
    const limited = this.orderLimitError(counts);
    if (limited) return { error: limited, result: null, counts };
    const r = this.core.placeOrder(acc, parsed.order, now);
    if (!r.ok) return { error: rejectToError(r.reason, parsed.order.inst.spec.minNotional), result: null, counts };
    if (r.events.length > 0) this.publish(r.events);
    return { error: null, result: orderObject(r.order, parsed.respType === 'ACK'), counts };
  }

  private orderLimitError(counts: { s10: number; m1: number }): BinanceError | null {
    if (!this.enforce) return null;
    if (counts.s10 > this.limits.orders10s) return E.orderCountExceeded(this.limits.orders10s, 'TEN_SECONDS');
    if (counts.m1 > this.limits.orders1m) return E.orderCountExceeded(this.limits.orders1m, 'MINUTE');
    return null;
  }

  /**
   * Modifies an open LIMIT order from authenticated parameters (`PUT /fapi/v1/order` and WS
   * `order.modify`). Counts on the order counters like a new order. The answer is the order object:
   * amended (status NEW / PARTIALLY_FILLED, or FILLED when the new price took), or CANCELED when the
   * amendment cancelled it; a refused amendment leaves the order as it was.
   */
  submitAmend(acc: SimAccount, params: Map<string, string>, now: number): OrderOutcome {
    const parsed = parseAmendOrder(params, this.market);
    if ('code' in parsed) return { error: parsed, result: null, counts: null };
    const counts = this.countOrder(acc, now);
    const limited = this.orderLimitError(counts);
    if (limited) return { error: limited, result: null, counts };
    const inst = parsed.inst;
    const price = parsed.price ?? this.matchedPrice(inst.idx, parsed.side, parsed.priceMatch);
    if (price === null) return { error: E.invalidData('priceMatch'), result: null, counts };
    const r = this.core.amendOrder(
      acc,
      inst.idx,
      {
        orderId: parsed.orderId,
        clientOrderId: parsed.clientOrderId,
        side: parsed.side,
        qty: parsed.qty,
        price,
        priceMatch: parsed.priceMatch,
        percentPrice: { upPpm: PERCENT_PRICE_UP_PPM, downPpm: PERCENT_PRICE_DOWN_PPM },
      },
      now,
    );
    if (!r.ok) {
      // The PERCENT_PRICE bound as a price on the allowed side of the tick grid.
      const unit8 = inst.tickUnits * 10 ** (8 - inst.priceDecimals);
      const ticks = r.reason === 'PRICE_BELOW_MULTIPLIER_DOWN' ? Math.ceil(r.bound8 / unit8) : Math.floor(r.bound8 / unit8);
      return { error: amendRejectToError(r.reason, inst.priceStr(ticks)), result: null, counts };
    }
    if (r.events.length > 0) this.publish(r.events);
    return { error: null, result: orderObject(r.order, false), counts };
  }

  /**
   * The price priceMatch picks from the book: QUEUE[_n] the n-th price of the order's own side, OPPONENT[_n]
   * of the other side (n = 1 without suffix; the farthest level shown when the book is shallower). Null
   * when that side is empty.
   */
  private matchedPrice(sym: number, side: 'BUY' | 'SELL', pm: PriceMatch): number | null {
    const [kind, nStr] = pm.split('_') as [string, string | undefined];
    const n = nStr === undefined ? 1 : Number(nStr);
    const lv = this.market.levels(sym, n);
    const ownSide = kind === 'QUEUE';
    const book = (side === 'BUY') === ownSide ? lv.bids : lv.asks;
    const level = book[Math.min(n, book.length) - 1];
    return level === undefined ? null : level[0];
  }

  /** Cancels from authenticated parameters (REST and WebSocket API share it). */
  submitCancel(acc: SimAccount, params: Map<string, string>, now: number): OrderOutcome {
    const id = this.orderRef(params);
    if ('code' in id) return { error: id, result: null, counts: null };
    const r = this.core.cancelOrder(acc, id.sym, id.orderId, id.orderId === null ? id.clientId : null, now);
    if (!r.ok) return { error: E.unknownOrder(), result: null, counts: null };
    return { error: null, result: orderObject(r.order, false), counts: null };
  }

  /** `GET /fapi/v1/order` / WS `order.status`: any known order (open or closed), -2013 otherwise. */
  submitQuery(acc: SimAccount, params: Map<string, string>, openOnly: boolean): OrderOutcome {
    const id = this.orderRef(params);
    if ('code' in id) return { error: id, result: null, counts: null };
    let o: SimOrder | undefined = this.core.findOrder(acc, id.sym, id.orderId, id.orderId === null ? id.clientId : null);
    if (o && openOnly && !acc.open.has(o.orderId)) o = undefined;
    if (!o) return { error: openOnly ? E.noOpenOrder() : E.noSuchOrder(), result: null, counts: null };
    return { error: null, result: orderObject(o, false, true), counts: null };
  }

  /** symbol + (orderId | origClientOrderId), orderId winning. */
  private orderRef(params: Map<string, string>): { sym: number; orderId: number | null; clientId: string | null } | BinanceError {
    const symbol = params.get('symbol');
    if (!symbol) return E.mandatory('symbol');
    const inst = this.market.instrument(symbol);
    if (!inst) return E.invalidSymbol();
    const idStr = params.get('orderId');
    const cid = params.get('origClientOrderId');
    if (!idStr && !cid) return E.eitherOrderId();
    let orderId: number | null = null;
    if (idStr) {
      if (!/^\d{1,16}$/.test(idStr)) return E.invalidData('orderId');
      orderId = Number(idStr);
    }
    return { sym: inst.idx, orderId, clientId: cid ?? null };
  }

  private queryOrder(c: Ctx, openOnly: boolean): RestResponse {
    const r = this.submitQuery(c.acc, c.params, openOnly);
    if (r.error) return this.error(r.error, c.headers);
    return this.ok(JSON.stringify(r.result), c.headers);
  }

  private cancelOrder(c: Ctx): RestResponse {
    const r = this.submitCancel(c.acc, c.params, c.now);
    if (r.error) return this.error(r.error, c.headers);
    return this.ok(JSON.stringify(r.result), c.headers);
  }

  /** `POST /fapi/v1/batchOrders`: up to 5 orders (JSON list in `batchOrders`); failures inline as {code,msg}. */
  private batchPlace(c: Ctx): RestResponse {
    const raw = c.params.get('batchOrders');
    if (!raw) return this.error(E.mandatory('batchOrders'), c.headers);
    let list: unknown;
    try {
      list = JSON.parse(raw);
    } catch {
      return this.error(E.invalidData('batchOrders'), c.headers);
    }
    if (!Array.isArray(list) || list.length === 0 || list.length > 5) return this.error(E.invalidData('batchOrders'), c.headers);
    const out: unknown[] = [];
    let last: { s10: number; m1: number } | null = null;
    for (const item of list) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        out.push({ code: -1130, msg: "Data sent for parameter 'batchOrders' is not valid." });
        continue;
      }
      const p = new Map<string, string>();
      for (const [k, v] of Object.entries(item as Record<string, unknown>)) p.set(k, typeof v === 'string' ? v : String(v));
      const r = this.submitOrder(c.acc, p, c.now);
      if (r.counts) last = r.counts;
      out.push(r.error ? { code: r.error.code, msg: r.error.msg } : r.result);
    }
    if (last) c.headers.push(['X-MBX-ORDER-COUNT-10S', String(last.s10)], ['X-MBX-ORDER-COUNT-1M', String(last.m1)]);
    return this.ok(JSON.stringify(out), c.headers);
  }

  /** `DELETE /fapi/v1/batchOrders`: `orderIdList` or `origClientOrderIdList` (JSON lists, max 10). */
  private batchCancel(c: Ctx): RestResponse {
    const symbol = c.params.get('symbol');
    if (!symbol) return this.error(E.mandatory('symbol'), c.headers);
    const inst = this.market.instrument(symbol);
    if (!inst) return this.error(E.invalidSymbol(), c.headers);
    const ids = c.params.get('orderIdList');
    const cids = c.params.get('origClientOrderIdList');
    if (!ids && !cids) return this.error(E.eitherOrderIdList(), c.headers);
    const key = ids ? 'orderIdList' : 'origClientOrderIdList';
    let list: unknown;
    try {
      list = JSON.parse((ids ?? cids)!);
    } catch {
      return this.error(E.invalidData(key), c.headers);
    }
    if (!Array.isArray(list) || list.length === 0 || list.length > 10) return this.error(E.invalidData(key), c.headers);
    const out = list.map((x: unknown) => {
      let r;
      if (ids) {
        if (typeof x !== 'number' || !Number.isSafeInteger(x)) return { code: -1130, msg: `Data sent for parameter '${key}' is not valid.` };
        r = this.core.cancelOrder(c.acc, inst.idx, x, null, c.now);
      } else {
        if (typeof x !== 'string') return { code: -1130, msg: `Data sent for parameter '${key}' is not valid.` };
        r = this.core.cancelOrder(c.acc, inst.idx, null, x, c.now);
      }
      if (!r.ok) return { code: -2011, msg: 'Unknown order sent.' };
      return orderObject(r.order, false);
    });
    return this.ok(JSON.stringify(out), c.headers);
  }

  private cancelAll(c: Ctx): RestResponse {
    const symbol = c.params.get('symbol');
    if (!symbol) return this.error(E.mandatory('symbol'), c.headers);
    const inst = this.market.instrument(symbol);
    if (!inst) return this.error(E.invalidSymbol(), c.headers);
    this.core.cancelAll(c.acc, inst.idx, c.now);
    return this.ok('{"code":200,"msg":"The operation of cancel all open order is done."}', c.headers);
  }

  private openOrders(c: Ctx): RestResponse {
    const symbol = c.params.get('symbol');
    let sym: number | null = null;
    if (symbol) {
      const inst = this.market.instrument(symbol);
      if (!inst) return this.error(E.invalidSymbol(), c.headers);
      sym = inst.idx;
    }
    const list = this.core.openOrders(c.acc, sym).map((o) => orderObject(o, false, true));
    return this.ok(JSON.stringify(list), c.headers);
  }

  /**
   * `POST /fapi/v1/countdownCancelAll`: a dead-man switch per account and symbol. When `countdownTime`
   * ms pass without a renewal, the symbol's open orders are cancelled; 0 stops the countdown.
   */
  private countdown(c: Ctx): RestResponse {
    const symbol = c.params.get('symbol');
    if (!symbol) return this.error(E.mandatory('symbol'), c.headers);
    const inst = this.market.instrument(symbol);
    if (!inst) return this.error(E.invalidSymbol(), c.headers);
    const t = c.params.get('countdownTime');
    if (t === undefined || t === '') return this.error(E.mandatory('countdownTime'), c.headers);
    if (!/^\d{1,12}$/.test(t)) return this.error(E.invalidData('countdownTime'), c.headers);
    const ms = Number(t);
    const key = `${c.acc.id}\u0000${inst.idx}`;
    const prev = this.countdowns.get(key);
    if (prev) clearTimeout(prev.timer);
    this.countdowns.delete(key);
    if (ms > 0) {
      const acc = c.acc;
      const timer = setTimeout(() => {
        this.countdowns.delete(key);
        this.core.cancelAll(acc, inst.idx, this.now());
      }, ms);
      timer.unref();
      this.countdowns.set(key, { timer, deadline: c.now + ms });
    }
    return this.ok(JSON.stringify({ symbol: inst.symbol, countdownTime: String(ms) }), c.headers);
  }

  /** Active dead-man switches: `accountId`, symbol and deadline (ms). */
  countdownsActive(): Array<{ accountId: string; symbol: string; deadline: number }> {
    return [...this.countdowns.entries()].map(([k, v]) => {
      const [accountId, sym] = k.split('\u0000') as [string, string];
      return { accountId, symbol: this.market.instruments[Number(sym)]!.symbol, deadline: v.deadline };
    });
  }

  // ---- account ----------------------------------------------------------------------------------------

  private leverage(c: Ctx): RestResponse {
    const symbol = c.params.get('symbol');
    if (!symbol) return this.error(E.mandatory('symbol'), c.headers);
    const inst = this.market.instrument(symbol);
    if (!inst) return this.error(E.invalidSymbol(), c.headers);
    const l = c.params.get('leverage');
    if (l === undefined || l === '') return this.error(E.mandatory('leverage'), c.headers);
    const lev = Number(l);
    if (!/^\d{1,4}$/.test(l) || lev < 1 || lev > 125) return this.error(E.invalidLeverage(l), c.headers);
    this.core.setLeverage(c.acc, inst.idx, lev, c.now);
    return this.ok(JSON.stringify({ leverage: lev, maxNotionalValue: maxNotionalFor(lev), symbol: inst.symbol }), c.headers);
  }

  private brackets(c: Ctx): RestResponse {
    const symbol = c.params.get('symbol');
    const mmr = this.core.maintMarginPpm;
    if (symbol) {
      const inst = this.market.instrument(symbol);
      if (!inst) return this.error(E.invalidSymbol(), c.headers);
      return this.ok(JSON.stringify(leverageBrackets(inst.symbol, mmr)), c.headers);
    }
    return this.ok(JSON.stringify(this.market.instruments.map((i) => leverageBrackets(i.symbol, mmr))), c.headers);
  }

  /** Shared by REST and the WebSocket API (`account.position`): v2 lists every symbol, v3 the active ones. */
  positionRiskList(acc: SimAccount, params: Map<string, string>, v2: boolean): Array<Record<string, unknown>> | BinanceError {
    const symbol = params.get('symbol');
    let syms = this.market.instruments.map((i) => i.idx);
    if (symbol) {
      const inst = this.market.instrument(symbol);
      if (!inst) return E.invalidSymbol();
      syms = [inst.idx];
    }
    const out: Array<Record<string, unknown>> = [];
    for (const s of syms) {
      const v = this.core.positionView(acc, s);
      if (v2) out.push(positionRiskV2(v));
      else if (v.qty !== 0 || v.hasOpenOrders) out.push(positionRiskV3(v));
    }
    return out;
  }

  private positionRisk(c: Ctx, v2: boolean): RestResponse {
    const r = this.positionRiskList(c.acc, c.params, v2);
    if ('code' in r) return this.error(r, c.headers);
    return this.ok(JSON.stringify(r), c.headers);
  }

  private userTrades(c: Ctx): RestResponse {
    const symbol = c.params.get('symbol');
    if (!symbol) return this.error(E.mandatory('symbol'), c.headers);
    const inst = this.market.instrument(symbol);
    if (!inst) return this.error(E.invalidSymbol(), c.headers);
    const oid = c.params.get('orderId');
    const lim = Math.min(1000, Math.max(1, Number(c.params.get('limit') ?? 500) || 500));
    const fromIdText = c.params.get('fromId');
    const startText = c.params.get('startTime');
    const endText = c.params.get('endTime');
    if (fromIdText !== undefined && (startText !== undefined || endText !== undefined)) return this.error(E.badParamCombination(), c.headers);
    const fromId = fromIdText === undefined ? undefined : Number(fromIdText);
    if (fromId !== undefined && !Number.isInteger(fromId)) return this.error(E.invalidData('fromId'), c.headers);
    // Binance's window: at most 7 days; one end given, the other is 7 days away; none, the last 7 days
    let start = startText === undefined ? undefined : Number(startText);
    let end = endText === undefined ? undefined : Number(endText);
    if ((start !== undefined && !Number.isInteger(start)) || (end !== undefined && !Number.isInteger(end))) return this.error(E.invalidData(start !== undefined && !Number.isInteger(start) ? 'startTime' : 'endTime'), c.headers);
    if (start !== undefined && end !== undefined && (end < start || end - start > TRADES_WINDOW_MS)) return this.error(err(-1127, 'More than 168 hours between startTime and endTime.'), c.headers);
    if (fromId === undefined) {
      if (start === undefined) start = (end ?? c.now) - TRADES_WINDOW_MS;
      if (end === undefined) end = start + TRADES_WINDOW_MS;
    }
    let fills = this.core.accountFills(c.acc, inst.symbol);
    if (oid) fills = fills.filter((f) => String(f.orderId) === oid);
    if (fromId !== undefined) fills = fills.filter((f) => f.tradeId >= fromId).slice(0, lim);
    else {
      fills = fills.filter((f) => f.time >= start! && f.time <= end!);
      // from a start time the oldest trades come first; otherwise the newest `limit`
      fills = startText !== undefined ? fills.slice(0, lim) : fills.slice(-lim);
    }
    const out = fills.map((f) => ({
      buyer: f.side === 'BUY',
      commission: f.commission,
      commissionAsset: f.commissionAsset,
      id: f.tradeId,
      maker: f.maker,
      orderId: f.orderId,
      price: f.price,
      qty: f.qty,
      quoteQty: f.quoteQty,
      realizedPnl: f.realizedPnl,
      side: f.side,
      positionSide: 'BOTH',
      symbol: f.symbol,
      time: f.time,
    }));
    return this.ok(JSON.stringify(out), c.headers);
  }

  private listenKeyPut(c: Ctx): RestResponse {
    const key = this.users.keepalive(c.acc, c.params.get('listenKey'), c.now);
    if (key === null) return this.error(E.invalidListenKey(), c.headers);
    return this.ok(JSON.stringify({ listenKey: key }), c.headers);
  }

  private listenKeyDelete(c: Ctx): RestResponse {
    if (!this.users.close(c.acc, c.params.get('listenKey'))) return this.error(E.invalidListenKey(), c.headers);
    return this.ok('{}', c.headers);
  }

  // ---- algo orders ------------------------------------------------------------------------------------

  /** `POST /fapi/v1/algoOrder` / WS `algoOrder.place`. */
  submitAlgo(acc: SimAccount, params: Map<string, string>, now: number): OrderOutcome {
    const parsed = parseAlgoOrder(params, this.market, this.core);
    if ('code' in parsed) return { error: parsed, result: null, counts: null };
    const counts = this.countOrder(acc, now);
    const limited = this.orderLimitError(counts);
    if (limited) return { error: limited, result: null, counts };
    const r = this.core.placeAlgo(acc, parsed, now);
    if (!r.ok) return { error: algoRejectToError(r.reason), result: null, counts };
    return { error: null, result: algoObject(this.core, acc, r.algo), counts };
  }

  /** `DELETE /fapi/v1/algoOrder` / WS `algoOrder.cancel`. */
  submitAlgoCancel(acc: SimAccount, params: Map<string, string>, now: number): OrderOutcome {
    const ref = algoRef(params);
    if ('code' in ref) return { error: ref, result: null, counts: null };
    const a = this.core.cancelAlgo(acc, ref.algoId, ref.clientAlgoId, now);
    if (!a) return { error: E.unknownOrder(), result: null, counts: null };
    return { error: null, result: { algoId: a.algoId, clientAlgoId: a.clientAlgoId, code: '200', msg: 'success' }, counts: null };
  }

  private newAlgo(c: Ctx): RestResponse {
    return this.orderReply(this.submitAlgo(c.acc, c.params, c.now), c);
  }

  private cancelAlgo(c: Ctx): RestResponse {
    const r = this.submitAlgoCancel(c.acc, c.params, c.now);
    if (r.error) return this.error(r.error, c.headers);
    return this.ok(JSON.stringify(r.result), c.headers);
  }

  private queryAlgo(c: Ctx): RestResponse {
    const ref = algoRef(c.params);
    if ('code' in ref) return this.error(ref, c.headers);
    const a = this.core.findAlgo(c.acc, ref.algoId, ref.clientAlgoId);
    if (!a) return this.error(E.noSuchOrder(), c.headers);
    return this.ok(JSON.stringify(algoObject(this.core, c.acc, a)), c.headers);
  }

  private cancelAllAlgos(c: Ctx): RestResponse {
    const symbol = c.params.get('symbol');
    if (!symbol) return this.error(E.mandatory('symbol'), c.headers);
    const inst = this.market.instrument(symbol);
    if (!inst) return this.error(E.invalidSymbol(), c.headers);
    this.core.cancelAllAlgos(c.acc, inst.idx, c.now);
    return this.ok('{"code":200,"msg":"The operation of cancel all open order is done."}', c.headers);
  }

  private openAlgos(c: Ctx, openOnly: boolean): RestResponse {
    const symbol = c.params.get('symbol');
    let sym: number | null = null;
    if (symbol) {
      const inst = this.market.instrument(symbol);
      if (!inst) return this.error(E.invalidSymbol(), c.headers);
      sym = inst.idx;
    } else if (!openOnly) return this.error(E.mandatory('symbol'), c.headers);
    const list = openOnly ? this.core.openAlgoOrders(c.acc, sym) : [...c.acc.algos.values()].filter((a) => a.inst.idx === sym);
    return this.ok(JSON.stringify(list.map((a) => algoObject(this.core, c.acc, a))), c.headers);
  }

  // ---- rate limits ------------------------------------------------------------------------------------

  /** The rateLimits array of WebSocket API responses (current counts). */
  rateLimitsFor(acc: SimAccount | null, now: number): Array<Record<string, unknown>> {
    const c = acc ? this.orderCounters.get(acc.id) : undefined;
    return [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: this.limits.weight1m, count: this.weight.value(now) },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: this.limits.orders10s, count: c ? c.s10.value(now) : 0 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: this.limits.orders1m, count: c ? c.m1.value(now) : 0 },
    ];
  }

  /** With limits enforced: the WebSocket API request over the weight limit gets -1003. */
  weightError(now: number): BinanceError | null {
    return this.enforce && this.weight.value(now) > this.limits.weight1m ? E.weightExceeded(this.limits.weight1m) : null;
  }

  // ---- plumbing -------------------------------------------------------------------------------------

  /**
   * SIGNED security: API key header (-2015, HTTP 401), `timestamp` within `recvWindow` (-1021), and
   * `signature` = hex HMAC-SHA256 over query + body as sent, minus the signature parameter (-1022).
   */
  private authenticate(req: RestRequest, params: Map<string, string>, now: number): { acc: SimAccount } | BinanceError {
    const key = this.apiKeyOnly(req);
    if ('code' in key) return key;
    const ts = checkTimestamp(params, now);
    if (ts) return ts;
    const { payload, signature } = signedPayload(req.query, req.body);
    if (signature === null || signature === '') return E.mandatory('signature');
    if (!verifyHex(key.acc.apiSecret, payload, signature)) return E.invalidSignature();
    return key;
  }

  /** USER_STREAM / MARKET_DATA security: the API key header only. */
  private apiKeyOnly(req: RestRequest): { acc: SimAccount } | BinanceError {
    if (req.apiKey === '') return E.invalidApiKey();
    const acc = this.core.accountByApiKey(req.apiKey);
    if (!acc) return E.invalidApiKey();
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
    return { status: 200, body, headers };
  }

  private error(e: BinanceError, headers: Array<[string, string]>): RestResponse {
    return { status: e.http, body: errorJson(e), headers };
  }
}

/** Seconds until a fixed window of `windowMs` rolls over (the Retry-After of a 429). */
function secondsToWindowEnd(now: number, windowMs: number): number {
  return Math.max(1, Math.ceil((windowMs - (now % windowMs)) / 1000));
}

function algoRef(params: Map<string, string>): { algoId: number | null; clientAlgoId: string | null } | BinanceError {
  const id = params.get('algoId');
  const cid = params.get('clientAlgoId');
  if (!id && !cid) return E.eitherAlgoId();
  if (id) {
    if (!/^\d{1,16}$/.test(id)) return E.invalidData('algoId');
    return { algoId: Number(id), clientAlgoId: null };
  }
  return { algoId: null, clientAlgoId: cid! };
}

function algoRejectToError(r: AlgoRejectReason): BinanceError {
  switch (r) {
    case 'WOULD_IMMEDIATELY_TRIGGER':
      return E.wouldTrigger();
    case 'DUPLICATE_CLIENT_ALGO_ID':
      return E.duplicateClientOrderId();
    case 'MAX_ALGO_ORDERS':
      return E.maxAlgoOrders();
    case 'QTY_BELOW_MIN':
      return E.qtyBelowMin();
    case 'QTY_ABOVE_MAX':
      return E.qtyAboveMax();
  }
}
