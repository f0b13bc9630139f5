/**
 * Counter over a sliding window made of fixed buckets (e.g. 60 buckets of 1 s for "per minute"), as
 * venues count request weight and orders. `add` and `value` take the current time in ms.
 */
export class WindowCounter {
  private readonly buckets: Float64Array;
  private readonly bucketMs: number;
  private head = 0;
  private headStart = 0;
  private sum = 0;

  constructor(windowMs: number, bucketCount: number) {
    this.buckets = new Float64Array(bucketCount);
    this.bucketMs = windowMs / bucketCount;
  }

  add(now: number, n = 1): number {
    this.advance(now);
    this.buckets[this.head]! += n;
    this.sum += n;
    return this.sum;
  }

  value(now: number): number {
    this.advance(now);
    return this.sum;
  }

  private advance(now: number): void {
    const start = Math.floor(now / this.bucketMs) * this.bucketMs;
    if (start <= this.headStart) return;
    const steps = Math.round((start - this.headStart) / this.bucketMs);
    const len = this.buckets.length;
    if (steps >= len) {
      this.buckets.fill(0);
      this.sum = 0;
      this.head = 0;
    } else {
      for (let i = 0; i < steps; i++) {
        this.head = (this.head + 1) % len;
        this.sum -= this.buckets[this.head]!;
        this.buckets[this.head] = 0;
      }
    }
    this.headStart = start;
  }
}
