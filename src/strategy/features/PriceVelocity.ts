import { checkCount } from './rings.js';

/**
 * Price velocity over a window of N ticks: p_t − p_{t−(N−1)} (the Rust engine's momentum and liquidation
 * cascade, N = 50 by default). `relative` = velocity / p_{t−(N−1)}. Until `ready` (N prices) both are
 * measured from the oldest price seen.
 */
export class PriceVelocity {
  readonly window: number;
  value = NaN;
  relative = NaN;
  /** written at `head`, which is the oldest price once the window is full */
  private readonly buf: Float64Array;
  private head = 0;
  private held = 0;

  constructor(window = 50) {
    this.window = checkCount('window', window, 2);
    this.buf = new Float64Array(window);
  }

  get ready(): boolean {
    return this.held === this.window;
  }

  update(price: number): void {
    const h = this.head;
    this.buf[h] = price;
    this.head = h + 1 === this.window ? 0 : h + 1;
    if (this.held < this.window) this.held++;
    const first = this.held < this.window ? this.buf[0]! : this.buf[this.head]!;
    this.value = price - first;
    this.relative = this.value / first;
  }

  reset(): void {
    this.head = 0;
    this.held = 0;
    this.value = NaN;
    this.relative = NaN;
  }
}
