import { Client } from 'undici';
import type { Histogram } from 'hdr-histogram-js';
import { ExecType, IN, IntentFlag, OrderStatus, OrderType, RejectReason, TimeInForce, W } from '../ring/layout.js';
import { recordNs } from '../metrics/StageHistograms.js';
import { WsClient, type WsClientOptions, type WsHandler } from '../net/WsClient.js';
import { GateLeg, checkGatePrefix, gateClientId } from '../venues/gate/clientId.js';
import { formatPriceTicks, type GateContractRules } from '../venues/gate/contracts.js';
import { classifyGateError, classifyGateNoResponse, gateErrorKindName, gateHandlingOf, gateRejectReasonOf, GateErrorHandling, parseGateErrorBody } from '../venues/gate/errors.js';
import { gateNum, gateOrderOutcome, type GateOrderOutcome } from '../venues/gate/orderState.js';
import { parseLossless } from '../venues/gate/RestClient.js';
import { signRestRequest, signWsApi } from '../venues/gate/sign.js';
import type { GateClock } from '../venues/gate/clock.js';
import type { GateUnknownResolver } from './GateUnknownResolver.js';
import type { ExecReportSink, OrderTransport } from './OrderTransport.js';

/**
 * Gate USDT-futures order entry as OrderTransports (protocols.md §2.7-§2.10): `GateOrderTransport` over REST
 * (`POST /futures/usdt/orders`, `DELETE /futures/usdt/orders/{text}`, `POST|DELETE /futures/usdt/price_orders`)
 * and `GateWsOrderTransport` over the WebSocket API (`futures.login`, `futures.order_place`,
 * `futures.order_cancel`). Both report every outcome as a ring-C ExecReport through the sink.
 *
 * Intent -> order: size = ±IN.QTY_STEPS (whole contracts: the Gate instrument's quantity step is one
 * contract), price = IN.PRICE_TICKS × order_price_round, tif Gtc/Ioc/Gtx/Fok -> gtc/ioc/poc/fok, reduce_only
 * from IntentFlag.ReduceOnly, a Market intent = price "0" + ioc, text = `t-<prefix><intentId>`. Cancels go by
 * that text, so no venue id is needed. Errors: the label -> GateErrorKind -> RejectReason (venues/gate/errors.ts);
 * a 5xx / INTERNAL / TOO_BUSY answer, a timeout or a connection lost after the request was written is
 * reported Unknown (resolve by the text, never resend blindly).
 *
 * Order ids exceed 2^53: RP.ORDER_ID holds the nearest double, and the exact id is the report message
 * (decimal digits) of each successful place / cancel report.
 *
 * IOC with fallback (the Gate scalper's execution): a Market intent flagged GATE_IOC_FALLBACK in IN.FLAGS
 * (or every Market intent when `iocFallback.allMarket` is set) is sent as an IOC limit at
 * reference × (1 ± premium), the reference being IN.PRICE_TICKS when > 0, else IN.DECISION_PRICE; whatever it
 * did not fill goes out as a market order. With `iocFallback.restingMs` > 0 the first leg is a GTC limit that
 * is cancelled after that many ms instead (the original "limit, wait, then market"). Legs carry texts
 * `...-i` and `...-m`; the intent gets one report per leg outcome that filled something, and a final one.
 *
 * Conditional intents (StopMarket / TakeProfitMarket) become price-triggered orders: a sell stop fires when
 * the price falls to the trigger (rule 2, <=), a buy stop when it rises to it (rule 1, >=), take-profits the
 * other way; price_type 1 (mark) with IntentFlag.TriggerOnMark, else 0 (last); the order placed is a market
 * order (price "0", ioc), reduce-only, and with ClosePosition `size 0, close: true`. Gate price orders have no
 * client id: the venue id is kept per intent for the cancel.
 */

/** IN.FLAGS bit asking for IOC-with-fallback execution (the next free IntentFlag bit; see module comment). */
export const GATE_IOC_FALLBACK = 1 << 3;

export interface IocFallbackOptions {
  /** price premium as a fraction (0.0001 = 1 bp): buys at ref × (1 + p), sells at ref × (1 − p) */
  premium: number;
  /** 0 (default): the first leg is an IOC. > 0: a GTC limit cancelled after this many ms. */
  restingMs?: number;
  /** apply to every Market intent, not only those flagged GATE_IOC_FALLBACK */
  allMarket?: boolean;
}

export interface GateTransportOptions {
  /** REST base with the version prefix: https://api.gateio.ws/api/v4 or the simulator's restUrl */
  restUrl: string;
  apiKey: string;
  apiSecret: string;
  /** contract rules per symbol id */
  contracts: readonly GateContractRules[];
  clientIdPrefix: string;
  requestTimeoutMs: number;
  /** ns since the process epoch */
  now: () => number;
  /** wall-clock ms aligned with the venue (Timestamp header, WS `time`) */
  venueTimeMs: () => number;
  hists?: { send?: Histogram; tickToOrder?: Histogram; venueRtt?: Histogram };
  iocFallback?: IocFallbackOptions;
  /** Re-estimated from the venue's X-In-Time / x_in_time when it answers REQUEST_EXPIRED (venueTimeMs should read it). */
  clock?: GateClock;
  /**
   * New orders carry `x-gate-exptime` = venue time + this (ms): the venue refuses one arriving later, which
   * bounds how long a lost order may still arrive before "never arrived" is safe. Default 5000; 0: not sent.
   */
  orderExpiryMs?: number;
  /** The venue's tolerance of a WS API request's `time` (ms): the bound for WS API orders. Default 60 000. */
  wsTimeWindowMs?: number;
  /** Resolves Unknown outcomes by the order's text (never resends). */
  resolver?: GateUnknownResolver;
  /** Backoff after TOO_MANY_REQUESTS and the halt on auth / ban answers, shared by the transports. */
  guard?: GateEntryGuard;
}

/**
 * Order entry's own brakes on Gate (Binance's RateBudget plays this part there): after TOO_MANY_REQUESTS
 * no new order is sent until the venue's X-Gate-RateLimit-Reset-Timestamp (or 1 s); after an auth / ban
 * answer (INVALID_KEY, IP_FORBIDDEN, ...) none until an operator clears the halt, with an alarm. Cancels
 * are never held back: they only reduce risk, and Gate limits them separately.
 */
export class GateEntryGuard {
  /** venue ms before which new orders are refused locally */
  backoffUntilMs = 0;
  halted = false;
  haltReason = '';
  readonly counters = { rateLimited: 0, refusedBackoff: 0, refusedHalted: 0, halts: 0 };

  constructor(private readonly onAlarm?: (msg: string) => void) {}

  onRateLimited(nowMs: number, resetMs: number): void {
    this.counters.rateLimited++;
    const until = resetMs > nowMs ? resetMs : nowMs + 1000;
    if (until > this.backoffUntilMs) this.backoffUntilMs = until;
  }

  halt(reason: string): void {
    if (this.halted) return;
    this.halted = true;
    this.haltReason = reason;
    this.counters.halts++;
    this.onAlarm?.(`ALARM: order entry halted: ${reason}`);
  }

  clearHalt(): void {
    this.halted = false;
    this.haltReason = '';
  }

  /** Why a new order may not go out now (RejectReason.None: it may). */
  refusal(nowMs: number): RejectReason {
    if (this.halted) {
      this.counters.refusedHalted++;
      return RejectReason.Halted;
    }
    if (this.backoffUntilMs !== 0) {
      if (nowMs < this.backoffUntilMs) {
        this.counters.refusedBackoff++;
        return RejectReason.RateLimited;
      }
      this.backoffUntilMs = 0;
    }
    return RejectReason.None;
  }
}

export interface GateTransportCounters {
  sent: number;
  responses: number;
  transportErrors: number;
  encodeErrors: number;
  fallbackLegs: number;
  priceOrders: number;
}

/** One intent on its way: what its reports need. */
interface Pending {
  symbolId: number;
  intentId: number;
  /** cancel: the intent whose order is cancelled */
  targetId: number;
  side: number;
  recvTs: number;
  readTs: number;
  sentTs: number;
  /** the client id the request names ('' for price orders: no text to resolve by) */
  text: string;
  cancel: boolean;
  /** venue ms after which the request can no longer take effect (resolver's bound) */
  deadline: number;
}

const TIF_TEXT: Record<number, string> = { [TimeInForce.None]: 'gtc', [TimeInForce.Gtc]: 'gtc', [TimeInForce.Ioc]: 'ioc', [TimeInForce.Fok]: 'fok', [TimeInForce.Gtx]: 'poc' };

/** The JSON body of a plain order (also the WS API `req_param`), or an error text. */
export function gateIntentBody(c: GateContractRules, f64: Float64Array, base: number, text: string, priceText?: string, tif?: string, qty?: number): string {
  const side = f64[base + IN.SIDE]!;
  const contracts = qty ?? f64[base + IN.QTY_STEPS]!;
  if (!Number.isSafeInteger(contracts) || contracts <= 0) throw new Error(`size must be a whole number of contracts > 0; got ${contracts}`);
  const type = f64[base + IN.ORDER_TYPE]!;
  let price = priceText;
  let t = tif;
  if (price === undefined) {
    if (type === OrderType.Market) {
      price = '0';
      t = 'ioc';
    } else if (type === OrderType.Limit) {
      const ticks = f64[base + IN.PRICE_TICKS]!;
      if (!Number.isSafeInteger(ticks) || ticks <= 0) throw new Error(`limit price must be > 0 ticks; got ${ticks}`);
      price = formatPriceTicks(c, ticks);
      t = TIF_TEXT[f64[base + IN.TIF]!] ?? 'gtc';
    } else throw new Error(`order type ${type} is not a plain order`);
  }
  const reduce = (f64[base + IN.FLAGS]! & IntentFlag.ReduceOnly) !== 0 ? ',"reduce_only":true' : '';
  return `{"contract":"${c.name}","size":${side > 0 ? contracts : -contracts},"price":"${price}","tif":"${t ?? 'gtc'}","text":"${text}"${reduce}}`;
}

/** The body of a price-triggered order for a StopMarket / TakeProfitMarket intent. */
export function gatePriceOrderBody(c: GateContractRules, f64: Float64Array, base: number, text: string): string {
  const type = f64[base + IN.ORDER_TYPE]!;
  const side = f64[base + IN.SIDE]!;
  const flags = f64[base + IN.FLAGS]!;
  const stop = f64[base + IN.STOP_PRICE_TICKS]!;
  if (!Number.isSafeInteger(stop) || stop <= 0) throw new Error(`trigger price must be > 0 ticks; got ${stop}`);
  const stopLoss = type === OrderType.StopMarket;
  if (!stopLoss && type !== OrderType.TakeProfitMarket) throw new Error(`order type ${type} has no Gate price-triggered form`);
  // A sell stop waits for the price to fall (<=), a buy stop for it to rise (>=); take-profits the other way.
  const rule = stopLoss === side < 0 ? 2 : 1;
  const close = (flags & IntentFlag.ClosePosition) !== 0;
  const qty = f64[base + IN.QTY_STEPS]!;
  if (!close && (!Number.isSafeInteger(qty) || qty <= 0)) throw new Error(`size must be a whole number of contracts > 0; got ${qty}`);
  const size = close ? 0 : side > 0 ? qty : -qty;
  const initial = `{"contract":"${c.name}","size":${size},"price":"0","tif":"ioc","reduce_only":true${close ? ',"close":true' : ''},"text":"${text}"}`;
  const trigger = `{"strategy_type":0,"price_type":${(flags & IntentFlag.TriggerOnMark) !== 0 ? 1 : 0},"price":"${formatPriceTicks(c, stop)}","rule":${rule},"expiration":0}`;
  return `{"initial":${initial},"trigger":${trigger}}`;
}

/** Price ticks of the IOC leg: the reference moved by the premium, rounded away from the book's touch. */
export function iocLegTicks(c: GateContractRules, side: number, refPrice: number, premium: number): number {
  const tick = c.tickUnits / 10 ** c.priceScale;
  const x = (refPrice * (side > 0 ? 1 + premium : 1 - premium)) / tick;
  const r = Math.round(x);
  if (Math.abs(x - r) < 1e-9 * Math.max(1, x)) return r;
  return side > 0 ? Math.ceil(x) : Math.floor(x);
}

/** Shared report logic of both transports. */
abstract class GateTransportBase implements OrderTransport {
  abstract readonly name: string;
  readonly counters: GateTransportCounters = { sent: 0, responses: 0, transportErrors: 0, encodeErrors: 0, fallbackLegs: 0, priceOrders: 0 };
  protected readonly outcome: GateOrderOutcome = { status: OrderStatus.New, execType: ExecType.Ack, cumQty: 0, avgPrice: NaN };
  protected inFlight = 0;
  readonly guard: GateEntryGuard;
  /** X-Gate-RateLimit-Reset-Timestamp of the answer being handled (ms), 0 when absent */
  protected rateResetMs = 0;

  constructor(
    protected readonly sink: ExecReportSink,
    protected readonly opts: GateTransportOptions,
  ) {
    checkGatePrefix(opts.clientIdPrefix);
    this.guard = opts.guard ?? new GateEntryGuard();
  }

  /** A new order the guard holds back (backoff, halt): a local reject, nothing sent. */
  protected refused(p: Pending): boolean {
    const g = this.guard;
    if (!g.halted && g.backoffUntilMs === 0) return false;
    const r = g.refusal(this.opts.venueTimeMs());
    if (r === RejectReason.None) return false;
    this.reject(p, r, 0, r === RejectReason.Halted ? `not sent: order entry halted: ${g.haltReason}` : 'not sent: backing off after TOO_MANY_REQUESTS');
    return true;
  }

  /** Hands an Unknown outcome to the resolver (by the text of the order it concerns). */
  protected resolveLater(p: Pending): void {
    const r = this.opts.resolver;
    if (r === undefined || p.text === '') return;
    r.enqueue({
      symbolId: p.symbolId,
      intentId: p.cancel ? p.targetId : p.intentId,
      side: p.side,
      recvTs: p.recvTs,
      sentTs: p.sentTs,
      text: p.text,
      contract: this.opts.contracts[p.symbolId]?.name ?? '',
      deadlineVenueMs: p.deadline,
      cancel: p.cancel,
    });
  }

  abstract isReady(): boolean;
  abstract place(f64: Float64Array, symbolId: number, base: number, readTs: number): void;
  abstract cancel(f64: Float64Array, symbolId: number, base: number, readTs: number): void;
  abstract close(): Promise<void>;

  inFlightCount(): number {
    return this.inFlight;
  }

  protected pending(f64: Float64Array, symbolId: number, base: number, readTs: number): Pending {
    return { symbolId, intentId: f64[base + IN.INTENT_ID]!, targetId: f64[base + IN.TARGET_ID]!, side: f64[base + IN.SIDE]!, recvTs: f64[base + W.RECV_TS]!, readTs, sentTs: 0, text: '', cancel: false, deadline: 0 };
  }

  protected rules(p: Pending): GateContractRules | undefined {
    const c = this.opts.contracts[p.symbolId];
    if (!c) this.reject(p, RejectReason.NotReady, 0, `no contract rules for symbol ${p.symbolId}`);
    return c;
  }

  protected onSent(p: Pending): void {
    p.sentTs = this.opts.now();
    this.counters.sent++;
    const hs = this.opts.hists;
    if (hs?.send) recordNs(hs.send, p.sentTs - p.readTs);
    if (hs?.tickToOrder && p.recvTs > 0) recordNs(hs.tickToOrder, p.sentTs - p.recvTs);
  }

  protected answered(p: Pending): number {
    const ackTs = this.opts.now();
    this.counters.responses++;
    if (this.opts.hists?.venueRtt && p.sentTs > 0) recordNs(this.opts.hists.venueRtt, ackTs - p.sentTs);
    return ackTs;
  }

  protected reject(p: Pending, reason: RejectReason, code: number, message: string): void {
    this.sink.execReport(p.symbolId, p.intentId, p.side, p.recvTs, p.sentTs, this.opts.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, code, 0, reason, message);
  }

  protected encodeFailed(p: Pending, e: Error): void {
    this.counters.encodeErrors++;
    this.reject(p, RejectReason.Unknown, 0, `encode: ${e.message}`);
  }

  /** A Gate error answer (label, HTTP-like status) for an intent: Unknown when the venue may have acted. */
  protected venueError(p: Pending, ackTs: number, status: number, label: string, message: string): void {
    const kind = classifyGateError(status, label);
    const handling = gateHandlingOf(kind);
    const unknown = handling === GateErrorHandling.Unknown;
    const text = `${label || gateErrorKindName(kind)}: ${message}`;
    if (handling === GateErrorHandling.Backoff) this.guard.onRateLimited(this.opts.venueTimeMs(), this.rateResetMs);
    else if (handling === GateErrorHandling.Halt) this.guard.halt(text);
    this.sink.execReport(p.symbolId, p.intentId, p.side, p.recvTs, p.sentTs, ackTs, unknown ? OrderStatus.Unknown : OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, status, 0, gateRejectReasonOf(kind), text);
    if (unknown) this.resolveLater(p);
  }

  /** No answer: a definite reject if nothing was written, else Unknown. */
  protected lost(p: Pending, written: boolean, timedOut: boolean, why: string): void {
    this.counters.transportErrors++;
    const kind = classifyGateNoResponse(written, timedOut);
    const status = written ? OrderStatus.Unknown : OrderStatus.Rejected;
    this.sink.execReport(p.symbolId, p.intentId, p.side, p.recvTs, p.sentTs, this.opts.now(), status, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, gateRejectReasonOf(kind), `${written ? 'transport' : 'not sent'}: ${why}`);
    if (written) this.resolveLater(p);
  }

  /** An order object answer -> one report under `intentId` (the placed intent, or a cancel's target). */
  protected orderReport(p: Pending, intentId: number, ackTs: number, o: Record<string, unknown>, message?: string): GateOrderOutcome {
    const r = gateOrderOutcome(String(o['status'] ?? ''), String(o['finish_as'] ?? ''), gateNum(o['size']), gateNum(o['left']), gateNum(o['fill_price']), this.outcome);
    const id = String(o['id'] ?? '');
    const lastQty = r.execType === ExecType.Fill ? r.cumQty : 0;
    const venueTime = Math.round(gateNum(o['update_time'] ?? o['create_time']) * 1000) || 0;
    this.sink.execReport(p.symbolId, intentId, p.side, p.recvTs, p.sentTs, ackTs, r.status, r.execType, lastQty, lastQty > 0 ? r.avgPrice : 0, r.cumQty, r.cumQty > 0 ? r.avgPrice : 0, Number(id) || 0, 0, venueTime, RejectReason.None, message ?? id);
    return r;
  }
}

/**
 * REST order entry on one keep-alive undici Client. Also carries the conditional orders (price_orders) and
 * the IOC-with-fallback legs, whichever transport placed the intent.
 */
export class GateOrderTransport extends GateTransportBase {
  readonly name = 'gate-rest';
  private readonly client: Client;
  private readonly origin: string;
  private readonly prefix: string;
  /** price-triggered orders: intent id -> venue id (text), for the cancel */
  private readonly priceOrderIds = new Map<number, string>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(sink: ExecReportSink, opts: GateTransportOptions) {
    super(sink, opts);
    const u = new URL(opts.restUrl);
    this.origin = u.origin;
    this.prefix = `${u.pathname.replace(/\/+$/, '')}/futures/usdt`;
    this.client = new Client(this.origin, {
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
      headersTimeout: opts.requestTimeoutMs,
      bodyTimeout: opts.requestTimeoutMs,
      connect: { noDelay: true },
    });
  }

  /** The connection opens on demand. */
  isReady(): boolean {
    return true;
  }

  /** The venue id (text) of a conditional intent's price-triggered order, '' when none. */
  priceOrderIdOf(intentId: number): string {
    return this.priceOrderIds.get(intentId) ?? '';
  }

  place(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const p = this.pending(f64, symbolId, base, readTs);
    if (this.refused(p)) return;
    const c = this.rules(p);
    if (!c) return;
    const type = f64[base + IN.ORDER_TYPE]!;
    const text = gateClientId(this.opts.clientIdPrefix, p.intentId);
    let body: string;
    try {
      if (type === OrderType.StopMarket || type === OrderType.TakeProfitMarket) {
        body = gatePriceOrderBody(c, f64, base, text);
        this.counters.priceOrders++;
        void this.send(p, 'POST', '/price_orders', body, (ackTs, status, v) => this.onPriceOrderPlaced(p, ackTs, status, v));
        return;
      }
      if (type === OrderType.TrailingStopMarket) throw new Error('trailing stops are not offered by Gate price orders');
      const fb = this.opts.iocFallback;
      if (type === OrderType.Market && fb !== undefined && (fb.allMarket === true || (f64[base + IN.FLAGS]! & GATE_IOC_FALLBACK) !== 0)) {
        this.placeWithFallback(p, c, f64, base, fb);
        return;
      }
      body = gateIntentBody(c, f64, base, text);
    } catch (e) {
      this.encodeFailed(p, e as Error);
      return;
    }
    p.text = text;
    void this.send(p, 'POST', '/orders', body, (ackTs, status, v) => {
      if (status >= 200 && status < 300) this.orderReport(p, p.intentId, ackTs, v);
      else this.venueError(p, ackTs, status, String(v['label'] ?? ''), String(v['message'] ?? v['detail'] ?? ''));
    });
  }

  cancel(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const p = this.pending(f64, symbolId, base, readTs);
    const type = f64[base + IN.ORDER_TYPE]!;
    if (type === OrderType.StopMarket || type === OrderType.TakeProfitMarket) {
      const id = this.priceOrderIds.get(p.targetId);
      if (id === undefined) {
        this.reject(p, RejectReason.Venue, 0, `no price order known for intent ${p.targetId}`);
        return;
      }
      void this.send(p, 'DELETE', `/price_orders/${id}`, '', (ackTs, status, v) => {
        if (status >= 200 && status < 300) {
          this.priceOrderIds.delete(p.targetId);
          this.sink.execReport(p.symbolId, p.targetId, p.side, p.recvTs, p.sentTs, ackTs, OrderStatus.Canceled, ExecType.Canceled, 0, 0, 0, 0, Number(id), 0, 0, RejectReason.None, id);
        } else this.venueError(p, ackTs, status, String(v['label'] ?? ''), String(v['message'] ?? ''));
      });
      return;
    }
    const text = gateClientId(this.opts.clientIdPrefix, p.targetId);
    p.text = text;
    p.cancel = true;
    void this.send(p, 'DELETE', `/orders/${text}`, '', (ackTs, status, v) => {
      if (status >= 200 && status < 300) this.orderReport(p, p.targetId, ackTs, v);
      else this.venueError(p, ackTs, status, String(v['label'] ?? ''), String(v['message'] ?? ''));
    });
  }

  private onPriceOrderPlaced(p: Pending, ackTs: number, status: number, v: Record<string, unknown>): void {
    if (status < 200 || status >= 300) {
      this.venueError(p, ackTs, status, String(v['label'] ?? ''), String(v['message'] ?? ''));
      return;
    }
    const id = String(v['id'] ?? '');
    this.priceOrderIds.set(p.intentId, id);
    this.sink.execReport(p.symbolId, p.intentId, p.side, p.recvTs, p.sentTs, ackTs, OrderStatus.New, ExecType.Ack, 0, 0, 0, 0, Number(id) || 0, 0, 0, RejectReason.None, id);
  }

  // ---- IOC with fallback

  private placeWithFallback(p: Pending, c: GateContractRules, f64: Float64Array, base: number, fb: IocFallbackOptions): void {
    const tickPx = c.tickUnits / 10 ** c.priceScale;
    const ref = f64[base + IN.PRICE_TICKS]! > 0 ? f64[base + IN.PRICE_TICKS]! * tickPx : f64[base + IN.DECISION_PRICE]!;
    if (!(ref > 0)) throw new Error('IOC with fallback needs a reference price (IN.PRICE_TICKS or IN.DECISION_PRICE)');
    const qty = f64[base + IN.QTY_STEPS]!;
    const resting = (fb.restingMs ?? 0) > 0;
    const price = formatPriceTicks(c, iocLegTicks(c, p.side, ref, fb.premium));
    p.text = gateClientId(this.opts.clientIdPrefix, p.intentId, GateLeg.Ioc);
    const body = gateIntentBody(c, f64, base, p.text, price, resting ? 'gtc' : 'ioc', qty);
    const reduce = (f64[base + IN.FLAGS]! & IntentFlag.ReduceOnly) !== 0;
    this.counters.fallbackLegs++;
    void this.send(p, 'POST', '/orders', body, (ackTs, status, v) => {
      if (status < 200 || status >= 300) {
        this.venueError(p, ackTs, status, String(v['label'] ?? ''), String(v['message'] ?? v['detail'] ?? ''));
        return;
      }
      const first = gateOrderOutcome(String(v['status'] ?? ''), String(v['finish_as'] ?? ''), gateNum(v['size']), gateNum(v['left']), gateNum(v['fill_price']), { ...this.outcome });
      if (first.status === OrderStatus.Filled) {
        this.orderReport(p, p.intentId, ackTs, v);
        return;
      }
      if (String(v['status']) === 'open') {
        // the resting variant: give it restingMs, then cancel and send the rest at market
        const t = setTimeout(() => {
          this.timers.delete(t);
          const text = gateClientId(this.opts.clientIdPrefix, p.intentId, GateLeg.Ioc);
          void this.send(p, 'DELETE', `/orders/${text}`, '', (ack2, st2, v2) => {
            // ORDER_FINISHED / NOT_FOUND: it filled (or ended) meanwhile; ask for its final state
            if (st2 >= 200 && st2 < 300) this.fallbackRest(p, c, qty, reduce, v2);
            else void this.send(p, 'GET', `/orders/${text}`, '', (_a3, st3, v3) => (st3 >= 200 && st3 < 300 ? this.fallbackRest(p, c, qty, reduce, v3) : this.venueError(p, ack2, st2, String(v2['label'] ?? ''), String(v2['message'] ?? ''))));
          });
        }, fb.restingMs);
        this.timers.add(t);
        return;
      }
      this.fallbackRest(p, c, qty, reduce, v);
    });
  }

  /** The first leg has ended as `v`: report what it filled, then send the rest at market. */
  private fallbackRest(p: Pending, c: GateContractRules, qty: number, reduce: boolean, v: Record<string, unknown>): void {
    const first = gateOrderOutcome('finished', String(v['finish_as'] ?? ''), gateNum(v['size']), gateNum(v['left']), gateNum(v['fill_price']), { ...this.outcome });
    const filled = first.cumQty;
    const firstAvg = first.avgPrice;
    if (filled >= qty) {
      this.sink.execReport(p.symbolId, p.intentId, p.side, p.recvTs, p.sentTs, this.opts.now(), OrderStatus.Filled, ExecType.Fill, filled, firstAvg, filled, firstAvg, Number(v['id']) || 0, 0, 0, RejectReason.None, String(v['id'] ?? ''));
      return;
    }
    if (filled > 0) this.sink.execReport(p.symbolId, p.intentId, p.side, p.recvTs, p.sentTs, this.opts.now(), OrderStatus.PartiallyFilled, ExecType.Fill, filled, firstAvg, filled, firstAvg, Number(v['id']) || 0, 0, 0, RejectReason.None, String(v['id'] ?? ''));
    const rest = qty - filled;
    const size = p.side > 0 ? rest : -rest;
    p.text = gateClientId(this.opts.clientIdPrefix, p.intentId, GateLeg.Market);
    const body = `{"contract":"${c.name}","size":${size},"price":"0","tif":"ioc","text":"${p.text}"${reduce ? ',"reduce_only":true' : ''}}`;
    this.counters.fallbackLegs++;
    void this.send(p, 'POST', '/orders', body, (ackTs, status, v2) => {
      if (status < 200 || status >= 300) {
        this.venueError(p, ackTs, status, String(v2['label'] ?? ''), String(v2['message'] ?? v2['detail'] ?? ''));
        return;
      }
      const second = gateOrderOutcome(String(v2['status'] ?? ''), String(v2['finish_as'] ?? ''), gateNum(v2['size']), gateNum(v2['left']), gateNum(v2['fill_price']), { ...this.outcome });
      const cum = filled + second.cumQty;
      const avg = cum > 0 ? ((filled > 0 ? filled * firstAvg : 0) + (second.cumQty > 0 ? second.cumQty * second.avgPrice : 0)) / cum : 0;
      const status2 = cum >= qty ? OrderStatus.Filled : second.status === OrderStatus.Expired ? OrderStatus.Expired : OrderStatus.Canceled;
      const x = status2 === OrderStatus.Filled ? ExecType.Fill : status2 === OrderStatus.Expired ? ExecType.Expired : ExecType.Canceled;
      this.sink.execReport(p.symbolId, p.intentId, p.side, p.recvTs, p.sentTs, ackTs, status2, x, second.cumQty, second.cumQty > 0 ? second.avgPrice : 0, cum, avg, Number(v2['id']) || 0, 0, 0, RejectReason.None, String(v2['id'] ?? ''));
    });
  }

  // ---- plumbing

  /** Signs and sends one request; `done` gets the parsed body (ids above 2^53 as text) or reports the loss. */
  private async send(p: Pending, method: 'GET' | 'POST' | 'DELETE', path: string, body: string, done: (ackTs: number, status: number, v: Record<string, unknown>) => void): Promise<void> {
    const full = this.prefix + path;
    const venueNow = this.opts.venueTimeMs();
    const ts = String(Math.floor(venueNow / 1000));
    const headers: Record<string, string> = {
      KEY: this.opts.apiKey,
      Timestamp: ts,
      SIGN: signRestRequest(this.opts.apiSecret, method, full, '', body, ts),
      Accept: 'application/json',
    };
    if (body !== '') headers['Content-Type'] = 'application/json';
    if (method === 'POST' && path === '/orders') {
      const expiry = this.opts.orderExpiryMs ?? 5000;
      // the venue refuses the order after this: the resolver's bound for "never arrived"
      p.deadline = expiry > 0 ? venueNow + expiry : venueNow + 60_000;
      if (expiry > 0) headers['x-gate-exptime'] = String(Math.floor(p.deadline));
    }
    const sentLocal = Date.now();
    this.inFlight++;
    let written = false;
    try {
      const res = await this.client.request({ method, path: full, headers, body: body === '' ? null : body });
      written = true;
      if (p.sentTs === 0) this.onSent(p);
      const text = await res.body.text();
      const ackTs = this.answered(p);
      if (res.statusCode >= 400) this.onErrorAnswer(text, res.headers, sentLocal);
      let v: Record<string, unknown>;
      try {
        const parsed = parseLossless(text);
        v = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
      } catch {
        v = res.statusCode >= 300 ? parseGateErrorBody(text) : {};
        if (res.statusCode < 300) {
          this.venueError(p, ackTs, 500, 'BAD_RESPONSE', 'answer is not JSON');
          return;
        }
      }
      done(ackTs, res.statusCode, v);
      this.rateResetMs = 0;
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      const notSent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED';
      this.lost(p, written || !notSent, code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT', (e as Error).message);
    } finally {
      this.inFlight--;
    }
  }

  /** An error answer (cold path): the clock when the venue says ours is off, the reset time of a rate limit. */
  private onErrorAnswer(text: string, h: Record<string, string | string[] | undefined>, sentLocal: number): void {
    const one = (k: string): string => {
      const v = h[k];
      return Array.isArray(v) ? v[0] ?? '' : v ?? '';
    };
    this.rateResetMs = Number(one('x-gate-ratelimit-reset-timestamp')) || 0;
    if (this.opts.clock !== undefined && text.includes('REQUEST_EXPIRED')) this.opts.clock.sample(sentLocal, Date.now(), Number(one('x-in-time')));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.client.close().catch(() => undefined);
  }
}

/** A WS API request waiting for its answer. */
interface WsWaiting {
  p: Pending;
  cancel: boolean;
  /** local ms at send (clock re-estimate) */
  sentLocal: number;
  /** ns when it was given up (late) */
  at: number;
}

/**
 * Order entry over the Gate WebSocket API on its own `/v4/ws/usdt` connection: `futures.login` once per
 * connection, then `futures.order_place` (answered by an ack echo, then the result) and `futures.order_cancel`
 * by `text`. Ready while logged in. Requests in flight when the connection drops are reported Unknown.
 * Conditional and IOC-with-fallback intents go to `rest` (Gate's WS API has no price orders).
 */
export class GateWsOrderTransport extends GateTransportBase implements WsHandler {
  readonly name = 'gate-ws';
  readonly ws: WsClient;
  private loggedIn = false;
  private nextReq = 1;
  private readonly waiting = new Map<string, WsWaiting>();
  /** requests reported Unknown (timed out) whose answer may still come: reqId -> request */
  private readonly late = new Map<string, WsWaiting>();
  private loginReq = '';
  private loginSentLocal = 0;
  private loginRetries = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  readonly wsCounters = { timeouts: 0, lateAnswers: 0, lateAnswersDropped: 0, loginRetries: 0 };

  constructor(
    sink: ExecReportSink,
    opts: GateTransportOptions & { wsUrl: string; ws?: WsClientOptions },
    private readonly rest: GateOrderTransport,
  ) {
    // one guard for both transports: a rate limit or a halt holds back every new order
    super(sink, opts.guard !== undefined ? opts : { ...opts, guard: rest.guard });
    this.ws = new WsClient(opts.wsUrl, this, opts.ws ?? {});
  }

  start(): void {
    this.ws.connect();
    // answers that do not come within the timeout: Unknown, resolved by text (a late one still counts once)
    const every = Math.max(10, Math.floor(this.opts.requestTimeoutMs / 4));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    if (this.waiting.size === 0 && this.late.size === 0) return;
    const now = this.opts.now();
    const limitNs = this.opts.requestTimeoutMs * 1e6;
    for (const [id, w] of this.waiting) {
      if (now - w.p.sentTs < limitNs) continue;
      this.waiting.delete(id);
      this.inFlight--;
      this.wsCounters.timeouts++;
      w.at = now;
      this.late.set(id, w);
      this.lost(w.p, true, true, `no WebSocket API answer within ${this.opts.requestTimeoutMs} ms`);
    }
    // a late answer after this long is not waited for any more (the resolver has it)
    for (const [id, w] of this.late) if (now - w.at > 600e9) this.late.delete(id);
  }

  isReady(): boolean {
    return this.loggedIn && this.ws.state === 'open';
  }

  onOpen(): void {
    this.loginRetries = 0;
    this.login();
  }

  private login(): void {
    this.loggedIn = false;
    const ts = String(Math.floor(this.opts.venueTimeMs() / 1000));
    this.loginReq = `login-${this.nextReq++}`;
    this.loginSentLocal = Date.now();
    this.ws.send(`{"time":${ts},"channel":"futures.login","event":"api","payload":{"api_key":"${this.opts.apiKey}","signature":"${signWsApi(this.opts.apiSecret, 'futures.login', '', ts)}","timestamp":"${ts}","req_id":"${this.loginReq}"}}`);
  }

  onClose(): void {
    this.loggedIn = false;
    for (const w of this.waiting.values()) {
      this.inFlight--;
      this.lost(w.p, true, false, 'WebSocket API connection closed before the answer');
    }
    this.waiting.clear();
    this.late.clear();
  }

  onMessage(buf: Buffer, start: number, end: number): void {
    let m: Record<string, unknown>;
    try {
      m = parseLossless(buf.toString('utf8', start, end)) as Record<string, unknown>;
    } catch {
      return;
    }
    const reqId = String(m['request_id'] ?? '');
    if (reqId === this.loginReq) {
      const data = m['data'] as Record<string, unknown> | undefined;
      this.loggedIn = data !== undefined && data['errs'] === undefined;
      const errs = data?.['errs'] as Record<string, unknown> | undefined;
      if (errs !== undefined && errs['label'] === 'REQUEST_EXPIRED' && this.opts.clock !== undefined && this.loginRetries < 3) {
        // our clock is off the venue's: re-estimate it from the answer's stamp and log in again
        const header = (m['header'] ?? {}) as Record<string, unknown>;
        this.opts.clock.sample(this.loginSentLocal, Date.now(), Number(header['x_in_time']));
        this.loginRetries++;
        this.wsCounters.loginRetries++;
        this.login();
      }
      return;
    }
    if (m['ack'] === true) return; // the echo of an order_place; the result follows
    let w = this.waiting.get(reqId);
    if (w !== undefined) {
      this.waiting.delete(reqId);
      this.inFlight--;
    } else {
      w = this.late.get(reqId);
      if (w === undefined) return;
      this.late.delete(reqId);
      // reported Unknown already: this answer is the outcome only if the resolver has not written one
      const r = this.opts.resolver;
      if (r !== undefined && !r.settle(w.p.cancel ? w.p.targetId : w.p.intentId)) {
        this.wsCounters.lateAnswersDropped++;
        return;
      }
      this.wsCounters.lateAnswers++;
    }
    const p = w.p;
    const ackTs = this.answered(p);
    const header = (m['header'] ?? {}) as Record<string, unknown>;
    const data = (m['data'] ?? {}) as Record<string, unknown>;
    const errs = data['errs'] as Record<string, unknown> | undefined;
    if (errs !== undefined) {
      const label = String(errs['label'] ?? '');
      this.rateResetMs = Number(header['x_gate_ratelimit_reset_timestamp']) || 0;
      if (label === 'REQUEST_EXPIRED') this.opts.clock?.sample(w.sentLocal, Date.now(), Number(header['x_in_time']));
      this.venueError(p, ackTs, Number(header['status']) || 400, label, String(errs['message'] ?? ''));
      this.rateResetMs = 0;
      return;
    }
    const result = data['result'];
    if (typeof result !== 'object' || result === null) {
      this.venueError(p, ackTs, 500, 'BAD_RESPONSE', 'no result');
      return;
    }
    this.orderReport(p, w.cancel ? p.targetId : p.intentId, ackTs, result as Record<string, unknown>);
  }

  place(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const type = f64[base + IN.ORDER_TYPE]!;
    const fb = this.opts.iocFallback;
    const fallback = type === OrderType.Market && fb !== undefined && (fb.allMarket === true || (f64[base + IN.FLAGS]! & GATE_IOC_FALLBACK) !== 0);
    if (type !== OrderType.Market && type !== OrderType.Limit) return this.rest.place(f64, symbolId, base, readTs);
    if (fallback) return this.rest.place(f64, symbolId, base, readTs);
    const p = this.pending(f64, symbolId, base, readTs);
    if (this.refused(p)) return;
    const c = this.rules(p);
    if (!c) return;
    let param: string;
    try {
      p.text = gateClientId(this.opts.clientIdPrefix, p.intentId);
      param = gateIntentBody(c, f64, base, p.text);
    } catch (e) {
      this.encodeFailed(p, e as Error);
      return;
    }
    this.request(p, 'futures.order_place', param, false);
  }

  cancel(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const type = f64[base + IN.ORDER_TYPE]!;
    if (type !== OrderType.Market && type !== OrderType.Limit) return this.rest.cancel(f64, symbolId, base, readTs);
    const p = this.pending(f64, symbolId, base, readTs);
    p.text = gateClientId(this.opts.clientIdPrefix, p.targetId);
    p.cancel = true;
    this.request(p, 'futures.order_cancel', `{"order_id":"${p.text}"}`, true);
  }

  private request(p: Pending, channel: string, param: string, cancel: boolean): void {
    if (!this.isReady()) {
      this.reject(p, RejectReason.Transport, 0, 'not sent: WebSocket API not logged in');
      return;
    }
    const reqId = `${p.intentId}-${this.nextReq++}`;
    const ts = Math.floor(this.opts.venueTimeMs() / 1000);
    // an order may still be acted on while its `time` is within the venue's tolerance
    if (!cancel) p.deadline = ts * 1000 + 1000 + (this.opts.wsTimeWindowMs ?? 60_000);
    if (!this.ws.send(`{"time":${ts},"channel":"${channel}","event":"api","payload":{"req_id":"${reqId}","req_param":${param}}}`)) {
      this.reject(p, RejectReason.Transport, 0, 'not sent: WebSocket API connection not open');
      return;
    }
    this.onSent(p);
    this.inFlight++;
    this.waiting.set(reqId, { p, cancel, sentLocal: Date.now(), at: 0 });
  }

  async close(): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.ws.close(1000);
  }
}
