/**
 * Pre-trade risk bench: ns per `RiskEngine.check` with every rule on, on a pregenerated stream of intents
 * over 4 symbols (limit and market, both sides, some exits, some refused by the price band), and the minor
 * GCs over the run.
 *
 * One check is ~0.1 us, below what performance.now() resolves, so checks are timed in batches and the
 * percentiles are over the per-check mean of each batch (a batch's p99 hides single-call outliers; it
 * shows the steady cost and the disturbed batches). Not wired into bench/index.ts. Prints nothing when
 * imported: returns the figures; `node dist/bench/risk.js` prints them as JSON.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { GcCounter } from '../src/metrics/GcCounter.js';
import { OrderType, RejectReason, Side, TimeInForce } from '../src/ring/layout.js';
import { RISK_OFF, type RiskConfig } from '../src/risk/RiskConfig.js';
import { RiskEngine } from '../src/risk/RiskEngine.js';
import { RiskInputs } from '../src/risk/RiskInputs.js';
import { OrderRequest } from '../src/strategy/Strategy.js';

export interface RiskBenchOptions {
  /** checks in the measured run (default 1,000,000) */
  checks?: number;
  /** checks per timed batch (default 100: ~6 us, well above the timer resolution, short enough that few batches contain a preemption) */
  batch?: number;
}

export interface RiskBenchResult {
  checks: number;
  batch: number;
  p50NsPerCheck: number;
  p99NsPerCheck: number;
  meanNsPerCheck: number;
  minorGcs: number;
  majorGcs: number;
  passed: number;
  rejected: number;
  /** refusals by rule (non-zero ones) */
  rejectsByRule: Record<string, number>;
}

const SYMBOLS = 4;
const N = 4096; // intents pregenerated, power of two: indexed with i & (N - 1)
const T0 = 1_704_153_600_000;

/** Every rule on, with limits wide enough that most intents pass the whole path. */
const BENCH_CONFIG: RiskConfig = {
  ...RISK_OFF,
  maxOrderQty: 10,
  maxOrderNotional: 1e9,
  maxPositionQty: 1e6,
  maxPositionNotional: 1e12,
  maxTotalNotional: 1e12,
  maxOpenOrders: 1_000,
  maxOpenOrdersPerSymbol: 500,
  maxOrdersPerSecond: 10_000,
  maxOrdersPer10s: 100_000,
  maxOrdersPerMinute: 100_000,
  priceBandBps: 200,
  minSpreadBps: 1,
  maxSlippageBps: 50,
  requireLiveBook: true,
  maxVenueLatencyMs: 100,
  dailyLossLimit: 1e6,
  dailyLossFraction: 0.5,
  maxDrawdownFraction: 0.9,
  maxRealizedLoss: 1e9,
  targetProfit: 1e9,
  minCapitalFraction: 0.01,
  maxConsecutiveLosses: 1_000,
  lossPauseMs: 60_000,
  maxLossesPerDay: 100_000,
  maxTradesPerMinute: 100_000,
  maxTradesPerDay: 10_000_000,
  leverage: 5,
  maxLeverage: 100,
  maxOrderMarginFraction: 1,
  maxCapitalUsage: 1,
};

export async function runRiskBench(opts: RiskBenchOptions = {}): Promise<RiskBenchResult> {
  const checks = opts.checks ?? 1_000_000;
  const batch = opts.batch ?? 100;
  const risk = new RiskEngine(BENCH_CONFIG);
  const inp = new RiskInputs(SYMBOLS);
  for (let s = 0; s < SYMBOLS; s++) {
    const mid = 50_000 / (s + 1);
    inp.bid[s] = mid - 5;
    inp.ask[s] = mid + 5;
    inp.bookLive[s] = 1;
    inp.position[s] = s % 2 === 0 ? 0.5 : -0.5;
    inp.openOrders[s] = 3;
  }
  inp.equity = 1e9;
  inp.venueLatencyMs = 20;

  // the intent stream
  const sym = new Int32Array(N);
  const side = new Int8Array(N);
  const type = new Int8Array(N);
  const price = new Float64Array(N);
  const qty = new Float64Array(N);
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  for (let i = 0; i < N; i++) {
    const s = Math.floor(rnd() * SYMBOLS);
    const mid = 50_000 / (s + 1);
    sym[i] = s;
    side[i] = rnd() < 0.5 ? Side.Buy : Side.Sell;
    type[i] = rnd() < 0.3 ? OrderType.Market : OrderType.Limit;
    // 5 % far outside the band: refused
    price[i] = mid * (1 + (rnd() < 0.05 ? 0.05 : (rnd() - 0.5) * 0.002));
    qty[i] = 0.01 + Math.floor(rnd() * 60) * 0.01; // up to 0.6: some exits, some flips
  }

  const req = new OrderRequest();
  const samples = new Float64Array(Math.ceil(checks / batch));
  const run = (count: number, from: number): number => {
    let ok = 0;
    let k = 0;
    for (let done = 0; done < count; done += batch) {
      const t0 = performance.now();
      const end = done + batch;
      for (let i = done; i < end; i++) {
        const j = (from + i) & (N - 1);
        inp.eventTimeMs = T0 + (from + i); // 1,000 intents per second of event time
        req.symbolId = sym[j]!;
        req.side = side[j]!;
        req.type = type[j]!;
        req.tif = type[j] === OrderType.Limit ? TimeInForce.Gtc : TimeInForce.None;
        req.price = price[j]!;
        req.qty = qty[j]!;
        req.reduceOnly = false;
        if (risk.check(req, req.symbolId, inp) === RejectReason.None) ok++;
      }
      samples[k++] = ((performance.now() - t0) * 1e6) / batch;
    }
    return ok;
  };

  // warm-up through the same code and paths (the rate windows fill after a minute of event time), so the
  // measured run executes optimised code that does not deoptimise on a first-seen branch
  const measured = Math.ceil(checks / batch) * batch;
  run(measured, 0);
  await yieldToLoop();
  const gc = new GcCounter();
  gc.take();
  const before = risk.rejectCounts();
  const passed = run(measured, measured);
  await yieldToLoop(); // GC entries arrive on the event loop
  await yieldToLoop();
  const g = gc.take();
  gc.close();

  const sorted = Array.from(samples).sort((a, b) => a - b);
  const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  const round = (v: number): number => Math.round(v * 10) / 10;
  return {
    checks: measured,
    batch,
    p50NsPerCheck: round(pct(50)),
    p99NsPerCheck: round(pct(99)),
    meanNsPerCheck: round(sum / sorted.length),
    minorGcs: g.minor,
    majorGcs: g.major,
    passed,
    rejected: measured - passed,
    rejectsByRule: Object.fromEntries(Object.entries(risk.rejectCounts()).map(([k, n]): [string, number] => [k, n - (before[k] ?? 0)]).filter(([, n]) => n > 0)),
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  runRiskBench().then((r) => console.log(JSON.stringify(r)));
}
