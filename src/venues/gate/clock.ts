/**
 * Our estimate of Gate's clock: local wall time plus an offset. Gate signs requests with a seconds
 * `Timestamp` (REST) or `time` (WS API) that must lie within 60 s of its clock (protocols.md §2.7-§2.8),
 * else REQUEST_EXPIRED. Gate offers no futures time endpoint, but every REST answer carries `X-In-Time`
 * (µs, venue clock) and WS API headers carry `x_in_time`: the offset is re-estimated from such a stamp
 * when the venue says our clock is off, taking the venue's receive time to be half-way through the
 * round trip (error at most half the round trip, far inside the 60 s window).
 */
export class GateClock {
  /** venue minus local, ms */
  offsetMs = 0;
  readonly counters = { samples: 0, resyncs: 0 };

  constructor(private readonly local: () => number = Date.now) {}

  /** Venue time estimate, ms. */
  now(): number {
    return this.local() + this.offsetMs;
  }

  /**
   * One venue stamp (`X-In-Time` / `x_in_time`, µs) of a request sent at `sentLocalMs` and answered at
   * `answeredLocalMs` (local clock). Returns the new offset.
   */
  sample(sentLocalMs: number, answeredLocalMs: number, venueInUs: number): number {
    if (!(venueInUs > 0)) return this.offsetMs;
    this.counters.samples++;
    const mid = (sentLocalMs + answeredLocalMs) / 2;
    const next = Math.round(venueInUs / 1000 - mid);
    if (Math.abs(next - this.offsetMs) >= 1000) this.counters.resyncs++;
    this.offsetMs = next;
    return next;
  }
}
