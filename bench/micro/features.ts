/**
 * Strategy-feature micro bench: ns per update of each feature in src/strategy/features, on a pregenerated
 * BTC-like random walk (prices ~50,000 moving by 0.1, 37 ms between trades, 1 s bars).
 *
 * A timed loop rather than tinybench: one update is 3-60 ns, below what a per-call harness resolves. Each
 * feature is driven by its own small step function through one shared call site, as a strategy's handler
 * would call it (the update inlined into the step), after a warm-up that reaches every branch (bar closes,
 * recomputations, session changes). The figure is the best of several passes (least disturbed on a shared
 * box). Prints nothing: returns the rows.
 */
import { L2Book } from '../../src/book/L2Book.js';
import {
  Atr,
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
  type TradeInput,
} from '../../src/strategy/features/index.js';

export interface FeatureBenchRow {
  name: string;
  nsPerUpdate: number;
}

export interface FeatureBenchOptions {
  /** updates per timed pass (default 1,000,000) */
  updates?: number;
  /** timed passes; the best is reported (default 5) */
  passes?: number;
}

const N = 4096; // power of two: data indexed with i & (N - 1)
const T0 = 1_700_000_000_000;

class TradeRecord implements TradeInput {
  eventTime = 0;
  price = 0;
  qty = 0;
  buyerMaker = false;
}

export async function runFeatureBench(opts: FeatureBenchOptions = {}): Promise<FeatureBenchRow[]> {
  const updates = opts.updates ?? 1_000_000;
  const passes = opts.passes ?? 5;
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
  const book = new L2Book();
  for (let i = 0; i < 20; i++) {
    book.applyBid(49_990 - i, 1 + i);
    book.applyAsk(50_010 + i, 2 + i);
  }
  const trade = new TradeRecord();
  const out = new Float64Array(1);
  const ema = new Ema(20);
  const sma = new Sma(50);
  const stats = new RollingStats(50);
  const tstats = new TimeWindowStats(5_000, 1024);
  const rsi = new Rsi(14);
  const macd = new Macd();
  const boll = new Bollinger(20, 2);
  const atr = new Atr(14);
  const bars = new TimeBars(1000, (b) => {
    out[0] += b.close;
  });
  const barsAtr = new TimeBars(1000, (b) => {
    atr.update(b.high, b.low, b.close);
  });
  const svwap = new SessionVwap(86_400_000);
  const rvwapT = new RollingVwap({ windowMs: 10_000, capacity: 1024 });
  const rvwapN = new RollingVwap({ ticks: 100 });
  const micro = new Microprice();
  const obi5 = new BookImbalance(5);
  const timbN = new TradeImbalance({ ticks: 10 });
  const timbT = new TradeImbalance({ windowMs: 5_000, capacity: 1024 });
  const surge = new VolumeSurge(3, 20);
  const vel = new PriceVelocity(50);
  const rvol = new RealizedVol(50);
  const wmean = new LinearWeightedMean(10);
  const m = N - 1;
  const steps: Array<[string, (i: number) => void]> = [
    ['feature.ema20', (i) => { ema.update(px[i & m]!); out[0] += ema.value; }],
    ['feature.sma50', (i) => { sma.update(px[i & m]!); out[0] += sma.value; }],
    ['feature.rollingStats50', (i) => { stats.update(px[i & m]!); out[0] += stats.std; }],
    ['feature.timeWindowStats5s', (i) => { tstats.update(T0 + 37 * i, px[i & m]!); out[0] += tstats.std; }],
    ['feature.rsi14', (i) => { rsi.update(px[i & m]!); out[0] += rsi.value; }],
    ['feature.macd12_26_9', (i) => { macd.update(px[i & m]!); out[0] += macd.histogram; }],
    ['feature.bollinger20', (i) => { boll.update(px[i & m]!); out[0] += boll.upper; }],
    ['feature.timeBars1s', (i) => { const j = i & m; bars.update(T0 + 37 * i, px[j]!, qty[j]!, side[j] === 1); }],
    ['feature.timeBars1s+atr14', (i) => { const j = i & m; barsAtr.update(T0 + 37 * i, px[j]!, qty[j]!, side[j] === 1); out[0] += atr.value; }],
    ['feature.sessionVwap', (i) => { const j = i & m; svwap.update(T0 + 37 * i, px[j]!, qty[j]!); out[0] += svwap.value; }],
    ['feature.rollingVwap10s', (i) => { const j = i & m; rvwapT.update(T0 + 37 * i, px[j]!, qty[j]!); out[0] += rvwapT.value; }],
    ['feature.rollingVwap100', (i) => { const j = i & m; rvwapN.update(T0 + 37 * i, px[j]!, qty[j]!); out[0] += rvwapN.value; }],
    ['feature.microprice', (i) => { const j = i & m; micro.update(px[j]! - 0.1, qty[j]!, px[j]! + 0.1, 2); out[0] += micro.value; }],
    ['feature.bookImbalance5 (L2Book)', () => { obi5.update(book); out[0] += obi5.value; }],
    ['feature.tradeImbalance10', (i) => { const j = i & m; timbN.update(T0 + 37 * i, qty[j]!, side[j] === 1); out[0] += timbN.value; }],
    ['feature.tradeImbalance5s.onTrade', (i) => {
      const j = i & m;
      trade.eventTime = T0 + 37 * i;
      trade.price = px[j]!;
      trade.qty = qty[j]!;
      trade.buyerMaker = side[j] === 1;
      timbT.onTrade(trade);
      out[0] += timbT.value;
    }],
    ['feature.volumeSurge3_20', (i) => { surge.update(qty[i & m]!); out[0] += surge.value; }],
    ['feature.priceVelocity50', (i) => { vel.update(px[i & m]!); out[0] += vel.value; }],
    ['feature.realizedVol50', (i) => { rvol.update(px[i & m]!); out[0] += rvol.value; }],
    ['feature.linearWeightedMean10', (i) => { wmean.update(px[i & m]! - px[(i + m) & m]!); out[0] += wmean.value; }],
  ];
  const drive = (step: (i: number) => void, from: number, n: number): void => {
    for (let i = from; i < from + n; i++) step(i);
  };
  const rows: FeatureBenchRow[] = [];
  let from = 0;
  for (const [name, step] of steps) {
    drive(step, from, 300_000);
    from += 300_000;
    let best = Infinity;
    for (let k = 0; k < passes; k++) {
      const t0 = process.hrtime.bigint();
      drive(step, from, updates);
      const dt = Number(process.hrtime.bigint() - t0);
      from += updates;
      if (dt < best) best = dt;
      // let other work (and the event loop) run between passes
      await new Promise((r) => setImmediate(r));
    }
    rows.push({ name, nsPerUpdate: best / updates });
  }
  // the empty step: the harness's own cost per update (a call through the shared site and the index math)
  const empty = (i: number): void => {
    out[0] += px[i & m]!;
  };
  drive(empty, 0, 300_000);
  let best = Infinity;
  for (let k = 0; k < passes; k++) {
    const t0 = process.hrtime.bigint();
    drive(empty, 0, updates);
    const dt = Number(process.hrtime.bigint() - t0);
    if (dt < best) best = dt;
  }
  rows.push({ name: 'feature.harnessOverhead', nsPerUpdate: best / updates });
  return rows;
}
