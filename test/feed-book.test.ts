import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBinanceVenue } from '../src/sim/binance/BinanceVenue.js';
import { DEFAULT_CONFIG } from '../src/config/Config.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { FeedHandler, type FeedOptions } from '../src/feed/FeedHandler.js';
import { BookMirror } from '../src/book/BookSync.js';
import type { L2Book } from '../src/book/L2Book.js';
import { AT, BT, BookState, DEPTH, MARKET_SLOT_BYTES, RecordFlag, RecordType, headerFlags, headerType } from '../src/ring/layout.js';
import { sleep, until } from './helpers/wait.js';

type Venue = Awaited<ReturnType<typeof startBinanceVenue>>;

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];

function feedOptions(venue: Venue, over: Partial<FeedOptions> = {}): FeedOptions {
  return {
    ...DEFAULT_CONFIG.feed,
    wsBase: venue.wsUrl,
    restUrl: venue.restUrl,
    symbols: SYMBOLS,
    streams: ['bookTicker', 'aggTrade', 'depth@100ms'],
    reconnect: { initialMs: 20, maxMs: 200, jitter: 0.3 },
    book: { ...DEFAULT_CONFIG.book, resyncBackoffMs: 20 },
    ...over,
  };
}

/** Drains ring A into a mirror (as the strategy worker does), keeping what the checks need. */
class RingReader {
  readonly mirror = new BookMirror(SYMBOLS.length);
  readonly tradeIds: number[][] = SYMBOLS.map(() => []);
  resets = 0;
  statuses = 0;
  /** per symbol: u of the last complete depth event the mirror applied */
  readonly lastU = SYMBOLS.map(() => -1);
  /** bookTickers whose u equals the mirror's last applied u: the top of book must match them exactly */
  checks = 0;
  mismatches: string[] = [];
  private pendingTickers: Array<Array<[number, string]>> = SYMBOLS.map(() => []);
  constructor(private readonly ring: SpscRing) {}
  drain(): void {
    for (;;) {
      const n = this.ring.poll(4096);
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const b = this.ring.readBase(i);
        const h = this.ring.i32[b * 2]!;
        const sym = this.ring.i32[b * 2 + 1]!;
        const t = headerType(h);
        if (t === RecordType.AggTrade) this.tradeIds[sym]!.push(this.ring.f64[b + AT.TRADE_ID]!);
        if (t === RecordType.FeedStatus) this.statuses++;
        if (t === RecordType.Depth && (headerFlags(h) & (RecordFlag.Reset | RecordFlag.First)) === (RecordFlag.Reset | RecordFlag.First)) this.resets++;
        const f = this.ring.f64;
        if (t === RecordType.BookTicker) {
          // bookTicker is real time; the depth event with the same u comes after it: compare then
          this.pendingTickers[sym]!.push([f[b + BT.UPDATE_ID]!, `${f[b + BT.BID]} ${f[b + BT.BID_QTY]} ${f[b + BT.ASK]} ${f[b + BT.ASK_QTY]}`]);
        }
        if (this.mirror.onRecord(f, this.ring.i32, b) >= 0) {
          const u = f[b + DEPTH.FINAL_UPDATE_ID]!;
          this.lastU[sym] = u;
          const pending = this.pendingTickers[sym]!;
          for (const [tu, want] of pending) {
            if (tu !== u || this.mirror.state(sym) !== BookState.Live) continue;
            this.checks++;
            const book = this.mirror.books[sym]!;
            const got = `${book.bestBid} ${book.bestBidQty} ${book.bestAsk} ${book.bestAskQty}`;
            if (got !== want) this.mismatches.push(`${SYMBOLS[sym]} u=${u}: book ${got} vs bookTicker ${want}`);
          }
          this.pendingTickers[sym] = pending.filter(([tu]) => tu > u);
        }
      }
      this.ring.release(n);
    }
  }
}

function levels(book: L2Book): string {
  const out: string[] = [];
  for (let i = 0; i < book.bidLevels; i++) out.push(`b ${book.bidPrice(i)} ${book.bidQty(i)}`);
  for (let i = 0; i < book.askLevels; i++) out.push(`a ${book.askPrice(i)} ${book.askQty(i)}`);
  return out.join('\n');
}

/** The feed's own book and the strategy-side mirror built from ring A must be identical, level by level. */
function expectMirrorsFeed(feed: FeedHandler, reader: RingReader): void {
  for (let s = 0; s < SYMBOLS.length; s++) {
    expect(reader.mirror.books[s]!.bidLevels).toBeGreaterThan(0);
    expect(levels(reader.mirror.books[s]!)).toBe(levels(feed.book(s)));
    expect(reader.lastU[s]).toBe(feed.book(s).lastUpdateId);
  }
}

describe('feed: self-healing order book against the simulator', () => {
  let venue: Venue;
  beforeAll(async () => {
    venue = await startBinanceVenue({ port: 0, rate: 3000, seed: 5, symbols: SYMBOLS, strictPaths: true });
  });
  afterAll(async () => {
    await venue.close();
  });

  it('syncs every book from a REST snapshot and the diff stream; the venue\'s bookTickers confirm it and the ring mirror equals the feed\'s book', async () => {
    const ring = SpscRing.create('A', 1 << 15, MARKET_SLOT_BYTES);
    const reader = new RingReader(ring);
    const feed = new FeedHandler(new SymbolRegistry(SYMBOLS), ring, feedOptions(venue));
    feed.start();
    try {
      // /public carries bookTicker and depth, /market aggTrade (strict paths: a wrong route gets nothing)
      expect(feed.connections.map((c) => c.spec.base)).toEqual(['public', 'market']);
      await until(() => { reader.drain(); return SYMBOLS.every((_, s) => feed.bookState(s) === BookState.Live && reader.mirror.state(s) === BookState.Live); }, 10_000, 'books live');
      await until(() => { reader.drain(); return reader.checks >= 20; }, 10_000, 'bookTicker checks');
      venue.pause();
      await sleep(200);
      reader.drain();
      expect(reader.mismatches).toEqual([]);
      expectMirrorsFeed(feed, reader);
      const c = feed.counters();
      expect(c.bookSnapshots).toBe(SYMBOLS.length);
      expect(c.bookGaps).toBe(0);
      expect(c.bookApplied).toBeGreaterThan(10);
      expect(c.ringDrops).toBe(0);
      expect(reader.resets).toBe(SYMBOLS.length);
      expect(reader.tradeIds.every((ids) => ids.length > 0)).toBe(true);
    } finally {
      venue.resume();
      feed.stop();
    }
  });

  it('after the venue drops the connection the books go stale, then resync or chain on, and match the venue again', async () => {
    const ring = SpscRing.create('A', 1 << 15, MARKET_SLOT_BYTES);
    const reader = new RingReader(ring);
    const feed = new FeedHandler(new SymbolRegistry(SYMBOLS), ring, feedOptions(venue));
    feed.start();
    try {
      await until(() => { reader.drain(); return SYMBOLS.every((_, s) => reader.mirror.state(s) === BookState.Live); }, 10_000, 'books live');
      expect(venue.dropStreams()).toBeGreaterThanOrEqual(2);
      await until(() => { reader.drain(); return feed.counters().bookStaleEvents >= 1; }, 5000, 'stale');
      await until(() => { reader.drain(); return feed.counters().connects >= 4 && SYMBOLS.every((_, s) => reader.mirror.state(s) === BookState.Live); }, 10_000, 'live again');
      const checksBefore = reader.checks;
      await until(() => { reader.drain(); return reader.checks >= checksBefore + 20; }, 10_000, 'bookTicker checks after the resync');
      venue.pause();
      await sleep(200);
      reader.drain();
      expect(reader.mismatches).toEqual([]);
      expectMirrorsFeed(feed, reader);
      const c = feed.counters();
      // Whether events were missed depends on which connection came back first: the venue only generates a
      // symbol's events while someone subscribes to it, so if /public (depth) returned before /market, the
      // pu chain goes on unbroken. Either way the books match the venue (above); a gap always led to a resync.
      if (c.bookGaps > 0) expect(c.bookResyncs).toBeGreaterThanOrEqual(1);
      expect(reader.statuses).toBeGreaterThanOrEqual(3 * SYMBOLS.length); // live, stale, syncing, live ...
    } finally {
      venue.resume();
      feed.stop();
    }
  });

  it('rotates its connections before the 24 h cut without a gap or a duplicate', async () => {
    const ring = SpscRing.create('A', 1 << 15, MARKET_SLOT_BYTES);
    const reader = new RingReader(ring);
    const feed = new FeedHandler(new SymbolRegistry(SYMBOLS), ring, feedOptions(venue, { rotateAfterMs: 400 }));
    feed.start();
    try {
      await until(() => { reader.drain(); return feed.counters().rotations >= 4; }, 15_000, 'rotations');
      await sleep(200);
      venue.pause();
      await sleep(200);
      reader.drain();
      const c = feed.counters();
      expect(c.rotationFailures).toBe(0);
      expect(c.bookGaps).toBe(0); // depth went on across every switch
      for (let s = 0; s < SYMBOLS.length; s++) {
        const ids = reader.tradeIds[s]!;
        expect(ids.length).toBeGreaterThan(5);
        for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!); // no duplicate, in order
      }
      expect(reader.checks).toBeGreaterThan(0);
      expect(reader.mismatches).toEqual([]);
      expectMirrorsFeed(feed, reader);
    } finally {
      venue.resume();
      feed.stop();
    }
  });

  it('subscribes by message (SUBSCRIBE within the budget) when the URL carries no streams', async () => {
    const ring = SpscRing.create('A', 1 << 15, MARKET_SLOT_BYTES);
    const reader = new RingReader(ring);
    const feed = new FeedHandler(new SymbolRegistry(SYMBOLS), ring, feedOptions(venue, { subscribe: 'message' }));
    feed.start();
    try {
      await until(() => { reader.drain(); return SYMBOLS.every((_, s) => reader.mirror.state(s) === BookState.Live); }, 10_000, 'books live');
      const subs = feed.connections.flatMap((c) => c.subscriptions.subscriptions()).sort();
      expect(subs).toEqual(['btcusdt@aggTrade', 'btcusdt@bookTicker', 'btcusdt@depth@100ms', 'ethusdt@aggTrade', 'ethusdt@bookTicker', 'ethusdt@depth@100ms']);
      const listed = await feed.connections[0]!.subscriptions.list();
      expect(listed.sort()).toEqual(['btcusdt@bookTicker', 'btcusdt@depth@100ms', 'ethusdt@bookTicker', 'ethusdt@depth@100ms']);
      expect(feed.counters().subscribeErrors).toBe(0);
    } finally {
      feed.stop();
    }
  });
});
