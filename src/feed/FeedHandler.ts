import type { Histogram } from 'hdr-histogram-js';
import { request } from 'undici';
import { BinanceMarketDecoder } from '../venues/binance/MarketDecoder.js';
import { GateDecodeStatus, GateMarketDecoder, type MarketFrameDecoder } from '../venues/gate/MarketDecoder.js';
import { GateBookSync, parseGateOrderBook } from '../venues/gate/book.js';
import type { SymbolRegistry } from '../core/SymbolRegistry.js';
import type { SpscRing } from '../ring/SpscRing.js';
import { ArraySlotWriter } from '../ring/SlotWriter.js';
import {
  AT,
  BT,
  BookState,
  DEPTH,
  FS,
  MARKET_SLOT_BYTES,
  RecordFlag,
  RecordType,
  W,
  headerFlags,
  headerType,
  packHeader,
} from '../ring/layout.js';
import { BookSync, type BookSink } from '../book/BookSync.js';
import { L2Book, applyDepthLevels, writeBookAsReset } from '../book/L2Book.js';
import { parseDepthSnapshot } from '../venues/binance/recording.js';
import { marketConnections, streamNames, type BinanceWsRouting, type SubscribeMode } from '../venues/binance/streamRouting.js';
import { recordNs } from '../metrics/StageHistograms.js';
import { nowNs } from '../util/clock.js';
import { MarketConnection, type FrameSink } from './MarketConnection.js';
import { GateSubscriptionManager, gateBookLevel, gateStreamNames } from './GateSubscriptionManager.js';

/** The market-data dialect a feed speaks. */
export type FeedVenue = 'binance' | 'gate';

export interface FeedOptions {
  /**
   * Default 'binance'. 'gate': Gate USDT futures (protocols.md §2): one connection to `{wsBase}/v4/ws/usdt`
   * (wsBase may already end with that path), subscribe messages after open, `futures.ping`, books from
   * `order_book_update` + `GET {restUrl}/futures/usdt/order_book?contract=X&limit=L&with_id=true` (restUrl
   * the `/api/v4` base; L = the stream's level), re-synced after every reconnect. `symbols` are contract names
   * (BTC_USDT); `streams` in Gate spelling (book_ticker, trades, order_book_update@100ms@100, tickers,
   * candlesticks@1m) or the Binance kinds they map from (bookTicker, aggTrade, depth@100ms, markPrice@1s).
   * `routing` and `subscribe` are Binance-only.
   */
  venue?: FeedVenue;
  /** market-data WebSocket base, e.g. wss://fstream.binance.com or ws://127.0.0.1:P */
  wsBase: string;
  /** REST base for depth snapshots */
  restUrl: string;
  symbols: readonly string[];
  /** stream kinds per symbol: bookTicker, aggTrade, depth@100ms, markPrice@1s, ... */
  streams: readonly string[];
  routing: BinanceWsRouting;
  subscribe: SubscribeMode;
  controlPerSecond: number;
  rotateAfterMs: number;
  reconnect: { initialMs: number; maxMs: number; jitter: number };
  /**
   * Reconnect a market-data connection that received nothing at all (not even a ping) for this long, ms:
   * a stalled connection then resyncs on a fresh one instead of waiting for TCP. 0 = never (default).
   */
  idleTimeoutMs?: number;
  book: { snapshotLimit: number; maxResyncsPerMinute: number; resyncBackoffMs: number; staleAfterMs: number };
  decodeHist?: Histogram;
  onStatus?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export interface FeedCounters {
  frames: number;
  records: number;
  decodeErrors: number;
  ignored: number;
  unknownSymbol: number;
  ringDrops: number;
  connects: number;
  reconnects: number;
  disconnects: number;
  bytesIn: number;
  duplicatesDropped: number;
  rotations: number;
  rotationFailures: number;
  controlReplies: number;
  subscribeErrors: number;
  bookApplied: number;
  bookGaps: number;
  bookResyncs: number;
  /** depth events older than the book (a repeat of an applied event, or before the snapshot): dropped */
  bookDroppedStale: number;
  bookSnapshots: number;
  bookSnapshotFailures: number;
  bookStaleEvents: number;
  bookReemits: number;
  booksLive: number;
}

const STAGING_SLOTS = 1024;
const DIFF_DEPTH = /^depth(@\d+ms)?$/;
/** dedup slots per symbol: one last-seen id per record type that has a monotonic id */
const DEDUP_TYPES = 8;

/**
 * The feed worker's core. One or more market-data connections (routed by stream kind, rotated before the
 * venue's 24 h cut), each frame decoded straight from the socket bytes into a small staging area, then:
 *
 * - diff-depth records go through BookSync (buffering, snapshot, `pu` chain, resync) into the feed's own
 *   L2Book per symbol and, once accepted, into ring A as whole events (the strategy's BookMirror applies them);
 * - every other record is copied into ring A as it is.
 *
 * The staging copy (128 bytes per record) is what lets the feed hold back depth events the book cannot use
 * yet and drop duplicates while two connections overlap; see bench for its cost. A full ring A is counted,
 * the symbol's next record carries GapBefore, and a symbol that lost depth records gets its whole book
 * re-emitted (Reset) as soon as the ring has room, so the strategy's mirror is never silently wrong.
 */
export class FeedHandler implements FrameSink, BookSink {
  readonly decoder: MarketFrameDecoder;
  readonly connections: MarketConnection[];
  readonly books: L2Book[];
  readonly sync: BookSync | null;
  readonly venue: FeedVenue;
  private readonly staging = new ArraySlotWriter(MARKET_SLOT_BYTES, STAGING_SLOTS);
  private readonly nsym: number;
  private lastPub = 0;
  private disconnects = 0;
  private ringDrops = 0;
  private duplicatesDropped = 0;
  private reemits = 0;
  private staleEvents = 0;
  /** per symbol: next record copied into the ring carries GapBefore */
  private readonly gapFlag: Uint8Array;
  /** per symbol: depth records were lost on a full ring; re-emit the whole book before any further diff */
  private readonly needReemit: Uint8Array;
  /** per symbol: the last book state written (0 = none yet), and whether writing it failed */
  private readonly stateWritten: Uint8Array;
  private readonly statePending: Uint8Array;
  /** per symbol: a snapshot fetch is in flight or scheduled */
  private readonly fetching: Uint8Array;
  /** per symbol: receive time of the last depth event (stale detection) */
  private readonly lastDepthNs: Float64Array;
  /** last forwarded id per (symbol, record type): duplicates are dropped while connections overlap */
  private readonly lastIds: Float64Array;
  /** records of the depth event being forwarded (claimed together, committed on Last) */
  private eventOpen = false;
  private eventFailed = false;
  private eventSym = -1;
  private readonly snapshotTimers = new Set<NodeJS.Timeout>();
  private staleTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly restBase: string;
  /** Gate: the snapshot limit (= the order_book_update level) */
  private readonly gateLevel: number;
  /** Gate: per symbol, restart the book sync at its next depth event (set when a connection re-opens) */
  private readonly resyncOnNext: Uint8Array;
  /** connections (by index) that carry diff depth: their loss marks the books stale */
  private readonly depthConn = new Set<MarketConnection>();

  constructor(
    symbols: SymbolRegistry,
    private readonly ring: SpscRing,
    private readonly opts: FeedOptions,
  ) {
    // The decoder reads the clock once per frame for PUB_TS; keep it to time the decode stage.
    const stamp = (): number => {
      const t = nowNs();
      this.lastPub = t;
      return t;
    };
    this.venue = opts.venue ?? 'binance';
    const gate = this.venue === 'gate';
    this.decoder = gate ? new GateMarketDecoder(symbols, stamp) : new BinanceMarketDecoder(symbols, stamp);
    this.nsym = opts.symbols.length;
    this.resyncOnNext = new Uint8Array(opts.symbols.length);
    this.restBase = opts.restUrl.replace(/\/+$/, '');
    const n = this.nsym;
    this.gapFlag = new Uint8Array(n);
    this.needReemit = new Uint8Array(n);
    this.stateWritten = new Uint8Array(n);
    this.statePending = new Uint8Array(n);
    this.fetching = new Uint8Array(n);
    this.lastDepthNs = new Float64Array(n);
    this.lastIds = new Float64Array(n * DEDUP_TYPES).fill(-Infinity);
    this.books = [];
    for (let s = 0; s < n; s++) this.books.push(new L2Book(2048));
    const gateStreams = gate ? gateStreamNames(opts.symbols, opts.streams) : [];
    this.gateLevel = gateBookLevel(gateStreams);
    const hasDiffDepth = gate ? this.gateLevel > 0 : opts.streams.some((k) => DIFF_DEPTH.test(k));
    const syncOpts = {
      maxResyncs: opts.book.maxResyncsPerMinute,
      resyncWindowMs: 60_000,
      backoffBaseMs: opts.book.resyncBackoffMs,
      requestSnapshot: (sym: number, delayMs: number) => this.scheduleSnapshot(sym, delayMs),
    };
    this.sync = !hasDiffDepth ? null : gate ? new GateBookSync(n, this, syncOpts) : new BookSync(n, this, syncOpts);
    const connOpts = {
      ws: { backoff: { initialMs: opts.reconnect.initialMs, maxMs: opts.reconnect.maxMs, jitter: opts.reconnect.jitter }, idleTimeoutMs: opts.idleTimeoutMs ?? 0 },
      subscriptions: { maxPerSecond: opts.controlPerSecond },
      rotateAfterMs: opts.rotateAfterMs,
    };
    if (gate) {
      const root = opts.wsBase.replace(/\/+$/, '');
      const url = /\/v4\/ws\/[a-z/]+$/.test(root) ? root : `${root}/v4/ws/usdt`;
      const conn = new MarketConnection({ base: 'root', url, streams: gateStreams, mode: 'message' }, this, {
        ...connOpts,
        control: (sender) => new GateSubscriptionManager(sender, { maxPerSecond: opts.controlPerSecond }),
        controlStatus: GateDecodeStatus.Control,
      });
      this.connections = [conn];
      if (hasDiffDepth) this.depthConn.add(conn);
    } else {
      const specs = marketConnections(opts.wsBase, streamNames(opts.symbols, opts.streams), opts.routing, opts.subscribe);
      this.connections = specs.map((spec) => new MarketConnection(spec, this, connOpts));
      for (const c of this.connections) if (c.spec.streams.some((s) => DIFF_DEPTH.test(s.slice(s.indexOf('@') + 1)))) this.depthConn.add(c);
    }
  }

  start(): void {
    this.stopped = false;
    for (const c of this.connections) c.start();
    if (this.sync && this.opts.book.staleAfterMs > 0) {
      this.staleTimer = setInterval(() => this.checkStale(), Math.max(50, this.opts.book.staleAfterMs / 4));
      this.staleTimer.unref?.();
    }
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.connections) c.stop();
    for (const t of this.snapshotTimers) clearTimeout(t);
    this.snapshotTimers.clear();
    if (this.staleTimer) clearInterval(this.staleTimer);
    this.staleTimer = null;
  }

  /** The feed's own book of a symbol (authoritative; the strategy reads its mirror). */
  book(symbolId: number): L2Book {
    return this.books[symbolId]!;
  }

  bookState(symbolId: number): BookState {
    return this.sync ? this.sync.state(symbolId) : BookState.Syncing;
  }

  // ------------------------------------------------------------------ FrameSink

  frame(buf: Buffer, start: number, end: number, recvTs: number, dedup: boolean): number {
    const st = this.staging;
    st.reset();
    const n = this.decoder.decode(buf, start, end, recvTs, st);
    if (n <= 0) return n;
    if (this.opts.decodeHist) recordNs(this.opts.decodeHist, this.lastPub - recvTs);
    this.retryPending();
    const f64 = st.f64;
    const i32 = st.i32;
    const words = st.slotWords;
    let skipEvent = false;
    for (let r = 0; r < n; r++) {
      const base = r * words;
      const h = i32[base * 2]!;
      const type = headerType(h);
      const flags = headerFlags(h);
      if (type === RecordType.Depth && (flags & RecordFlag.Snapshot) === 0) {
        if (this.sync !== null) this.onDiffDepth(f64, i32, base, flags);
        continue;
      }
      // Ids are tracked always (one compare and store per record) so that dedup, when two connections
      // overlap, compares against what was really forwarded, whichever connection brought it.
      const sym = i32[base * 2 + 1]!;
      if (type === RecordType.Depth) {
        // a partial-depth event is kept or dropped as a whole
        if ((flags & RecordFlag.First) !== 0) skipEvent = this.seen(sym, type, f64[base + DEPTH.FINAL_UPDATE_ID]!, dedup);
        if (skipEvent) {
          if ((flags & RecordFlag.Last) !== 0) this.duplicatesDropped++;
          continue;
        }
      } else if (this.seen(sym, type, dedupId(f64, base, type), dedup)) {
        this.duplicatesDropped++;
        continue;
      }
      this.copyToRing(f64, i32, base, true);
    }
    return n;
  }

  beginOverlap(): void {
    // nothing to reset: the last forwarded ids are always tracked
  }

  status(conn: MarketConnection, event: 'open' | 'close' | 'rotated' | 'rotation-failed', detail: string): void {
    const what = `market stream ${conn.spec.base}`;
    if (event === 'open') {
      this.opts.onStatus?.('info', `${what} open: ${detail}`);
      // Gate: a re-opened connection starts new order_book_update streams; each book is rebuilt from a
      // snapshot taken once its new stream is flowing (its first push), not chained across connections.
      if (this.venue === 'gate' && this.sync !== null && conn.ws.connects > 1) this.resyncOnNext.fill(1);
    }
    else if (event === 'rotated') this.opts.onStatus?.('info', `${what} ${detail}`);
    else if (event === 'rotation-failed') this.opts.onStatus?.('warn', `${what} rotation failed: ${detail}`);
    else {
      this.disconnects++;
      this.opts.onStatus?.('warn', `${what} closed: ${detail}`);
      // Depth continuity may be lost with the connection: the books read Stale until the next event after
      // the reconnect, which either chains (pu == last u: Live again) or is a gap and resyncs while the new
      // connection buffers, as the procedure requires.
      if (this.sync !== null && this.depthConn.has(conn)) {
        for (let s = 0; s < this.nsym; s++) this.sync.markStale(s);
      }
    }
  }

  // ------------------------------------------------------------------ depth

  private onDiffDepth(f64: Float64Array, i32: Int32Array, base: number, flags: number): void {
    const sync = this.sync!;
    const sym = i32[base * 2 + 1]!;
    if ((flags & RecordFlag.First) !== 0) {
      this.lastDepthNs[sym] = f64[base + W.RECV_TS]!;
      if (this.resyncOnNext[sym] === 1) {
        this.resyncOnNext[sym] = 0;
        sync.restart(sym, f64[base + W.RECV_TS]!);
      }
    }
    const action = sync.onRecord(f64, i32, base);
    // The first buffered event of a symbol that still needs its snapshot: fetch it now (the stream is
    // already buffering, as the procedure requires).
    if (action === 2 /* Buffered */ && sync.snapshotWanted(sym) && this.fetching[sym] === 0) this.scheduleSnapshot(sym, 0);
  }

  onSnapshot(symbolId: number, lastUpdateId: number, bids: Float64Array, asks: Float64Array): void {
    const book = this.books[symbolId]!;
    book.clear();
    for (let i = 0; i + 1 < bids.length; i += 2) book.applyBid(bids[i]!, bids[i + 1]!);
    for (let i = 0; i + 1 < asks.length; i += 2) book.applyAsk(asks[i]!, asks[i + 1]!);
    book.lastUpdateId = lastUpdateId;
    this.needReemit[symbolId] = 1;
    this.reemit(symbolId);
  }

  onDiffRecord(f64: Float64Array, i32: Int32Array, base: number): void {
    const sym = i32[base * 2 + 1]!;
    const flags = headerFlags(i32[base * 2]!);
    applyDepthLevels(this.books[sym]!, f64, i32, base);
    if ((flags & RecordFlag.Last) !== 0) this.books[sym]!.lastUpdateId = f64[base + DEPTH.FINAL_UPDATE_ID]!;
    if (this.needReemit[sym] === 1) {
      // The mirror missed records: the whole book goes out again once the event is complete.
      if ((flags & RecordFlag.Last) !== 0) this.reemit(sym);
      return;
    }
    // Forward the event's records together: all of them or (ring full) none, then a re-emit.
    if ((flags & RecordFlag.First) !== 0) {
      this.eventOpen = true;
      this.eventFailed = false;
      this.eventSym = sym;
    }
    if (!this.eventOpen || this.eventSym !== sym) return;
    if (!this.eventFailed && !this.copyToRing(f64, i32, base, false)) {
      this.ring.abort();
      this.eventFailed = true;
    }
    if ((flags & RecordFlag.Last) !== 0) {
      this.eventOpen = false;
      if (this.eventFailed) {
        this.ringDrops++;
        this.gapFlag[sym] = 1;
        this.needReemit[sym] = 1;
      } else this.ring.commit();
    }
  }

  onState(symbolId: number, state: BookState): void {
    if (state === BookState.Stale) this.staleEvents++;
    this.writeState(symbolId, state);
  }

  /** Sends the feed's whole book of a symbol as one Reset event; retried on the next frame if the ring is full. */
  private reemit(sym: number): void {
    const now = nowNs();
    const flags = this.gapFlag[sym] === 1 ? RecordFlag.GapBefore : 0;
    if (writeBookAsReset(this.books[sym]!, sym, this.ring, now, now, flags) < 0) return;
    this.gapFlag[sym] = 0;
    this.needReemit[sym] = 0;
    this.reemits++;
  }

  private writeState(sym: number, state: BookState): void {
    const ring = this.ring;
    const base = ring.claim();
    if (base < 0) {
      this.statePending[sym] = 1;
      return;
    }
    const f64 = ring.f64;
    const i32 = ring.i32;
    const now = nowNs();
    i32[base * 2] = packHeader(RecordType.FeedStatus, 0, 0);
    i32[base * 2 + 1] = sym;
    f64[base + W.RECV_TS] = now;
    f64[base + W.PUB_TS] = now;
    f64[base + FS.BOOK_STATE] = state;
    const sync = this.sync;
    f64[base + FS.GAPS] = sync ? sync.gaps[sym]! : 0;
    f64[base + FS.RESYNCS] = sync ? sync.resyncs[sym]! : 0;
    f64[base + FS.CONNECTED] = 1;
    f64[base + FS.LAST_UPDATE_ID] = sync ? sync.lastUpdateId(sym) : -1;
    ring.commit();
    this.statePending[sym] = 0;
    this.stateWritten[sym] = state;
  }

  /** Book states and re-emits that found the ring full earlier. */
  private retryPending(): void {
    for (let s = 0; s < this.nsym; s++) {
      if (this.statePending[s] === 1 && this.sync) this.writeState(s, this.sync.state(s));
      if (this.needReemit[s] === 1 && !(this.eventOpen && this.eventSym === s) && this.sync?.state(s) === BookState.Live) this.reemit(s);
    }
  }

  private checkStale(): void {
    const sync = this.sync;
    if (!sync) return;
    const limitNs = this.opts.book.staleAfterMs * 1e6;
    const now = nowNs();
    for (let s = 0; s < this.nsym; s++) {
      if (sync.state(s) === BookState.Live && now - this.lastDepthNs[s]! > limitNs) sync.markStale(s);
    }
  }

  // ------------------------------------------------------------------ snapshots (off the hot path)

  private scheduleSnapshot(sym: number, delayMs: number): void {
    if (this.stopped || this.fetching[sym] === 1) return;
    this.fetching[sym] = 1;
    const t = setTimeout(() => {
      this.snapshotTimers.delete(t);
      void this.fetchSnapshot(sym);
    }, delayMs);
    this.snapshotTimers.add(t);
  }

  private async fetchSnapshot(sym: number): Promise<void> {
    const sync = this.sync!;
    const name = this.opts.symbols[sym]!;
    try {
      const gate = this.venue === 'gate';
      const url = gate
        ? `${this.restBase}/futures/usdt/order_book?contract=${name}&limit=${this.gateLevel}&with_id=true`
        : `${this.restBase}/fapi/v1/depth?symbol=${name}&limit=${this.opts.book.snapshotLimit}`;
      const res = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
      const body = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
      let id: number;
      let bids: Float64Array;
      let asks: Float64Array;
      if (gate) {
        const snap = parseGateOrderBook(body);
        if (snap.id < 0) throw new Error('order book without id (with_id=true ignored?)');
        ({ id, bids, asks } = snap);
      } else {
        const snap = parseDepthSnapshot(body);
        ({ lastUpdateId: id, bids, asks } = snap);
      }
      this.fetching[sym] = 0;
      if (this.stopped) return;
      // GateBookSync takes the venue's `id` as sent (the first push to apply holds id + 1)
      sync.onSnapshot(sym, id, bids, asks, nowNs());
    } catch (e) {
      this.fetching[sym] = 0;
      if (this.stopped) return;
      this.opts.onStatus?.('warn', `depth snapshot ${name} failed: ${(e as Error).message}`);
      sync.snapshotFailed(sym, nowNs());
    }
  }

  // ------------------------------------------------------------------ ring A

  /**
   * Copies one staged record into ring A. `commit` false leaves it claimed (a depth event commits as a
   * whole). Returns false when the ring is full (counted by the caller for uncommitted events).
   */
  private copyToRing(f64: Float64Array, i32: Int32Array, base: number, commit: boolean): boolean {
    const ring = this.ring;
    const dst = ring.claim();
    const sym = i32[base * 2 + 1]!;
    if (dst < 0) {
      if (commit) {
        this.ringDrops++;
        if (sym >= 0 && sym < this.nsym) this.gapFlag[sym] = 1;
      }
      return false;
    }
    const words = this.staging.slotWords;
    ring.f64.set(f64.subarray(base, base + words), dst);
    if (sym >= 0 && sym < this.nsym && this.gapFlag[sym] === 1 && commit) {
      ring.i32[dst * 2] = i32[base * 2]! | (RecordFlag.GapBefore << 8);
      this.gapFlag[sym] = 0;
    }
    if (commit) ring.commit();
    return true;
  }

  /** Records the id; with `dedup`, reports an id at or below the last one forwarded as a duplicate. */
  private seen(sym: number, type: number, id: number, dedup: boolean): boolean {
    if (!(id === id) || sym < 0 || sym >= this.nsym) return false; // NaN ids cannot be compared: keep
    const k = sym * DEDUP_TYPES + (type & (DEDUP_TYPES - 1));
    if (dedup && id <= this.lastIds[k]!) return true;
    this.lastIds[k] = id;
    return false;
  }

  counters(): FeedCounters {
    const d = this.decoder;
    let connects = 0;
    let reconnects = 0;
    let bytesIn = 0;
    let rotations = 0;
    let rotationFailures = 0;
    let controlReplies = 0;
    let subscribeErrors = 0;
    for (const c of this.connections) {
      connects += c.ws.connects;
      reconnects += c.ws.reconnects;
      bytesIn += c.ws.bytesIn;
      rotations += c.counters.rotations;
      rotationFailures += c.counters.rotationFailures;
      controlReplies += c.counters.controlReplies;
      subscribeErrors += c.subscriptions.counters.errors + c.subscriptions.counters.timeouts;
    }
    const s = this.sync;
    const sum = (a: Float64Array | undefined): number => (a ? a.reduce((x, y) => x + y, 0) : 0);
    let live = 0;
    if (s) for (let i = 0; i < this.nsym; i++) if (s.state(i) === BookState.Live) live++;
    return {
      frames: d.frames,
      records: d.records,
      decodeErrors: d.malformed,
      ignored: d.ignored,
      unknownSymbol: d.unknownSymbol,
      ringDrops: this.ringDrops,
      connects,
      reconnects,
      disconnects: this.disconnects,
      bytesIn,
      duplicatesDropped: this.duplicatesDropped,
      rotations,
      rotationFailures,
      controlReplies,
      subscribeErrors,
      bookApplied: sum(s?.applied),
      bookGaps: sum(s?.gaps),
      bookResyncs: sum(s?.resyncs),
      bookDroppedStale: sum(s?.droppedStale),
      bookSnapshots: sum(s?.snapshots),
      bookSnapshotFailures: sum(s?.snapshotFailures),
      bookStaleEvents: this.staleEvents,
      bookReemits: this.reemits,
      booksLive: live,
    };
  }
}

/** The monotonic id a record type carries (for dropping duplicates while two connections overlap). */
function dedupId(f64: Float64Array, base: number, type: number): number {
  switch (type) {
    case RecordType.BookTicker:
      return f64[base + BT.UPDATE_ID]!;
    case RecordType.AggTrade:
    case RecordType.Trade:
      return f64[base + AT.TRADE_ID]!;
    default:
      // markPrice, forceOrder, kline: event time (word 3 in each layout)
      return f64[base + 3]!;
  }
}

/** Combined-stream URL for the configured symbols and stream kinds (legacy root; tests and the bench baseline). */
export function combinedStreamUrl(wsBase: string, symbols: readonly string[], streams: readonly string[]): string {
  return `${wsBase.replace(/\/$/, '')}/stream?streams=${streamNames(symbols, streams).join('/')}`;
}

