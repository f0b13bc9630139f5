/** Argument checks for constructors, and the two-sum sample window shared by VWAP and trade imbalance. */

export function checkCount(name: string, n: number, min = 1): number {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer >= ${min} (got ${n})`);
  return n;
}

export function checkPositive(name: string, x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`${name} must be a finite number > 0 (got ${x})`);
  return x;
}

/**
 * How far back a rolling feature looks: the last `ticks` samples, or the samples of the last `windowMs`
 * milliseconds of event time, of which at most `capacity` are held (see TwoSumWindow for the overflow policy).
 */
export type WindowSpec = { ticks: number } | { windowMs: number; capacity: number };

/**
 * Sample window of a rolling feature of two sums (VWAP, trade imbalance), by count or by event time, with
 * the sums kept incrementally and recomputed exactly once per `count` updates so rounding cannot drift
 * (amortised O(1): a recomputation costs `count` additions).
 *
 * Time windows hold the samples with time in (now − windowMs, now]. Overflow policy: when `capacity`
 * samples are held and a new one arrives, the oldest is evicted early (the window covers less than
 * windowMs) and `overflowEvictions` counts it; size capacity for the busiest burst expected. Time never goes
 * back: a sample older than the newest seen is stamped with the newest time (`lateSamples` counts those).
 *
 * Feeding: `add(t, a, b)`, or set `nextTime` / `nextA` / `nextB` and call `addNext()`. The owners use the
 * second form: values travel in fields, so no call passes a double, and a call V8 does not inline boxes
 * nothing (see inputs.ts).
 */
export class TwoSumWindow {
  /** 0 for a time window */
  readonly ticks: number;
  /** 0 for a tick window */
  readonly windowMs: number;
  readonly capacity: number;
  sumA = 0;
  sumB = 0;
  overflowEvictions = 0;
  lateSamples = 0;
  nextTime = 0;
  nextA = 0;
  nextB = 0;
  /** samples held, oldest at `head` */
  count = 0;
  private head = 0;
  private readonly times: Float64Array;
  private readonly colA: Float64Array;
  private readonly colB: Float64Array;
  /** newest time seen (a tick window ignores time) */
  private now = -Infinity;
  private firstTime = NaN;
  private sinceRecompute = 0;

  constructor(spec: WindowSpec) {
    if ('ticks' in spec) {
      this.ticks = checkCount('ticks', spec.ticks);
      this.windowMs = 0;
      this.capacity = spec.ticks;
    } else {
      this.ticks = 0;
      this.windowMs = checkPositive('windowMs', spec.windowMs);
      this.capacity = checkCount('capacity', spec.capacity);
    }
    this.times = new Float64Array(this.capacity);
    this.colA = new Float64Array(this.capacity);
    this.colB = new Float64Array(this.capacity);
  }

  /** Tick window: `ticks` samples seen. Time window: at least windowMs of event time observed. */
  get covered(): boolean {
    if (this.ticks > 0) return this.count === this.ticks;
    return this.now - this.firstTime >= this.windowMs;
  }

  add(t: number, a: number, b: number): void {
    this.nextTime = t;
    this.nextA = a;
    this.nextB = b;
    this.addNext();
  }

  addNext(): void {
    let t = this.nextTime;
    if (this.ticks === 0) {
      if (t > this.now) this.now = t;
      else if (t < this.now) {
        t = this.now;
        this.lateSamples++;
      }
      this.evictBefore();
      if (this.count === this.capacity) this.overflow();
    } else if (this.count === this.ticks) this.dropOldest();
    if (this.firstTime !== this.firstTime) this.firstTime = t;
    let i = this.head + this.count;
    if (i >= this.capacity) i -= this.capacity;
    const a = this.nextA;
    const b = this.nextB;
    this.times[i] = t;
    this.colA[i] = a;
    this.colB[i] = b;
    this.count++;
    this.sumA += a;
    this.sumB += b;
    if (++this.sinceRecompute >= this.count) this.recompute();
  }

  /** Time window: moves event time to nowMs and drops the samples at or before nowMs − windowMs. */
  advanceTo(nowMs: number): void {
    if (this.ticks > 0) return;
    if (nowMs > this.now) this.now = nowMs;
    this.evictBefore();
  }

  private evictBefore(): void {
    const cutoff = this.now - this.windowMs;
    while (this.count > 0 && this.times[this.head]! <= cutoff) this.dropOldest();
  }

  private overflow(): void {
    this.overflowEvictions++;
    this.dropOldest();
  }

  private dropOldest(): void {
    const h = this.head;
    this.head = h + 1 === this.capacity ? 0 : h + 1;
    // an emptied window has exact zero sums: no residue carried into the next burst
    if (--this.count === 0) {
      this.sumA = 0;
      this.sumB = 0;
    } else {
      this.sumA -= this.colA[h]!;
      this.sumB -= this.colB[h]!;
    }
  }

  private recompute(): void {
    let a = 0;
    let b = 0;
    for (let k = 0, i = this.head; k < this.count; k++, i = i + 1 === this.capacity ? 0 : i + 1) {
      a += this.colA[i]!;
      b += this.colB[i]!;
    }
    this.sumA = a;
    this.sumB = b;
    this.sinceRecompute = 0;
  }

  reset(): void {
    this.head = 0;
    this.count = 0;
    this.sumA = 0;
    this.sumB = 0;
    this.now = -Infinity;
    this.firstTime = NaN;
    this.sinceRecompute = 0;
    this.overflowEvictions = 0;
    this.lateSamples = 0;
  }
}
