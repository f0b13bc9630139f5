import type { Instrument } from '../core/Instrument.js';

/** A growable float64 column (fills and samples are few next to market events: doubling is fine). */
export class Column {
  data: Float64Array;
  length = 0;
  constructor(capacity = 256) {
    this.data = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  at(i: number): number {
    return this.data[i]!;
  }
  toArray(): number[] {
    return Array.from(this.data.subarray(0, this.length));
  }
}

/** Every fill of the run, one row per fill (a taker order walking three levels gives three rows). */
export class FillLog {
  readonly timeMs = new Column();
  readonly sym = new Column();
  readonly intentId = new Column();
  /** 1 buy, -1 sell */
  readonly side = new Column();
  readonly qty = new Column();
  readonly price = new Column();
  readonly fee = new Column();
  readonly isMaker = new Column();
  /** the intent's DECISION_PRICE (NaN when the strategy had no top of book) */
  readonly decisionPrice = new Column();
  readonly orderType = new Column();
  /** position of the symbol after the fill */
  readonly positionAfter = new Column();
  /** realized PnL (gross) this fill produced */
  readonly realized = new Column();
  get length(): number {
    return this.timeMs.length;
  }
}

/** One closed round trip: flat (or flipped) to flat again. */
export interface RoundTripSummary {
  count: number;
  wins: number;
  /** net of fees, per round trip */
  grossWin: number;
  grossLoss: number;
}

/**
 * The exchange-side account: positions in integer steps, average entry price, realized PnL, fees, round
 * trips and time-weighted inventory. It is the truth the metrics are computed from (the runner keeps its own
 * position from the reports; the two agree when every report is delivered).
 */
export class Ledger {
  readonly fills = new FillLog();
  readonly posSteps: Float64Array;
  readonly avgPrice: Float64Array;
  readonly realized: Float64Array;
  readonly fees: Float64Array;
  turnover = 0;
  makerNotional = 0;
  takerNotional = 0;
  /** qty-weighted slippage sum (bps x notional) and the notional it covers */
  slipBpsNotional = 0;
  slipNotional = 0;
  readonly trips: RoundTripSummary = { count: 0, wins: 0, grossWin: 0, grossLoss: 0 };
  /** per symbol: net PnL of the open round trip so far (realized - fees) */
  private readonly tripPnl: Float64Array;
  /** time-weighted |position| (base units x ms), time with a position (ms), last change time */
  private readonly absPosMs: Float64Array;
  private readonly inMarketMs: Float64Array;
  private readonly lastChangeMs: Float64Array;
  readonly maxAbsPos: Float64Array;
  private readonly steps: Float64Array;
  private readonly stepScale: Float64Array;

  constructor(private readonly instruments: readonly Instrument[]) {
    const n = instruments.length;
    this.posSteps = new Float64Array(n);
    this.avgPrice = new Float64Array(n);
    this.realized = new Float64Array(n);
    this.fees = new Float64Array(n);
    this.tripPnl = new Float64Array(n);
    this.absPosMs = new Float64Array(n);
    this.inMarketMs = new Float64Array(n);
    this.lastChangeMs = new Float64Array(n).fill(NaN);
    this.maxAbsPos = new Float64Array(n);
    this.steps = Float64Array.from(instruments, (i) => i.stepUnits);
    this.stepScale = Float64Array.from(instruments, (i) => 10 ** i.qtyScale);
  }

  /** Base quantity of `steps` steps of symbol `sym`, exact to the decimal (3 x 0.1 is 0.3). */
  qty(sym: number, steps: number): number {
    return (steps * this.steps[sym]!) / this.stepScale[sym]!;
  }

  position(sym: number): number {
    return this.qty(sym, this.posSteps[sym]!);
  }

  /** Starts the inventory clock (first event time of the run). */
  start(timeMs: number): void {
    for (let s = 0; s < this.lastChangeMs.length; s++) if (this.lastChangeMs[s] !== this.lastChangeMs[s]) this.lastChangeMs[s] = timeMs;
  }

  /** Books one fill; `side` 1 buy / -1 sell, `steps` > 0. Returns the realized PnL (gross) of the fill. */
  fill(timeMs: number, sym: number, intentId: number, side: number, steps: number, price: number, feeRate: number, isMaker: boolean, decisionPrice: number, orderType: number): number {
    this.accrue(sym, timeMs);
    const q = this.qty(sym, steps);
    const notional = price * q;
    const fee = notional * feeRate;
    const before = this.posSteps[sym]!;
    const after = before + side * steps;
    let realized = 0;
    let closedSteps = 0;
    if (before !== 0 && Math.sign(before) !== side) {
      // reducing (maybe through zero): the closed part realizes against the average entry
      closedSteps = Math.min(Math.abs(before), steps);
      realized = (price - this.avgPrice[sym]!) * this.qty(sym, closedSteps) * Math.sign(before);
    }
    if (after === 0) this.avgPrice[sym] = 0;
    else if (before === 0 || Math.sign(before) !== Math.sign(after)) this.avgPrice[sym] = price; // opened or flipped
    else if (Math.abs(after) > Math.abs(before)) {
      this.avgPrice[sym] = (this.avgPrice[sym]! * Math.abs(before) + price * steps) / Math.abs(after);
    }
    this.posSteps[sym] = after;
    this.realized[sym]! += realized;
    this.fees[sym]! += fee;
    this.turnover += notional;
    if (isMaker) this.makerNotional += notional;
    else this.takerNotional += notional;
    if (decisionPrice === decisionPrice && decisionPrice > 0) {
      this.slipBpsNotional += ((side * (price - decisionPrice)) / decisionPrice) * 1e4 * notional;
      this.slipNotional += notional;
    }
    // round trips: the fee of a flipping fill is split between the trip it closes and the one it opens
    const closeShare = closedSteps / steps;
    this.tripPnl[sym]! += realized - fee * (after === 0 || Math.sign(after) === Math.sign(before) ? 1 : closeShare);
    if (before !== 0 && (after === 0 || Math.sign(after) !== Math.sign(before))) {
      const net = this.tripPnl[sym]!;
      this.trips.count++;
      if (net > 0) {
        this.trips.wins++;
        this.trips.grossWin += net;
      } else this.trips.grossLoss -= net;
      this.tripPnl[sym] = after === 0 ? 0 : -fee * (1 - closeShare);
    }
    const abs = Math.abs(this.qty(sym, after));
    if (abs > this.maxAbsPos[sym]!) this.maxAbsPos[sym] = abs;
    const f = this.fills;
    f.timeMs.push(timeMs);
    f.sym.push(sym);
    f.intentId.push(intentId);
    f.side.push(side);
    f.qty.push(q);
    f.price.push(price);
    f.fee.push(fee);
    f.isMaker.push(isMaker ? 1 : 0);
    f.decisionPrice.push(decisionPrice);
    f.orderType.push(orderType);
    f.positionAfter.push(this.qty(sym, after));
    f.realized.push(realized);
    return realized;
  }

  /** Adds the time since the last change at the current position to the inventory integrals. */
  accrue(sym: number, timeMs: number): void {
    const last = this.lastChangeMs[sym]!;
    if (last === last && timeMs > last) {
      const abs = Math.abs(this.qty(sym, this.posSteps[sym]!));
      this.absPosMs[sym]! += abs * (timeMs - last);
      if (abs > 0) this.inMarketMs[sym]! += timeMs - last;
    }
    this.lastChangeMs[sym] = timeMs;
  }

  /** Unrealized PnL of a symbol at `mark`. */
  unrealized(sym: number, mark: number): number {
    const p = this.posSteps[sym]!;
    if (p === 0 || !(mark === mark)) return 0;
    return (mark - this.avgPrice[sym]!) * this.qty(sym, p);
  }

  totalRealized(): number {
    let s = 0;
    for (let i = 0; i < this.realized.length; i++) s += this.realized[i]!;
    return s;
  }

  totalFees(): number {
    let s = 0;
    for (let i = 0; i < this.fees.length; i++) s += this.fees[i]!;
    return s;
  }

  /** Time-weighted mean |position| and the fraction of time with a position, of symbol `sym` over [t0, t1]. */
  inventory(sym: number, t0: number, t1: number): { meanAbs: number; maxAbs: number; timeInMarket: number } {
    this.accrue(sym, t1);
    const span = t1 - t0;
    return {
      meanAbs: span > 0 ? this.absPosMs[sym]! / span : 0,
      maxAbs: this.maxAbsPos[sym]!,
      timeInMarket: span > 0 ? this.inMarketMs[sym]! / span : 0,
    };
  }

  get instrumentCount(): number {
    return this.instruments.length;
  }
}
