/**
 * Matching-core throughput: market events per second through the resting-order matching, in-process, one
 * thread, with N participants' orders resting across price levels, for each queue model.
 *
 * Events (book tickers, trades, depth diffs; the simulator's default 60/25/15 mix over BTCUSDT and
 * ETHUSDT) come from the synthetic market and are generated BEFORE timing, each with the market's best
 * bid/ask after it, so the figure is the matching and not the generation. Two paths:
 *   passive — PassiveBook alone (queue estimates, fills) with a trivial fill sink;
 *   venue   — VenueCore.matchResting: the same plus the venue's fill accounting (order state, position,
 *             wallet, fee, fill log, user-data callbacks to a listener that does nothing).
 * Filled orders are replaced at once at the same distance from the current touch, so N stays N (a
 * market maker re-quoting). N = 0 is the floor (the per-event check that there is nothing to do).
 *
 * Run: `node dist/bench/matching.js [events]` after `tsc`, or call runMatchingBench().
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Instrument } from '../src/sim/instruments.js';
import { resolveInstruments } from '../src/sim/instruments.js';
import { DEFAULT_MIX } from '../src/sim/market/Scheduler.js';
import { SyntheticMarket } from '../src/sim/market/SyntheticMarket.js';
import type { BookTop, DepthSnapshot, MarketEvent, MarketEventKind, MarketSource, Side, TakeResult } from '../src/sim/market/types.js';
import { PassiveBook } from '../src/sim/matching/PassiveBook.js';
import { createQueueModel, type QueueModelSpec } from '../src/sim/matching/QueueModel.js';
import { Rng } from '../src/sim/rng.js';
import { VenueCore, type CoreListener, type SimAccount, type SimOrder } from '../src/sim/Venue.js';

export interface MatchingBenchRow {
  name: string;
  path: 'passive' | 'venue';
  model: string;
  /** Resting participant orders (kept constant by re-quoting). */
  resting: number;
  events: number;
  eventsPerSec: number;
  nsPerEvent: number;
  /** Maker fills produced, and how many orders filled completely (and were replaced). */
  fills: number;
  ordersFilled: number;
}

export interface MatchingBenchOptions {
  /** Market events per run. Default 1_000_000, quick too: the generated workload depends on its length (a 300k one is fill-dense), so both modes measure the same one. */
  events?: number;
  quick?: boolean;
  /** Resting-order counts. Default [0, 100, 1000]. */
  resting?: number[];
}

interface Workload {
  insts: Instrument[];
  events: MarketEvent[];
  /** Best bid / ask (and their quantities) after each event. */
  bid: Float64Array;
  ask: Float64Array;
  bidQty: Float64Array;
  askQty: Float64Array;
  /** Book at the start, per symbol (where the first orders go). */
  start: Array<{ top: BookTop; bids: Array<[number, number]>; asks: Array<[number, number]> }>;
}

function generate(n: number, seed: number): Workload {
  const insts = resolveInstruments(['BTCUSDT', 'ETHUSDT']);
  const m = new SyntheticMarket(insts, { seed });
  const start = insts.map((i) => ({ top: m.top(i.idx), ...m.levels(i.idx, 20) }));
  const rng = new Rng(seed + 1);
  const events = new Array<MarketEvent>(n);
  const bid = new Float64Array(n);
  const ask = new Float64Array(n);
  const bidQty = new Float64Array(n);
  const askQty = new Float64Array(n);
  const wTotal = DEFAULT_MIX.bookTicker + DEFAULT_MIX.trade + DEFAULT_MIX.depth;
  for (let k = 0; k < n; k++) {
    const sym = rng.int(insts.length);
    const r = rng.uniform() * wTotal;
    const kind: MarketEventKind = r < DEFAULT_MIX.bookTicker ? 'bookTicker' : r < DEFAULT_MIX.bookTicker + DEFAULT_MIX.trade ? 'trade' : 'depth';
    events[k] = m.next(sym, kind, k);
    const t = m.top(sym);
    bid[k] = t.bid;
    ask[k] = t.ask;
    bidQty[k] = t.bidQty;
    askQty[k] = t.askQty;
  }
  return { insts, events, bid, ask, bidQty, askQty, start };
}

/** A resting order's placement rule: symbol, side, distance from the touch (ticks), quantity (steps). */
interface Slot {
  sym: number;
  side: Side;
  offset: number;
  qty: number;
}

function slots(w: Workload, count: number, seed: number): Slot[] {
  const rng = new Rng(seed);
  const out: Slot[] = [];
  for (let i = 0; i < count; i++) {
    const inst = w.insts[i % w.insts.length]!;
    const side: Side = rng.uniform() < 0.5 ? 'BUY' : 'SELL';
    // Mostly near the touch, where the flow is, thinning out to the edge of the 20-tick book window.
    const offset = Math.min(19, Math.floor(rng.exponential(1 / 4)));
    const px = inst.initialTicks;
    let qty = inst.minQtySteps;
    while (inst.quote(px, qty) < 2n * inst.minNotionalQuote) qty *= 2;
    out.push({ sym: inst.idx, side, offset, qty: qty * (1 + rng.int(4)) });
  }
  return out;
}

function priceOf(s: Slot, bid: number, ask: number): number {
  return s.side === 'BUY' ? Math.max(1, bid - s.offset) : ask + s.offset;
}

/**
 * What a re-quote at slot `s` after event k queues behind: the recorded best's quantity at the touch, a
 * typical level deeper (the bench keeps no full book; the venue path sees the same through RecordedTop).
 */
function requoteQueue(w: Workload, s: Slot, k: number): number {
  if (s.offset === 0) return s.side === 'BUY' ? w.bidQty[k]! : w.askQty[k]!;
  return w.insts[s.sym]!.typicalLevelSteps;
}

/** Level quantity at a price in a [tick, qty] list (0 when absent). */
function qtyAt(levels: Array<[number, number]>, price: number): number {
  for (const [t, q] of levels) if (t === price) return q;
  return 0;
}

function runPassive(w: Workload, spec: QueueModelSpec, count: number): MatchingBenchRow {
  const model = createQueueModel(spec);
  const book = new PassiveBook<Slot>(model, new Rng(99));
  const sl = slots(w, count, 7);
  for (const s of sl) {
    const st = w.start[s.sym]!;
    const price = priceOf(s, st.top.bid, st.top.ask);
    book.add(s.sym, s.side, price, s.qty, qtyAt(s.side === 'BUY' ? st.bids : st.asks, price), s);
  }
  const { events, bid, ask } = w;
  let fills = 0;
  let done = 0;
  const t0 = performance.now();
  for (let k = 0; k < events.length; k++) {
    const ev = events[k]!;
    const n = book.apply(ev, bid[k]!, ask[k]!);
    for (let i = 0; i < n; i++) {
      const e = book.fill(i).entry;
      fills++;
      if (e.rem === 0) {
        done++;
        const s = e.ref;
        book.add(s.sym, s.side, priceOf(s, bid[k]!, ask[k]!), s.qty, requoteQueue(w, s, k), s);
      }
    }
  }
  const ms = performance.now() - t0;
  return row('passive', spec, count, events.length, ms, fills, done);
}

/** The recorded top as the venue's market (placement and crossing only read the top and levels). */
class RecordedTop implements MarketSource {
  k = -1;
  constructor(private readonly w: Workload) {}
  get instruments(): readonly Instrument[] {
    return this.w.insts;
  }
  instrument(symbol: string): Instrument | undefined {
    return this.w.insts.find((i) => i.symbol === symbol);
  }
  top(sym: number): BookTop {
    const st = this.w.start[sym]!;
    if (this.k < 0) return st.top;
    const k = this.k;
    return { u: 0, bid: this.w.bid[k]!, bidQty: this.w.bidQty[k]!, ask: this.w.ask[k]!, askQty: this.w.askQty[k]! };
  }
  levels(sym: number, n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    if (this.k < 0) return this.w.start[sym]!;
    const t = this.top(sym);
    const typ = this.w.insts[sym]!.typicalLevelSteps;
    const bids: Array<[number, number]> = [[t.bid, t.bidQty]];
    const asks: Array<[number, number]> = [[t.ask, t.askQty]];
    for (let i = 1; i < Math.min(n, 10); i++) {
      bids.push([t.bid - i, typ]);
      asks.push([t.ask + i, typ]);
    }
    return { bids, asks };
  }
  snapshot(): DepthSnapshot {
    throw new Error('not in the bench');
  }
  available(): number {
    return 0;
  }
  take(): TakeResult {
    return { fills: [], filled: 0, events: [] };
  }
  next(): MarketEvent {
    throw new Error('not in the bench');
  }
  discardDepth(): void {}
}

function runVenue(w: Workload, spec: QueueModelSpec, count: number): MatchingBenchRow {
  const market = new RecordedTop(w);
  const core = new VenueCore(market, { rng: new Rng(5), queueModel: spec, marginCheck: false, maxOpenOrders: 1_000_000, maxFillLog: 100_000 });
  const accounts: SimAccount[] = [];
  for (let a = 0; a < 10; a++) accounts.push(core.addAccount(`acc${a}`, `key${a}`, `secret${a}`));
  const slotOf = new Map<number, Slot>();
  const filled: SimOrder[] = [];
  let fills = 0;
  // Counts fills and collects the orders that completed (re-quoted after the event).
  const listener: CoreListener = {
    wants: () => true,
    order: (_acc, o, exec) => {
      if (exec !== 'TRADE') return;
      fills++;
      if (o.status === 'FILLED') filled.push(o);
    },
    account: () => {},
    algo: () => {},
    leverage: () => {},
  };
  let cid = 0;
  const place = (acc: SimAccount, s: Slot, bid: number, ask: number, now: number): void => {
    const r = core.placeOrder(
      acc,
      { inst: w.insts[s.sym]!, side: s.side, type: 'LIMIT', timeInForce: 'GTC', qty: s.qty, price: priceOf(s, bid, ask), clientOrderId: `b${cid++}`, reduceOnly: false, positionSide: 'BOTH', goodTillDate: 0 },
      now,
    );
    if (!r.ok) throw new Error(`bench order rejected: ${r.reason}`);
    slotOf.set(r.order.orderId, s);
  };
  const sl = slots(w, count, 7);
  sl.forEach((s, i) => {
    const st = w.start[s.sym]!;
    place(accounts[i % accounts.length]!, s, st.top.bid, st.top.ask, 0);
  });
  core.listener = listener;
  const accById = new Map(accounts.map((a) => [a.id, a]));
  const { events, bid, ask } = w;
  let done = 0;
  const t0 = performance.now();
  for (let k = 0; k < events.length; k++) {
    market.k = k;
    core.matchResting(events[k]!);
    if (filled.length > 0) {
      for (const o of filled) {
        const s = slotOf.get(o.orderId)!;
        slotOf.delete(o.orderId);
        done++;
        place(accById.get(o.accountId)!, s, bid[k]!, ask[k]!, k);
      }
      filled.length = 0;
    }
  }
  const ms = performance.now() - t0;
  return row('venue', spec, count, events.length, ms, fills, done);
}

function modelName(spec: QueueModelSpec): string {
  return typeof spec === 'string' ? spec : `${spec.kind}(${spec.fn ?? 'power'}${spec.fn === 'log' ? '' : `,n=${spec.n ?? 2}`},${spec.sampling ?? 'expected'})`;
}

function row(path: 'passive' | 'venue', spec: QueueModelSpec, resting: number, events: number, ms: number, fills: number, ordersFilled: number): MatchingBenchRow {
  const model = modelName(spec);
  return {
    name: `matching.${path}.${model}.${resting}`,
    path,
    model,
    resting,
    events,
    eventsPerSec: events / (ms / 1000),
    nsPerEvent: (ms * 1e6) / events,
    fills,
    ordersFilled,
  };
}

export async function runMatchingBench(opts: MatchingBenchOptions = {}): Promise<MatchingBenchRow[]> {
  const n = opts.events ?? 1_000_000;
  const counts = opts.resting ?? [0, 100, 1000];
  const w = generate(n, 42);
  const models: QueueModelSpec[] = ['risk-averse', 'probabilistic', { kind: 'probabilistic', sampling: 'draw' }, 'none'];
  // Warm-up (JIT) on a slice, untimed.
  const warm: Workload = { ...w, events: w.events.slice(0, Math.min(50_000, n)) };
  for (const m of models) {
    runPassive(warm, m, 100);
    runVenue(warm, m, 100);
  }
  const rows: MatchingBenchRow[] = [];
  for (const path of ['passive', 'venue'] as const) {
    for (const m of models) {
      for (const c of counts) {
        if (c === 0 && m !== models[0]) continue; // nothing rests: the model does not matter
        rows.push(path === 'passive' ? runPassive(w, m, c) : runVenue(w, m, c));
        await new Promise((r) => setImmediate(r));
      }
    }
  }
  return rows;
}

/** Plain-text table of the rows. */
export function formatMatchingBench(rows: MatchingBenchRow[]): string {
  const lines = ['', 'matching core (one thread)                          events/s   ns/event     fills  orders filled'];
  for (const r of rows) {
    lines.push(
      `${r.name.padEnd(50)} ${(r.eventsPerSec / 1e6).toFixed(2).padStart(7)} M ${r.nsPerEvent.toFixed(0).padStart(10)} ${String(r.fills).padStart(9)} ${String(r.ordersFilled).padStart(14)}`,
    );
  }
  const worst = rows.filter((r) => r.resting > 0).reduce((a, r) => Math.min(a, r.eventsPerSec), Number.POSITIVE_INFINITY);
  if (Number.isFinite(worst)) lines.push(`slowest configuration with resting orders: ${(worst / 1e6).toFixed(2)} M events/s, target >= 1 M/s: ${worst >= 1e6 ? 'PASS' : 'MISS'}`);
  return lines.join('\n') + '\n';
}

// `node dist/bench/matching.js [events]`
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const n = process.argv[2] !== undefined ? Number(process.argv[2]) : undefined;
  const rows = await runMatchingBench(n !== undefined ? { events: n } : {});
  process.stdout.write(formatMatchingBench(rows));
}
