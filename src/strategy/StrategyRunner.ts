import type { Histogram } from 'hdr-histogram-js';
import { AccountFlag, AccountUpdateReason, AU, BookState, BT, ExecFlag, ExecType, FS, IN, MP, RP, IntentFlag, OrderStatus, OrderType, packHeader, RecordFlag, RecordType, RejectReason, Side, TimeInForce, W } from '../ring/layout.js';
import type { SlotWriter } from '../ring/SlotWriter.js';
import { qtyToSteps, priceToTicks, type Instrument } from '../core/Instrument.js';
import { RiskEngine, TradingState } from '../risk/RiskEngine.js';
import { RiskInputs } from '../risk/RiskInputs.js';
import { Portfolio, type PortfolioConfig } from '../portfolio/Portfolio.js';
import { recordNs } from '../metrics/StageHistograms.js';
import { BookMirror } from '../book/BookSync.js';
import type { L2Book } from '../book/L2Book.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import { EVENT_TIME_WORD, ExecReportView, MarketEvent } from './views.js';
import { IntentTable } from './IntentTable.js';

export interface RunnerCounters {
  marketRecords: number;
  reports: number;
  intents: number;
  riskRejects: number;
  ringFullRejects: number;
  staleMarks: number;
  fills: number;
  acks: number;
  rejects: number;
  expired: number;
  unknown: number;
  /** records from the user data stream (flag Stream) */
  streamReports: number;
  /** Dup-flagged stream fills (already reported by TRADE_LITE): state only, no quantity */
  dupFills: number;
  /** fill reports whose quantity another source had already applied (response vs stream): nothing added */
  duplicateQty: number;
  /** fills of orders that are not ours (liquidation, ADL, manual, another session) */
  foreignFills: number;
  /** quantity applied after the order had left the in-flight table (late stream fill, resolved Unknown) */
  lateFills: number;
  accountUpdates: number;
  /** venue reconcile positions that differed from ours: ours replaced */
  positionCorrections: number;
  /** stream positions that differed from ours at arrival (ordering races between the two sources) */
  positionDivergences: number;
  /** OrderCancel intents written */
  cancels: number;
  /** OrderAmend intents written, and those the venue refused (the order stayed as it was) */
  amends: number;
  amendRejects: number;
  /** conditional orders (stop, take-profit, trailing) sent */
  conditionals: number;
  /** orders refused because the symbol's book was Syncing or Stale, or its view had a gap */
  notLiveRejects: number;
  /** requests outside the supported order set (a limit without price or TIF, a stop without trigger, ...) */
  unsupportedRejects: number;
  /** strategy timers fired */
  timers: number;
  /** trading state changes (operator or automatic) and kill switches pulled automatically */
  tradingStateChanges: number;
  killSwitches: number;
  /** orders cancelled by a halt or a flatten; reduce-only market orders sent by a flatten */
  haltCancels: number;
  flattenOrders: number;
}

/** Intents whose fill accounting is remembered (power of two): far more than can be in flight or late. */
const FILL_SLOTS = 4096;
/** Amends awaiting their outcome, direct-mapped by amend intent id (power of two). */
const AMEND_SLOTS = 1024;

function isConditional(t: OrderType): boolean {
  return t === OrderType.StopMarket || t === OrderType.TakeProfitMarket || t === OrderType.TrailingStopMarket;
}

/** Quantities are decimals of at most ~8 places: keep a sum or difference of two clean of float noise. */
function qtyRound(q: number): number {
  return Math.round(q * 1e10) / 1e10;
}

/** The order set the order path takes (see OrderRequest). */
function supported(req: OrderRequest): boolean {
  const t = req.type;
  const tif = req.tif;
  if (req.closePosition && (req.reduceOnly || (t !== OrderType.StopMarket && t !== OrderType.TakeProfitMarket))) return false;
  if (t === OrderType.Market) return tif === TimeInForce.None;
  if (t === OrderType.Limit) return req.price > 0 && (tif === TimeInForce.Gtc || tif === TimeInForce.Ioc || tif === TimeInForce.Fok || tif === TimeInForce.Gtx);
  if (t === OrderType.StopMarket || t === OrderType.TakeProfitMarket) return req.stopPrice > 0 && (req.reduceOnly || req.closePosition);
  if (t === OrderType.TrailingStopMarket) return req.callbackRate >= 0.1 && req.callbackRate <= 10 && req.stopPrice >= 0 && req.reduceOnly;
  return false;
}

export interface RunnerOptions {
  portfolio?: Partial<PortfolioConfig>;
  /** halt (kill switch) when the market-data connection has been down this long (ms; 0 = never) */
  disconnectHaltMs?: number;
}

export interface RunnerClock {
  /** ns since the process epoch */
  now(): number;
}

/**
 * The strategy worker's core, free of threads so it also runs in-process (tests, replay): applies market
 * records to a per-symbol top-of-book view, applies execution reports to positions and in-flight
 * quantities, calls the strategy, runs pre-trade risk on what it asks for, and writes accepted intents
 * into ring B. A full ring B rejects the intent with a reason (never a silent drop).
 *
 * Timing: the caller stamps `readTs` once per drained batch; the intent's PUB_TS is read only when an
 * intent is actually published, so the clock is not read per market event.
 */
export class StrategyRunner implements StrategyContext {
  readonly counters: RunnerCounters = {
    marketRecords: 0, reports: 0, intents: 0, riskRejects: 0, ringFullRejects: 0, staleMarks: 0, fills: 0, acks: 0, rejects: 0, expired: 0, unknown: 0,
    streamReports: 0, dupFills: 0, duplicateQty: 0, foreignFills: 0, lateFills: 0, accountUpdates: 0, positionCorrections: 0, positionDivergences: 0,
    cancels: 0, amends: 0, amendRejects: 0, conditionals: 0, notLiveRejects: 0, unsupportedRejects: 0, timers: 0, tradingStateChanges: 0, killSwitches: 0, haltCancels: 0, flattenOrders: 0,
  };
  readonly risk: RiskEngine;
  /** what the risk engine reads; its per-symbol arrays are the runner's own */
  readonly inputs: RiskInputs;
  /** positions and PnL from fills (fee-true), marked to the mark price */
  readonly portfolio: Portfolio;
  /** FLATTEN: 0 idle, 1 closing (orders cancelled, reduce-only market orders out), 2 flat (confirmed) */
  flattenState = 0;
  private readonly flattenReq = new OrderRequest();
  /** the close order a flatten has in flight per symbol (-1 none) */
  private readonly flattenId: Float64Array;
  /** the feed's connection: when it went down (runner clock, ns; 0 = up), and the halt threshold */
  private disconnectedAtNs = 0;
  private readonly disconnectHaltNs: number;
  private readonly ev = new MarketEvent();
  /** the feed's order books, rebuilt from ring-A depth records */
  private readonly mirror: BookMirror;
  private readonly rep = new ExecReportView();
  private readonly bid: Float64Array;
  private readonly ask: Float64Array;
  private readonly last: Float64Array;
  private readonly stale: Uint8Array;
  /** 1 once the feed has reported a book state for the symbol (it keeps a depth book); else top of book only */
  private readonly booked: Uint8Array;
  private readonly pos: Float64Array;
  private readonly pendBuy: Float64Array;
  private readonly pendSell: Float64Array;
  /** in-flight orders: intent id -> symbol, side, quantity not yet filled */
  private readonly inflight = new IntentTable(1024);
  /**
   * Fill accounting per intent, direct-mapped over recent intent ids (slot = id mod FILL_SLOTS): the quantity
   * applied to the position, and the quantity the user data stream has shown. It outlives the in-flight
   * entry: a stream fill or a resolved Unknown can arrive after the order finished.
   */
  private readonly fillId = new Float64Array(FILL_SLOTS).fill(-1);
  private readonly fillApplied = new Float64Array(FILL_SLOTS);
  private readonly fillStream = new Float64Array(FILL_SLOTS);
  /** the venue's last word on each position (AccountUpdate), NaN before the first */
  private readonly venuePos: Float64Array;
  /**
   * Amends in flight: amend intent id -> target intent id and the change made to the target's remaining
   * quantity at submit (undone if the venue refuses the amend, when the order stays as it was).
   */
  private readonly amendId = new Float64Array(AMEND_SLOTS).fill(-1);
  private readonly amendTarget = new Float64Array(AMEND_SLOTS);
  private readonly amendDelta = new Float64Array(AMEND_SLOTS);
  private venueWallet = NaN;
  private venueCrossWallet = NaN;
  private nextIntentId = 1;
  /** read time of the batch being processed */
  private readTs = 0;
  private cur: { recvTs: number; eventTime: number } = { recvTs: 0, eventTime: 0 };
  /** the strategy gets events and may submit only while active (runtime control) */
  private active = true;
  /** latest event time seen (ms): the timers' clock, never the wall clock */
  private clockMs = 0;
  /** the strategy's timer deadline (event time, ms); Infinity = none */
  private timerAt = Infinity;

  constructor(
    private strategy: Strategy,
    private readonly instruments: readonly Instrument[],
    private readonly intents: SlotWriter,
    risk: RiskEngine,
    private readonly clock: RunnerClock,
    private readonly hists: { hopA?: Histogram; strategy?: Histogram } = {},
    opts: RunnerOptions = {},
  ) {
    const n = instruments.length;
    this.mirror = new BookMirror(n);
    this.bid = new Float64Array(n).fill(NaN);
    this.ask = new Float64Array(n).fill(NaN);
    this.last = new Float64Array(n).fill(NaN);
    this.stale = new Uint8Array(n);
    this.booked = new Uint8Array(n);
    this.flattenId = new Float64Array(n).fill(-1);
    this.pos = new Float64Array(n);
    this.pendBuy = new Float64Array(n);
    this.pendSell = new Float64Array(n);
    this.venuePos = new Float64Array(n).fill(NaN);
    this.risk = risk;
    const inp = new RiskInputs(n);
    inp.position = this.pos;
    inp.pendingBuy = this.pendBuy;
    inp.pendingSell = this.pendSell;
    inp.bid = this.bid;
    inp.ask = this.ask;
    // no book state reported yet: top of book only, live
    inp.bookLive.fill(1);
    this.inputs = inp;
    this.portfolio = new Portfolio(n, opts.portfolio ?? {});
    this.portfolio.bid = this.bid;
    this.portfolio.ask = this.ask;
    this.disconnectHaltNs = (opts.disconnectHaltMs ?? 0) * 1e6;
    // an automatic halt (a breached limit) is a kill switch: every open order is cancelled
    risk.onStateChange = (state) => {
      this.counters.tradingStateChanges++;
      if (state === TradingState.Halted) this.cancelAll();
    };
  }

  /**
   * Replaces the strategy (runtime switch / re-parameterisation). Positions, in-flight orders and books are
   * the runner's and carry over; the old strategy's timer does not. Reports of orders the old strategy sent
   * reach the new one, which ignores ids it does not know.
   */
  setStrategy(s: Strategy): void {
    this.strategy = s;
    this.timerAt = Infinity;
  }

  get currentStrategy(): Strategy {
    return this.strategy;
  }

  /** Deactivated: books and positions still follow the rings, but the strategy gets no events or timers. */
  setActive(on: boolean): void {
    this.active = on;
  }

  isActive(): boolean {
    return this.active;
  }

  /** Stamp the read time of the batch about to be handled (one clock read per batch). */
  beginBatch(readTs: number): void {
    this.readTs = readTs;
    const inp = this.inputs;
    inp.eventTimeMs = this.clockMs;
    this.portfolio.sample(inp);
    inp.equity = this.portfolio.equityNow;
    this.risk.update(inp);
    if (this.disconnectedAtNs > 0 && this.disconnectHaltNs > 0 && readTs - this.disconnectedAtNs > this.disconnectHaltNs && this.risk.state !== TradingState.Halted) {
      this.killSwitch('market data disconnected');
    }
  }

  // ------------------------------------------------------------------ ring A

  onMarketRecord(f64: Float64Array, i32: Int32Array, base: number): void {
    const ev = this.ev.wrap(f64, i32, base);
    this.counters.marketRecords++;
    if (this.hists.hopA) recordNs(this.hists.hopA, this.readTs - f64[base + W.PUB_TS]!);
    const sym = ev.symbolId;
    const type = ev.type;
    if ((ev.flags & RecordFlag.GapBefore) !== 0) {
      // Records of this symbol were dropped on a full ring: stale until a full top-of-book state arrives.
      this.stale[sym] = 1;
      this.inputs.bookLive[sym] = 0;
      this.counters.staleMarks++;
    }
    if (type === RecordType.BookTicker) {
      this.bid[sym] = f64[base + BT.BID]!;
      this.ask[sym] = f64[base + BT.ASK]!;
      this.stale[sym] = 0;
      this.inputs.bookLive[sym] = this.booked[sym] === 1 && this.mirror.state(sym) !== BookState.Live ? 0 : 1;
    } else if (type === RecordType.AggTrade || type === RecordType.Trade) {
      this.last[sym] = ev.price;
    } else if (type === RecordType.FeedStatus) {
      this.mirror.onRecord(f64, i32, base);
      if (sym >= 0 && sym < this.booked.length) {
        this.booked[sym] = 1;
        this.inputs.bookLive[sym] = this.mirror.state(sym) === BookState.Live && this.stale[sym] === 0 ? 1 : 0;
      }
      if (f64[base + FS.CONNECTED] === 0) {
        if (this.disconnectedAtNs === 0) this.disconnectedAtNs = this.readTs > 0 ? this.readTs : this.clock.now();
      } else this.disconnectedAtNs = 0;
    } else if (type === RecordType.MarkPrice) {
      if (sym >= 0 && sym < this.pos.length) this.portfolio.markPrice[sym] = f64[base + MP.MARK]!;
    } else if (type === RecordType.Depth && (ev.flags & RecordFlag.Snapshot) === 0) {
      // A depth event may span several records: the strategy sees it once, on its last record, when the
      // mirrored book is whole again.
      if (this.mirror.onRecord(f64, i32, base) < 0) return;
    }
    const etWord = EVENT_TIME_WORD[type]!;
    const et = etWord === 0 ? 0 : f64[base + etWord]!;
    this.cur.recvTs = ev.recvTs;
    this.cur.eventTime = et;
    // event times of different streams interleave slightly out of order: the timer clock never goes back
    if (et > this.clockMs) this.clockMs = et;
    if (!this.active) return;
    if (this.clockMs >= this.timerAt) {
      this.timerAt = Infinity;
      this.counters.timers++;
      this.strategy.onTimer(this.clockMs, this);
    }
    this.strategy.onMarket(ev, this);
  }

  // ------------------------------------------------------------------ ring C

  /**
   * One ring-C record. Fills can reach us twice for our orders (the transport's RESULT response and the
   * user data stream's TRADE_LITE / ORDER_TRADE_UPDATE, in either order), so quantity is applied per
   * intent from what is known cumulatively, never by adding each report's LAST_QTY:
   * - a report with a known CUM_QTY (responses, ORDER_TRADE_UPDATE, reconcile, resolved Unknown) brings the
   *   intent's applied quantity up to it (`cum - applied` when positive);
   * - a TRADE_LITE (CUM_QTY NaN) adds its LAST_QTY to what the stream has shown for the intent and brings
   *   the applied quantity up to that: both sources report a prefix of the same fills, so the larger one is
   *   what is known (with the stream alone this is exactly LAST_QTY);
   * - Dup-flagged records (a TRADE_LITE already covered that fill) never add quantity;
   * - foreign fills (INTENT_ID -1) are applied by LAST_QTY unless Dup (the decoder reports each once).
   * AccountUpdate records carry the venue's position: see onAccountUpdate.
   */
  onReportRecord(f64: Float64Array, i32: Int32Array, u8: Uint8Array, base: number): void {
    const h = i32[base * 2]!;
    if ((h & 0xff) === RecordType.AccountUpdate) {
      this.onAccountUpdate(f64, i32, base, h);
      return;
    }
    const r = this.rep.wrap(f64, i32, u8, base);
    const c = this.counters;
    c.reports++;
    const flags = (h >>> 8) & 0xff;
    if ((flags & ExecFlag.Stream) !== 0) c.streamReports++;
    const id = r.intentId;
    const inflight = this.inflight;
    const slot = inflight.find(id);
    const x = r.execType;
    const status = r.status;
    if (x === ExecType.Fill) c.fills++;
    else if (x === ExecType.Ack) c.acks++;
    else if (x === ExecType.Reject) c.rejects++;
    else if (x === ExecType.Expired) c.expired++;
    if (status === OrderStatus.Unknown) c.unknown++;

    let qty = 0;
    if ((flags & ExecFlag.Dup) !== 0) {
      if (x === ExecType.Fill) c.dupFills++;
    } else if (id < 0 || (flags & ExecFlag.Foreign) !== 0) {
      if (x === ExecType.Fill && r.lastQty > 0) {
        qty = r.lastQty;
        c.foreignFills++;
      }
    } else {
      qty = this.newQty(id, r.cumQty, r.lastQty, x === ExecType.Fill, (flags & ExecFlag.Stream) !== 0);
    }
    const sentTs = f64[base + RP.SENT_TS]!;
    const ackTs = f64[base + RP.ACK_TS]!;
    if (sentTs > 0 && ackTs > sentTs) this.inputs.venueLatencyMs = (ackTs - sentTs) / 1e6;
    if (x === ExecType.Reject && f64[base + RP.REASON] === RejectReason.Halted && this.risk.state !== TradingState.Halted) {
      // the venue banned us (418) or order entry was halted at the execution side: pull the kill switch
      this.killSwitch('order entry halted');
    }
    if (qty > 0) {
      const side = r.side !== 0 ? r.side : slot >= 0 ? inflight.side[slot]! : 0;
      this.pos[r.symbolId]! += side * qty;
      // the fill's doubles go to the portfolio through its fields (see Portfolio.onFillFields)
      const pf = this.portfolio;
      pf.fillQty = qty;
      pf.fillPrice = f64[base + RP.LAST_PRICE]! > 0 ? f64[base + RP.LAST_PRICE]! : f64[base + RP.AVG_PRICE]!;
      // responses carry no commission (0): estimated from the rate; the user stream's is the venue's
      pf.fillFee = (flags & ExecFlag.Stream) !== 0 ? f64[base + RP.FEE]! : NaN;
      pf.fillDecision = slot >= 0 ? inflight.decision[slot]! : NaN;
      this.applyFill(r.symbolId, side, f64[base + RP.IS_MAKER] === 1);
      if (slot >= 0) {
        // The filled part moves from "in flight" to the position.
        const rem = inflight.remaining[slot]!;
        const filled = qty < rem ? qty : rem;
        inflight.remaining[slot] = rem - filled;
        if (!isConditional(inflight.type[slot]!)) {
          if (inflight.side[slot] === Side.Buy) this.pendBuy[inflight.sym[slot]!]! -= filled;
          else this.pendSell[inflight.sym[slot]!]! -= filled;
        }
      } else if (id >= 0) c.lateFills++;
    } else if (slot < 0 && x === ExecType.Reject && id >= 0) {
      const k = id & (AMEND_SLOTS - 1);
      if (this.amendId[k] === id) this.amendRefused(k);
    }
    // Unknown keeps the order in flight: the execution worker resolves it and reports the real state.
    const terminal = status === OrderStatus.Filled || status === OrderStatus.Canceled || status === OrderStatus.Rejected || status === OrderStatus.Expired;
    if (slot >= 0 && (terminal || inflight.remaining[slot]! <= 1e-12)) this.finishInflight(slot);
    if (this.flattenState === 1) this.continueFlatten();
    if (this.active) this.strategy.onReport(r, this);
  }

  /** Quantity of intent `id` not yet in the position, given one report's cumulative (NaN: TRADE_LITE) and last quantity. */
  private newQty(id: number, cum: number, last: number, isFill: boolean, fromStream: boolean): number {
    const lite = cum !== cum;
    if (lite ? !(isFill && last > 0) : !(cum > 0)) return 0;
    const k = id & (FILL_SLOTS - 1);
    if (this.fillId[k] !== id) {
      // first quantity seen for this intent (an older intent's slot is reused)
      this.fillId[k] = id;
      this.fillApplied[k] = 0;
      this.fillStream[k] = 0;
    }
    let known: number;
    if (lite) {
      known = qtyRound(this.fillStream[k]! + last);
      this.fillStream[k] = known;
    } else {
      known = cum;
      if (fromStream && cum > this.fillStream[k]!) this.fillStream[k] = cum;
    }
    const d = qtyRound(known - this.fillApplied[k]!);
    if (d <= 0) {
      if (isFill) this.counters.duplicateQty++;
      return 0;
    }
    this.fillApplied[k] = known;
    return d;
  }

  /**
   * AccountUpdate: the venue's position (and balance). A reconcile (REST snapshot after a stream gap) is the
   * truth: take it, counting a correction when ours differed. A stream update is only compared: it may lag
   * or lead the fills we applied (the response and the stream race), so a difference is counted, not applied.
   */
  private onAccountUpdate(f64: Float64Array, i32: Int32Array, base: number, h: number): void {
    this.counters.accountUpdates++;
    if (f64[base + AU.HAS_BALANCE] === 1) {
      this.venueWallet = f64[base + AU.WALLET_BALANCE]!;
      this.venueCrossWallet = f64[base + AU.CROSS_WALLET_BALANCE]!;
    }
    const sym = i32[base * 2 + 1]!;
    if (sym < 0 || sym >= this.pos.length || f64[base + AU.HAS_POSITION] !== 1) return;
    // hedge-mode legs: the runner keeps one net (one-way mode) position per symbol
    if ((((h >>> 8) & 0xff) & (AccountFlag.Long | AccountFlag.Short)) !== 0) return;
    const amt = f64[base + AU.POSITION_AMT]!;
    this.venuePos[sym] = amt;
    const differs = qtyRound(amt - this.pos[sym]!) !== 0;
    if (f64[base + AU.REASON] === AccountUpdateReason.Reconcile) {
      if (differs) {
        this.counters.positionCorrections++;
        this.pos[sym] = amt;
      }
    } else if (differs) this.counters.positionDivergences++;
  }

  private finishInflight(slot: number): void {
    const t = this.inflight;
    const sym = t.sym[slot]!;
    const rem = t.remaining[slot]!;
    const remaining = rem > 0 ? rem : 0;
    if (!isConditional(t.type[slot]!)) {
      if (t.side[slot] === Side.Buy) this.pendBuy[sym]! -= remaining;
      else this.pendSell[sym]! -= remaining;
    }
    this.inputs.openOrders[sym]!--;
    t.removeAt(slot);
  }

  /** A fill into the portfolio (fee-true PnL, slippage), and a closed round trip into the risk engine's streak rules. */
  private applyFill(sym: number, side: number, isMaker: boolean): void {
    const pf = this.portfolio;
    const inp = this.inputs;
    inp.eventTimeMs = this.clockMs;
    if (pf.onFillFields(sym, side, isMaker)) this.risk.onRoundTripOf(pf, inp);
    pf.refresh();
    inp.equity = pf.equityNow;
    inp.realizedPnl = pf.netRealizedPnl();
    this.risk.update(inp);
  }

  // ------------------------------------------------------------------ trading state (control plane)

  get tradingState(): TradingState {
    return this.risk.state;
  }

  /**
   * Operator transition: ACTIVE, REDUCE_ONLY or HALTED. HALTED cancels every open order (the kill switch);
   * leaving it ends a flatten.
   */
  setTradingState(state: TradingState): void {
    if (state !== TradingState.Halted) this.flattenState = 0;
    this.risk.setState(state, this.clockMs);
    if (state === TradingState.Halted) this.cancelAll();
  }

  /** The automatic kill switch: HALTED, every open order cancelled. */
  killSwitch(_why: string): void {
    this.counters.killSwitches++;
    this.risk.setState(TradingState.Halted, this.clockMs);
    this.cancelAll();
  }

  /**
   * FLATTEN: HALTED (no new risk), every open order cancelled, every position closed with reduce-only market
   * orders. `flattenState` reads 2 (flat) only once the positions are zero by the fills and, where the venue
   * has reported one, by the venue's own position too, with nothing left in flight.
   */
  flatten(): void {
    this.risk.setState(TradingState.Halted, this.clockMs);
    this.cancelAll();
    this.flattenState = 1;
    this.continueFlatten();
  }

  /** Cancels every order in flight once (a cancel is not tracked as an order itself). */
  cancelAll(): number {
    const t = this.inflight;
    let n = 0;
    for (let slot = 0; slot < t.capacity; slot++) {
      const id = t.keyAt(slot);
      if (id < 0 || t.cancelSent[slot] === 1) continue;
      if (this.cancel(id) >= 0) {
        t.cancelSent[slot] = 1;
        n++;
      }
    }
    this.counters.haltCancels += n;
    return n;
  }

  /** Sends what closes each open position (once per symbol while one is in flight) and sees whether flat. */
  private continueFlatten(): void {
    let flat = true;
    const n = this.pos.length;
    for (let sym = 0; sym < n; sym++) {
      const p = qtyRound(this.pos[sym]!);
      const venue = this.venuePos[sym]!;
      if (p !== 0 || (venue === venue && qtyRound(venue) !== 0)) flat = false;
      if (p === 0) continue;
      // one close order per symbol at a time (the orders being cancelled do not count: they will not fill)
      if (this.inflight.find(this.flattenId[sym]!) >= 0) continue;
      const req = this.flattenReq.market(sym, p > 0 ? Side.Sell : Side.Buy, p > 0 ? p : -p, true);
      const id = this.sendFlattenOrder(req);
      if (id >= 0) {
        this.flattenId[sym] = id;
        this.counters.flattenOrders++;
      }
    }
    if (flat && this.inflight.size === 0) this.flattenState = 2;
  }


  /** The venue refused amend `k`: its target (if still in flight) keeps the quantity it had. */
  private amendRefused(k: number): void {
    this.counters.amendRejects++;
    this.amendId[k] = -1;
    const t = this.inflight;
    const slot = t.find(this.amendTarget[k]!);
    if (slot < 0) return;
    const d = this.amendDelta[k]!;
    t.remaining[slot] = t.remaining[slot]! - d;
    t.total[slot] = t.total[slot]! - d;
    if (t.side[slot] === Side.Buy) this.pendBuy[t.sym[slot]!]! -= d;
    else this.pendSell[t.sym[slot]!]! -= d;
  }

  /** The venue's last reported position of a symbol (NaN before any AccountUpdate for it). */
  venuePosition(symbolId: number): number {
    return this.venuePos[symbolId]!;
  }

  /** The margin asset's wallet / cross wallet balance last reported by the venue (NaN before any). */
  venueBalance(): number {
    return this.venueWallet;
  }
  venueCrossBalance(): number {
    return this.venueCrossWallet;
  }

  // ------------------------------------------------------------------ StrategyContext

  submit(req: OrderRequest): number {
    if (!this.active) return -1;
    if (!supported(req)) {
      this.counters.unsupportedRejects++;
      return -1;
    }
    const conditional = isConditional(req.type);
    const sym = req.symbolId;
    const inst = this.instruments[sym]!;
    // Never trade on a book being rebuilt or a view with a gap (conditional orders rest at the venue and
    // trigger on its prices, so they may go out; they are what protects a position while the feed heals).
    const st = this.booked[sym] === 1 ? this.mirror.state(sym) : BookState.Live;
    if (!conditional && (st === BookState.Syncing || st === BookState.Stale || this.stale[sym] === 1)) {
      this.counters.notLiveRejects++;
      return -1;
    }
    const decision = req.side === Side.Buy ? this.ask[sym]! : this.bid[sym]!;
    // a conditional order only ever reduces the position (reduce-only or close-position): no exposure to check
    if (!conditional) {
      const inp = this.inputs;
      inp.eventTimeMs = this.clockMs;
      inp.decisionPrice = decision;
      if (this.risk.check(req, sym, inp) !== RejectReason.None) {
        this.counters.riskRejects++;
        return -1;
      }
    }
    this.pubDecision = decision;
    return this.publish(req, sym, inst, conditional);
  }

  /** the decision price of the intent being published (a field: publish is not inlined) */
  private pubDecision = 0.5;

  /** A flatten order: reduce-only, past the risk engine's HALTED state (closing risk is what a halt wants). */
  private sendFlattenOrder(req: OrderRequest): number {
    const sym = req.symbolId;
    this.pubDecision = req.side === Side.Buy ? this.ask[sym]! : this.bid[sym]!;
    return this.publish(req, sym, this.instruments[sym]!, false);
  }

  private publish(req: OrderRequest, sym: number, inst: Instrument, conditional: boolean): number {
    const decision = this.pubDecision;
    const w = this.intents;
    const base = w.claim();
    if (base < 0) {
      w.abort();
      this.counters.ringFullRejects++;
      return -1;
    }
    const id = this.nextIntentId++;
    const f64 = w.f64;
    const i32 = w.i32;
    i32[base * 2] = packHeader(RecordType.OrderNew, 0, 0);
    i32[base * 2 + 1] = sym;
    f64[base + W.RECV_TS] = this.cur.recvTs;
    f64[base + IN.INTENT_ID] = id;
    f64[base + IN.SIDE] = req.side;
    f64[base + IN.ORDER_TYPE] = req.type;
    f64[base + IN.TIF] = req.tif;
    f64[base + IN.PRICE_TICKS] = req.price > 0 ? priceToTicks(inst, req.price) : 0;
    f64[base + IN.QTY_STEPS] = qtyToSteps(inst, req.qty);
    f64[base + IN.FLAGS] = (req.reduceOnly ? IntentFlag.ReduceOnly : 0) | (req.closePosition ? IntentFlag.ClosePosition : 0) | (req.triggerOnMark ? IntentFlag.TriggerOnMark : 0);
    f64[base + IN.DECISION_PRICE] = decision;
    f64[base + IN.STOP_PRICE_TICKS] = req.stopPrice > 0 ? priceToTicks(inst, req.stopPrice) : 0;
    f64[base + IN.READ_TS] = this.readTs;
    f64[base + IN.EVENT_TIME] = this.cur.eventTime;
    f64[base + IN.TARGET_ID] = 0;
    f64[base + IN.CALLBACK_RATE] = req.callbackRate;
    const pub = this.clock.now();
    f64[base + W.PUB_TS] = pub;
    w.commit();
    if (this.hists.strategy) recordNs(this.hists.strategy, pub - this.readTs);
    this.counters.intents++;
    const slot = this.inflight.insert(id, sym, req.side, req.qty, req.type);
    this.inflight.decision[slot] = decision;
    this.inputs.openOrders[sym]!++;
    if (conditional) this.counters.conditionals++;
    else if (req.side === Side.Buy) this.pendBuy[sym]! += req.qty;
    else this.pendSell[sym]! += req.qty;
    return id;
  }

  /**
   * Small on purpose: V8 inlines it into the strategy, so the two doubles travel in fields and are never
   * boxed at a call (amendNow is too large to be inlined).
   */
  amend(intentId: number, price: number, qty: number): number {
    this.amendPrice = price;
    this.amendQty = qty;
    return this.amendNow(intentId);
  }

  private amendPrice = 0.5;
  private amendQty = 0.5;

  private amendNow(intentId: number): number {
    const price = this.amendPrice;
    const qty = this.amendQty;
    if (!this.active) return -1;
    const t = this.inflight;
    const slot = t.find(intentId);
    if (slot < 0 || t.type[slot] !== OrderType.Limit || !(price > 0) || !(qty > 0)) return -1;
    const sym = t.sym[slot]!;
    const inst = this.instruments[sym]!;
    const side = t.side[slot]!;
    const base = this.claimRequest(RecordType.OrderAmend, sym, side, OrderType.Limit, intentId);
    if (base < 0) return -1;
    const id = this.requestId;
    const f64 = this.intents.f64;
    f64[base + IN.PRICE_TICKS] = priceToTicks(inst, price);
    f64[base + IN.QTY_STEPS] = qtyToSteps(inst, qty);
    f64[base + IN.DECISION_PRICE] = side === Side.Buy ? this.ask[sym]! : this.bid[sym]!;
    this.publishRequest(base);
    this.counters.amends++;
    // The new total replaces the old; what has filled stays filled. Applied now (risk sees the new size at
    // once) and undone if the venue refuses the amend.
    const d = qtyRound(qty - t.total[slot]!);
    t.total[slot] = qty;
    t.remaining[slot] = t.remaining[slot]! + d;
    if (side === Side.Buy) this.pendBuy[sym]! += d;
    else this.pendSell[sym]! += d;
    const k = id & (AMEND_SLOTS - 1);
    this.amendId[k] = id;
    this.amendTarget[k] = intentId;
    this.amendDelta[k] = d;
    return id;
  }

  cancel(intentId: number): number {
    if (!this.active) return -1;
    const t = this.inflight;
    const slot = t.find(intentId);
    if (slot < 0) return -1;
    // the target's side (a cancel refused locally is reported with it) and type (conditional orders are
    // cancelled on the venue's algo-order endpoint)
    const base = this.claimRequest(RecordType.OrderCancel, t.sym[slot]!, t.side[slot]!, t.type[slot]!, intentId);
    if (base < 0) return -1;
    const id = this.requestId;
    this.publishRequest(base);
    this.counters.cancels++;
    return id;
  }

  /** Intent id of the request the last `claimRequest` wrote. */
  private requestId = 0;

  /**
   * Claims a ring-B slot for a request about order `targetId` (cancel, amend) and writes what every such
   * request carries, the rest zero; -1 (counted) when ring B is full. The caller fills its own fields, then
   * calls `publishRequest`.
   */
  private claimRequest(type: number, sym: number, side: number, orderType: number, targetId: number): number {
    const w = this.intents;
    const base = w.claim();
    if (base < 0) {
      w.abort();
      this.counters.ringFullRejects++;
      return -1;
    }
    const id = this.nextIntentId++;
    this.requestId = id;
    const f64 = w.f64;
    w.i32[base * 2] = packHeader(type, 0, 0);
    w.i32[base * 2 + 1] = sym;
    f64[base + W.RECV_TS] = this.cur.recvTs;
    f64[base + IN.INTENT_ID] = id;
    f64[base + IN.SIDE] = side;
    f64[base + IN.ORDER_TYPE] = orderType;
    f64[base + IN.TIF] = 0;
    f64[base + IN.PRICE_TICKS] = 0;
    f64[base + IN.QTY_STEPS] = 0;
    f64[base + IN.FLAGS] = 0;
    f64[base + IN.DECISION_PRICE] = 0;
    f64[base + IN.STOP_PRICE_TICKS] = 0;
    f64[base + IN.READ_TS] = this.readTs;
    f64[base + IN.EVENT_TIME] = this.cur.eventTime;
    f64[base + IN.TARGET_ID] = targetId;
    f64[base + IN.CALLBACK_RATE] = 0;
    return base;
  }

  /** Stamps the publish time of the request at `base` and commits it to ring B. */
  private publishRequest(base: number): void {
    this.intents.f64[base + W.PUB_TS] = this.clock.now();
    this.intents.commit();
  }

  setTimer(atMs: number): void {
    this.timerAt = atMs === atMs ? atMs : Infinity;
  }

  eventTimeMs(): number {
    return this.clockMs;
  }

  position(symbolId: number): number {
    return this.pos[symbolId]!;
  }
  pendingQty(symbolId: number, side: Side): number {
    return side === Side.Buy ? this.pendBuy[symbolId]! : -this.pendSell[symbolId]!;
  }
  walletBalance(): number {
    return this.venueWallet;
  }
  instrument(symbolId: number): Instrument {
    return this.instruments[symbolId]!;
  }
  bestBid(symbolId: number): number {
    return this.bid[symbolId]!;
  }
  bestAsk(symbolId: number): number {
    return this.ask[symbolId]!;
  }
  lastTradePrice(symbolId: number): number {
    return this.last[symbolId]!;
  }
  isStale(symbolId: number): boolean {
    return this.stale[symbolId] === 1;
  }
  book(symbolId: number): L2Book {
    return this.mirror.books[symbolId]!;
  }
  bookState(symbolId: number): BookState {
    return this.mirror.state(symbolId);
  }
  inflightCount(): number {
    return this.inflight.size;
  }
}
