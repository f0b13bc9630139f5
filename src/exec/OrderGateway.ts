import type { Histogram } from 'hdr-histogram-js';
import { ExecType, IN, IntentFlag, OrderStatus, OrderType, RecordType, RejectReason, W } from '../ring/layout.js';
import type { SpscRing } from '../ring/SpscRing.js';
import type { SlotWriter } from '../ring/SlotWriter.js';
import type { Drainable } from '../ring/WaitStrategy.js';
import { recordNs } from '../metrics/StageHistograms.js';
import type { BinanceOrderEncoder } from '../venues/binance/OrderEncoder.js';
import { checkOrder, type CheckOutcome, type SymbolFilters } from '../venues/binance/filters.js';
import { Refusal, Weight, type RateBudget } from '../venues/binance/RateBudget.js';
import { GatedReportWriter, RingReportSink, type ExecReportSink, type OrderTransport } from './OrderTransport.js';
import { RestOrderTransport, type RestTransportCounters, type RestTransportKind } from './RestOrderTransport.js';
import { UnknownResolver, type OrderQuery, type ResolverCounters } from './UnknownResolver.js';

export type { RestTransportKind } from './RestOrderTransport.js';

export interface GatewayCounters {
  intents: number;
  /** OrderCancel intents */
  cancels: number;
  /** OrderAmend intents */
  amends: number;
  /** conditional orders (stop, take-profit, trailing) sent to the algo-order endpoint */
  conditionals: number;
  sent: number;
  responses: number;
  acks: number;
  fills: number;
  rejects: number;
  expired: number;
  canceled: number;
  unknown: number;
  transportErrors: number;
  reportOverflow: number;
  encodeErrors: number;
  /** refused before sending: exchangeInfo filters */
  filterRejects: number;
  /** refused before sending: local order budget, 429 backoff or a halt */
  budgetRejects: number;
  /** intents sent over the preferred transport (WS API) / over REST */
  viaPreferred: number;
  viaRest: number;
  /** intents that went over REST because the preferred transport was not ready */
  transportFallbacks: number;
}

/** Registers orders acknowledged by a transport (UserDataStream.trackOrder), so a reconcile knows them. */
export interface OrderTrackerHook {
  trackOrder(symbolId: number, orderId: number, intentId: number, side: number, status: OrderStatus, cumQty: number, avgPrice: number, venueTime: number): void;
}

/** Where the gateway copies each intent it drains (the journal feed): off the hot path's critical section. */
export interface IntentJournal {
  intent(i32: Int32Array, base: number): void;
}

export interface GatewayOptions {
  /** every intent drained from ring B is copied here (the journal) */
  journal?: IntentJournal;
  restUrl: string;
  /** how REST orders are sent */
  transport?: RestTransportKind;
  apiKey: string;
  requestTimeoutMs: number;
  /** ns since the process epoch */
  now: () => number;
  /** wall-clock ms adjusted to the venue's clock */
  venueTimeMs: () => number;
  hists: { hopB?: Histogram; send?: Histogram; tickToOrder?: Histogram; venueRtt?: Histogram };
  /** exchangeInfo filters per symbol id: an order that breaks one is rejected locally with the reason. */
  filters?: readonly SymbolFilters[];
  /** order-rate budget (300/10 s, 1200/min, minus headroom), fed by the venue's headers; 429 backs off, 418 halts */
  budget?: RateBudget;
  /** Called for each reject or unknown outcome (rare; the worker logs them, rate-limited). */
  onReject?: (symbolId: number, intentId: number, code: number, message: string, unknown: boolean) => void;
  /**
   * Resolve Unknown outcomes by client order id (BinanceRestClient) and write the real state as a
   * follow-up report. Needs `symbols`, `clientIdPrefix` and `recvWindow`.
   */
  resolve?: { query: OrderQuery; symbols: readonly string[]; clientIdPrefix: string; recvWindow: number; marginMs?: number; onEvent?: (level: 'info' | 'warn', msg: string) => void };
}

const REFUSAL_TEXT: Record<number, string> = {
  [Refusal.Orders10s]: 'local budget: order count per 10 s',
  [Refusal.Orders1m]: 'local budget: order count per minute',
  [Refusal.Weight1m]: 'local budget: request weight per minute',
  [Refusal.Backoff]: 'backing off after HTTP 429',
};

function isConditional(t: number): boolean {
  return t === OrderType.StopMarket || t === OrderType.TakeProfitMarket || t === OrderType.TrailingStopMarket;
}

/** Recent cancel intents -> their target (direct-mapped): an Unknown cancel is resolved on the target order. */
const CANCEL_TABLE = 1024;

/** Follow-up reports of the resolver: tracked and written, not counted as transport outcomes again. */
class ResolvedSink implements ExecReportSink {
  constructor(private readonly gw: OrderGateway) {}
  execReport(
    symbolId: number, intentId: number, side: number, recvTs: number, sentTs: number, ackTs: number,
    status: OrderStatus, execType: ExecType, lastQty: number, lastPrice: number, cumQty: number, avgPrice: number,
    orderId: number, code: number, venueTime: number, reason: RejectReason, message: string,
  ): void {
    this.gw.track(symbolId, intentId, side, status, cumQty, avgPrice, orderId, venueTime);
    this.gw.reports.execReport(symbolId, intentId, side, recvTs, sentTs, ackTs, status, execType, lastQty, lastPrice, cumQty, avgPrice, orderId, code, venueTime, reason, message);
  }
}

/**
 * The execution worker's core: drains ring B, runs the pre-send checks that need no I/O (exchangeInfo
 * filters, the order-rate budget), and hands each intent to a transport: the preferred one (the WebSocket
 * API) while it is ready, else REST (counted as a fallback). Every transport reports through this gateway
 * (it is their ExecReportSink): outcomes are counted, acknowledged orders registered with the user data
 * stream's tracker, Unknown outcomes handed to the resolver, and all of it written to ring C through one
 * RingReportSink, so a full ring C keeps one overflow queue in one order.
 */
export class OrderGateway implements Drainable, ExecReportSink {
  readonly reports: RingReportSink;
  readonly rest: RestOrderTransport;
  readonly resolver: UnknownResolver | undefined;
  readonly now: () => number;
  private preferred: OrderTransport | null = null;
  private venueTransport: OrderTransport | null = null;
  private tracker: OrderTrackerHook | null = null;
  private readonly checkOut: CheckOutcome = { reason: RejectReason.None, text: '' };
  private readonly c = {
    intents: 0, cancels: 0, amends: 0, conditionals: 0, acks: 0, fills: 0, rejects: 0, expired: 0, canceled: 0, unknown: 0,
    filterRejects: 0, budgetRejects: 0, viaPreferred: 0, viaRest: 0, transportFallbacks: 0,
  };
  private readonly cancelId = new Float64Array(CANCEL_TABLE).fill(-1);
  private readonly cancelTarget = new Float64Array(CANCEL_TABLE);

  constructor(
    private readonly intents: SpscRing,
    reports: SlotWriter,
    encoder: BinanceOrderEncoder,
    private readonly opts: GatewayOptions,
  ) {
    this.now = opts.now;
    this.reports = new RingReportSink(reports, opts.now, opts.onReject);
    this.rest = new RestOrderTransport(encoder, this, {
      restUrl: opts.restUrl,
      kind: opts.transport ?? 'undici',
      apiKey: opts.apiKey,
      requestTimeoutMs: opts.requestTimeoutMs,
      now: opts.now,
      venueTimeMs: opts.venueTimeMs,
      hists: opts.hists,
      ...(opts.budget ? { budget: opts.budget } : {}),
    });
    const r = opts.resolve;
    if (r !== undefined) {
      this.resolver = new UnknownResolver({
        query: r.query,
        sink: new ResolvedSink(this),
        symbols: r.symbols,
        clientIdPrefix: r.clientIdPrefix,
        venueTimeMs: opts.venueTimeMs,
        recvWindowMs: r.recvWindow,
        now: opts.now,
        ...(r.marginMs !== undefined ? { marginMs: r.marginMs } : {}),
        ...(r.onEvent ? { onEvent: r.onEvent } : {}),
      });
    }
  }

  /**
   * Another venue's order path (Gate.io): every new order and cancel goes to `t` (which places conditional
   * orders itself), amends are refused locally (not supported there), and the Binance transports are not
   * used. `t` must report to this gateway.
   */
  setVenueTransport(t: OrderTransport): void {
    this.venueTransport = t;
  }

  /** Sends every intent over `t` while it is ready (the WebSocket API); REST otherwise. `t` must report to this gateway. */
  setPreferred(t: OrderTransport | null): void {
    this.preferred = t;
  }

  setTracker(t: OrderTrackerHook | null): void {
    this.tracker = t;
  }

  /** A SlotWriter over ring C for a second writer on this thread (the user data stream): waits behind our queue. */
  gatedWriter(ring: SlotWriter): GatedReportWriter {
    return new GatedReportWriter(ring, this.reports);
  }

  /** Counters of the gateway and its transports (a fresh object: for stats, not per order). */
  get counters(): GatewayCounters {
    const rc: RestTransportCounters = this.rest.counters;
    const p = this.preferred as (OrderTransport & { counters?: { sent?: number; responses?: number; encodeErrors?: number } }) | null;
    const pc = p?.counters;
    return {
      ...this.c,
      sent: rc.sent + (pc?.sent ?? 0),
      responses: rc.responses + (pc?.responses ?? 0),
      transportErrors: rc.transportErrors,
      encodeErrors: rc.encodeErrors + (pc?.encodeErrors ?? 0),
      reportOverflow: this.reports.overflowed,
    };
  }

  get resolverCounters(): ResolverCounters | undefined {
    return this.resolver?.counters;
  }

  get rejectsByCode(): Map<number, number> {
    return this.reports.rejectsByCode;
  }

  /** Opens the REST connection ahead of the first order (and keeps it warm when called periodically). */
  warm(): Promise<number> {
    return this.rest.warm();
  }

  private readonly warmIntent = new Float64Array(16);

  /** Keeps the encoders and signers hot (nothing is sent); see RestOrderTransport.keepWarm. */
  keepWarm(): void {
    this.rest.keepWarm();
    const p = this.preferred as (OrderTransport & { keepWarm?: (f64: Float64Array, symbolId: number, base: number) => void }) | null;
    if (p?.keepWarm) {
      const f = this.warmIntent;
      f[IN.INTENT_ID] = 0;
      f[IN.SIDE] = 1;
      f[IN.ORDER_TYPE] = 1;
      f[IN.QTY_STEPS] = 1;
      p.keepWarm(f, 0, 0);
    }
  }

  hasWork(): boolean {
    return this.intents.hasData() || this.reports.pending > 0;
  }

  drain(): number {
    if (this.reports.pending > 0) this.reports.flush();
    const ring = this.intents;
    const n = ring.poll(64);
    if (n === 0) return 0;
    const readTs = this.now();
    const f64 = ring.f64;
    const i32 = ring.i32;
    const hopB = this.opts.hists.hopB;
    const journal = this.opts.journal;
    for (let i = 0; i < n; i++) {
      const base = ring.readBase(i);
      const type = i32[base * 2]! & 0xff;
      const sym = i32[base * 2 + 1]!;
      this.c.intents++;
      if (hopB) recordNs(hopB, readTs - f64[base + W.PUB_TS]!);
      if (type === RecordType.OrderNew) this.sendNew(f64, sym, base, readTs);
      else if (type === RecordType.OrderCancel) this.sendCancel(f64, sym, base, readTs);
      else if (type === RecordType.OrderAmend) this.sendAmend(f64, sym, base, readTs);
      else this.rejectLocal(sym, f64[base + IN.INTENT_ID]!, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!, RejectReason.Unknown, 0, 'unsupported intent type');
      // journaled after it was sent (the slot is ours until release): the copy costs the order nothing
      journal?.intent(i32, base);
    }
    ring.release(n);
    return n;
  }

  /** The transport for the next intent: the preferred one while ready, else REST (a fallback when one is preferred). */
  private route(): OrderTransport {
    const p = this.preferred;
    if (p !== null) {
      if (p.isReady()) {
        this.c.viaPreferred++;
        return p;
      }
      this.c.transportFallbacks++;
    }
    this.c.viaRest++;
    return this.rest;
  }

  private sendNew(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    if (!this.preSendCheck(f64, symbolId, base)) return;
    const vt = this.venueTransport;
    if (vt !== null) {
      this.c.viaPreferred++;
      vt.place(f64, symbolId, base, readTs);
      return;
    }
    if (isConditional(f64[base + IN.ORDER_TYPE]!)) {
      // The venue takes conditional orders only on its algo-order service (since 2025-12), over REST here.
      this.c.conditionals++;
      this.c.viaRest++;
      this.rest.placeAlgo(f64, symbolId, base, readTs);
      return;
    }
    this.route().place(f64, symbolId, base, readTs);
  }

  /** OrderAmend: `PUT /fapi/v1/order` over REST; counts toward the order-rate budget like a new order. */
  private sendAmend(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    this.c.amends++;
    if (this.venueTransport !== null) {
      this.c.filterRejects++;
      this.rejectLocal(symbolId, f64[base + IN.INTENT_ID]!, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!, RejectReason.Unknown, 0, 'amend is not supported on this venue: cancel and place');
      return;
    }
    const budget = this.opts.budget;
    if (budget !== undefined && !budget.tryAcquireOrder(this.opts.venueTimeMs())) {
      this.refuseByBudget(symbolId, f64[base + IN.INTENT_ID]!, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!);
      return;
    }
    this.c.viaRest++;
    this.rest.amend(f64, symbolId, base, readTs);
  }

  private sendCancel(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    this.c.cancels++;
    const id = f64[base + IN.INTENT_ID]!;
    const budget = this.opts.budget;
    if (budget !== undefined && !budget.tryAcquireWeight(this.opts.venueTimeMs(), Weight.cancelOrder)) {
      this.refuseByBudget(symbolId, id, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!);
      return;
    }
    const k = id & (CANCEL_TABLE - 1);
    this.cancelId[k] = id;
    this.cancelTarget[k] = f64[base + IN.TARGET_ID]!;
    if (this.venueTransport !== null) this.venueTransport.cancel(f64, symbolId, base, readTs);
    else if (isConditional(f64[base + IN.ORDER_TYPE]!)) this.rest.cancelAlgo(f64, symbolId, base, readTs);
    else this.route().cancel(f64, symbolId, base, readTs);
  }

  /**
   * Checks that need no I/O, in the order a venue would apply them: exchangeInfo filters (exact integer
   * ticks and steps), then the order-rate budget. A refusal is a local reject with its reason.
   */
  private preSendCheck(f64: Float64Array, symbolId: number, base: number): boolean {
    const type = f64[base + IN.ORDER_TYPE]!;
    const filters = this.opts.filters?.[symbolId];
    const conditional = isConditional(type);
    // a close-position stop has no quantity to check; other conditional orders are checked on their trigger price
    if (filters !== undefined && !(conditional && (f64[base + IN.FLAGS]! & IntentFlag.ClosePosition) !== 0)) {
      const side = f64[base + IN.SIDE]!;
      const priceTicks = conditional ? f64[base + IN.STOP_PRICE_TICKS]! : f64[base + IN.PRICE_TICKS]!;
      const r = checkOrder(filters, side, type, priceTicks, f64[base + IN.QTY_STEPS]!, undefined, (f64[base + IN.FLAGS]! & IntentFlag.ReduceOnly) !== 0, this.checkOut);
      if (r !== RejectReason.None) {
        this.c.filterRejects++;
        this.rejectLocal(symbolId, f64[base + IN.INTENT_ID]!, side, f64[base + W.RECV_TS]!, r, 0, this.checkOut.text);
        return false;
      }
    }
    const budget = this.opts.budget;
    if (budget !== undefined && !budget.tryAcquireOrder(this.opts.venueTimeMs())) {
      this.refuseByBudget(symbolId, f64[base + IN.INTENT_ID]!, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!);
      return false;
    }
    return true;
  }

  private refuseByBudget(symbolId: number, intentId: number, side: number, recvTs: number): void {
    const budget = this.opts.budget!;
    this.c.budgetRejects++;
    const halted = budget.lastRefusal === Refusal.Halted;
    this.rejectLocal(symbolId, intentId, side, recvTs, halted ? RejectReason.Halted : RejectReason.RateLimited, 0, halted ? `order entry halted: ${budget.haltReason}` : REFUSAL_TEXT[budget.lastRefusal] ?? 'rate budget');
  }

  /** Venue counters from a WS API response's `rateLimits` (-1 = absent): same counters as REST. */
  observeRateLimits(weight1m: number, orders10s: number, orders1m: number): void {
    this.opts.budget?.observeHeaders(this.opts.venueTimeMs(), weight1m, orders10s, orders1m);
  }

  /** A WS API answer with status 429 / 418: back off / halt as for REST. */
  observeThrottle(status: number, message: string): void {
    const b = this.opts.budget;
    if (b === undefined) return;
    if (status === 429) b.onRateLimited(this.opts.venueTimeMs(), -1);
    else if (status === 418) b.onBanned(this.opts.venueTimeMs(), -1, message);
  }

  private rejectLocal(symbolId: number, intentId: number, side: number, recvTs: number, reason: RejectReason, code: number, msg: string): void {
    this.execReport(symbolId, intentId, side, recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, code, 0, reason, msg);
  }

  /** ExecReportSink for the transports: count, track, hand Unknown to the resolver, write to ring C. */
  execReport(
    symbolId: number, intentId: number, side: number, recvTs: number, sentTs: number, ackTs: number,
    status: OrderStatus, execType: ExecType, lastQty: number, lastPrice: number, cumQty: number, avgPrice: number,
    orderId: number, code: number, venueTime: number, reason: RejectReason, message: string,
  ): void {
    const c = this.c;
    if (status === OrderStatus.Unknown) c.unknown++;
    else if (execType === ExecType.Fill) c.fills++;
    else if (execType === ExecType.Ack) c.acks++;
    else if (execType === ExecType.Expired) c.expired++;
    else if (execType === ExecType.Canceled) c.canceled++;
    else c.rejects++;
    this.reports.execReport(symbolId, intentId, side, recvTs, sentTs, ackTs, status, execType, lastQty, lastPrice, cumQty, avgPrice, orderId, code, venueTime, reason, message);
    const res = this.resolver;
    if (status === OrderStatus.Unknown) {
      if (res !== undefined) {
        const k = intentId & (CANCEL_TABLE - 1);
        // an Unknown cancel: what matters is the state of the order it targeted
        const target = this.cancelId[k] === intentId ? this.cancelTarget[k]! : intentId;
        res.enqueue(symbolId, target, side, recvTs, sentTs);
      }
      return;
    }
    if (res !== undefined && res.size > 0) res.settle(intentId);
    this.track(symbolId, intentId, side, status, cumQty, avgPrice, orderId, venueTime);
  }

  /** @internal Registers an acknowledged order of ours with the stream's tracker. */
  track(symbolId: number, intentId: number, side: number, status: OrderStatus, cumQty: number, avgPrice: number, orderId: number, venueTime: number): void {
    if (this.tracker !== null && orderId > 0 && intentId >= 0) this.tracker.trackOrder(symbolId, orderId, intentId, side, status, cumQty, avgPrice, venueTime);
  }

  inFlightCount(): number {
    return this.rest.inFlightCount() + (this.preferred?.inFlightCount() ?? 0) + (this.venueTransport?.inFlightCount() ?? 0);
  }

  async close(): Promise<void> {
    this.resolver?.stop();
    await this.rest.close();
    await this.venueTransport?.close();
  }
}
