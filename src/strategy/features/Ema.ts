import { checkCount } from './rings.js';

/**
 * How an EMA starts: 'first' = the first value (pandas `ewm(span=n, adjust=False)`, what the Python bots
 * used); 'sma' = the mean of the first n values (TA-Lib's convention), the running mean until then.
 */
export type EmaSeed = 'first' | 'sma';

/**
 * Exponential moving average with α = 2/(period + 1): value += α·(x − value). Valid (`ready`) after
 * `period` values, as the strategy catalogue specifies; before that `value` is the warm-up estimate
 * (NaN before the first value).
 */
export class Ema {
  readonly period: number;
  readonly alpha: number;
  readonly seed: EmaSeed;
  value = NaN;
  count = 0;
  /** the value `pushNext` adds: composite features feed through it, so no call passes a double */
  next = 0;

  constructor(period: number, seed: EmaSeed = 'first') {
    this.period = checkCount('period', period);
    this.alpha = 2 / (period + 1);
    this.seed = seed;
  }

  get ready(): boolean {
    return this.count >= this.period;
  }

  update(x: number): void {
    this.next = x;
    this.pushNext();
  }

  pushNext(): void {
    const x = this.next;
    const n = ++this.count;
    if (n === 1) this.value = x;
    else if (this.seed === 'sma' && n <= this.period) this.value += (x - this.value) / n;
    else this.value += this.alpha * (x - this.value);
  }

  reset(): void {
    this.value = NaN;
    this.count = 0;
  }
}
