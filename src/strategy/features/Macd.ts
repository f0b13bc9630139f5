import { Ema, type EmaSeed } from './Ema.js';
import { checkCount } from './rings.js';

/**
 * MACD (defaults 12 / 26 / 9): line = EMA(fast) − EMA(slow), signal = EMA(signal) of the line, histogram =
 * line − signal. The signal EMA is fed only from the first valid line (once the slow EMA is ready), so
 * warm-up values of the slow EMA do not leak into it; `ready` after slow + signal − 1 values.
 */
export class Macd {
  readonly fast: Ema;
  readonly slow: Ema;
  readonly signalEma: Ema;
  line = NaN;
  signal = NaN;
  histogram = NaN;

  constructor(fastPeriod = 12, slowPeriod = 26, signalPeriod = 9, seed: EmaSeed = 'first') {
    checkCount('fastPeriod', fastPeriod);
    checkCount('slowPeriod', slowPeriod);
    checkCount('signalPeriod', signalPeriod);
    if (fastPeriod >= slowPeriod) throw new RangeError(`fastPeriod (${fastPeriod}) must be below slowPeriod (${slowPeriod})`);
    this.fast = new Ema(fastPeriod, seed);
    this.slow = new Ema(slowPeriod, seed);
    this.signalEma = new Ema(signalPeriod, seed);
  }

  get ready(): boolean {
    return this.signalEma.ready;
  }

  /** the histogram, the usual single number to trade on */
  get value(): number {
    return this.histogram;
  }

  update(x: number): void {
    // through the EMAs' fields, not update(x): no double argument to box if a call is not inlined
    const fast = this.fast;
    const slow = this.slow;
    fast.next = x;
    fast.pushNext();
    slow.next = x;
    slow.pushNext();
    if (!slow.ready) return;
    this.line = fast.value - slow.value;
    this.signalEma.next = this.line;
    this.signalEma.pushNext();
    this.signal = this.signalEma.value;
    this.histogram = this.line - this.signal;
  }

  reset(): void {
    this.fast.reset();
    this.slow.reset();
    this.signalEma.reset();
    this.line = NaN;
    this.signal = NaN;
    this.histogram = NaN;
  }
}
