import { RollingStats } from './RollingStats.js';
import { checkPositive } from './rings.js';

/**
 * Bollinger Bands (default 20, k = 2): a RollingStats window with its bands. middle = SMA(period),
 * upper / lower = middle ± k·σ with σ the population standard deviation of the same window (Bollinger's
 * definition); `percentB` = (newest − lower)/(upper − lower), 0.5 on a flat window (zero width);
 * `bandwidth` = (upper − lower)/middle. The bands are computed when read.
 */
export class Bollinger extends RollingStats {
  readonly k: number;

  constructor(period = 20, k = 2) {
    super(period);
    this.k = checkPositive('k', k);
  }

  get middle(): number {
    return this.mean;
  }
  get upper(): number {
    return this.mean + this.k * this.std;
  }
  get lower(): number {
    return this.mean - this.k * this.std;
  }
  get percentB(): number {
    const half = this.k * this.std;
    return half > 0 ? (this.newest - this.mean + half) / (2 * half) : 0.5;
  }
  get bandwidth(): number {
    return (2 * this.k * this.std) / this.mean;
  }
}
