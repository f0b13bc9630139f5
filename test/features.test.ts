/**
 * Strategy features (src/strategy/features): each against the obvious array-based formula on random data
 * (fast-check), hand-computed small examples, edge cases (warm-up, constant series, time eviction, empty
 * bars), long-run drift, and a heap check (1M updates of every feature: no minor GC).
 *
 * Tolerances (the incremental and the reference computations round differently):
 * - sums, means, prices, ratios: |actual − expected| ≤ 1e-9 · max(|expected|, scale), scale = the size of
 *   the inputs that passed through the window since its last exact recomputation (at most 2 windows back):
 *   a result near 0 is only as exact as the inputs it was built from;
 * - variances: 1e-9 · variance + 1e-14 · spread², spread = max − min of those inputs (measured worst case of
 *   the shifted Welford updates: 3e-16 · spread²); standard deviations: 1e-9 · std + 1e-7 · spread, the
 *   square root of that floor. The reference variance is itself computed on deviations from the window's
 *   first value, or its own rounding at price scale would dominate.
 */
import { performance, PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { L2Book } from '../src/book/L2Book.js';
import { AT, BT, RecordType, packHeader } from '../src/ring/layout.js';
import { MarketEvent } from '../src/strategy/views.js';
import {
  Atr,
  Bar,
  Bollinger,
  BookImbalance,
  Ema,
  LinearWeightedMean,
  Macd,
  Microprice,
  PriceVelocity,
  RealizedVol,
  RollingStats,
  RollingVwap,
  Rsi,
  SessionVwap,
  Sma,
  TimeBars,
  TimeWindowStats,
  TradeImbalance,
  VolumeSurge,
  type BookLevels,
  type EmaSeed,
  type QuoteInput,
  type TimeBarsOptions,
  type TradeInput,
  type WindowSpec,
} from '../src/strategy/features/index.js';

// ------------------------------------------------------------------ comparison

const REL = 1e-9;

function near(actual: number, expected: number, scale = 0): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= REL * Math.max(Math.abs(expected), scale);
}

function expectNear(actual: number, expected: number, scale = 0, what = ''): void {
  if (!near(actual, expected, scale)) {
    throw new Error(`${what}: got ${actual}, expected ${expected} (scale ${scale}, diff ${actual - expected})`);
  }
}

function expectVar(actual: number, expected: number, spread: number, what: string): void {
  if (!(Math.abs(actual - expected) <= 1e-9 * expected + 1e-14 * spread * spread)) {
    throw new Error(`${what}: got ${actual}, expected ${expected} (spread ${spread}, diff ${actual - expected})`);
  }
}

function expectStd(actual: number, expected: number, spread: number, what: string): void {
  if (!(Math.abs(actual - expected) <= 1e-9 * expected + 1e-7 * spread)) {
    throw new Error(`${what}: got ${actual}, expected ${expected} (spread ${spread}, diff ${actual - expected})`);
  }
}

function spreadOf(xs: readonly number[]): number {
  return xs.length > 0 ? Math.max(...xs) - Math.min(...xs) : 0;
}

/** the inputs that can still weigh on a windowed feature's state at step i (the window and the one before) */
function recent<T>(xs: readonly T[], i: number, window: number): T[] {
  return xs.slice(Math.max(0, i - 2 * window + 1), i + 1);
}

function maxAbs(xs: readonly number[]): number {
  let m = 0;
  for (const x of xs) m = Math.max(m, Math.abs(x));
  return m;
}

// ------------------------------------------------------------------ generators

/** market data is never subnormal: magnitudes below 1e-9 become 0 */
const noTiny = (x: number): number => (Math.abs(x) < 1e-9 ? 0 : x);

/** any values, negatives included, with flat runs */
const values = (maxLength = 300): fc.Arbitrary<number[]> =>
  fc.array(fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }).map(noTiny), fc.constantFrom(0, 1, -1, 7.5)), { minLength: 1, maxLength });

/** positive price paths at any scale, steps of up to ±1% with flat runs (the cancellation-prone case) */
const prices = (maxLength = 300): fc.Arbitrary<number[]> =>
  fc
    .record({
      base: fc.double({ min: 0.01, max: 1e5, noNaN: true }),
      steps: fc.array(fc.oneof(fc.constant(0), fc.double({ min: -0.01, max: 0.01, noNaN: true }).map(noTiny)), { minLength: 1, maxLength }),
    })
    .map(({ base, steps }) => {
      const out: number[] = [];
      let p = base;
      for (const s of steps) {
        p *= 1 + s;
        out.push(p);
      }
      return out;
    });

/** non-negative volumes with zeros */
const volumes = (maxLength = 300): fc.Arbitrary<number[]> =>
  fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true }).map(noTiny), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength });

interface Trade {
  t: number;
  price: number;
  qty: number;
  buyerMaker: boolean;
}

/** trades with non-decreasing event times (gaps up to `maxGap` ms, ties included) */
const trades = (maxLength = 300, maxGap = 700): fc.Arbitrary<Trade[]> =>
  fc
    .array(
      fc.record({
        gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: maxGap })),
        step: fc.oneof(fc.constant(0), fc.double({ min: -0.005, max: 0.005, noNaN: true })),
        qty: fc.oneof(fc.double({ min: 0.001, max: 50, noNaN: true }), fc.constantFrom(0.01, 1)),
        buyerMaker: fc.boolean(),
      }),
      { minLength: 1, maxLength },
    )
    .map((rows) => {
      let t = 1_700_000_000_000;
      let p = 50_000;
      return rows.map((r) => {
        t += r.gap;
        p *= 1 + r.step;
        return { t, price: p, qty: r.qty, buyerMaker: r.buyerMaker };
      });
    });

const RUNS = { numRuns: 150 };

// ------------------------------------------------------------------ references (plain array formulas)

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** two-pass population and sample variance, on deviations from the first value (exact for prices) */
function variances(xs: readonly number[]): { pop: number; sample: number } {
  const k = xs[0] ?? 0;
  let d = 0;
  for (const x of xs) d += x - k;
  const m = d / xs.length;
  let s = 0;
  for (const x of xs) s += (x - k - m) * (x - k - m);
  return { pop: xs.length > 1 ? s / xs.length : 0, sample: xs.length > 1 ? s / (xs.length - 1) : 0 };
}

function lastN<T>(xs: readonly T[], i: number, n: number): T[] {
  return xs.slice(Math.max(0, i - n + 1), i + 1);
}

function refEma(xs: readonly number[], n: number, seed: EmaSeed): number[] {
  const a = 2 / (n + 1);
  const out: number[] = [];
  let v = NaN;
  xs.forEach((x, i) => {
    if (i === 0) v = x;
    else if (seed === 'sma' && i < n) v = mean(xs.slice(0, i + 1));
    else v = v + a * (x - v);
    out.push(v);
  });
  return out;
}

function refRsi(ps: readonly number[], n: number): number[] {
  const out: number[] = [NaN];
  let g = 0;
  let l = 0;
  const gains: number[] = [];
  const losses: number[] = [];
  for (let i = 1; i < ps.length; i++) {
    const c = ps[i]! - ps[i - 1]!;
    gains.push(Math.max(c, 0));
    losses.push(Math.max(-c, 0));
    const k = gains.length;
    if (k <= n) {
      g = mean(gains);
      l = mean(losses);
    } else {
      g = (g * (n - 1) + gains[k - 1]!) / n;
      l = (l * (n - 1) + losses[k - 1]!) / n;
    }
    out.push(l === 0 ? (g === 0 ? 50 : 100) : 100 - 100 / (1 + g / l));
  }
  return out;
}

interface Hlc {
  h: number;
  l: number;
  c: number;
}

function refAtr(bars: readonly Hlc[], n: number): number[] {
  const trs = bars.map((b, i) => (i === 0 ? b.h - b.l : Math.max(b.h - b.l, Math.abs(b.h - bars[i - 1]!.c), Math.abs(b.l - bars[i - 1]!.c))));
  const out: number[] = [];
  let atr = NaN;
  trs.forEach((tr, i) => {
    atr = i < n ? mean(trs.slice(0, i + 1)) : (atr * (n - 1) + tr) / n;
    out.push(atr);
  });
  return out;
}

function refMacd(xs: readonly number[], f: number, s: number, sig: number): { line: number[]; signal: number[]; hist: number[] } {
  const fast = refEma(xs, f, 'first');
  const slow = refEma(xs, s, 'first');
  const valid: number[] = [];
  for (let i = s - 1; i < xs.length; i++) valid.push(fast[i]! - slow[i]!);
  const signalValid = refEma(valid, sig, 'first');
  const line: number[] = [];
  const signal: number[] = [];
  const hist: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const k = i - (s - 1);
    line.push(k >= 0 ? valid[k]! : NaN);
    signal.push(k >= 0 ? signalValid[k]! : NaN);
    hist.push(k >= 0 ? valid[k]! - signalValid[k]! : NaN);
  }
  return { line, signal, hist };
}

/** Samples in a time window at step i: time in (t_i − w, t_i], at most `cap` newest. */
function timeWindow<T extends { t: number }>(xs: readonly T[], i: number, w: number, cap: number): T[] {
  const now = xs[i]!.t;
  const inWin = xs.slice(0, i + 1).filter((x) => x.t > now - w);
  return inWin.slice(Math.max(0, inWin.length - cap));
}

interface RefBar {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  buyVolume: number;
  sellVolume: number;
  tradeCount: number;
}

/** Bars closed by the time of the last trade, empty intervals by the builder's rules. */
function refBars(ts: readonly Trade[], interval: number, emitEmpty: boolean, maxEmptyRun: number): RefBar[] {
  const buckets = new Map<number, Trade[]>();
  for (const tr of ts) {
    const k = Math.floor(tr.t / interval);
    const b = buckets.get(k) ?? [];
    b.push(tr);
    buckets.set(k, b);
  }
  const first = Math.floor(ts[0]!.t / interval);
  const lastOpen = Math.floor(ts[ts.length - 1]!.t / interval);
  const out: RefBar[] = [];
  let prevClose = NaN;
  let k = first;
  while (k < lastOpen) {
    const b = buckets.get(k);
    if (b) {
      out.push({
        openTime: k * interval,
        open: b[0]!.price,
        high: Math.max(...b.map((x) => x.price)),
        low: Math.min(...b.map((x) => x.price)),
        close: b[b.length - 1]!.price,
        volume: sum(b.map((x) => x.qty)),
        quoteVolume: sum(b.map((x) => x.qty * x.price)),
        buyVolume: sum(b.filter((x) => !x.buyerMaker).map((x) => x.qty)),
        sellVolume: sum(b.filter((x) => x.buyerMaker).map((x) => x.qty)),
        tradeCount: b.length,
      });
      prevClose = b[b.length - 1]!.price;
      k++;
      continue;
    }
    let run = 0;
    while (k + run < lastOpen && !buckets.has(k + run)) run++;
    if (emitEmpty && run <= maxEmptyRun) {
      for (let j = 0; j < run; j++) {
        out.push({ openTime: (k + j) * interval, open: prevClose, high: prevClose, low: prevClose, close: prevClose, volume: 0, quoteVolume: 0, buyVolume: 0, sellVolume: 0, tradeCount: 0 });
      }
    }
    k += run;
  }
  return out;
}

function copyBar(b: Bar): RefBar {
  return {
    openTime: b.openTime,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    quoteVolume: b.quoteVolume,
    buyVolume: b.buyVolume,
    sellVolume: b.sellVolume,
    tradeCount: b.tradeCount,
  };
}

/** A trade as plain fields (TradeInput). */
class TradeRecord implements TradeInput {
  eventTime = 0;
  price = 0;
  qty = 0;
  buyerMaker = false;
}

/** An array-backed book (best first) for the BookLevels interface. */
class ArrayBook implements BookLevels {
  constructor(
    readonly bids: Array<[number, number]>,
    readonly asks: Array<[number, number]>,
  ) {}
  get bidLevels(): number {
    return this.bids.length;
  }
  get askLevels(): number {
    return this.asks.length;
  }
  bidPrice(i: number): number {
    return this.bids[i]?.[0] ?? NaN;
  }
  bidQty(i: number): number {
    return this.bids[i]?.[1] ?? 0;
  }
  askPrice(i: number): number {
    return this.asks[i]?.[0] ?? NaN;
  }
  askQty(i: number): number {
    return this.asks[i]?.[1] ?? 0;
  }
}

// ------------------------------------------------------------------ EMA, SMA, rolling stats

describe('Ema', () => {
  it('hand-computed: period 3 (α = 0.5), first-value and SMA seeds; ready after 3', () => {
    const e = new Ema(3);
    const s = new Ema(3, 'sma');
    const got: number[][] = [];
    for (const x of [1, 2, 3, 4]) {
      e.update(x);
      s.update(x);
      got.push([e.value, s.value, Number(e.ready)]);
    }
    expect(e.alpha).toBe(0.5);
    expect(got).toEqual([
      [1, 1, 0],
      [1.5, 1.5, 0],
      [2.25, 2, 1],
      [3.125, 3, 1],
    ]);
    e.reset();
    expect(e.value).toBeNaN();
    expect(e.ready).toBe(false);
  });

  it('matches the reference recurrence on random data (both seeds)', () => {
    fc.assert(
      fc.property(values(), fc.integer({ min: 1, max: 30 }), fc.constantFrom<EmaSeed>('first', 'sma'), (xs, n, seed) => {
        const e = new Ema(n, seed);
        const ref = refEma(xs, n, seed);
        const scale = maxAbs(xs);
        xs.forEach((x, i) => {
          e.update(x);
          expectNear(e.value, ref[i]!, scale, `ema[${i}]`);
          expect(e.ready).toBe(i + 1 >= n);
        });
      }),
      RUNS,
    );
  });

  it('constant series stays exactly constant', () => {
    const e = new Ema(5, 'sma');
    for (let i = 0; i < 100; i++) e.update(0.1);
    expect(e.value).toBe(0.1);
  });
});

describe('Sma and RollingStats (last N ticks)', () => {
  it('hand-computed', () => {
    const sma = new Sma(3);
    const got: number[] = [];
    for (const x of [1, 2, 3, 4, 5]) {
      sma.update(x);
      got.push(sma.value);
    }
    expect(got).toEqual([1, 1.5, 2, 3, 4]);
    expect(sma.sum).toBe(12);
    const st = new RollingStats(3);
    for (const x of [2, 4, 4, 4, 5, 5, 7, 9]) st.update(x);
    expect(st.mean).toBe(7);
    expect(st.sum).toBe(21);
    expectNear(st.variance, 8 / 3, 0, 'pop variance');
    expectNear(st.sampleVariance, 4, 0, 'sample variance');
    expectNear(st.sampleStd, 2, 0, 'sample std');
    expect(st.oldest).toBe(5);
  });

  it('warm-up: outputs cover the values so far; ready at N', () => {
    const st = new RollingStats(4);
    expect(st.mean).toBeNaN();
    expect(st.variance).toBe(0);
    st.update(10);
    expect([st.mean, st.std, st.ready]).toEqual([10, 0, false]);
    st.update(20);
    st.update(30);
    expect(st.ready).toBe(false);
    expect(st.mean).toBe(20);
    st.update(40);
    expect(st.ready).toBe(true);
    expect(st.mean).toBe(25);
    st.reset();
    expect([st.count, st.sum, st.ready]).toEqual([0, 0, false]);
  });

  it('constant series: mean is the constant and std exactly 0, through many recomputations', () => {
    const st = new RollingStats(7);
    const sma = new Sma(7);
    for (let i = 0; i < 1000; i++) {
      st.update(50_000.1);
      sma.update(50_000.1);
    }
    expect(st.mean).toBe(50_000.1);
    expect(st.variance).toBe(0);
    expect(st.std).toBe(0);
    expect(sma.value).toBe(50_000.1);
  });

  it('matches two-pass window formulas on random data (values and price paths)', () => {
    fc.assert(
      fc.property(fc.oneof(values(), prices()), fc.integer({ min: 1, max: 25 }), (xs, n) => {
        const st = new RollingStats(n);
        const sma = new Sma(n);
        xs.forEach((x, i) => {
          st.update(x);
          sma.update(x);
          const w = lastN(xs, i, n);
          const past = recent(xs, i, n);
          const scale = maxAbs(past);
          const spread = spreadOf(past);
          const v = variances(w);
          expectNear(sma.value, mean(w), scale, 'sma');
          expectNear(sma.sum, sum(w), scale * w.length, 'sma sum');
          expectNear(st.mean, mean(w), scale, 'mean');
          expectNear(st.sum, sum(w), scale * w.length, 'sum');
          expectVar(st.variance, v.pop, spread, 'variance');
          expectVar(st.sampleVariance, v.sample, spread, 'sample variance');
          expectStd(st.std, Math.sqrt(v.pop), spread, 'std');
          expect(st.ready).toBe(i + 1 >= n);
          expect(sma.ready).toBe(i + 1 >= n);
        });
      }),
      RUNS,
    );
  });

  it('no drift: 300k updates at price scale (50,000 ± cents) match the exact window', () => {
    const n = 50;
    const st = new RollingStats(n);
    let p = 50_000;
    let seed = 12345;
    const hist: number[] = [];
    for (let i = 0; i < 300_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      p += ((seed % 21) - 10) * 0.01;
      st.update(p);
      if (i >= 300_000 - n) hist.push(p);
    }
    const v = variances(hist);
    expectNear(st.mean, mean(hist), 0, 'mean');
    // relative to the variance itself (not the price scale): no catastrophic cancellation
    expect(Math.abs(st.variance - v.pop) / v.pop).toBeLessThan(1e-9);
  });
});

describe('TimeWindowStats (last windowMs of event time)', () => {
  it('hand-computed eviction by time, advanceTo without samples, ready after windowMs', () => {
    const w = new TimeWindowStats(1000, 8);
    w.update(0, 1);
    w.update(400, 2);
    w.update(800, 3);
    expect([w.count, w.mean, w.ready]).toEqual([3, 2, false]);
    w.update(1200, 6); // window (200, 1200]: 2, 3, 6
    expect([w.count, w.sum, w.ready]).toEqual([3, 11, true]);
    expectNear(w.mean, 11 / 3, 0, 'mean');
    expectNear(w.variance, variances([2, 3, 6]).pop, 0, 'variance');
    w.advanceTo(1400); // (400, 1400]: 3, 6 (a sample exactly windowMs old is out)
    expect([w.count, w.sum]).toEqual([2, 9]);
    w.advanceTo(5000);
    expect([w.count, w.sum, w.variance]).toEqual([0, 0, 0]);
    expect(w.mean).toBeNaN();
    w.update(5100, 4);
    expect([w.count, w.mean, w.std]).toEqual([1, 4, 0]);
  });

  it('overflow: a full ring evicts the oldest early and counts it; late samples take the newest time', () => {
    const w = new TimeWindowStats(10_000, 2);
    w.update(0, 1);
    w.update(1, 2);
    w.update(2, 3);
    expect([w.count, w.sum, w.overflowEvictions]).toEqual([2, 5, 1]);
    w.update(1, 10); // late: stamped at t = 2
    expect([w.lateSamples, w.count, w.sum]).toEqual([1, 2, 13]);
    w.reset();
    expect([w.count, w.overflowEvictions, w.lateSamples, w.ready]).toEqual([0, 0, 0, false]);
  });

  it('minSamples gates ready; a window that turns flat reads std exactly 0', () => {
    const w = new TimeWindowStats(100, 16, 3);
    w.update(0, 1);
    w.update(110, 5);
    expect([w.count, w.ready]).toEqual([1, false]); // windowMs covered, 1 sample
    w.update(120, 5);
    expect(w.ready).toBe(false);
    w.update(130, 5);
    expect(w.ready).toBe(true);
    expect([w.mean, w.std]).toEqual([5, 0]);
    w.update(140, 5.3);
    w.update(241, 5.3); // (141, 241]: one value left
    w.update(242, 5.3);
    expect([w.count, w.mean, w.std]).toEqual([2, 5.3, 0]);
  });

  it('matches the filtered-array formulas on random timed data, with capacity overflow', () => {
    fc.assert(
      fc.property(trades(250), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 40 }), (ts, windowMs, cap) => {
        const w = new TimeWindowStats(windowMs, cap);
        ts.forEach((tr, i) => {
          w.update(tr.t, tr.price);
          const win = timeWindow(ts, i, windowMs, cap).map((x) => x.price);
          // the window holds at most cap samples: 2·cap back covers everything since the last recomputation
          const past = recent(ts, i, cap).map((x) => x.price);
          const scale = maxAbs(past);
          const v = variances(win);
          expect(w.count).toBe(win.length);
          expectNear(w.mean, mean(win), scale, 'mean');
          expectNear(w.sum, sum(win), scale * win.length, 'sum');
          expectVar(w.variance, v.pop, spreadOf(past), 'variance');
          expectVar(w.sampleVariance, v.sample, spreadOf(past), 'sample variance');
          expect(w.ready).toBe(tr.t - ts[0]!.t >= windowMs);
        });
      }),
      RUNS,
    );
  });
});

// ------------------------------------------------------------------ indicators

describe('Rsi (Wilder)', () => {
  it('hand-computed: period 3', () => {
    const r = new Rsi(3);
    const got: number[] = [];
    for (const p of [10, 11, 12, 11, 13]) {
      r.update(p);
      got.push(r.value);
    }
    // changes +1 +1 −1: avgGain 2/3, avgLoss 1/3, RS 2 → 66.67; then +2: avgGain 10/9, avgLoss 2/9, RS 5 → 83.33
    expect(got.slice(0, 1)).toEqual([NaN]);
    expectNear(got[3]!, 100 - 100 / 3, 0, 'rsi seed');
    expectNear(got[4]!, 100 - 100 / 6, 0, 'rsi next');
    expect(r.ready).toBe(true);
    expectNear(r.avgGain, 10 / 9, 0, 'avgGain');
    expectNear(r.avgLoss, 2 / 9, 0, 'avgLoss');
  });

  it('edge cases: ready after period + 1 prices; flat series = 50; only gains = 100', () => {
    const r = new Rsi(2);
    r.update(5);
    r.update(5);
    expect(r.ready).toBe(false);
    r.update(5);
    expect([r.ready, r.value]).toEqual([true, 50]);
    const up = new Rsi(2);
    for (const p of [1, 2, 3, 4]) up.update(p);
    expect(up.value).toBe(100);
  });

  it('matches the reference on random price paths', () => {
    fc.assert(
      fc.property(prices(), fc.integer({ min: 1, max: 20 }), (ps, n) => {
        const r = new Rsi(n);
        const ref = refRsi(ps, n);
        ps.forEach((p, i) => {
          r.update(p);
          // RSI is a ratio of averages of changes: its scale is 100, and near-equal tiny averages round
          expectNear(r.value, ref[i]!, 100, `rsi[${i}]`);
          expect(r.ready).toBe(i >= n);
        });
      }),
      RUNS,
    );
  });
});

describe('Atr (Wilder, on bars)', () => {
  it('hand-computed: period 3 with a gap up', () => {
    const a = new Atr(3);
    const bars: Array<[number, number, number]> = [
      [10, 8, 9],
      [11, 9, 10.5],
      [12, 10, 11],
      [15, 13, 14],
    ];
    const got: number[] = [];
    for (const [h, l, c] of bars) {
      a.update(h, l, c);
      got.push(a.value);
    }
    // TR 2, 2, 2 → ATR 2 (ready); then TR = max(2, 15 − 11, |13 − 11|) = 4 → (2·2 + 4)/3
    expect(got.slice(0, 3)).toEqual([2, 2, 2]);
    expectNear(got[3]!, 8 / 3, 0, 'atr');
    expect(a.trueRange).toBe(4);
    expect(a.ready).toBe(true);
  });

  it('constant bars give 0; ready after period bars', () => {
    const a = new Atr(4);
    for (let i = 0; i < 3; i++) a.update(5, 5, 5);
    expect(a.ready).toBe(false);
    a.update(5, 5, 5);
    expect([a.ready, a.value]).toEqual([true, 0]);
  });

  it('matches the reference on random bars', () => {
    fc.assert(
      fc.property(prices(), fc.integer({ min: 1, max: 20 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 600, maxLength: 600 }), (ps, n, u) => {
        const bars: Hlc[] = ps.map((p, i) => ({ h: p * (1 + 0.01 * u[2 * i]!), l: p * (1 - 0.01 * u[2 * i + 1]!), c: p }));
        const a = new Atr(n);
        const ref = refAtr(bars, n);
        bars.forEach((b, i) => {
          a.update(b.h, b.l, b.c);
          expectNear(a.value, ref[i]!, 0.01 * b.c, `atr[${i}]`);
          expect(a.ready).toBe(i + 1 >= n);
        });
      }),
      RUNS,
    );
  });
});

describe('Macd', () => {
  it('hand-computed: 2 / 3 / 2 on 1, 2, 4, 8', () => {
    const m = new Macd(2, 3, 2);
    for (const x of [1, 2, 4]) m.update(x);
    // fast 29/9, slow 2.75: first valid line 17/36 seeds the signal
    expectNear(m.line, 17 / 36, 0, 'line');
    expectNear(m.signal, 17 / 36, 0, 'signal');
    expect(m.ready).toBe(false);
    m.update(8);
    // fast 173/27, slow 5.375: line 223/216; signal 17/36 + 2/3·(223/216 − 17/36) = 137/162
    expectNear(m.line, 223 / 216, 0, 'line');
    expectNear(m.signal, 137 / 162, 0, 'signal');
    expectNear(m.histogram, 121 / 648, 0, 'histogram');
    expect(m.ready).toBe(true);
  });

  it('defaults 12 / 26 / 9: ready after 34 values; matches the reference on random data', () => {
    const m = new Macd();
    for (let i = 0; i < 33; i++) m.update(100 + i);
    expect(m.ready).toBe(false);
    m.update(200);
    expect(m.ready).toBe(true);
    expect(() => new Macd(26, 12, 9)).toThrow(RangeError);
    fc.assert(
      fc.property(prices(), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 15 }), fc.integer({ min: 1, max: 10 }), (ps, f, extra, sig) => {
        const s = f + extra;
        const m2 = new Macd(f, s, sig);
        const ref = refMacd(ps, f, s, sig);
        const scale = maxAbs(ps);
        ps.forEach((p, i) => {
          m2.update(p);
          expectNear(m2.line, ref.line[i]!, scale, 'line');
          expectNear(m2.signal, ref.signal[i]!, scale, 'signal');
          expectNear(m2.histogram, ref.hist[i]!, scale, 'histogram');
          expect(m2.ready).toBe(i + 1 >= s + sig - 1);
        });
      }),
      RUNS,
    );
  });
});

describe('Bollinger', () => {
  it('hand-computed: period 3, k 2 on 1, 2, 3', () => {
    const b = new Bollinger(3, 2);
    for (const x of [1, 2, 3]) b.update(x);
    const sd = Math.sqrt(2 / 3);
    expect(b.middle).toBe(2);
    expectNear(b.upper, 2 + 2 * sd, 0, 'upper');
    expectNear(b.lower, 2 - 2 * sd, 0, 'lower');
    expectNear(b.percentB, (1 + 2 * sd) / (4 * sd), 0, '%b');
    expectNear(b.bandwidth, (4 * sd) / 2, 0, 'bandwidth');
  });

  it('flat window: zero width, %b 0.5', () => {
    const b = new Bollinger(5, 2);
    for (let i = 0; i < 9; i++) b.update(101.7);
    expect([b.middle, b.upper, b.lower, b.percentB, b.ready]).toEqual([101.7, 101.7, 101.7, 0.5, true]);
  });

  it('matches mean ± k·σ(population) on random data', () => {
    fc.assert(
      fc.property(prices(), fc.integer({ min: 2, max: 25 }), fc.double({ min: 0.5, max: 3, noNaN: true }), (ps, n, k) => {
        const b = new Bollinger(n, k);
        ps.forEach((p, i) => {
          b.update(p);
          const w = lastN(ps, i, n);
          const sd = Math.sqrt(variances(w).pop);
          const past = recent(ps, i, n);
          const scale = maxAbs(past);
          expectNear(b.middle, mean(w), scale, 'middle');
          expectStd((b.upper - b.middle) / k, sd, spreadOf(past) + 1e-7 * scale, 'upper');
          expectStd((b.middle - b.lower) / k, sd, spreadOf(past) + 1e-7 * scale, 'lower');
        });
      }),
      RUNS,
    );
  });
});

// ------------------------------------------------------------------ bars

describe('TimeBars', () => {
  function collect(intervalMs: number, opts: TimeBarsOptions = {}): { bars: RefBar[]; tb: TimeBars } {
    const bars: RefBar[] = [];
    const tb = new TimeBars(intervalMs, (b) => bars.push(copyBar(b)), opts);
    return { bars, tb };
  }

  it('hand-computed 1 s bars: OHLCV, buy/sell volume, an empty interval emitted flat at the previous close', () => {
    const { bars, tb } = collect(1000);
    expect(tb.ready).toBe(false);
    tb.advanceTo(5_000); // nothing before the first trade
    tb.update(1000, 10, 1, false);
    tb.update(1500, 12, 2, true);
    tb.update(1999, 11, 1, false);
    expect(bars).toEqual([]);
    tb.update(3200, 13, 1, false);
    expect(bars).toEqual([
      { openTime: 1000, open: 10, high: 12, low: 10, close: 11, volume: 4, quoteVolume: 45, buyVolume: 2, sellVolume: 2, tradeCount: 3 },
      { openTime: 2000, open: 11, high: 11, low: 11, close: 11, volume: 0, quoteVolume: 0, buyVolume: 0, sellVolume: 0, tradeCount: 0 },
    ]);
    expect([tb.current.openTime, tb.current.closeTime, tb.current.open, tb.current.tradeCount]).toEqual([3000, 4000, 13, 1]);
    tb.advanceTo(3999);
    expect(bars.length).toBe(2);
    tb.advanceTo(4000); // closes on event time at the bar's end
    expect(bars.length).toBe(3);
    expect(bars[2]).toMatchObject({ openTime: 3000, close: 13, volume: 1 });
    expect([tb.barsClosed, tb.emptyBarsEmitted]).toEqual([3, 1]);
    // the new current bar is empty, flat at 13; a trade 2 s later emits it as empty
    tb.update(6100, 14, 1, true);
    expect(bars.slice(3).map((b) => [b.openTime, b.close, b.tradeCount])).toEqual([
      [4000, 13, 0],
      [5000, 13, 0],
    ]);
    const b = new Bar();
    expect(b.vwap).toBeNaN();
  });

  it('emitEmpty false skips empty intervals (counted, flagged); a gap over maxEmptyRun emits none of its bars', () => {
    const a = collect(1000, { emitEmpty: false });
    a.tb.update(1000, 10, 1, false);
    a.tb.update(4500, 11, 1, false);
    expect(a.bars.map((b) => b.openTime)).toEqual([1000]);
    expect([a.tb.emptyBarsSkipped, a.tb.gapBeforeCurrent]).toEqual([2, true]);
    a.tb.update(5000, 11, 1, false);
    expect(a.tb.gapBeforeCurrent).toBe(false);

    const g = collect(1000, { maxEmptyRun: 2 });
    g.tb.update(0, 10, 1, false);
    g.tb.update(2500, 10, 1, false); // 1 empty: emitted
    g.tb.update(9100, 10, 1, false); // bar 2000 closes, then 6 empty: over the limit, none emitted
    expect(g.bars.map((b) => [b.openTime, b.tradeCount])).toEqual([
      [0, 1],
      [1000, 0],
      [2000, 1],
    ]);
    expect([g.tb.emptyBarsSkipped, g.tb.gapBeforeCurrent, g.tb.current.openTime]).toEqual([6, true, 9000]);
  });

  it('a late trade joins the current bar, counted; reset clears', () => {
    const { bars, tb } = collect(1000);
    tb.update(1000, 10, 1, false);
    tb.update(2100, 11, 1, false);
    tb.update(1900, 9, 2, true);
    expect(tb.lateTrades).toBe(1);
    expect([tb.current.low, tb.current.volume, bars.length]).toEqual([9, 3, 1]);
    tb.reset();
    expect([tb.ready, tb.barsClosed, tb.lateTrades]).toEqual([false, 0, 0]);
    tb.update(10_500, 5, 1, false);
    expect(tb.current.openTime).toBe(10_000);
  });

  it('matches bucketing by floor(t / interval) on random trades', () => {
    fc.assert(
      fc.property(
        trades(200, 3000),
        fc.constantFrom(1000, 2000, 5000),
        fc.boolean(),
        fc.integer({ min: 0, max: 4 }),
        (ts, interval, emitEmpty, maxEmptyRun) => {
          const { bars, tb } = collect(interval, { emitEmpty, maxEmptyRun });
          for (const tr of ts) tb.update(tr.t, tr.price, tr.qty, tr.buyerMaker);
          const ref = refBars(ts, interval, emitEmpty, maxEmptyRun);
          expect(bars.length).toBe(ref.length);
          bars.forEach((b, i) => {
            const r = ref[i]!;
            expect([b.openTime, b.open, b.high, b.low, b.close, b.tradeCount]).toEqual([r.openTime, r.open, r.high, r.low, r.close, r.tradeCount]);
            expectNear(b.volume, r.volume, r.volume, 'volume');
            expectNear(b.quoteVolume, r.quoteVolume, r.quoteVolume, 'quoteVolume');
            expectNear(b.buyVolume, r.buyVolume, r.volume, 'buyVolume');
            expectNear(b.sellVolume, r.sellVolume, r.volume, 'sellVolume');
          });
        },
      ),
      RUNS,
    );
  });
});

// ------------------------------------------------------------------ trade-flow features

describe('SessionVwap and RollingVwap', () => {
  it('hand-computed: session reset on a new period; rolling time window eviction', () => {
    const s = new SessionVwap(1000);
    expect(s.ready).toBe(false);
    s.update(100, 10, 1);
    s.update(900, 20, 3);
    expect(s.value).toBe(17.5);
    s.update(1000, 30, 1); // new session
    expect([s.value, s.volume, s.session]).toEqual([30, 1, 1]);

    const r = new RollingVwap({ windowMs: 1000, capacity: 16 });
    r.update(0, 10, 1);
    r.update(500, 20, 1);
    expect(r.ready).toBe(false);
    r.update(1000, 30, 2); // window (0, 1000]: the t = 0 trade is out
    expectNear(r.value, 80 / 3, 0, 'rolling vwap');
    expect(r.ready).toBe(true);
    r.advanceTo(2500);
    expect([r.value, r.volume, r.ready]).toEqual([NaN, 0, false]);

    const k = new RollingVwap({ ticks: 2 });
    k.update(0, 10, 1);
    k.update(0, 20, 1);
    k.update(0, 40, 3);
    expect(k.value).toBe(35);
  });

  it('session VWAP matches Σpq/Σq per session; rolling VWAP matches the windowed sums', () => {
    fc.assert(
      fc.property(trades(250), fc.constantFrom(0, 1000, 60_000), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4000 }), (ts, sessionMs, ticks, windowMs) => {
        const s = new SessionVwap(sessionMs);
        const rt = new RollingVwap({ ticks });
        const rw = new RollingVwap({ windowMs, capacity: 64 });
        ts.forEach((tr, i) => {
          s.update(tr.t, tr.price, tr.qty);
          rt.update(tr.t, tr.price, tr.qty);
          rw.update(tr.t, tr.price, tr.qty);
          const sess = sessionMs > 0 ? ts.slice(0, i + 1).filter((x) => Math.floor(x.t / sessionMs) === Math.floor(tr.t / sessionMs)) : ts.slice(0, i + 1);
          const vw = (xs: Trade[]): number => sum(xs.map((x) => x.price * x.qty)) / sum(xs.map((x) => x.qty));
          expectNear(s.value, vw(sess), tr.price, 'session');
          expectNear(rt.value, vw(lastN(ts, i, ticks)), tr.price, 'ticks');
          expect(rt.ready).toBe(i + 1 >= ticks);
          expectNear(rw.value, vw(timeWindow(ts, i, windowMs, 64)), tr.price, 'time');
        });
      }),
      RUNS,
    );
  });
});

describe('TradeImbalance', () => {
  it('hand-computed over 3 ticks and over a time window', () => {
    const t = new TradeImbalance({ ticks: 3 });
    t.update(0, 1, false);
    expect([t.value, t.ready]).toEqual([1, false]);
    t.update(0, 2, true);
    t.update(0, 3, false);
    expectNear(t.value, (4 - 2) / 6, 0, 'imbalance');
    expect(t.ready).toBe(true);
    t.update(0, 1, true); // last 3: sell 2, buy 3, sell 1
    expect([t.buyVolume, t.sellVolume, t.value]).toEqual([3, 3, 0]);

    const w = new TradeImbalance({ windowMs: 5000, capacity: 8 });
    w.update(0, 2, false);
    w.update(4000, 1, true);
    w.update(6000, 1, true); // (1000, 6000]: sell 1, sell 1
    expect([w.value, w.ready]).toEqual([-1, true]);
    w.advanceTo(20_000);
    expect([w.value, w.buyVolume, w.sellVolume]).toEqual([0, 0, 0]);
  });

  it('matches (buy − sell)/(buy + sell) over tick and time windows on random trades', () => {
    fc.assert(
      fc.property(trades(250), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 1, max: 30 }), (ts, ticks, windowMs, cap) => {
        const specs: WindowSpec[] = [{ ticks }, { windowMs, capacity: cap }];
        const feats = specs.map((sp) => new TradeImbalance(sp));
        const ref = (xs: Trade[]): number => {
          const b = sum(xs.filter((x) => !x.buyerMaker).map((x) => x.qty));
          const s = sum(xs.filter((x) => x.buyerMaker).map((x) => x.qty));
          return b + s > 0 ? (b - s) / (b + s) : 0;
        };
        ts.forEach((tr, i) => {
          for (const f of feats) f.update(tr.t, tr.qty, tr.buyerMaker);
          expectNear(feats[0]!.value, ref(lastN(ts, i, ticks)), 1, 'ticks');
          expectNear(feats[1]!.value, ref(timeWindow(ts, i, windowMs, cap)), 1, 'time');
          expect(feats[1]!.window.overflowEvictions).toBeGreaterThanOrEqual(0);
        });
      }),
      RUNS,
    );
  });
});

describe('VolumeSurge', () => {
  it('hand-computed: disjoint baseline (the Gate scalper) and overlapping (the liquidation cascade)', () => {
    const d = new VolumeSurge(2, 3);
    const o = new VolumeSurge(2, 5, { overlap: true });
    for (const v of [1, 1, 1, 4, 6]) {
      d.update(v);
      o.update(v);
    }
    expect([d.recentSum, d.baselineMean, d.value, d.meanRatio, d.ready]).toEqual([10, 1, 10, 5, true]);
    expectNear(o.value, 10 / 2.6, 0, 'overlap value');
    expectNear(o.meanRatio, 5 / 2.6, 0, 'overlap meanRatio');
    expect(o.ready).toBe(true);
  });

  it('warm-up and zero baseline', () => {
    const d = new VolumeSurge(2, 3);
    d.update(5);
    expect([d.value, d.ready]).toEqual([NaN, false]); // no baseline yet
    d.update(0);
    d.update(0);
    expect(d.value).toBe(0); // recent 0, baseline {5}: 0/5
    const z = new VolumeSurge(1, 2);
    z.update(0);
    z.update(0);
    z.update(3);
    expect(z.value).toBe(Infinity);
    z.reset();
    expect([z.recentSum, z.baselineSum, z.ready]).toEqual([0, 0, false]);
  });

  it('matches Σ recent / mean(baseline) on random volumes', () => {
    fc.assert(
      fc.property(volumes(), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), (vs, k, m, overlap) => {
        const f = new VolumeSurge(k, m, { overlap });
        vs.forEach((v, i) => {
          f.update(v);
          const recentVols = lastN(vs, i, k);
          const baseEnd = overlap ? i + 1 : i + 1 - k;
          const base = vs.slice(Math.max(0, baseEnd - m), Math.max(0, baseEnd));
          const scale = maxAbs(vs.slice(Math.max(0, i - 2 * (k + m)), i + 1)) * (k + m);
          expectNear(f.recentSum, sum(recentVols), scale, 'recentSum');
          expectNear(f.baselineSum, sum(base), scale, 'baselineSum');
          // the ratio is as exact as its parts: compare it where the baseline is not itself rounding noise
          if (base.length > 0 && sum(base) > 1e-6 * scale) expectNear(f.value, sum(recentVols) / mean(base), 1e-6 * scale / mean(base), 'surge');
          expect(f.ready).toBe(i + 1 >= (overlap ? Math.max(k, m) : k + m));
        });
      }),
      RUNS,
    );
  });
});

describe('PriceVelocity', () => {
  it('hand-computed: p_t − p_{t−(N−1)}', () => {
    const v = new PriceVelocity(3);
    for (const p of [100, 101, 103]) v.update(p);
    expect([v.value, v.ready]).toEqual([3, true]);
    v.update(102);
    expect(v.value).toBe(1);
    expectNear(v.relative, 1 / 101, 0, 'relative');
    expect(() => new PriceVelocity(1)).toThrow(RangeError);
  });

  it('matches the array formula on random prices', () => {
    fc.assert(
      fc.property(prices(), fc.integer({ min: 2, max: 60 }), (ps, n) => {
        const v = new PriceVelocity(n);
        ps.forEach((p, i) => {
          v.update(p);
          expect(v.value).toBe(p - ps[Math.max(0, i - (n - 1))]!);
          expect(v.ready).toBe(i + 1 >= n);
        });
      }),
      RUNS,
    );
  });
});

describe('RealizedVol', () => {
  it('hand-computed: window 2 on 100, 110, 99; flat series = 0', () => {
    const r = new RealizedVol(2);
    r.update(100);
    r.update(110);
    expect(r.ready).toBe(false);
    expect(r.value).toBeNaN();
    r.update(99);
    expect(r.ready).toBe(true);
    expectNear(r.value, Math.abs(Math.log(1.1) - Math.log(0.9)) / Math.SQRT2, 0, 'std');
    expectNear(r.populationStd, Math.abs(Math.log(1.1) - Math.log(0.9)) / 2, 0, 'population std');
    r.update(-1);
    r.update(NaN);
    expect(r.invalidPrices).toBe(2);
    const flat = new RealizedVol(5);
    for (let i = 0; i < 50; i++) flat.update(42_000.5);
    expect([flat.value, flat.ready]).toEqual([0, true]);
  });

  it('matches the sample std of log returns on random prices (ticks, or bar closes via TimeBars)', () => {
    fc.assert(
      fc.property(prices(), fc.integer({ min: 2, max: 30 }), (ps, n) => {
        const r = new RealizedVol(n);
        const rets: number[] = [];
        ps.forEach((p, i) => {
          r.update(p);
          if (i > 0) rets.push(Math.log(p / ps[i - 1]!));
          if (rets.length < 2) return;
          const w = rets.slice(-n);
          const sd = Math.sqrt(variances(w).sample);
          expectStd(r.value, sd, spreadOf(rets.slice(-2 * n)), 'vol');
          expect(r.ready).toBe(rets.length >= n);
        });
      }),
      RUNS,
    );
  });
});

describe('LinearWeightedMean (weighted momentum)', () => {
  it('hand-computed', () => {
    const w = new LinearWeightedMean(3);
    for (const x of [1, 2, 3, 4]) w.update(x);
    expectNear(w.value, 20 / 6, 0, 'wma');
    expect(w.ready).toBe(true);
  });

  it('matches Σ x_i·i / Σ i on random data', () => {
    fc.assert(
      fc.property(values(), fc.integer({ min: 1, max: 25 }), (xs, n) => {
        const w = new LinearWeightedMean(n);
        xs.forEach((x, i) => {
          w.update(x);
          const win = lastN(xs, i, n);
          let num = 0;
          let den = 0;
          win.forEach((y, j) => {
            num += y * (j + 1);
            den += j + 1;
          });
          expectNear(w.value, num / den, maxAbs(recent(xs, i, n)), 'wma');
        });
      }),
      RUNS,
    );
  });
});

// ------------------------------------------------------------------ book features

describe('Microprice and BookImbalance', () => {
  it('hand-computed microprice; mid fallback with no size; NaN side', () => {
    const m = new Microprice();
    m.update(100, 1, 101, 3);
    expect([m.value, m.mid, m.spread, m.imbalance, m.ready]).toEqual([100.25, 100.5, 1, -0.5, true]);
    m.update(100, 0, 101, 0);
    expect(m.value).toBe(100.5);
    m.update(NaN, 1, 101, 1);
    expect(m.ready).toBe(false);
  });

  it('hand-computed OBI over the top 2 levels; a missing side; the real L2Book satisfies BookLevels', () => {
    const obi = new BookImbalance(2);
    const book = new ArrayBook(
      [
        [100, 1],
        [99, 2],
        [98, 5],
      ],
      [
        [101, 3],
        [102, 1],
      ],
    );
    obi.update(book);
    expect([obi.bidDepth, obi.askDepth, obi.ready]).toEqual([3, 4, true]);
    expectNear(obi.value, -1 / 7, 0, 'obi');
    obi.update(new ArrayBook([[100, 1]], []));
    expect([obi.value, obi.ready]).toEqual([0, false]);
    obi.updateTop(3, 1);
    expect(obi.value).toBe(0.5);

    const l2 = new L2Book();
    for (const [p, q] of book.bids) l2.applyBid(p, q);
    for (const [p, q] of book.asks) l2.applyAsk(p, q);
    const levels: BookLevels = l2;
    obi.update(levels);
    expectNear(obi.value, -1 / 7, 0, 'obi on L2Book');
    const mp = new Microprice();
    mp.updateFromBook(l2);
    expect(mp.value).toBe(100.25);
  });

  it('matches the formulas on random books (L2Book and the array book)', () => {
    const level = fc.tuple(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0.001, max: 100, noNaN: true }));
    fc.assert(
      fc.property(fc.uniqueArray(level, { selector: (l) => l[0], maxLength: 40 }), fc.uniqueArray(level, { selector: (l) => l[0], maxLength: 40 }), fc.integer({ min: 1, max: 10 }), (bidL, askL, n) => {
        // bids below 1000, asks above: a sane book
        const bids = bidL.map(([k, q]): [number, number] => [1000 - k * 0.5, q]).sort((a, b) => b[0] - a[0]);
        const asks = askL.map(([k, q]): [number, number] => [1000 + k * 0.5, q]).sort((a, b) => a[0] - b[0]);
        const l2 = new L2Book(64);
        for (const [p, q] of bids) l2.applyBid(p, q);
        for (const [p, q] of asks) l2.applyAsk(p, q);
        for (const b of [l2, new ArrayBook(bids, asks)] as BookLevels[]) {
          const obi = new BookImbalance(n);
          obi.update(b);
          const bd = sum(bids.slice(0, n).map((l) => l[1]));
          const ad = sum(asks.slice(0, n).map((l) => l[1]));
          const both = bids.length > 0 && asks.length > 0;
          expect(obi.ready).toBe(both);
          expectNear(obi.value, both ? (bd - ad) / (bd + ad) : 0, 1, 'obi');
          const mp = new Microprice();
          mp.updateFromBook(b);
          if (both) {
            const [bp, bq] = bids[0]!;
            const [ap, aq] = asks[0]!;
            expectNear(mp.value, (bp * aq + ap * bq) / (bq + aq), bp, 'microprice');
            expect(mp.value).toBeGreaterThanOrEqual(bp);
            expect(mp.value).toBeLessThanOrEqual(ap);
          } else expect(mp.ready).toBe(false);
        }
      }),
      RUNS,
    );
  });
});

// ------------------------------------------------------------------ object inputs

describe('object inputs (TradeInput / QuoteInput): MarketEvent feeds them as it is', () => {
  it('onTrade / onQuote from ring records equal update(...) with the same numbers', () => {
    const f64 = new Float64Array(32);
    const i32 = new Int32Array(f64.buffer);
    i32[0] = packHeader(RecordType.AggTrade, 0, 0);
    i32[32] = packHeader(RecordType.BookTicker, 0, 0);
    const ev = new MarketEvent().wrap(f64, i32, 0);
    const bt = new MarketEvent().wrap(f64, i32, 16);
    const asTrade: TradeInput = ev;
    const asQuote: QuoteInput = bt;
    const a = { bars: [] as RefBar[], vwap: new SessionVwap(), roll: new RollingVwap({ windowMs: 2000, capacity: 8 }), imb: new TradeImbalance({ ticks: 3 }), mp: new Microprice(), obi: new BookImbalance() };
    const b = { bars: [] as RefBar[], vwap: new SessionVwap(), roll: new RollingVwap({ windowMs: 2000, capacity: 8 }), imb: new TradeImbalance({ ticks: 3 }), mp: new Microprice(), obi: new BookImbalance() };
    const barsA = new TimeBars(1000, (x) => a.bars.push(copyBar(x)));
    const barsB = new TimeBars(1000, (x) => b.bars.push(copyBar(x)));
    const rows: Array<[number, number, number, boolean]> = [
      [1000, 10, 1, false],
      [1500, 11, 2, true],
      [2600, 9, 1, false],
      [5100, 12, 3, true],
    ];
    for (const [t, p, q, m] of rows) {
      f64[AT.EVENT_TIME] = t;
      f64[AT.PRICE] = p;
      f64[AT.QTY] = q;
      f64[AT.BUYER_MAKER] = m ? 1 : 0;
      f64[16 + BT.BID] = p - 1;
      f64[16 + BT.BID_QTY] = q;
      f64[16 + BT.ASK] = p + 1;
      f64[16 + BT.ASK_QTY] = 2;
      barsA.onTrade(asTrade);
      a.vwap.onTrade(asTrade);
      a.roll.onTrade(asTrade);
      a.imb.onTrade(asTrade);
      a.mp.onQuote(asQuote);
      a.obi.onQuote(asQuote);
      barsB.update(t, p, q, m);
      b.vwap.update(t, p, q);
      b.roll.update(t, p, q);
      b.imb.update(t, q, m);
      b.mp.update(p - 1, q, p + 1, 2);
      b.obi.updateTop(q, 2);
      expect([a.vwap.value, a.roll.value, a.imb.value, a.mp.value, a.obi.value]).toEqual([b.vwap.value, b.roll.value, b.imb.value, b.mp.value, b.obi.value]);
    }
    expect(a.bars).toEqual(b.bars);
    expect(a.bars.length).toBe(4);
  });
});

// ------------------------------------------------------------------ construction checks

describe('construction', () => {
  it('rejects bad periods and windows', () => {
    expect(() => new Ema(0)).toThrow(RangeError);
    expect(() => new Sma(2.5)).toThrow(RangeError);
    expect(() => new TimeWindowStats(0, 10)).toThrow(RangeError);
    expect(() => new TimeWindowStats(1000, 0)).toThrow(RangeError);
    expect(() => new TimeBars(500, () => {})).toThrow(RangeError);
    expect(() => new TradeImbalance({ ticks: 0 })).toThrow(RangeError);
    expect(() => new Bollinger(20, 0)).toThrow(RangeError);
  });
});

// ------------------------------------------------------------------ allocation

describe('hot path allocates nothing', () => {
  it('1M updates of every feature: no minor GC, no heap growth', async () => {
    const N = 4096; // power of two: index with i & (N - 1)
    const px = new Float64Array(N);
    const qty = new Float64Array(N);
    const side = new Uint8Array(N);
    let seed = 7;
    let p = 50_000;
    for (let i = 0; i < N; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      p += ((seed % 41) - 20) * 0.1;
      px[i] = p;
      qty[i] = 0.001 + (seed % 1000) / 100;
      side[i] = seed & 1;
    }
    const T0 = 1_700_000_000_000;
    const book = new L2Book();
    for (let i = 0; i < 20; i++) {
      book.applyBid(49_990 - i, 1 + i);
      book.applyAsk(50_010 + i, 2 + i);
    }
    // object inputs: a TradeInput with plain fields (MarketEvent's eventTime getter is a switch over record
    // types, too large for V8 to inline everywhere; see the report) and a BookTicker record read through the
    // strategy's own flyweight
    const trade = new TradeRecord();
    const f64 = new Float64Array(32);
    const i32 = new Int32Array(f64.buffer);
    i32[32] = packHeader(RecordType.BookTicker, 0, 0);
    const quote = new MarketEvent().wrap(f64, i32, 16);
    const setTrade = (i: number): void => {
      const j = i & (N - 1);
      trade.eventTime = T0 + 37 * i;
      trade.price = px[j]!;
      trade.qty = qty[j]!;
      trade.buyerMaker = side[j] === 1;
    };
    const setQuote = (i: number): void => {
      const j = i & (N - 1);
      f64[16 + BT.BID] = px[j]! - 0.1;
      f64[16 + BT.BID_QTY] = qty[j]!;
      f64[16 + BT.ASK] = px[j]! + 0.1;
      f64[16 + BT.ASK_QTY] = 2;
    };
    const out = new Float64Array(1);
    const ema = new Ema(20);
    const sma = new Sma(50);
    const stats = new RollingStats(50);
    const tstats = new TimeWindowStats(5_000, 1024);
    const rsi = new Rsi(14);
    const macd = new Macd();
    const boll = new Bollinger(20, 2);
    const barAtr = new Atr(14);
    const barRsi = new Rsi(14);
    const barVol = new RealizedVol(20);
    const bars = new TimeBars(1000, (b) => {
      barAtr.update(b.high, b.low, b.close);
      barRsi.update(b.close);
      barVol.update(b.close);
    });
    const bars5 = new TimeBars(5000, (b) => {
      out[0] += b.vwap;
    });
    const svwap = new SessionVwap(3_600_000);
    const rvwapT = new RollingVwap({ windowMs: 10_000, capacity: 1024 });
    const rvwapN = new RollingVwap({ ticks: 100 });
    const micro = new Microprice();
    const microQ = new Microprice();
    const obi = new BookImbalance(5);
    const timbN = new TradeImbalance({ ticks: 10 });
    const timbT = new TradeImbalance({ windowMs: 5_000, capacity: 1024 });
    const surge = new VolumeSurge(3, 20);
    const vel = new PriceVelocity(50);
    const rvol = new RealizedVol(50);
    const wmean = new LinearWeightedMean(10);
    // One small step function per feature, driven through one shared (so never inlined) call site with an
    // integer argument: each feature's update is inlined into its own step, as into a strategy's handler.
    const steps: Array<[string, (i: number) => void]> = [
      ['ema', (i) => { ema.update(px[i & (N - 1)]!); out[0] += ema.value; }],
      ['sma', (i) => { sma.update(px[i & (N - 1)]!); out[0] += sma.value; }],
      ['rollingStats', (i) => { stats.update(px[i & (N - 1)]!); out[0] += stats.std + stats.mean; }],
      ['timeWindowStats', (i) => { tstats.update(T0 + 37 * i, px[i & (N - 1)]!); out[0] += tstats.std + tstats.mean; }],
      ['rsi', (i) => { rsi.update(px[i & (N - 1)]!); out[0] += rsi.value; }],
      ['macd', (i) => { macd.update(px[i & (N - 1)]!); out[0] += macd.histogram; }],
      ['bollinger', (i) => { boll.update(px[i & (N - 1)]!); out[0] += boll.percentB + boll.upper; }],
      ['timeBars+atr/rsi/vol', (i) => { const j = i & (N - 1); bars.update(T0 + 37 * i, px[j]!, qty[j]!, side[j] === 1); out[0] += barAtr.value; }],
      ['timeBars.onTrade', (i) => { setTrade(i); bars5.onTrade(trade); }],
      ['sessionVwap', (i) => { const j = i & (N - 1); svwap.update(T0 + 37 * i, px[j]!, qty[j]!); out[0] += svwap.value; }],
      ['rollingVwap.time', (i) => { setTrade(i); rvwapT.onTrade(trade); out[0] += rvwapT.value; }],
      ['rollingVwap.ticks', (i) => { const j = i & (N - 1); rvwapN.update(T0 + 37 * i, px[j]!, qty[j]!); out[0] += rvwapN.value; }],
      ['microprice', (i) => { const j = i & (N - 1); micro.update(px[j]! - 0.1, qty[j]!, px[j]! + 0.1, 2); out[0] += micro.value; }],
      ['microprice.onQuote', (i) => { setQuote(i); microQ.onQuote(quote); out[0] += microQ.value; }],
      ['bookImbalance', () => { obi.update(book); out[0] += obi.value; }],
      ['tradeImbalance.ticks', (i) => { const j = i & (N - 1); timbN.update(T0 + 37 * i, qty[j]!, side[j] === 1); out[0] += timbN.value; }],
      ['tradeImbalance.time', (i) => { setTrade(i); timbT.onTrade(trade); out[0] += timbT.value; }],
      ['volumeSurge', (i) => { surge.update(qty[i & (N - 1)]!); out[0] += surge.value + surge.meanRatio; }],
      ['priceVelocity', (i) => { vel.update(px[i & (N - 1)]!); out[0] += vel.value; }],
      ['realizedVol', (i) => { rvol.update(px[i & (N - 1)]!); out[0] += rvol.value; }],
      ['linearWeightedMean', (i) => { wmean.update(px[i & (N - 1)]! - px[(i + N - 1) & (N - 1)]!); out[0] += wmean.value; }],
    ];
    const drive = (step: (i: number) => void, from: number, n: number): void => {
      for (let i = from; i < from + n; i++) step(i);
    };
    const WARM = 300_000; // optimized code, and every rare branch (bar close, session change, recompute) seen
    const COUNT = 1_000_000;
    for (const [, step] of steps) drive(step, 0, WARM);
    // minor GCs by the feature whose measured run they fell in; a full GC before each run empties the young
    // generation, so a scavenge inside a run means that run allocated at least a semi-space
    v8.setFlagsFromString('--expose-gc');
    const fullGc = vm.runInNewContext('gc') as () => void;
    const gcTimes: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcTimes.push(e.startTime);
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    await new Promise((r) => setTimeout(r, 20));
    const starts = new Float64Array(steps.length);
    const ends = new Float64Array(steps.length);
    fullGc();
    const h0 = process.memoryUsage().heapUsed;
    for (let k = 0; k < steps.length; k++) {
      fullGc();
      starts[k] = performance.now();
      drive(steps[k]![1], WARM, COUNT);
      ends[k] = performance.now();
    }
    const h1 = process.memoryUsage().heapUsed;
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    const minorByFeature: string[] = [];
    for (const t of gcTimes) {
      for (let k = 0; k < steps.length; k++) if (t >= starts[k]! && t <= ends[k]!) minorByFeature.push(steps[k]![0]);
    }
    out[0] = 0;
    drive(steps[0]![1], 0, 1); // outputs were read in the steps; keep them observable
    expect(Number.isFinite(out[0])).toBe(true);
    expect(bars.barsClosed).toBeGreaterThan(40_000);
    expect([barAtr.ready, tstats.ready, timbT.ready, rvwapT.ready, svwap.ready]).toEqual([true, true, true, true, true]);
    expect(tstats.overflowEvictions + timbT.window.overflowEvictions + rvwapT.window.overflowEvictions).toBe(0);
    expect(minorByFeature).toEqual([]);
    // one 16-byte heap number per update would be 16 MB per feature and several scavenges
    expect(h1 - h0).toBeLessThan(512 * 1024);
  });
});
