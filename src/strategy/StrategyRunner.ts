import type { Histogram } from 'hdr-histogram-js';
import { BT, BookState, ExecType, IN, IntentFlag, OrderStatus, RecordFlag, RecordType, RejectReason, Side, W, packHeader } from '../ring/layout.js';
import type { SlotWriter } from '../ring/SlotWriter.js';
import { qtyToSteps, priceToTicks, type Instrument } from '../core/Instrument.js';
import { PreTradeLimits } from '../risk/PreTradeLimits.js';
import { recordNs } from '../metrics/StageHistograms.js';
import { BookMirror } from '../book/BookSync.js';
import type { L2Book } from '../book/L2Book.js';
import type { OrderRequest, Strategy, StrategyContext } from './Strategy.js';
import { ExecReportView, MarketEvent } from './views.js';

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
  readonly counters: RunnerCounters = { marketRecords: 0, reports: 0, intents: 0, riskRejects: 0, ringFullRejects: 0, staleMarks: 0, fills: 0, acks: 0, rejects: 0, expired: 0, unknown: 0 };
  readonly risk: PreTradeLimits;
  private readonly ev = new MarketEvent();
  /** the feed's order books, rebuilt from ring-A depth records */
  private readonly mirror: BookMirror;
  private readonly rep = new ExecReportView();
  private readonly bid: Float64Array;
  private readonly ask: Float64Array;
  private readonly last: Float64Array;
  private readonly stale: Uint8Array;
  private readonly pos: Float64Array;
  private readonly pendBuy: Float64Array;
  private readonly pendSell: Float64Array;
  /** intent id -> [symbol, side, remaining qty] for in-flight orders (bounded by ring B capacity) */
  private readonly inflight = new Map<number, Float64Array>();
  private readonly inflightPool: Float64Array[] = [];
  private nextIntentId = 1;
  /** read time of the batch being processed */
  private readTs = 0;
  private cur: { recvTs: number; eventTime: number } = { recvTs: 0, eventTime: 0 };

  constructor(
    private strategy: Strategy,
    private readonly instruments: readonly Instrument[],
    private readonly intents: SlotWriter,
    risk: PreTradeLimits,
    private readonly clock: RunnerClock,
    private readonly hists: { hopA?: Histogram; strategy?: Histogram } = {},
  ) {
    const n = instruments.length;
    this.mirror = new BookMirror(n);
    this.bid = new Float64Array(n).fill(NaN);
    this.ask = new Float64Array(n).fill(NaN);
    this.last = new Float64Array(n).fill(NaN);
    this.stale = new Uint8Array(n);
    this.pos = new Float64Array(n);
    this.pendBuy = new Float64Array(n);
    this.pendSell = new Float64Array(n);
    this.risk = risk;
    for (let i = 0; i < 256; i++) this.inflightPool.push(new Float64Array(3));
  }

  setStrategy(s: Strategy): void {
    this.strategy = s;
  }

  /** Stamp the read time of the batch about to be handled (one clock read per batch). */
  beginBatch(readTs: number): void {
    this.readTs = readTs;
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
      this.counters.staleMarks++;
    }
    if (type === RecordType.BookTicker) {
      this.bid[sym] = f64[base + BT.BID]!;
      this.ask[sym] = f64[base + BT.ASK]!;
      this.stale[sym] = 0;
    } else if (type === RecordType.AggTrade || type === RecordType.Trade) {
      this.last[sym] = ev.price;
    } else if (type === RecordType.FeedStatus) {
      this.mirror.onRecord(f64, i32, base);
    } else if (type === RecordType.Depth && (ev.flags & RecordFlag.Snapshot) === 0) {
      // A depth event may span several records: the strategy sees it once, on its last record, when the
      // mirrored book is whole again.
      if (this.mirror.onRecord(f64, i32, base) < 0) return;
    }
    this.cur.recvTs = ev.recvTs;
    this.cur.eventTime = ev.eventTime;
    this.strategy.onMarket(ev, this);
  }

  // ------------------------------------------------------------------ ring C

  onReportRecord(f64: Float64Array, i32: Int32Array, u8: Uint8Array, base: number): void {
    const r = this.rep.wrap(f64, i32, u8, base);
    this.counters.reports++;
    const id = r.intentId;
    const slot = this.inflight.get(id);
    const x = r.execType;
    if (x === ExecType.Fill) {
      this.counters.fills++;
      const sym = r.symbolId;
      this.pos[sym]! += r.side * r.lastQty;
      if (slot) {
        // The filled part moves from "in flight" to the position.
        const filled = r.lastQty < slot[2]! ? r.lastQty : slot[2]!;
        slot[2]! -= filled;
        if (slot[1] === Side.Buy) this.pendBuy[slot[0]!]! -= filled;
        else this.pendSell[slot[0]!]! -= filled;
      }
    } else if (x === ExecType.Ack) this.counters.acks++;
    else if (x === ExecType.Reject) this.counters.rejects++;
    else if (x === ExecType.Expired) this.counters.expired++;
    if (r.status === OrderStatus.Unknown) this.counters.unknown++;
    const terminal = r.status === OrderStatus.Filled || r.status === OrderStatus.Canceled || r.status === OrderStatus.Rejected || r.status === OrderStatus.Expired || r.status === OrderStatus.Unknown;
    if (slot && (terminal || slot[2]! <= 1e-12)) this.finishInflight(id, slot);
    this.strategy.onReport(r, this);
  }

  private finishInflight(id: number, slot: Float64Array): void {
    const sym = slot[0]!;
    const remaining = slot[2]! > 0 ? slot[2]! : 0;
    if (slot[1] === Side.Buy) this.pendBuy[sym]! -= remaining;
    else this.pendSell[sym]! -= remaining;
    this.inflight.delete(id);
    this.inflightPool.push(slot);
  }

  // ------------------------------------------------------------------ StrategyContext

  submit(req: OrderRequest): number {
    const sym = req.symbolId;
    const inst = this.instruments[sym]!;
    const pending = req.side === Side.Buy ? this.pendBuy[sym]! : this.pendSell[sym]!;
    const reason = this.risk.check(req, this.pos[sym]!, pending);
    if (reason !== RejectReason.None) {
      this.counters.riskRejects++;
      return -1;
    }
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
    f64[base + IN.FLAGS] = req.reduceOnly ? IntentFlag.ReduceOnly : 0;
    f64[base + IN.DECISION_PRICE] = req.side === Side.Buy ? this.ask[sym]! : this.bid[sym]!;
    f64[base + IN.STOP_PRICE_TICKS] = 0;
    f64[base + IN.READ_TS] = this.readTs;
    f64[base + IN.EVENT_TIME] = this.cur.eventTime;
    f64[base + IN.TARGET_ID] = 0;
    const pub = this.clock.now();
    f64[base + W.PUB_TS] = pub;
    w.commit();
    if (this.hists.strategy) recordNs(this.hists.strategy, pub - this.readTs);
    this.counters.intents++;
    let slot = this.inflightPool.pop();
    if (!slot) slot = new Float64Array(3);
    slot[0] = sym;
    slot[1] = req.side;
    slot[2] = req.qty;
    this.inflight.set(id, slot);
    if (req.side === Side.Buy) this.pendBuy[sym]! += req.qty;
    else this.pendSell[sym]! += req.qty;
    return id;
  }

  position(symbolId: number): number {
    return this.pos[symbolId]!;
  }
  pendingQty(symbolId: number, side: Side): number {
    return side === Side.Buy ? this.pendBuy[symbolId]! : -this.pendSell[symbolId]!;
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
