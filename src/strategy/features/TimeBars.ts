import type { TradeInput } from './inputs.js';
import { checkCount } from './rings.js';

/** a module-local NaN: a double merged with the global `NaN` is boxed by TurboFan (see RollingStats) */
const NAN = Number.NaN;

/** One OHLCV bar. Passed to the listener as a reused object: read or copy its fields, do not keep it. */
export class Bar {
  /** start of the interval (ms, a multiple of the interval) */
  openTime = 0;
  /** end of the interval, exclusive: openTime + interval */
  closeTime = 0;
  open = NaN;
  high = NaN;
  low = NaN;
  close = NaN;
  /** base volume */
  volume = 0;
  /** Σ price·qty, for the bar's VWAP */
  quoteVolume = 0;
  /** volume whose aggressor bought (buyer was the taker) */
  buyVolume = 0;
  /** volume whose aggressor sold (buyer was the maker) */
  sellVolume = 0;
  tradeCount = 0;

  /** no trade in the interval: O = H = L = C = the previous close, volumes 0 */
  get empty(): boolean {
    return this.tradeCount === 0;
  }

  /** NaN for an empty bar */
  get vwap(): number {
    return this.volume > 0 ? this.quoteVolume / this.volume : NAN;
  }
}

export type BarListener = (bar: Bar) => void;

export interface TimeBarsOptions {
  /**
   * Emit a bar for an interval without trades (default true): a flat bar at the previous close with zero
   * volume, so bar-based features (ATR, RSI, per-bar volatility) see evenly spaced bars and a quiet second
   * counts as a quiet second. false: empty intervals are skipped (counted in `emptyBarsSkipped`).
   */
  emitEmpty?: boolean;
  /**
   * Longest run of empty intervals emitted at once (default 3600). A longer gap (a feed outage, a halted
   * market) emits none of its empty bars, only counts them in `emptyBarsSkipped`, and sets `gapBeforeCurrent`,
   * so a day of silence does not turn into 86,400 calls and flatten every indicator.
   */
  maxEmptyRun?: number;
}

/**
 * Time bars of a fixed interval (1 s and up) built from trades, aligned to multiples of the interval in
 * event time (like venue klines: a 1 s bar covers [t, t + 1000)).
 *
 * A bar closes on event time, never on a clock: when a trade (`update`) or any other event (`advanceTo`)
 * carries a time at or past the bar's end. Closed bars go to the listener in order, one call per bar.
 * A trade stamped before the current bar's start (out of order) is added to the current bar and counted in
 * `lateTrades`: closed bars are final. Before the first trade there is no bar.
 */
export class TimeBars {
  readonly intervalMs: number;
  readonly emitEmpty: boolean;
  readonly maxEmptyRun: number;
  /** the bar being built (partial until it closes) */
  readonly current = new Bar();
  barsClosed = 0;
  emptyBarsEmitted = 0;
  emptyBarsSkipped = 0;
  lateTrades = 0;
  /** the current bar follows a skipped run of empty intervals (longer than maxEmptyRun, or emitEmpty off) */
  gapBeforeCurrent = false;
  private started = false;
  /** the trade being added, the event time closing bars, the bar being opened */
  private tradeTime = 0;
  private tradePrice = 0;
  private tradeQty = 0;
  private tradeBuyerMaker = false;
  private clock = 0;
  private openTime = 0;
  private openPrice = 0;

  constructor(
    intervalMs: number,
    private readonly onBar: BarListener,
    opts: TimeBarsOptions = {},
  ) {
    this.intervalMs = checkCount('intervalMs', intervalMs, 1000);
    this.emitEmpty = opts.emitEmpty ?? true;
    this.maxEmptyRun = checkCount('maxEmptyRun', opts.maxEmptyRun ?? 3600, 0);
  }

  /** At least one bar has opened (the first trade was seen). */
  get ready(): boolean {
    return this.started;
  }

  /** A trade: `buyerMaker` true means the aggressor sold (Binance's `m`). */
  update(timeMs: number, price: number, qty: number, buyerMaker: boolean): void {
    this.tradeTime = timeMs;
    this.tradePrice = price;
    this.tradeQty = qty;
    this.tradeBuyerMaker = buyerMaker;
    this.addTrade();
  }

  /** The same from a trade event (no boxed arguments: see inputs.ts). */
  onTrade(tr: TradeInput): void {
    this.tradeTime = tr.eventTime;
    this.tradePrice = tr.price;
    this.tradeQty = tr.qty;
    this.tradeBuyerMaker = tr.buyerMaker;
    this.addTrade();
  }

  /** Event time from any event: closes the bars that ended at or before it. */
  advanceTo(timeMs: number): void {
    if (!this.started || timeMs < this.current.closeTime) return;
    this.clock = timeMs;
    this.closeThrough();
  }

  // The helpers below take no double argument (values travel in fields): a call V8 does not inline boxes
  // its double arguments, and these run per trade and per bar.

  private addTrade(): void {
    const bar = this.current;
    const timeMs = this.tradeTime;
    const price = this.tradePrice;
    const qty = this.tradeQty;
    if (!this.started) {
      this.started = true;
      this.openTime = timeMs - (timeMs % this.intervalMs);
      this.openPrice = price;
      this.openBar();
    } else if (timeMs >= bar.closeTime) {
      this.clock = timeMs;
      this.closeThrough();
    } else if (timeMs < bar.openTime) this.lateTrades++;
    if (bar.tradeCount === 0) {
      bar.open = price;
      bar.high = price;
      bar.low = price;
    } else {
      if (price > bar.high) bar.high = price;
      if (price < bar.low) bar.low = price;
    }
    bar.close = price;
    bar.volume += qty;
    bar.quoteVolume += price * qty;
    if (this.tradeBuyerMaker) bar.sellVolume += qty;
    else bar.buyVolume += qty;
    bar.tradeCount++;
  }

  /** Closes the current bar and the empty intervals up to the one holding `clock`, which becomes current. */
  private closeThrough(): void {
    const bar = this.current;
    const interval = this.intervalMs;
    const target = this.clock - (this.clock % interval);
    this.openPrice = bar.close;
    // intervals from the current bar's to the target's, the current one included
    let emptyRun = (target - bar.openTime) / interval - 1;
    if (bar.tradeCount > 0) this.emit();
    else emptyRun++;
    if (emptyRun > 0) {
      if (this.emitEmpty && emptyRun <= this.maxEmptyRun) {
        this.openTime = bar.tradeCount > 0 ? bar.closeTime : bar.openTime;
        for (let k = 0; k < emptyRun; k++) {
          this.openBar();
          this.emit();
          this.emptyBarsEmitted++;
          this.openTime += interval;
        }
      } else {
        this.emptyBarsSkipped += emptyRun;
        this.openTime = target;
        this.openBar();
        this.gapBeforeCurrent = true;
        return;
      }
    }
    this.openTime = target;
    this.openBar();
    this.gapBeforeCurrent = false;
  }

  private emit(): void {
    this.barsClosed++;
    this.onBar(this.current);
  }

  /** Starts an empty bar at `openTime`, flat at `openPrice` until its first trade. */
  private openBar(): void {
    const bar = this.current;
    const price = this.openPrice;
    bar.openTime = this.openTime;
    bar.closeTime = this.openTime + this.intervalMs;
    bar.open = price;
    bar.high = price;
    bar.low = price;
    bar.close = price;
    bar.volume = 0;
    bar.quoteVolume = 0;
    bar.buyVolume = 0;
    bar.sellVolume = 0;
    bar.tradeCount = 0;
  }

  reset(): void {
    this.started = false;
    this.openTime = 0;
    this.openPrice = NAN;
    this.openBar();
    this.barsClosed = 0;
    this.emptyBarsEmitted = 0;
    this.emptyBarsSkipped = 0;
    this.lateTrades = 0;
    this.gapBeforeCurrent = false;
  }
}
