import { readFileSync } from 'node:fs';
import { ByteScanner, Ch, ascii, bytesEqual } from '../../core/ByteScanner.js';
import { decimalsOf, formatScaled, parseScaled } from '../../core/decimal.js';
import { RecordingReader, RecordingSource, restSymbol } from '../../venues/binance/recording.js';
import { resolveInstruments, type Instrument, type InstrumentSpec } from '../instruments.js';
import type { BookTop, DepthEvent, DepthSnapshot, MarketEvent, MarketEventKind, MarketSource, Side, TakeResult } from './types.js';
import { TimelinePlayer, type ReplaySink as GenericReplaySink, type ReplayStats } from './ReplayPlayer.js';

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

/** `BinanceVenueOptions.source` for a replay. */
export interface ReplaySourceOptions {
  kind: 'replay';
  /** Recording file (.jsonl, shared recordings format). */
  file: string;
  /** 0 = as fast as the subscribers take it; 1 = real time by the recording's `ts`; N = N times faster. Default 1. */
  speed?: number;
  /** Start over at the end (the book is rebuilt from scratch each lap). Default false. */
  loop?: boolean;
  /** Stop (done) after this many ws frames were replayed, laps included. Default: no limit. */
  maxFrames?: number;
  /**
   * Start on the first market-data subscription, after this delay (ms), so a client that subscribes with
   * several messages gets its streams in place before the first frame. Default 100.
   */
  startDelayMs?: number;
  /** Start only when `replay.start()` is called. Default false. */
  manualStart?: boolean;
}

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
export interface ReplaySnapshot {
  readonly type: 1;
  readonly ts: number;
  readonly sym: number;
  /** The recorded response body, byte-exact. */
  readonly body: string;
  readonly lastUpdateId: number;
  readonly time: number;
  /** [tick, qty] from the best bid down / the best ask up. */
  readonly bids: Array<[number, number]>;
  readonly asks: Array<[number, number]>;
}

export type ReplayItem = ReplayFrame | ReplaySnapshot;

export interface ReplayLoadStats {
  /** ws frames kept for replay. */
  frames: number;
  snapshots: number;
  /** ws lines left out: control replies (`{"result":null,"id":1}`), non-JSON payloads, frames naming no stream. */
  skippedFrames: number;
  /** `ws_out` lines (frames the recorder sent; not replayed). */
  outgoing: number;
  malformedLines: number;
}

const LIT_STREAM = ascii('stream');
const LIT_DATA = ascii('data');
const QUOTES = ['USDT', 'BUSD', 'USDC', 'FDUSD', 'USD', 'BTC', 'ETH'];
/** Below this many distinct prices the gcd of the prices says little about the tick: take one unit. */
const MIN_PRICES_FOR_GCD = 20;
/**
 * A recorded snapshot is served until the replay has sent this many depth events of its symbol past it;
 * after that a client that asks has likely no longer buffered the event straddling it (the feed's BookSync
 * keeps ~1024 records), so the venue serves the book it rebuilt (recorded snapshot + replayed diffs) instead.
 */
export const STALE_SNAPSHOT_EVENTS = 100;

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
interface SymbolSeen {
  /** Prices of the stream (top of book, trades, depth changes). */
  prices: Set<string>;
  /**
   * Prices of REST snapshots: only their decimals count. Deep levels of a real snapshot can sit off the
   * current tick (orders from before a tick-size change: CTKUSDT 2021-07-22 has 0.50579 under tick 0.001).
   */
  deepPrices: Set<string>;
  qtys: Set<string>;
  firstPrice: string;
}

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
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

/** Per-symbol book rebuilt from the replay: REST snapshot + diff depth, with bookTicker as the freshest top. */
class ReplayBook {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  /** `u` of the last depth event applied (0 = none). */
  lastU = 0;
  private bestBid = -1;
  private bestAsk = -1;
  private dirty = false;
  /** Last bookTicker (u, bid, bidQty, ask, askQty); tu -1 = none. */
  tu = -1;
  tb = -1;
  tbq = 0;
  ta = -1;
  taq = 0;
  /** Depth events since the last snapshot (a snapshot re-applies the ones it does not cover). */
  recent: DepthEvent[] = [];
  /** Depth events replayed past the last recorded snapshot's lastUpdateId (-1 = no snapshot replayed yet). */
  pastSnapshot = -1;

  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.lastU = 0;
    this.tu = -1;
    this.tb = this.ta = -1;
    this.tbq = this.taq = 0;
    this.recent.length = 0;
    this.pastSnapshot = -1;
    this.dirty = true;
  }

  applyDepth(ev: DepthEvent): void {
    const b = ev.bids;
    for (let i = 0; i + 1 < b.length; i += 2) {
      if (b[i + 1]! > 0) this.bids.set(b[i]!, b[i + 1]!);
      else this.bids.delete(b[i]!);
    }
    const a = ev.asks;
    for (let i = 0; i + 1 < a.length; i += 2) {
      if (a[i + 1]! > 0) this.asks.set(a[i]!, a[i + 1]!);
      else this.asks.delete(a[i]!);
    }
    this.lastU = ev.u;
    this.dirty = true;
    if (this.pastSnapshot >= 0) this.pastSnapshot++;
    this.recent.push(ev);
    if (this.recent.length > 256) this.recent.splice(0, 128);
  }

  /** Replaces the book with a snapshot, then re-applies the recent events it does not cover (§1.4). */
  applySnapshot(s: ReplaySnapshot): void {
    const recent = this.recent;
    this.recent = [];
    this.bids.clear();
    this.asks.clear();
    for (const [t, q] of s.bids) this.bids.set(t, q);
    for (const [t, q] of s.asks) this.asks.set(t, q);
    this.lastU = s.lastUpdateId;
    this.dirty = true;
    this.pastSnapshot = 0;
    for (const ev of recent) if (ev.u >= s.lastUpdateId) this.applyDepth(ev);
  }

  /** The depth book alone (no bookTicker), `n` levels per side from the best: a snapshot as of `lastU`. */
  depthLevels(isBid: boolean, n: number): Array<[number, number]> {
    const out = [...(isBid ? this.bids : this.asks)];
    out.sort(isBid ? (x, y) => y[0] - x[0] : (x, y) => x[0] - y[0]);
    return out.length > n ? out.slice(0, n) : out;
  }

  private refresh(): void {
    if (!this.dirty) return;
    let bb = -1;
    for (const t of this.bids.keys()) if (t > bb) bb = t;
    let ba = -1;
    for (const t of this.asks.keys()) if (ba < 0 || t < ba) ba = t;
    this.bestBid = bb;
    this.bestAsk = ba;
    this.dirty = false;
  }

  /** The bookTicker is the top while it is at least as recent as the depth (it is real time; depth is batched). */
  private tickerIsTop(): boolean {
    return this.tu >= 0 && (this.tu >= this.lastU || (this.bids.size === 0 && this.asks.size === 0));
  }

  top(): BookTop {
    if (this.tickerIsTop()) return { u: this.tu, bid: this.tb, bidQty: this.tbq, ask: this.ta, askQty: this.taq };
    this.refresh();
    const bb = this.bestBid;
    const ba = this.bestAsk;
    return { u: this.lastU, bid: bb, bidQty: bb >= 0 ? this.bids.get(bb)! : 0, ask: ba, askQty: ba >= 0 ? this.asks.get(ba)! : 0 };
  }

  /** Levels of one side from the best, `n` at most: the top of `top()` first, then the depth book behind it. */
  side(isBid: boolean, n: number): Array<[number, number]> {
    const t = this.top();
    const out: Array<[number, number]> = [];
    const best = isBid ? t.bid : t.ask;
    if (best >= 0 && (isBid ? t.bidQty : t.askQty) > 0) out.push([best, isBid ? t.bidQty : t.askQty]);
    if (out.length >= n) return out;
    const m = isBid ? this.bids : this.asks;
    const rest: Array<[number, number]> = [];
    for (const [p, q] of m) if (best < 0 || (isBid ? p < best : p > best)) rest.push([p, q]);
    rest.sort(isBid ? (x, y) => y[0] - x[0] : (x, y) => x[0] - y[0]);
    for (let i = 0; i < rest.length && out.length < n; i++) out.push(rest[i]!);
    return out;
  }
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
  private readonly books: ReplayBook[];
  /** Snapshots per symbol in time order, and the index of the latest one replayed (-1 = none yet). */
  private readonly snaps: ReplaySnapshot[][];
  private readonly snapAt: Int32Array;
  /** The first top of book the recording shows per symbol: the book's state until the replay says more. */
  private readonly firstTop: Array<BookTop | null>;
  /** Replay clock: `ts` of the last item applied (NaN before the first). */
  clockTs = NaN;

  private constructor(file: string) {
    const bytes = readFileSync(file);
    const reader = RecordingReader.fromBytes(bytes);
    const sc = new ByteScanner();
    const ws: ParsedWs[] = [];
    const rest: ParsedRest[] = [];
    const order: Array<0 | 1> = [];
    const load: ReplayLoadStats = { frames: 0, snapshots: 0, skippedFrames: 0, outgoing: 0, malformedLines: 0 };
    for (const line of reader) {
      if (line.src === RecordingSource.WsOut) {
        load.outgoing++;
        continue;
      }
      if (line.src === RecordingSource.Rest) {
        const symbol = restSymbol(line.url);
        if (!line.url.includes('/depth') || symbol === '' || line.msgEnd <= line.msgStart || line.msgIsString) continue;
        const body = bytes.toString('utf8', line.msgStart, line.msgEnd);
        let payload: unknown;
        try {
          payload = JSON.parse(body);
        } catch {
          continue;
        }
        if (!isRec(payload) || typeof payload['lastUpdateId'] !== 'number') continue;
        rest.push({ ts: line.ts, symbol, body, payload });
        order.push(1);
        continue;
      }
      if (line.src !== RecordingSource.Ws) continue;
      if (line.msgEnd <= line.msgStart || line.msgIsString) {
        load.skippedFrames++;
        continue;
      }
      const text = bytes.toString('utf8', line.msgStart, line.msgEnd);
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        load.skippedFrames++;
        continue;
      }
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
      ws.push({ ts: line.ts, stream, text, data, combined, payload });
      order.push(0);
    }
    load.malformedLines = reader.malformedLines;

    // ---- instruments: every symbol named by a frame or a snapshot, tick and step from what was printed
    const seen = new Map<string, SymbolSeen>();
    const note = (symbol: string): SymbolSeen => {
      let s = seen.get(symbol);
      if (!s) seen.set(symbol, (s = { prices: new Set(), deepPrices: new Set(), qtys: new Set(), firstPrice: '' }));
      return s;
    };
    const addPrice = (s: SymbolSeen, p: unknown): void => {
      if (typeof p !== 'string' || !/^\d+(\.\d+)?$/.test(p)) return;
      if (s.firstPrice === '' && Number(p) > 0) s.firstPrice = p;
      s.prices.add(p);
    };
    const addQty = (s: SymbolSeen, q: unknown): void => {
      if (typeof q === 'string' && /^\d+(\.\d+)?$/.test(q)) s.qtys.add(q);
    };
    const addLevels = (s: SymbolSeen, v: unknown, deep = false): void => {
      if (!Array.isArray(v)) return;
      for (const lvl of v) {
        if (!Array.isArray(lvl)) continue;
        if (deep) {
          if (typeof lvl[0] === 'string' && /^\d+(\.\d+)?$/.test(lvl[0])) s.deepPrices.add(lvl[0]);
        } else if (Number(lvl[1]) > 0) addPrice(s, lvl[0]);
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
          addPrice(s, p['b']);
          addPrice(s, p['a']);
          addQty(s, p['B']);
          addQty(s, p['A']);
          break;
        case 'aggTrade':
        case 'trade':
          addPrice(s, p['p']);
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
    this.books = Array.from({ length: n }, () => new ReplayBook());
    this.snaps = Array.from({ length: n }, () => []);
    this.snapAt = new Int32Array(n).fill(-1);
    this.firstTop = new Array<BookTop | null>(n).fill(null);

    // ---- the timeline
    const streamIds = new Map<string, number>();
    const streams: string[] = [];
    const items: ReplayItem[] = [];
    let wi = 0;
    let ri = 0;
    for (const o of order) {
      if (o === 1) {
        const r = rest[ri++]!;
        const sym = this.bySymbol.get(r.symbol);
        if (sym === undefined) continue;
        const inst = this.instruments[sym]!;
        const snap: ReplaySnapshot = {
          type: 1,
          ts: r.ts,
          sym,
          body: r.body,
          lastUpdateId: r.payload['lastUpdateId'] as number,
          time: num(r.payload['E']),
          bids: levelsOf(inst, r.payload['bids']),
          asks: levelsOf(inst, r.payload['asks']),
        };
        this.snaps[sym]!.push(snap);
        items.push(snap);
        load.snapshots++;
        if (this.firstTop[sym] === null && snap.bids.length > 0 && snap.asks.length > 0) {
          this.firstTop[sym] = { u: 0, bid: snap.bids[0]![0], bidQty: snap.bids[0]![1], ask: snap.asks[0]![0], askQty: snap.asks[0]![1] };
        }
        continue;
      }
      const w = ws[wi++]!;
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
      if (event !== null && event.kind === 'bookTicker' && this.firstTop[sym] === null) {
        this.firstTop[sym] = { u: 0, bid: event.bid, bidQty: event.bidQty, ask: event.ask, askQty: event.askQty };
      }
      items.push({ type: 0, ts: w.ts, streamId: id, sym, text: w.text, combined: w.combined, data: w.data, event, kind });
      load.frames++;
    }
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
    for (let s = 0; s < this.books.length; s++) {
      const b = this.books[s]!;
      b.clear();
      const t = this.firstTop[s];
      if (t) {
        b.tu = 0;
        b.tb = t.bid;
        b.tbq = t.bidQty;
        b.ta = t.ask;
        b.taq = t.askQty;
      }
    }
    this.snapAt.fill(-1);
    this.clockTs = NaN;
  }

  /** Advances the replayed market by one item (before the venue sends a frame). */
  apply(item: ReplayItem): void {
    if (item.ts === item.ts) this.clockTs = item.ts;
    if (item.type === 1) {
      const list = this.snaps[item.sym]!;
      this.snapAt[item.sym] = list.indexOf(item);
      this.books[item.sym]!.applySnapshot(item);
      return;
    }
    const ev = item.event;
    if (ev === null) return;
    const b = this.books[ev.sym]!;
    if (ev.kind === 'bookTicker') {
      b.tu = ev.u;
      b.tb = ev.bid;
      b.tbq = ev.bidQty;
      b.ta = ev.ask;
      b.taq = ev.askQty;
    } else if (ev.kind === 'depth') {
      b.applyDepth(ev);
    }
  }

  /**
   * The recorded snapshot a depth request gets now: the latest one at or before the replay clock, else
   * (the replay has not reached one yet) the first one, whose `lastUpdateId` the stream will still straddle.
   * null when the recording has none for the symbol, or when the replay has gone STALE_SNAPSHOT_EVENTS depth
   * events past it (the venue then answers with the book rebuilt from it: see `snapshot`).
   */
  currentSnapshot(sym: number): ReplaySnapshot | null {
    const list = this.snaps[sym];
    if (!list || list.length === 0) return null;
    const i = this.snapAt[sym]!;
    if (i >= 0 && this.books[sym]!.pastSnapshot > STALE_SNAPSHOT_EVENTS) return null;
    return list[i >= 0 ? i : 0]!;
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
    if (s === null) return null;
    if (s.bids.length <= limit && s.asks.length <= limit) return s.body;
    const o = JSON.parse(s.body) as Rec;
    if (Array.isArray(o['bids'])) o['bids'] = o['bids'].slice(0, limit);
    if (Array.isArray(o['asks'])) o['asks'] = o['asks'].slice(0, limit);
    return JSON.stringify(o);
  }

  // ---- MarketSource ---------------------------------------------------------------------------------

  instrument(symbol: string): Instrument | undefined {
    const i = this.bySymbol.get(symbol);
    return i === undefined ? undefined : this.instruments[i];
  }

  top(sym: number): BookTop {
    return this.book(sym).top();
  }

  snapshot(sym: number, limit: number, now: number): DepthSnapshot {
    const s = this.currentSnapshot(sym);
    if (s !== null) return { lastUpdateId: s.lastUpdateId, time: s.time === s.time ? s.time : now, bids: s.bids.slice(0, limit), asks: s.asks.slice(0, limit) };
    // The rebuilt book as of the last replayed depth event: that event (u == lastUpdateId) straddles it.
    const b = this.book(sym);
    return { lastUpdateId: b.lastU, time: now, bids: b.depthLevels(true, limit), asks: b.depthLevels(false, limit) };
  }

  levels(sym: number, n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    const b = this.book(sym);
    return { bids: b.side(true, n), asks: b.side(false, n) };
  }

  available(sym: number, takerSide: Side, maxQty: number, limitPrice: number | null): number {
    let got = 0;
    for (const [t, q] of this.book(sym).side(takerSide === 'SELL', Number.MAX_SAFE_INTEGER)) {
      if (limitPrice !== null && (takerSide === 'BUY' ? t > limitPrice : t < limitPrice)) break;
      got += q;
      if (got >= maxQty) return maxQty;
    }
    return got;
  }

  take(sym: number, takerSide: Side, qty: number, limitPrice: number | null, _now: number): TakeResult {
    const res: TakeResult = { fills: [], filled: 0, events: [] };
    let left = qty;
    for (const [t, q] of this.book(sym).side(takerSide === 'SELL', Number.MAX_SAFE_INTEGER)) {
      if (left <= 0) break;
      if (limitPrice !== null && (takerSide === 'BUY' ? t > limitPrice : t < limitPrice)) break;
      const f = Math.min(left, q);
      left -= f;
      res.fills.push({ price: t, qty: f });
    }
    res.filled = qty - left;
    return res;
  }

  next(_sym: number, _kind: MarketEventKind, _now: number): MarketEvent {
    throw new Error('ReplaySource: a replay does not generate events (the venue must not run its scheduler on it)');
  }

  discardDepth(_sym: number): void {
    // nothing is pending: frames go out as recorded
  }

  private book(sym: number): ReplayBook {
    const b = this.books[sym];
    if (b === undefined) throw new Error(`ReplaySource: unknown symbol index ${sym}`);
    return b;
  }
}

/** Instrument spec of a recorded symbol: tick = gcd of the prices printed, step = one unit of the quantities printed. */
function deriveSpec(symbol: string, s: SymbolSeen): InstrumentSpec {
  let pdec = 0;
  for (const p of s.prices) pdec = Math.max(pdec, decimalsOf(p));
  for (const p of s.deepPrices) pdec = Math.max(pdec, decimalsOf(p));
  let qdec = 0;
  for (const q of s.qtys) qdec = Math.max(qdec, decimalsOf(q));
  pdec = Math.min(pdec, 8);
  qdec = Math.min(qdec, 8);
  let tick = 0;
  let maxUnits = 0;
  for (const p of s.prices) {
    const u = parseScaled(p, pdec);
    if (typeof u !== 'number' || u <= 0) continue;
    tick = gcd(u, tick);
    if (u > maxUnits) maxUnits = u;
  }
  if (s.prices.size < MIN_PRICES_FOR_GCD || tick <= 0) tick = 1;
  if (s.prices.size === 0 && s.deepPrices.size === 0) pdec = 2;
  const qtys = [...s.qtys].map(Number).filter((q) => q > 0).sort((a, b) => a - b);
  const median = qtys.length > 0 ? qtys[qtys.length >> 1]! : 1;
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
    typicalLevelQty: String(median > 0 ? median : 1),
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

function levelsOf(inst: Instrument, v: unknown): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (!Array.isArray(v)) return out;
  for (const lvl of v) {
    if (!Array.isArray(lvl)) continue;
    const t = ticks(inst, lvl[0]);
    const q = steps(inst, lvl[1]);
    if (t === t && q === q && q > 0) out.push([t, q]);
  }
  return out;
}

/** Flat [tick, qty, ...] ascending by price. */
function flatLevels(inst: Instrument, v: unknown): number[] {
  const pairs: Array<[number, number]> = [];
  if (Array.isArray(v)) {
    for (const lvl of v) {
      if (!Array.isArray(lvl)) continue;
      const t = ticks(inst, lvl[0]);
      const q = steps(inst, lvl[1]);
      if (t === t && q === q) pairs.push([t, q]);
    }
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [t, q] of pairs) out.push(t, q);
  return out;
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
      return { kind: 'depth', sym: inst.idx, U, u, pu: num(p['pu']), bids: flatLevels(inst, p['b']), asks: flatLevels(inst, p['a']), time };
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
