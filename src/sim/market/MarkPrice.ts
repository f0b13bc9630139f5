import type { Rng } from '../rng.js';
import type { MarketSource } from './types.js';

const FUNDING_INTERVAL_MS = 8 * 3600_000;
/** Basis (mark vs mid) bound, in millionths. */
const MAX_BASIS_PPM = 500;

/**
 * Mark price, index price and funding rate of each symbol, derived from the synthetic book: the index
 * is the mid, the mark the mid plus a small mean-reverting basis (a few basis points), the funding
 * rate 0.01 % plus a share of that premium. Prices are integers in 10^-8 units of the quote asset (the
 * venue prints mark prices with 8 decimals); the funding rate is in 10^-8 units too.
 *
 * `update` recomputes them (the venue does it once a second); between updates the values stand still,
 * like the venue's. A test can pin a symbol's mark (`setOverride`) to force mark-price triggers.
 */
export class MarkPrices {
  private readonly mark: Float64Array;
  private readonly index: Float64Array;
  private readonly funding: Float64Array;
  private readonly basisPpm: Float64Array;
  private readonly override: Array<number | null>;
  private readonly scale: Float64Array;

  constructor(
    private readonly market: MarketSource,
    private readonly rng: Rng,
  ) {
    const n = market.instruments.length;
    this.mark = new Float64Array(n);
    this.index = new Float64Array(n);
    this.funding = new Float64Array(n).fill(10_000);
    this.basisPpm = new Float64Array(n);
    this.override = new Array<number | null>(n).fill(null);
    this.scale = new Float64Array(market.instruments.map((i) => i.tickUnits * 10 ** (8 - i.priceDecimals)));
    for (let s = 0; s < n; s++) this.recompute(s, false);
  }

  /** Recomputes every symbol (a new basis draw for each). */
  update(): void {
    for (let s = 0; s < this.mark.length; s++) this.recompute(s, true);
  }

  mark8(sym: number): number {
    return this.override[sym] ?? this.mark[sym]!;
  }

  index8(sym: number): number {
    return this.index[sym]!;
  }

  /** Funding rate in 10^-8 units (10000 = 0.01 %). */
  fundingRate8(sym: number): number {
    return this.funding[sym]!;
  }

  /** Next funding time (every 8 h from 00:00 UTC). */
  nextFundingTime(now: number): number {
    return (Math.floor(now / FUNDING_INTERVAL_MS) + 1) * FUNDING_INTERVAL_MS;
  }

  /** Pins a symbol's mark price (10^-8 units), or releases it with null. */
  setOverride(sym: number, mark8: number | null): void {
    this.override[sym] = mark8;
  }

  private recompute(sym: number, step: boolean): void {
    const t = this.market.top(sym);
    if (t.bid < 0 || t.ask < 0) return;
    const mid = ((t.bid + t.ask) / 2) * this.scale[sym]!;
    if (step) {
      let b = this.basisPpm[sym]! * 0.9 + this.rng.normal(0, 40);
      if (b > MAX_BASIS_PPM) b = MAX_BASIS_PPM;
      else if (b < -MAX_BASIS_PPM) b = -MAX_BASIS_PPM;
      this.basisPpm[sym] = b;
    }
    const b = this.basisPpm[sym]!;
    this.index[sym] = Math.round(mid);
    this.mark[sym] = Math.round(mid * (1 + b / 1e6));
    // 0.01 % interest leg plus a third of the premium, clamped like the venue's +-0.75 %.
    let f = 10_000 + Math.round((b / 1e6 / 3) * 1e8);
    if (f > 750_000) f = 750_000;
    else if (f < -750_000) f = -750_000;
    this.funding[sym] = f;
  }
}
