import { readFileSync } from 'node:fs';
import { ByteScanner, Ch, ascii, bytesEqual } from '../../core/ByteScanner.js';
import { decimalsOf, formatScaled, parseScaled } from '../../core/decimal.js';
import { RecordingReader, RecordingSource, restSymbol } from '../../venues/binance/recording.js';
import { resolveInstruments, type Instrument, type InstrumentSpec } from '../instruments.js';
import type { BookTop, DepthSnapshot, MarketEvent, MarketEventKind, MarketSource, Side, TakeResult } from './types.js';
import { TimelinePlayer, type ReplaySink as GenericReplaySink, type ReplayStats } from './ReplayPlayer.js';
import { ReplayBooks, recordedBook, recordedBookBody, type RecordedBook } from './ReplayBook.js';
import { DECIMAL_RE, KeptLines, deriveTick, isRec, lineJson, medianOr1, notePrice, updateLevels, type PricesSeen, type LevelReader } from './recordingLines.js';
import type { ReplayLoadStats, ReplayOptions } from './replayOptions.js';

/**
 * Replay of a recording in the shared recordings format (fixtures/MANIFEST.md, "recordings": one JSON object
 * per line, `{"ts","src","url","msg"}` with `msg` byte-exact) as a market source of the simulated venue.
 *
 * - `ReplaySource` loads the file once (the shared recordings are a few MB), keeps every recorded ws frame as
 *   its exact text, and implements `MarketSource` over a book rebuilt from the replayed data, so orders placed
 *   during a replay execute through the venue core against what the recording shows at that moment.
 * - `ReplayPlayer` walks the timeline at a speed (0 = as fast as the subscribers read, 1 = real time by the
 *   recording's `ts`, N = N times faster) and hands each frame to the venue dialect, which sends the recorded
 *   bytes to the subscribers of that stream.
 *
 * Payloads are Binance USDⓈ-M market-data frames (combined `{"stream","data"}` envelope or raw); the REST
 * depth snapshots of the recording (`rest` lines) answer the venue's depth endpoint.
 */

/** `BinanceVenueOptions.source` for a replay (Binance USDⓈ-M payloads). */
export type ReplaySourceOptions = ReplayOptions;
export type { ReplayLoadStats };
export { STALE_SNAPSHOT_EVENTS } from './ReplayBook.js';

/** What a replayed frame carries (counts per kind in the venue stats). */
export const enum FrameKind {
  Other = 0,
  BookTicker = 1,
  Trade = 2,
  Depth = 3,
}

/** One recorded market-data frame. */
export interface ReplayFrame {
  readonly type: 0;
  /** Recorder receive time, unix seconds. */
  readonly ts: number;
  /** Index into `ReplaySource.streams` (the stream name as recorded). */
  readonly streamId: number;
  /** Instrument index, -1 when the frame names no known symbol. */
  readonly sym: number;
  /** The recorded payload, byte-exact (as text). */
  readonly text: string;
  /** Recorded in the combined envelope: `data` is then the envelope's `data` value, else `data === text`. */
  readonly combined: boolean;
  readonly data: string;
  /** The payload as a venue-neutral event in ticks and steps (book, fills, triggers), or null. */
  readonly event: MarketEvent | null;
  readonly kind: FrameKind;
}

/** One recorded REST depth snapshot (`GET /fapi/v1/depth`). */
export interface ReplaySnapshot extends RecordedBook {
  readonly type: 1;
  readonly ts: number;
  readonly lastUpdateId: number;
  readonly time: number;
}

export type ReplayItem = ReplayFrame | ReplaySnapshot;

const LIT_STREAM = ascii('stream');
const LIT_DATA = ascii('data');
const QUOTES = ['USDT', 'BUSD', 'USDC', 'FDUSD', 'USD', 'BTC', 'ETH'];

interface ParsedWs {
  ts: number;
  stream: string;
  text: string;
  data: string;
  combined: boolean;
  payload: unknown;
}

interface ParsedRest {
  ts: number;
  symbol: string;
  body: string;
  payload: Record<string, unknown>;
}

/** Per symbol: the decimal strings seen, to derive tick and step. */
interface SymbolSeen extends PricesSeen {
  /** `prices`: of the stream (top of book, trades, depth changes). */
  /**
   * Prices of REST snapshots: only their decimals count. Deep levels of a real snapshot can sit off the
   * current tick (orders from before a tick-size change: CTKUSDT 2021-07-22 has 0.50579 under tick 0.001).
   */
  deepPrices: Set<string>;
  qtys: Set<string>;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
}

/**
 * The stream of a raw (not enveloped) frame: the only stream of a `/ws/<name>` url, else the url's stream of
 * the payload's kind and symbol, else the venue's default name for that kind. null for non-market frames.
 */
export function rawStreamName(payload: unknown, url: string): string | null {
  const list = urlStreams(url);
  if (Array.isArray(payload)) {
    return list.find((n) => n.toLowerCase().startsWith('!markprice@arr')) ?? (payload.length > 0 && isRec(payload[0]) && payload[0]['e'] === 'markPriceUpdate' ? '!markPrice@arr' : null);
  }
  if (!isRec(payload)) return null;
  const e = str(payload['e']);
  if (e === null) return null;
  let s = str(payload['s']);
  if (e === 'forceOrder' && isRec(payload['o'])) s = str(payload['o']['s']);
  if (s === null) return null;
  const sym = s.toLowerCase();
  if (list.length === 1 && list[0]!.toLowerCase().startsWith(sym + '@')) return list[0]!;
  const pick = (prefix: string, dflt: string): string => list.find((n) => n.toLowerCase().startsWith(prefix.toLowerCase())) ?? dflt;
  switch (e) {
    case 'bookTicker':
      return `${sym}@bookTicker`;
    case 'aggTrade':
      return `${sym}@aggTrade`;
    case 'trade':
      return `${sym}@trade`;
    case 'depthUpdate':
      return pick(`${sym}@depth`, `${sym}@depth`);
    case 'kline':
      return isRec(payload['k']) && typeof payload['k']['i'] === 'string' ? `${sym}@kline_${payload['k']['i']}` : null;
    case 'markPriceUpdate':
      return pick(`${sym}@markPrice`, `${sym}@markPrice`);
    case 'forceOrder':
      return pick(`${sym}@forceOrder`, list.find((n) => n === '!forceOrder@arr') ?? `${sym}@forceOrder`);
    default:
      return null;
  }
}

/** Stream names of a market-data url: `streams=a/b` or `/ws/a/b`. */
function urlStreams(url: string): string[] {
  const q = /[?&]streams=([^&#]+)/.exec(url);
  const p = q ? q[1]! : (/\/ws\/([^?#]+)/.exec(url)?.[1] ?? '');
  let list = p;
  try {
    list = decodeURIComponent(p);
  } catch {
    // keep it as it is
  }
  return list.split('/').filter((x) => x.length > 0);
}

/** Partial-depth streams (`@depth5`, `@depth20@100ms`) carry top-N snapshots, not diffs. */
function isPartialDepth(stream: string): boolean {
  return /@depth(5|10|20)(@\d+ms)?$/i.test(stream);
}

/** Byte range of the `data` value and the `stream` string of a combined envelope, or null if it is not one. */
function envelopeRange(sc: ByteScanner, buf: Uint8Array, start: number, end: number): { ds: number; de: number } | null {
  sc.reset(buf, end);
  let i = sc.ws(start);
  if (sc.at(i) !== Ch.LBrace) return null;
  i = sc.ws(i + 1);
  let ds = -1;
  let de = -1;
  let sawStream = false;
  for (;;) {
    i = sc.string(i);
    if (i < 0) return null;
    const ks = sc.strStart;
    const ke = sc.strEnd;
    i = sc.ws(i);
    if (sc.at(i) !== Ch.Colon) return null;
    i = sc.ws(i + 1);
    const v0 = i;
    i = sc.skipValue(i, 0);
    if (i < 0) return null;
    if (bytesEqual(buf, ks, ke, LIT_DATA)) {
      ds = v0;
      de = i;
    } else if (bytesEqual(buf, ks, ke, LIT_STREAM)) sawStream = buf[v0] === Ch.Quote;
    i = sc.ws(i);
    const c = sc.at(i);
    if (c === Ch.RBrace) break;
    if (c !== Ch.Comma) return null;
    i = sc.ws(i + 1);
  }
  return sawStream && ds >= 0 ? { ds, de } : null;
}

/**
 * A recording loaded for replay, and the `MarketSource` over the book it rebuilds. The replayed book is not
 * changed by simulated fills (no market impact: the recording goes on as recorded), and takes produce no
 * public events, so the replayed streams stay exactly the recorded ones.
 */
export class ReplaySource implements MarketSource {
  readonly instruments: readonly Instrument[];
  /** Distinct stream names as recorded; frames refer to them by index. */
  readonly streams: readonly string[];
  /** Frames and snapshots in file order. */
  readonly items: readonly ReplayItem[];
  readonly frameCount: number;
  readonly loadStats: ReplayLoadStats;
  private readonly bySymbol = new Map<string, number>();
  private readonly books: ReplayBooks<ReplaySnapshot>;
  /** Replay clock: `ts` of the last item applied (NaN before the first). */
  clockTs = NaN;

  private constructor(file: string) {
    const bytes = readFileSync(file);
    const reader = RecordingReader.fromBytes(bytes);
    const sc = new ByteScanner();
    const kept = new KeptLines<ParsedWs, ParsedRest>();
    const { ws, rest } = kept;
    const load: ReplayLoadStats = { frames: 0, snapshots: 0, skippedFrames: 0, outgoing: 0, malformedLines: 0 };
    for (const line of reader) {
      if (line.src === RecordingSource.WsOut) {
        load.outgoing++;
        continue;
      }
      if (line.src === RecordingSource.Rest) {
        const symbol = restSymbol(line.url);
        if (!line.url.includes('/depth') || symbol === '') continue;
        const j = lineJson(bytes, line);
        if (j === null || !isRec(j.payload) || typeof j.payload['lastUpdateId'] !== 'number') continue;
        kept.snapshot({ ts: line.ts, symbol, body: j.text, payload: j.payload });
        continue;
      }
      if (line.src !== RecordingSource.Ws) continue;
      const j = lineJson(bytes, line);
      if (j === null) {
        load.skippedFrames++;
        continue;
      }
      const text = j.text;
      let payload = j.payload;
      let stream: string | null = null;
      let data = text;
      let combined = false;
      if (isRec(payload) && typeof payload['stream'] === 'string' && 'data' in payload) {
        const r = envelopeRange(sc, line.buf, line.msgStart, line.msgEnd);
        if (r !== null) {
          stream = payload['stream'];
          data = bytes.toString('utf8', r.ds, r.de);
          combined = true;
          payload = payload['data'];
        }
      }
      if (!combined) stream = rawStreamName(payload, line.url);
      if (stream === null || stream === '') {
        load.skippedFrames++;
        continue;
      }
      kept.frame({ ts: line.ts, stream, text, data, combined, payload });
    }
    load.malformedLines = reader.malformedLines;

    // ---- instruments: every symbol named by a frame or a snapshot, tick and step from what was printed
    const seen = new Map<string, SymbolSeen>();
    const note = (symbol: string): SymbolSeen => {
      let s = seen.get(symbol);
      if (!s) seen.set(symbol, (s = { prices: new Set(), deepPrices: new Set(), qtys: new Set(), firstPrice: '' }));
      return s;
    };
    const addQty = (s: SymbolSeen, q: unknown): void => {
      if (typeof q === 'string' && DECIMAL_RE.test(q)) s.qtys.add(q);
    };
    const addLevels = (s: SymbolSeen, v: unknown, deep = false): void => {
      if (!Array.isArray(v)) return;
      for (const lvl of v) {
        if (!Array.isArray(lvl)) continue;
        if (deep) {
          if (typeof lvl[0] === 'string' && DECIMAL_RE.test(lvl[0])) s.deepPrices.add(lvl[0]);
        } else if (Number(lvl[1]) > 0) notePrice(s, lvl[0]);
        addQty(s, lvl[1]);
      }
    };
    for (const w of ws) {
      const p = w.payload;
      if (!isRec(p)) continue;
      const sym = str(p['s']);
      if (sym === null) continue;
      const s = note(sym.toUpperCase());
      switch (p['e']) {
        case 'bookTicker':
          notePrice(s, p['b']);
          notePrice(s, p['a']);
          addQty(s, p['B']);
          addQty(s, p['A']);
          break;
        case 'aggTrade':
        case 'trade':
          notePrice(s, p['p']);
          addQty(s, p['q']);
          break;
        case 'depthUpdate':
          addLevels(s, p['b']);
          addLevels(s, p['a']);
          break;
        default:
          break;
      }
    }
    for (const r of rest) {
      const s = note(r.symbol);
      addLevels(s, r.payload['bids'], true);
      addLevels(s, r.payload['asks'], true);
    }
    for (const w of ws) {
      // streams of symbols that printed nothing (klines only, say) still get an instrument
      const at = w.stream.indexOf('@');
      if (at > 0 && !w.stream.startsWith('!')) note(w.stream.slice(0, at).toUpperCase());
    }
    const specs: InstrumentSpec[] = [];
    for (const [symbol, s] of [...seen].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      // resolveInstruments refuses other names (delivery contracts with '_'): their frames replay without an instrument
      if (!/^[A-Z0-9]{2,30}$/.test(symbol)) continue;
      specs.push(deriveSpec(symbol, s));
    }
    this.instruments = specs.length > 0 ? resolveInstruments(specs) : [];
    for (const i of this.instruments) this.bySymbol.set(i.symbol, i.idx);
    const n = this.instruments.length;
    this.books = new ReplayBooks<ReplaySnapshot>(n);

    // ---- the timeline
    const streamIds = new Map<string, number>();
    const streams: string[] = [];
    const items: ReplayItem[] = [];
    kept.inFileOrder({
      snapshot: (r) => {
        const sym = this.bySymbol.get(r.symbol);
        if (sym === undefined) return;
        const inst = this.instruments[sym]!;
        const snap: ReplaySnapshot = { ...recordedBook(r, sym, levelReader(inst)), lastUpdateId: r.payload['lastUpdateId'] as number, time: num(r.payload['E']) };
        this.books.addSnapshot(snap);
        items.push(snap);
        load.snapshots++;
      },
      frame: (w) => {
        let id = streamIds.get(w.stream);
        if (id === undefined) {
          id = streams.length;
          streams.push(w.stream);
          streamIds.set(w.stream, id);
        }
        const p = w.payload;
        let sym = -1;
        if (isRec(p) && typeof p['s'] === 'string') sym = this.bySymbol.get(p['s'].toUpperCase()) ?? -1;
        else if (!w.stream.startsWith('!')) sym = this.bySymbol.get(w.stream.slice(0, Math.max(0, w.stream.indexOf('@'))).toUpperCase()) ?? -1;
        const event = sym >= 0 ? toEvent(this.instruments[sym]!, p, w.stream) : null;
        const kind = event === null ? FrameKind.Other : event.kind === 'bookTicker' ? FrameKind.BookTicker : event.kind === 'trade' ? FrameKind.Trade : FrameKind.Depth;
        if (event !== null && event.kind === 'bookTicker') this.books.noteTop(sym, { u: 0, bid: event.bid, bidQty: event.bidQty, ask: event.ask, askQty: event.askQty });
        items.push({ type: 0, ts: w.ts, streamId: id, sym, text: w.text, combined: w.combined, data: w.data, event, kind });
        load.frames++;
      },
    });
    this.streams = streams;
    this.items = items;
    this.frameCount = load.frames;
    this.loadStats = load;
    this.reset();
  }

  /** Loads a recording (throws when the file cannot be read). */
  static load(file: string): ReplaySource {
    return new ReplaySource(file);
  }

  /** Back to the start of the recording: empty books (primed with the first top seen), no snapshot yet. */
  reset(): void {
    this.books.reset();
    this.clockTs = NaN;
  }

  /** Advances the replayed market by one item (before the venue sends a frame). */
  apply(item: ReplayItem): void {
    if (item.ts === item.ts) this.clockTs = item.ts;
    if (item.type === 1) {
      // Binance (§1.4): the snapshot covers the events with u < lastUpdateId
      this.books.applySnapshot(item, item.lastUpdateId, item.lastUpdateId);
      return;
    }
    const ev = item.event;
    if (ev === null) return;
    if (ev.kind === 'bookTicker') this.books.book(ev.sym).applyTicker(ev);
    else if (ev.kind === 'depth') this.books.book(ev.sym).applyDepth(ev);
  }

  /**
   * The recorded snapshot a depth request gets now: the latest one at or before the replay clock, else the
   * first one; null when there is none or it went stale (see `ReplayBooks.currentSnapshot`, and `snapshot`).
   */
  currentSnapshot(sym: number): ReplaySnapshot | null {
    return this.books.currentSnapshot(sym);
  }

  /**
   * Body of the depth response for a symbol from the recording: byte-exact when the recorded snapshot has no
   * more levels per side than `limit`, else cut to `limit` levels (re-serialized, strings unchanged). null
   * when the recording has no snapshot of the symbol.
   */
  recordedDepthBody(symbol: string, limit: number): string | null {
    const sym = this.bySymbol.get(symbol.toUpperCase());
    if (sym === undefined) return null;
    const s = this.currentSnapshot(sym);
    return s === null ? null : recordedBookBody(s, limit);
  }

  // ---- MarketSource ---------------------------------------------------------------------------------

  instrument(symbol: string): Instrument | undefined {
    const i = this.bySymbol.get(symbol);
    return i === undefined ? undefined : this.instruments[i];
  }

  top(sym: number): BookTop {
    return this.books.book(sym).top();
  }

  snapshot(sym: number, limit: number, now: number): DepthSnapshot {
    const s = this.currentSnapshot(sym);
    if (s !== null) return { lastUpdateId: s.lastUpdateId, time: s.time === s.time ? s.time : now, bids: s.bids.slice(0, limit), asks: s.asks.slice(0, limit) };
    return this.books.book(sym).depthSnapshot(limit, now);
  }

  levels(sym: number, n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    return this.books.book(sym).levels(n);
  }

  available(sym: number, takerSide: Side, maxQty: number, limitPrice: number | null): number {
    return this.books.book(sym).available(takerSide, maxQty, limitPrice);
  }

  take(sym: number, takerSide: Side, qty: number, limitPrice: number | null, _now: number): TakeResult {
    return this.books.book(sym).take(takerSide, qty, limitPrice);
  }

  next(_sym: number, _kind: MarketEventKind, _now: number): MarketEvent {
    throw new Error('ReplaySource: a replay does not generate events (the venue must not run its scheduler on it)');
  }

  discardDepth(_sym: number): void {
    // nothing is pending: frames go out as recorded
  }

}

/** Instrument spec of a recorded symbol: tick = gcd of the prices printed, step = one unit of the quantities printed. */
function deriveSpec(symbol: string, s: SymbolSeen): InstrumentSpec {
  const { tick, maxUnits, decimals } = deriveTick(s.prices, s.deepPrices);
  let pdec = decimals;
  let qdec = 0;
  for (const q of s.qtys) qdec = Math.max(qdec, decimalsOf(q));
  qdec = Math.min(qdec, 8);
  if (s.prices.size === 0 && s.deepPrices.size === 0) pdec = 2;
  const median = medianOr1([...s.qtys].map(Number));
  const quote = QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length) ?? 'USDT';
  const tickSize = formatScaled(tick, pdec);
  const stepSize = formatScaled(1, qdec);
  // Wide bounds: the filters only need to admit what the recording shows.
  const maxPriceUnits = Math.max(tick, Math.ceil((Math.max(maxUnits, tick) * 1000) / tick) * tick);
  return {
    symbol,
    baseAsset: symbol.slice(0, symbol.length - quote.length) || symbol,
    quoteAsset: quote,
    tickSize,
    stepSize,
    minPrice: tickSize,
    maxPrice: formatScaled(maxPriceUnits, pdec),
    minQty: stepSize,
    maxQty: formatScaled(10 ** Math.min(15, 9 + qdec), qdec),
    minNotional: '5',
    initialPrice: s.firstPrice !== '' ? s.firstPrice : tickSize,
    typicalLevelQty: String(median),
  };
}

/** Price to ticks, quantity to steps (NaN when the text is not a decimal at the instrument's precision). */
function ticks(inst: Instrument, v: unknown): number {
  if (typeof v !== 'string') return NaN;
  const u = parseScaled(v, inst.priceDecimals);
  return typeof u === 'number' ? Math.round(u / inst.tickUnits) : NaN;
}

function steps(inst: Instrument, v: unknown): number {
  if (typeof v !== 'string') return NaN;
  const u = parseScaled(v, inst.qtyDecimals);
  return typeof u === 'number' ? Math.round(u / inst.stepUnits) : NaN;
}

/** A Binance level: `[price, qty]` strings. */
function levelReader(inst: Instrument): LevelReader {
  return (lvl) => (Array.isArray(lvl) ? [ticks(inst, lvl[0]), steps(inst, lvl[1])] : null);
}

/** The venue-neutral event of a recorded payload (bookTicker, aggTrade/trade, diff depth), or null. */
function toEvent(inst: Instrument, p: unknown, stream: string): MarketEvent | null {
  if (!isRec(p)) return null;
  const time = num(p['E']) === num(p['E']) ? num(p['E']) : num(p['T']);
  switch (p['e']) {
    case 'bookTicker': {
      const ev = { kind: 'bookTicker' as const, sym: inst.idx, u: num(p['u']), bid: ticks(inst, p['b']), bidQty: steps(inst, p['B']), ask: ticks(inst, p['a']), askQty: steps(inst, p['A']), time };
      return ev.u === ev.u && ev.bid === ev.bid && ev.ask === ev.ask && ev.bidQty === ev.bidQty && ev.askQty === ev.askQty ? ev : null;
    }
    case 'aggTrade':
    case 'trade': {
      const price = ticks(inst, p['p']);
      const qty = steps(inst, p['q']);
      if (price !== price || qty !== qty) return null;
      const id = p['e'] === 'aggTrade' ? num(p['a']) : num(p['t']);
      return {
        kind: 'trade',
        sym: inst.idx,
        id,
        firstTradeId: p['e'] === 'aggTrade' ? num(p['f']) : id,
        lastTradeId: p['e'] === 'aggTrade' ? num(p['l']) : id,
        price,
        qty,
        buyerMaker: p['m'] === true,
        time: num(p['T']) === num(p['T']) ? num(p['T']) : time,
      };
    }
    case 'depthUpdate': {
      if (isPartialDepth(stream)) return null;
      const U = num(p['U']);
      const u = num(p['u']);
      if (U !== U || u !== u) return null;
      return { kind: 'depth', sym: inst.idx, U, u, pu: num(p['pu']), bids: updateLevels(p['b'], levelReader(inst)), asks: updateLevels(p['a'], levelReader(inst)), time };
    }
    default:
      return null;
  }
}

// ---- the player -----------------------------------------------------------------------------------------

/** How the player hands frames to the Binance dialect. */
export type ReplaySink = GenericReplaySink<ReplayFrame>;
export type { ReplayStats };

/** The shared replay clock (./ReplayPlayer.ts) over a Binance recording. */
export class ReplayPlayer extends TimelinePlayer<ReplayItem> {
  constructor(source: ReplaySource, sink: ReplaySink, opts: { file: string; speed: number; loop: boolean; maxFrames: number }) {
    // The venue kicks the player on drain; the retry only covers a socket that went away meanwhile.
    super(source, sink, { ...opts, congestionRetryMs: 2 });
  }
}
