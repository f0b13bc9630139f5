import { ConfigError, showValue } from '../config/ConfigError.js';
import { EquityCurve } from './EquityCurve.js';

export interface PortfolioConfig {
  /** starting equity (quote) */
  initialCapital: number;
  /** fee rates used when a fill report carries no fee (NaN): fraction of notional; negative = rebate */
  makerFeeRate: number;
  takerFeeRate: number;
  /** value open positions at the venue's mark price (MarkPrice records; mid until the first) or always at mid */
  markWith: 'mark' | 'mid';
  /** equity curve: bucket length (ms of event time) and buckets kept */
  equityIntervalMs: number;
  equityCapacity: number;
}

export const DEFAULT_PORTFOLIO_CONFIG: Readonly<PortfolioConfig> = Object.freeze({
  initialCapital: 10_000, // the CCXT MVP's base capital
  makerFeeRate: 0.0002,
  takerFeeRate: 0.0005, // the Rust engine's taker fee
  markWith: 'mark',
  equityIntervalMs: 1_000,
  equityCapacity: 86_400, // a day of 1 s buckets, 2.8 MB
});

/** Validates a partial portfolio section over the defaults; errors name the key and the allowed range. */
export function validatePortfolioConfig(raw: unknown, key = 'portfolio'): PortfolioConfig {
  if (raw === undefined) return { ...DEFAULT_PORTFOLIO_CONFIG };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(key, `must be an object; got ${showValue(raw)}`);
  const r = raw as Record<string, unknown>;
  const out: PortfolioConfig = { ...DEFAULT_PORTFOLIO_CONFIG };
  const ranges: Record<string, [number, number, boolean]> = {
    initialCapital: [0, 1e12, false],
    makerFeeRate: [-0.01, 0.01, false],
    takerFeeRate: [-0.01, 0.01, false],
    equityIntervalMs: [1, 86_400_000, false],
    equityCapacity: [1, 10_000_000, true],
  };
  for (const k of Object.keys(r)) {
    const v = r[k];
    if (k === 'markWith') {
      if (v !== 'mark' && v !== 'mid') throw new ConfigError(`${key}.markWith`, `must be one of mark, mid; got ${showValue(v)}`);
      out.markWith = v;
      continue;
    }
    const range = ranges[k];
    if (range === undefined) throw new ConfigError(`${key}.${k}`, `is not a known key; allowed here: ${[...Object.keys(ranges), 'markWith'].join(', ')}`);
    const [min, max, integer] = range;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      throw new ConfigError(`${key}.${k}`, `must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}; got ${showValue(v)}`);
    }
    (out as unknown as Record<string, number>)[k] = v;
  }
  return out;
}

/** quantities closer than this are equal (float residue of step arithmetic) */
const QTY_EPS = 1e-12;

/**
 * Positions and PnL per symbol, from fills, funding and prices; allocation-free per update.
 *
 * Average-cost accounting: a fill in the position's direction moves the average entry price; a fill
 * against it realises (fill price - average entry) x closed quantity x direction, and beyond flat opens
 * the remainder at the fill price. Realised PnL is the price PnL; fees (paid positive, rebates negative)
 * and funding (received positive) are kept apart, so
 *   equity = initialCapital + realised - fees + funding + unrealised,
 *   unrealised = position x (mark - average entry),
 * which equals the cash-flow view (capital - sum(side x qty x price) - fees + funding + position x mark).
 * Quantities are in base units (contract size 1: the runner's quantities are base units).
 *
 * A round trip runs from flat to flat (or to a flip through zero); its PnL is net: realised minus the fees
 * of its fills (a flipping fill's fee split pro rata) plus funding received while it was open. `onFill`
 * returns true when a fill closes one (`lastRoundTripPnl`), the input of RiskEngine.onRoundTrip.
 */
export class Portfolio {
  readonly cfg: PortfolioConfig;
  private readonly pos: Float64Array;
  private readonly entry: Float64Array;
  private readonly realized: Float64Array;
  private readonly feesPaid: Float64Array;
  private readonly fundingIn: Float64Array;
  /**
   * Valuation prices per symbol: the venue's mark (NaN until the first), best bid and ask. The owner may
   * point them at arrays it already keeps current (`portfolio.bid = runnerBid`), so no call per message.
   */
  markPrice: Float64Array;
  bid: Float64Array;
  ask: Float64Array;
  private readonly tripPnl: Float64Array;
  // slippage against the decision price: adverse cost (quote) over the decision notional it applies to
  private readonly slipCost: Float64Array;
  private readonly slipBase: Float64Array;
  private readonly useMark: boolean;

  realizedTotal = 0;
  feesTotal = 0;
  fundingTotal = 0;
  makerFees = 0;
  takerFees = 0;
  makerFills = 0;
  takerFills = 0;
  fills = 0;
  /** fills whose fee was not reported and was estimated from the configured rate */
  estimatedFees = 0;
  roundTrips = 0;
  winningTrips = 0;
  losingTrips = 0;
  lastRoundTripPnl = NaN;
  /** slippage of the latest fill with a decision price (bps; positive = worse than decided) */
  lastSlippageBps = NaN;
  slippageCostTotal = 0;
  private slippageBaseTotal = 0;

  /** equity at the last `refresh` or `sample` (NaN while a position has no price) */
  equityNow = NaN;
  /** equity peak and the largest drawdown seen by `sample` */
  peakEquity = NaN;
  maxDrawdown = 0;
  maxDrawdownFraction = 0;
  readonly curve: EquityCurve;

  constructor(
    readonly symbolCount: number,
    cfg: Partial<PortfolioConfig> = {},
  ) {
    this.cfg = { ...DEFAULT_PORTFOLIO_CONFIG, ...cfg };
    const n = symbolCount;
    this.pos = new Float64Array(n);
    this.entry = new Float64Array(n);
    this.realized = new Float64Array(n);
    this.feesPaid = new Float64Array(n);
    this.fundingIn = new Float64Array(n);
    this.markPrice = new Float64Array(n).fill(NaN);
    this.bid = new Float64Array(n).fill(NaN);
    this.ask = new Float64Array(n).fill(NaN);
    this.tripPnl = new Float64Array(n);
    this.slipCost = new Float64Array(n);
    this.slipBase = new Float64Array(n);
    this.useMark = this.cfg.markWith === 'mark';
    this.curve = new EquityCurve(this.cfg.equityCapacity, this.cfg.equityIntervalMs);
  }

  /**
   * One fill of `qty` (> 0, base units) at `price`.
   * @param side 1 buy, -1 sell
   * @param fee the report's fee (RP.FEE, quote, paid positive); NaN = not reported: estimated from the rate
   * @param isMaker the report's IS_MAKER (picks the rate of an estimated fee, and the maker/taker totals)
   * @param decisionPrice the price the strategy decided on (IN.DECISION_PRICE); NaN or 0 = no slippage sample
   * @returns true if the fill closed a round trip (see lastRoundTripPnl)
   */
  onFill(symbolId: number, side: number, qty: number, price: number, fee: number, isMaker: boolean, decisionPrice: number): boolean {
    this.fillQty = qty;
    this.fillPrice = price;
    this.fillFee = fee;
    this.fillDecision = decisionPrice;
    return this.onFillFields(symbolId, side, isMaker);
  }

  /** onFill's doubles, for `onFillFields` */
  fillQty = 0.5;
  fillPrice = 0.5;
  fillFee = 0.5;
  fillDecision = 0.5;

  /**
   * `onFill` with its doubles read from the fill* fields: the hot-path form (a call V8 does not inline boxes
   * each double argument; integers and booleans cross for free).
   */
  onFillFields(symbolId: number, side: number, isMaker: boolean): boolean {
    const qty = this.fillQty;
    const price = this.fillPrice;
    let fee = this.fillFee;
    const decisionPrice = this.fillDecision;
    if (!(qty > 0) || !(price > 0)) return false;
    this.fills++;
    if (!(fee === fee)) {
      fee = qty * price * (isMaker ? this.cfg.makerFeeRate : this.cfg.takerFeeRate);
      this.estimatedFees++;
    }
    this.feesPaid[symbolId]! += fee;
    this.feesTotal += fee;
    if (isMaker) {
      this.makerFees += fee;
      this.makerFills++;
    } else {
      this.takerFees += fee;
      this.takerFills++;
    }
    if (decisionPrice > 0) {
      const cost = side * (price - decisionPrice) * qty;
      const base = decisionPrice * qty;
      this.slipCost[symbolId]! += cost;
      this.slipBase[symbolId]! += base;
      this.slippageCostTotal += cost;
      this.slippageBaseTotal += base;
      this.lastSlippageBps = (side * (price - decisionPrice) / decisionPrice) * 1e4;
    }

    const pos = this.pos[symbolId]!;
    const absPos = pos < 0 ? -pos : pos;
    if (pos === 0 || pos * side > 0) {
      // opening or adding: the average entry moves
      this.entry[symbolId] = (absPos * this.entry[symbolId]! + qty * price) / (absPos + qty);
      this.pos[symbolId] = pos + side * qty;
      this.tripPnl[symbolId]! -= fee;
      return false;
    }
    // against the position: realise the closed part
    const closed = qty < absPos ? qty : absPos;
    const pnl = (price - this.entry[symbolId]!) * closed * (pos > 0 ? 1 : -1);
    this.realized[symbolId]! += pnl;
    this.realizedTotal += pnl;
    const rest = qty - absPos;
    if (rest < -QTY_EPS) {
      // still open, smaller
      this.pos[symbolId] = pos + side * qty;
      this.tripPnl[symbolId]! += pnl - fee;
      return false;
    }
    const closeFee = rest > QTY_EPS ? (fee * closed) / qty : fee;
    this.lastRoundTripPnl = this.tripPnl[symbolId]! + pnl - closeFee;
    this.closeTrip();
    if (rest > QTY_EPS) {
      // through zero: the remainder opens a new position at the fill price
      this.pos[symbolId] = side * rest;
      this.entry[symbolId] = price;
      this.tripPnl[symbolId] = -(fee - closeFee);
    } else {
      this.pos[symbolId] = 0;
      this.entry[symbolId] = 0;
      this.tripPnl[symbolId] = 0;
    }
    return true;
  }

  /** Counts the round trip whose PnL is in lastRoundTripPnl (a field: no double argument). */
  private closeTrip(): void {
    const pnl = this.lastRoundTripPnl;
    this.roundTrips++;
    if (pnl > 0) this.winningTrips++;
    else if (pnl < 0) this.losingTrips++;
  }

  /** A funding payment (quote; received positive, paid negative), as the venue reports it. */
  onFunding(symbolId: number, amount: number): void {
    if (!(amount === amount)) return;
    this.fundingIn[symbolId]! += amount;
    this.fundingTotal += amount;
    if (this.pos[symbolId] !== 0) this.tripPnl[symbolId]! += amount;
  }

  /** The venue's mark price (MarkPrice records). */
  onMarkPrice(symbolId: number, mark: number): void {
    if (mark > 0) this.markPrice[symbolId] = mark;
  }

  /** Best bid and ask (book ticker), unless the arrays are shared with their owner. */
  onQuote(symbolId: number, bid: number, ask: number): void {
    this.bid[symbolId] = bid;
    this.ask[symbolId] = ask;
  }

  /**
   * Takes the venue's position and entry price (a reconcile after a stream gap): realised PnL so far is
   * kept; the open round trip restarts from here.
   */
  setPosition(symbolId: number, position: number, entryPrice: number): void {
    this.pos[symbolId] = position;
    this.entry[symbolId] = position === 0 ? 0 : entryPrice;
    this.tripPnl[symbolId] = 0;
  }

  /** The price open positions are valued at: mark (if configured and seen), else mid; NaN before either. */
  valuationPrice(symbolId: number): number {
    const m = this.markPrice[symbolId]!;
    return this.useMark && m === m ? m : (this.bid[symbolId]! + this.ask[symbolId]!) * 0.5;
  }

  position(symbolId: number): number {
    return this.pos[symbolId]!;
  }
  /** average entry price of the open position (0 when flat) */
  avgEntryPrice(symbolId: number): number {
    return this.entry[symbolId]!;
  }
  /** realised price PnL (before fees and funding) */
  realizedPnl(symbolId: number): number {
    return this.realized[symbolId]!;
  }
  fees(symbolId: number): number {
    return this.feesPaid[symbolId]!;
  }
  funding(symbolId: number): number {
    return this.fundingIn[symbolId]!;
  }
  /** position x (valuation price - average entry); 0 when flat, NaN with a position and no price yet */
  unrealizedPnl(symbolId: number): number {
    const p = this.pos[symbolId]!;
    return p === 0 ? 0 : p * (this.valuationPrice(symbolId) - this.entry[symbolId]!);
  }
  /** realised - fees + funding + unrealised of one symbol */
  totalPnl(symbolId: number): number {
    return this.realized[symbolId]! - this.feesPaid[symbolId]! + this.fundingIn[symbolId]! + this.unrealizedPnl(symbolId);
  }
  /** average slippage of the symbol's fills against their decision prices (bps, positive = worse) */
  avgSlippageBps(symbolId: number): number {
    const b = this.slipBase[symbolId]!;
    return b > 0 ? (this.slipCost[symbolId]! / b) * 1e4 : 0;
  }
  avgSlippageBpsTotal(): number {
    return this.slippageBaseTotal > 0 ? (this.slippageCostTotal / this.slippageBaseTotal) * 1e4 : 0;
  }

  unrealizedTotal(): number {
    let u = 0;
    for (let i = 0; i < this.symbolCount; i++) if (this.pos[i] !== 0) u += this.unrealizedPnl(i);
    return u;
  }
  /** realised - fees + funding over all symbols: RiskInputs.realizedPnl */
  netRealizedPnl(): number {
    return this.realizedTotal - this.feesTotal + this.fundingTotal;
  }
  /** initial capital + net realised + unrealised: RiskInputs.equity (NaN while a position has no price) */
  equity(): number {
    return this.cfg.initialCapital + this.netRealizedPnl() + this.unrealizedTotal();
  }
  /** gross notional of the open positions at their valuation prices */
  grossExposure(): number {
    let g = 0;
    for (let i = 0; i < this.symbolCount; i++) {
      const p = this.pos[i]!;
      if (p !== 0) g += (p < 0 ? -p : p) * this.valuationPrice(i);
    }
    return g;
  }

  /**
   * Recomputes `equityNow` (allocation-free for hot callers: read the field; a double returned from a call
   * that is not inlined is boxed).
   */
  refresh(): void {
    this.equityNow = this.cfg.initialCapital + this.realizedTotal - this.feesTotal + this.fundingTotal + this.unrealizedTotal();
  }

  /**
   * Samples equity at `clock.eventTimeMs` (e.g. the RiskInputs) into the curve and the drawdown figures;
   * call per event or per batch. The time is read from an object for the same reason as `refresh`.
   */
  sample(clock: { readonly eventTimeMs: number }): void {
    this.refresh();
    const eq = this.equityNow;
    if (!(eq === eq)) return;
    this.curve.addFrom(clock, this);
    if (!(eq <= this.peakEquity)) this.peakEquity = eq;
    const dd = this.peakEquity - eq;
    if (dd > this.maxDrawdown) this.maxDrawdown = dd;
    const frac = this.peakEquity > 0 ? dd / this.peakEquity : 0;
    if (frac > this.maxDrawdownFraction) this.maxDrawdownFraction = frac;
  }
}
