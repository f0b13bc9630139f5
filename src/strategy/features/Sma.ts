import { checkCount } from './rings.js';

/**
 * Simple moving average of the last `period` values: `value` (the mean; over the values seen so far until
 * `ready`) and `sum`. The mean slides by (new − old)/period, so a constant series gives exactly the constant;
 * mean and sum are recomputed exactly once per `period` updates so rounding cannot accumulate.
 */
export class Sma {
  readonly period: number;
  value = NaN;
  sum = 0;
  /** written at `head`, which is the oldest value once the window is full */
  private readonly buf: Float64Array;
  private head = 0;
  private held = 0;
  private sinceRecompute = 0;
  /** the value `pushNext` adds: a caller that may not inline `update` passes it in this field, not as a boxed double */
  next = 0;

  constructor(period: number) {
    this.period = checkCount('period', period);
    this.buf = new Float64Array(period);
  }

  get ready(): boolean {
    return this.held === this.period;
  }

  get count(): number {
    return this.held;
  }

  update(x: number): void {
    this.next = x;
    this.pushNext();
  }

  /** `update(next)`, no argument: nothing to box when V8 does not inline the call (see index.ts) */
  pushNext(): void {
    const x = this.next;
    const h = this.head;
    this.head = h + 1 === this.period ? 0 : h + 1;
    if (this.held < this.period) {
      this.buf[h] = x;
      const n = ++this.held;
      this.sum += x;
      this.value = n === 1 ? x : this.value + (x - this.value) / n;
      return;
    }
    const old = this.buf[h]!;
    this.buf[h] = x;
    this.sum += x - old;
    this.value += (x - old) / this.period;
    if (++this.sinceRecompute >= this.period) this.recompute();
  }

  /** exact mean (as deviations from the oldest value: a constant window gives exactly its value) and sum */
  private recompute(): void {
    const buf = this.buf;
    const n = this.held;
    const shift = buf[this.head]!;
    let s = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      s += buf[i]! - shift;
      sum += buf[i]!;
    }
    this.value = shift + s / n;
    this.sum = sum;
    this.sinceRecompute = 0;
  }

  reset(): void {
    this.head = 0;
    this.held = 0;
    this.value = NaN;
    this.sum = 0;
    this.sinceRecompute = 0;
  }
}
