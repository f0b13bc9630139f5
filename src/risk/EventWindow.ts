/**
 * "At most `limit` events in any sliding window of `windowMs`", exact, O(1), in a preallocated ring of the
 * last `limit` event times: a new event fits when the oldest of those left the window (the window is
 * (t - windowMs, t]). A limit of 0 disables it.
 */
export class EventWindow {
  private times: Float64Array;
  private next = 0;
  private limit = 0;

  constructor(
    limit: number,
    readonly windowMs: number,
  ) {
    this.times = new Float64Array(1);
    this.reset(limit);
  }

  /** the limit: most events in a window (0 = off) */
  get capacity(): number {
    return this.limit;
  }

  /** Resizes and clears (configuration time, not the hot path). */
  reset(limit: number): void {
    this.limit = limit;
    if (this.times.length < limit) this.times = new Float64Array(limit);
    this.times.fill(-Infinity);
    this.next = 0;
  }

  /**
   * True when one more event at `clock.eventTimeMs` would exceed the limit. The time is read from an object,
   * not passed: a double argument to a call the compiler does not inline is boxed (an allocation).
   */
  full(clock: { readonly eventTimeMs: number }): boolean {
    return this.limit > 0 && this.times[this.next]! > clock.eventTimeMs - this.windowMs;
  }

  record(clock: { readonly eventTimeMs: number }): void {
    if (this.limit === 0) return;
    this.times[this.next] = clock.eventTimeMs;
    this.next = this.next + 1 === this.limit ? 0 : this.next + 1;
  }

  /** Events inside the window ending at `t` (for stats; O(limit)). */
  count(t: number): number {
    let n = 0;
    for (let i = 0; i < this.limit; i++) if (this.times[i]! > t - this.windowMs) n++;
    return n;
  }
}
