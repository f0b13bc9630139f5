import { snapshotLevels, type LevelReader } from './recordingLines.js';
import type { BookTickerEvent, BookTop, DepthEvent, DepthSnapshot, Side, TakeResult } from './types.js';

/**
 * The order book a replay rebuilds from a recording, shared by the simulator dialects (Binance `ReplaySource`,
 * Gate `GateReplaySource`): recorded snapshots and replayed depth updates, with the book-ticker stream as the
 * freshest top. Orders fill against it without changing it (no market impact: the recording goes on as
 * recorded). What each venue's ids mean (which updates a snapshot covers) stays with the venue.
 */

/**
 * A recorded snapshot is served until the replay has sent this many depth events of its symbol past it;
 * after that a client that asks has likely no longer buffered the event straddling it (the feed's BookSync
 * keeps ~1024 records), so the venue serves the book it rebuilt (recorded snapshot + replayed diffs) instead.
 */
export const STALE_SNAPSHOT_EVENTS = 100;

/** A recorded REST book snapshot, as far as the shared book needs it. */
export interface RecordedBook {
  readonly sym: number;
  /** The recorded response body, byte-exact. */
  readonly body: string;
  /** [tick, qty] from the best bid down / the best ask up. */
  readonly bids: Array<[number, number]>;
  readonly asks: Array<[number, number]>;
}

/**
 * The venue-neutral part of a recorded snapshot (REST line `payload` with `bids` and `asks`); the venue adds
 * its ids (`lastUpdateId` on Binance, `id` on Gate).
 */
export function recordedBook(line: { ts: number; body: string; payload: Record<string, unknown> }, sym: number, read: LevelReader): RecordedBook & { type: 1; ts: number } {
  return { type: 1, ts: line.ts, sym, body: line.body, bids: snapshotLevels(line.payload['bids'], read), asks: snapshotLevels(line.payload['asks'], read) };
}

const byPriceDown = (x: [number, number], y: [number, number]): number => y[0] - x[0];
const byPriceUp = (x: [number, number], y: [number, number]): number => x[0] - y[0];

function setLevels(m: Map<number, number>, flat: readonly number[]): void {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i + 1]! > 0) m.set(flat[i]!, flat[i + 1]!);
    else m.delete(flat[i]!);
  }
}

/** One symbol's replayed book. */
export class ReplayBook {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  /** `u` of the last depth event applied, or the snapshot's id (0 = nothing yet). */
  lastU = 0;
  /** `U` of the last depth event applied, -1 = none since the last snapshot. */
  lastFirstU = -1;
  /** `time` (ms) of the last depth event that carried one, 0 = none. */
  updateMs = 0;
  /** Last book ticker (u, bid, bidQty, ask, askQty); tu -1 = none, bid/ask -1 = empty side. */
  tu = -1;
  tb = -1;
  tbq = 0;
  ta = -1;
  taq = 0;
  /** Depth events since the last snapshot (a snapshot re-applies the ones it does not cover). */
  private recent: DepthEvent[] = [];
  /** Depth events replayed past the last snapshot (-1 = no snapshot replayed yet). */
  pastSnapshot = -1;
  private bestBid = -1;
  private bestAsk = -1;
  /** The best prices are recomputed only after the depth book changed. */
  private dirty = false;

  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.lastU = 0;
    this.lastFirstU = -1;
    this.updateMs = 0;
    this.tu = -1;
    this.tb = this.ta = -1;
    this.tbq = this.taq = 0;
    this.recent = [];
    this.pastSnapshot = -1;
    this.dirty = true;
  }

  /** Shows this top until the replay says more (tu 0: any replayed depth is at least as recent). */
  prime(t: BookTop): void {
    this.tu = 0;
    this.tb = t.bid;
    this.tbq = t.bidQty;
    this.ta = t.ask;
    this.taq = t.askQty;
  }

  applyTicker(ev: BookTickerEvent): void {
    this.tu = ev.u;
    this.tb = ev.bid;
    this.tbq = ev.bidQty;
    this.ta = ev.ask;
    this.taq = ev.askQty;
  }

  /** `full`: the event replaces the whole book (Gate's `full: true` update). */
  applyDepth(ev: DepthEvent, full = false): void {
    if (full) {
      this.bids.clear();
      this.asks.clear();
    }
    setLevels(this.bids, ev.bids);
    setLevels(this.asks, ev.asks);
    this.lastU = ev.u;
    this.lastFirstU = ev.U;
    if (ev.time === ev.time) this.updateMs = ev.time;
    this.dirty = true;
    if (this.pastSnapshot >= 0) this.pastSnapshot++;
    this.recent.push(ev);
    if (this.recent.length > 256) this.recent.splice(0, 128);
  }

  /**
   * Replaces the book with a snapshot whose id is `id`, then applies again the recent events with
   * `u >= firstUncovered` (the venue's rule of which updates a snapshot does not cover yet).
   */
  applySnapshot(s: RecordedBook, id: number, firstUncovered: number): void {
    const recent = this.recent;
    this.recent = [];
    this.bids.clear();
    this.asks.clear();
    for (const [t, q] of s.bids) this.bids.set(t, q);
    for (const [t, q] of s.asks) this.asks.set(t, q);
    this.lastU = id;
    this.lastFirstU = -1;
    this.dirty = true;
    this.pastSnapshot = 0;
    for (const ev of recent) if (ev.u >= firstUncovered) this.applyDepth(ev);
  }

  /** The depth book alone (no book ticker), `n` levels per side from the best: a snapshot as of `lastU`. */
  depthLevels(isBid: boolean, n: number): Array<[number, number]> {
    const out = [...(isBid ? this.bids : this.asks)];
    out.sort(isBid ? byPriceDown : byPriceUp);
    return out.length > n ? out.slice(0, n) : out;
  }

  /** The rebuilt depth book as a snapshot: the last replayed depth event (u == lastUpdateId) straddles it. */
  depthSnapshot(limit: number, now: number): DepthSnapshot {
    return { lastUpdateId: this.lastU, time: now, bids: this.depthLevels(true, limit), asks: this.depthLevels(false, limit) };
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

  /** The book ticker is the top while it is at least as recent as the depth (it is real time; depth is batched). */
  top(): BookTop {
    if (this.tu >= 0 && (this.tu >= this.lastU || (this.bids.size === 0 && this.asks.size === 0))) {
      return { u: this.tu, bid: this.tb, bidQty: this.tbq, ask: this.ta, askQty: this.taq };
    }
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
    const bestQty = isBid ? t.bidQty : t.askQty;
    if (best >= 0 && bestQty > 0) out.push([best, bestQty]);
    if (out.length >= n) return out.length > n ? out.slice(0, n) : out;
    const behind: Array<[number, number]> = [];
    for (const [p, q] of isBid ? this.bids : this.asks) if (best < 0 || (isBid ? p < best : p > best)) behind.push([p, q]);
    behind.sort(isBid ? byPriceDown : byPriceUp);
    for (let i = 0; i < behind.length && out.length < n; i++) out.push(behind[i]!);
    return out;
  }

  levels(n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    return { bids: this.side(true, n), asks: this.side(false, n) };
  }

  /** How much a taker could fill now, `maxQty` at most, within `limitPrice` (null = any price). */
  available(takerSide: Side, maxQty: number, limitPrice: number | null): number {
    let got = 0;
    for (const [t, q] of this.side(takerSide === 'SELL', Number.MAX_SAFE_INTEGER)) {
      if (limitPrice !== null && (takerSide === 'BUY' ? t > limitPrice : t < limitPrice)) break;
      got += q;
      if (got >= maxQty) return maxQty;
    }
    return got;
  }

  /** Walks the book without changing it (no market impact) and prints nothing publicly. */
  take(takerSide: Side, qty: number, limitPrice: number | null): TakeResult {
    const res: TakeResult = { fills: [], filled: 0, events: [] };
    let left = qty;
    for (const [t, q] of this.side(takerSide === 'SELL', Number.MAX_SAFE_INTEGER)) {
      if (left <= 0) break;
      if (limitPrice !== null && (takerSide === 'BUY' ? t > limitPrice : t < limitPrice)) break;
      const f = Math.min(left, q);
      left -= f;
      res.fills.push({ price: t, qty: f });
    }
    res.filled = qty - left;
    return res;
  }
}

/**
 * The replayed books of all symbols of a recording with its snapshots: which snapshot is current, and the
 * first top each symbol shows (the state until the replay says more).
 */
export class ReplayBooks<S extends RecordedBook> {
  private readonly books: ReplayBook[];
  /** Snapshots per symbol in time order, and the index of the latest one replayed (-1 = none yet). */
  private readonly snaps: S[][];
  private readonly snapAt: Int32Array;
  private readonly firstTop: Array<BookTop | null>;

  constructor(n: number) {
    this.books = Array.from({ length: n }, () => new ReplayBook());
    this.snaps = Array.from({ length: n }, () => []);
    this.snapAt = new Int32Array(n).fill(-1);
    this.firstTop = new Array<BookTop | null>(n).fill(null);
  }

  get length(): number {
    return this.books.length;
  }

  book(sym: number): ReplayBook {
    const b = this.books[sym];
    if (b === undefined) throw new Error(`replay: unknown symbol index ${sym}`);
    return b;
  }

  /** Load time: a recorded snapshot, in time order. */
  addSnapshot(s: S): void {
    this.snaps[s.sym]!.push(s);
    if (s.bids.length > 0 && s.asks.length > 0) this.noteTop(s.sym, { u: 0, bid: s.bids[0]![0], bidQty: s.bids[0]![1], ask: s.asks[0]![0], askQty: s.asks[0]![1] });
  }

  /** Load time: a top of book the recording shows; the first one per symbol primes its book. */
  noteTop(sym: number, t: BookTop): void {
    if (this.firstTop[sym] === null) this.firstTop[sym] = t;
  }

  /** Back to the start of the recording: empty books (primed with the first top seen), no snapshot yet. */
  reset(): void {
    for (let s = 0; s < this.books.length; s++) {
      const b = this.books[s]!;
      b.clear();
      const t = this.firstTop[s];
      if (t) b.prime(t);
    }
    this.snapAt.fill(-1);
  }

  /** The replay passed a recorded snapshot with this id (see `ReplayBook.applySnapshot`). */
  applySnapshot(s: S, id: number, firstUncovered: number): void {
    this.snapAt[s.sym] = this.snaps[s.sym]!.indexOf(s);
    this.book(s.sym).applySnapshot(s, id, firstUncovered);
  }

  /**
   * The recorded snapshot a depth request gets now: the latest one replayed, else (the replay has not reached
   * one yet) the first one, whose id the stream will still straddle. null when the recording has none for the
   * symbol, or when the replay has gone STALE_SNAPSHOT_EVENTS depth events past it (the venue then answers
   * with the book rebuilt from it).
   */
  currentSnapshot(sym: number): S | null {
    const list = this.snaps[sym];
    if (!list || list.length === 0) return null;
    const i = this.snapAt[sym]!;
    if (i >= 0 && this.books[sym]!.pastSnapshot > STALE_SNAPSHOT_EVENTS) return null;
    return list[i >= 0 ? i : 0]!;
  }
}

/**
 * A recorded snapshot's body for a request of `limit` levels: byte-exact when it has no more levels per side,
 * else cut to `limit` (re-serialized, strings unchanged). Both venues name the sides `bids` and `asks`.
 */
export function recordedBookBody(s: RecordedBook, limit: number): string {
  if (s.bids.length <= limit && s.asks.length <= limit) return s.body;
  const o = JSON.parse(s.body) as Record<string, unknown>;
  if (Array.isArray(o['bids'])) o['bids'] = o['bids'].slice(0, limit);
  if (Array.isArray(o['asks'])) o['asks'] = o['asks'].slice(0, limit);
  return JSON.stringify(o);
}
