import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateVenue, type GateVenueHandle } from '../src/sim/gate/GateVenue.js';
import { DEFAULT_CONFIG } from '../src/config/Config.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { FeedHandler, type FeedOptions } from '../src/feed/FeedHandler.js';
import { GateSubscriptionManager, gateBookLevel, gateStreamKind, gateStreamNames } from '../src/feed/GateSubscriptionManager.js';
import { BookMirror } from '../src/book/BookSync.js';
import { AT, BT, BookState, DEPTH, MARKET_SLOT_BYTES, RecordFlag, RecordType, headerFlags, headerType } from '../src/ring/layout.js';
import { until } from './helpers/wait.js';

const CONTRACTS = ['BTC_USDT', 'ETH_USDT'];

function feedOptions(v: GateVenueHandle, over: Partial<FeedOptions> = {}): FeedOptions {
  return {
    ...DEFAULT_CONFIG.feed,
    venue: 'gate',
    wsBase: v.origin.replace('http', 'ws'),
    restUrl: v.restUrl,
    symbols: CONTRACTS,
    streams: ['book_ticker', 'trades', 'order_book_update@100ms@100'],
    reconnect: { initialMs: 20, maxMs: 200, jitter: 0.3 },
    book: { ...DEFAULT_CONFIG.book, resyncBackoffMs: 20 },
    ...over,
  };
}

/** Ring A as the strategy worker reads it: a mirror of the books, counts per record type, bookTicker checks. */
class Reader {
  readonly mirror = new BookMirror(CONTRACTS.length);
  readonly counts = new Map<number, number>();
  readonly tradeIds: number[][] = CONTRACTS.map(() => []);
  checks = 0;
  readonly mismatches: string[] = [];
  private readonly tickers: Array<Array<[number, string]>> = CONTRACTS.map(() => []);
  constructor(private readonly ring: SpscRing) {}
  drain(): void {
    const ring = this.ring;
    for (;;) {
      const n = ring.poll(4096);
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const b = ring.readBase(i);
        const h = ring.i32[b * 2]!;
        const sym = ring.i32[b * 2 + 1]!;
        const t = headerType(h);
        const f = ring.f64;
        if (t !== RecordType.Depth || (headerFlags(h) & RecordFlag.First) !== 0) this.counts.set(t, (this.counts.get(t) ?? 0) + 1);
        if (t === RecordType.Trade) this.tradeIds[sym]!.push(f[b + AT.TRADE_ID]!);
        if (t === RecordType.BookTicker) this.tickers[sym]!.push([f[b + BT.UPDATE_ID]!, `${f[b + BT.BID]} ${f[b + BT.BID_QTY]} ${f[b + BT.ASK]} ${f[b + BT.ASK_QTY]}`]);
        if (this.mirror.onRecord(f, ring.i32, b) >= 0 && t === RecordType.Depth) {
          // a complete depth event: every bookTicker with the same u must show the mirror's top
          const u = f[b + DEPTH.FINAL_UPDATE_ID]!;
          const pending = this.tickers[sym]!;
          for (const [tu, want] of pending) {
            if (tu !== u || this.mirror.state(sym) !== BookState.Live) continue;
            this.checks++;
            const bk = this.mirror.books[sym]!;
            const got = `${bk.bestBid} ${bk.bestBidQty} ${bk.bestAsk} ${bk.bestAskQty}`;
            if (got !== want) this.mismatches.push(`${CONTRACTS[sym]} u=${u}: ${got} vs ${want}`);
          }
          this.tickers[sym] = pending.filter(([tu]) => tu > u);
        }
      }
      ring.release(n);
    }
  }
}

/** The feed's book of a contract next to the venue's, both as "bid bidSize ask askSize u". */
function tops(feed: FeedHandler, v: GateVenueHandle, sym: number): [string, string] {
  const b = feed.book(sym);
  const t = v.top(CONTRACTS[sym]!);
  return [`${b.bestBid} ${b.bestBidQty} ${b.bestAsk} ${b.bestAskQty} ${b.lastUpdateId}`, `${Number(t.bid)} ${t.bidSize} ${Number(t.ask)} ${t.askSize} ${t.u}`];
}

describe('Gate stream names', () => {
  it('maps the engine stream kinds onto Gate channels, one name per contract', () => {
    expect(gateStreamKind('bookTicker')).toBe('book_ticker');
    expect(gateStreamKind('aggTrade')).toBe('trades');
    expect(gateStreamKind('depth@100ms')).toBe('order_book_update@100ms@100');
    expect(gateStreamKind('depth@20ms')).toBe('order_book_update@20ms@20');
    expect(gateStreamKind('markPrice@1s')).toBe('tickers');
    expect(gateStreamKind('kline_1m')).toBe('candlesticks@1m');
    expect(() => gateStreamKind('order_book_update@20ms@100')).toThrow(/level 100/);
    expect(() => gateStreamKind('forceOrder')).toThrow(/no channel/);
    const names = gateStreamNames(CONTRACTS, ['bookTicker', 'order_book_update@100ms@50']);
    expect(names).toEqual(['book_ticker:BTC_USDT', 'book_ticker:ETH_USDT', 'order_book_update@100ms@50:BTC_USDT', 'order_book_update@100ms@50:ETH_USDT']);
    expect(gateBookLevel(names)).toBe(50);
  });

  it('batches contract-list channels, sends one order_book_update per contract, and marks acks by id', () => {
    const sent: string[] = [];
    const m = new GateSubscriptionManager({ send: (t) => (sent.push(t), true) }, { maxPerSecond: 10, pingIntervalMs: 0, now: () => 1_700_000_000_500 });
    m.subscribe(gateStreamNames(CONTRACTS, ['book_ticker', 'order_book_update@100ms@100']));
    expect(sent).toEqual([]); // not open yet
    m.onOpen();
    expect(sent.map((s) => JSON.parse(s) as unknown)).toEqual([
      { time: 1_700_000_000, id: 1, channel: 'futures.book_ticker', event: 'subscribe', payload: CONTRACTS },
      { time: 1_700_000_000, id: 2, channel: 'futures.order_book_update', event: 'subscribe', payload: ['BTC_USDT', '100ms', '100'] },
      { time: 1_700_000_000, id: 3, channel: 'futures.order_book_update', event: 'subscribe', payload: ['ETH_USDT', '100ms', '100'] },
    ]);
    expect(m.onReply('{"time":1,"time_ms":1,"id":1,"channel":"futures.book_ticker","event":"subscribe","error":null,"result":{"status":"success"}}')).toBe(true);
    expect(m.onReply('{"time":1,"time_ms":1,"id":3,"channel":"futures.order_book_update","event":"subscribe","error":{"code":2,"message":"unknown contract"},"result":{"status":"fail"}}')).toBe(true);
    expect(m.subscriptions().sort()).toEqual(['book_ticker:BTC_USDT', 'book_ticker:ETH_USDT']);
    expect(m.counters).toMatchObject({ sent: 3, acked: 1, errors: 1 });
    expect(m.error).toBe('futures.order_book_update subscribe: code 2 unknown contract');
    m.onClose();
  });
});

describe('FeedHandler on the Gate simulator', () => {
  let v: GateVenueHandle;
  beforeAll(async () => {
    v = await startGateVenue({ contracts: CONTRACTS, rate: 3000, seed: 7, pingIntervalMs: 200 });
  });
  afterAll(async () => {
    await v.close();
  });

  it('writes BookTicker, Trade and Depth records; the book goes Live and equals the venue; a reconnect resyncs', async () => {
    const ring = SpscRing.create('A', 1 << 15, MARKET_SLOT_BYTES);
    const feed = new FeedHandler(new SymbolRegistry(CONTRACTS), ring, feedOptions(v));
    const reader = new Reader(ring);
    feed.start();
    try {
      await until(() => feed.counters().booksLive === 2, 10_000, 'both books live', () => reader.drain());
      await until(() => (reader.counts.get(RecordType.Trade) ?? 0) > 20 && reader.checks > 20, 10_000, 'trades and bookTicker checks', () => reader.drain());
      expect(reader.counts.get(RecordType.BookTicker)).toBeGreaterThan(0);
      expect(reader.counts.get(RecordType.Depth)).toBeGreaterThan(0);
      expect(reader.counts.get(RecordType.FeedStatus)).toBeGreaterThanOrEqual(2); // Live of each contract
      expect(reader.mismatches).toEqual([]);
      for (const ids of reader.tradeIds) for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);

      // quiet market: the feed's book (and the strategy's mirror) settle on the venue's book exactly
      v.pause();
      for (let s = 0; s < 2; s++) await until(() => tops(feed, v, s)[0] === tops(feed, v, s)[1], 5_000, `book ${CONTRACTS[s]} equal to the venue`, () => reader.drain());
      for (let s = 0; s < 2; s++) {
        const m = reader.mirror.books[s]!;
        const b = feed.book(s);
        expect([m.bestBid, m.bestBidQty, m.bestAsk, m.bestAskQty]).toEqual([b.bestBid, b.bestBidQty, b.bestAsk, b.bestAskQty]);
      }
      v.resume();

      const c0 = feed.counters();
      expect(c0).toMatchObject({ decodeErrors: 0, bookGaps: 0, ringDrops: 0, subscribeErrors: 0 });
      expect(feed.connections[0]!.subscriptions.subscriptions().sort()).toEqual(gateStreamNames(CONTRACTS, ['book_ticker', 'trades', 'order_book_update@100ms@100']).sort());

      // the venue drops the connection: reconnect, resubscribe, each book rebuilt from a new snapshot
      expect(v.dropStreams()).toBe(1);
      await until(() => feed.counters().reconnects >= 1, 5_000, 'reconnect');
      await until(() => feed.counters().booksLive === 2 && feed.counters().bookSnapshots >= c0.bookSnapshots + 2, 10_000, 'books live again', () => reader.drain());
      v.pause();
      for (let s = 0; s < 2; s++) await until(() => tops(feed, v, s)[0] === tops(feed, v, s)[1], 5_000, `book ${CONTRACTS[s]} equal after the reconnect`, () => reader.drain());
      v.resume();
      expect(reader.mismatches).toEqual([]);
      expect(feed.counters().decodeErrors).toBe(0);
      expect(feed.connections[0]!.subscriptions.subscriptions().length).toBe(6);
    } finally {
      feed.stop();
    }
  });
});
