import { OrderType, RejectReason, Side } from '../ring/layout.js';
import type { OrderRequest } from '../strategy/Strategy.js';
import { EventWindow } from './EventWindow.js';
import type { RiskConfig } from './RiskConfig.js';
import type { RiskInputs } from './RiskInputs.js';

/**
 * ACTIVE: every rule applies. REDUCE_ONLY: only orders flagged reduceOnly that reduce the position pass.
 * HALTED: no new order passes; cancels always do (`checkCancel`).
 */
export const enum TradingState {
  Active = 0,
  ReduceOnly = 1,
  Halted = 2,
}
export const TRADING_STATE_NAMES: readonly string[] = ['ACTIVE', 'REDUCE_ONLY', 'HALTED'];

const DAY_MS = 86_400_000;
/** quantities closer than this are equal (float residue of step arithmetic) */
const QTY_EPS = 1e-12;
const BPS = 1e-4;
/** counters are indexed by RejectReason; every risk reason is below this */
const REASON_SLOTS = 128;

/** Names of the reasons the risk engine gives, for `rejectCounts()`. */
const REASON_NAMES: ReadonlyArray<readonly [RejectReason, string]> = [
  [RejectReason.MaxOrderQty, 'maxOrderQty'],
  [RejectReason.MaxOrderNotional, 'maxOrderNotional'],
  [RejectReason.MaxPosition, 'maxPositionQty'],
  [RejectReason.MaxPositionNotional, 'maxPositionNotional'],
  [RejectReason.MaxTotalNotional, 'maxTotalNotional'],
  [RejectReason.DuplicatePosition, 'duplicatePosition'],
  [RejectReason.MaxOpenOrders, 'maxOpenOrders'],
  [RejectReason.OrderRatePerSecond, 'orderRatePerSecond'],
  [RejectReason.OrderRatePer10s, 'orderRatePer10s'],
  [RejectReason.OrderRatePerMinute, 'orderRatePerMinute'],
  [RejectReason.PriceBand, 'priceBand'],
  [RejectReason.MinSpread, 'minSpread'],
  [RejectReason.MaxSlippage, 'maxSlippage'],
  [RejectReason.NotReady, 'bookNotLive'],
  [RejectReason.VenueLatency, 'venueLatency'],
  [RejectReason.DailyLoss, 'dailyLoss'],
  [RejectReason.MaxDrawdown, 'maxDrawdown'],
  [RejectReason.MaxRealizedLoss, 'maxRealizedLoss'],
  [RejectReason.TargetProfit, 'targetProfit'],
  [RejectReason.CapitalFloor, 'capitalFloor'],
  [RejectReason.LossStreakPause, 'lossStreak'],
  [RejectReason.MaxLossesPerDay, 'maxLossesPerDay'],
  [RejectReason.MinTradeInterval, 'minTradeInterval'],
  [RejectReason.MaxTradesPerMinute, 'maxTradesPerMinute'],
  [RejectReason.MaxTradesPerDay, 'maxTradesPerDay'],
  [RejectReason.MaxLeverage, 'maxLeverage'],
  [RejectReason.MaxOrderMargin, 'maxOrderMargin'],
  [RejectReason.CapitalUsage, 'capitalUsage'],
  [RejectReason.ReduceOnlyState, 'reduceOnlyState'],
  [RejectReason.Halted, 'halted'],
];

/**
 * Pre-trade risk: one `check` per order intent, a few dozen comparisons over preallocated state, no
 * allocation. Pure: its clock is `inputs.eventTimeMs`, so a replay makes the same decisions.
 *
 * Which orders each rule sees. An order is *reducing* when it is opposite the position and, with the
 * orders already in flight on its side, no larger than it (it cannot flip the position); every other
 * order is an *entry*.
 * - every new order: the trading state, max order qty / notional, book live, venue latency, price band,
 *   max slippage, max open orders, the order-rate windows;
 * - entries only (exits must stay possible): min spread, positions and notionals, duplicate position,
 *   leverage, margin and capital usage, the loss-streak pause, the trade-pacing rules (min interval,
 *   trades per minute and per day); in REDUCE_ONLY every entry is refused.
 * A passing order counts in the order-rate windows, and an entry in the trade-pacing rules, at once: call
 * `check` only for an order that will be sent (a ring-full refusal after it is counted conservatively).
 *
 * Automatic state changes (evaluated at each check and at `update`, on the inputs' equity and realised PnL,
 * and at `onRoundTrip`):
 * | breach | new state | lifted |
 * |---|---|---|
 * | equity < minCapitalFraction x initial capital | HALTED | by an operator (`setState`) |
 * | drawdown from the equity peak >= maxDrawdownFraction | HALTED | by an operator |
 * | the day's loss >= dailyLossLimit or dailyLossFraction x the day's starting equity | REDUCE_ONLY | at the next UTC day, or by an operator |
 * | losing round trips today >= maxLossesPerDay | REDUCE_ONLY | at the next UTC day, or by an operator |
 * | session realised loss >= maxRealizedLoss | REDUCE_ONLY | by an operator |
 * | session realised profit >= targetProfit | REDUCE_ONLY (keep the profit: exits only) | by an operator |
 * | maxConsecutiveLosses losing round trips in a row, lossPauseMs = 0 | REDUCE_ONLY | by an operator |
 * | the same with lossPauseMs > 0 | entries refused for lossPauseMs (state unchanged) | when the pause ends |
 * HALTED is for "something is badly wrong": even exits wait for an operator (who can switch to REDUCE_ONLY
 * to flatten). An automatic change never moves to a less restrictive state. A refusal by an automatic
 * state carries the breached rule's reason (and counter); a manual REDUCE_ONLY refuses with
 * ReduceOnlyState, HALTED always with Halted. Resuming to ACTIVE re-bases the PnL rules on the current
 * equity and realised PnL (peak, day start), so a resume is not undone by the breach that caused it.
 */
export class RiskEngine {
  // config, flattened into fields (monomorphic reads on the hot path)
  private maxOrderQty = 0;
  private maxOrderNotional = 0;
  private maxPositionQty = 0;
  private maxPositionNotional = 0;
  private maxTotalNotional = 0;
  private noDuplicatePosition = false;
  private maxOpenOrders = 0;
  private maxOpenOrdersPerSymbol = 0;
  private priceBandBps = 0;
  private minSpreadBps = 0;
  private maxSlippageBps = 0;
  private requireLiveBook = false;
  private maxVenueLatencyMs = 0;
  private dailyLossLimit = 0;
  private dailyLossFraction = 0;
  private maxDrawdownFraction = 0;
  private maxRealizedLoss = 0;
  private targetProfit = 0;
  private minCapitalFraction = 0;
  private maxConsecutiveLosses = 0;
  private lossPauseMs = 0;
  private maxLossesPerDay = 0;
  private minTradeIntervalMs = 0;
  private maxTradesPerDay = 0;
  private leverage = 1;
  private maxLeverage = 0;
  private maxOrderMarginFraction = 0;
  private maxCapitalUsage = 0;
  /** leverage, margin or capital-usage rules on: gross exposure is summed */
  private needGross = false;
  // scratch doubles of the order being checked (fields, not arguments or return values: no boxing)
  private orderPx = 0.5;
  private orderMid = 0.5;
  private otherGross = 0.5;

  private readonly orders1s = new EventWindow(0, 1_000);
  private readonly orders10s = new EventWindow(0, 10_000);
  private readonly orders60s = new EventWindow(0, 60_000);
  private readonly trades60s = new EventWindow(0, 60_000);

  private stateValue: TradingState = TradingState.Active;
  /** the rule that set the state automatically; None = an operator (or the initial ACTIVE) */
  private cause: RejectReason = RejectReason.None;

  // PnL baselines
  private day = NaN;
  private dayStartEquity = NaN;
  private startEquity = NaN;
  private peakEquity = NaN;
  private realizedBase = 0;
  private lastEquity = NaN;
  private lastRealized = 0;
  private lastTimeMs = 0;

  // round trips and trades
  private consecutiveLossCount = 0;
  private lossesTodayCount = 0;
  private pausedUntil = -Infinity;
  private lastTradeMs = -Infinity;
  private tradesTodayCount = 0;

  /** reject counts indexed by RejectReason */
  readonly rejectsByReason = new Float64Array(REASON_SLOTS);
  checks = 0;
  passes = 0;
  stateChanges = 0;
  pauses = 0;

  /** Called on each state change (off the hot path: state changes are rare). */
  onStateChange: ((state: TradingState, cause: RejectReason, eventTimeMs: number) => void) | undefined = undefined;

  constructor(cfg: RiskConfig) {
    this.configure(cfg);
  }

  /** Applies a (validated) config; rate windows restart empty when their limit changes. */
  configure(c: RiskConfig): void {
    this.maxOrderQty = c.maxOrderQty;
    this.maxOrderNotional = c.maxOrderNotional;
    this.maxPositionQty = c.maxPositionQty;
    this.maxPositionNotional = c.maxPositionNotional;
    this.maxTotalNotional = c.maxTotalNotional;
    this.noDuplicatePosition = c.noDuplicatePosition;
    this.maxOpenOrders = c.maxOpenOrders;
    this.maxOpenOrdersPerSymbol = c.maxOpenOrdersPerSymbol;
    this.priceBandBps = c.priceBandBps;
    this.minSpreadBps = c.minSpreadBps;
    this.maxSlippageBps = c.maxSlippageBps;
    this.requireLiveBook = c.requireLiveBook;
    this.maxVenueLatencyMs = c.maxVenueLatencyMs;
    this.dailyLossLimit = c.dailyLossLimit;
    this.dailyLossFraction = c.dailyLossFraction;
    this.maxDrawdownFraction = c.maxDrawdownFraction;
    this.maxRealizedLoss = c.maxRealizedLoss;
    this.targetProfit = c.targetProfit;
    this.minCapitalFraction = c.minCapitalFraction;
    this.maxConsecutiveLosses = c.maxConsecutiveLosses;
    this.lossPauseMs = c.lossPauseMs;
    this.maxLossesPerDay = c.maxLossesPerDay;
    this.minTradeIntervalMs = c.minTradeIntervalMs;
    this.maxTradesPerDay = c.maxTradesPerDay;
    this.leverage = c.leverage >= 1 ? c.leverage : 1;
    this.maxLeverage = c.maxLeverage;
    this.maxOrderMarginFraction = c.maxOrderMarginFraction;
    this.maxCapitalUsage = c.maxCapitalUsage;
    this.needGross = c.maxTotalNotional > 0 || c.maxLeverage > 0 || c.maxCapitalUsage > 0;
    resize(this.orders1s, c.maxOrdersPerSecond);
    resize(this.orders10s, c.maxOrdersPer10s);
    resize(this.orders60s, c.maxOrdersPerMinute);
    resize(this.trades60s, c.maxTradesPerMinute);
    if (c.initialCapital > 0) this.startEquity = c.initialCapital;
  }

  get state(): TradingState {
    return this.stateValue;
  }
  /** The rule behind an automatic state (RejectReason.None after a manual change). */
  get stateCause(): RejectReason {
    return this.cause;
  }
  get consecutiveLosses(): number {
    return this.consecutiveLossCount;
  }
  get lossesToday(): number {
    return this.lossesTodayCount;
  }
  get tradesToday(): number {
    return this.tradesTodayCount;
  }
  /** event time (ms) until which entries are paused after a losing streak (-Infinity = none) */
  get pausedUntilMs(): number {
    return this.pausedUntil;
  }

  /**
   * Operator transition. Resuming to ACTIVE re-bases the PnL rules on the last seen equity and realised
   * PnL and clears the losing streak and any pause.
   */
  setState(state: TradingState, eventTimeMs = this.lastTimeMs): void {
    if (state === TradingState.Active) {
      this.peakEquity = this.lastEquity;
      this.dayStartEquity = this.lastEquity;
      this.realizedBase = this.lastRealized;
      this.consecutiveLossCount = 0;
      this.lossesTodayCount = 0;
      this.pausedUntil = -Infinity;
    }
    this.transition(state, RejectReason.None, eventTimeMs);
  }

  /** Cancels pass in every state. */
  checkCancel(): RejectReason {
    return RejectReason.None;
  }

  /**
   * Re-evaluates the PnL and capital rules on new inputs (call on fills and mark updates, or on a timer, so
   * a breach changes the state even when no order is being checked).
   */
  update(inp: RiskInputs): void {
    this.evaluate(inp);
  }

  /**
   * A round trip closed (the position went back to flat or through zero) with this PnL, net of fees and
   * funding (Portfolio.onFill's result and lastRoundTripPnl). Drives the losing-streak rules.
   */
  /** `onRoundTrip(p.lastRoundTripPnl, clock.eventTimeMs)` with object arguments: no double is boxed at the call. */
  onRoundTripOf(p: { readonly lastRoundTripPnl: number }, clock: { readonly eventTimeMs: number }): void {
    this.onRoundTrip(p.lastRoundTripPnl, clock.eventTimeMs);
  }

  onRoundTrip(pnl: number, eventTimeMs: number): void {
    this.rollDay(eventTimeMs, this.lastEquity);
    if (!(pnl < 0)) {
      this.consecutiveLossCount = 0;
      return;
    }
    this.consecutiveLossCount++;
    this.lossesTodayCount++;
    const n = this.maxConsecutiveLosses;
    if (n > 0 && this.consecutiveLossCount >= n) {
      if (this.lossPauseMs > 0) {
        this.pausedUntil = eventTimeMs + this.lossPauseMs;
        this.consecutiveLossCount = 0;
        this.pauses++;
      } else this.restrict(TradingState.ReduceOnly, RejectReason.LossStreakPause, eventTimeMs);
    }
    if (this.maxLossesPerDay > 0 && this.lossesTodayCount >= this.maxLossesPerDay) this.restrict(TradingState.ReduceOnly, RejectReason.MaxLossesPerDay, eventTimeMs);
  }

  /** RejectReason.None if the order may be sent, else the first rule it breaks (counted). */
  check(req: OrderRequest, symbolId: number, inp: RiskInputs): RejectReason {
    this.checks++;
    this.evaluate(inp);
    const state = this.stateValue;
    if (state === TradingState.Halted) return this.reject(RejectReason.Halted);

    const qty = req.qty;
    const side = req.side;
    if (!(qty > 0) || (this.maxOrderQty > 0 && qty > this.maxOrderQty + QTY_EPS)) return this.reject(RejectReason.MaxOrderQty);

    const pos = inp.position[symbolId]!;
    const pendBuy = inp.pendingBuy[symbolId]!;
    const pendSell = inp.pendingSell[symbolId]!;
    const pendSame = side === Side.Buy ? pendBuy : pendSell;
    const absPos = pos < 0 ? -pos : pos;
    const reducing = pos * side < 0 && qty + pendSame <= absPos + QTY_EPS;
    if (state === TradingState.ReduceOnly && !(reducing && req.reduceOnly)) {
      return this.reject(this.cause === RejectReason.None ? RejectReason.ReduceOnlyState : this.cause);
    }

    // venue and market state: every order
    if (this.requireLiveBook && inp.bookLive[symbolId] !== 1) return this.reject(RejectReason.NotReady);
    if (this.maxVenueLatencyMs > 0 && inp.venueLatencyMs > this.maxVenueLatencyMs) return this.reject(RejectReason.VenueLatency);
    const bid = inp.bid[symbolId]!;
    const ask = inp.ask[symbolId]!;
    const mid = (bid + ask) * 0.5;
    const isLimit = req.type === OrderType.Limit;
    // the price the order is expected to execute at: its limit, or the touch it takes
    const px = isLimit ? req.price : side === Side.Buy ? ask : bid;
    if (this.priceBandBps > 0 && isLimit) {
      const dev = px - mid;
      if (!((dev < 0 ? -dev : dev) <= mid * this.priceBandBps * BPS)) return this.reject(RejectReason.PriceBand);
    }
    if (this.maxSlippageBps > 0) {
      const d = inp.decisionPrice;
      const ref = d > 0 ? d : mid;
      if (!(side * (px - ref) <= ref * this.maxSlippageBps * BPS)) return this.reject(RejectReason.MaxSlippage);
    }
    if (this.maxOrderNotional > 0 && !(qty * px <= this.maxOrderNotional)) return this.reject(RejectReason.MaxOrderNotional);
    if (this.maxOpenOrdersPerSymbol > 0 && inp.openOrders[symbolId]! >= this.maxOpenOrdersPerSymbol) return this.reject(RejectReason.MaxOpenOrders);
    if (this.maxOpenOrders > 0) {
      const open = inp.openOrders;
      let total = 0;
      for (let i = 0; i < open.length; i++) total += open[i]!;
      if (total >= this.maxOpenOrders) return this.reject(RejectReason.MaxOpenOrders);
    }
    if (this.orders1s.full(inp)) return this.reject(RejectReason.OrderRatePerSecond);
    if (this.orders10s.full(inp)) return this.reject(RejectReason.OrderRatePer10s);
    if (this.orders60s.full(inp)) return this.reject(RejectReason.OrderRatePerMinute);

    if (!reducing) {
      this.orderPx = px;
      this.orderMid = mid;
      const r = this.checkEntry(req, symbolId, inp);
      if (r !== RejectReason.None) return this.reject(r);
      this.trades60s.record(inp);
      this.lastTradeMs = inp.eventTimeMs;
      this.tradesTodayCount++;
    }
    this.orders1s.record(inp);
    this.orders10s.record(inp);
    this.orders60s.record(inp);
    this.passes++;
    return RejectReason.None;
  }

  /** The entry-only rules. Doubles travel in fields (orderPx, orderMid), not arguments: see EventWindow.full. */
  private checkEntry(req: OrderRequest, sym: number, inp: RiskInputs): RejectReason {
    const t = inp.eventTimeMs;
    const qty = req.qty;
    const side = req.side;
    const px = this.orderPx;
    const mid = this.orderMid;
    const pos = inp.position[sym]!;
    const pendBuy = inp.pendingBuy[sym]!;
    const pendSell = inp.pendingSell[sym]!;
    const pendSame = side === Side.Buy ? pendBuy : pendSell;
    if (t < this.pausedUntil) return RejectReason.LossStreakPause;
    if (this.minSpreadBps > 0 && !(inp.ask[sym]! - inp.bid[sym]! >= mid * this.minSpreadBps * BPS)) return RejectReason.MinSpread;
    if (this.noDuplicatePosition && (pos * side > QTY_EPS || (pos === 0 && pendSame > QTY_EPS))) return RejectReason.DuplicatePosition;
    // worst case of the position once every order in flight and this one fill
    const longest = pos + pendBuy + (side === Side.Buy ? qty : 0);
    const shortest = pos - pendSell - (side === Side.Sell ? qty : 0);
    const worst = longest > -shortest ? longest : -shortest;
    if (this.maxPositionQty > 0 && worst > this.maxPositionQty + QTY_EPS) return RejectReason.MaxPosition;
    const valuePx = mid === mid ? mid : px;
    if (this.maxPositionNotional > 0 && !(worst * valuePx <= this.maxPositionNotional)) return RejectReason.MaxPositionNotional;
    if (this.minTradeIntervalMs > 0 && t - this.lastTradeMs < this.minTradeIntervalMs) return RejectReason.MinTradeInterval;
    if (this.trades60s.full(inp)) return RejectReason.MaxTradesPerMinute;
    if (this.maxTradesPerDay > 0 && this.tradesTodayCount >= this.maxTradesPerDay) return RejectReason.MaxTradesPerDay;
    const equity = inp.equity;
    if (this.maxOrderMarginFraction > 0 && !((qty * px) / this.leverage <= equity * this.maxOrderMarginFraction)) return RejectReason.MaxOrderMargin;
    if (this.needGross) {
      this.sumOtherGross(inp, sym);
      const gross = this.otherGross + worst * valuePx;
      if (this.maxTotalNotional > 0 && !(gross <= this.maxTotalNotional)) return RejectReason.MaxTotalNotional;
      if (this.maxLeverage > 0 && !(gross <= equity * this.maxLeverage)) return RejectReason.MaxLeverage;
      if (this.maxCapitalUsage > 0 && !(gross / this.leverage <= equity * this.maxCapitalUsage)) return RejectReason.CapitalUsage;
    }
    return RejectReason.None;
  }

  /** Worst-case gross notional (at mid) of every symbol but `skip`, counting orders in flight, into otherGross. */
  private sumOtherGross(inp: RiskInputs, skip: number): void {
    const position = inp.position;
    let gross = 0;
    for (let i = 0; i < position.length; i++) {
      if (i === skip) continue;
      const p = position[i]!;
      const longest = p + inp.pendingBuy[i]!;
      const shortest = p - inp.pendingSell[i]!;
      const w = longest > -shortest ? longest : -shortest;
      // a flat symbol with nothing in flight adds nothing, even before its first quote
      if (w > QTY_EPS) gross += w * (inp.bid[i]! + inp.ask[i]!) * 0.5;
    }
    this.otherGross = gross;
  }

  private evaluate(inp: RiskInputs): void {
    const t = inp.eventTimeMs;
    const equity = inp.equity;
    const realized = inp.realizedPnl;
    this.lastTimeMs = t;
    this.lastRealized = realized;
    if (Math.floor(t / DAY_MS) !== this.day) this.rollDay(t, equity);
    if (!(equity === equity)) return;
    this.lastEquity = equity;
    if (!(this.startEquity === this.startEquity)) this.startEquity = equity;
    if (!(this.dayStartEquity === this.dayStartEquity)) this.dayStartEquity = equity;
    if (!(equity <= this.peakEquity)) this.peakEquity = equity;
    if (this.stateValue === TradingState.Halted) return;
    if (this.minCapitalFraction > 0 && equity < this.startEquity * this.minCapitalFraction) {
      this.restrict(TradingState.Halted, RejectReason.CapitalFloor, t);
      return;
    }
    if (this.maxDrawdownFraction > 0 && this.peakEquity - equity >= this.peakEquity * this.maxDrawdownFraction) {
      this.restrict(TradingState.Halted, RejectReason.MaxDrawdown, t);
      return;
    }
    if (this.stateValue !== TradingState.Active) return;
    const dayLoss = this.dayStartEquity - equity;
    if (this.dailyLossLimit > 0 && dayLoss >= this.dailyLossLimit) this.restrict(TradingState.ReduceOnly, RejectReason.DailyLoss, t);
    else if (this.dailyLossFraction > 0 && dayLoss >= this.dayStartEquity * this.dailyLossFraction) this.restrict(TradingState.ReduceOnly, RejectReason.DailyLoss, t);
    else if (this.maxRealizedLoss > 0 && this.realizedBase - realized >= this.maxRealizedLoss) this.restrict(TradingState.ReduceOnly, RejectReason.MaxRealizedLoss, t);
    else if (this.targetProfit > 0 && realized - this.realizedBase >= this.targetProfit) this.restrict(TradingState.ReduceOnly, RejectReason.TargetProfit, t);
  }

  /** A new UTC day (rare: doubles passed here are boxed once a day): daily counters restart, and a state set by a daily rule lifts. */
  private rollDay(t: number, equity: number): void {
    const day = Math.floor(t / DAY_MS);
    if (day === this.day) return;
    const first = this.day !== this.day;
    this.day = day;
    if (first) return;
    this.dayStartEquity = equity;
    this.tradesTodayCount = 0;
    this.lossesTodayCount = 0;
    if (this.stateValue === TradingState.ReduceOnly && (this.cause === RejectReason.DailyLoss || this.cause === RejectReason.MaxLossesPerDay)) {
      this.transition(TradingState.Active, RejectReason.None, t);
    }
  }

  /** Automatic change: only ever towards a more restrictive state. */
  private restrict(state: TradingState, cause: RejectReason, t: number): void {
    if (state <= this.stateValue) return;
    this.transition(state, cause, t);
  }

  private transition(state: TradingState, cause: RejectReason, t: number): void {
    if (state === this.stateValue && cause === this.cause) return;
    this.stateValue = state;
    this.cause = cause;
    this.stateChanges++;
    if (this.onStateChange !== undefined) this.onStateChange(state, cause, t);
  }

  private reject(reason: RejectReason): RejectReason {
    this.rejectsByReason[reason]!++;
    return reason;
  }

  /** Reject counts by rule name (allocates: stats snapshots, not the hot path). */
  rejectCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [reason, name] of REASON_NAMES) out[name] = this.rejectsByReason[reason]!;
    return out;
  }

  /** Orders / entries in the sliding windows ending at `t` (stats). */
  windowCounts(t: number): { orders1s: number; orders10s: number; orders60s: number; trades60s: number } {
    return { orders1s: this.orders1s.count(t), orders10s: this.orders10s.count(t), orders60s: this.orders60s.count(t), trades60s: this.trades60s.count(t) };
  }
}

function resize(w: EventWindow, limit: number): void {
  if (w.capacity !== limit) w.reset(limit);
}
