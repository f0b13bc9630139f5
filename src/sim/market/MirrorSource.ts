import { request } from 'undici';
import { BookSync, L2BookSink } from '../../book/BookSync.js';
import type { L2Book } from '../../book/L2Book.js';
import { ByteScanner, Ch, ascii, bytesEqual } from '../../core/ByteScanner.js';
import { SymbolRegistry } from '../../core/SymbolRegistry.js';
import { MarketConnection, type FrameSink } from '../../feed/MarketConnection.js';
import { ArraySlotWriter } from '../../ring/SlotWriter.js';
import { AT, BT, BookState, DEPTH, DEPTH_LEVELS_PER_RECORD, MARKET_SLOT_BYTES, RecordFlag, RecordType, depthAskMask, depthLevels, headerCount, headerFlags, headerType } from '../../ring/layout.js';
import { nowNs } from '../../util/clock.js';
import { BinanceMarketDecoder, isMalformedStatus } from '../../venues/binance/MarketDecoder.js';
import { parseDepthSnapshot } from '../../venues/binance/recording.js';
import { marketConnections, streamNames, type BinanceWsRouting } from '../../venues/binance/streamRouting.js';
import { resolveInstruments, type Instrument, type InstrumentSpec } from '../instruments.js';
import { FrameKind, type ReplayFrame } from './ReplaySource.js';
import type { BookTop, DepthEvent, DepthSnapshot, MarketEvent, MarketEventKind, MarketSource, Side, TakeResult } from './types.js';

/**
 * A market source that mirrors a real Binance USDⓈ-M venue's public market data (shadow mode): the
 * simulator's book is the venue's book, the venue's frames go to the simulator's own subscribers as they
 * were received, and orders sent to the simulator fill through its matching engine (aggressive orders walk
 * the mirrored book, resting orders wait with their queue-position estimate) without ever reaching the venue.
 *
 * Intake reuses the engine's feed parts: MarketConnection (routing, reconnect, 24 h rotation), the byte
 * decoder, BookSync (buffer, REST snapshot, first-event rule, `pu` chain, resync) and L2Book. Like a replay,
 * simulated fills have no market impact: the venue's book goes on as the venue publishes it.
 */

/** `BinanceVenueOptions.source` for a mirror. */
export interface MirrorSourceOptions {
  kind: 'mirror';
  /** The real venue's REST base (exchangeInfo, depth snapshots), e.g. https://fapi.binance.com. */
  restUrl: string;
  /** The real venue's market-data WebSocket base, e.g. wss://fstream.binance.com. */
  wsUrl: string;
  /** Stream kinds mirrored per symbol (the kinds the simulator's subscribers will ask for). Default DEFAULT_MIRROR_STREAMS. */
  streams?: readonly string[];
  /** 'split' (the 2026 `/public` + `/market` paths, default) or 'legacy' (the root, testnet). */
  routing?: BinanceWsRouting;
  /** REST depth snapshot size. Default 1000. */
  snapshotLimit?: number;
  /**
   * `MirrorSource.open` fails when the books are not in sync with the venue within this. Default 10 000 ms
   * (under the engine's 15 s wait for the simulator, so the reason reaches its log).
   */
  readyTimeoutMs?: number;
}

export const DEFAULT_MIRROR_STREAMS: readonly string[] = ['bookTicker', 'aggTrade', 'depth@100ms'];

export interface MirrorStats {
  restUrl: string;
  wsUrl: string;
  /** Stream names mirrored. */
  streams: string[];
  /** Frames received from the venue, decoded events, frames handed to the simulator's subscribers. */
  frames: number;
  events: number;
  forwarded: number;
  decodeErrors: number;
  /** Frames of a stream the mirror did not ask for (not forwarded). */
  unknownStreams: number;
  duplicatesDropped: number;
  connects: number;
  reconnects: number;
  /** Depth sync with the venue, all symbols together. */
  depthApplied: number;
  gaps: number;
  resyncs: number;
  snapshots: number;
  snapshotFailures: number;
  booksLive: number;
}

/** Called for each received frame once the mirrored book includes it (the venue dialect sends it on). */
export type MirrorFrameHandler = (frame: ReplayFrame) => void;

const STAGING_SLOTS = 1024;
const DIFF_DEPTH = /^depth(@\d+ms)?$/;
const LIT_STREAM = ascii('stream');
const LIT_DATA = ascii('data');
/** Dedup slots per symbol: bookTicker u, trade id, depth u. */
const DEDUP_KINDS = 3;

interface Ticker {
  u: number;
  bid: number;
  bidQty: number;
  ask: number;
  askQty: number;
}

/**
 * Instrument specs of the symbols from the venue's exchangeInfo (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE,
 * MIN_NOTIONAL as printed), so the simulator enforces the venue's own grid and limits.
 */
export async function fetchMirrorSpecs(restUrl: string, symbols: readonly string[]): Promise<InstrumentSpec[]> {
  const url = `${restUrl.replace(/\/+$/, '')}/fapi/v1/exchangeInfo`;
  let res: Awaited<ReturnType<typeof request>>;
  let body: string;
  try {
    res = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    body = await res.body.text();
  } catch (e) {
    throw new Error(`mirror: cannot read ${url}: ${(e as Error).message}`);
  }
  if (res.statusCode !== 200) throw new Error(`mirror: exchangeInfo from ${restUrl}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
  const info = JSON.parse(body) as { symbols?: unknown };
  const list = Array.isArray(info.symbols) ? (info.symbols as Array<Record<string, unknown>>) : [];
  return symbols.map((name) => {
    const s = list.find((x) => x['symbol'] === name);
    if (s === undefined) throw new Error(`mirror: symbol ${name} is not listed by ${restUrl}/fapi/v1/exchangeInfo`);
    const filters = Array.isArray(s['filters']) ? (s['filters'] as Array<Record<string, unknown>>) : [];
    const filter = (type: string): Record<string, unknown> => filters.find((f) => f['filterType'] === type) ?? {};
    const text = (o: Record<string, unknown>, key: string, what: string): string => {
      const v = o[key];
      if (typeof v !== 'string' || !/^\d+(\.\d+)?$/.test(v)) throw new Error(`mirror: ${name}: exchangeInfo has no ${what} (${key})`);
      return v;
    };
    const price = filter('PRICE_FILTER');
    const lot = filter('LOT_SIZE');
    const marketLot = filter('MARKET_LOT_SIZE');
    const notional = filter('MIN_NOTIONAL');
    const tickSize = text(price, 'tickSize', 'PRICE_FILTER');
    const minQty = text(lot, 'minQty', 'LOT_SIZE');
    return {
      symbol: name,
      baseAsset: typeof s['baseAsset'] === 'string' ? s['baseAsset'] : name,
      quoteAsset: typeof s['quoteAsset'] === 'string' ? s['quoteAsset'] : 'USDT',
      tickSize,
      stepSize: text(lot, 'stepSize', 'LOT_SIZE'),
      minPrice: text(price, 'minPrice', 'PRICE_FILTER'),
      maxPrice: text(price, 'maxPrice', 'PRICE_FILTER'),
      minQty,
      maxQty: text(lot, 'maxQty', 'LOT_SIZE'),
      ...(typeof marketLot['maxQty'] === 'string' ? { marketMaxQty: marketLot['maxQty'] } : {}),
      minNotional: typeof notional['notional'] === 'string' ? notional['notional'] : '0',
      // Only a synthetic market reads these two; the mirror's prices and sizes come from the venue.
      initialPrice: tickSize,
      typicalLevelQty: minQty,
    };
  });
}

export class MirrorSource implements MarketSource, FrameSink {
  readonly instruments: readonly Instrument[];
  /** Stream names the mirror subscribes to (lower-case symbol, kind as given); frames refer to them by index. */
  readonly streams: readonly string[];
  private readonly bySymbol = new Map<string, number>();
  private readonly streamIds = new Map<string, number>();
  private readonly decoder: BinanceMarketDecoder;
  private readonly staging = new ArraySlotWriter(MARKET_SLOT_BYTES, STAGING_SLOTS);
  private readonly depth: L2BookSink;
  private readonly sync: BookSync | null;
  private readonly connections: MarketConnection[];
  private readonly tickers: Ticker[];
  /** Per instrument: 10^decimals, to turn the decoder's float prices and quantities back into ticks and steps. */
  private readonly priceScale: number[];
  private readonly qtyScale: number[];
  private readonly lastIds: Float64Array;
  private readonly fetching: Uint8Array;
  private readonly snapshotTimers = new Set<NodeJS.Timeout>();
  private readonly sc = new ByteScanner();
  private readonly restBase: string;
  private readonly snapshotLimit: number;
  private handler: MirrorFrameHandler | null = null;
  private stopped = false;
  private lastError = '';
  /** The depth event being collected across its records. */
  private depthEv: DepthEvent | null = null;
  private readonly counters = { frames: 0, events: 0, forwarded: 0, decodeErrors: 0, unknownStreams: 0, duplicatesDropped: 0 };

  private constructor(
    private readonly opts: MirrorSourceOptions,
    instruments: readonly Instrument[],
  ) {
    this.instruments = instruments;
    const names = instruments.map((i) => i.symbol);
    names.forEach((n, i) => this.bySymbol.set(n, i));
    this.priceScale = instruments.map((i) => 10 ** i.priceDecimals);
    this.qtyScale = instruments.map((i) => 10 ** i.qtyDecimals);
    const kinds = opts.streams && opts.streams.length > 0 ? opts.streams : DEFAULT_MIRROR_STREAMS;
    this.streams = streamNames(names, kinds);
    this.streams.forEach((s, i) => this.streamIds.set(s.toLowerCase(), i));
    this.restBase = opts.restUrl.replace(/\/+$/, '');
    this.snapshotLimit = opts.snapshotLimit ?? 1000;
    const n = instruments.length;
    this.decoder = new BinanceMarketDecoder(new SymbolRegistry(names), nowNs);
    this.depth = new L2BookSink(n);
    this.tickers = instruments.map(() => ({ u: -1, bid: -1, bidQty: 0, ask: -1, askQty: 0 }));
    this.lastIds = new Float64Array(n * DEDUP_KINDS).fill(-Infinity);
    this.fetching = new Uint8Array(n);
    this.sync = kinds.some((k) => DIFF_DEPTH.test(k))
      ? new BookSync(n, this.depth, { maxResyncs: 6, resyncWindowMs: 60_000, backoffBaseMs: 250, requestSnapshot: (sym, delayMs) => this.scheduleSnapshot(sym, delayMs) })
      : null;
    const specs = marketConnections(opts.wsUrl, this.streams, opts.routing ?? 'split', 'url');
    const connOpts = { ws: { backoff: { initialMs: 100, maxMs: 10_000, jitter: 0.3 } }, subscriptions: { maxPerSecond: 4 }, rotateAfterMs: 23 * 3600_000 };
    this.connections = specs.map((spec) => new MarketConnection(spec, this, connOpts));
  }

  /**
   * Reads the symbols' rules from the venue, connects to its streams, and resolves once every symbol's book
   * is in sync with the venue (depth Live, a best bid and ask known). Throws (after closing) otherwise.
   */
  static async open(opts: MirrorSourceOptions, symbols: readonly string[]): Promise<MirrorSource> {
    const specs = await fetchMirrorSpecs(opts.restUrl, symbols);
    const m = new MirrorSource(opts, resolveInstruments(specs));
    for (const c of m.connections) c.start();
    try {
      await m.whenReady(opts.readyTimeoutMs ?? 10_000);
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  /** From now on, every received frame goes to `handler` after the mirrored book took it in. */
  attach(handler: MirrorFrameHandler): void {
    this.handler = handler;
  }

  close(): void {
    this.stopped = true;
    this.handler = null;
    for (const c of this.connections) c.stop();
    for (const t of this.snapshotTimers) clearTimeout(t);
    this.snapshotTimers.clear();
  }

  /** Every symbol in sync with the venue: its depth book Live (when depth is mirrored) and both sides known. */
  ready(): boolean {
    for (let s = 0; s < this.instruments.length; s++) {
      if (this.sync !== null && this.sync.state(s) !== BookState.Live) return false;
      const t = this.top(s);
      if (t.bid < 0 || t.ask < 0) return false;
    }
    return true;
  }

  private async whenReady(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.ready()) {
      if (Date.now() > end) {
        const waiting = this.instruments.filter((i) => (this.sync !== null && this.sync.state(i.idx) !== BookState.Live) || this.top(i.idx).bid < 0).map((i) => i.symbol);
        throw new Error(`mirror: no book in sync with ${this.opts.wsUrl} within ${timeoutMs} ms for ${waiting.join(', ')}${this.lastError ? ` (last error: ${this.lastError})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stats(): MirrorStats {
    const s = this.sync;
    const sum = (a: Float64Array | undefined): number => (a ? a.reduce((x, y) => x + y, 0) : 0);
    let live = 0;
    for (let i = 0; i < this.instruments.length; i++) if (s === null || s.state(i) === BookState.Live) live++;
    let connects = 0;
    let reconnects = 0;
    for (const c of this.connections) {
      connects += c.ws.connects;
      reconnects += c.ws.reconnects;
    }
    return {
      restUrl: this.opts.restUrl,
      wsUrl: this.opts.wsUrl,
      streams: [...this.streams],
      ...this.counters,
      connects,
      reconnects,
      depthApplied: sum(s?.applied),
      gaps: sum(s?.gaps),
      resyncs: sum(s?.resyncs),
      snapshots: sum(s?.snapshots),
      snapshotFailures: sum(s?.snapshotFailures),
      booksLive: live,
    };
  }

  // ---- FrameSink: the venue's frames ---------------------------------------------------------------

  frame(buf: Buffer, start: number, end: number, recvTs: number, dedup: boolean): number {
    this.counters.frames++;
    const st = this.staging;
    st.reset();
    const n = this.decoder.decode(buf, start, end, recvTs, st);
    if (n < 0) {
      if (isMalformedStatus(n)) this.counters.decodeErrors++;
      return n;
    }
    const f64 = st.f64;
    const i32 = st.i32;
    const words = st.slotWords;
    // While two connections overlap (rotation) the same frame arrives twice: keep the first.
    if (dedup && n > 0 && this.isRepeat(f64, i32, 0)) {
      this.counters.duplicatesDropped++;
      return n;
    }
    let event: MarketEvent | null = null;
    for (let r = 0; r < n; r++) {
      const ev = this.onRecord(f64, i32, r * words);
      if (ev !== null) {
        this.counters.events++;
        // One event per frame on the per-symbol streams mirrored here; the first one drives the matching.
        event ??= ev;
      }
    }
    if (event !== null) this.noteId(event);
    const h = this.handler;
    if (h !== null) this.forward(h, buf, start, end, event);
    return n;
  }

  beginOverlap(): void {
    // the last ids are always tracked
  }

  status(conn: MarketConnection, event: 'open' | 'close' | 'rotated' | 'rotation-failed', detail: string): void {
    if (event === 'close' || event === 'rotation-failed') this.lastError = `${conn.spec.base}: ${detail}`;
    // Continuity may be lost with a depth connection: the next event either chains or resyncs.
    if (event === 'close' && this.sync !== null && conn.spec.streams.some((s) => DIFF_DEPTH.test(s.slice(s.indexOf('@') + 1)))) {
      for (let s = 0; s < this.instruments.length; s++) this.sync.markStale(s);
    }
  }

  /** Applies one decoded record to the mirrored book; returns the event it completes, if any. */
  private onRecord(f64: Float64Array, i32: Int32Array, base: number): MarketEvent | null {
    const h = i32[base * 2]!;
    const sym = i32[base * 2 + 1]!;
    if (sym < 0 || sym >= this.instruments.length) return null;
    const type = headerType(h);
    if (type === RecordType.BookTicker) {
      const t = this.tickers[sym]!;
      t.u = f64[base + BT.UPDATE_ID]!;
      t.bid = this.ticks(sym, f64[base + BT.BID]!);
      t.bidQty = this.steps(sym, f64[base + BT.BID_QTY]!);
      t.ask = this.ticks(sym, f64[base + BT.ASK]!);
      t.askQty = this.steps(sym, f64[base + BT.ASK_QTY]!);
      return { kind: 'bookTicker', sym, u: t.u, bid: t.bid, bidQty: t.bidQty, ask: t.ask, askQty: t.askQty, time: f64[base + BT.EVENT_TIME]! };
    }
    if (type === RecordType.AggTrade || type === RecordType.Trade) {
      const id = f64[base + AT.TRADE_ID]!;
      return {
        kind: 'trade',
        sym,
        id,
        firstTradeId: type === RecordType.AggTrade ? f64[base + AT.FIRST_ID]! : id,
        lastTradeId: type === RecordType.AggTrade ? f64[base + AT.LAST_ID]! : id,
        price: this.ticks(sym, f64[base + AT.PRICE]!),
        qty: this.steps(sym, f64[base + AT.QTY]!),
        buyerMaker: f64[base + AT.BUYER_MAKER] === 1,
        time: f64[base + AT.TRADE_TIME]!,
      };
    }
    if (type !== RecordType.Depth || this.sync === null) return null;
    const flags = headerFlags(h);
    if ((flags & RecordFlag.Snapshot) !== 0) return null;
    if ((flags & RecordFlag.First) !== 0) {
      this.depthEv = {
        kind: 'depth',
        sym,
        U: f64[base + DEPTH.FIRST_UPDATE_ID]!,
        u: f64[base + DEPTH.FINAL_UPDATE_ID]!,
        pu: f64[base + DEPTH.PREV_UPDATE_ID]!,
        bids: [],
        asks: [],
        time: f64[base + DEPTH.EVENT_TIME]!,
      };
    }
    const ev = this.depthEv;
    if (ev !== null && ev.sym === sym) {
      const count = headerCount(h);
      const levels = Math.min(depthLevels(count), DEPTH_LEVELS_PER_RECORD);
      const askMask = depthAskMask(count);
      for (let j = 0; j < levels; j++) {
        const w = base + DEPTH.LEVELS + 2 * j;
        const side = ((askMask >>> j) & 1) !== 0 ? ev.asks : ev.bids;
        side.push(this.ticks(sym, f64[w]!), this.steps(sym, f64[w + 1]!));
      }
    }
    const action = this.sync.onRecord(f64, i32, base);
    // The first buffered event of a symbol without a snapshot: fetch it now (the stream already buffers).
    if (action === 2 /* Buffered */ && this.sync.snapshotWanted(sym) && this.fetching[sym] === 0) this.scheduleSnapshot(sym, 0);
    if ((flags & RecordFlag.Last) === 0 || ev === null) return null;
    this.depthEv = null;
    sortLevels(ev.bids);
    sortLevels(ev.asks);
    return ev;
  }

  /** Hands the frame on as received: the combined envelope, and its `data` value for raw subscribers. */
  private forward(h: MirrorFrameHandler, buf: Buffer, start: number, end: number, event: MarketEvent | null): void {
    const env = this.envelope(buf, start, end);
    if (env === null) {
      this.counters.unknownStreams++;
      return;
    }
    const streamId = this.streamIds.get(buf.toString('latin1', env.ss, env.se).toLowerCase());
    if (streamId === undefined) {
      this.counters.unknownStreams++;
      return;
    }
    const kind = event === null ? FrameKind.Other : event.kind === 'bookTicker' ? FrameKind.BookTicker : event.kind === 'trade' ? FrameKind.Trade : FrameKind.Depth;
    const frame: ReplayFrame = {
      type: 0,
      ts: Date.now() / 1000,
      streamId,
      sym: event !== null ? event.sym : -1,
      text: buf.toString('utf8', start, end),
      combined: true,
      data: buf.toString('utf8', env.ds, env.de),
      event,
      kind,
    };
    this.counters.forwarded++;
    h(frame);
  }

  /** Byte ranges of the `stream` name and the `data` value of a combined-stream frame, or null. */
  private envelope(buf: Buffer, start: number, end: number): { ss: number; se: number; ds: number; de: number } | null {
    const sc = this.sc;
    sc.reset(buf, end);
    let i = sc.ws(start);
    if (sc.at(i) !== Ch.LBrace) return null;
    i = sc.ws(i + 1);
    let ss = -1;
    let se = -1;
    let ds = -1;
    let de = -1;
    for (;;) {
      i = sc.string(i);
      if (i < 0) return null;
      const ks = sc.strStart;
      const ke = sc.strEnd;
      i = sc.ws(i);
      if (sc.at(i) !== Ch.Colon) return null;
      const v0 = sc.ws(i + 1);
      if (bytesEqual(buf, ks, ke, LIT_STREAM)) {
        i = sc.string(v0);
        if (i < 0) return null;
        ss = sc.strStart;
        se = sc.strEnd;
      } else {
        i = sc.skipValue(v0, 0);
        if (i < 0) return null;
        if (bytesEqual(buf, ks, ke, LIT_DATA)) {
          ds = v0;
          de = i;
        }
      }
      i = sc.ws(i);
      const c = sc.at(i);
      if (c === Ch.RBrace) break;
      if (c !== Ch.Comma) return null;
      i = sc.ws(i + 1);
    }
    return ss >= 0 && ds >= 0 ? { ss, se, ds, de } : null;
  }

  private dedupSlot(ev: MarketEvent): number {
    return ev.sym * DEDUP_KINDS + (ev.kind === 'bookTicker' ? 0 : ev.kind === 'trade' ? 1 : 2);
  }

  private noteId(ev: MarketEvent): void {
    this.lastIds[this.dedupSlot(ev)] = ev.kind === 'trade' ? ev.id : ev.u;
  }

  /** Whether the frame's first record repeats an id already taken in (an overlapping connection's copy). */
  private isRepeat(f64: Float64Array, i32: Int32Array, base: number): boolean {
    const sym = i32[base * 2 + 1]!;
    if (sym < 0 || sym >= this.instruments.length) return false;
    const type = headerType(i32[base * 2]!);
    let slot: number;
    let id: number;
    if (type === RecordType.BookTicker) {
      slot = 0;
      id = f64[base + BT.UPDATE_ID]!;
    } else if (type === RecordType.AggTrade || type === RecordType.Trade) {
      slot = 1;
      id = f64[base + AT.TRADE_ID]!;
    } else if (type === RecordType.Depth) {
      slot = 2;
      id = f64[base + DEPTH.FINAL_UPDATE_ID]!;
    } else return false;
    return id <= this.lastIds[sym * DEDUP_KINDS + slot]!;
  }

  // ---- depth snapshots from the venue ------------------------------------------------------------------

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
    const name = this.instruments[sym]!.symbol;
    try {
      const res = await request(`${this.restBase}/fapi/v1/depth?symbol=${name}&limit=${this.snapshotLimit}`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
      const body = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
      const snap = parseDepthSnapshot(body);
      this.fetching[sym] = 0;
      if (this.stopped) return;
      sync.onSnapshot(sym, snap.lastUpdateId, snap.bids, snap.asks, nowNs());
    } catch (e) {
      this.fetching[sym] = 0;
      if (this.stopped) return;
      this.lastError = `depth snapshot ${name}: ${(e as Error).message}`;
      sync.snapshotFailed(sym, nowNs());
    }
  }

  // ---- MarketSource --------------------------------------------------------------------------------

  instrument(symbol: string): Instrument | undefined {
    const i = this.bySymbol.get(symbol);
    return i === undefined ? undefined : this.instruments[i];
  }

  /** The bookTicker while it is at least as recent as the depth book (it is real time; depth is batched). */
  top(sym: number): BookTop {
    const t = this.tickers[sym];
    if (t === undefined) throw new Error(`MirrorSource: unknown symbol index ${sym}`);
    const b = this.book(sym);
    if (t.u >= 0 && (t.u >= b.lastUpdateId || (b.bidLevels === 0 && b.askLevels === 0))) return { u: t.u, bid: t.bid, bidQty: t.bidQty, ask: t.ask, askQty: t.askQty };
    return {
      u: Math.max(0, b.lastUpdateId),
      bid: b.bidLevels > 0 ? this.ticks(sym, b.bestBid) : -1,
      bidQty: b.bidLevels > 0 ? this.steps(sym, b.bestBidQty) : 0,
      ask: b.askLevels > 0 ? this.ticks(sym, b.bestAsk) : -1,
      askQty: b.askLevels > 0 ? this.steps(sym, b.bestAskQty) : 0,
    };
  }

  /**
   * The depth book alone as of its last applied event (`lastUpdateId` = that event's `u`): a subscriber of
   * the forwarded depth stream holds that event, which straddles the id as the book procedure requires.
   */
  snapshot(sym: number, limit: number, now: number): DepthSnapshot {
    const b = this.book(sym);
    if (this.sync === null) {
      // no depth mirrored: the best bid and ask are the whole book
      const t = this.top(sym);
      return { lastUpdateId: Math.max(0, t.u), time: now, bids: t.bid >= 0 ? [[t.bid, t.bidQty]] : [], asks: t.ask >= 0 ? [[t.ask, t.askQty]] : [] };
    }
    const bids: Array<[number, number]> = [];
    const asks: Array<[number, number]> = [];
    for (let i = 0; i < b.bidLevels && i < limit; i++) bids.push([this.ticks(sym, b.bidPrice(i)), this.steps(sym, b.bidQty(i))]);
    for (let i = 0; i < b.askLevels && i < limit; i++) asks.push([this.ticks(sym, b.askPrice(i)), this.steps(sym, b.askQty(i))]);
    return { lastUpdateId: Math.max(0, b.lastUpdateId), time: now, bids, asks };
  }

  levels(sym: number, n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    const bids: Array<[number, number]> = [];
    const asks: Array<[number, number]> = [];
    this.walk(sym, true, (t, q) => bids.push([t, q]) < n);
    this.walk(sym, false, (t, q) => asks.push([t, q]) < n);
    return { bids, asks };
  }

  available(sym: number, takerSide: Side, maxQty: number, limitPrice: number | null): number {
    let got = 0;
    this.walk(sym, takerSide === 'SELL', (t, q) => {
      if (limitPrice !== null && (takerSide === 'BUY' ? t > limitPrice : t < limitPrice)) return false;
      got += q;
      return got < maxQty;
    });
    return Math.min(got, maxQty);
  }

  /** Fills against the mirrored book without changing it (no market impact) and without public events. */
  take(sym: number, takerSide: Side, qty: number, limitPrice: number | null, _now: number): TakeResult {
    const res: TakeResult = { fills: [], filled: 0, events: [] };
    let left = qty;
    this.walk(sym, takerSide === 'SELL', (t, q) => {
      if (limitPrice !== null && (takerSide === 'BUY' ? t > limitPrice : t < limitPrice)) return false;
      const f = Math.min(left, q);
      left -= f;
      res.fills.push({ price: t, qty: f });
      return left > 0;
    });
    res.filled = qty - left;
    return res;
  }

  next(_sym: number, _kind: MarketEventKind, _now: number): MarketEvent {
    throw new Error('MirrorSource: a mirror does not generate events (the venue must not run its scheduler on it)');
  }

  discardDepth(_sym: number): void {
    // nothing is pending: frames go out as the venue sent them
  }

  /**
   * Levels of one side from the best: the top of `top()` first, then the depth book behind it, until
   * `visit` returns false.
   */
  private walk(sym: number, isBid: boolean, visit: (tick: number, qty: number) => boolean): void {
    const t = this.top(sym);
    const best = isBid ? t.bid : t.ask;
    const bestQty = isBid ? t.bidQty : t.askQty;
    if (best >= 0 && bestQty > 0 && !visit(best, bestQty)) return;
    const b = this.book(sym);
    const n = isBid ? b.bidLevels : b.askLevels;
    for (let i = 0; i < n; i++) {
      const tick = this.ticks(sym, isBid ? b.bidPrice(i) : b.askPrice(i));
      if (best >= 0 && (isBid ? tick >= best : tick <= best)) continue;
      if (!visit(tick, this.steps(sym, isBid ? b.bidQty(i) : b.askQty(i)))) return;
    }
  }

  private book(sym: number): L2Book {
    const b = this.depth.books[sym];
    if (b === undefined) throw new Error(`MirrorSource: unknown symbol index ${sym}`);
    return b;
  }

  /** A decoded price in ticks of the symbol (the venue prints it on its own grid). */
  private ticks(sym: number, price: number): number {
    return Math.round(Math.round(price * this.priceScale[sym]!) / this.instruments[sym]!.tickUnits);
  }

  private steps(sym: number, qty: number): number {
    return Math.round(Math.round(qty * this.qtyScale[sym]!) / this.instruments[sym]!.stepUnits);
  }
}

/** Flat [tick, qty, ...] pairs in ascending price order (the DepthEvent layout). */
function sortLevels(flat: number[]): void {
  if (flat.length <= 2) return;
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  flat.length = 0;
  for (const [t, q] of pairs) flat.push(t, q);
}
