/**
 * The equity curve, downsampled on event time into a preallocated ring: one bucket per `intervalMs`
 * (aligned to multiples of it) holding the equity at the bucket's last sample and its low and high, so a
 * dip between samples is not lost. The ring keeps the last `capacity` buckets: bounded memory whatever
 * the session's length. `add` is O(1) and allocates nothing.
 */
export class EquityCurve {
  private readonly startMs: Float64Array;
  private readonly closeEq: Float64Array;
  private readonly lowEq: Float64Array;
  private readonly highEq: Float64Array;
  /** next slot to write */
  private head = 0;
  private stored = 0;
  // the open bucket
  private openStart = NaN;
  private openClose = NaN;
  private openLow = NaN;
  private openHigh = NaN;

  constructor(
    readonly capacity: number,
    readonly intervalMs: number,
  ) {
    if (!(capacity >= 1) || !Number.isInteger(capacity)) throw new RangeError(`EquityCurve capacity must be a positive integer; got ${capacity}`);
    if (!(intervalMs > 0)) throw new RangeError(`EquityCurve intervalMs must be > 0; got ${intervalMs}`);
    this.startMs = new Float64Array(capacity);
    this.closeEq = new Float64Array(capacity);
    this.lowEq = new Float64Array(capacity);
    this.highEq = new Float64Array(capacity);
  }

  /**
   * One sample read from objects (Portfolio.sample's path: doubles passed to a call that is not inlined are
   * boxed, fields are not).
   */
  addFrom(clock: { readonly eventTimeMs: number }, source: { readonly equityNow: number }): void {
    this.add(clock.eventTimeMs, source.equityNow);
  }

  /** One equity sample at event time `timeMs` (times are expected not to go back by more than a bucket). */
  add(timeMs: number, equity: number): void {
    if (!(equity === equity)) return;
    if (timeMs >= this.openStart + this.intervalMs) this.commit();
    if (!(this.openStart === this.openStart)) {
      this.openStart = Math.floor(timeMs / this.intervalMs) * this.intervalMs;
      this.openLow = equity;
      this.openHigh = equity;
    }
    this.openClose = equity;
    if (equity < this.openLow) this.openLow = equity;
    if (equity > this.openHigh) this.openHigh = equity;
  }

  /** Closes the open bucket into the ring (add does it when time passes the bucket; call at the end of a session). */
  commit(): void {
    if (!(this.openStart === this.openStart)) return;
    const h = this.head;
    this.startMs[h] = this.openStart;
    this.closeEq[h] = this.openClose;
    this.lowEq[h] = this.openLow;
    this.highEq[h] = this.openHigh;
    this.head = h + 1 === this.capacity ? 0 : h + 1;
    if (this.stored < this.capacity) this.stored++;
    this.openStart = NaN;
  }

  /** Closed buckets held (at most capacity). */
  get length(): number {
    return this.stored;
  }

  private slot(i: number): number {
    if (!(i >= 0 && i < this.stored)) throw new RangeError(`EquityCurve index ${i} outside 0..${this.stored - 1}`);
    const oldest = this.stored < this.capacity ? 0 : this.head;
    const k = oldest + i;
    return k >= this.capacity ? k - this.capacity : k;
  }

  /** Bucket i, oldest first: its start time (ms), closing equity, low and high. */
  timeAt(i: number): number {
    return this.startMs[this.slot(i)]!;
  }
  equityAt(i: number): number {
    return this.closeEq[this.slot(i)]!;
  }
  lowAt(i: number): number {
    return this.lowEq[this.slot(i)]!;
  }
  highAt(i: number): number {
    return this.highEq[this.slot(i)]!;
  }

  /** The closed buckets, oldest first (allocates: for reports and the dashboard). */
  toArray(): Array<{ timeMs: number; equity: number; low: number; high: number }> {
    const out = [];
    for (let i = 0; i < this.stored; i++) out.push({ timeMs: this.timeAt(i), equity: this.equityAt(i), low: this.lowAt(i), high: this.highAt(i) });
    return out;
  }
}
