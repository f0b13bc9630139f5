import { checkCount } from './rings.js';

/**
 * Relative Strength Index with Wilder's smoothing (default period 14). The first average gain / loss is the
 * plain mean of the first `period` price changes; after that avg = (avg·(period − 1) + x)/period.
 * RSI = 100 − 100/(1 + avgGain/avgLoss); 100 when there were only gains, 50 for a flat series (no gain, no
 * loss: neither side). `ready` after period changes, i.e. period + 1 prices.
 */
export class Rsi {
  readonly period: number;
  value = NaN;
  avgGain = 0;
  avgLoss = 0;
  /** price changes seen */
  changes = 0;
  private prev = NaN;

  constructor(period = 14) {
    this.period = checkCount('period', period);
  }

  get ready(): boolean {
    return this.changes >= this.period;
  }

  update(price: number): void {
    const prev = this.prev;
    this.prev = price;
    if (prev !== prev) return;
    const change = price - prev;
    const gain = change > 0 ? change : 0;
    const loss = change < 0 ? -change : 0;
    const n = ++this.changes;
    const p = this.period;
    if (n <= p) {
      // running means until the seed is complete: at n = p they are the seed
      this.avgGain += (gain - this.avgGain) / n;
      this.avgLoss += (loss - this.avgLoss) / n;
    } else {
      this.avgGain = (this.avgGain * (p - 1) + gain) / p;
      this.avgLoss = (this.avgLoss * (p - 1) + loss) / p;
    }
    const g = this.avgGain;
    const l = this.avgLoss;
    this.value = l === 0 ? (g === 0 ? 50 : 100) : 100 - 100 / (1 + g / l);
  }

  reset(): void {
    this.value = NaN;
    this.avgGain = 0;
    this.avgLoss = 0;
    this.changes = 0;
    this.prev = NaN;
  }
}
