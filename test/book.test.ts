import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BookMirror, BookSync, DepthAction, L2BookSink, type BookSink, type BookSyncOptions } from '../src/book/BookSync.js';
import { BookSide, DEPTH_RECORD_WORDS, L2Book, writeBookAsReset } from '../src/book/L2Book.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import {
  BT,
  BookState,
  DEPTH,
  FS,
  MARKET_SLOT_BYTES,
  RecordFlag,
  RecordType,
  depthLevels,
  headerCount,
  headerFlags,
  headerType,
  packHeader,
} from '../src/ring/layout.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { BinanceMarketDecoder } from '../src/venues/binance/MarketDecoder.js';
import {
  RecordingReader,
  RecordingSource,
  parseDepthSnapshot,
  restSymbol,
  wsUrlSymbols,
} from '../src/venues/binance/recording.js';
import { HAVE_SHARED_FIXTURES, NO_FIXTURES_MESSAGE, fixtureLines, fixturePath } from './helpers/fixtures.js';

// ------------------------------------------------------------------ helpers

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The obvious book: a Map per side, sorted on demand. */
class RefBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  apply(side: BookSide, price: number, qty: number): void {
    const m = side === BookSide.Ask ? this.asks : this.bids;
    if (qty > 0) m.set(price, qty);
    else m.delete(price);
  }
  sortedBids(): number[][] {
    return [...this.bids.entries()].sort((a, b) => b[0] - a[0]);
  }
  sortedAsks(): number[][] {
    return [...this.asks.entries()].sort((a, b) => a[0] - b[0]);
  }
  bestBid(): number {
    let best = NaN;
    for (const p of this.bids.keys()) if (!(p <= best)) best = p;
    return best;
  }
  bestAsk(): number {
    let best = NaN;
    for (const p of this.asks.keys()) if (!(p >= best)) best = p;
    return best;
  }
}

/** All levels of an L2Book, best first, through its index accessors. */
function levelsOf(book: L2Book): { bids: number[][]; asks: number[][] } {
  const bids: number[][] = [];
  const asks: number[][] = [];
  for (let i = 0; i < book.bidLevels; i++) bids.push([book.bidPrice(i), book.bidQty(i)]);
  for (let i = 0; i < book.askLevels; i++) asks.push([book.askPrice(i), book.askQty(i)]);
  return { bids, asks };
}

const price = (ticks: number, decimals = 2): number => parseFloat((ticks / 10 ** decimals).toFixed(decimals));

// ------------------------------------------------------------------ L2Book

describe('L2Book', () => {
  it('sets, updates and deletes levels; deleting a missing level changes nothing', () => {
    const b = new L2Book();
    expect(b.bestBid).toBeNaN();
    expect(b.bestAsk).toBeNaN();
    expect(b.bestBidQty).toBe(0);
    b.applyBid(100.5, 2);
    b.applyBid(100.4, 3);
    b.applyBid(100.6, 1);
    b.applyAsk(100.8, 4);
    b.applyAsk(100.7, 5);
    b.apply(BookSide.Ask, 101, 6);
    expect([b.bestBid, b.bestBidQty, b.bestAsk, b.bestAskQty]).toEqual([100.6, 1, 100.7, 5]);
    b.applyBid(100.6, 7); // absolute quantity, not a delta
    expect(b.bestBidQty).toBe(7);
    b.applyBid(100.6, 0);
    expect([b.bestBid, b.bestBidQty]).toEqual([100.5, 2]);
    b.applyBid(99, 0); // never there
    b.applyAsk(100.75, 0);
    expect(levelsOf(b)).toEqual({
      bids: [
        [100.5, 2],
        [100.4, 3],
      ],
      asks: [
        [100.7, 5],
        [100.8, 4],
        [101, 6],
      ],
    });
    expect(b.qtyAt(BookSide.Ask, 100.8)).toBe(4);
    expect(b.qtyAt(BookSide.Bid, 100.8)).toBe(0);
  });

  it('reads the top N by index and into a caller-owned array, best first', () => {
    const b = new L2Book();
    for (let i = 1; i <= 10; i++) {
      b.applyBid(price(10000 - i), i);
      b.applyAsk(price(10000 + i), 100 + i);
    }
    expect([b.bidPrice(0), b.bidQty(0), b.bidPrice(9), b.bidQty(9)]).toEqual([99.99, 1, 99.9, 10]);
    expect([b.askPrice(0), b.askQty(0), b.askPrice(2), b.askQty(2)]).toEqual([100.01, 101, 100.03, 103]);
    expect(b.bidPrice(10)).toBeNaN();
    expect(b.askQty(-1)).toBe(0);
    const out = new Float64Array(8);
    expect(b.fillAsks(out, 3)).toBe(3);
    expect([...out.subarray(0, 6)]).toEqual([100.01, 101, 100.02, 102, 100.03, 103]);
    expect(b.fillBids(out, 100)).toBe(4); // bounded by the array
    expect([...out]).toEqual([99.99, 1, 99.98, 2, 99.97, 3, 99.96, 4]);
  });

  it('clears one side or both', () => {
    const b = new L2Book();
    b.applyBid(1, 1);
    b.applyAsk(2, 1);
    b.clearSide(BookSide.Bid);
    expect([b.bidLevels, b.askLevels]).toEqual([0, 1]);
    b.applyBid(1.5, 1);
    b.clear();
    expect([b.bidLevels, b.askLevels, b.levels(BookSide.Ask)]).toEqual([0, 0, 0]);
    b.applyAsk(3, 2);
    expect([b.bestAsk, b.bestAskQty]).toEqual([3, 2]);
  });

  it('matches a level by exact price across decimal spellings and parsers (decoder, parseFloat, bookTicker)', () => {
    const b = new L2Book();
    b.applyBid(parseFloat('7.6110'), 5);
    b.applyBid(parseFloat('7.611'), 6); // same decimal: same float64, same level
    expect(b.bidLevels).toBe(1);
    // a depth event and a bookTicker decoded by the feed decoder, against a snapshot level from parseFloat
    const reg = new SymbolRegistry(['SUSHIUSDT']);
    const dec = new BinanceMarketDecoder(reg, () => 0);
    const w = new ArraySlotWriter(MARKET_SLOT_BYTES, 16);
    const depth = Buffer.from(
      '{"stream":"sushiusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"SUSHIUSDT","U":1,"u":2,"pu":0,"b":[["7.6110","9"]],"a":[["7.6150","1563.000"]]}}',
    );
    expect(dec.decode(depth, 0, depth.length, 0, w)).toBe(1);
    const book = new L2Book();
    book.applyAsk(parseFloat('7.615'), 1);
    const sink = new L2BookSink(1);
    sink.books[0] = book;
    sink.onDiffRecord(w.f64, w.i32, w.base(0));
    expect([book.bestBid, book.bestBidQty, book.askLevels, book.bestAskQty]).toEqual([7.611, 9, 1, 1563]);
    w.reset();
    const bt = Buffer.from('{"e":"bookTicker","u":2,"s":"SUSHIUSDT","b":"7.611","B":"9","a":"7.61500","A":"1563","T":1,"E":1}');
    expect(dec.decode(bt, 0, bt.length, 0, w)).toBe(1);
    expect(w.f64[w.base(0) + BT.BID]).toBe(book.bestBid);
    expect(w.f64[w.base(0) + BT.ASK]).toBe(book.bestAsk);
  });

  it('grows past its initial capacity', () => {
    const b = new L2Book(4);
    const ref = new RefBook();
    for (let i = 0; i < 3000; i++) {
      const p = price((i * 7919) % 5000);
      b.applyBid(p, i + 1);
      ref.apply(BookSide.Bid, p, i + 1);
    }
    expect(b.bidLevels).toBe(ref.bids.size);
    expect(levelsOf(b).bids).toEqual(ref.sortedBids());
  });

  it('fills up and drains in random order (blocks split, merge and empty) without losing a level', () => {
    const rnd = prng(9);
    const b = new L2Book(64);
    const ref = new RefBook();
    const prices = Array.from({ length: 3000 }, (_, i) => price(100_000 - i));
    const shuffled = (): number[] => {
      const a = [...prices];
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [a[i], a[j]] = [a[j]!, a[i]!];
      }
      return a;
    };
    let op = 0;
    const check = (): void => {
      if (b.bidLevels !== ref.bids.size) throw new Error(`op ${op}: ${b.bidLevels} levels, want ${ref.bids.size}`);
      if (op % 97 === 0) {
        expect(levelsOf(b).bids).toEqual(ref.sortedBids());
        for (const p of prices.filter((_, i) => i % 37 === op % 37)) expect(b.qtyAt(BookSide.Bid, p)).toBe(ref.bids.get(p) ?? 0);
      }
    };
    for (const round of [0, 1]) {
      for (const p of shuffled()) {
        b.applyBid(p, round + 1 + (op % 5));
        ref.apply(BookSide.Bid, p, round + 1 + (op % 5));
        op++;
        check();
      }
      // delete everything but a few levels, in random order, then some again (missing levels)
      for (const p of shuffled().slice(0, 2990)) {
        b.applyBid(p, 0);
        ref.apply(BookSide.Bid, p, 0);
        op++;
        check();
      }
      expect(levelsOf(b).bids).toEqual(ref.sortedBids());
      expect(b.bidLevels).toBe(10);
    }
  });

  it('equals a naive Map book after random updates clustered at the top (seeded)', () => {
    // seed 3 starts tiny (the side's storage grows); seed 4 spreads changes evenly over 3000 prices with
    // as many deletes as inserts, so blocks split and merge all the time
    for (const seed of [1, 2, 3, 4]) {
      const rnd = prng(seed);
      const spread = seed === 4;
      const b = new L2Book(seed === 3 ? 16 : 2048);
      const ref = new RefBook();
      let mid = 50_000; // ticks of 0.01
      const out = new Float64Array(40);
      for (let op = 0; op < 15_000; op++) {
        const r = rnd();
        if (r < 0.05) {
          mid += rnd() < 0.5 ? -1 : 1;
        } else if (r < 0.0503) {
          const side = rnd() < 0.5 ? BookSide.Bid : BookSide.Ask;
          b.clearSide(side);
          (side === BookSide.Bid ? ref.bids : ref.asks).clear();
        } else {
          const side = rnd() < 0.5 ? BookSide.Bid : BookSide.Ask;
          // mostly within a few levels of the top, sometimes anywhere in 1200 levels
          const dist = spread ? Math.floor(rnd() * 3000) : rnd() < 0.8 ? Math.floor(-Math.log(1 - rnd()) * 4) : Math.floor(rnd() * 1200);
          const ticks = side === BookSide.Bid ? mid - 1 - dist : mid + 1 + dist;
          const p = price(ticks);
          const qty = rnd() < (spread ? 0.5 : 0.3) ? 0 : Math.round(rnd() * 1000) / 100 + 0.01;
          b.apply(side, p, qty);
          ref.apply(side, p, qty);
          const probe = price(side === BookSide.Bid ? mid - 1 - Math.floor(rnd() * 50) : mid + 1 + Math.floor(rnd() * 50));
          if (b.qtyAt(side, probe) !== ((side === BookSide.Bid ? ref.bids : ref.asks).get(probe) ?? 0)) throw new Error(`seed ${seed} op ${op}: qtyAt`);
        }
        const bb = ref.bestBid();
        const ba = ref.bestAsk();
        if (!Object.is(b.bestBid, bb) || !Object.is(b.bestAsk, ba)) throw new Error(`seed ${seed} op ${op}: best ${b.bestBid}/${b.bestAsk} vs ${bb}/${ba}`);
        if (b.bestBidQty !== (ref.bids.get(bb) ?? 0) || b.bestAskQty !== (ref.asks.get(ba) ?? 0)) throw new Error(`seed ${seed} op ${op}: best qty`);
        if (b.bidLevels !== ref.bids.size || b.askLevels !== ref.asks.size) throw new Error(`seed ${seed} op ${op}: level count`);
        if (op % 500 === 0) {
          expect(levelsOf(b), `seed ${seed} op ${op}`).toEqual({ bids: ref.sortedBids(), asks: ref.sortedAsks() });
          const n = b.fillBids(out, 20);
          expect([...out.subarray(0, 2 * n)]).toEqual(ref.sortedBids().slice(0, 20).flat());
        }
      }
      expect(levelsOf(b)).toEqual({ bids: ref.sortedBids(), asks: ref.sortedAsks() });
      expect(b.bidLevels + b.askLevels).toBeGreaterThan(200);
    }
  });
});

// ------------------------------------------------------------------ BookSync on decoded records

const SYMS = ['BTCUSDT', 'ETHUSDT'];
type Lv = Array<[string, string]>;

function depthFrame(sym: string, U: number, u: number, pu: number, b: Lv, a: Lv, stream = `${sym.toLowerCase()}@depth@100ms`): string {
  const lv = (l: Lv): string => `[${l.map(([p, q]) => `["${p}","${q}"]`).join(',')}]`;
  return `{"stream":"${stream}","data":{"e":"depthUpdate","E":1,"T":1,"s":"${sym}","U":${U},"u":${u},"pu":${pu},"b":${lv(b)},"a":${lv(a)}}}`;
}

/** Sink that applies to L2Books and logs what it was told. */
class LoggingSink extends L2BookSink {
  log: string[] = [];
  firstApplied: number[] = [];
  override onSnapshot(symbolId: number, lastUpdateId: number, bids: Float64Array, asks: Float64Array): void {
    this.log.push(`snapshot ${symbolId} ${lastUpdateId}`);
    super.onSnapshot(symbolId, lastUpdateId, bids, asks);
  }
  override onDiffRecord(f64: Float64Array, i32: Int32Array, base: number): void {
    if ((headerFlags(i32[base * 2]!) & RecordFlag.First) !== 0) this.firstApplied.push(f64[base + DEPTH.FINAL_UPDATE_ID]!);
    super.onDiffRecord(f64, i32, base);
  }
  override onState(symbolId: number, state: BookState): void {
    this.log.push(`state ${symbolId} ${state === BookState.Live ? 'live' : state === BookState.Stale ? 'stale' : 'syncing'}`);
    super.onState(symbolId, state);
  }
}

function harness(opts: BookSyncOptions = {}, symbols = SYMS) {
  const reg = new SymbolRegistry(symbols);
  const dec = new BinanceMarketDecoder(reg, () => 0);
  const w = new ArraySlotWriter(MARKET_SLOT_BYTES, 256);
  const sink = new LoggingSink(symbols.length);
  const requests: Array<[number, number]> = [];
  const sync = new BookSync(symbols.length, sink, { ...opts, requestSnapshot: (s, d) => requests.push([s, d]) });
  /** Decodes a frame and feeds its records; returns the action of each record. */
  const feed = (frame: string, nowNs = 0): DepthAction[] => {
    w.reset();
    const b = Buffer.from(frame);
    const n = dec.decode(b, 0, b.length, nowNs, w);
    if (n <= 0) throw new Error(`frame did not decode (${n}): ${frame}`);
    const acts: DepthAction[] = [];
    for (let i = 0; i < w.count; i++) acts.push(sync.onRecord(w.f64, w.i32, w.base(i)));
    return acts;
  };
  const snap = (sym: number, id: number, bids: Lv, asks: Lv, nowNs = 0): boolean =>
    sync.onSnapshot(sym, id, Float64Array.from(bids.flat().map(Number)), Float64Array.from(asks.flat().map(Number)), nowNs);
  return { reg, dec, w, sink, sync, requests, feed, snap, book: (s = 0) => sink.books[s]! };
}

const SNAP_B: Lv = [
  ['100.0', '1'],
  ['99.9', '2'],
  ['99.8', '3'],
];
const SNAP_A: Lv = [
  ['100.1', '4'],
  ['100.2', '5'],
];
const MS = 1e6;

describe('BookSync', () => {
  it('buffers until the snapshot, drops u < lastUpdateId, applies the straddling event first, then chains by pu', () => {
    const h = harness();
    expect(h.sync.state(0)).toBe(BookState.Syncing);
    expect(h.sync.snapshotWanted(0)).toBe(true);
    // six levels: two records per event, so buffering and replay keep records of an event together
    const six: Lv = [
      ['99.0', '1'],
      ['98.9', '1'],
      ['98.8', '1'],
    ];
    expect(h.feed(depthFrame('BTCUSDT', 1, 5, 0, six, [['101.0', '1'], ['101.1', '1'], ['101.2', '1']]))).toEqual([
      DepthAction.Buffered,
      DepthAction.Buffered,
    ]);
    h.feed(depthFrame('BTCUSDT', 6, 10, 5, [['99.9', '0']], []));
    h.feed(depthFrame('BTCUSDT', 11, 20, 10, [['100.0', '7'], ['99.7', '1']], [['100.1', '0']]));
    h.feed(depthFrame('ETHUSDT', 3, 4, 2, [['10', '1']], [])); // other symbol: its own buffer
    expect(h.sync.bufferedRecords(0)).toBe(4);
    expect(h.book().bidLevels).toBe(0); // nothing reaches the sink before the snapshot

    expect(h.snap(0, 12, SNAP_B, SNAP_A)).toBe(true);
    expect(h.sink.firstApplied).toEqual([20]); // U=11 <= 12 <= u=20
    expect(h.sync.droppedStale[0]).toBe(2);
    expect(h.sync.applied[0]).toBe(1);
    expect(h.sync.state(0)).toBe(BookState.Live);
    expect(h.sync.lastUpdateId(0)).toBe(20);
    expect(h.sync.snapshotWanted(0)).toBe(false);

    expect(h.feed(depthFrame('BTCUSDT', 21, 30, 20, [], [['100.3', '9']]))).toEqual([DepthAction.Applied]);
    expect(levelsOf(h.book())).toEqual({
      bids: [
        [100, 7],
        [99.9, 2],
        [99.8, 3],
        [99.7, 1],
      ],
      asks: [
        [100.2, 5],
        [100.3, 9],
      ],
    });
    expect(h.book().lastUpdateId).toBe(30);
    expect(h.sync.gaps[0]).toBe(0);
    expect(h.sink.log).toEqual(['snapshot 0 12', 'state 0 live']);
    expect(h.sync.state(1)).toBe(BookState.Syncing);
    expect(h.requests).toEqual([]); // the initial snapshots are the caller's to fetch
  });

  it('with the snapshot first: waits for the straddling event, dropping older ones', () => {
    const h = harness();
    h.snap(0, 50, SNAP_B, SNAP_A);
    expect(h.sync.state(0)).toBe(BookState.Syncing);
    expect(h.feed(depthFrame('BTCUSDT', 30, 40, 29, [['100.0', '0']], []))).toEqual([DepthAction.DroppedStale]);
    expect(h.feed(depthFrame('BTCUSDT', 41, 55, 40, [['100.0', '5']], []))).toEqual([DepthAction.Applied]);
    expect(h.sync.state(0)).toBe(BookState.Live);
    expect(h.book().bestBidQty).toBe(5);
  });

  it('a snapshot older than every buffered event is a gap: Syncing, resync requested, events kept', () => {
    const h = harness();
    h.feed(depthFrame('BTCUSDT', 100, 110, 90, [['100.0', '2']], []));
    h.snap(0, 50, SNAP_B, SNAP_A); // U=100 > 50: the events between were never seen
    expect(h.sync.gaps[0]).toBe(1);
    expect(h.sync.resyncs[0]).toBe(1);
    expect(h.sync.applied[0]).toBe(0);
    expect(h.sync.state(0)).toBe(BookState.Syncing);
    expect(h.requests).toEqual([[0, 0]]);
    expect(h.sync.bufferedRecords(0)).toBe(1); // the event may straddle the next snapshot
    h.snap(0, 105, SNAP_B, SNAP_A);
    expect(h.sync.state(0)).toBe(BookState.Live);
    expect(h.book().bestBidQty).toBe(2);
  });

  it('a pu mismatch while live is a gap; the buffered events recover the book with the next snapshot', () => {
    const h = harness();
    h.snap(0, 10, SNAP_B, SNAP_A);
    h.feed(depthFrame('BTCUSDT', 5, 15, 4, [], []), 1000 * MS);
    h.feed(depthFrame('BTCUSDT', 16, 20, 15, [['99.9', '8']], []), 1000 * MS);
    expect(h.sync.state(0)).toBe(BookState.Live);
    // the event with pu 20 -> u 25 is lost
    expect(h.feed(depthFrame('BTCUSDT', 26, 30, 25, [['100.0', '0']], []), 2000 * MS)).toEqual([DepthAction.Buffered]);
    expect(h.sync.gaps[0]).toBe(1);
    expect(h.sync.state(0)).toBe(BookState.Syncing);
    expect(h.requests).toEqual([[0, 0]]);
    h.feed(depthFrame('BTCUSDT', 31, 40, 30, [['99.8', '0']], []), 2000 * MS);
    expect(h.sync.bufferedRecords(0)).toBe(2);
    h.snap(0, 28, SNAP_B, SNAP_A, 2100 * MS);
    expect(h.sync.state(0)).toBe(BookState.Live);
    expect(h.sync.lastUpdateId(0)).toBe(40);
    expect(levelsOf(h.book()).bids).toEqual([[99.9, 2]]); // from the new snapshot, not the broken book
    expect(h.sink.log).toEqual(['snapshot 0 10', 'state 0 live', 'state 0 syncing', 'snapshot 0 28', 'state 0 live']);
  });

  it('resync budget and exponential backoff', () => {
    const h = harness({ maxResyncs: 3, resyncWindowMs: 10_000, backoffBaseMs: 100, backoffMaxMs: 1000 });
    let id = 100;
    /** Goes live from a snapshot, then breaks the pu chain at time t (ms). */
    const breakAt = (t: number): void => {
      h.snap(0, id, SNAP_B, SNAP_A, t * MS);
      h.feed(depthFrame('BTCUSDT', id - 1, id + 1, id - 2, [], []), t * MS);
      expect(h.sync.state(0)).toBe(BookState.Live);
      h.feed(depthFrame('BTCUSDT', id + 5, id + 6, id + 4, [], []), t * MS);
      expect(h.sync.state(0)).toBe(BookState.Syncing);
      id += 100;
    };
    breakAt(0);
    breakAt(1000);
    breakAt(2000);
    // 4th within the window: the budget (3 per 10 s) holds it until the first request leaves the window
    breakAt(3000);
    // after the window: back to no delay
    breakAt(30_000);
    expect(h.requests.map(([, d]) => d)).toEqual([0, 100, 200, 7000, 0]);
    expect(h.sync.snapshotDueNs(0)).toBe(30_000 * MS);
    expect(h.sync.resyncs[0]).toBe(5);
    expect(h.sync.gaps[0]).toBe(5);
    // a failed fetch asks again with backoff
    h.sync.snapshotFailed(0, 30_500 * MS);
    expect(h.requests.at(-1)).toEqual([0, 100]);
    expect(h.sync.snapshotFailures[0]).toBe(1);
  });

  it('keeps partial-depth (top N) events out of the diff logic', () => {
    const h = harness();
    h.snap(0, 10, SNAP_B, SNAP_A);
    h.feed(depthFrame('BTCUSDT', 5, 15, 4, [], []));
    const partial = depthFrame('BTCUSDT', 16, 99, 15, [['50.0', '1']], [['150.0', '1']], 'btcusdt@depth5@100ms');
    expect(h.feed(partial)).toEqual([DepthAction.NotDiff]);
    expect(h.sync.partialIgnored[0]).toBe(1);
    expect(h.sync.lastUpdateId(0)).toBe(15);
    expect(h.book().bidLevels).toBe(3);
    // the diff chain continues from 15 as if the partial event had not been there
    expect(h.feed(depthFrame('BTCUSDT', 16, 20, 15, [], []))).toEqual([DepthAction.Applied]);
    expect(h.sync.gaps[0]).toBe(0);
  });

  it('drops a repeated old event while live without calling it a gap', () => {
    const h = harness();
    h.snap(0, 10, SNAP_B, SNAP_A);
    h.feed(depthFrame('BTCUSDT', 5, 15, 4, [], []));
    h.feed(depthFrame('BTCUSDT', 16, 20, 15, [], []));
    expect(h.feed(depthFrame('BTCUSDT', 16, 20, 15, [['100.0', '0']], []))).toEqual([DepthAction.DroppedStale]);
    expect(h.sync.gaps[0]).toBe(0);
    expect(h.book().bestBid).toBe(100);
  });

  it('markStale, restart, and refuses a snapshot while live', () => {
    const h = harness();
    h.snap(0, 10, SNAP_B, SNAP_A);
    h.feed(depthFrame('BTCUSDT', 5, 15, 4, [], []));
    expect(h.snap(0, 12, [], [])).toBe(false);
    expect(h.book().bidLevels).toBe(3);
    h.sync.markStale(0);
    expect(h.sync.state(0)).toBe(BookState.Stale);
    h.feed(depthFrame('BTCUSDT', 16, 20, 15, [], []));
    expect(h.sync.state(0)).toBe(BookState.Live); // chain intact: nothing was missed
    h.sync.restart(0, 5 * MS);
    expect(h.sync.state(0)).toBe(BookState.Syncing);
    expect(h.sync.lastUpdateId(0)).toBe(-1);
    expect(h.requests).toEqual([[0, 0]]);
    h.sync.restart(0, 6 * MS); // already waiting for that snapshot: no second request
    expect(h.requests.length).toBe(1);
    expect(h.sync.resyncs[0]).toBe(0);
    expect(h.sink.log.slice(-3)).toEqual(['state 0 stale', 'state 0 live', 'state 0 syncing']);
  });

  it('evicts the oldest buffered events when the buffer is full, and counts them', () => {
    const h = harness({ bufferRecords: 8 });
    const five: Lv = [
      ['1', '1'],
      ['2', '1'],
      ['3', '1'],
      ['4', '1'],
      ['5', '1'],
    ];
    // 2 records per event: the 5th event finds the buffer full and evicts the oldest half (2 events) at once
    for (let k = 0; k < 5; k++) h.feed(depthFrame('BTCUSDT', 10 * k + 1, 10 * k + 10, 10 * k, five, []));
    expect(h.sync.bufferOverflow[0]).toBe(2);
    expect(h.sync.bufferedRecords(0)).toBe(6);
    h.snap(0, 25, [], []); // needs the event 21..30, still there
    expect(h.sync.state(0)).toBe(BookState.Live);
    expect(h.sync.applied[0]).toBe(3);
    // an event larger than the whole buffer is given up (and its remaining records too)
    h.sync.restart(0, 0);
    const big: Lv = Array.from({ length: 40 }, (_, i) => [String(i + 1), '1'] as [string, string]);
    const acts = h.feed(depthFrame('BTCUSDT', 100, 110, 99, big, []));
    expect(acts.slice(0, 8).every((a) => a === DepthAction.Buffered)).toBe(true);
    expect(acts.slice(8).every((a) => a === DepthAction.DroppedOverflow)).toBe(true);
    expect(h.sync.bufferedRecords(0)).toBe(0);
    expect(h.sync.bufferOverflow[0]).toBe(3);
  });
});

// ------------------------------------------------------------------ ring records: Reset, mirror

/** The feed worker's pattern: the snapshot goes out as a Reset event, accepted diffs are copied to the ring. */
class RingSink implements BookSink {
  readonly scratch = new L2Book();
  constructor(readonly ring: ArraySlotWriter) {}
  onSnapshot(symbolId: number, lastUpdateId: number, bids: Float64Array, asks: Float64Array): void {
    this.scratch.clear();
    for (let i = 0; i < bids.length; i += 2) this.scratch.applyBid(bids[i]!, bids[i + 1]!);
    for (let i = 0; i < asks.length; i += 2) this.scratch.applyAsk(asks[i]!, asks[i + 1]!);
    this.scratch.lastUpdateId = lastUpdateId;
    if (writeBookAsReset(this.scratch, symbolId, this.ring, 0, 0) < 0) throw new Error('ring full');
  }
  onDiffRecord(f64: Float64Array, i32: Int32Array, base: number): void {
    const dst = this.ring.claim();
    this.ring.i32[dst * 2] = i32[base * 2]!;
    this.ring.i32[dst * 2 + 1] = i32[base * 2 + 1]!;
    for (let k = 1; k < DEPTH_RECORD_WORDS; k++) this.ring.f64[dst + k] = f64[base + k]!;
    if ((headerFlags(i32[base * 2]!) & RecordFlag.Last) !== 0) this.ring.commit();
  }
  onState(): void {}
}

/** Both sinks at once. */
class TeeSink implements BookSink {
  constructor(readonly a: BookSink, readonly b: BookSink) {}
  onSnapshot(s: number, id: number, bids: Float64Array, asks: Float64Array): void {
    this.a.onSnapshot(s, id, bids, asks);
    this.b.onSnapshot(s, id, bids, asks);
  }
  onDiffRecord(f64: Float64Array, i32: Int32Array, base: number): void {
    this.a.onDiffRecord(f64, i32, base);
    this.b.onDiffRecord(f64, i32, base);
  }
  onState(s: number, st: BookState): void {
    this.a.onState(s, st);
    this.b.onState(s, st);
  }
}

function drain(ring: ArraySlotWriter, mirror: BookMirror): number[] {
  const done: number[] = [];
  for (let i = 0; i < ring.count; i++) {
    const s = mirror.onRecord(ring.f64, ring.i32, ring.base(i));
    if (s >= 0) done.push(s);
  }
  ring.reset();
  return done;
}

describe('Reset records and BookMirror', () => {
  it('writeBookAsReset re-emits a whole book that a mirror rebuilds exactly (clearing what it held)', () => {
    const book = new L2Book();
    for (let i = 0; i < 23; i++) book.applyBid(price(5000 - 3 * i), i + 1);
    for (let i = 0; i < 17; i++) book.applyAsk(price(5001 + 2 * i), 100 - i);
    book.lastUpdateId = 777;
    const ring = new ArraySlotWriter(MARKET_SLOT_BYTES, 64);
    const n = writeBookAsReset(book, 1, ring, 5, 6);
    expect(n).toBe(10); // 40 levels / 4
    const flags = Array.from({ length: n }, (_, i) => headerFlags(ring.i32[ring.base(i) * 2]!));
    expect(flags[0]).toBe(RecordFlag.Reset | RecordFlag.First);
    expect(flags[n - 1]).toBe(RecordFlag.Reset | RecordFlag.Last);
    expect(flags.slice(1, -1).every((f) => f === RecordFlag.Reset)).toBe(true);
    expect(ring.f64[ring.base(0) + DEPTH.FINAL_UPDATE_ID]).toBe(777);

    const mirror = new BookMirror(2);
    mirror.books[1]!.applyBid(1, 1); // stale content that the Reset must clear
    mirror.books[1]!.applyAsk(1e9, 1);
    expect(drain(ring, mirror)).toEqual([1]);
    expect(levelsOf(mirror.books[1]!)).toEqual(levelsOf(book));
    expect(mirror.books[1]!.lastUpdateId).toBe(777);

    // all or nothing when the ring is too small
    const small = new ArraySlotWriter(MARKET_SLOT_BYTES, 4);
    expect(writeBookAsReset(book, 1, small, 0, 0)).toBe(-1);
    expect(small.count).toBe(0);
    // an empty book is one record that clears
    expect(writeBookAsReset(new L2Book(), 1, ring, 0, 0)).toBe(1);
    expect(depthLevels(headerCount(ring.i32[0]!))).toBe(0);
    drain(ring, mirror);
    expect(mirror.books[1]!.bidLevels + mirror.books[1]!.askLevels).toBe(0);
  });

  it('GapBefore makes a symbol Stale until its next Reset; FeedStatus carries the state; partial depth is left alone', () => {
    const mirror = new BookMirror(2);
    const ring = new ArraySlotWriter(MARKET_SLOT_BYTES, 16);
    expect(mirror.state(0)).toBe(BookState.Syncing);
    const status = (sym: number, st: BookState): void => {
      const b = ring.claim();
      ring.i32[b * 2] = packHeader(RecordType.FeedStatus, 0, 0);
      ring.i32[b * 2 + 1] = sym;
      ring.f64[b + FS.BOOK_STATE] = st;
      ring.commit();
    };
    status(0, BookState.Live);
    drain(ring, mirror);
    expect(mirror.state(0)).toBe(BookState.Live);
    expect(mirror.state(1)).toBe(BookState.Syncing);

    const reg = new SymbolRegistry(SYMS);
    const dec = new BinanceMarketDecoder(reg, () => 0);
    const frame = (f: string): void => {
      const b = Buffer.from(f);
      expect(dec.decode(b, 0, b.length, 0, ring)).toBeGreaterThan(0);
    };
    frame(depthFrame('BTCUSDT', 1, 2, 0, [['10', '1']], []));
    expect(drain(ring, mirror)).toEqual([0]);
    frame(depthFrame('BTCUSDT', 3, 4, 2, [['11', '1']], [], 'btcusdt@depth5'));
    expect(drain(ring, mirror)).toEqual([]); // partial depth: no change
    expect(mirror.books[0]!.bestBid).toBe(10);
    // a record flagged GapBefore (the ring dropped records of this symbol before it)
    frame(depthFrame('BTCUSDT', 5, 6, 4, [['12', '1']], []));
    ring.i32[0] = ring.i32[0]! | (RecordFlag.GapBefore << 8);
    drain(ring, mirror);
    expect(mirror.state(0)).toBe(BookState.Stale);
    const full = new L2Book();
    full.applyBid(9, 9);
    writeBookAsReset(full, 0, ring, 0, 0);
    drain(ring, mirror);
    expect(mirror.state(0)).toBe(BookState.Live);
    expect(levelsOf(mirror.books[0]!)).toEqual({ bids: [[9, 9]], asks: [] });
  });

  it('feed side to consumer side: snapshot as Reset + forwarded diffs rebuild the same book behind a ring', () => {
    const reg = new SymbolRegistry(SYMS);
    const dec = new BinanceMarketDecoder(reg, () => 0);
    const ring = new ArraySlotWriter(MARKET_SLOT_BYTES, 1024);
    const feedBooks = new L2BookSink(2);
    const sync = new BookSync(2, new TeeSink(feedBooks, new RingSink(ring)));
    const mirror = new BookMirror(2);
    const frames = new ArraySlotWriter(MARKET_SLOT_BYTES, 64);
    const rnd = prng(7);
    let u = 1000;
    const snapB: number[] = [];
    for (let i = 0; i < 30; i++) snapB.push(price(10_000 - i), 1 + i);
    sync.onSnapshot(0, 1000, Float64Array.from(snapB), Float64Array.from([price(10_001), 5]));
    for (let e = 0; e < 200; e++) {
      const b: Lv = [];
      const a: Lv = [];
      const k = 1 + Math.floor(rnd() * 9);
      for (let j = 0; j < k; j++) {
        const q = rnd() < 0.3 ? '0' : (rnd() * 10).toFixed(3);
        if (rnd() < 0.5) b.push([(price(10_000 - Math.floor(rnd() * 40))).toFixed(2), q]);
        else a.push([(price(10_001 + Math.floor(rnd() * 40))).toFixed(2), q]);
      }
      frames.reset();
      const f = Buffer.from(depthFrame('BTCUSDT', e === 0 ? 990 : u + 1, u + 10, u, b, a));
      u += 10;
      dec.decode(f, 0, f.length, 0, frames);
      for (let i = 0; i < frames.count; i++) sync.onRecord(frames.f64, frames.i32, frames.base(i));
      if (e % 50 === 0) drain(ring, mirror);
    }
    drain(ring, mirror);
    expect(sync.applied[0]).toBe(200);
    expect(sync.state(0)).toBe(BookState.Live);
    expect(levelsOf(mirror.books[0]!)).toEqual(levelsOf(feedBooks.books[0]!));
    expect(mirror.books[0]!.lastUpdateId).toBe(u);
    expect(feedBooks.books[0]!.bidLevels).toBeGreaterThan(10);
  });
});

// ------------------------------------------------------------------ recording reader

describe('RecordingReader', () => {
  const depthMsg = depthFrame('BTCUSDT', 1, 2, 0, [['1', '2']], []);
  const lines = [
    '{"ts":1.5,"src":"connect","url":"wss://x/stream?streams=btcusdt@depth@100ms/ethusdt@bookTicker","msg":null}',
    `{"ts":2.25,"src":"ws","url":"wss://x/stream?streams=btcusdt@depth@100ms/ethusdt@bookTicker","msg":${depthMsg}}`,
    '',
    `{"ts":3,"src":"rest","url":"https://x/fapi/v1/depth?symbol=BTCUSDT&limit=1000","msg":{"lastUpdateId":7,"E":1,"T":1,"bids":[["1.50","2"]],"asks":[["1.6","3.000"]]}}\r`,
    '{"ts":4,"src":"ws_out","url":"wss://x/\\u0073tream","msg":"{\\"method\\":\\"PING\\"}"}',
    '{"ts":5,"src":"ws","url":"wss://x","msg":{"truncated":',
    ` { "msg" : [1, {"a":"}"}] , "src" : "ws" , "ts" : 6 , "url" : "u" } `,
  ];
  const text = lines.join('\n') + '\n';

  const collect = (r: RecordingReader) => {
    const got: Array<{ lineNo: number; ts: number; src: RecordingSource; url: string; msg: string; str: boolean }> = [];
    for (const l of r) {
      got.push({ lineNo: l.lineNo, ts: l.ts, src: l.src, url: l.url, msg: Buffer.from(l.buf.subarray(l.msgStart, l.msgEnd)).toString(), str: l.msgIsString });
    }
    return got;
  };
  const expected = [
    { lineNo: 1, ts: 1.5, src: RecordingSource.Connect, url: 'wss://x/stream?streams=btcusdt@depth@100ms/ethusdt@bookTicker', msg: '', str: false },
    { lineNo: 2, ts: 2.25, src: RecordingSource.Ws, url: 'wss://x/stream?streams=btcusdt@depth@100ms/ethusdt@bookTicker', msg: depthMsg, str: false },
    {
      lineNo: 4,
      ts: 3,
      src: RecordingSource.Rest,
      url: 'https://x/fapi/v1/depth?symbol=BTCUSDT&limit=1000',
      msg: '{"lastUpdateId":7,"E":1,"T":1,"bids":[["1.50","2"]],"asks":[["1.6","3.000"]]}',
      str: false,
    },
    { lineNo: 5, ts: 4, src: RecordingSource.WsOut, url: 'wss://x/stream', msg: '{\\"method\\":\\"PING\\"}', str: true },
    { lineNo: 7, ts: 6, src: RecordingSource.Ws, url: 'u', msg: '[1, {"a":"}"}]', str: false },
  ];

  it('finds each msg byte range exactly, across chunk boundaries, in a file and in memory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hft-rec-'));
    try {
      const file = join(dir, 'r.jsonl');
      writeFileSync(file, text);
      for (const chunk of [64, 100, 1 << 16]) {
        const r = RecordingReader.open(file, chunk);
        expect(collect(r), `chunk ${chunk}`).toEqual(expected);
        expect(r.malformedLines).toBe(1);
        expect(r.lines).toBe(7);
      }
      const m = RecordingReader.fromBytes(Buffer.from(text.trimEnd())); // no final newline
      expect(collect(m)).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the ws payload goes to the decoder as is', () => {
    const r = RecordingReader.fromBytes(Buffer.from(text));
    r.next();
    const l = r.next()!;
    const dec = new BinanceMarketDecoder(new SymbolRegistry(SYMS), () => 0);
    const w = new ArraySlotWriter(MARKET_SLOT_BYTES, 4);
    expect(dec.decode(l.buf, l.msgStart, l.msgEnd, 0, w)).toBe(1);
    expect(headerType(w.i32[0]!)).toBe(RecordType.Depth);
  });

  it('urls, symbols and REST depth snapshots', () => {
    expect(restSymbol('https://fapi.binance.com/fapi/v1/depth?symbol=batusdt&limit=1000')).toBe('BATUSDT');
    expect(restSymbol('https://fapi.binance.com/fapi/v1/time')).toBe('');
    expect(wsUrlSymbols('wss://fstream.binance.com/stream?streams=sandusdt@aggTrade/chrusdt@depth@100ms/sandusdt@bookTicker/!bookTicker')).toEqual([
      'SANDUSDT',
      'CHRUSDT',
    ]);
    expect(wsUrlSymbols('wss://fstream.binance.com/ws/btcusdt@depth5')).toEqual(['BTCUSDT']);
    const s = parseDepthSnapshot('{"lastUpdateId":7,"E":11,"T":1,"bids":[["1.50","2"],["1.4","1"]],"asks":[["1.6","3.000"]]}');
    expect(s.lastUpdateId).toBe(7);
    expect(s.eventTime).toBe(11);
    expect([...s.bids]).toEqual([1.5, 2, 1.4, 1]);
    expect([...s.asks]).toEqual([1.6, 3]);
    expect(() => parseDepthSnapshot('{"code":-1121,"msg":"Invalid symbol."}')).toThrow(/lastUpdateId/);
  });
});

// ------------------------------------------------------------------ recorded fixtures

describe.skipIf(!HAVE_SHARED_FIXTURES)('BookSync on the recorded SUSHIUSDT depth stream', () => {
  /** The reference: JSON.parse of every line, the procedure written out plainly, Map books. */
  function reference(snapshot: { lastUpdateId: number; bids: string[][]; asks: string[][] }, events: Array<{ U: number; u: number; b: string[][]; a: string[][] }>) {
    const ref = new RefBook();
    for (const [p, q] of snapshot.bids) ref.apply(BookSide.Bid, parseFloat(p!), parseFloat(q!));
    for (const [p, q] of snapshot.asks) ref.apply(BookSide.Ask, parseFloat(p!), parseFloat(q!));
    for (const e of events) {
      if (e.u < snapshot.lastUpdateId) continue;
      for (const [p, q] of e.b) ref.apply(BookSide.Bid, parseFloat(p!), parseFloat(q!));
      for (const [p, q] of e.a) ref.apply(BookSide.Ask, parseFloat(p!), parseFloat(q!));
    }
    return ref;
  }

  for (const snapshotAfter of [5, 0]) {
    it(`drops lines 1-3, applies line 4 first and the rest in a chain (snapshot after ${snapshotAfter} buffered lines)`, () => {
      const lines = fixtureLines('binance-usdm/depthUpdate.jsonl');
      const snapText = readFileSync(fixturePath('binance-usdm/depthSnapshot.json'), 'utf8');
      const snapshot = JSON.parse(snapText) as { lastUpdateId: number; bids: string[][]; asks: string[][] };
      const events = lines.map((l) => (JSON.parse(l) as { data: { U: number; u: number; pu: number; b: string[][]; a: string[][] } }).data);
      const h = harness({}, ['SUSHIUSDT']);
      const snap = parseDepthSnapshot(snapText);
      lines.forEach((line, i) => {
        if (i === snapshotAfter) expect(h.sync.onSnapshot(0, snap.lastUpdateId, snap.bids, snap.asks)).toBe(true);
        h.feed(line);
      });
      expect(h.sync.droppedStale[0]).toBe(3);
      expect(h.sink.firstApplied[0]).toBe(events[3]!.u);
      expect(events[3]!.U).toBeLessThanOrEqual(snapshot.lastUpdateId);
      expect(h.sync.applied[0]).toBe(lines.length - 3);
      expect(h.sync.gaps[0]).toBe(0);
      expect(h.sync.state(0)).toBe(BookState.Live);
      expect(h.sync.lastUpdateId(0)).toBe(events.at(-1)!.u);
      const ref = reference(snapshot, events);
      expect(levelsOf(h.book())).toEqual({ bids: ref.sortedBids(), asks: ref.sortedAsks() });
      expect(h.book().bidLevels).toBeGreaterThan(900);
    });
  }

  it('the recordings read back line for line, msg slices equal to the parsed msg', () => {
    for (const [rec, total] of [
      ['2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl', 8427],
      ['2021-07-22_SUSHI-AKRO-KEEP-CTK.jsonl', 1540],
    ] as const) {
      const texts = fixtureLines(`recordings/binance-usdm/${rec}`);
      const r = RecordingReader.open(fixturePath(`recordings/binance-usdm/${rec}`));
      let n = 0;
      let bad = 0;
      for (const l of r) {
        const parsed = JSON.parse(texts[l.lineNo - 1]!) as { ts: number; url: string; msg: unknown };
        const msg = Buffer.from(l.buf.subarray(l.msgStart, l.msgEnd)).toString();
        if (l.ts !== parsed.ts || l.url !== parsed.url || (parsed.msg === null ? msg !== '' : JSON.stringify(JSON.parse(msg)) !== JSON.stringify(parsed.msg))) bad++;
        n++;
      }
      expect(bad).toBe(0);
      expect(n).toBe(total);
      expect(r.malformedLines).toBe(0);
    }
  });
});

if (!HAVE_SHARED_FIXTURES) {
  describe('recorded book fixtures', () => {
    it.skip(NO_FIXTURES_MESSAGE, () => {});
  });
}
