import { checkCount } from './rings.js';

/**
 * Linearly weighted mean of the last `window` values, newest weighted most: Σ x_i·i / Σ i for i = 1..n
 * (oldest = 1). The Gate scalper's weighted momentum m = Σ r_i·(i/n) / Σ(i/n) over tick returns is this
 * fed with returns. Slides in O(1): when the window is full, the weighted sum loses one plain sum (every
 * weight drops by one) and gains n·x. Both sums are recomputed exactly once per `window` updates.
 * Until `ready` the weights run 1..count.
 */
export class LinearWeightedMean {
  readonly window: number;
  value = NaN;
  /** plain Σ x of the window */
  sum = 0;
  private weighted = 0;
  /** written at `head`, which is the oldest value once the window is full */
  private readonly buf: Float64Array;
  private head = 0;
  private held = 0;
  private sinceRecompute = 0;
  /** the value `pushNext` adds: a caller that may not inline `update` passes it in this field, not as a boxed double */
  next = 0;

  constructor(window = 10) {
    this.window = checkCount('window', window);
    this.buf = new Float64Array(window);
  }

  get ready(): boolean {
    return this.held === this.window;
  }

  update(x: number): void {
    this.next = x;
    this.pushNext();
  }

  /** `update(next)`, no argument: nothing to box when V8 does not inline the call (see index.ts) */
  pushNext(): void {
    const x = this.next;
    const n = this.window;
    const h = this.head;
    this.head = h + 1 === n ? 0 : h + 1;
    if (this.held < n) {
      this.buf[h] = x;
      this.weighted += ++this.held * x;
      this.sum += x;
    } else {
      const old = this.buf[h]!;
      this.buf[h] = x;
      this.weighted += n * x - this.sum;
      this.sum += x - old;
      if (++this.sinceRecompute >= n) this.recompute();
    }
    const c = this.held;
    this.value = this.weighted / ((c * (c + 1)) / 2);
  }

  /** exact sums, walking from the oldest (weight 1) to the newest (weight n) */
  private recompute(): void {
    const n = this.window;
    let s = 0;
    let w = 0;
    for (let k = 1, i = this.head; k <= n; k++, i = i + 1 === n ? 0 : i + 1) {
      const x = this.buf[i]!;
      s += x;
      w += k * x;
    }
    this.sum = s;
    this.weighted = w;
    this.sinceRecompute = 0;
  }

  reset(): void {
    this.head = 0;
    this.held = 0;
    this.value = NaN;
    this.sum = 0;
    this.weighted = 0;
    this.sinceRecompute = 0;
  }
}
