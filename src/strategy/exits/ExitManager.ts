import { ExecType, Side } from '../../ring/layout.js';
import { FLAT_EPS, isFinalReport } from '../orders.js';
import type { ExecReportView } from '../views.js';

/**
 * Why a position should be (partly) closed now. Numbers, so `onPrice` returns a small integer and never
 * boxes a result.
 */
export enum ExitReason {
  None = 0,
  StopLoss = 1,
  TrailingStop = 2,
  TakeProfit = 3,
  TimeExit = 4,
  PartialTakeProfit = 5,
}

/**
 * Exit rules, as fractions of the entry price (0.004 = 0.4%); 0 switches a rule off.
 * - `stopLoss`: close all when the price moves this far against the position.
 * - `takeProfit`: close all when the price moves this far in favour.
 * - `trailActivate` / `trailDistance`: once the best price since entry has been `trailActivate` in favour
 *   (0 = from entry), close all when the price falls back `trailDistance` (a fraction of that best price).
 * - `partialAt` / `partialFraction`: once per position, close `partialFraction` of it at `partialAt` in favour.
 * - `maxHoldMs`: close all this long (event time) after the position opened.
 */
export interface ExitConfig {
  stopLoss: number;
  takeProfit: number;
  trailActivate: number;
  trailDistance: number;
  partialAt: number;
  partialFraction: number;
  maxHoldMs: number;
}

export const NO_EXITS: Readonly<ExitConfig> = { stopLoss: 0, takeProfit: 0, trailActivate: 0, trailDistance: 0, partialAt: 0, partialFraction: 0, maxHoldMs: 0 };

/** The Gate.io tick scalper's exits (strategies.md): TP 0.8%, SL 0.4%, trail from +0.4% by 0.3%, 50% at +0.6%. */
export const GATE_SCALPER_EXITS: Readonly<ExitConfig> = { stopLoss: 0.004, takeProfit: 0.008, trailActivate: 0.004, trailDistance: 0.003, partialAt: 0.006, partialFraction: 0.5, maxHoldMs: 0 };

/** The Python Binance ML system's exits (strategies.md): SL 1%, TP 2%. */
export const ML_SYSTEM_EXITS: Readonly<ExitConfig> = { stopLoss: 0.01, takeProfit: 0.02, trailActivate: 0, trailDistance: 0, partialAt: 0, partialFraction: 0, maxHoldMs: 0 };

/**
 * Exits shared by all strategies: a small component a strategy owns, tells about its position (from fills)
 * and asks on each price event whether to close. It does no I/O and places no order: the strategy turns a
 * decision into a reduce-only order, so the exit goes through the same risk checks and ring as any order.
 *
 * Use:
 * - after each execution report, `onPosition(ctx.position(sym), fillPrice, eventTimeMs)` (or `onReport`):
 *   the position is the runner's, which already de-duplicates fills that reach us twice (response and user
 *   stream), so the manager never counts a fill twice; the fill price feeds the entry price (volume-weighted
 *   while the position grows, kept while it shrinks, reset when it flips or goes flat);
 * - on each price event, `onPrice(price, eventTimeMs)`: returns an ExitReason and sets `fraction` (of the
 *   current position to close, 1 = all) — `exitQty(step)` gives it in whole instrument steps;
 * - after a decision the manager is latched (returns None) until the strategy calls `exitFinished()` on the
 *   exit order's final report, so one breach gives one order, not one per event while it is in flight. A
 *   stop still breached after an exit that did not fill fires again on the next event.
 *
 * Order of rules on one event: stop-loss, trailing stop, take-profit, time exit (all full), then the
 * partial take-profit: a full exit makes a partial one moot.
 *
 * Exchange-side protective stops: `protectiveStopPrice()` / `protectiveTakeProfitPrice()` give the levels to
 * rest at the venue, where they protect the position while this process or its feed is down.
 * ManagedStrategy (the shared layer every strategy can turn on) keeps a close-position STOP_MARKET there.
 *
 * Allocation-free: state is numbers in fields. `onPrice` moves its arguments into fields and calls a
 * no-argument `evaluate`, so a caller that does not inline `evaluate` still passes no boxed doubles
 * (see features/index.ts on V8).
 */
export class ExitManager {
  /** signed position as last told (base units) */
  position = 0;
  /** volume-weighted entry price of the open position (NaN when flat) */
  entryPrice = NaN;
  /** event time the position opened (from flat, or flipped) */
  entryTimeMs = NaN;
  /** best price in the position's favour since entry (highest for a long, lowest for a short) */
  bestPrice = NaN;
  /** the trailing stop is armed (best price reached trailActivate) */
  trailing = false;
  /** the partial take-profit was taken for this position */
  partialTaken = false;
  /** the decision of the last non-None `onPrice` and the fraction of the position it closes */
  reason: ExitReason = ExitReason.None;
  fraction = 0;
  /** waiting for `exitFinished()` after a decision */
  pending = false;
  /** price levels for the open position (NaN when the rule is off or flat) */
  stopPrice = NaN;
  takeProfitPrice = NaN;
  partialPrice = NaN;
  /** where the trailing stop is now (NaN until armed) */
  trailPrice = NaN;

  /** onPrice arguments, passed in fields (see class comment) */
  nextPrice = 0;
  nextTimeMs = 0;
  private cfg: ExitConfig;
  private pendingQty = 0;

  constructor(cfg: Readonly<ExitConfig> = NO_EXITS) {
    this.cfg = checkConfig(cfg);
  }

  get config(): Readonly<ExitConfig> {
    return this.cfg;
  }

  /** New rules; the open position's levels are recomputed from its entry price. */
  setConfig(cfg: Readonly<ExitConfig>): void {
    this.cfg = checkConfig(cfg);
    this.levels();
    this.updateTrail();
  }

  /** 1 long, -1 short, 0 flat */
  get side(): number {
    const p = this.position;
    return p > FLAT_EPS ? 1 : p < -FLAT_EPS ? -1 : 0;
  }

  /**
   * The position is now `position` (signed, from the runner); `price` is the price of the fill that moved it.
   * Same position: nothing (a duplicate report). Growing: the entry price becomes the volume-weighted mean.
   * Shrinking: entry kept. Flat: everything reset. Flipped: a new position entered at `price`.
   */
  onPosition(position: number, price: number, eventTimeMs: number): void {
    const prev = this.position;
    const d = position - prev;
    if (d <= FLAT_EPS && d >= -FLAT_EPS) return;
    this.position = position;
    if (position <= FLAT_EPS && position >= -FLAT_EPS) {
      this.position = 0;
      this.clear();
      return;
    }
    const prevFlat = prev <= FLAT_EPS && prev >= -FLAT_EPS;
    if (prevFlat || (prev > 0) !== (position > 0)) {
      this.clear();
      this.position = position;
      this.entryPrice = price;
      this.entryTimeMs = eventTimeMs;
      this.bestPrice = price;
    } else if (position > 0 ? d > 0 : d < 0) {
      // adding to the position: weighted by size
      const a = prev < 0 ? -prev : prev;
      const b = d < 0 ? -d : d;
      this.entryPrice = (this.entryPrice * a + price * b) / (a + b);
    }
    this.levels();
    // trailActivate 0 arms the trail at entry
    this.updateTrail();
  }

  /**
   * Convenience for a strategy's onReport: on a fill, the position from the runner and the fill's price
   * (last price, else average price); on the final report of the exit order, `exitFinished()`.
   * `exitIntentId` = the strategy's exit order (or -1).
   */
  onReport(r: ExecReportView, position: number, eventTimeMs: number, exitIntentId: number): void {
    if (r.execType === ExecType.Fill) {
      let px = r.lastPrice;
      if (!(px > 0)) px = r.avgPrice;
      if (px > 0) this.onPosition(position, px, eventTimeMs);
    }
    if (exitIntentId >= 0 && r.intentId === exitIntentId && isFinalReport(r)) this.exitFinished();
  }

  /**
   * The exit order asked for by the last decision is finished (filled, canceled, rejected, expired): rules
   * are evaluated again. A partial take-profit that filled nothing may be taken again.
   */
  exitFinished(): void {
    if (!this.pending) return;
    this.pending = false;
    if (this.reason === ExitReason.PartialTakeProfit && this.position === this.pendingQty) this.partialTaken = false;
  }

  /** One price (trade, mid, mark...) at `eventTimeMs`: what to close now (see the class comment). */
  onPrice(price: number, eventTimeMs: number): ExitReason {
    this.nextPrice = price;
    this.nextTimeMs = eventTimeMs;
    return this.evaluate();
  }

  /** `onPrice` on `nextPrice` / `nextTimeMs`. */
  evaluate(): ExitReason {
    const pos = this.position;
    if (this.pending || (pos <= FLAT_EPS && pos >= -FLAT_EPS)) return ExitReason.None;
    const px = this.nextPrice;
    if (!(px > 0)) return ExitReason.None;
    const c = this.cfg;
    const long = pos > 0;
    // the best price first: the trailing stop trails it, and this event may be the new best
    if (long ? px > this.bestPrice : px < this.bestPrice) {
      this.bestPrice = px;
      this.updateTrail();
    }
    if (c.stopLoss > 0 && (long ? px <= this.stopPrice : px >= this.stopPrice)) return this.decide(ExitReason.StopLoss, 1);
    if (this.trailing && (long ? px <= this.trailPrice : px >= this.trailPrice)) return this.decide(ExitReason.TrailingStop, 1);
    if (c.takeProfit > 0 && (long ? px >= this.takeProfitPrice : px <= this.takeProfitPrice)) return this.decide(ExitReason.TakeProfit, 1);
    if (c.maxHoldMs > 0 && this.nextTimeMs - this.entryTimeMs >= c.maxHoldMs) return this.decide(ExitReason.TimeExit, 1);
    if (c.partialAt > 0 && !this.partialTaken && (long ? px >= this.partialPrice : px <= this.partialPrice)) {
      this.partialTaken = true;
      return this.decide(ExitReason.PartialTakeProfit, c.partialFraction);
    }
    return ExitReason.None;
  }

  /**
   * The decision's quantity in whole steps of `stepSize`, rounded down (never more than held); a full exit
   * is the whole position as is, so no dust is left behind.
   */
  exitQty(stepSize: number): number {
    const abs = this.position < 0 ? -this.position : this.position;
    if (this.fraction >= 1) return abs;
    const steps = Math.floor((abs * this.fraction) / stepSize + 1e-9);
    return steps * stepSize;
  }

  /** Side of the order that closes the position (Sell for a long), 0 when flat. */
  exitSide(): number {
    const s = this.side;
    return s > 0 ? Side.Sell : s < 0 ? Side.Buy : 0;
  }

  /** The venue-side stop for this position (NaN when off or flat): the tighter of the stop-loss and the trail. */
  protectiveStopPrice(): number {
    return this.trailing ? this.tighterStop() : this.stopPrice;
  }

  protectiveTakeProfitPrice(): number {
    return this.takeProfitPrice;
  }

  /** Forget the position (e.g. after a reconcile the strategy does not trust). */
  reset(): void {
    this.position = 0;
    this.clear();
  }

  private decide(reason: ExitReason, fraction: number): ExitReason {
    this.reason = reason;
    this.fraction = fraction;
    this.pending = true;
    this.pendingQty = this.position;
    return reason;
  }

  private clear(): void {
    this.entryPrice = NaN;
    this.entryTimeMs = NaN;
    this.bestPrice = NaN;
    this.trailing = false;
    this.partialTaken = false;
    this.pending = false;
    this.reason = ExitReason.None;
    this.fraction = 0;
    this.stopPrice = NaN;
    this.takeProfitPrice = NaN;
    this.partialPrice = NaN;
    this.trailPrice = NaN;
  }

  /** Fixed levels from the entry price, computed once per entry change rather than per event. */
  private levels(): void {
    const e = this.entryPrice;
    const s = this.position > 0 ? 1 : -1;
    const c = this.cfg;
    this.stopPrice = c.stopLoss > 0 && e > 0 ? e * (1 - s * c.stopLoss) : NaN;
    this.takeProfitPrice = c.takeProfit > 0 && e > 0 ? e * (1 + s * c.takeProfit) : NaN;
    this.partialPrice = c.partialAt > 0 && e > 0 ? e * (1 + s * c.partialAt) : NaN;
  }

  /** Arms the trailing stop once the best price is trailActivate in favour, and moves it with the best price. */
  private updateTrail(): void {
    const c = this.cfg;
    const e = this.entryPrice;
    const b = this.bestPrice;
    if (!(c.trailDistance > 0) || !(e > 0)) return;
    const long = this.position > 0;
    if (!this.trailing) {
      if (long ? b < e * (1 + c.trailActivate) : b > e * (1 - c.trailActivate)) return;
      this.trailing = true;
    }
    this.trailPrice = long ? b * (1 - c.trailDistance) : b * (1 + c.trailDistance);
  }

  private tighterStop(): number {
    const s = this.stopPrice;
    const t = this.trailPrice;
    if (!(s > 0)) return t;
    return this.position > 0 ? (t > s ? t : s) : t < s ? t : s;
  }
}

function checkConfig(cfg: Readonly<ExitConfig>): ExitConfig {
  const frac = (k: keyof ExitConfig, max: number): void => {
    const v = cfg[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= max)) throw new RangeError(`exits.${k} must be between 0 and ${max}; got ${String(v)}`);
  };
  frac('stopLoss', 1);
  frac('takeProfit', 10);
  frac('trailActivate', 10);
  frac('trailDistance', 1);
  frac('partialAt', 10);
  frac('partialFraction', 1);
  frac('maxHoldMs', 1e12);
  if (cfg.partialAt > 0 && !(cfg.partialFraction > 0)) throw new RangeError('exits.partialFraction must be > 0 when partialAt is set');
  return { ...cfg };
}
