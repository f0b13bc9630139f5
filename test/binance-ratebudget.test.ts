import { describe, expect, it } from 'vitest';
import { RateBudget, Refusal, Weight, WindowCount, depthWeight } from '../src/venues/binance/RateBudget.js';
import { Rng } from '../src/sim/rng.js';
import { steadyHeapGrowth } from './helpers/steadyHeap.js';

/** Ms since some minute boundary, so window ends are easy to read. */
const T0 = 1_700_000_040_000; // a multiple of 60 000

describe('RateBudget: order windows', () => {
  it('keeps 10% headroom under 300 orders / 10 s and frees the slots as the window slides', () => {
    const b = new RateBudget();
    expect(b.orders10s.cap).toBe(270);
    expect(b.orders1m.cap).toBe(1080);
    expect(b.weight1m.cap).toBe(2160);
    let n = 0;
    while (b.tryAcquireOrder(T0 + n)) n++;
    expect(n).toBe(270);
    expect(b.lastRefusal).toBe(Refusal.Orders10s);
    expect(b.counters.refusedOrders10s).toBe(1);
    expect(b.counters.acquiredOrders).toBe(270);
    // the oldest 1 s bucket still counts while any of it may be inside the venue's window
    expect(b.tryAcquireOrder(T0 + 10_999)).toBe(false);
    expect(b.tryAcquireOrder(T0 + 11_000)).toBe(true);
    expect(b.counters.refusedOrders10s).toBe(2);
  });

  it('the 1-minute order window binds when the 10 s one does not', () => {
    const b = new RateBudget();
    for (let w = 0; w < 4; w++) for (let i = 0; i < 270; i++) expect(b.tryAcquireOrder(T0 + w * 11_000)).toBe(true);
    expect(b.orders1m.used(T0 + 44_000)).toBe(1080);
    expect(b.tryAcquireOrder(T0 + 44_000)).toBe(false);
    expect(b.lastRefusal).toBe(Refusal.Orders1m);
    expect(b.counters.refusedOrders1m).toBe(1);
    // neither window took the refused order
    expect(b.orders10s.used(T0 + 44_000)).toBe(0);
    // the first 270 leave the minute window after 61 s
    expect(b.tryAcquireOrder(T0 + 60_999)).toBe(false);
    expect(b.tryAcquireOrder(T0 + 61_000)).toBe(true);
  });

  it('takes n slots at once only if all fit', () => {
    const b = new RateBudget({ headroom: 0 });
    expect(b.orders10s.cap).toBe(300);
    expect(b.tryAcquireOrder(T0, 295)).toBe(true);
    expect(b.tryAcquireOrder(T0, 6)).toBe(false);
    expect(b.tryAcquireOrder(T0, 5)).toBe(true);
    expect(b.orders10s.used(T0)).toBe(300);
  });
});

describe('WindowCount', () => {
  it('equals a brute-force count of the last n+1 buckets at every step (random traffic)', () => {
    const rng = new Rng(3);
    const w = new WindowCount(1e9, 10_000, 10, 0);
    const log: Array<[t: number, k: number]> = [];
    let t = T0;
    for (let i = 0; i < 5000; i++) {
      // mostly small steps, sometimes a gap longer than the window
      t += rng.chance(0.01) ? 15_000 + rng.int(20_000) : rng.int(300);
      if (rng.chance(0.7)) {
        const k = 1 + rng.int(5);
        w.add(t, k);
        log.push([t, k]);
      }
      const idx = Math.floor(t / 1000);
      let want = 0;
      for (const [lt, k] of log) if (Math.floor(lt / 1000) >= idx - 10) want += k;
      expect(w.used(t)).toBe(want);
    }
  });

  it('a clock that steps back keeps counting (never forgets what was sent)', () => {
    const w = new WindowCount(100, 10_000, 10, 0);
    w.add(T0 + 5000, 3);
    w.add(T0 + 1000, 2);
    expect(w.used(T0 + 1000)).toBe(5);
    expect(w.used(T0 + 15_999)).toBe(5);
    expect(w.used(T0 + 16_000)).toBe(0);
  });
});

describe('RateBudget: request weight', () => {
  it('counts per-endpoint weight against 2400/min minus headroom', () => {
    const b = new RateBudget();
    expect(depthWeight(1000)).toBe(20);
    expect(depthWeight(100)).toBe(5);
    expect(depthWeight(5)).toBe(2);
    expect(Weight.newOrder).toBe(0);
    expect(Weight.countdownCancelAll).toBe(10);
    expect(Weight.openOrdersAll).toBe(40);
    let n = 0;
    while (b.tryAcquireWeight(T0 + n * 100, depthWeight(1000))) n++;
    expect(n).toBe(108); // 108 x 20 = 2160
    expect(b.lastRefusal).toBe(Refusal.Weight1m);
    expect(b.counters.refusedWeight).toBe(1);
    // weight 0 (order placement) is not limited by the weight window
    expect(b.tryAcquireWeight(T0 + 10_900, 0)).toBe(true);
    expect(b.counters.acquiredWeight).toBe(2160);
  });

  it('the venue\'s higher count (X-MBX-USED-WEIGHT-1M) wins until its minute ends', () => {
    const b = new RateBudget();
    const t = T0 + 30_000;
    b.observeResponse(t, 200, { 'x-mbx-used-weight-1m': '2000' });
    expect(b.weight1m.used(t)).toBe(2000);
    expect(b.tryAcquireWeight(t, 161)).toBe(false);
    expect(b.tryAcquireWeight(t, 160)).toBe(true);
    // what we sent since the header is added to the venue's figure
    expect(b.weight1m.used(t + 1)).toBe(2160);
    expect(b.tryAcquireWeight(t + 1, 1)).toBe(false);
    // a new minute on the venue: only our own 160 remain in the sliding window
    expect(b.weight1m.used(T0 + 60_000)).toBe(160);
    expect(b.tryAcquireWeight(T0 + 60_000, 1000)).toBe(true);
    // a lower venue figure does not lower ours
    b.observeHeaders(T0 + 60_001, 5, Number.NaN, Number.NaN);
    expect(b.weight1m.used(T0 + 60_001)).toBe(1160);
    expect(b.counters.headerUpdates).toBe(2);
  });

  it('order-count headers raise the order windows; missing headers change nothing', () => {
    const b = new RateBudget();
    b.observeResponse(T0, 200, { 'x-mbx-order-count-10s': '269', 'x-mbx-order-count-1m': '500', 'x-mbx-used-weight-1m': '3' });
    expect(b.tryAcquireOrder(T0)).toBe(true);
    expect(b.tryAcquireOrder(T0)).toBe(false);
    expect(b.lastRefusal).toBe(Refusal.Orders10s);
    expect(b.orders1m.used(T0)).toBe(501);
    // a reject without order headers
    b.observeResponse(T0 + 1, 400, { 'x-mbx-used-weight-1m': '4' });
    expect(b.orders1m.used(T0 + 1)).toBe(501);
    // the venue's 10 s window ends at the next multiple of 10 s
    expect(b.tryAcquireOrder(T0 + 10_000)).toBe(true);
  });
});

describe('RateBudget: 429 backoff and 418 halt', () => {
  it('429 with Retry-After backs off that many seconds (everything, orders and weight)', () => {
    const b = new RateBudget();
    b.observeResponse(T0 + 1000, 429, { 'retry-after': '7', 'x-mbx-used-weight-1m': '2401' });
    expect(b.backoffUntil).toBe(T0 + 8000);
    expect(b.tryAcquireOrder(T0 + 7999)).toBe(false);
    expect(b.lastRefusal).toBe(Refusal.Backoff);
    expect(b.tryAcquireWeight(T0 + 7999, 1)).toBe(false);
    expect(b.tryAcquireWeight(T0 + 7999, 0)).toBe(false);
    expect(b.counters).toMatchObject({ rateLimited429: 1, refusedBackoff: 3 });
    expect(b.tryAcquireOrder(T0 + 8000)).toBe(true);
  });

  it('429 without Retry-After backs off to the end of the current minute', () => {
    const b = new RateBudget();
    b.onRateLimited(T0 + 21_500, Number.NaN);
    expect(b.backoffUntil).toBe(T0 + 60_000);
    // a shorter later backoff does not shorten it
    b.onRateLimited(T0 + 22_000, 1);
    expect(b.backoffUntil).toBe(T0 + 60_000);
    expect(b.tryAcquireWeight(T0 + 59_999, 1)).toBe(false);
    expect(b.tryAcquireWeight(T0 + 60_000, 1)).toBe(true);
  });

  it('418 halts with an alarm until Retry-After passes, then resumes by itself', () => {
    const alarms: Array<[string, number]> = [];
    let resumed = 0;
    const b = new RateBudget({ onAlarm: (r, u) => alarms.push([r, u]), onResume: () => resumed++ });
    b.observeResponse(T0, 418, { 'retry-after': '120' }, 'Way too many requests; IP banned.');
    expect(b.halted).toBe(true);
    expect(b.haltReason).toMatch(/418/);
    expect(b.haltUntil).toBe(T0 + 120_000);
    expect(alarms).toEqual([[b.haltReason, T0 + 120_000]]);
    expect(b.tryAcquireOrder(T0 + 119_999)).toBe(false);
    expect(b.tryAcquireWeight(T0 + 119_999, 1)).toBe(false);
    expect(b.lastRefusal).toBe(Refusal.Halted);
    expect(b.counters).toMatchObject({ banned418: 1, halts: 1, refusedHalted: 2 });
    expect(b.tryAcquireOrder(T0 + 120_000)).toBe(true);
    expect(b.halted).toBe(false);
    expect(resumed).toBe(1);
  });

  it('418 without Retry-After takes the ban end from the message, else waits for the operator', () => {
    const b = new RateBudget();
    b.onBanned(T0, Number.NaN, 'Way too many requests; IP(1.2.3.4) banned until 1700000400000. Please use the websocket for live updates to avoid bans.');
    expect(b.haltUntil).toBe(1_700_000_400_000);
    b.clearHalt();
    b.onBanned(T0, Number.NaN, '');
    expect(b.haltUntil).toBe(Number.POSITIVE_INFINITY);
    expect(b.tryAcquireOrder(T0 + 3 * 86_400_000)).toBe(false);
    b.clearHalt();
    expect(b.tryAcquireOrder(T0 + 3 * 86_400_000)).toBe(true);
  });

  it('an operator halt (e.g. invalid API key) holds until cleared, and a later halt only extends it', () => {
    const alarms: string[] = [];
    const b = new RateBudget({ onAlarm: (r) => alarms.push(r) });
    b.halt(T0, 'InvalidApiKey -2015', T0 + 1000);
    b.halt(T0, 'again', T0 + 500);
    expect(b.haltUntil).toBe(T0 + 1000);
    expect(b.counters.halts).toBe(1);
    expect(alarms).toEqual(['InvalidApiKey -2015', 'again']);
    b.halt(T0, 'operator');
    expect(b.tryAcquireOrder(T0 + 10_000)).toBe(false);
    b.clearHalt();
    expect(b.tryAcquireOrder(T0 + 10_000)).toBe(true);
  });

  it('rejects a nonsensical headroom', () => {
    expect(() => new RateBudget({ headroom: 1 })).toThrow(RangeError);
    expect(() => new RateBudget({ headroom: -0.1 })).toThrow(RangeError);
  });
});

describe('RateBudget: hot path', () => {
  it('tryAcquireOrder / tryAcquireWeight allocate nothing (steady heap over 1M calls)', () => {
    const b = new RateBudget({ orderLimit10s: 1e12, orderLimit1m: 1e12, weightLimit1m: 1e12 });
    const run = (n: number, t0: number): number => {
      let ok = 0;
      for (let i = 0; i < n; i++) {
        const t = t0 + i * 0.05;
        if (b.tryAcquireOrder(t)) ok++;
        if (b.tryAcquireWeight(t, 1)) ok++;
      }
      return ok;
    };
    run(100_000, T0);
    let t0 = T0;
    let granted = 0;
    const growth = steadyHeapGrowth(() => {
      t0 += 100_000;
      granted += run(1_000_000, t0);
    });
    expect(granted).toBe(5 * 2_000_000);
    // 2M allocations of even 16 bytes would be 32 MB
    expect(growth).toBeLessThan(4 * 1024 * 1024);
  });
});
