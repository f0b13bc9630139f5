/**
 * Strategy step bench: every strategy in the registry (as registered at run time, so strategies added later
 * are included), each driven through an in-process StrategyRunner by synthetic market events, one symbol:
 * ~50% depth diffs (Depth records applied to the runner's mirror book, which a FeedStatus record has made
 * Live after a Reset snapshot), ~30% trades, ~20% book tickers. Ring B is an ArraySlotWriter drained every
 * 64 events (and after each timed event): market, IOC and FOK orders are filled at once at the mid or their
 * limit price, GTC / GTX orders are acked and left resting, cancels are confirmed, so strategies see
 * reports, hold positions and run their exit paths.
 *
 * Events come from a pregenerated cycle of 65,536 records (a BTC-like mid walk in 0.1 ticks, bridged so the
 * cycle ends where it starts and the mirror book stays consistent when it repeats); each record's event time
 * is rewritten as it is fed (+5 ms per event), so event-time timers and cooldowns see a clock that moves on.
 *
 * Per strategy: 200k warm-up events, then two passes of 1M events each (`events` = 1M):
 * - allocation pass, untimed: minor GCs (GcCounter; the loop yields to the event loop every 65,536 events
 *   so GC entries are delivered) and heapUsed growth over the pass. heapGrowthBytes is end − start heapUsed:
 *   the bytes allocated when no GC ran (minorGcs 0), and meaningless (can be negative) when one did.
 * - timing pass: every 64th event is timed alone with performance.now() around `onMarketRecord` (the whole
 *   runner step: view, mirror book update, strategy, any submit), minus the median cost of two back-to-back
 *   clock reads; p50 / p99 over those 15,625 samples. Kept out of the allocation pass because each clock read
 *   boxes a float. performance.now() steps in ~10 ns here, so the figures are quantised to about that.
 * - `baseline: true` adds a no-op strategy row first: the runner, mirror book and harness alone. Measured
 *   (Node 20): it shows as many minor GCs as the real strategies, i.e. what allocates is on the runner /
 *   harness side, not in the strategies.
 *
 * The strategies run one after another in one process, so the runner's call into the strategy sees several
 * classes over the run: later strategies may pay for a polymorphic call site the engine (one strategy per
 * worker) would not.
 */
import { performance } from 'node:perf_hooks';
import { makeInstrument, type Instrument } from '../src/core/Instrument.js';
import { GcCounter } from '../src/metrics/GcCounter.js';
import {
  AT, BT, BookState, DEPTH, ExecType, FS, IN, INTENT_SLOT_BYTES, MARKET_SLOT_BYTES, OrderStatus, OrderType, RecordFlag, RecordType, REPORT_SLOT_BYTES, RP, TimeInForce,
  depthCount, packHeader,
} from '../src/ring/layout.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { PreTradeLimits } from '../src/risk/PreTradeLimits.js';
import { createStrategy, strategyDefaults, strategyNames } from '../src/strategy/registry.js';
import { StrategyRunner } from '../src/strategy/StrategyRunner.js';
import type { Strategy } from '../src/strategy/Strategy.js';

export interface StrategyBenchRow {
  name: string;
  p50Ns: number;
  p99Ns: number;
  minorGcs: number;
  heapGrowthBytes: number;
  events: number;
}

export interface StrategyBenchOptions {
  /** events per measured pass (default 1,000,000) */
  events?: number;
  /** warm-up events (default 200,000) */
  warmup?: number;
  /** also a first row "(no-op strategy)": the runner, mirror book and harness alone (default false) */
  baseline?: boolean;
  /** only these strategies (default: every registered one) */
  only?: readonly string[];
}

/** Does nothing: what the runner, its mirror book and this harness cost without a strategy. */
class NoOp implements Strategy {
  readonly name = '(no-op strategy)';
  onMarket(): void {}
  onReport(): void {}
  onTimer(): void {}
}

const CYCLE = 65_536; // power of two
const TICK = 0.1;
const MID0 = 500_000; // ticks: 50,000.0
const EVENT_MS = 5;
const SAMPLE_EVERY = 64;
const YIELD_EVERY = 65_536;

/** The cycle of market records and, per record, the word its event time lives in. */
interface Tape {
  market: ArraySlotWriter;
  etWord: Int32Array;
  /** mid (price) in force at each record, for fills */
  mid: Float64Array;
  snapshot: ArraySlotWriter;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

function buildTape(): Tape {
  const rnd = lcg(42);
  const kind = new Uint8Array(CYCLE); // 0 depth, 1 trade, 2 ticker
  const move = new Int8Array(CYCLE);
  let net = 0;
  for (let i = 0; i < CYCLE; i++) {
    const r = rnd();
    kind[i] = r < 0.5 ? 0 : r < 0.8 ? 1 : 2;
    if (kind[i] === 0) {
      const m = rnd();
      move[i] = m < 0.2 ? 1 : m < 0.4 ? -1 : 0;
      net += move[i]!;
    }
  }
  // bridge: neutralise moves until the walk returns to its start, so the cycle repeats seamlessly
  while (net !== 0) {
    for (let i = 0; i < CYCLE && net !== 0; i++) {
      if (move[i] === (net > 0 ? 1 : -1) && rnd() < 0.1) {
        move[i] = 0;
        net += net > 0 ? -1 : 1;
      }
    }
  }
  const market = new ArraySlotWriter(MARKET_SLOT_BYTES, CYCLE);
  const etWord = new Int32Array(CYCLE);
  const midPx = new Float64Array(CYCLE);
  const f = market.f64;
  const i32 = market.i32;
  let mid = MID0;
  for (let i = 0; i < CYCLE; i++) {
    const b = market.claim();
    i32[b * 2 + 1] = 0;
    if (kind[i] === 0) {
      const d = move[i]!;
      mid += d;
      let n = 0;
      let askMask = 0;
      const lvl = (ticks: number, qty: number, ask: boolean): void => {
        f[b + DEPTH.LEVELS + 2 * n] = ticks * TICK;
        f[b + DEPTH.LEVELS + 2 * n + 1] = qty;
        if (ask) askMask |= 1 << n;
        n++;
      };
      // asks stay >= mid + 1, bids <= mid - 1: the level the mid moved onto is deleted
      if (d > 0) lvl(mid, 0, true);
      else if (d < 0) lvl(mid, 0, false);
      lvl(mid - 1, 0.1 + Math.floor(rnd() * 50) / 10, false);
      lvl(mid + 1, 0.1 + Math.floor(rnd() * 50) / 10, true);
      const deep = 2 + Math.floor(rnd() * 10);
      const isAsk = rnd() < 0.5;
      lvl(isAsk ? mid + deep : mid - deep, rnd() < 0.2 ? 0 : 0.1 + Math.floor(rnd() * 100) / 10, isAsk);
      i32[b * 2] = packHeader(RecordType.Depth, RecordFlag.First | RecordFlag.Last, depthCount(n, askMask));
      f[b + DEPTH.FIRST_UPDATE_ID] = i + 1;
      f[b + DEPTH.FINAL_UPDATE_ID] = i + 1;
      f[b + DEPTH.PREV_UPDATE_ID] = i;
      etWord[i] = DEPTH.EVENT_TIME;
    } else if (kind[i] === 1) {
      const sell = rnd() < 0.5;
      i32[b * 2] = packHeader(RecordType.AggTrade, 0, 0);
      f[b + AT.PRICE] = (sell ? mid - 1 : mid + 1) * TICK;
      f[b + AT.QTY] = 0.001 + Math.floor(rnd() * 1000) / 1000;
      f[b + AT.BUYER_MAKER] = sell ? 1 : 0;
      etWord[i] = AT.EVENT_TIME;
    } else {
      i32[b * 2] = packHeader(RecordType.BookTicker, 0, 0);
      f[b + BT.BID] = (mid - 1) * TICK;
      f[b + BT.ASK] = (mid + 1) * TICK;
      f[b + BT.BID_QTY] = 0.1 + Math.floor(rnd() * 50) / 10;
      f[b + BT.ASK_QTY] = 0.1 + Math.floor(rnd() * 50) / 10;
      etWord[i] = BT.EVENT_TIME;
    }
    midPx[i] = mid * TICK;
  }
  market.commit();
  // the initial book: a Reset event of 20 levels a side (4 per record), then FeedStatus Live
  const snapshot = new ArraySlotWriter(MARKET_SLOT_BYTES, 11);
  for (let r = 0; r < 10; r++) {
    const b = snapshot.claim();
    let flags = RecordFlag.Reset;
    if (r === 0) flags |= RecordFlag.First;
    if (r === 9) flags |= RecordFlag.Last;
    // records 0-4 bids, 5-9 asks
    const ask = r >= 5;
    for (let j = 0; j < 4; j++) {
      const k = (r % 5) * 4 + j + 1;
      snapshot.f64[b + DEPTH.LEVELS + 2 * j] = (ask ? MID0 + k : MID0 - k) * TICK;
      snapshot.f64[b + DEPTH.LEVELS + 2 * j + 1] = 1 + k / 10;
    }
    snapshot.i32[b * 2] = packHeader(RecordType.Depth, flags, depthCount(4, ask ? 0xf : 0));
    snapshot.i32[b * 2 + 1] = 0;
  }
  const s = snapshot.claim();
  snapshot.i32[s * 2] = packHeader(RecordType.FeedStatus, 0, 0);
  snapshot.i32[s * 2 + 1] = 0;
  snapshot.f64[s + FS.BOOK_STATE] = BookState.Live;
  snapshot.f64[s + FS.CONNECTED] = 1;
  snapshot.commit();
  return { market, etWord, mid: midPx, snapshot };
}

/** One strategy in its runner, fed from the tape; ring B drained into immediate reports. */
class Driver {
  readonly runner: StrategyRunner;
  private readonly intents = new ArraySlotWriter(INTENT_SLOT_BYTES, 1024);
  private readonly reports = new ArraySlotWriter(REPORT_SLOT_BYTES, 1);
  private readonly inst: Instrument;
  private seq = 0;
  private timeMs = 1_700_000_000_000;

  constructor(
    name: string,
    private readonly tape: Tape,
  ) {
    const params = name === NOOP ? undefined : strategyDefaults(name);
    const symbol = params ? params.symbol : 'BTCUSDT';
    this.inst = makeInstrument(symbol, '0.1', '0.001', '0.001', '5');
    const strat = params ? createStrategy(name, params, [symbol]) : new NoOp();
    this.runner = new StrategyRunner(strat, [this.inst], this.intents, new PreTradeLimits({ maxOrderQty: 1e9, maxPosition: 1e9 }), { now: () => 0 });
    this.runner.beginBatch(0);
    const s = tape.snapshot;
    for (let i = 0; i < s.count; i++) this.runner.onMarketRecord(s.f64, s.i32, s.base(i));
  }

  /** Feeds `n` events, draining ring B every SAMPLE_EVERY. */
  run(n: number): void {
    const t = this.tape;
    const f = t.market.f64;
    const i32 = t.market.i32;
    const words = t.market.slotWords;
    const r = this.runner;
    for (let k = 0; k < n; k++) {
      const i = this.seq++ & (CYCLE - 1);
      const b = i * words;
      this.timeMs += EVENT_MS;
      f[b + t.etWord[i]!] = this.timeMs;
      r.onMarketRecord(f, i32, b);
      if ((k & (SAMPLE_EVERY - 1)) === SAMPLE_EVERY - 1) this.drain(i);
    }
    this.drain(this.seq & (CYCLE - 1));
  }

  /**
   * Feeds `n` events (a multiple of SAMPLE_EVERY), timing the last of each SAMPLE_EVERY alone; samples (ns,
   * clock cost included) go to `out` from `at`. Returns the next free index.
   */
  runTimed(n: number, out: Float64Array, at: number): number {
    const t = this.tape;
    const f = t.market.f64;
    const i32 = t.market.i32;
    const words = t.market.slotWords;
    const r = this.runner;
    for (let k = 0; k < n; k++) {
      const i = this.seq++ & (CYCLE - 1);
      const b = i * words;
      this.timeMs += EVENT_MS;
      f[b + t.etWord[i]!] = this.timeMs;
      if ((k & (SAMPLE_EVERY - 1)) === SAMPLE_EVERY - 1) {
        const t0 = performance.now();
        r.onMarketRecord(f, i32, b);
        const t1 = performance.now();
        out[at++] = (t1 - t0) * 1e6;
        this.drain(i);
      } else r.onMarketRecord(f, i32, b);
    }
    return at;
  }

  private drain(i: number): void {
    const w = this.intents;
    const n = w.count;
    if (n === 0) return;
    const f = w.f64;
    const mid = this.tape.mid[i]!;
    for (let k = 0; k < n; k++) {
      const b = w.base(k);
      const kind = w.i32[b * 2]! & 0xff;
      const id = f[b + IN.INTENT_ID]!;
      const side = f[b + IN.SIDE]!;
      if (kind === RecordType.OrderNew) {
        const tif = f[b + IN.TIF]!;
        if (f[b + IN.ORDER_TYPE] === OrderType.Market || tif === TimeInForce.Ioc || tif === TimeInForce.Fok) {
          const ticks = f[b + IN.PRICE_TICKS]!;
          this.report(id, ExecType.Fill, OrderStatus.Filled, side, f[b + IN.QTY_STEPS]! * this.inst.stepSize, ticks > 0 ? ticks * this.inst.tickSize : mid);
        } else this.report(id, ExecType.Ack, OrderStatus.New, side, 0, 0);
      } else if (kind === RecordType.OrderCancel) {
        this.report(f[b + IN.TARGET_ID]!, ExecType.Canceled, OrderStatus.Canceled, side, 0, 0);
      } else if (kind === RecordType.OrderAmend) {
        this.report(f[b + IN.TARGET_ID]!, ExecType.Ack, OrderStatus.New, side, 0, 0);
      }
    }
    w.reset();
  }

  private report(id: number, x: ExecType, st: OrderStatus, side: number, qty: number, price: number): void {
    const w = this.reports;
    w.reset();
    const b = w.claim();
    w.i32[b * 2] = packHeader(RecordType.ExecReport, 0, 0);
    w.i32[b * 2 + 1] = 0;
    const f = w.f64;
    f[b + RP.INTENT_ID] = id;
    f[b + RP.EXEC_TYPE] = x;
    f[b + RP.STATUS] = st;
    f[b + RP.SIDE] = side;
    f[b + RP.LAST_QTY] = qty;
    f[b + RP.CUM_QTY] = qty;
    f[b + RP.LAST_PRICE] = price;
    f[b + RP.AVG_PRICE] = price;
    w.commit();
    this.runner.onReportRecord(f, w.i32, w.u8, b);
  }
}

const NOOP = '(no-op strategy)';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Median cost (ns) of two back-to-back performance.now() reads: subtracted from each sample. */
function clockCostNs(): number {
  const n = 20_001;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    const b = performance.now();
    d[i] = (b - a) * 1e6;
  }
  d.sort();
  return d[n >> 1]!;
}

function pct(sorted: Float64Array, n: number, p: number): number {
  return sorted[Math.min(n - 1, Math.floor(p * n))]!;
}

export async function runStrategyBench(opts: StrategyBenchOptions = {}): Promise<StrategyBenchRow[]> {
  const events = Math.max(SAMPLE_EVERY, Math.floor((opts.events ?? 1_000_000) / SAMPLE_EVERY) * SAMPLE_EVERY);
  const warmup = opts.warmup ?? 200_000;
  const tape = buildTape();
  const rows: StrategyBenchRow[] = [];
  const gc = new GcCounter();
  const samples = new Float64Array(Math.ceil(events / SAMPLE_EVERY));
  try {
    const names = opts.only ? strategyNames().filter((n) => opts.only!.includes(n)) : strategyNames();
    for (const name of opts.baseline ? [NOOP, ...names] : names) {
      const d = new Driver(name, tape);
      for (let done = 0; done < warmup; done += YIELD_EVERY) {
        d.run(Math.min(YIELD_EVERY, warmup - done));
        await tick();
      }
      // allocation pass (untimed)
      await tick();
      gc.take();
      const heap0 = process.memoryUsage().heapUsed;
      for (let done = 0; done < events; done += YIELD_EVERY) {
        d.run(Math.min(YIELD_EVERY, events - done));
        await tick();
      }
      const heap1 = process.memoryUsage().heapUsed;
      await tick();
      const minorGcs = gc.take().minor;
      // timing pass
      const clock = clockCostNs();
      let n = 0;
      for (let done = 0; done < events; done += YIELD_EVERY) {
        n = d.runTimed(Math.min(YIELD_EVERY, events - done), samples, n);
        await tick();
      }
      const s = samples.subarray(0, n);
      for (let i = 0; i < n; i++) s[i] = Math.max(0, s[i]! - clock);
      s.sort();
      rows.push({ name, p50Ns: pct(s, n, 0.5), p99Ns: pct(s, n, 0.99), minorGcs, heapGrowthBytes: heap1 - heap0, events });
    }
  } finally {
    gc.close();
  }
  return rows;
}

/** One line per strategy, for a table. */
export function formatStrategyBench(rows: StrategyBenchRow[]): string {
  const lines = ['', `${'strategy step (1 event)'.padEnd(26)} ${'p50 ns'.padStart(8)} ${'p99 ns'.padStart(8)} ${'minor GCs'.padStart(10)} ${'heap growth'.padStart(12)} ${'events'.padStart(10)}`];
  for (const r of rows) {
    lines.push(`${r.name.padEnd(26)} ${r.p50Ns.toFixed(0).padStart(8)} ${r.p99Ns.toFixed(0).padStart(8)} ${String(r.minorGcs).padStart(10)} ${r.heapGrowthBytes.toFixed(0).padStart(12)} ${String(r.events).padStart(10)}`);
  }
  return lines.join('\n');
}
