import { parseBanUntil } from './errors.js';

/**
 * Local rate budgets that keep the engine under Binance USD-M's limits (protocols.md §1.6): 300 orders /
 * 10 s and 1,200 orders / min per account, 2,400 request weight / min per IP. Each limit is a bucketed
 * sliding window that counts the current bucket and the whole oldest partial one, so it never counts less
 * than the venue does whether the venue's windows slide or are fixed (fixed windows make it stricter, not
 * looser). Response headers (X-MBX-USED-WEIGHT-1M, X-MBX-ORDER-COUNT-10S/1M) raise the count when the venue
 * has seen more (another process on the same IP or account). 429 backs off; 418 halts order entry.
 *
 * `now` is ms; pass venue-adjusted time (TimeSync.serverNow) so window ends line up with the venue's.
 * tryAcquire* never allocate.
 */

/** Request weights of the endpoints the engine uses (§1.6). */
export const Weight = {
  newOrder: 0,
  batchOrders: 5,
  cancelOrder: 1,
  cancelAllOpenOrders: 1,
  countdownCancelAll: 10,
  queryOrder: 1,
  openOrdersSymbol: 1,
  openOrdersAll: 40,
  positionRisk: 5,
  account: 5,
  balance: 5,
  leverage: 1,
  listenKey: 1,
  time: 1,
  exchangeInfo: 1,
  /** Algo service: not in our doc snapshot; assumed like the order endpoints (weight 0 to place). */
  newAlgoOrder: 0,
  cancelAlgoOrder: 1,
  queryAlgoOrder: 1,
  cancelAllAlgoOpenOrders: 1,
  openAlgoOrdersSymbol: 1,
  openAlgoOrdersAll: 40,
} as const;

/** GET /fapi/v1/depth weight by limit. */
export function depthWeight(limit: number): number {
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

export const enum Refusal {
  None = 0,
  Orders10s = 1,
  Orders1m = 2,
  Weight1m = 3,
  Backoff = 4,
  Halted = 5,
}

/** A sliding count over `windowMs` in `buckets` buckets, plus the venue's last reported count. */
export class WindowCount {
  readonly cap: number;
  private readonly bucketMs: number;
  private readonly n: number;
  private readonly counts: Float64Array;
  /** newest bucket index seen; the window is buckets head-n+1 .. head */
  private head = -1;
  private total = 0;
  private venueCount = 0;
  private venueUntil = 0;
  private sinceVenue = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    buckets: number,
    headroom: number,
  ) {
    this.cap = Math.max(1, Math.floor(limit * (1 - headroom)));
    this.bucketMs = windowMs / buckets;
    // One extra slot: the oldest bucket may be partly inside the window, so it still counts.
    this.n = buckets + 1;
    this.counts = new Float64Array(this.n);
  }

  /**
   * Moves the window to `now`, dropping the buckets that left it (O(1) amortised: a running total, no
   * scan). A clock that steps back keeps counting into the newest bucket, which can only over-count.
   */
  private advance(now: number): void {
    const idx = Math.floor(now / this.bucketMs);
    if (idx <= this.head) return;
    const steps = idx - this.head < this.n ? idx - this.head : this.n;
    for (let k = 1; k <= steps; k++) {
      const slot = (this.head + k) % this.n;
      this.total -= this.counts[slot]!;
      this.counts[slot] = 0;
    }
    this.head = idx;
  }

  /** Used count at `now`: the larger of ours and the venue's (plus what we sent since it reported). */
  used(now: number): number {
    this.advance(now);
    if (now < this.venueUntil) {
      const v = this.venueCount + this.sinceVenue;
      if (v > this.total) return v;
    }
    return this.total;
  }

  fits(now: number, k: number): boolean {
    return this.used(now) + k <= this.cap;
  }

  add(now: number, k: number): void {
    this.advance(now);
    const slot = this.head % this.n;
    this.counts[slot] = this.counts[slot]! + k;
    this.total += k;
    this.sinceVenue += k;
  }

  /**
   * The venue's count from a response header. It holds until the end of the venue's current window
   * (after that a fixed-window venue has reset, and our own sliding count still covers what we sent).
   */
  observe(now: number, count: number): void {
    this.venueCount = count;
    this.sinceVenue = 0;
    this.venueUntil = (Math.floor(now / this.windowMs) + 1) * this.windowMs;
  }

  /** End of the current venue window (for backoff without Retry-After). */
  windowEnd(now: number): number {
    return (Math.floor(now / this.windowMs) + 1) * this.windowMs;
  }
}

export interface RateBudgetOptions {
  /** Fraction of each limit kept spare. Default 0.1. */
  headroom?: number;
  orderLimit10s?: number;
  orderLimit1m?: number;
  weightLimit1m?: number;
  /** Called when order entry halts (418, auth failure, operator). */
  onAlarm?: (reason: string, untilMs: number) => void;
  /** Called when a halt ends (ban time passed or clearHalt()). */
  onResume?: () => void;
}

export interface RateBudgetCounters {
  acquiredOrders: number;
  acquiredWeight: number;
  refusedOrders10s: number;
  refusedOrders1m: number;
  refusedWeight: number;
  refusedBackoff: number;
  refusedHalted: number;
  rateLimited429: number;
  banned418: number;
  halts: number;
  headerUpdates: number;
}

/** Limits as the venue documents them (also listed in exchangeInfo.rateLimits). */
export const ORDER_LIMIT_10S = 300;
export const ORDER_LIMIT_1M = 1200;
export const WEIGHT_LIMIT_1M = 2400;

export class RateBudget {
  readonly orders10s: WindowCount;
  readonly orders1m: WindowCount;
  readonly weight1m: WindowCount;
  readonly counters: RateBudgetCounters = {
    acquiredOrders: 0,
    acquiredWeight: 0,
    refusedOrders10s: 0,
    refusedOrders1m: 0,
    refusedWeight: 0,
    refusedBackoff: 0,
    refusedHalted: 0,
    rateLimited429: 0,
    banned418: 0,
    halts: 0,
    headerUpdates: 0,
  };
  /** no request before this (ms); 0 = none */
  backoffUntil = 0;
  halted = false;
  haltReason = '';
  /** ms; Infinity = until clearHalt() */
  haltUntil = 0;
  /** why the last tryAcquire* said no */
  lastRefusal: Refusal = Refusal.None;

  constructor(private readonly opts: RateBudgetOptions = {}) {
    const h = opts.headroom ?? 0.1;
    if (!(h >= 0 && h < 1)) throw new RangeError(`headroom must be within [0, 1): ${h}`);
    this.orders10s = new WindowCount(opts.orderLimit10s ?? ORDER_LIMIT_10S, 10_000, 10, h);
    this.orders1m = new WindowCount(opts.orderLimit1m ?? ORDER_LIMIT_1M, 60_000, 60, h);
    this.weight1m = new WindowCount(opts.weightLimit1m ?? WEIGHT_LIMIT_1M, 60_000, 60, h);
  }

  /** Takes `n` order slots (both order windows) if all fit. Order placement has IP weight 0 on Binance. */
  tryAcquireOrder(now: number, n = 1): boolean {
    if (!this.open(now)) return false;
    if (!this.orders10s.fits(now, n)) return this.refuse(Refusal.Orders10s);
    if (!this.orders1m.fits(now, n)) return this.refuse(Refusal.Orders1m);
    this.orders10s.add(now, n);
    this.orders1m.add(now, n);
    this.counters.acquiredOrders += n;
    return true;
  }

  /** Takes `w` request weight if it fits. A weight of 0 still honours backoff and halt. */
  tryAcquireWeight(now: number, w: number): boolean {
    if (!this.open(now)) return false;
    if (w > 0) {
      if (!this.weight1m.fits(now, w)) return this.refuse(Refusal.Weight1m);
      this.weight1m.add(now, w);
      this.counters.acquiredWeight += w;
    }
    return true;
  }

  /**
   * Venue counters from a response; pass NaN (or a negative) for a header that was absent (rejected orders
   * may lack the order-count headers).
   */
  observeHeaders(now: number, usedWeight1m: number, orderCount10s: number, orderCount1m: number): void {
    this.counters.headerUpdates++;
    if (usedWeight1m >= 0) this.weight1m.observe(now, usedWeight1m);
    if (orderCount10s >= 0) this.orders10s.observe(now, orderCount10s);
    if (orderCount1m >= 0) this.orders1m.observe(now, orderCount1m);
  }

  /**
   * Reads the rate headers of an HTTP response (lower-case names, as undici and node give them) and reacts
   * to 429 / 418. `msg` is the error body's msg, if any (it may carry the ban end).
   */
  observeResponse(now: number, status: number, headers: Readonly<Record<string, string | string[] | undefined>>, msg = ''): void {
    this.observeHeaders(now, headerNum(headers['x-mbx-used-weight-1m']), headerNum(headers['x-mbx-order-count-10s']), headerNum(headers['x-mbx-order-count-1m']));
    if (status === 429) this.onRateLimited(now, headerNum(headers['retry-after']));
    else if (status === 418) this.onBanned(now, headerNum(headers['retry-after']), msg);
  }

  /** 429: no requests until Retry-After (seconds) when given, else the end of the current minute window. */
  onRateLimited(now: number, retryAfterSec: number): void {
    this.counters.rateLimited429++;
    const until = retryAfterSec >= 0 ? now + retryAfterSec * 1000 : this.weight1m.windowEnd(now);
    if (until > this.backoffUntil) this.backoffUntil = until;
  }

  /**
   * 418 (IP banned after ignoring 429s; bans escalate from 2 minutes to 3 days): halt everything and raise
   * the alarm. The ban ends at Retry-After, else at the time the message names, else when an operator
   * clears it.
   */
  onBanned(now: number, retryAfterSec: number, msg: string): void {
    this.counters.banned418++;
    let until = Number.POSITIVE_INFINITY;
    if (retryAfterSec >= 0) until = now + retryAfterSec * 1000;
    else {
      const t = parseBanUntil(msg);
      if (t > 0) until = t;
    }
    this.halt(now, `HTTP 418: IP banned${msg ? `: ${msg}` : ''}`, until);
  }

  /** Halts order entry and all requests (auth failure, ban, operator) and raises the alarm; a later halt can only extend it. */
  halt(_now: number, reason: string, untilMs = Number.POSITIVE_INFINITY): void {
    const fresh = !this.halted;
    this.halted = true;
    this.haltReason = reason;
    this.haltUntil = fresh ? untilMs : Math.max(this.haltUntil, untilMs);
    if (fresh) this.counters.halts++;
    this.opts.onAlarm?.(reason, this.haltUntil);
  }

  /** Operator action: lift a halt (and any backoff). */
  clearHalt(): void {
    const was = this.halted;
    this.halted = false;
    this.haltReason = '';
    this.haltUntil = 0;
    this.backoffUntil = 0;
    if (was) this.opts.onResume?.();
  }

  /** Whether a request may go now; ends a timed halt whose time has passed. */
  private open(now: number): boolean {
    if (this.halted) {
      if (now < this.haltUntil) return this.refuse(Refusal.Halted);
      this.clearHalt();
    }
    if (now < this.backoffUntil) return this.refuse(Refusal.Backoff);
    return true;
  }

  private refuse(r: Refusal): false {
    this.lastRefusal = r;
    const c = this.counters;
    if (r === Refusal.Orders10s) c.refusedOrders10s++;
    else if (r === Refusal.Orders1m) c.refusedOrders1m++;
    else if (r === Refusal.Weight1m) c.refusedWeight++;
    else if (r === Refusal.Backoff) c.refusedBackoff++;
    else c.refusedHalted++;
    return false;
  }
}

function headerNum(v: string | string[] | undefined): number {
  if (v === undefined) return Number.NaN;
  const s = typeof v === 'string' ? v : v[0];
  if (s === undefined || s === '') return Number.NaN;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : Number.NaN;
}
