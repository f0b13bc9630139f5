/**
 * Order-book micro bench: depth EVENTS per second on one thread, from decoder-output records through
 * BookSync (the §1.4 procedure) into a book, with a top-of-book read after every event as a strategy would.
 *
 * The same records go through three books side by side, one timed pass each per round (so drift on a shared
 * box hits them alike): our L2Book (blocked sorted ladder, best at the end), a plain sorted-array book (JS
 * arrays, best first, binary search + splice) and a Map book (Map per side, cached best, rescan when the best
 * goes). Also L2Book alone, without BookSync.
 *
 * Workloads: the 2021-04-05 Binance recording (5 symbols, real @depth@100ms events; when the shared fixtures
 * are there), a synthetic BTC-like book of 1000 levels per side (~9 changed levels per event, mostly near the
 * top) and the same with 10 000 levels per side (a full book after a long session). Records are decoded
 * once, before timing, by the real BinanceMarketDecoder. Between passes the update ids are shifted so the pu
 * chain continues and BookSync keeps applying.
 *
 * Prints nothing: `runBookBench()` returns the rows.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BookSync, L2BookSink, type BookSink } from '../../src/book/BookSync.js';
import { DEPTH_RECORD_WORDS, L2Book, applyDepthLevels } from '../../src/book/L2Book.js';
import { SymbolRegistry } from '../../src/core/SymbolRegistry.js';
import {
  BookState,
  DEPTH,
  MARKET_SLOT_BYTES,
  RecordFlag,
  RecordType,
  depthAskMask,
  depthLevels,
  headerCount,
  headerFlags,
  headerType,
} from '../../src/ring/layout.js';
import { ArraySlotWriter } from '../../src/ring/SlotWriter.js';
import { BinanceMarketDecoder } from '../../src/venues/binance/MarketDecoder.js';
import { RecordingReader, RecordingSource, parseDepthSnapshot, restSymbol } from '../../src/venues/binance/recording.js';

export interface BookBenchRow {
  name: string;
  /** over all timed passes */
  eventsPerSec: number;
  nsPerEvent: number;
  /** the fastest pass: less disturbed by other processes on a shared box */
  bestPassEventsPerSec: number;
  /** events timed */
  events: number;
  levelsPerEvent: number;
  recordsPerEvent: number;
  /** bid levels of the first symbol's book at the end (the size of book the workload builds) */
  bookLevels: number;
}

export interface BookBenchOptions {
  /** shorter run (about 1 s in all) */
  quick?: boolean;
}

// ------------------------------------------------------------------ workload: pre-decoded records

interface Workload {
  name: string;
  symbols: number;
  f64: Float64Array;
  i32: Int32Array;
  slotWords: number;
  records: number;
  events: number;
  levels: number;
  snapshots: Array<{ sym: number; lastUpdateId: number; bids: Float64Array; asks: Float64Array }>;
  /** per symbol: id shift that continues the pu chain into the next pass */
  shift: Float64Array;
}

/** Copies the depth records of `w` (an ArraySlotWriter) into a compact workload, computing chain shifts. */
function finishWorkload(
  name: string,
  symbols: number,
  w: ArraySlotWriter,
  snapshots: Workload['snapshots'],
): Workload {
  const firstPu = new Float64Array(symbols).fill(NaN);
  const lastU = new Float64Array(symbols);
  let events = 0;
  let levels = 0;
  for (let r = 0; r < w.count; r++) {
    const base = w.base(r);
    const h = w.i32[base * 2]!;
    const sym = w.i32[base * 2 + 1]!;
    levels += depthLevels(headerCount(h));
    if ((headerFlags(h) & RecordFlag.First) !== 0) {
      events++;
      if (firstPu[sym] !== firstPu[sym]) firstPu[sym] = w.f64[base + DEPTH.PREV_UPDATE_ID]!;
      lastU[sym] = w.f64[base + DEPTH.FINAL_UPDATE_ID]!;
    }
  }
  const shift = new Float64Array(symbols);
  for (let s = 0; s < symbols; s++) shift[s] = firstPu[s] === firstPu[s] ? lastU[s]! - firstPu[s]! : 0;
  // keep only the words a depth record uses: a denser array is kinder to the cache than 128-byte slots
  const ab = new ArrayBuffer(w.count * DEPTH_RECORD_WORDS * 8);
  const f64 = new Float64Array(ab);
  for (let r = 0; r < w.count; r++) f64.set(w.f64.subarray(w.base(r), w.base(r) + DEPTH_RECORD_WORDS), r * DEPTH_RECORD_WORDS);
  return { name, symbols, f64, i32: new Int32Array(ab), slotWords: DEPTH_RECORD_WORDS, records: w.count, events, levels, snapshots, shift };
}

function shiftIds(wl: Workload): void {
  const { f64, i32, slotWords } = wl;
  for (let r = 0; r < wl.records; r++) {
    const base = r * slotWords;
    const k = wl.shift[i32[base * 2 + 1]!]!;
    f64[base + DEPTH.FIRST_UPDATE_ID] += k;
    f64[base + DEPTH.FINAL_UPDATE_ID] += k;
    f64[base + DEPTH.PREV_UPDATE_ID] += k;
  }
}

/** The first folder at or above this file's that holds package.json. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

const RECORDING = 'recordings/binance-usdm/2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl';

/**
 * The recording's depth events that follow each symbol's snapshot (u >= lastUpdateId), so every pass starts
 * from the straddling event and the chain holds. Null when the shared fixtures are absent.
 */
function recordedWorkload(): Workload | null {
  const file = resolve(projectRoot(), '../shared/fixtures', RECORDING);
  if (!existsSync(file)) return null;
  const names = ['BATUSDT', 'CHRUSDT', 'CTKUSDT', 'NEOUSDT', 'SANDUSDT'];
  const reg = new SymbolRegistry(names);
  const dec = new BinanceMarketDecoder(reg, () => 0);
  const frame = new ArraySlotWriter(MARKET_SLOT_BYTES, 1024);
  const all = new ArraySlotWriter(MARKET_SLOT_BYTES, 20_000);
  const snapshots: Workload['snapshots'] = [];
  const snapId = new Float64Array(names.length).fill(NaN);
  const pendingFrames: Array<{ sym: number; u: number; start: number; count: number }> = [];
  for (const line of RecordingReader.open(file)) {
    if (line.src === RecordingSource.Rest) {
      const sym = reg.id(restSymbol(line.url));
      const snap = parseDepthSnapshot(line.buf.subarray(line.msgStart, line.msgEnd));
      snapshots.push({ sym, lastUpdateId: snap.lastUpdateId, bids: snap.bids, asks: snap.asks });
      snapId[sym] = snap.lastUpdateId;
    } else if (line.src === RecordingSource.Ws) {
      frame.reset();
      if (dec.decode(line.buf, line.msgStart, line.msgEnd, 0, frame) <= 0) continue;
      const b0 = frame.base(0);
      if (headerType(frame.i32[b0 * 2]!) !== RecordType.Depth) continue;
      const sym = frame.i32[b0 * 2 + 1]!;
      pendingFrames.push({ sym, u: frame.f64[b0 + DEPTH.FINAL_UPDATE_ID]!, start: all.count, count: frame.count });
      for (let r = 0; r < frame.count; r++) {
        const base = all.claim();
        all.f64.set(frame.f64.subarray(frame.base(r), frame.base(r) + frame.slotWords), base);
      }
      all.commit();
    }
  }
  // drop each symbol's events older than its snapshot
  const kept = new ArraySlotWriter(MARKET_SLOT_BYTES, all.count);
  for (const f of pendingFrames) {
    if (!(f.u >= snapId[f.sym]!)) continue;
    for (let r = 0; r < f.count; r++) {
      const base = kept.claim();
      kept.f64.set(all.f64.subarray(all.base(f.start + r), all.base(f.start + r) + all.slotWords), base);
    }
    kept.commit();
  }
  return finishWorkload('recorded', names.length, kept, snapshots);
}

/** Small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A BTCUSDT-like book, tick 0.1: `levels` per side, the mid walks a tick now and then (the touched level
 * goes), each event changes 1..17 levels (9 on average, as in the recordings), 20% of them deletes. A
 * change lands at a geometric distance from the top (mean ~4 levels), or, with probability `deepShare`,
 * anywhere in the book (the recordings have half their inserts/deletes deeper than 16 levels). Frames are
 * written as Binance sends them and decoded by the real decoder.
 */
function syntheticWorkload(name: string, events: number, levels: number, deepShare: number): Workload {
  const rnd = prng(12345);
  const reg = new SymbolRegistry(['BTCUSDT']);
  const dec = new BinanceMarketDecoder(reg, () => 0);
  const w = new ArraySlotWriter(MARKET_SLOT_BYTES, events * 6 + 16);
  let mid = 600_000; // in ticks of 0.1
  const price = (ticks: number): string => (ticks / 10).toFixed(1);
  const qty = (): string => (0.001 + rnd() * 5).toFixed(3);
  const bids: number[] = [];
  const asks: number[] = [];
  for (let d = 0; d < levels; d++) {
    bids.push(Number(price(mid - 1 - d)), Number(qty()));
    asks.push(Number(price(mid + 1 + d)), Number(qty()));
  }
  let lastU = 1_000_000;
  const snapshots = [{ sym: 0, lastUpdateId: lastU, bids: Float64Array.from(bids), asks: Float64Array.from(asks) }];
  const b: string[] = [];
  const a: string[] = [];
  for (let e = 0; e < events; e++) {
    b.length = 0;
    a.length = 0;
    if (rnd() < 0.1) {
      // the mid moves one tick; the level it runs over goes
      if (rnd() < 0.5) {
        mid++;
        a.push(`["${price(mid)}","0"]`);
      } else {
        mid--;
        b.push(`["${price(mid)}","0"]`);
      }
    }
    const k = 1 + Math.floor(rnd() * 17);
    for (let j = 0; j < k; j++) {
      const d = rnd() < deepShare ? Math.floor(rnd() * levels) : Math.min(levels - 1, Math.floor(Math.log(1 - rnd()) / Math.log(0.8)));
      const q = rnd() < 0.2 ? '0' : qty();
      if (rnd() < 0.5) b.push(`["${price(mid - 1 - d)}","${q}"]`);
      else a.push(`["${price(mid + 1 + d)}","${q}"]`);
    }
    // the first event straddles the snapshot's lastUpdateId (U <= lastUpdateId <= u), as on the venue
    const U = e === 0 ? lastU - 10 : lastU + 1 + Math.floor(rnd() * 50);
    const u = e === 0 ? lastU + 20 : U + Math.floor(rnd() * 400);
    const frame = Buffer.from(
      `{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":${1_700_000_000_000 + e * 100},"T":${1_700_000_000_000 + e * 100 - 3},"s":"BTCUSDT","U":${U},"u":${u},"pu":${lastU},"b":[${b.join(',')}],"a":[${a.join(',')}]}}`,
    );
    lastU = u;
    if (dec.decode(frame, 0, frame.length, 0, w) <= 0) throw new Error('synthetic depth frame did not decode');
  }
  return finishWorkload(name, 1, w, snapshots);
}

// ------------------------------------------------------------------ the books compared

interface TopReader {
  /** best bid + best ask + their quantities (read as a strategy would after each event) */
  top(sym: number): number;
  levelCount(sym: number): number;
}

class L2Variant extends L2BookSink implements TopReader {
  top(sym: number): number {
    const b = this.books[sym]!;
    return b.bestBid + b.bestBidQty + b.bestAsk + b.bestAskQty;
  }
  levelCount(sym: number): number {
    return this.books[sym]!.bidLevels;
  }
}

/** Sorted JS arrays per side, best first: binary search, then splice to insert or delete. */
class SortedArrayBook {
  bidP: number[] = [];
  bidQ: number[] = [];
  askP: number[] = [];
  askQ: number[] = [];

  clear(): void {
    this.bidP.length = this.bidQ.length = this.askP.length = this.askQ.length = 0;
  }

  /** `desc`: bids (highest first); asks are ascending. */
  private static set(p: number[], q: number[], price: number, qty: number, desc: boolean): void {
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (desc ? p[mid]! > price : p[mid]! < price) lo = mid + 1;
      else hi = mid;
    }
    const found = lo < p.length && p[lo] === price;
    if (qty > 0) {
      if (found) q[lo] = qty;
      else {
        p.splice(lo, 0, price);
        q.splice(lo, 0, qty);
      }
    } else if (found) {
      p.splice(lo, 1);
      q.splice(lo, 1);
    }
  }

  bid(price: number, qty: number): void {
    SortedArrayBook.set(this.bidP, this.bidQ, price, qty, true);
  }
  ask(price: number, qty: number): void {
    SortedArrayBook.set(this.askP, this.askQ, price, qty, false);
  }
}

/** Map per side with a cached best; deleting the best rescans the side's keys. */
class MapBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  bestBid = NaN;
  bestAsk = NaN;

  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.bestBid = this.bestAsk = NaN;
  }

  bid(price: number, qty: number): void {
    if (qty > 0) {
      this.bids.set(price, qty);
      if (!(price <= this.bestBid)) this.bestBid = price;
    } else if (this.bids.delete(price) && price === this.bestBid) {
      let best = NaN;
      for (const p of this.bids.keys()) if (!(p <= best)) best = p;
      this.bestBid = best;
    }
  }

  ask(price: number, qty: number): void {
    if (qty > 0) {
      this.asks.set(price, qty);
      if (!(price >= this.bestAsk)) this.bestAsk = price;
    } else if (this.asks.delete(price) && price === this.bestAsk) {
      let best = NaN;
      for (const p of this.asks.keys()) if (!(p >= best)) best = p;
      this.bestAsk = best;
    }
  }
}

/** A BookSink over any book that takes bid/ask level calls. */
abstract class LevelSink<B extends { clear(): void; bid(p: number, q: number): void; ask(p: number, q: number): void }>
  implements BookSink, TopReader
{
  readonly books: B[] = [];
  constructor(symbols: number, make: () => B) {
    for (let s = 0; s < symbols; s++) this.books.push(make());
  }
  onSnapshot(symbolId: number, _lastUpdateId: number, bids: Float64Array, asks: Float64Array): void {
    const b = this.books[symbolId]!;
    b.clear();
    for (let i = 0; i + 1 < bids.length; i += 2) b.bid(bids[i]!, bids[i + 1]!);
    for (let i = 0; i + 1 < asks.length; i += 2) b.ask(asks[i]!, asks[i + 1]!);
  }
  onDiffRecord(f64: Float64Array, i32: Int32Array, base: number): void {
    const b = this.books[i32[base * 2 + 1]!]!;
    const count = headerCount(i32[base * 2]!);
    const n = depthLevels(count);
    const mask = depthAskMask(count);
    for (let j = 0; j < n; j++) {
      const w = base + DEPTH.LEVELS + 2 * j;
      if (((mask >>> j) & 1) !== 0) b.ask(f64[w]!, f64[w + 1]!);
      else b.bid(f64[w]!, f64[w + 1]!);
    }
  }
  onState(_symbolId: number, _state: BookState): void {}
  abstract top(sym: number): number;
  abstract levelCount(sym: number): number;
}

class SortedArrayVariant extends LevelSink<SortedArrayBook> {
  constructor(symbols: number) {
    super(symbols, () => new SortedArrayBook());
  }
  top(sym: number): number {
    const b = this.books[sym]!;
    return (b.bidP[0] ?? NaN) + (b.bidQ[0] ?? 0) + (b.askP[0] ?? NaN) + (b.askQ[0] ?? 0);
  }
  levelCount(sym: number): number {
    return this.books[sym]!.bidP.length;
  }
}

class MapVariant extends LevelSink<MapBook> {
  constructor(symbols: number) {
    super(symbols, () => new MapBook());
  }
  top(sym: number): number {
    const b = this.books[sym]!;
    return b.bestBid + (b.bids.get(b.bestBid) ?? 0) + b.bestAsk + (b.asks.get(b.bestAsk) ?? 0);
  }
  levelCount(sym: number): number {
    return this.books[sym]!.bids.size;
  }
}

// ------------------------------------------------------------------ timing

interface Variant {
  name: string;
  sink: BookSink & TopReader;
  sync: BookSync;
  ns: number;
  events: number;
  bestNs: number;
  sum: number;
}

/** One pass over the workload: every record through BookSync, a top-of-book read after each event. */
function pass(v: Variant, wl: Workload): number {
  const { f64, i32, slotWords, records } = wl;
  const sync = v.sync;
  const sink = v.sink;
  let events = 0;
  let sum = 0;
  for (let r = 0; r < records; r++) {
    const base = r * slotWords;
    sync.onRecord(f64, i32, base);
    const h = i32[base * 2]!;
    if ((h & (RecordFlag.Last << 8)) !== 0) {
      events++;
      sum += sink.top(i32[base * 2 + 1]!);
    }
  }
  v.sum += sum;
  return events;
}

/** L2Book alone (no BookSync): the records' levels straight into the book. */
function applyOnlyPass(books: L2Book[], wl: Workload): number {
  const { f64, i32, slotWords, records } = wl;
  let events = 0;
  for (let r = 0; r < records; r++) {
    const base = r * slotWords;
    applyDepthLevels(books[i32[base * 2 + 1]!]!, f64, i32, base);
    if ((i32[base * 2]! & (RecordFlag.Last << 8)) !== 0) events++;
  }
  return events;
}

function makeVariant(name: string, sink: BookSink & TopReader, wl: Workload): Variant {
  const sync = new BookSync(wl.symbols, sink);
  for (const s of wl.snapshots) sync.onSnapshot(s.sym, s.lastUpdateId, s.bids, s.asks, 0);
  return { name, sink, sync, ns: 0, events: 0, bestNs: Infinity, sum: 0 };
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

async function runWorkload(wl: Workload, budgetMs: number, rows: BookBenchRow[]): Promise<void> {
  const variants: Variant[] = [
    makeVariant(`book.${wl.name}.l2book`, new L2Variant(wl.symbols), wl),
    makeVariant(`book.${wl.name}.sortedArray`, new SortedArrayVariant(wl.symbols), wl),
    makeVariant(`book.${wl.name}.map`, new MapVariant(wl.symbols), wl),
  ];
  const applyOnly: L2Book[] = [];
  for (let s = 0; s < wl.symbols; s++) applyOnly.push(new L2Book());
  for (const snap of wl.snapshots) {
    const b = applyOnly[snap.sym]!;
    for (let i = 0; i < snap.bids.length; i += 2) b.applyBid(snap.bids[i]!, snap.bids[i + 1]!);
    for (let i = 0; i < snap.asks.length; i += 2) b.applyAsk(snap.asks[i]!, snap.asks[i + 1]!);
  }
  let applyOnlyNs = 0;
  let applyOnlyEvents = 0;
  let applyOnlyBestNs = Infinity;

  // warm-up round (JIT), then timed rounds; each round times every variant once over the same records
  let round = 0;
  const start = performance.now();
  for (;;) {
    const timed = round > 0;
    for (const v of variants) {
      const t0 = performance.now();
      const ev = pass(v, wl);
      const dt = performance.now() - t0;
      if (timed) {
        v.ns += dt * 1e6;
        v.events += ev;
        v.bestNs = Math.min(v.bestNs, dt * 1e6);
      }
    }
    const t0 = performance.now();
    const ev = applyOnlyPass(applyOnly, wl);
    const dt = performance.now() - t0;
    if (timed) {
      applyOnlyNs += dt * 1e6;
      applyOnlyEvents += ev;
      applyOnlyBestNs = Math.min(applyOnlyBestNs, dt * 1e6);
    }
    shiftIds(wl);
    round++;
    if (round >= 3 && performance.now() - start > budgetMs) break;
    await yieldToLoop();
  }
  for (const v of variants) {
    const st = v.sync.stats(0);
    if (st.gaps !== 0 || st.state !== BookState.Live) throw new Error(`${v.name}: the chain broke (gaps ${st.gaps})`);
  }
  const per = (name: string, ns: number, bestNs: number, events: number, levelCount: number): BookBenchRow => ({
    name,
    eventsPerSec: events / (ns / 1e9),
    nsPerEvent: ns / events,
    bestPassEventsPerSec: wl.events / (bestNs / 1e9),
    events,
    levelsPerEvent: wl.levels / wl.events,
    recordsPerEvent: wl.records / wl.events,
    bookLevels: levelCount,
  });
  for (const v of variants) rows.push(per(v.name, v.ns, v.bestNs, v.events, v.sink.levelCount(0)));
  rows.push(per(`book.${wl.name}.l2bookApplyOnly`, applyOnlyNs, applyOnlyBestNs, applyOnlyEvents, applyOnly[0]!.bidLevels));
}

/**
 * Runs the book benches and returns one row per workload and book:
 * `book.<workload>.{l2book,sortedArray,map}` (BookSync + book + a top read per event) and
 * `book.<workload>.l2bookApplyOnly` (L2Book alone), for the workloads `recorded` (needs the shared
 * fixtures), `synthetic` (1000 levels per side) and `synthetic10k` (10 000 levels per side, as a full
 * book grows over a long session).
 */
export async function runBookBench(opts: BookBenchOptions = {}): Promise<BookBenchRow[]> {
  const budgetMs = opts.quick ? 400 : 1500;
  const rows: BookBenchRow[] = [];
  const recorded = recordedWorkload();
  if (recorded !== null) await runWorkload(recorded, budgetMs, rows);
  const events = opts.quick ? 10_000 : 20_000;
  await runWorkload(syntheticWorkload('synthetic', events, 1000, 0.1), budgetMs, rows);
  await runWorkload(syntheticWorkload('synthetic10k', events, 10_000, 0.3), budgetMs, rows);
  return rows;
}
