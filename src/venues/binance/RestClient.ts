import { Pool } from 'undici';
import type { RejectReason } from '../../ring/layout.js';
import {
  BinanceErrorKind,
  ErrorHandling,
  classifyBinanceError,
  classifyNoResponse,
  errorKindName,
  handlingOf,
  rejectReasonOf,
} from './errors.js';
import type { ExchangeInfo } from './filters.js';
import { RateBudget, Refusal, Weight, depthWeight } from './RateBudget.js';
import { signHex } from './sign.js';
import { TimeSync } from './TimeSync.js';

/**
 * Binance USD-M REST client for everything off the order hot path (protocols.md §1.5–§1.7): account and
 * position queries, cancels, conditional (algo) orders, listenKey, reference data, and REST order entry
 * for reconcile and manual paths. One keep-alive undici Pool. Every call goes through the RateBudget
 * first and feeds it the response headers; SIGNED calls carry TimeSync's venue timestamp. Venue and
 * transport errors come back as a typed result, never as an exception.
 */

// ---------------------------------------------------------------------------------------- response types

export interface OrderResponse {
  /** a number in practice; one real testnet answer carried it as a string */
  orderId: number | string;
  symbol: string;
  status: string;
  clientOrderId: string;
  price: string;
  avgPrice: string;
  origQty: string;
  executedQty: string;
  cumQty?: string;
  cumQuote: string;
  timeInForce: string;
  type: string;
  reduceOnly: boolean;
  closePosition: boolean;
  side: string;
  positionSide: string;
  stopPrice: string;
  workingType: string;
  priceProtect: boolean;
  origType: string;
  priceMatch?: string;
  selfTradePreventionMode?: string;
  goodTillDate?: number | string;
  time?: number | string;
  updateTime: number | string;
  activatePrice?: string;
  priceRate?: string;
}

/** One execution of ours, as `GET /fapi/v1/userTrades` lists it. */
export interface UserTrade {
  /** trade id (unique per symbol) */
  id: number;
  orderId: number;
  symbol: string;
  side: 'BUY' | 'SELL';
  price: string;
  qty: string;
  realizedPnl: string;
  quoteQty: string;
  commission: string;
  commissionAsset: string;
  time: number;
  positionSide: string;
  buyer: boolean;
  maker: boolean;
}

/** Which trades `userTrades` asks for: from a trade id, or within a time range (the venue refuses both at once). */
export type UserTradesQuery = { fromId: number; limit?: number } | { startTime?: number; endTime?: number; limit?: number };

/** `{"code":200,"msg":"The operation of cancel all open order is done."}` (a positive code is success). */
export interface CodeMsg {
  code: number;
  msg: string;
}

export interface CountdownResponse {
  symbol: string;
  countdownTime: string;
}

export interface PositionRisk {
  symbol: string;
  positionSide: string;
  positionAmt: string;
  entryPrice: string;
  breakEvenPrice: string;
  markPrice: string;
  unRealizedProfit: string;
  liquidationPrice: string;
  isolatedMargin: string;
  notional: string;
  marginAsset: string;
  isolatedWallet: string;
  initialMargin: string;
  maintMargin: string;
  positionInitialMargin: string;
  openOrderInitialMargin: string;
  adl: number | string;
  bidNotional: string;
  askNotional: string;
  updateTime: number | string;
}

export interface AccountAsset {
  asset: string;
  walletBalance: string;
  unrealizedProfit: string;
  marginBalance: string;
  maintMargin: string;
  initialMargin: string;
  positionInitialMargin: string;
  openOrderInitialMargin: string;
  crossWalletBalance: string;
  crossUnPnl: string;
  availableBalance: string;
  maxWithdrawAmount: string;
  marginAvailable?: boolean;
  updateTime: number | string;
}

export interface AccountPosition {
  symbol: string;
  positionSide: string;
  positionAmt: string;
  unrealizedProfit: string;
  isolatedMargin: string;
  notional: string;
  isolatedWallet: string;
  initialMargin: string;
  maintMargin: string;
  updateTime: number | string;
}

export interface AccountInfo {
  totalInitialMargin: string;
  totalMaintMargin: string;
  totalWalletBalance: string;
  totalUnrealizedProfit: string;
  totalMarginBalance: string;
  totalPositionInitialMargin: string;
  totalOpenOrderInitialMargin: string;
  totalCrossWalletBalance: string;
  totalCrossUnPnl: string;
  availableBalance: string;
  maxWithdrawAmount: string;
  assets: AccountAsset[];
  positions: AccountPosition[];
}

export interface BalanceEntry {
  accountAlias: string;
  asset: string;
  balance: string;
  crossWalletBalance: string;
  crossUnPnl: string;
  availableBalance: string;
  maxWithdrawAmount: string;
  marginAvailable: boolean;
  updateTime: number | string;
}

export interface LeverageResponse {
  leverage: number;
  maxNotionalValue: string;
  symbol: string;
}

export interface AlgoOrderResponse {
  algoId: number | string;
  clientAlgoId: string;
  algoType: string;
  orderType: string;
  symbol: string;
  side: string;
  positionSide: string;
  timeInForce?: string;
  quantity: string;
  algoStatus: string;
  triggerPrice: string;
  price: string;
  workingType: string;
  priceMatch?: string;
  closePosition: boolean;
  priceProtect: boolean;
  reduceOnly: boolean;
  activatePrice?: string;
  callbackRate?: string;
  actualOrderId?: string;
  actualPrice?: string;
  actualQty?: string;
  createTime?: number | string;
  updateTime?: number | string;
  triggerTime?: number | string;
  goodTillDate?: number | string;
}

export interface ListenKeyResponse {
  listenKey: string;
}

export interface ServerTimeResponse {
  serverTime: number;
}

export interface DepthSnapshot {
  lastUpdateId: number;
  E?: number;
  T?: number;
  bids: Array<[string, string]>;
  asks: Array<[string, string]>;
}

// ---------------------------------------------------------------------------------------- results

export interface RestOk<T> {
  ok: true;
  status: number;
  data: T;
}

export interface RestErr {
  ok: false;
  kind: BinanceErrorKind;
  handling: ErrorHandling;
  reason: RejectReason;
  /** venue code (negative), 0 when none */
  code: number;
  msg: string;
  /** HTTP status, 0 when no answer (local refusal or transport failure) */
  status: number;
}

export type RestResult<T> = RestOk<T> | RestErr;

/** What became of an order whose response was lost (see resolveOrder). */
export type OrderResolution =
  | { state: 'found'; order: OrderResponse }
  /** -2013: the venue never had it; safe to treat as not placed */
  | { state: 'notFound' }
  /** the query itself failed; ask again later */
  | { state: 'unknown'; error: RestErr };

// ---------------------------------------------------------------------------------------- parameters

export type OrderSide = 'BUY' | 'SELL';
export type PositionSide = 'BOTH' | 'LONG' | 'SHORT';
export type TimeInForceText = 'GTC' | 'IOC' | 'FOK' | 'GTX' | 'GTD';

export interface NewOrderParams {
  symbol: string;
  side: OrderSide;
  type: 'MARKET' | 'LIMIT';
  /** exact decimal text (e.g. filters.formatQty) */
  quantity: string;
  /** exact decimal text; LIMIT only */
  price?: string;
  /** LIMIT only (mandatory there); GTX = post-only */
  timeInForce?: TimeInForceText;
  /** ms, with GTD */
  goodTillDate?: number;
  reduceOnly?: boolean;
  positionSide?: PositionSide;
  newClientOrderId?: string;
  newOrderRespType?: 'ACK' | 'RESULT';
  selfTradePreventionMode?: 'NONE' | 'EXPIRE_TAKER' | 'EXPIRE_MAKER' | 'EXPIRE_BOTH';
}

export interface AlgoOrderParams {
  symbol: string;
  side: OrderSide;
  type: 'STOP_MARKET' | 'TAKE_PROFIT_MARKET' | 'TRAILING_STOP_MARKET';
  /** STOP_MARKET / TAKE_PROFIT_MARKET */
  triggerPrice?: string;
  /** omitted with closePosition */
  quantity?: string;
  closePosition?: boolean;
  reduceOnly?: boolean;
  positionSide?: PositionSide;
  workingType?: 'MARK_PRICE' | 'CONTRACT_PRICE';
  priceProtect?: boolean;
  /** TRAILING_STOP_MARKET */
  activatePrice?: string;
  /** TRAILING_STOP_MARKET, percent 0.1..10 */
  callbackRate?: string;
  clientAlgoId?: string;
}

/** An order reference: the venue's id or our client order id. */
export type OrderRef = { orderId: number | string } | { origClientOrderId: string };
export type AlgoRef = { algoId: number | string } | { clientAlgoId: string };

export interface RestClientOptions {
  /** e.g. https://fapi.binance.com or the simulator's restUrl */
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Default 5000 (the venue's default; docs advise <= 5000). */
  recvWindow?: number;
  /** Headers and body timeout per request. Default 5000 ms. */
  timeoutMs?: number;
  /** Pool connections. Default 2. */
  connections?: number;
  /** Default: one owned by the client, sampling GET /fapi/v1/time through this client. */
  timeSync?: TimeSync;
  /** Default: a RateBudget with 10% headroom. */
  budget?: RateBudget;
  /** Resend once after a clock resync when the venue answers -1021 (nothing was placed). Default true. */
  retryAfterClockSync?: boolean;
  /** Halt the budget on Halt-class answers (-2015 key/IP/permissions, 403 WAF, ...). Default true. */
  haltOnAuthError?: boolean;
  /** Account/balance endpoint version. Default 'v3'. */
  accountVersion?: 'v2' | 'v3';
}

const enum Sec {
  None = 0,
  /** API key header only (USER_STREAM, MARKET_DATA) */
  Key = 1,
  Signed = 2,
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type ParamValue = string | number | boolean | undefined;
type Params = ReadonlyArray<readonly [string, ParamValue]>;

/** Request weight of GET /fapi/v1/userTrades. */
const USER_TRADES_WEIGHT = 5;

const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const DECIMAL_RE = /^\d+(\.\d+)?$/;

/** Transport error codes that mean the request never left this process. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class BinanceRestClient {
  readonly timeSync: TimeSync;
  readonly budget: RateBudget;
  readonly counters = { requests: 0, ok: 0, venueErrors: 0, transportErrors: 0, localRefusals: 0, clockRetries: 0 };
  private readonly pool: Pool;
  private readonly path: string;
  private readonly secret: Buffer;
  private readonly recvWindow: number;
  private readonly timeoutMs: number;
  private readonly ownsTimeSync: boolean;

  constructor(private readonly opts: RestClientOptions) {
    const u = new URL(opts.baseUrl);
    this.path = u.pathname.replace(/\/$/, '');
    this.pool = new Pool(u.origin, {
      connections: opts.connections ?? 2,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
      connect: { noDelay: true },
    });
    this.secret = Buffer.from(opts.apiSecret, 'utf8');
    this.recvWindow = opts.recvWindow ?? 5000;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.budget = opts.budget ?? new RateBudget();
    this.ownsTimeSync = opts.timeSync === undefined;
    this.timeSync = opts.timeSync ?? new TimeSync({ fetchServerTime: () => this.serverTimeForSync() });
  }

  /** Syncs the clock once and keeps it synced (periodic resync) until close(). */
  async init(): Promise<void> {
    await this.timeSync.sync();
    if (this.ownsTimeSync) this.timeSync.start();
  }

  async close(): Promise<void> {
    if (this.ownsTimeSync) this.timeSync.stop();
    await this.pool.close().catch(() => undefined);
  }

  // ---- market data / reference --------------------------------------------------------------------

  time(): Promise<RestResult<ServerTimeResponse>> {
    return this.call('GET', '/fapi/v1/time', Sec.None, Weight.time, 0, []);
  }

  exchangeInfo(): Promise<RestResult<ExchangeInfo>> {
    return this.call('GET', '/fapi/v1/exchangeInfo', Sec.None, Weight.exchangeInfo, 0, []);
  }

  depth(symbol: string, limit = 1000): Promise<RestResult<DepthSnapshot>> {
    return this.call('GET', '/fapi/v1/depth', Sec.None, depthWeight(limit), 0, [
      ['symbol', symbol],
      ['limit', limit],
    ]);
  }

  // ---- orders -------------------------------------------------------------------------------------

  /**
   * POST /fapi/v1/order. Refuses locally (LocalInvalid, never sent) what the venue would reject for its
   * shape: LIMIT without price or timeInForce, MARKET with a price, a client id outside the venue's regex.
   */
  newOrder(p: NewOrderParams): Promise<RestResult<OrderResponse>> {
    const bad = validateNewOrder(p);
    if (bad !== null) return Promise.resolve(this.local(BinanceErrorKind.LocalInvalid, bad));
    return this.call('POST', '/fapi/v1/order', Sec.Signed, Weight.newOrder, 1, [
      ['symbol', p.symbol],
      ['side', p.side],
      ['positionSide', p.positionSide],
      ['type', p.type],
      ['timeInForce', p.type === 'LIMIT' ? p.timeInForce : undefined],
      ['quantity', p.quantity],
      ['price', p.price],
      ['goodTillDate', p.goodTillDate],
      ['reduceOnly', p.reduceOnly === undefined ? undefined : p.reduceOnly ? 'true' : 'false'],
      ['newClientOrderId', p.newClientOrderId],
      ['selfTradePreventionMode', p.selfTradePreventionMode],
      ['newOrderRespType', p.newOrderRespType],
    ]);
  }

  cancelOrder(symbol: string, ref: OrderRef): Promise<RestResult<OrderResponse>> {
    return this.call('DELETE', '/fapi/v1/order', Sec.Signed, Weight.cancelOrder, 0, [['symbol', symbol], ...orderRefParams(ref)]);
  }

  cancelAllOpenOrders(symbol: string): Promise<RestResult<CodeMsg>> {
    return this.call('DELETE', '/fapi/v1/allOpenOrders', Sec.Signed, Weight.cancelAllOpenOrders, 0, [['symbol', symbol]]);
  }

  /** Dead-man switch: cancel all of `symbol` unless called again within countdownMs (0 stops it). */
  countdownCancelAll(symbol: string, countdownMs: number): Promise<RestResult<CountdownResponse>> {
    return this.call('POST', '/fapi/v1/countdownCancelAll', Sec.Signed, Weight.countdownCancelAll, 0, [
      ['symbol', symbol],
      ['countdownTime', countdownMs],
    ]);
  }

  queryOrder(symbol: string, ref: OrderRef): Promise<RestResult<OrderResponse>> {
    return this.call('GET', '/fapi/v1/order', Sec.Signed, Weight.queryOrder, 0, [['symbol', symbol], ...orderRefParams(ref)]);
  }

  openOrders(symbol?: string): Promise<RestResult<OrderResponse[]>> {
    return this.call('GET', '/fapi/v1/openOrders', Sec.Signed, symbol ? Weight.openOrdersSymbol : Weight.openOrdersAll, 0, [['symbol', symbol]]);
  }

  /**
   * The lost-response case: what became of the order sent with `clientOrderId`? Found -> its state;
   * -2013 -> it never reached the venue. When `sentTimestampMs` (the `timestamp` the lost request carried)
   * is given, the query waits until the venue's clock is past sentTimestamp + recvWindow: from then on the
   * venue rejects that request if it is still in flight, so "not found" is final.
   */
  async resolveOrder(symbol: string, clientOrderId: string, sentTimestampMs?: number): Promise<OrderResolution> {
    if (sentTimestampMs !== undefined) {
      // A loop, not one timer: libuv timers may fire up to a millisecond early against this clock.
      for (let wait = sentTimestampMs + this.recvWindow + 1 - this.timeSync.serverNow(); wait > 0; wait = sentTimestampMs + this.recvWindow + 1 - this.timeSync.serverNow()) {
        await new Promise((r) => setTimeout(r, Math.ceil(wait)));
      }
    }
    const r = await this.queryOrder(symbol, { origClientOrderId: clientOrderId });
    if (r.ok) return { state: 'found', order: r.data };
    if (r.kind === BinanceErrorKind.NoSuchOrder) return { state: 'notFound' };
    return { state: 'unknown', error: r };
  }

  // ---- conditional (algo) orders --------------------------------------------------------------------

  newAlgoOrder(p: AlgoOrderParams): Promise<RestResult<AlgoOrderResponse>> {
    const bad = validateAlgoOrder(p);
    if (bad !== null) return Promise.resolve(this.local(BinanceErrorKind.LocalInvalid, bad));
    return this.call('POST', '/fapi/v1/algoOrder', Sec.Signed, Weight.newAlgoOrder, 1, [
      ['algoType', 'CONDITIONAL'],
      ['symbol', p.symbol],
      ['side', p.side],
      ['positionSide', p.positionSide],
      ['type', p.type],
      ['quantity', p.quantity],
      ['triggerPrice', p.triggerPrice],
      ['workingType', p.workingType],
      ['priceProtect', p.priceProtect === undefined ? undefined : p.priceProtect ? 'TRUE' : 'FALSE'],
      ['reduceOnly', p.reduceOnly === undefined ? undefined : p.reduceOnly ? 'true' : 'false'],
      ['closePosition', p.closePosition === undefined ? undefined : p.closePosition ? 'true' : 'false'],
      ['activatePrice', p.activatePrice],
      ['callbackRate', p.callbackRate],
      ['clientAlgoId', p.clientAlgoId],
    ]);
  }

  cancelAlgoOrder(ref: AlgoRef, symbol?: string): Promise<RestResult<CodeMsg | AlgoOrderResponse>> {
    const id: readonly [string, ParamValue] = 'algoId' in ref ? ['algoId', ref.algoId] : ['clientAlgoId', ref.clientAlgoId];
    return this.call('DELETE', '/fapi/v1/algoOrder', Sec.Signed, Weight.cancelAlgoOrder, 0, [['symbol', symbol], id]);
  }

  queryAlgoOrder(ref: AlgoRef): Promise<RestResult<AlgoOrderResponse>> {
    const id: readonly [string, ParamValue] = 'algoId' in ref ? ['algoId', ref.algoId] : ['clientAlgoId', ref.clientAlgoId];
    return this.call('GET', '/fapi/v1/algoOrder', Sec.Signed, Weight.queryAlgoOrder, 0, [id]);
  }

  cancelAllAlgoOpenOrders(symbol: string): Promise<RestResult<CodeMsg>> {
    return this.call('DELETE', '/fapi/v1/algoOpenOrders', Sec.Signed, Weight.cancelAllAlgoOpenOrders, 0, [['symbol', symbol]]);
  }

  openAlgoOrders(symbol?: string): Promise<RestResult<AlgoOrderResponse[]>> {
    return this.call('GET', '/fapi/v1/openAlgoOrders', Sec.Signed, symbol ? Weight.openAlgoOrdersSymbol : Weight.openAlgoOrdersAll, 0, [['symbol', symbol]]);
  }

  // ---- account ----------------------------------------------------------------------------------------

  /** v3: only symbols with a position or open orders. */
  positionRisk(symbol?: string): Promise<RestResult<PositionRisk[]>> {
    return this.call('GET', '/fapi/v3/positionRisk', Sec.Signed, Weight.positionRisk, 0, [['symbol', symbol]]);
  }

  /**
   * GET /fapi/v1/userTrades, oldest first, at most `limit` (venue default 500, max 1000). With `startTime`
   * the venue answers from there (a range may span 7 days at most); page on with `fromId` = last id + 1.
   */
  userTrades(symbol: string, q: UserTradesQuery = {}): Promise<RestResult<UserTrade[]>> {
    return this.call('GET', '/fapi/v1/userTrades', Sec.Signed, USER_TRADES_WEIGHT, 0, [
      ['symbol', symbol],
      ['fromId', 'fromId' in q ? q.fromId : undefined],
      ['startTime', 'startTime' in q ? q.startTime : undefined],
      ['endTime', 'endTime' in q ? q.endTime : undefined],
      ['limit', q.limit],
    ]);
  }

  account(): Promise<RestResult<AccountInfo>> {
    return this.call('GET', `/fapi/${this.opts.accountVersion ?? 'v3'}/account`, Sec.Signed, Weight.account, 0, []);
  }

  balance(): Promise<RestResult<BalanceEntry[]>> {
    return this.call('GET', `/fapi/${this.opts.accountVersion ?? 'v3'}/balance`, Sec.Signed, Weight.balance, 0, []);
  }

  leverage(symbol: string, leverage: number): Promise<RestResult<LeverageResponse>> {
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) {
      return Promise.resolve(this.local(BinanceErrorKind.LocalInvalid, `leverage must be an integer 1..125: ${leverage}`));
    }
    return this.call('POST', '/fapi/v1/leverage', Sec.Signed, Weight.leverage, 0, [
      ['symbol', symbol],
      ['leverage', leverage],
    ]);
  }

  // ---- user data stream (API key only, not signed) ---------------------------------------------------

  /** Creates the listenKey, or returns and extends the existing one. */
  createListenKey(): Promise<RestResult<ListenKeyResponse>> {
    return this.call('POST', '/fapi/v1/listenKey', Sec.Key, Weight.listenKey, 0, []);
  }

  /** Extends the key by 60 min; -1125 means it expired: create a new one. */
  keepAliveListenKey(): Promise<RestResult<ListenKeyResponse | Record<string, never>>> {
    return this.call('PUT', '/fapi/v1/listenKey', Sec.Key, Weight.listenKey, 0, []);
  }

  closeListenKey(): Promise<RestResult<Record<string, never>>> {
    return this.call('DELETE', '/fapi/v1/listenKey', Sec.Key, Weight.listenKey, 0, []);
  }

  // ---- plumbing ---------------------------------------------------------------------------------------

  /** TimeSync's fetcher: GET /fapi/v1/time through the budget; throws so TimeSync counts the failure. */
  private async serverTimeForSync(): Promise<number> {
    const r = await this.time();
    if (!r.ok) throw new Error(`GET /fapi/v1/time: ${errorKindName(r.kind)} ${r.status} ${r.code} ${r.msg}`);
    return r.data.serverTime;
  }

  private local(kind: BinanceErrorKind, msg: string): RestErr {
    this.counters.localRefusals++;
    return { ok: false, kind, handling: handlingOf(kind), reason: rejectReasonOf(kind), code: 0, msg, status: 0 };
  }

  private async call<T>(method: Method, path: string, sec: Sec, weight: number, orders: number, params: Params): Promise<RestResult<T>> {
    let r = await this.attempt<T>(method, path, sec, weight, orders, params);
    if (!r.ok && r.kind === BinanceErrorKind.InvalidTimestamp && sec === Sec.Signed && (this.opts.retryAfterClockSync ?? true)) {
      // -1021 means the venue refused the request outright, so one resend after a resync is safe.
      const s = await this.timeSync.onInvalidTimestamp();
      if (s.ok) {
        this.counters.clockRetries++;
        r = await this.attempt<T>(method, path, sec, weight, orders, params);
      }
    }
    return r;
  }

  private async attempt<T>(method: Method, path: string, sec: Sec, weight: number, orders: number, params: Params): Promise<RestResult<T>> {
    const budget = this.budget;
    const now = this.timeSync.serverNow();
    const admitted = orders > 0 ? budget.tryAcquireOrder(now, orders) && budget.tryAcquireWeight(now, weight) : budget.tryAcquireWeight(now, weight);
    if (!admitted) {
      const halted = budget.lastRefusal === Refusal.Halted;
      return this.local(
        halted ? BinanceErrorKind.LocalHalted : BinanceErrorKind.LocalRateLimited,
        halted ? `halted: ${budget.haltReason}` : `local rate budget: ${refusalText(budget.lastRefusal)}`,
      );
    }

    let qs = encodeParams(params);
    if (sec === Sec.Signed) {
      qs += `${qs.length > 0 ? '&' : ''}recvWindow=${this.recvWindow}&timestamp=${this.timeSync.timestamp()}`;
      qs += `&signature=${signHex(this.secret, qs)}`;
    }
    // One place for every parameter (§1.5): the body for POST/PUT, the query string otherwise.
    const inBody = method === 'POST' || method === 'PUT';
    const headers: Record<string, string> = {};
    if (sec !== Sec.None) headers['x-mbx-apikey'] = this.opts.apiKey;
    if (inBody) headers['content-type'] = 'application/x-www-form-urlencoded';

    this.counters.requests++;
    let status: number;
    let resHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await this.pool.request({
        path: this.path + path + (!inBody && qs.length > 0 ? `?${qs}` : ''),
        method,
        headers,
        body: inBody ? qs : null,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      status = res.statusCode;
      resHeaders = res.headers;
      text = await res.body.text();
    } catch (e) {
      this.counters.transportErrors++;
      const code = (e as { code?: unknown }).code;
      const c = typeof code === 'string' ? code : '';
      const kind = classifyNoResponse(!NOT_SENT_CODES.has(c), TIMEOUT_CODES.has(c));
      return { ok: false, kind, handling: handlingOf(kind), reason: rejectReasonOf(kind), code: 0, msg: `${c || 'transport'}: ${(e as Error).message}`, status: 0 };
    }

    let body: unknown;
    let parsed = true;
    try {
      body = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      parsed = false;
    }
    let code = 0;
    let msg = '';
    if (parsed && typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const o = body as { code?: unknown; msg?: unknown };
      if (typeof o.code === 'number') code = o.code;
      if (typeof o.msg === 'string') msg = o.msg;
    } else if (!parsed) {
      msg = text.slice(0, 200);
    }
    const after = this.timeSync.serverNow();
    budget.observeResponse(after, status, resHeaders, msg);

    let kind = classifyBinanceError(status, code, msg);
    if (kind === BinanceErrorKind.Ok) {
      if (parsed) {
        this.counters.ok++;
        return { ok: true, status, data: body as T };
      }
      kind = BinanceErrorKind.BadResponse;
    }
    this.counters.venueErrors++;
    const handling = handlingOf(kind);
    // 418 already halted the budget (observeResponse); other Halt answers (bad key, WAF) halt it here.
    if (handling === ErrorHandling.Halt && kind !== BinanceErrorKind.IpBanned && (this.opts.haltOnAuthError ?? true)) {
      budget.halt(after, `${errorKindName(kind)} (HTTP ${status}, code ${code}): ${msg}`);
    }
    return { ok: false, kind, handling, reason: rejectReasonOf(kind), code, msg: msg || `HTTP ${status}`, status };
  }
}

function encodeParams(params: Params): string {
  let s = '';
  for (const [k, v] of params) {
    if (v === undefined) continue;
    if (s.length > 0) s += '&';
    s += `${k}=${encodeURIComponent(String(v))}`;
  }
  return s;
}

function orderRefParams(ref: OrderRef): Array<readonly [string, ParamValue]> {
  return 'orderId' in ref ? [['orderId', ref.orderId]] : [['origClientOrderId', ref.origClientOrderId]];
}

function refusalText(r: Refusal): string {
  switch (r) {
    case Refusal.Orders10s:
      return 'order count (10 s)';
    case Refusal.Orders1m:
      return 'order count (1 min)';
    case Refusal.Weight1m:
      return 'request weight (1 min)';
    case Refusal.Backoff:
      return 'backing off after 429';
    default:
      return 'halted';
  }
}

/** Shape errors the venue would answer with -1102/-1106/-4015; null when fine. */
export function validateNewOrder(p: NewOrderParams): string | null {
  if (!DECIMAL_RE.test(p.quantity)) return `quantity must be a plain decimal: ${JSON.stringify(p.quantity)}`;
  if (p.type === 'LIMIT') {
    if (p.price === undefined || !DECIMAL_RE.test(p.price)) return `LIMIT needs a plain decimal price: ${JSON.stringify(p.price)}`;
    if (p.timeInForce === undefined) return 'LIMIT needs timeInForce';
    if (p.timeInForce === 'GTD' && p.goodTillDate === undefined) return 'GTD needs goodTillDate';
  } else if (p.price !== undefined) return 'MARKET takes no price';
  if (p.newClientOrderId !== undefined && !CLIENT_ID_RE.test(p.newClientOrderId)) return `newClientOrderId must match ${CLIENT_ID_RE.source}`;
  if (p.reduceOnly && p.positionSide !== undefined && p.positionSide !== 'BOTH') return 'reduceOnly is not allowed in hedge mode';
  return null;
}

export function validateAlgoOrder(p: AlgoOrderParams): string | null {
  if (p.type === 'TRAILING_STOP_MARKET') {
    if (p.callbackRate === undefined || !DECIMAL_RE.test(p.callbackRate)) return 'TRAILING_STOP_MARKET needs callbackRate';
  } else if (p.triggerPrice === undefined || !DECIMAL_RE.test(p.triggerPrice)) return `${p.type} needs a plain decimal triggerPrice`;
  if (p.closePosition) {
    if (p.quantity !== undefined) return 'closePosition takes no quantity';
    if (p.reduceOnly !== undefined) return 'closePosition takes no reduceOnly';
  } else if (p.quantity === undefined || !DECIMAL_RE.test(p.quantity)) return 'quantity must be a plain decimal unless closePosition';
  if (p.clientAlgoId !== undefined && !CLIENT_ID_RE.test(p.clientAlgoId)) return `clientAlgoId must match ${CLIENT_ID_RE.source}`;
  return null;
}
