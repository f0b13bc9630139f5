import { RollingStats } from './RollingStats.js';

/**
 * Realised volatility: the standard deviation of the last `window` log returns ln(p_t / p_{t−1}). Feed it
 * trade prices for a per-tick measure, or bar closes (TimeBars listener) for per-bar volatility. `value` is
 * the sample std (divisor n − 1), `populationStd` divides by n; `meanReturn` is their mean. Not annualised.
 * A price that is not > 0 is ignored (counted in `invalidPrices`). `ready` after `window` returns
 * (window + 1 prices).
 */
export class RealizedVol {
  readonly returns: RollingStats;
  value = NaN;
  /** the newest log return (NaN before two prices) */
  lastReturn = NaN;
  invalidPrices = 0;
  private prev = NaN;

  constructor(window = 20) {
    this.returns = new RollingStats(window);
  }

  get ready(): boolean {
    return this.returns.ready;
  }
  get window(): number {
    return this.returns.period;
  }
  get populationStd(): number {
    return this.returns.std;
  }
  get meanReturn(): number {
    return this.returns.mean;
  }
  update(price: number): void {
    // x − x is 0 only for finite x; Number.isFinite here costs a boxed argument per call in optimized code
    if (!(price > 0 && price - price === 0)) {
      this.invalidPrices++;
      return;
    }
    const prev = this.prev;
    this.prev = price;
    if (prev !== prev) return;
    const r = Math.log(price / prev);
    this.lastReturn = r;
    const s = this.returns;
    // through the field, not s.update(r): no double argument to box if the call is not inlined
    s.next = r;
    s.pushNext();
    // statements, not `c ? x : NaN`: see index.ts on V8 and allocation
    if (s.count > 1) this.value = s.sampleStd;
    else this.value = NaN;
  }

  reset(): void {
    this.returns.reset();
    this.value = NaN;
    this.lastReturn = NaN;
    this.invalidPrices = 0;
    this.prev = NaN;
  }
}
