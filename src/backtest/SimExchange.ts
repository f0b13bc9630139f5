import type { Instrument } from '../core/Instrument.js';
import { BookSide, type L2Book } from '../book/L2Book.js';
import {
  AT, BT, DEPTH, ExecType, IN, IntentFlag, OrderStatus, OrderType, RecordFlag, RecordType, RejectReason, Side, TimeInForce,
  depthAskMask, depthLevels, headerCount, headerFlags, headerType,
} from '../ring/layout.js';
import { PassiveBook, type RestingEntry } from '../sim/matching/PassiveBook.js';
import type { QueueModel, UniformSource } from '../sim/matching/QueueModel.js';
import type { BookTickerEvent, DepthEvent, TradeEvent } from '../sim/market/types.js';
import type { Ledger } from './Ledger.js';
import type { ReportQueue } from './ReportQueue.js';

/** Where the exchange reads the replayed market: the feed's own books (authoritative, updated on decode). */
export interface ReplayedMarket {
  /** true when the symbol's depth book is Live (else only bookTicker tops are known) */
  depthLive(sym: number): boolean;
  book(sym: number): L2Book;
}

/** Delay draws, ms (already scaled). */
export interface ExchangeDelays {
  /** Draws one request's delays into `orderMs` and `ackMs` (one call, so a round-trip draw splits within it). */
  draw(): void;
  /** request: strategy decision -> exchange acting on it */
  orderMs: number;
  /** response: exchange acting -> report at the strategy */
  ackMs: number;
  /** user-data stream: a later fill or trigger -> report at the strategy */
  user(): number;
}

export interface FeeRates {
  maker: number;
  taker: number;
}

export interface ExchangeCounters {
  orders: number;
  cancels: number;
  amends: number;
  rejects: number;
  expired: number;
  canceled: number;
  triggered: number;
  /** quantity (base) asked for by new orders, and filled */
  qtyOrdered: number;
  qtyFilled: number;
  ordersWithFill: number;
}

const enum Slot {
  Free = 0,
  Pending = 1,
  Resting = 2,
  Conditional = 3,
}

const enum Kind {
  New = 0,
  Cancel = 1,
  Amend = 2,
}

const CAPACITY = 4096;
const MAX_CONDITIONALS = 1024;

/**
 * The simulated exchange of the backtest, built from the simulator's models: orders reach it after the
 * order-path latency; market / IOC / FOK orders (and the taker part of a marketable GTC limit) walk the
 * replayed book level by level (no lasting market impact: the replay is the market); resting GTC / GTX
 * orders sit in the simulator's PassiveBook and are filled by trades at or through their price, with the
 * chosen queue-position model; stop / take-profit / trailing orders trigger on trade prices and execute as
 * market orders; amends re-queue, cancels remove. Every outcome is a ring-C record delivered back to the
 * runner after the response (or user-stream) latency. Quantities are integer steps, prices integer ticks.
 */
export class SimExchange {
  readonly counters: ExchangeCounters = { orders: 0, cancels: 0, amends: 0, rejects: 0, expired: 0, canceled: 0, triggered: 0, qtyOrdered: 0, qtyFilled: 0, ordersWithFill: 0 };
  readonly passive: PassiveBook<number>;
  /** bookTicker tops per symbol (ticks / steps; -1 = none yet) and the last trade price */
  readonly btBid: Float64Array;
  readonly btAsk: Float64Array;
  private readonly btBidQty: Float64Array;
  private readonly btAskQty: Float64Array;
  readonly lastTrade: Float64Array;
  private readonly tickUnits: Float64Array;
  private readonly tickScale: Float64Array;
  private readonly stepSize: Float64Array;

  // ---- order table (struct of arrays; slots reused) ----
  private readonly state = new Uint8Array(CAPACITY);
  private readonly kind = new Uint8Array(CAPACITY);
  private readonly id = new Float64Array(CAPACITY);
  private readonly target = new Float64Array(CAPACITY);
  private readonly sym = new Int32Array(CAPACITY);
  private readonly side = new Int8Array(CAPACITY);
  private readonly type = new Uint8Array(CAPACITY);
  private readonly tif = new Uint8Array(CAPACITY);
  private readonly flags = new Uint8Array(CAPACITY);
  private readonly priceTicks = new Float64Array(CAPACITY);
  private readonly qtySteps = new Float64Array(CAPACITY);
  private readonly filledSteps = new Float64Array(CAPACITY);
  private readonly notional = new Float64Array(CAPACITY);
  private readonly stopTicks = new Float64Array(CAPACITY);
  private readonly callbackRate = new Float64Array(CAPACITY);
  private readonly decision = new Float64Array(CAPACITY);
  /** the response delay drawn with the request */
  private readonly ackDelay = new Float64Array(CAPACITY);
  /** trailing stops: armed flag and the best price since arming */
  private readonly trailArmed = new Uint8Array(CAPACITY);
  private readonly trailExtreme = new Float64Array(CAPACITY);
  private readonly entries: Array<RestingEntry<number> | null> = new Array<RestingEntry<number> | null>(CAPACITY).fill(null);
  private readonly freeList = new Int32Array(CAPACITY);
  private freeCount = CAPACITY;
  private readonly byId = new Map<number, number>();
  /** requests on their way to the exchange: FIFO of slots with arrival times (never decreasing) */
  private readonly pendSlot = new Int32Array(CAPACITY);
  private readonly pendAt = new Float64Array(CAPACITY);
  private pendHead = 0;
  private pendCount = 0;
  private lastArrival = -Infinity;
  private readonly conditionals = new Int32Array(MAX_CONDITIONALS);
  private conditionalCount = 0;

  // ---- reusable events for the PassiveBook (no allocation per market record) ----
  private readonly tradeEv: TradeEvent = { kind: 'trade', sym: 0, id: 0, firstTradeId: 0, lastTradeId: 0, price: 0, qty: 0, buyerMaker: false, time: 0 };
  private readonly tickerEv: BookTickerEvent = { kind: 'bookTicker', sym: 0, u: 0, bid: 0, bidQty: 0, ask: 0, askQty: 0, time: 0 };
  private readonly depthEv: DepthEvent = { kind: 'depth', sym: 0, U: 0, u: 0, pu: 0, bids: [], asks: [], time: 0 };
  private depthReset = false;

  constructor(
    private readonly instruments: readonly Instrument[],
    private readonly market: ReplayedMarket,
    private readonly ledger: Ledger,
    private readonly reports: ReportQueue,
    private readonly delays: ExchangeDelays,
    private readonly fees: FeeRates,
    queue: QueueModel,
    rng: UniformSource,
  ) {
    const n = instruments.length;
    this.passive = new PassiveBook<number>(queue, rng);
    this.btBid = new Float64Array(n).fill(-1);
    this.btAsk = new Float64Array(n).fill(-1);
    this.btBidQty = new Float64Array(n);
    this.btAskQty = new Float64Array(n);
    this.lastTrade = new Float64Array(n).fill(NaN);
    this.tickUnits = Float64Array.from(instruments, (i) => i.tickUnits);
    this.tickScale = Float64Array.from(instruments, (i) => 10 ** i.priceScale);
    this.stepSize = Float64Array.from(instruments, (i) => i.stepSize);
    for (let i = 0; i < CAPACITY; i++) this.freeList[i] = CAPACITY - 1 - i;
  }

  // ------------------------------------------------------------------ prices

  /** Price of `ticks` ticks, exact to the decimal. */
  price(sym: number, ticks: number): number {
    return (ticks * this.tickUnits[sym]!) / this.tickScale[sym]!;
  }
  private ticks(sym: number, price: number): number {
    return Math.round((price * this.tickScale[sym]!) / this.tickUnits[sym]!);
  }
  private stepsOf(sym: number, qty: number): number {
    return Math.round(qty / this.stepSize[sym]!);
  }

  /** Best bid in ticks (-1 = unknown): the depth book when live, else the last bookTicker. */
  bestBid(sym: number): number {
    if (this.market.depthLive(sym)) {
      const p = this.market.book(sym).bestBid;
      return p === p ? this.ticks(sym, p) : -1;
    }
    return this.btBid[sym]!;
  }
  bestAsk(sym: number): number {
    if (this.market.depthLive(sym)) {
      const p = this.market.book(sym).bestAsk;
      return p === p ? this.ticks(sym, p) : -1;
    }
    return this.btAsk[sym]!;
  }

  /** Mid price for marking positions (last trade when no two-sided top is known). */
  mid(sym: number): number {
    const b = this.bestBid(sym);
    const a = this.bestAsk(sym);
    if (b >= 0 && a >= 0) return this.price(sym, b + a) / 2;
    return this.lastTrade[sym]!;
  }

  // ------------------------------------------------------------------ requests

  /** Arrival time of the next pending request (Infinity when none). */
  nextArrival(): number {
    return this.pendCount === 0 ? Infinity : this.pendAt[this.pendHead]!;
  }

  get pendingRequests(): number {
    return this.pendCount;
  }

  /**
   * A ring-B record the strategy wrote at `nowMs`: it reaches the exchange after the order latency (never
   * before an earlier request). A full order table rejects it at once.
   */
  submit(f64: Float64Array, i32: Int32Array, base: number, nowMs: number): void {
    const rt = headerType(i32[base * 2]!);
    const symId = i32[base * 2 + 1]!;
    const intentId = f64[base + IN.INTENT_ID]!;
    if (this.freeCount === 0 || this.pendCount === CAPACITY) {
      this.counters.rejects++;
      this.reports.push(nowMs, symId, intentId, f64[base + IN.SIDE]!, OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, RejectReason.Venue, -1015, nowMs);
      return;
    }
    const s = this.freeList[--this.freeCount]!;
    this.state[s] = Slot.Pending;
    this.kind[s] = rt === RecordType.OrderCancel ? Kind.Cancel : rt === RecordType.OrderAmend ? Kind.Amend : Kind.New;
    this.id[s] = intentId;
    this.target[s] = f64[base + IN.TARGET_ID]!;
    this.sym[s] = symId;
    this.side[s] = f64[base + IN.SIDE]!;
    this.type[s] = f64[base + IN.ORDER_TYPE]!;
    this.tif[s] = f64[base + IN.TIF]!;
    this.flags[s] = f64[base + IN.FLAGS]!;
    this.priceTicks[s] = f64[base + IN.PRICE_TICKS]!;
    this.qtySteps[s] = f64[base + IN.QTY_STEPS]!;
    this.filledSteps[s] = 0;
    this.notional[s] = 0;
    this.stopTicks[s] = f64[base + IN.STOP_PRICE_TICKS]!;
    this.callbackRate[s] = f64[base + IN.CALLBACK_RATE]!;
    this.decision[s] = f64[base + IN.DECISION_PRICE]!;
    this.trailArmed[s] = 0;
    this.trailExtreme[s] = NaN;
    this.delays.draw();
    this.ackDelay[s] = this.delays.ackMs;
    let at = nowMs + this.delays.orderMs;
    if (at < this.lastArrival) at = this.lastArrival;
    this.lastArrival = at;
    const k = (this.pendHead + this.pendCount) % CAPACITY;
    this.pendSlot[k] = s;
    this.pendAt[k] = at;
    this.pendCount++;
  }

  /** Acts on the next pending request (its arrival time is `nextArrival()`). */
  processNext(): void {
    const s = this.pendSlot[this.pendHead]!;
    const now = this.pendAt[this.pendHead]!;
    this.pendHead = (this.pendHead + 1) % CAPACITY;
    this.pendCount--;
    const k = this.kind[s]!;
    if (k === Kind.Cancel) this.onCancel(s, now);
    else if (k === Kind.Amend) this.onAmend(s, now);
    else this.onNew(s, now);
  }

  private release(s: number): void {
    if (this.kind[s] === Kind.New) this.byId.delete(this.id[s]!);
    this.state[s] = Slot.Free;
    this.entries[s] = null;
    this.freeList[this.freeCount++] = s;
  }

  private reject(s: number, now: number, code: number, reason: RejectReason = RejectReason.Venue): void {
    this.counters.rejects++;
    this.reports.push(now + this.ackDelay[s]!, this.sym[s]!, this.id[s]!, this.side[s]!, OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, reason, code, now);
    this.release(s);
  }

  /** An order's final non-fill outcome (Expired / Canceled), with what it filled. */
  private finish(s: number, dueMs: number, now: number, status: OrderStatus, x: ExecType): void {
    const sym = this.sym[s]!;
    const filled = this.filledSteps[s]!;
    const cum = this.ledger.qty(sym, filled);
    if (status === OrderStatus.Expired) this.counters.expired++;
    else this.counters.canceled++;
    this.reports.push(dueMs, sym, this.id[s]!, this.side[s]!, status, x, 0, 0, cum, filled > 0 ? this.notional[s]! / cum : 0, 0, 0, RejectReason.None, 0, now);
    this.release(s);
  }

  private onNew(s: number, now: number): void {
    const c = this.counters;
    c.orders++;
    const sym = this.sym[s]!;
    const t = this.type[s]!;
    const side = this.side[s]!;
    this.byId.set(this.id[s]!, s);
    const reduceOnly = (this.flags[s]! & IntentFlag.ReduceOnly) !== 0;
    if (t === OrderType.StopMarket || t === OrderType.TakeProfitMarket || t === OrderType.TrailingStopMarket) {
      if (this.conditionalCount === MAX_CONDITIONALS) return this.reject(s, now, -4045);
      this.state[s] = Slot.Conditional;
      this.conditionals[this.conditionalCount++] = s;
      if (t === OrderType.TrailingStopMarket) this.armTrailing(s, sym);
      this.reports.push(now + this.ackDelay[s]!, sym, this.id[s]!, side, OrderStatus.New, ExecType.Ack, 0, 0, 0, 0, 0, 0, RejectReason.None, 0, now);
      return;
    }
    let qty = this.qtySteps[s]!;
    if (reduceOnly) {
      const reducible = this.reducible(sym, side);
      if (reducible <= 0) return this.reject(s, now, -2022);
      if (qty > reducible) this.qtySteps[s] = qty = reducible;
    }
    c.qtyOrdered += this.ledger.qty(sym, qty);
    const ackAt = now + this.ackDelay[s]!;
    if (t === OrderType.Market) {
      this.take(s, now, ackAt, -1, qty);
      if (this.state[s] !== Slot.Free) this.finish(s, ackAt, now, OrderStatus.Expired, ExecType.Expired);
      return;
    }
    const limit = this.priceTicks[s]!;
    const tif = this.tif[s]!;
    const opp = side === Side.Buy ? this.bestAsk(sym) : this.bestBid(sym);
    const crosses = opp >= 0 && (side === Side.Buy ? limit >= opp : limit <= opp);
    if (tif === TimeInForce.Gtx && crosses) return this.finish(s, ackAt, now, OrderStatus.Expired, ExecType.Expired);
    if (tif === TimeInForce.Fok && this.available(sym, side, limit, qty) < qty) return this.finish(s, ackAt, now, OrderStatus.Expired, ExecType.Expired);
    if (crosses) this.take(s, now, ackAt, limit, qty);
    if (this.state[s] === Slot.Free) return;
    if (tif === TimeInForce.Ioc || tif === TimeInForce.Fok) return this.finish(s, ackAt, now, OrderStatus.Expired, ExecType.Expired);
    // rests: behind what the level holds now, as the queue model says
    const rem = qty - this.filledSteps[s]!;
    this.entries[s] = this.passive.add(sym, side === Side.Buy ? 'BUY' : 'SELL', limit, rem, this.levelSteps(sym, side, limit), s);
    this.state[s] = Slot.Resting;
    if (this.filledSteps[s] === 0) this.reports.push(ackAt, sym, this.id[s]!, side, OrderStatus.New, ExecType.Ack, 0, 0, 0, 0, 0, 0, RejectReason.None, 0, now);
  }

  private onCancel(s: number, now: number): void {
    this.counters.cancels++;
    const t = this.byId.get(this.target[s]!);
    if (t === undefined || (this.state[t] !== Slot.Resting && this.state[t] !== Slot.Conditional)) return this.reject(s, now, -2011);
    if (this.state[t] === Slot.Resting) this.passive.remove(this.entries[t]!);
    else this.dropConditional(t);
    const due = now + this.ackDelay[s]!;
    this.release(s);
    this.finish(t, due, now, OrderStatus.Canceled, ExecType.Canceled);
  }

  private onAmend(s: number, now: number): void {
    this.counters.amends++;
    const t = this.byId.get(this.target[s]!);
    if (t === undefined || this.state[t] !== Slot.Resting) return this.reject(s, now, -2013);
    const sym = this.sym[t]!;
    const side = this.side[t]!;
    const newPrice = this.priceTicks[s]!;
    const newQty = this.qtySteps[s]!;
    const filled = this.filledSteps[t]!;
    if (!(newQty > filled)) return this.reject(s, now, -4028);
    const opp = side === Side.Buy ? this.bestAsk(sym) : this.bestBid(sym);
    // a re-priced order that would take liquidity is refused (the strategy's quotes are post-only)
    if (opp >= 0 && (side === Side.Buy ? newPrice >= opp : newPrice <= opp)) return this.reject(s, now, -5022);
    this.priceTicks[t] = newPrice;
    this.qtySteps[t] = newQty;
    this.entries[t] = this.passive.requeue(this.entries[t]!, newPrice, newQty - filled, this.levelSteps(sym, side, newPrice));
    const cum = this.ledger.qty(sym, filled);
    this.reports.push(now + this.ackDelay[s]!, sym, this.id[t]!, side, filled > 0 ? OrderStatus.PartiallyFilled : OrderStatus.New, ExecType.Ack, 0, 0, cum, filled > 0 ? this.notional[t]! / cum : 0, 0, 0, RejectReason.None, 0, now);
    this.release(s);
  }

  // ------------------------------------------------------------------ taking liquidity

  /** Steps that could be taken now up to `limit` ticks (-1 = none), at most `want`. */
  private available(sym: number, side: number, limit: number, want: number): number {
    if (!this.market.depthLive(sym)) {
      const top = side === Side.Buy ? this.btAsk[sym]! : this.btBid[sym]!;
      if (top < 0) return 0;
      return limit < 0 || (side === Side.Buy ? top <= limit : top >= limit) ? want : 0;
    }
    const book = this.market.book(sym);
    const n = side === Side.Buy ? book.askLevels : book.bidLevels;
    let got = 0;
    for (let i = 0; i < n && got < want; i++) {
      const px = this.ticks(sym, side === Side.Buy ? book.askPrice(i) : book.bidPrice(i));
      if (limit >= 0 && (side === Side.Buy ? px > limit : px < limit)) break;
      got += this.stepsOf(sym, side === Side.Buy ? book.askQty(i) : book.bidQty(i));
    }
    return got;
  }

  /**
   * Walks the opposite side up to `limit` (-1 = none) for `want` steps: one fill report per level. Without a
   * live depth book the bookTicker top is the only price known: the whole quantity fills there.
   */
  private take(s: number, now: number, dueMs: number, limit: number, want: number): void {
    const sym = this.sym[s]!;
    const side = this.side[s]!;
    let left = want - this.filledSteps[s]!;
    if (!this.market.depthLive(sym)) {
      const top = side === Side.Buy ? this.btAsk[sym]! : this.btBid[sym]!;
      if (top >= 0 && (limit < 0 || (side === Side.Buy ? top <= limit : top >= limit))) this.fillOrder(s, left, top, false, now, dueMs);
      return;
    }
    const book = this.market.book(sym);
    const n = side === Side.Buy ? book.askLevels : book.bidLevels;
    for (let i = 0; i < n && left > 0; i++) {
      const px = this.ticks(sym, side === Side.Buy ? book.askPrice(i) : book.bidPrice(i));
      if (limit >= 0 && (side === Side.Buy ? px > limit : px < limit)) break;
      const q = this.stepsOf(sym, side === Side.Buy ? book.askQty(i) : book.bidQty(i));
      const f = q < left ? q : left;
      if (f <= 0) continue;
      left -= f;
      this.fillOrder(s, f, px, false, now, dueMs);
    }
  }

  /** Books `steps` of order slot `s` at `ticks`, writes the fill report, frees the slot when complete. */
  private fillOrder(s: number, steps: number, ticks: number, maker: boolean, now: number, dueMs: number): void {
    const sym = this.sym[s]!;
    const side = this.side[s]!;
    const px = this.price(sym, ticks);
    if (this.filledSteps[s] === 0) this.counters.ordersWithFill++;
    this.filledSteps[s]! += steps;
    const q = this.ledger.qty(sym, steps);
    this.notional[s]! += px * q;
    this.counters.qtyFilled += q;
    this.ledger.fill(now, sym, this.id[s]!, side, steps, px, maker ? this.fees.maker : this.fees.taker, maker, this.decision[s]!, this.type[s]!);
    const fee = px * q * (maker ? this.fees.maker : this.fees.taker);
    const filled = this.filledSteps[s]!;
    const done = filled >= this.qtySteps[s]!;
    const cum = this.ledger.qty(sym, filled);
    this.reports.push(dueMs, sym, this.id[s]!, side, done ? OrderStatus.Filled : OrderStatus.PartiallyFilled, ExecType.Fill, q, px, cum, this.notional[s]! / cum, fee, maker ? 1 : 0, RejectReason.None, 0, now);
    if (done) this.release(s);
  }

  /** Steps of the position a reduce-only order on `side` can close. */
  private reducible(sym: number, side: number): number {
    const p = this.ledger.posSteps[sym]!;
    return side === Side.Sell ? (p > 0 ? p : 0) : p < 0 ? -p : 0;
  }

  /** Market quantity (steps) at `ticks` on the order's own side now. */
  private levelSteps(sym: number, side: number, ticks: number): number {
    if (this.market.depthLive(sym)) {
      const px = this.price(sym, ticks);
      const book = this.market.book(sym);
      return this.stepsOf(sym, side === Side.Buy ? book.qtyAt(BookSide.Bid, px) : book.qtyAt(BookSide.Ask, px));
    }
    if (side === Side.Buy) return this.btBid[sym] === ticks ? this.btBidQty[sym]! : 0;
    return this.btAsk[sym] === ticks ? this.btAskQty[sym]! : 0;
  }

  // ------------------------------------------------------------------ conditional orders

  private armTrailing(s: number, sym: number): void {
    const act = this.stopTicks[s]!;
    if (act > 0) return; // armed when the price reaches the activation price
    this.trailArmed[s] = 1;
    this.trailExtreme[s] = this.lastTrade[sym]!;
  }

  private dropConditional(s: number): void {
    const list = this.conditionals;
    for (let i = 0; i < this.conditionalCount; i++) {
      if (list[i] === s) {
        list[i] = list[--this.conditionalCount]!;
        return;
      }
    }
  }

  /** Trade price `px` of `sym`: conditional orders whose trigger it reaches execute as market orders. */
  private checkTriggers(sym: number, px: number, now: number): void {
    const list = this.conditionals;
    for (let i = 0; i < this.conditionalCount; ) {
      const s = list[i]!;
      if (this.sym[s] !== sym || !this.triggered(s, sym, px)) {
        i++;
        continue;
      }
      list[i] = list[--this.conditionalCount]!;
      this.fire(s, now);
    }
  }

  private triggered(s: number, sym: number, px: number): boolean {
    const t = this.type[s]!;
    const buy = this.side[s] === Side.Buy;
    if (t === OrderType.TrailingStopMarket) {
      if (this.trailArmed[s] === 0) {
        const act = this.price(sym, this.stopTicks[s]!);
        if (buy ? px > act : px < act) return false;
        this.trailArmed[s] = 1;
        this.trailExtreme[s] = px;
      }
      const ext = this.trailExtreme[s]!;
      if (!(ext === ext) || (buy ? px < ext : px > ext)) this.trailExtreme[s] = px;
      const cb = this.callbackRate[s]! / 100;
      const e = this.trailExtreme[s]!;
      return buy ? px >= e * (1 + cb) : px <= e * (1 - cb);
    }
    const stop = this.price(sym, this.stopTicks[s]!);
    // stop: a buy triggers at or above, a sell at or below; take-profit the other way round
    if (t === OrderType.StopMarket) return buy ? px >= stop : px <= stop;
    return buy ? px <= stop : px >= stop;
  }

  private fire(s: number, now: number): void {
    this.counters.triggered++;
    const sym = this.sym[s]!;
    const side = this.side[s]!;
    const reducible = this.reducible(sym, side);
    const qty = (this.flags[s]! & IntentFlag.ClosePosition) !== 0 ? reducible : Math.min(this.qtySteps[s]!, reducible);
    const due = now + this.delays.user();
    if (qty <= 0) return this.finish(s, due, now, OrderStatus.Expired, ExecType.Expired);
    this.qtySteps[s] = qty;
    this.counters.qtyOrdered += this.ledger.qty(sym, qty);
    this.take(s, now, due, -1, qty);
    if (this.state[s] !== Slot.Free) this.finish(s, due, now, OrderStatus.Expired, ExecType.Expired);
  }

  // ------------------------------------------------------------------ market records (exchange side)

  /**
   * One ring-A record as the exchange sees it, at `now` (before the strategy does): tops, last trade,
   * triggers, and the resting orders' queue positions and fills.
   */
  onMarketRecord(f64: Float64Array, i32: Int32Array, base: number, now: number): void {
    const h = i32[base * 2]!;
    const type = headerType(h);
    const sym = i32[base * 2 + 1]!;
    if (sym < 0 || sym >= this.instruments.length) return;
    if (type === RecordType.AggTrade || type === RecordType.Trade) {
      const px = f64[base + AT.PRICE]!;
      this.lastTrade[sym] = px;
      if (this.conditionalCount > 0) this.checkTriggers(sym, px, now);
      if (this.passive.count(sym) === 0) return;
      const ev = this.tradeEv;
      ev.sym = sym;
      ev.price = this.ticks(sym, px);
      ev.qty = this.stepsOf(sym, f64[base + AT.QTY]!);
      ev.buyerMaker = f64[base + AT.BUYER_MAKER] === 1;
      ev.time = f64[base + AT.EVENT_TIME]!;
      this.applyPassive(ev, sym, now);
    } else if (type === RecordType.BookTicker) {
      const bid = f64[base + BT.BID]!;
      const ask = f64[base + BT.ASK]!;
      this.btBid[sym] = bid > 0 ? this.ticks(sym, bid) : -1;
      this.btAsk[sym] = ask > 0 ? this.ticks(sym, ask) : -1;
      this.btBidQty[sym] = this.stepsOf(sym, f64[base + BT.BID_QTY]!);
      this.btAskQty[sym] = this.stepsOf(sym, f64[base + BT.ASK_QTY]!);
      if (this.passive.count(sym) === 0) return;
      const ev = this.tickerEv;
      ev.sym = sym;
      ev.bid = this.btBid[sym]!;
      ev.ask = this.btAsk[sym]!;
      ev.bidQty = this.btBidQty[sym]!;
      ev.askQty = this.btAskQty[sym]!;
      this.applyPassive(ev, sym, now);
    } else if (type === RecordType.Depth && (headerFlags(h) & RecordFlag.Snapshot) === 0) {
      const flags = headerFlags(h);
      const ev = this.depthEv;
      if ((flags & RecordFlag.First) !== 0) {
        ev.bids.length = 0;
        ev.asks.length = 0;
        ev.sym = sym;
        this.depthReset = (flags & RecordFlag.Reset) !== 0;
      }
      if (this.passive.count(sym) === 0) return;
      if (!this.depthReset) {
        const count = headerCount(h);
        const n = depthLevels(count);
        const mask = depthAskMask(count);
        for (let j = 0; j < n; j++) {
          const w = base + DEPTH.LEVELS + 2 * j;
          const out = (mask & (1 << j)) !== 0 ? ev.asks : ev.bids;
          out.push(this.ticks(sym, f64[w]!), this.stepsOf(sym, f64[w + 1]!));
        }
      }
      if ((flags & RecordFlag.Last) !== 0) this.applyPassive(ev, sym, now);
    }
  }

  private applyPassive(ev: TradeEvent | BookTickerEvent | DepthEvent, sym: number, now: number): void {
    const n = this.passive.apply(ev, this.bestBid(sym), this.bestAsk(sym));
    if (n === 0) return;
    const due = now + this.delays.user();
    for (let i = 0; i < n; i++) {
      const f = this.passive.fill(i);
      const s = f.entry.ref;
      this.fillOrder(s, f.qty, f.entry.price, true, now, due);
    }
  }

  /** Orders resting or waiting for a trigger (for the end-of-run summary). */
  openOrders(): number {
    return this.passive.size + this.conditionalCount;
  }
}
