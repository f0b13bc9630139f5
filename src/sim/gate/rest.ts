import type { SimAccount } from '../Venue.js';
import { errorJson, GE, type GateError } from './errors.js';
import { dec8, secs, toJson, type Json } from './json.js';
import { CANDLE_INTERVALS } from './marketData.js';
import { restSignString, verifyHex512 } from './signing.js';
import type { GatePriceOrders } from './priceOrders.js';
import type { GateContext, GateTrading, Outcome, RateInfo } from './trading.js';

/** A REST request as the transport hands it over: raw path, query and body exactly as sent. */
export interface GateRestRequest {
  /** Lower-case HTTP method. */
  method: string;
  path: string;
  query: string;
  body: string;
  /** Auth headers ('' when absent). */
  key: string;
  timestamp: string;
  sign: string;
  /** `x-gate-exptime` (ms), '' when absent. */
  exptime: string;
}

export interface GateRestResponse {
  status: number;
  body: string;
  headers: Array<[string, string]>;
}

export interface GateRestCounters {
  requests: number;
  errors: number;
  orderRequests: number;
}

export const API_PREFIX = '/api/v4';
const BASE = `${API_PREFIX}/futures/usdt`;
/** Timestamp header tolerance (s). */
const MAX_SKEW_S = 60;

interface Ctx {
  req: GateRestRequest;
  q: URLSearchParams;
  now: number;
  acc: SimAccount;
  /** Path parameter (contract or order id). */
  arg: string;
}

interface Route {
  signed: boolean;
  fn: (c: Ctx) => GateRestResponse;
}

/**
 * Gate futures REST (`/api/v4/futures/usdt/...`, protocols.md §2.8-§2.10) over the core. Public market
 * endpoints, and private ones authenticated with KEY / Timestamp / SIGN (HMAC-SHA512 over method, path,
 * query, body hash and timestamp; the timestamp within 60 s). Errors are `{"label","message"}` with the
 * venue's HTTP status. Transport-independent: the uWS glue reads the request and writes the response.
 */
export class GateRest {
  readonly counters: GateRestCounters = { requests: 0, errors: 0, orderRequests: 0 };
  private readonly routes = new Map<string, Route>();

  constructor(
    private readonly ctx: GateContext,
    private readonly trading: GateTrading,
    priceOrders?: GatePriceOrders,
  ) {
    const pub = (fn: Route['fn']): Route => ({ signed: false, fn });
    const priv = (fn: Route['fn']): Route => ({ signed: true, fn });
    const r = this.routes;
    r.set('get /contracts', pub((c) => this.json(200, this.ctx.contracts.map((k) => this.contractJson(k.name, c.now)))));
    r.set('get /contracts/:', pub((c) => this.one(c.arg, (name) => this.json(200, this.contractJson(name, c.now)))));
    r.set('get /order_book', pub((c) => this.orderBook(c)));
    r.set('get /tickers', pub((c) => this.tickers(c)));
    r.set('get /trades', pub((c) => this.trades(c)));
    r.set('get /candlesticks', pub((c) => this.candles(c)));
    r.set('post /orders', priv((c) => this.placeOrder(c)));
    r.set('get /orders', priv((c) => this.out(this.trading.listOrders(c.acc, c.q.get('contract') ?? undefined, c.q.get('status') ?? undefined, limitOf(c.q, 100, 1000)))));
    r.set('delete /orders', priv((c) => this.out(this.trading.cancelAll(c.acc, c.q.get('contract') ?? undefined, c.q.get('side') ?? undefined, c.now))));
    r.set('get /orders/:', priv((c) => this.out(this.trading.getOrder(c.acc, c.arg, c.now))));
    r.set('delete /orders/:', priv((c) => this.out(this.trading.cancelOrder(c.acc, c.arg, c.now))));
    r.set('post /batch_orders', priv((c) => this.batch(c)));
    r.set('post /countdown_cancel_all', priv((c) => this.withBody(c, (b) => this.out(this.trading.countdown(c.acc, b, c.now)))));
    r.set('get /my_trades', priv((c) => this.out(this.trading.myTrades(c.acc, c.q.get('contract') ?? undefined, c.q.get('order') ?? undefined, limitOf(c.q, 100, 1000)))));
    r.set('get /my_trades_timerange', priv((c) => this.myTradesInRange(c)));
    r.set('get /positions', priv((c) => this.positions(c)));
    r.set('get /positions/:', priv((c) => this.one(c.arg, (name) => this.json(200, this.ctx.ledger.position(c.acc, this.ctx.contract(name)!, this.ctx.orders)))));
    r.set('post /positions/:/leverage', priv((c) => this.leverage(c)));
    if (priceOrders) {
      r.set('post /price_orders', priv((c) => this.withBody(c, (b) => this.out(priceOrders.create(c.acc, b, c.now), 201))));
      r.set('get /price_orders', priv((c) => this.out(priceOrders.list(c.acc, c.q.get('status') ?? undefined, c.q.get('contract') ?? undefined))));
      r.set('get /price_orders/:', priv((c) => this.out(priceOrders.get(c.acc, c.arg))));
      r.set('delete /price_orders/:', priv((c) => this.out(priceOrders.cancel(c.acc, c.arg, c.now))));
    }
    r.set('get /accounts', priv((c) => this.json(200, this.ctx.ledger.account(c.acc))));
  }

  handle(req: GateRestRequest): GateRestResponse {
    this.counters.requests++;
    // the venue clock (an injected skew moves it): clients may estimate their clock offset from these
    const inUs = this.ctx.now() * 1000;
    const res = this.dispatch(req);
    if (res.status >= 400) this.counters.errors++;
    res.headers.push(['X-In-Time', String(inUs)], ['X-Out-Time', String(this.ctx.now() * 1000)]);
    return res;
  }

  private dispatch(req: GateRestRequest): GateRestResponse {
    if (!req.path.startsWith(BASE + '/')) return this.error(GE.notFound(req.path));
    const parts = req.path.slice(BASE.length + 1).split('/');
    let pattern = parts[0]!;
    let arg = '';
    if (parts.length >= 2) {
      try {
        arg = decodeURIComponent(parts[1]!);
      } catch {
        return this.error(GE.notFound(req.path));
      }
      pattern += '/:' + (parts.length > 2 ? '/' + parts.slice(2).join('/') : '');
    }
    const route = this.routes.get(`${req.method} /${pattern}`);
    if (!route || arg.length > 64) return this.error(GE.notFound(req.path));
    const now = this.ctx.now();
    let acc: SimAccount | null = null;
    if (route.signed) {
      const auth = this.authenticate(req, now);
      if ('label' in auth) return this.error(auth);
      acc = auth.acc;
    }
    return route.fn({ req, q: new URLSearchParams(req.query), now, acc: acc!, arg });
  }

  /** KEY, Timestamp and SIGN headers (and the optional x-gate-exptime). */
  private authenticate(req: GateRestRequest, now: number): { acc: SimAccount } | GateError {
    if (req.key === '') return GE.missingHeader('KEY');
    if (req.timestamp === '') return GE.missingHeader('Timestamp');
    if (req.sign === '') return GE.missingHeader('SIGN');
    const acc = this.ctx.core.accountByApiKey(req.key);
    if (!acc) return GE.invalidKey();
    const ts = Number(req.timestamp);
    if (!/^\d{1,12}(\.\d{1,6})?$/.test(req.timestamp) || Math.abs(now / 1000 - ts) > MAX_SKEW_S) return GE.requestExpired();
    if (!verifyHex512(acc.apiSecret, restSignString(req.method, req.path, req.query, req.body, req.timestamp), req.sign)) return GE.invalidSignature();
    if (req.exptime !== '' && (!/^\d{1,15}$/.test(req.exptime) || now > Number(req.exptime))) return GE.exptime();
    return { acc };
  }

  // ---- market data ----------------------------------------------------------------------------------

  private contractJson(name: string, now: number): Json {
    const c = this.ctx.contract(name)!;
    return this.ctx.data.contractJson(c, this.ctx.fees, now, dec8(this.ctx.core.maintMarginPpm * 100), this.ctx.maxOpenOrders);
  }

  private one(name: string, fn: (name: string) => GateRestResponse): GateRestResponse {
    if (!this.ctx.contract(name)) return this.error(GE.contractNotFound(name));
    return fn(name);
  }

  private need(c: Ctx): { name: string } | GateRestResponse {
    const name = c.q.get('contract');
    if (name === null || name === '') return this.error(GE.missingParam('contract'));
    if (!this.ctx.contract(name)) return this.error(GE.contractNotFound(name));
    return { name };
  }

  /**
   * Snapshot of the whole book up to `limit` levels a side; with `with_id=true` its update id, in the id
   * space of `futures.order_book_update` (the push holding id+1 is the first to apply). Reading it does
   * not change the book.
   */
  private orderBook(c: Ctx): GateRestResponse {
    const n = this.need(c);
    if (!('name' in n)) return n;
    const k = this.ctx.contract(n.name)!;
    const ls = c.q.get('limit');
    let limit = 10;
    if (ls !== null && ls !== '') {
      if (!/^\d{1,4}$/.test(ls) || Number(ls) < 1 || Number(ls) > 300) return this.error(GE.invalidParam('limit', ls));
      limit = Number(ls);
    }
    const id = this.ctx.market.updateId(k.idx);
    const lv = this.ctx.market.levels(k.idx, limit);
    const body: Record<string, Json> = {
      current: secs(c.now),
      update: secs(this.ctx.data.bookTime(k.idx)),
      asks: lv.asks.map(([t, q]) => ({ s: q, p: k.px(t) })),
      bids: lv.bids.map(([t, q]) => ({ s: q, p: k.px(t) })),
    };
    if (c.q.get('with_id') === 'true') body['id'] = id;
    return this.json(200, body);
  }

  private tickers(c: Ctx): GateRestResponse {
    const name = c.q.get('contract');
    if (name !== null && name !== '') {
      const k = this.ctx.contract(name);
      if (!k) return this.error(GE.contractNotFound(name));
      return this.json(200, [this.ctx.data.restTicker(k)]);
    }
    return this.json(200, this.ctx.contracts.map((k) => this.ctx.data.restTicker(k)));
  }

  private trades(c: Ctx): GateRestResponse {
    const n = this.need(c);
    if (!('name' in n)) return n;
    return this.json(200, this.ctx.data.restTrades(this.ctx.contract(n.name)!, limitOf(c.q, 100, 1000)));
  }

  private candles(c: Ctx): GateRestResponse {
    const n = this.need(c);
    if (!('name' in n)) return n;
    const iv = c.q.get('interval') ?? '5m';
    if (!(iv in CANDLE_INTERVALS)) return this.error(GE.invalidParam('interval', iv));
    const num = (k: string): number | null => {
      const v = c.q.get(k);
      return v === null || v === '' || !/^\d{1,12}$/.test(v) ? null : Number(v);
    };
    return this.json(200, this.ctx.data.restCandles(this.ctx.contract(n.name)!, iv, limitOf(c.q, 100, 2000), num('from'), num('to'), c.now));
  }

  // ---- account and orders ---------------------------------------------------------------------------

  private withBody(c: Ctx, fn: (body: unknown) => GateRestResponse): GateRestResponse {
    let body: unknown;
    try {
      body = c.req.body === '' ? {} : JSON.parse(c.req.body);
    } catch {
      return this.error(GE.invalidBody('request body is not valid JSON'));
    }
    return fn(body);
  }

  private placeOrder(c: Ctx): GateRestResponse {
    this.counters.orderRequests++;
    return this.withBody(c, (b) => this.out(this.trading.placeOrder(c.acc, b, c.now), 201));
  }

  /** `POST /batch_orders`: up to 20 orders; each result carries `succeeded` (failures: label + detail). */
  private batch(c: Ctx): GateRestResponse {
    return this.withBody(c, (b) => {
      if (!Array.isArray(b) || b.length === 0 || b.length > 20) return this.error(GE.invalidBody('expected a list of 1 to 20 orders'));
      let rate: RateInfo | undefined;
      const out: Json[] = [];
      for (const item of b) {
        this.counters.orderRequests++;
        const r = this.trading.placeOrder(c.acc, item, c.now);
        rate = r.rate ?? rate;
        if (r.ok) out.push({ succeeded: true, ...(r.value as Record<string, Json>) });
        else out.push({ succeeded: false, label: r.error.label, detail: r.error.message });
      }
      return this.json(200, out, rate);
    });
  }

  /** `GET /my_trades_timerange?from=&to=` (seconds; default the last 7 days up to now), ccxt's fetchMyTrades. */
  private myTradesInRange(c: Ctx): GateRestResponse {
    const nowS = Math.floor(c.now / 1000);
    const bound = (name: string, dflt: number): number | GateError => {
      const v = c.q.get(name);
      if (v === null || v === '') return dflt;
      return /^\d{1,12}$/.test(v) ? Number(v) : GE.invalidParam(name, v);
    };
    const from = bound('from', nowS - 7 * 86_400);
    if (typeof from !== 'number') return this.error(from);
    const to = bound('to', nowS);
    if (typeof to !== 'number') return this.error(to);
    return this.out(this.trading.myTrades(c.acc, c.q.get('contract') ?? undefined, undefined, limitOf(c.q, 100, 1000), { from, to }));
  }

  private positions(c: Ctx): GateRestResponse {
    const holding = c.q.get('holding') === 'true';
    const out: Json[] = [];
    for (const k of this.ctx.contracts) {
      if (holding && (c.acc.positions.get(k.idx)?.qty ?? 0) === 0) continue;
      out.push(this.ctx.ledger.position(c.acc, k, this.ctx.orders));
    }
    return this.json(200, out);
  }

  /**
   * `POST /positions/{contract}/leverage?leverage=N[&cross_leverage_limit=M]` (query parameters, no
   * body): N >= 1 sets that leverage; 0 means cross margin, at M (or the contract's maximum when 0).
   */
  private leverage(c: Ctx): GateRestResponse {
    const k = this.ctx.contract(c.arg);
    if (!k) return this.error(GE.contractNotFound(c.arg));
    const ls = c.q.get('leverage');
    if (ls === null || ls === '') return this.error(GE.missingParam('leverage'));
    const intOf = (s: string): number | null => (/^\d{1,4}(\.0*)?$/.test(s) ? Number.parseInt(s, 10) : null);
    const lev = intOf(ls);
    if (lev === null) return this.error(GE.invalidParam('leverage', ls));
    const max = k.spec.leverageMax;
    if (lev > max) return this.error(GE.leverageTooHigh(max));
    let effective = lev;
    let cross = '0';
    if (lev === 0) {
      const cs = c.q.get('cross_leverage_limit') ?? '0';
      const cl = intOf(cs === '' ? '0' : cs);
      if (cl === null) return this.error(GE.invalidParam('cross_leverage_limit', cs));
      if (cl > max) return this.error(GE.leverageTooHigh(max));
      effective = cl === 0 ? max : cl;
      cross = String(cl);
    }
    this.ctx.ledger.setLeverage(c.acc, k.idx, String(lev), cross);
    this.ctx.core.setLeverage(c.acc, k.idx, effective, c.now);
    return this.json(200, this.ctx.ledger.position(c.acc, k, this.ctx.orders));
  }

  // ---- plumbing -------------------------------------------------------------------------------------

  private out<T extends Json>(r: Outcome<T>, okStatus = 200): GateRestResponse {
    return r.ok ? this.json(okStatus, r.value, r.rate) : this.error(r.error, r.rate);
  }

  private json(status: number, body: Json, rate?: RateInfo): GateRestResponse {
    return { status, body: toJson(body), headers: rateHeaders(rate) };
  }

  private error(e: GateError, rate?: RateInfo): GateRestResponse {
    return { status: e.http, body: errorJson(e), headers: rateHeaders(rate) };
  }
}

function rateHeaders(rate: RateInfo | undefined): Array<[string, string]> {
  if (!rate) return [];
  return [
    ['X-Gate-RateLimit-Requests-Remain', String(rate.remain)],
    ['X-Gate-RateLimit-Limit', String(rate.limit)],
    ['X-Gate-RateLimit-Reset-Timestamp', String(rate.reset)],
  ];
}

function limitOf(q: URLSearchParams, dflt: number, max: number): number {
  const s = q.get('limit');
  if (s === null || !/^\d{1,6}$/.test(s)) return dflt;
  return Math.min(max, Math.max(1, Number(s)));
}
