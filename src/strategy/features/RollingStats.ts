import { checkCount, checkPositive } from './rings.js';

/**
 * NaN for expressions on the hot path. TurboFan reads the global `NaN` as a heap constant, and a double
 * merged with it (`c ? x : NaN`) gets boxed: one allocation per evaluation. A module-local constant is
 * folded to a plain number. (Imported constants are not, hence one per module.)
 */
const NAN = Number.NaN;

/**
 * Count, sum, mean and M2 (sum of squared deviations) of a changing set of samples, by Welford's
 * recurrences for adding, removing and replacing one sample.
 *
 * Numerics: Σx and Σx² would give the variance as Σx²/n − mean², which loses every significant digit when
 * the mean is large against the spread (prices of 50,000 moving by cents). Welford updates M2 from
 * deviations instead, and the samples are taken relative to a shift K (a recent sample, reset at each exact
 * recomputation): x − K is exact for prices (Sterbenz: within a factor 2 of each other), so the running mean
 * is of small numbers and its rounding is relative to the spread, not to the price level. Removal still lets
 * rounding accumulate over millions of updates, so the windows replace the state with an exact two-pass
 * result once per window length of updates (amortised O(1)); measured worst error 3e-16 · spread² on the
 * variance. A window holding one repeated value is set exactly (mean = the value, M2 = 0), so a series that
 * turns flat reads a std of exactly 0 at once, not a rounding residue of its past spread.
 *
 * Values travel in fields (`next`, `leaving`) and the helpers take no double argument: a call V8 does not
 * inline boxes its double arguments (an allocation per call; see inputs.ts), and these run per update.
 */
abstract class WindowMoments {
  /** the value being added: set it and call `pushNext()` to feed without passing a double */
  next = 0;
  sum = 0;
  /** value leaving the window */
  protected leaving = 0;
  protected n = 0;
  /** NaN while empty, so `mean` reads NaN without a branch */
  protected shift = NAN;
  protected meanDev = 0;
  protected m2 = 0;
  protected sinceRecompute = 0;
  /** newest value and how many times in a row it came */
  protected lastX = NAN;
  protected sameRun = 0;

  /** NaN while the window is empty */
  get mean(): number {
    return this.shift + this.meanDev;
  }
  /** population variance (divisor n); 0 below 2 samples */
  get variance(): number {
    return this.n > 1 ? this.m2 / this.n : 0;
  }
  get std(): number {
    return Math.sqrt(this.variance);
  }
  /** sample variance (divisor n − 1); 0 below 2 samples */
  get sampleVariance(): number {
    return this.n > 1 ? this.m2 / (this.n - 1) : 0;
  }
  get sampleStd(): number {
    return Math.sqrt(this.sampleVariance);
  }

  /** Adds `next` (the boxing-free feed: set `next`, call this). */
  abstract pushNext(): void;

  protected addNext(): void {
    const x = this.next;
    if (this.n === 0) this.shift = x;
    const y = x - this.shift;
    const n = ++this.n;
    const d = y - this.meanDev;
    this.meanDev += d / n;
    this.m2 += d * (y - this.meanDev);
    this.sum += x;
  }

  protected removeLeaving(): void {
    const x = this.leaving;
    const n = --this.n;
    if (n <= 0) {
      this.clearMoments();
      return;
    }
    const y = x - this.shift;
    const d = y - this.meanDev;
    this.meanDev -= d / n;
    this.m2 -= d * (y - this.meanDev);
    if (this.m2 < 0) this.m2 = 0;
    this.sum -= x;
  }

  /** `leaving` out, `next` in: a full fixed-size window sliding by one */
  protected replaceLeaving(): void {
    const yOld = this.leaving - this.shift;
    const yNew = this.next - this.shift;
    const d = yNew - yOld;
    const oldMean = this.meanDev;
    this.meanDev += d / this.n;
    this.m2 += d * (yNew - this.meanDev + yOld - oldMean);
    if (this.m2 < 0) this.m2 = 0;
    this.sum += this.next - this.leaving;
  }

  /** After `next` went in: counts the run of equal values and sets a window made of one value exactly. */
  protected trackFlat(held: number): void {
    const x = this.next;
    if (x !== this.lastX) {
      this.lastX = x;
      this.sameRun = 1;
    } else if (++this.sameRun >= held) this.setFlat(held);
  }

  protected setFlat(held: number): void {
    if (held < 2 || this.sameRun < held) return;
    this.n = held;
    this.shift = this.lastX;
    this.meanDev = 0;
    this.m2 = 0;
  }

  protected clearMoments(): void {
    this.n = 0;
    this.shift = NAN;
    this.meanDev = 0;
    this.m2 = 0;
    this.sum = 0;
  }

  protected resetMoments(): void {
    this.clearMoments();
    this.sinceRecompute = 0;
    this.lastX = NAN;
    this.sameRun = 0;
  }
}

/**
 * Sum, mean, variance and standard deviation of the last `period` values (see WindowMoments for the
 * numerics). `variance` / `std` divide by n (population: what Bollinger Bands use), `sampleVariance` /
 * `sampleStd` by n − 1. Until `ready` the outputs cover the values seen so far.
 */
export class RollingStats extends WindowMoments {
  readonly period: number;
  /** values, written at `head` (the oldest once full) */
  private readonly buf: Float64Array;
  private head = 0;
  private held = 0;

  constructor(period: number) {
    super();
    this.period = checkCount('period', period);
    this.buf = new Float64Array(period);
  }

  get ready(): boolean {
    return this.held === this.period;
  }
  get count(): number {
    return this.held;
  }
  /** the value that leaves the window on the next update once ready (the oldest held) */
  get oldest(): number {
    if (this.held === 0) return NAN;
    return this.held === this.period ? this.buf[this.head]! : this.buf[0]!;
  }
  /** the newest value (NaN before the first) */
  get newest(): number {
    return this.lastX;
  }

  update(x: number): void {
    this.next = x;
    this.pushNext();
  }

  pushNext(): void {
    const h = this.head;
    this.head = h + 1 === this.period ? 0 : h + 1;
    if (this.held < this.period) {
      this.buf[h] = this.next;
      this.held++;
      this.addNext();
    } else {
      this.leaving = this.buf[h]!;
      this.buf[h] = this.next;
      this.replaceLeaving();
      if (++this.sinceRecompute >= this.period) this.recompute();
    }
    this.trackFlat(this.held);
  }

  /**
   * Exact state from the values held: two passes over deviations from the newest value (the shift the
   * next updates work relative to; a constant window gives exactly M2 = 0), with the usual correction
   * term for the rounding of the mean. Order does not matter, so the buffer is read as it lies.
   */
  private recompute(): void {
    const buf = this.buf;
    const n = this.held;
    const shift = this.next;
    let s = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      s += buf[i]! - shift;
      sum += buf[i]!;
    }
    const meanDev = s / n;
    let dev = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const d = buf[i]! - shift - meanDev;
      dev += d;
      sq += d * d;
    }
    const m2 = sq - (dev * dev) / n;
    this.n = n;
    this.shift = shift;
    this.meanDev = meanDev;
    this.m2 = m2 > 0 ? m2 : 0;
    this.sum = sum;
    this.sinceRecompute = 0;
  }

  reset(): void {
    this.head = 0;
    this.held = 0;
    this.resetMoments();
  }
}

/**
 * Sum, mean, variance and standard deviation of the values of the last `windowMs` milliseconds of event
 * time: samples with time in (now − windowMs, now], where now is the newest time seen by `update` or
 * `advanceTo` (call it on other events so the window ages without new samples). Numerics: WindowMoments.
 *
 * Storage: `capacity` samples, allocated here. Overflow policy: a sample arriving when the ring is full
 * evicts the oldest one early (the stats then cover less than windowMs) and is counted in
 * `overflowEvictions`; size capacity for the busiest window expected. Time never goes back: a sample older
 * than the newest time seen is stamped with that time (`lateSamples`).
 *
 * `ready` once windowMs of event time has been observed since the first sample, with at least `minSamples`
 * samples in the window. Moments are recomputed exactly once per `count` updates (amortised O(1)); an
 * emptied window restarts from exact zeros.
 */
export class TimeWindowStats extends WindowMoments {
  readonly windowMs: number;
  readonly minSamples: number;
  readonly capacity: number;
  /** event time of `next` (see pushNext) */
  nextTime = 0;
  overflowEvictions = 0;
  lateSamples = 0;
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  /** oldest sample */
  private head = 0;
  private held = 0;
  private now = -Infinity;
  private firstTime = NAN;

  constructor(windowMs: number, capacity: number, minSamples = 1) {
    super();
    this.windowMs = checkPositive('windowMs', windowMs);
    this.capacity = checkCount('capacity', capacity);
    this.minSamples = checkCount('minSamples', minSamples);
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get ready(): boolean {
    return this.held >= this.minSamples && this.now - this.firstTime >= this.windowMs;
  }
  get count(): number {
    return this.held;
  }

  /** A sample: value x at event time timeMs. */
  update(timeMs: number, x: number): void {
    this.nextTime = timeMs;
    this.next = x;
    this.pushNext();
  }

  pushNext(): void {
    let t = this.nextTime;
    if (t > this.now) this.now = t;
    else if (t < this.now) {
      t = this.now;
      this.lateSamples++;
    }
    this.evictExpired();
    if (this.held === this.capacity) this.overflow();
    if (this.firstTime !== this.firstTime) this.firstTime = t;
    let i = this.head + this.held;
    if (i >= this.capacity) i -= this.capacity;
    this.times[i] = t;
    this.values[i] = this.next;
    this.held++;
    this.addNext();
    if (++this.sinceRecompute >= this.held) this.recompute();
    this.trackFlat(this.held);
  }

  /** Moves event time forward to nowMs and evicts the samples that fell out of the window. */
  advanceTo(nowMs: number): void {
    if (nowMs > this.now) this.now = nowMs;
    if (this.evictExpired()) this.setFlat(this.held);
  }

  /** Evicts the samples at or before now − windowMs; true if any left. */
  private evictExpired(): boolean {
    const cutoff = this.now - this.windowMs;
    if (this.held === 0 || this.times[this.head]! > cutoff) return false;
    while (this.held > 0 && this.times[this.head]! <= cutoff) this.dropOldest();
    return true;
  }

  private overflow(): void {
    this.overflowEvictions++;
    this.dropOldest();
  }

  private dropOldest(): void {
    const h = this.head;
    this.leaving = this.values[h]!;
    this.head = h + 1 === this.capacity ? 0 : h + 1;
    this.held--;
    this.removeLeaving();
  }

  /** Exact state from the samples held (see RollingStats.recompute), shifted by the newest value. */
  private recompute(): void {
    const vals = this.values;
    const n = this.held;
    const cap = this.capacity;
    const shift = this.next;
    let s = 0;
    let sum = 0;
    for (let k = 0, i = this.head; k < n; k++, i = i + 1 === cap ? 0 : i + 1) {
      s += vals[i]! - shift;
      sum += vals[i]!;
    }
    const meanDev = s / n;
    let dev = 0;
    let sq = 0;
    for (let k = 0, i = this.head; k < n; k++, i = i + 1 === cap ? 0 : i + 1) {
      const d = vals[i]! - shift - meanDev;
      dev += d;
      sq += d * d;
    }
    const m2 = sq - (dev * dev) / n;
    this.n = n;
    this.shift = shift;
    this.meanDev = meanDev;
    this.m2 = m2 > 0 ? m2 : 0;
    this.sum = sum;
    this.sinceRecompute = 0;
  }

  reset(): void {
    this.head = 0;
    this.held = 0;
    this.now = -Infinity;
    this.firstTime = NAN;
    this.overflowEvictions = 0;
    this.lateSamples = 0;
    this.resetMoments();
  }
}
