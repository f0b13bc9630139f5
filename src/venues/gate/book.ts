import { BookSync, type BookSink, type BookSyncOptions, DepthAction } from '../../book/BookSync.js';
import { DEPTH, DEPTH_LEVELS_PER_RECORD, RecordFlag, RecordType, depthAskMask, depthLevels, headerCount, headerFlags, headerType } from '../../ring/layout.js';

/**
 * Gate's order-book procedure (protocols.md §2.5) on the engine's BookSync, without changing it:
 *
 * - Gate: after a snapshot with `id`, drop pushes with u < id + 1; the first applied push has
 *   U <= id + 1 <= u; then every push needs U == previous u + 1.
 * - BookSync (Binance §1.4): after a snapshot with lastUpdateId L, drop events with u < L; the first applied
 *   event has U <= L <= u; then every event needs pu == previous u.
 *
 * The decoder writes pu = U - 1 into each depth record, and this class hands BookSync L = id + 1 (the first
 * update id the snapshot does not contain). The two procedures are then the same, gap detection, resync
 * budget and buffering included. One visible consequence: right after a snapshot, `lastUpdateId` (and the
 * book's) reads id + 1 until the first push is applied; from then on it is that push's `u`.
 *
 * A push with `full: true` (decoded as a Reset-flagged event) replaces the whole book: its levels are
 * collected and applied as a snapshot whose id is the push's `u`, without asking REST for one.
 */
export class GateBookSync extends BookSync {
  /** pushes with `full: true` applied as snapshots */
  fullUpdates = 0;
  private suppressRequest = false;
  private fullSym = -1;
  private fullBids = new Float64Array(512);
  private fullAsks = new Float64Array(512);
  private nFullBids = 0;
  private nFullAsks = 0;

  constructor(symbolCount: number, sink: BookSink, opts: BookSyncOptions = {}) {
    const wanted = opts.requestSnapshot;
    // the callback runs only after construction; `this` cannot be named before super()
    let self: GateBookSync | null = null;
    super(symbolCount, sink, {
      ...opts,
      requestSnapshot: (sym, delayMs) => {
        if (self !== null && self.suppressRequest) return;
        wanted?.(sym, delayMs);
      },
    });
    self = this;
  }

  /** The REST snapshot of `GET /futures/usdt/order_book?...&with_id=true`: `id` as the venue sent it. */
  override onSnapshot(symbolId: number, id: number, bids: Float64Array, asks: Float64Array, nowNs = 0): boolean {
    return super.onSnapshot(symbolId, id + 1, bids, asks, nowNs);
  }

  override onRecord(f64: Float64Array, i32: Int32Array, base: number): DepthAction {
    const h = i32[base * 2]!;
    const flags = headerFlags(h);
    if (headerType(h) !== RecordType.Depth || (flags & RecordFlag.Reset) === 0) return super.onRecord(f64, i32, base);
    const sym = i32[base * 2 + 1]!;
    if (sym < 0 || sym >= this.symbolCount) return DepthAction.Ignored;
    if ((flags & RecordFlag.First) !== 0) {
      this.fullSym = sym;
      this.nFullBids = 0;
      this.nFullAsks = 0;
    }
    if (this.fullSym !== sym) return DepthAction.Ignored;
    const count = headerCount(h);
    const n = Math.min(depthLevels(count), DEPTH_LEVELS_PER_RECORD);
    const mask = depthAskMask(count);
    for (let j = 0; j < n; j++) {
      const w = base + DEPTH.LEVELS + 2 * j;
      if (((mask >>> j) & 1) !== 0) this.nFullAsks = pushLevel(this, false, f64[w]!, f64[w + 1]!);
      else this.nFullBids = pushLevel(this, true, f64[w]!, f64[w + 1]!);
    }
    if ((flags & RecordFlag.Last) === 0) return DepthAction.Applied;
    this.fullSym = -1;
    const now = f64[base + 1]!; // RECV_TS
    const u = f64[base + DEPTH.FINAL_UPDATE_ID]!;
    this.fullUpdates++;
    this.suppressRequest = true;
    try {
      this.restart(sym, now);
      this.onSnapshot(sym, u, this.fullBids.subarray(0, 2 * this.nFullBids), this.fullAsks.subarray(0, 2 * this.nFullAsks), now);
    } finally {
      this.suppressRequest = false;
    }
    return DepthAction.Applied;
  }

  /** @internal level scratch of a full push (grows when a push has more levels than any before) */
  levelScratch(bid: boolean, need: number): Float64Array {
    let a = bid ? this.fullBids : this.fullAsks;
    if (a.length < need) {
      const g = new Float64Array(Math.max(need, a.length * 2));
      g.set(a);
      a = g;
      if (bid) this.fullBids = g;
      else this.fullAsks = g;
    }
    return a;
  }

  /** @internal */
  levelCount(bid: boolean): number {
    return bid ? this.nFullBids : this.nFullAsks;
  }
}

function pushLevel(s: GateBookSync, bid: boolean, price: number, size: number): number {
  const n = s.levelCount(bid);
  const a = s.levelScratch(bid, 2 * n + 2);
  a[2 * n] = price;
  a[2 * n + 1] = size;
  return n + 1;
}

/** A Gate REST order-book snapshot: levels as price, size pairs (bids best first, asks best first). */
export interface GateOrderBookSnapshot {
  /** the book's update id (`with_id=true`); -1 when the response has none */
  id: number;
  /** `current` (server time, s) */
  current: number;
  bids: Float64Array;
  asks: Float64Array;
}

/**
 * Parses a `GET /futures/usdt/order_book` body (`{"id","current","update","asks":[{"p","s"}],"bids":[...]}`).
 * Off the hot path: JSON.parse. Sizes may be integers or decimal strings. Throws on another shape.
 */
export function parseGateOrderBook(body: Uint8Array | string): GateOrderBookSnapshot {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const o = JSON.parse(text) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) throw new Error('gate order book: not an object');
  const id = o['id'];
  if (id !== undefined && (typeof id !== 'number' || !Number.isSafeInteger(id))) throw new Error('gate order book: id is not an integer');
  return {
    id: typeof id === 'number' ? id : -1,
    current: typeof o['current'] === 'number' ? o['current'] : NaN,
    bids: levels(o['bids'], 'bids'),
    asks: levels(o['asks'], 'asks'),
  };
}

function levels(v: unknown, name: string): Float64Array {
  if (!Array.isArray(v)) throw new Error(`gate order book: ${name} is not an array`);
  const out = new Float64Array(v.length * 2);
  v.forEach((lvl: unknown, i) => {
    const l = lvl as { p?: unknown; s?: unknown } | null;
    if (typeof l !== 'object' || l === null) throw new Error(`gate order book: ${name}[${i}] is not {p, s}`);
    const p = parseFloat(String(l.p));
    const s = parseFloat(String(l.s));
    if (!Number.isFinite(p) || !Number.isFinite(s)) throw new Error(`gate order book: ${name}[${i}] is not numeric`);
    out[2 * i] = p;
    out[2 * i + 1] = s;
  });
  return out;
}

/** The `contract=` query parameter of a REST url, or ''. */
export function restContract(url: string): string {
  const m = /[?&]contract=([^&#]+)/.exec(url);
  if (!m) return '';
  try {
    return decodeURIComponent(m[1]!).toUpperCase();
  } catch {
    return m[1]!.toUpperCase();
  }
}
