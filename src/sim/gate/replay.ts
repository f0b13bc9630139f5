import { readFileSync } from 'node:fs';
import { formatScaled, parseScaled } from '../../core/decimal.js';
import { RecordingReader, RecordingSource } from '../../venues/binance/recording.js';
import { restContract } from '../../venues/gate/book.js';
import { TimelinePlayer, type ReplaySink, type ReplayStats } from '../market/ReplayPlayer.js';
import { ReplayBooks, recordedBook, recordedBookBody, type RecordedBook } from '../market/ReplayBook.js';
import { KeptLines, deriveTick, isRec, lineJson, medianOr1, notePrice, updateLevels, type PricesSeen, type LevelReader } from '../market/recordingLines.js';
import type { ReplayLoadStats, ReplayOptions } from '../market/replayOptions.js';
import { SyntheticMarket } from '../market/SyntheticMarket.js';
import type { BookTop, DepthEvent, DepthSnapshot, MarketEvent, MarketEventKind, Side, TakeResult } from '../market/types.js';
import type { GateChannels } from './channels.js';
import { resolveContracts, type GateContract, type GateContractSpec } from './contracts.js';
import { secs, toJson, trim, type Json } from './json.js';
import type { GateRestResponse } from './rest.js';
import type { GateSocket } from './socket.js';

/**
 * Replay of a Gate futures recording (shared recordings format, fixtures/MANIFEST.md: one JSON object per
 * line, `{"ts","src","url","msg"}`, `msg` byte-exact) as the market of the Gate simulator.
 *
 * - The public pushes of the recording (`futures.order_book_update`, `futures.book_ticker`, `futures.trades`,
 *   `futures.tickers`, `futures.candlesticks`) go out byte-exact to the sockets subscribed to that channel
 *   and contract, paced by the recorded receive time (speed 0 = as fast as the subscribers read, 1 = real
 *   time, N = N times faster). Subscribe acks are the simulator's own; the recorded acks are left out.
 * - `GET /futures/usdt/order_book?...&with_id=true` answers the recorded REST snapshot (byte-exact when it
 *   has no more levels than asked) until the replay is STALE_SNAPSHOT_EVENTS updates past it; then the book
 *   rebuilt from snapshot + replayed updates, whose `id` is the last replayed `u`, so the next push has
 *   `U == id + 1` and a late client still syncs (protocols.md §2.5).
 * - The contracts are the recording's; the tick is derived from the prices it printed, one contract is one
 *   size unit (quanto multiplier "1" unless a spec of the same name is passed).
 * - Orders execute against the rebuilt book (the venue core's matching, as in the Binance replay); fills do
 *   not move the replayed book, so the replayed pushes stay exactly the recorded ones.
 */

/** `GateVenueOptions.source` for a replay (Gate payloads; `maxFrames` counts pushes). */
export type GateReplayOptions = ReplayOptions;

/** Public channels the simulator lets clients subscribe to, hence the ones a recorded push can go to. */
export const enum GateReplayChannel {
  Other = 0,
  OrderBookUpdate = 1,
  BookTicker = 2,
  Trades = 3,
  Tickers = 4,
  Candlesticks = 5,
}

const CHANNELS: Readonly<Record<string, GateReplayChannel>> = {
  'futures.order_book_update': GateReplayChannel.OrderBookUpdate,
  'futures.book_ticker': GateReplayChannel.BookTicker,
  'futures.trades': GateReplayChannel.Trades,
  'futures.tickers': GateReplayChannel.Tickers,
  'futures.candlesticks': GateReplayChannel.Candlesticks,
};

/** One recorded push. */
export interface GateReplayFrame {
  readonly type: 0;
  /** Recorder receive time, unix seconds. */
  readonly ts: number;
  readonly channel: GateReplayChannel;
  /** Contract index, -1 when the push names no contract of the replay. */
  readonly sym: number;
  /** Candle interval of a `futures.candlesticks` push ('' otherwise). */
  readonly interval: string;
  /** The recorded frame, byte-exact. */
  readonly text: string;
  /** What the push means for the book and the matching (book update, top of book, trade prints). */
  readonly events: readonly MarketEvent[];
  /** An order_book_update with `full: true`: it replaces the whole book. */
  readonly full: boolean;
}

/** One recorded REST order book (`GET /futures/usdt/order_book?...&with_id=true`). */
export interface GateReplaySnapshot extends RecordedBook {
  readonly type: 1;
  readonly ts: number;
  readonly id: number;
}

export type GateReplayItem = GateReplayFrame | GateReplaySnapshot;

export type GateReplayLoadStats = ReplayLoadStats;

const CONTRACT_RE = /^[A-Z0-9]{1,20}_USDT$/;

/** A Gate size (integer contracts, a number or a decimal string); NaN when it is not a whole number. */
function sizeOf(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : NaN;
}

/** What the recording printed for one contract: prices (for the tick) and level sizes. */
interface ContractSeen extends PricesSeen {
  sizes: number[];
}

interface ParsedWs {
  ts: number;
  channel: GateReplayChannel;
  contract: string;
  interval: string;
  text: string;
  result: unknown;
}

interface ParsedRest {
  ts: number;
  contract: string;
  body: string;
  payload: Record<string, unknown>;
}

/** The contract and (candlesticks) interval a push is about. */
function pushTarget(channel: GateReplayChannel, result: unknown): { contract: string; interval: string } {
  const first = Array.isArray(result) ? result[0] : result;
  if (!isRec(first)) return { contract: '', interval: '' };
  if (channel === GateReplayChannel.Candlesticks) {
    const n = typeof first['n'] === 'string' ? first['n'] : '';
    const at = n.indexOf('_');
    return at > 0 ? { contract: n.slice(at + 1), interval: n.slice(0, at) } : { contract: '', interval: '' };
  }
  const c = channel === GateReplayChannel.OrderBookUpdate || channel === GateReplayChannel.BookTicker ? first['s'] : first['contract'];
  return { contract: typeof c === 'string' ? c : '', interval: '' };
}

/**
 * The replayed market in the place of the synthetic one. The Gate dialect's modules (channels, market data,
 * trading) are typed on SyntheticMarket, so the replay extends it and overrides every public method; the
 * parent's seeded books are never used.
 */
export class GateReplayMarket extends SyntheticMarket {
  constructor(
    private readonly replayBooks: ReplayBooks<GateReplaySnapshot>,
    contracts: readonly GateContract[],
  ) {
    super(
      contracts.map((c) => c.inst),
      { seed: 1, levels: 2 },
    );
  }

  /** `u` of the last replayed update (or snapshot id) of a contract. */
  override updateId(sym: number): number {
    return this.replayBooks.book(sym).lastU;
  }

  override top(sym: number): BookTop {
    return this.replayBooks.book(sym).top();
  }

  override snapshot(sym: number, limit: number, now: number): DepthSnapshot {
    return this.replayBooks.book(sym).depthSnapshot(limit, now);
  }

  override levels(sym: number, n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    return this.replayBooks.book(sym).levels(n);
  }

  override available(sym: number, takerSide: Side, maxQty: number, limitPrice: number | null): number {
    return this.replayBooks.book(sym).available(takerSide, maxQty, limitPrice);
  }

  override take(sym: number, takerSide: Side, qty: number, limitPrice: number | null, _now: number): TakeResult {
    return this.replayBooks.book(sym).take(takerSide, qty, limitPrice);
  }

  override next(_sym: number, _kind: MarketEventKind, _now: number): MarketEvent {
    throw new Error('GateReplayMarket: a replay generates no events (the venue must not run its scheduler on it)');
  }

  override discardDepth(_sym: number): void {
    // nothing pending: the recorded pushes go out as they are
  }

  override takeDepth(_sym: number, _now: number): DepthEvent | null {
    return null;
  }

  override pendingDepthLevels(_sym: number): number {
    return 0;
  }
}

/** A Gate recording loaded for replay: contracts, timeline, the rebuilt books and the market over them. */
export class GateReplaySource {
  readonly contracts: readonly GateContract[];
  readonly market: GateReplayMarket;
  readonly items: readonly GateReplayItem[];
  readonly frameCount: number;
  readonly loadStats: GateReplayLoadStats;
  private readonly byName = new Map<string, number>();
  private readonly books: ReplayBooks<GateReplaySnapshot>;
  /** order_book_update pushes per contract in one lap, and how many of them this lap has replayed. */
  private readonly updatesTotal: Int32Array;
  private readonly updatesReplayed: Int32Array;
  /** Replay clock: `ts` of the last item applied (NaN before the first). */
  clockTs = NaN;

  private constructor(file: string, specs: readonly GateContractSpec[]) {
    const bytes = readFileSync(file);
    const reader = RecordingReader.fromBytes(bytes);
    const load: GateReplayLoadStats = { frames: 0, snapshots: 0, skippedFrames: 0, outgoing: 0, malformedLines: 0 };
    const kept = new KeptLines<ParsedWs, ParsedRest>();
    const { ws, rest } = kept;
    for (const line of reader) {
      if (line.src === RecordingSource.WsOut) {
        load.outgoing++;
        continue;
      }
      if (line.src !== RecordingSource.Ws && line.src !== RecordingSource.Rest) continue;
      const j = lineJson(bytes, line);
      if (j === null) {
        if (line.src === RecordingSource.Ws) load.skippedFrames++;
        continue;
      }
      const { text, payload } = j;
      if (line.src === RecordingSource.Rest) {
        const contract = restContract(line.url);
        if (!line.url.includes('/order_book') || contract === '' || !isRec(payload) || typeof payload['id'] !== 'number') continue;
        kept.snapshot({ ts: line.ts, contract, body: text, payload });
        continue;
      }
      // pushes only: subscribe acks, pongs and API replies are the simulator's own business
      const event = isRec(payload) ? payload['event'] : undefined;
      if (!isRec(payload) || (event !== 'update' && event !== 'all')) {
        load.skippedFrames++;
        continue;
      }
      const channel = typeof payload['channel'] === 'string' ? (CHANNELS[payload['channel']] ?? GateReplayChannel.Other) : GateReplayChannel.Other;
      const { contract, interval } = pushTarget(channel, payload['result']);
      kept.frame({ ts: line.ts, channel, contract, interval, text, result: payload['result'] });
    }
    load.malformedLines = reader.malformedLines;

    // ---- contracts: every USDT contract a push or a snapshot names, tick from the prices printed
    const seen = new Map<string, ContractSeen>();
    const note = (name: string): ContractSeen | null => {
      if (!CONTRACT_RE.test(name)) return null;
      let s = seen.get(name);
      if (!s) seen.set(name, (s = { prices: new Set(), sizes: [], firstPrice: '' }));
      return s;
    };
    const addSize = (s: ContractSeen, v: unknown): void => {
      const n = Math.abs(sizeOf(v));
      if (n > 0) s.sizes.push(n);
    };
    const addLevels = (s: ContractSeen, v: unknown): void => {
      if (!Array.isArray(v)) return;
      for (const lvl of v) {
        if (!isRec(lvl)) continue;
        notePrice(s, lvl['p']);
        addSize(s, lvl['s']);
      }
    };
    for (const w of ws) {
      const s = note(w.contract);
      if (s === null) continue;
      const r = w.result;
      if (w.channel === GateReplayChannel.OrderBookUpdate && isRec(r)) {
        addLevels(s, r['b']);
        addLevels(s, r['a']);
      } else if (w.channel === GateReplayChannel.BookTicker && isRec(r)) {
        notePrice(s, r['b']);
        notePrice(s, r['a']);
        addSize(s, r['B']);
        addSize(s, r['A']);
      } else if (w.channel === GateReplayChannel.Trades && Array.isArray(r)) {
        for (const t of r) if (isRec(t)) notePrice(s, t['price']);
      }
    }
    for (const r of rest) {
      const s = note(r.contract);
      if (s === null) continue;
      addLevels(s, r.payload['bids']);
      addLevels(s, r.payload['asks']);
    }
    const given = new Map(specs.map((s) => [s.name, s]));
    const names = [...seen.keys()].sort();
    this.contracts = names.length > 0 ? resolveContracts(names.map((n) => given.get(n) ?? deriveSpec(n, seen.get(n)!))) : [];
    for (const c of this.contracts) this.byName.set(c.name, c.idx);
    const n = this.contracts.length;
    this.books = new ReplayBooks<GateReplaySnapshot>(n);
    this.updatesTotal = new Int32Array(n);
    this.updatesReplayed = new Int32Array(n);

    // ---- the timeline
    const items: GateReplayItem[] = [];
    kept.inFileOrder({
      snapshot: (r) => {
        const sym = this.byName.get(r.contract);
        if (sym === undefined) return;
        const c = this.contracts[sym]!;
        const snap: GateReplaySnapshot = { ...recordedBook(r, sym, levelReader(c)), id: r.payload['id'] as number };
        this.books.addSnapshot(snap);
        items.push(snap);
        load.snapshots++;
      },
      frame: (w) => {
        const sym = this.byName.get(w.contract) ?? -1;
        const c = sym >= 0 ? this.contracts[sym]! : null;
        const events = c !== null ? toEvents(c, w.channel, w.result) : [];
        const full = w.channel === GateReplayChannel.OrderBookUpdate && isRec(w.result) && w.result['full'] === true;
        for (const ev of events) {
          if (ev.kind === 'depth') this.updatesTotal[sym]!++;
          // a book_ticker with an empty side does not prime the book
          if (ev.kind === 'bookTicker' && ev.bid >= 0 && ev.ask >= 0) this.books.noteTop(sym, { u: 0, bid: ev.bid, bidQty: ev.bidQty, ask: ev.ask, askQty: ev.askQty });
        }
        items.push({ type: 0, ts: w.ts, channel: w.channel, sym, interval: w.interval, text: w.text, events, full });
        load.frames++;
      },
    });
    this.items = items;
    this.frameCount = load.frames;
    this.loadStats = load;
    this.market = new GateReplayMarket(this.books, this.contracts);
    this.reset();
  }

  /**
   * Loads a recording (throws when the file cannot be read). `specs`: contract specs to use in place of the
   * derived ones for contracts of the same name (the quanto multiplier, which a recording does not show).
   */
  static load(file: string, specs: ReadonlyArray<string | GateContractSpec> = []): GateReplaySource {
    return new GateReplaySource(
      file,
      specs.filter((s): s is GateContractSpec => typeof s !== 'string'),
    );
  }

  contract(name: string): GateContract | undefined {
    const i = this.byName.get(name.toUpperCase());
    return i === undefined ? undefined : this.contracts[i];
  }

  /** Back to the start: empty books showing the recording's first top, no snapshot replayed. */
  reset(): void {
    this.books.reset();
    this.updatesReplayed.fill(0);
    this.clockTs = NaN;
  }

  /** Advances the replayed market by one item (before its frame goes out). */
  apply(item: GateReplayItem): void {
    if (item.ts === item.ts) this.clockTs = item.ts;
    if (item.type === 1) {
      // Gate (§2.5): the snapshot covers the updates with u <= id
      this.books.applySnapshot(item, item.id, item.id + 1);
      return;
    }
    for (const ev of item.events) {
      const b = this.books.book(ev.sym);
      if (ev.kind === 'depth') {
        b.applyDepth(ev, item.full);
        this.updatesReplayed[ev.sym]!++;
      } else if (ev.kind === 'bookTicker') b.applyTicker(ev);
    }
  }

  /**
   * The recorded snapshot a request gets now: the latest one replayed, else the first (whose id the stream
   * will still straddle); null when there is none or it went stale (see `ReplayBooks.currentSnapshot`).
   */
  currentSnapshot(sym: number): GateReplaySnapshot | null {
    return this.books.currentSnapshot(sym);
  }

  /**
   * Body of `GET /futures/usdt/order_book?contract=X&limit=N&with_id=true`: the recorded snapshot (byte-exact
   * when it has at most N levels a side, else cut to N) while it is current, else the rebuilt book as of the
   * last replayed update. null for a contract the recording does not have.
   *
   * The rebuilt book's `id` is its last `u`, so the next push (U = u + 1) joins it. When no push of the contract
   * is left in the lap, it is the last update's U - 1 instead: that update, which the client has buffered, then
   * joins the book, and applying it again changes nothing (Gate sizes are absolute), so a client that asks
   * after the replay of the contract ended still gets Live.
   */
  orderBookBody(contract: string, limit: number, nowMs: number): string | null {
    const sym = this.byName.get(contract.toUpperCase());
    if (sym === undefined) return null;
    const s = this.currentSnapshot(sym);
    if (s !== null) return recordedBookBody(s, limit);
    const b = this.books.book(sym);
    const c = this.contracts[sym]!;
    const side = (isBid: boolean): Json[] => b.depthLevels(isBid, limit).map(([t, q]) => ({ s: q, p: c.px(t) }));
    const ended = this.updatesReplayed[sym]! >= this.updatesTotal[sym]! && b.lastFirstU > 0;
    const id = ended ? b.lastFirstU - 1 : b.lastU;
    // the key order of the recorded bodies
    return toJson({ current: secs(nowMs), update: secs(b.updateMs > 0 ? b.updateMs : nowMs), asks: side(false), bids: side(true), id });
  }
}

/** Gate spec of a recorded contract: tick = gcd of the prices printed, one contract = one unit. */
function deriveSpec(name: string, s: ContractSeen): GateContractSpec {
  const { tick, decimals } = deriveTick(s.prices);
  const round = trim(formatScaled(tick, decimals));
  return {
    name,
    quantoMultiplier: '1',
    orderPriceRound: round,
    markPriceRound: round,
    orderSizeMin: 1,
    orderSizeMax: 1_000_000_000,
    leverageMax: 100,
    orderPriceDeviate: '0.5',
    initialPrice: s.firstPrice !== '' ? s.firstPrice : round,
    typicalLevelContracts: medianOr1(s.sizes),
  };
}

/** Price to ticks (NaN when not a decimal on the contract's tick). */
function ticks(c: GateContract, v: unknown): number {
  if (typeof v !== 'string') return NaN;
  const u = parseScaled(v, c.inst.priceDecimals);
  return typeof u === 'number' && u % c.inst.tickUnits === 0 ? u / c.inst.tickUnits : NaN;
}

/** A Gate level: `{"p": price, "s": size}`; a negative size is no level (only trades sign their size). */
function levelReader(c: GateContract): LevelReader {
  return (lvl) => {
    if (!isRec(lvl)) return null;
    const q = sizeOf(lvl['s']);
    return [ticks(c, lvl['p']), q >= 0 ? q : NaN];
  };
}

/** The venue-neutral events of a push (an update of the book, a new top, trade prints); [] for the rest. */
function toEvents(c: GateContract, channel: GateReplayChannel, r: unknown): MarketEvent[] {
  const sym = c.idx;
  switch (channel) {
    case GateReplayChannel.OrderBookUpdate: {
      if (!isRec(r)) return [];
      const U = r['U'];
      const u = r['u'];
      if (typeof U !== 'number' || typeof u !== 'number') return [];
      const time = typeof r['t'] === 'number' ? r['t'] : NaN;
      return [{ kind: 'depth', sym, U, u, pu: U - 1, bids: updateLevels(r['b'], levelReader(c)), asks: updateLevels(r['a'], levelReader(c)), time }];
    }
    case GateReplayChannel.BookTicker: {
      if (!isRec(r) || typeof r['u'] !== 'number') return [];
      // an empty side prints b "" and B 0
      const bid = r['b'] === '' ? -1 : ticks(c, r['b']);
      const ask = r['a'] === '' ? -1 : ticks(c, r['a']);
      const bidQty = bid < 0 ? 0 : sizeOf(r['B']);
      const askQty = ask < 0 ? 0 : sizeOf(r['A']);
      if (bid !== bid || ask !== ask || bidQty !== bidQty || askQty !== askQty) return [];
      return [{ kind: 'bookTicker', sym, u: r['u'], bid, bidQty, ask, askQty, time: typeof r['t'] === 'number' ? r['t'] : NaN }];
    }
    case GateReplayChannel.Trades: {
      if (!Array.isArray(r)) return [];
      const out: MarketEvent[] = [];
      for (const t of r) {
        if (!isRec(t) || typeof t['id'] !== 'number') continue;
        const price = ticks(c, t['price']);
        const size = sizeOf(t['size']);
        if (price !== price || size !== size || size === 0) continue;
        const time = typeof t['create_time_ms'] === 'number' ? Math.floor(t['create_time_ms']) : typeof t['create_time'] === 'number' ? t['create_time'] * 1000 : NaN;
        // negative size: the taker sold
        out.push({ kind: 'trade', sym, id: t['id'], firstTradeId: t['id'], lastTradeId: t['id'], price, qty: Math.abs(size), buyerMaker: size < 0, time });
      }
      return out;
    }
    default:
      return [];
  }
}

// ---- the player -----------------------------------------------------------------------------------------

/** What the Gate venue hands the player. */
export interface GateReplayWiring {
  readonly channels: GateChannels;
  readonly sockets: ReadonlySet<GateSocket>;
  /** Queues a frame for a socket (sent at `flush`). */
  send(s: GateSocket, frame: string): void;
  /** Writes what `send` queued. */
  flush(): void;
  /** Venue bookkeeping of a replayed event: book time, last price, candles, resting orders it crosses. */
  onEvent(ev: MarketEvent): void;
  /** Unsent bytes per socket above which an as-fast-as-possible replay waits. */
  highWaterBytes: number;
}

/** Control of a replay (`GateVenueHandle.replay`). */
export interface GateReplayControl {
  /** Starts now (otherwise on the first public subscription, or never with manualStart). */
  start(): void;
  /** Resolves when the replay is done (end of the recording without loop, maxFrames, or close). */
  whenDone(): Promise<void>;
  stats(): ReplayStats;
}

/** The recorded pushes to the subscribers of their channel and contract (the Gate side of the shared player). */
function gateReplaySink(wiring: GateReplayWiring): ReplaySink<GateReplayFrame> {
  /** Sockets already given the current order_book_update frame (a socket may hold several streams of a contract). */
  const once = new Set<GateSocket>();
  return {
    deliver(f: GateReplayFrame): boolean {
      for (const ev of f.events) wiring.onEvent(ev);
      if (f.sym < 0) return false;
      const ch = wiring.channels;
      const send = wiring.send;
      let n = 0;
      const each = (socks: ReadonlySet<GateSocket> | undefined): void => {
        if (socks === undefined) return;
        for (const s of socks) {
          if (s.closed) continue;
          send(s, f.text);
          n++;
        }
      };
      switch (f.channel) {
        case GateReplayChannel.OrderBookUpdate: {
          // the recorded stream goes to every order_book_update subscriber of the contract, whatever frequency or level it asked for
          const streams = ch.obu[f.sym]!;
          if (streams.size === 1) for (const st of streams.values()) each(st.socks);
          else if (streams.size > 1) {
            once.clear();
            for (const st of streams.values()) for (const s of st.socks) once.add(s);
            each(once);
            once.clear();
          }
          break;
        }
        case GateReplayChannel.BookTicker:
          each(ch.bookTicker[f.sym]);
          break;
        case GateReplayChannel.Trades:
          each(ch.trades[f.sym]);
          break;
        case GateReplayChannel.Tickers:
          each(ch.tickers[f.sym]);
          break;
        case GateReplayChannel.Candlesticks:
          each(ch.candles[f.sym]!.get(f.interval));
          break;
        default:
          break;
      }
      return n > 0;
    },
    flush: () => wiring.flush(),
    congested(): boolean {
      const hw = wiring.highWaterBytes;
      for (const s of wiring.sockets) if (s.ws !== null && s.pub.size > 0 && s.ws.getBufferedAmount() > hw) return true;
      return false;
    },
  };
}

/** The shared replay clock (../market/ReplayPlayer.ts) over a Gate recording, started by the first public subscription. */
export class GateReplayPlayer extends TimelinePlayer<GateReplayItem> implements GateReplayControl {
  constructor(
    source: GateReplaySource,
    private readonly wiring: GateReplayWiring,
    private readonly opts: GateReplayOptions,
  ) {
    // No drain kick on the Gate side: look again after 1 ms while a subscriber is above the high-water mark.
    super(source, gateReplaySink(wiring), {
      file: opts.file,
      speed: opts.speed ?? 1,
      loop: opts.loop ?? false,
      maxFrames: opts.maxFrames ?? Number.POSITIVE_INFINITY,
      congestionRetryMs: 1,
    });
  }

  /** Subscriptions changed: the first public one starts the replay (after startDelayMs) unless manualStart. */
  subscriptionsChanged(): void {
    if (this.opts.manualStart || this.isStarted) return;
    if (this.wiring.channels.active().length > 0) this.start(this.opts.startDelayMs ?? 100);
  }
}

/**
 * The answer to a replayed `GET /api/v4/futures/usdt/order_book?...&with_id=true`, or null to leave the request
 * to the venue's REST (other paths, no with_id, bad or unknown parameters: the venue's own errors apply).
 */
export function replayOrderBookResponse(src: GateReplaySource, method: string, path: string, query: string, nowMs: number): GateRestResponse | null {
  if (method !== 'get' || path !== '/api/v4/futures/usdt/order_book') return null;
  const q = new URLSearchParams(query);
  if (q.get('with_id') !== 'true') return null;
  const contract = q.get('contract');
  if (contract === null || src.contract(contract) === undefined) return null;
  const ls = q.get('limit');
  let limit = 10;
  if (ls !== null && ls !== '') {
    if (!/^\d{1,4}$/.test(ls) || Number(ls) < 1 || Number(ls) > 300) return null;
    limit = Number(ls);
  }
  const body = src.orderBookBody(contract, limit, nowMs);
  return body === null ? null : { status: 200, body, headers: [] };
}
