import type { SlotWriter } from '../ring/SlotWriter.js';
import {
  DEPTH,
  DEPTH_LEVELS_PER_RECORD,
  RecordFlag,
  RecordType,
  W,
  depthAskMask,
  depthCount,
  depthLevels,
  headerCount,
  headerFlags,
  packHeader,
} from '../ring/layout.js';

export const enum BookSide {
  Bid = 0,
  Ask = 1,
}

/** Levels a side holds before its arrays grow: a limit=1000 snapshot plus the diffs that add deeper levels. */
export const DEFAULT_LEVELS_PER_SIDE = 2048;

/** Levels per block of a side (see Ladder). */
const BLOCK = 64;
/** A full block splits into two of this many levels (the lower) and the rest. */
const SPLIT_AT = BLOCK >>> 1;
/** A block that falls below this many levels merges with a neighbour if the two fit in MERGE_MAX. */
const MERGE_BELOW = BLOCK >>> 2;
const MERGE_MAX = (BLOCK * 3) >>> 2;
/** Words per block: key, qty pairs. */
const BW = 2 * BLOCK;
/**
 * Within a block, a level this close to the block's top is found by a linear scan from the top; deeper
 * ones by binary search. Depth diffs cluster at the top, where a few compares beat a binary search.
 */
const TOP_SCAN = 8;
/** Shifts of up to this many levels are a plain loop; longer ones copyWithin (a memmove). */
const LOOP_SHIFT_MAX = 16;

/**
 * One side of a book: a sorted ladder cut into blocks of at most BLOCK levels. Keys ascend within a block
 * and from block to block, with the BEST level at the very end, so the levels that change most (the top)
 * are found first and move nothing when they come and go. A change deeper in the book shifts at most one
 * block (64 levels), not everything above it: on the recorded Binance streams half of all inserts and
 * deletes land more than 16 levels deep and a tenth more than 250 deep.
 *
 * A bid's key is its price and an ask's key is minus its price, so on both sides a higher key is a better
 * level and one class (one shape for V8) serves both. All storage is typed arrays, allocated up front for
 * a full snapshot; they double when a side outgrows them (rare), otherwise nothing is allocated.
 */
class Ladder {
  /**
   * Arguments of set / remove / locate: [key, qty]. Doubles passed to a call V8 does not inline are boxed
   * (one heap number each, per call); through this array they never are. Callers write it, then call.
   */
  readonly arg = new Float64Array(2);
  /** block slot s holds its levels at lv[s * BW ...] as key, qty pairs */
  lv: Float64Array;
  /** levels in each slot */
  cnt: Int32Array;
  /** slots by position, worst block first, best block last */
  order: Int32Array;
  /** lowest key of the block at each position */
  low: Float64Array;
  /** unused slots (a stack) */
  free: Int32Array;
  nFree = 0;
  /** blocks in use */
  nb = 0;
  /** levels */
  n = 0;
  /** position of the block that `locate` settled on */
  pos = 0;

  constructor(levels: number) {
    // blocks are at least a quarter full (merges) and usually half: room for `levels` at half fill
    const slots = Math.max(4, Math.ceil(levels / SPLIT_AT) + 2);
    this.lv = new Float64Array(slots * BW);
    this.cnt = new Int32Array(slots);
    this.order = new Int32Array(slots);
    this.low = new Float64Array(slots);
    this.free = new Int32Array(slots);
    this.clear();
  }

  clear(): void {
    const slots = this.cnt.length;
    for (let s = 0; s < slots; s++) this.free[s] = slots - 1 - s;
    this.nFree = slots;
    this.nb = 0;
    this.n = 0;
  }

  /**
   * Finds `key`: sets `pos` to the position of the block that holds it (or should) and returns the index
   * within that block, or ~insertionIndex. Needs at least one block.
   */
  locate(): number {
    const key = this.arg[0]!;
    const low = this.low;
    let p = this.nb - 1;
    if (key < low[p]!) {
      // the last block whose lowest key is <= key (or the first block)
      let lo = 0;
      let hi = p - 1;
      p = 0;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (low[mid]! <= key) {
          p = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
    }
    this.pos = p;
    const lv = this.lv;
    const base = this.order[p]! * BW;
    let hi = this.cnt[this.order[p]!]! - 1;
    const scanStop = hi - TOP_SCAN;
    while (hi > scanStop) {
      if (hi < 0) return ~0;
      const k = lv[base + 2 * hi]!;
      if (k === key) return hi;
      if (k < key) return ~(hi + 1);
      hi--;
    }
    let lo = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = lv[base + 2 * mid]!;
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return mid;
    }
    return ~lo;
  }

  /** Sets the quantity at key = arg[0] to qty = arg[1] (> 0), inserting the level if needed. */
  set(): void {
    const key = this.arg[0]!;
    const qty = this.arg[1]!;
    if (this.nb === 0) {
      const s = this.alloc();
      this.cnt[s] = 0;
      this.order[0] = s;
      this.low[0] = key;
      this.nb = 1;
    }
    const i = this.locate();
    let p = this.pos;
    let slot = this.order[p]!;
    if (i >= 0) {
      this.lv[slot * BW + 2 * i + 1] = qty;
      return;
    }
    let idx = ~i;
    if (this.cnt[slot] === BLOCK) {
      // split: the upper (better) half moves to a new block just above
      const upper = this.alloc();
      this.lv.copyWithin(upper * BW, slot * BW + 2 * SPLIT_AT, slot * BW + BW);
      this.cnt[upper] = BLOCK - SPLIT_AT;
      this.cnt[slot] = SPLIT_AT;
      this.insertAt(p + 1, upper, this.lv[upper * BW]!);
      if (idx > SPLIT_AT) {
        slot = upper;
        idx -= SPLIT_AT;
        p++;
      }
    }
    const lv = this.lv;
    const base = slot * BW;
    const c = this.cnt[slot]!;
    if (c - idx > LOOP_SHIFT_MAX) {
      lv.copyWithin(base + 2 * idx + 2, base + 2 * idx, base + 2 * c);
    } else {
      for (let j = base + 2 * c + 1; j > base + 2 * idx + 1; j--) lv[j] = lv[j - 2]!;
    }
    lv[base + 2 * idx] = key;
    lv[base + 2 * idx + 1] = qty;
    this.cnt[slot] = c + 1;
    this.n++;
    if (idx === 0) this.low[p] = key;
  }

  /** Removes the level at key = arg[0]; a missing level is not an error (Binance sends deletes of unknown levels). */
  remove(): void {
    if (this.nb === 0) return;
    const i = this.locate();
    if (i < 0) return;
    const p = this.pos;
    const slot = this.order[p]!;
    const lv = this.lv;
    const base = slot * BW;
    const c = this.cnt[slot]! - 1;
    if (c - i > LOOP_SHIFT_MAX) {
      lv.copyWithin(base + 2 * i, base + 2 * i + 2, base + 2 * c + 2);
    } else {
      for (let j = base + 2 * i; j < base + 2 * c; j++) lv[j] = lv[j + 2]!;
    }
    this.cnt[slot] = c;
    this.n--;
    if (c === 0) {
      this.removeAt(p);
      this.free[this.nFree++] = slot;
      return;
    }
    if (i === 0) this.low[p] = lv[base]!;
    if (c < MERGE_BELOW) this.mergeAround(p);
  }

  /** Key of level i from the top (0 = best), NaN past the end. */
  topKey(i: number): number {
    for (let p = this.nb - 1; p >= 0; p--) {
      const s = this.order[p]!;
      const c = this.cnt[s]!;
      if (i < c) return this.lv[s * BW + 2 * (c - 1 - i)]!;
      i -= c;
    }
    return NaN;
  }

  /** Quantity of level i from the top, 0 past the end. */
  topQty(i: number): number {
    for (let p = this.nb - 1; p >= 0; p--) {
      const s = this.order[p]!;
      const c = this.cnt[s]!;
      if (i < c) return this.lv[s * BW + 2 * (c - 1 - i) + 1]!;
      i -= c;
    }
    return 0;
  }

  bestKey(): number {
    if (this.nb === 0) return NaN;
    const s = this.order[this.nb - 1]!;
    return this.lv[s * BW + 2 * (this.cnt[s]! - 1)]!;
  }

  bestQty(): number {
    if (this.nb === 0) return 0;
    const s = this.order[this.nb - 1]!;
    return this.lv[s * BW + 2 * (this.cnt[s]! - 1) + 1]!;
  }

  qtyOf(key: number): number {
    if (this.nb === 0) return 0;
    this.arg[0] = key;
    const i = this.locate();
    return i >= 0 ? this.lv[this.order[this.pos]! * BW + 2 * i + 1]! : 0;
  }

  /** Copies up to `max` levels, best first, as (sign * key), qty pairs; returns the number copied. */
  fill(out: Float64Array, max: number, sign: number): number {
    const want = Math.min(max, this.n, out.length >>> 1);
    let k = 0;
    for (let p = this.nb - 1; p >= 0 && k < want; p--) {
      const s = this.order[p]!;
      for (let j = s * BW + 2 * (this.cnt[s]! - 1); j >= s * BW && k < want; j -= 2, k++) {
        out[2 * k] = sign * this.lv[j]!;
        out[2 * k + 1] = this.lv[j + 1]!;
      }
    }
    return k;
  }

  /** Merges the small block at position p with its smaller neighbour when the two fit in MERGE_MAX. */
  private mergeAround(p: number): void {
    const order = this.order;
    const cnt = this.cnt;
    let q = -1;
    if (p > 0) q = p - 1;
    if (p + 1 < this.nb && (q < 0 || cnt[order[p + 1]!]! < cnt[order[q]!]!)) q = p + 1;
    if (q < 0) return;
    const a = p < q ? p : q; // the lower block keeps its slot
    const sa = order[a]!;
    const sb = order[a + 1]!;
    const ca = cnt[sa]!;
    const cb = cnt[sb]!;
    if (ca + cb > MERGE_MAX) return;
    this.lv.copyWithin(sa * BW + 2 * ca, sb * BW, sb * BW + 2 * cb);
    cnt[sa] = ca + cb;
    this.removeAt(a + 1);
    this.free[this.nFree++] = sb;
  }

  private insertAt(p: number, slot: number, lowKey: number): void {
    const order = this.order;
    const low = this.low;
    for (let j = this.nb; j > p; j--) {
      order[j] = order[j - 1]!;
      low[j] = low[j - 1]!;
    }
    order[p] = slot;
    low[p] = lowKey;
    this.nb++;
  }

  private removeAt(p: number): void {
    const order = this.order;
    const low = this.low;
    const nb = --this.nb;
    for (let j = p; j < nb; j++) {
      order[j] = order[j + 1]!;
      low[j] = low[j + 1]!;
    }
  }

  private alloc(): number {
    if (this.nFree === 0) this.grow();
    return this.free[--this.nFree]!;
  }

  /** Doubles the block slots: allocates only when a side outgrows what a full snapshot needs. */
  private grow(): void {
    const old = this.cnt.length;
    const slots = old * 2;
    const lv = new Float64Array(slots * BW);
    lv.set(this.lv);
    this.lv = lv;
    const cnt = new Int32Array(slots);
    cnt.set(this.cnt);
    this.cnt = cnt;
    const order = new Int32Array(slots);
    order.set(this.order);
    this.order = order;
    const low = new Float64Array(slots);
    low.set(this.low);
    this.low = low;
    const free = new Int32Array(slots);
    free.set(this.free.subarray(0, this.nFree));
    for (let s = slots - 1; s >= old; s--) free[this.nFree++] = s;
    this.free = free;
  }
}

/**
 * Engine-side L2 price-level book of one symbol. Quantities are absolute (0 deletes the level). Prices are
 * float64 as parsed from the venue's decimal strings; two parses of the same decimal (the decoder's, a REST
 * snapshot's, a bookTicker's) give the same float64, so levels are matched by exact equality.
 *
 * Reading the top of the book copies nothing: `bestBid` / `bestBidQty` / ... and `bidPrice(i)` / `bidQty(i)` /
 * `askPrice(i)` / `askQty(i)` read level i from the top (0 = best) straight from the side's storage (the top
 * block holds the first 16..64 levels; each block below costs one more step); `fillBids` / `fillAsks` copy
 * the top N into a caller-owned array in one walk. Nothing allocates per update (a side's storage doubles
 * when it fills up).
 */
export class L2Book {
  private readonly bids: Ladder;
  private readonly asks: Ladder;
  /** Final update id (`u`) of the last event applied, or the snapshot's lastUpdateId; -1 = none. Set by the appliers. */
  lastUpdateId = -1;

  constructor(levelsPerSide: number = DEFAULT_LEVELS_PER_SIDE) {
    const cap = Math.max(4, levelsPerSide | 0);
    this.bids = new Ladder(cap);
    this.asks = new Ladder(cap);
  }

  /** Sets one level's absolute quantity; qty 0 (or anything not > 0) deletes it. */
  apply(side: BookSide, price: number, qty: number): void {
    if (side === BookSide.Ask) this.applyAsk(price, qty);
    else this.applyBid(price, qty);
  }

  applyBid(price: number, qty: number): void {
    if (price !== price) return; // NaN would break the ladder's order
    const a = this.bids.arg;
    a[0] = price;
    a[1] = qty;
    if (qty > 0) this.bids.set();
    else this.bids.remove();
  }

  applyAsk(price: number, qty: number): void {
    if (price !== price) return;
    const a = this.asks.arg;
    a[0] = -price;
    a[1] = qty;
    if (qty > 0) this.asks.set();
    else this.asks.remove();
  }

  /**
   * Applies the level (price, qty) stored at f64[w], f64[w + 1] to one side. Only integers cross the call,
   * so the hot appliers (ring records) box nothing even where V8 does not inline.
   */
  applyLevelAt(f64: Float64Array, w: number, ask: boolean): void {
    const price = f64[w]!;
    if (price !== price) return;
    const qty = f64[w + 1]!;
    const side = ask ? this.asks : this.bids;
    const a = side.arg;
    a[0] = ask ? -price : price;
    a[1] = qty;
    if (qty > 0) side.set();
    else side.remove();
  }

  clearSide(side: BookSide): void {
    if (side === BookSide.Ask) this.asks.clear();
    else this.bids.clear();
  }

  /** Empties both sides (lastUpdateId is left to the caller). */
  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  get bidLevels(): number {
    return this.bids.n;
  }

  get askLevels(): number {
    return this.asks.n;
  }

  levels(side: BookSide): number {
    return side === BookSide.Ask ? this.asks.n : this.bids.n;
  }

  /** Best bid price, NaN when the side is empty. */
  get bestBid(): number {
    return this.bids.bestKey();
  }

  /** Quantity at the best bid, 0 when the side is empty. */
  get bestBidQty(): number {
    return this.bids.bestQty();
  }

  /** Best ask price, NaN when the side is empty. */
  get bestAsk(): number {
    return -this.asks.bestKey();
  }

  get bestAskQty(): number {
    return this.asks.bestQty();
  }

  /** Price of bid level i from the top (0 = best), NaN past the last level. */
  bidPrice(i: number): number {
    return i >= 0 ? this.bids.topKey(i) : NaN;
  }

  /** Quantity of bid level i from the top, 0 past the last level. */
  bidQty(i: number): number {
    return i >= 0 ? this.bids.topQty(i) : 0;
  }

  askPrice(i: number): number {
    return i >= 0 ? -this.asks.topKey(i) : NaN;
  }

  askQty(i: number): number {
    return i >= 0 ? this.asks.topQty(i) : 0;
  }

  /** Quantity resting at `price` on `side`, 0 if there is no such level. */
  qtyAt(side: BookSide, price: number): number {
    return side === BookSide.Ask ? this.asks.qtyOf(-price) : this.bids.qtyOf(price);
  }

  /** Copies up to `maxLevels` bids, best first, into out as price, qty pairs; returns the number copied. */
  fillBids(out: Float64Array, maxLevels: number): number {
    return this.bids.fill(out, maxLevels, 1);
  }

  /** Copies up to `maxLevels` asks, best first, into out as price, qty pairs; returns the number copied. */
  fillAsks(out: Float64Array, maxLevels: number): number {
    return this.asks.fill(out, maxLevels, -1);
  }
}

// ------------------------------------------------------------------ ring records <-> L2Book

/** Words of a Depth record that carry data (header .. last level); the rest of the slot is unused. */
export const DEPTH_RECORD_WORDS = DEPTH.LEVELS + 2 * DEPTH_LEVELS_PER_RECORD;

/**
 * Applies the levels of one Depth record to `book` as they are (no Reset / First / Snapshot handling: see
 * `BookMirror` for the consumer's full rules). On the event's Last record, `book.lastUpdateId` becomes its `u`.
 */
export function applyDepthLevels(book: L2Book, f64: Float64Array, i32: Int32Array, base: number): void {
  const h = i32[base * 2]!;
  const count = headerCount(h);
  let n = depthLevels(count);
  if (n > DEPTH_LEVELS_PER_RECORD) n = DEPTH_LEVELS_PER_RECORD;
  const askMask = depthAskMask(count);
  let w = base + DEPTH.LEVELS;
  for (let j = 0; j < n; j++, w += 2) book.applyLevelAt(f64, w, ((askMask >>> j) & 1) !== 0);
  if ((headerFlags(h) & RecordFlag.Last) !== 0) book.lastUpdateId = f64[base + DEPTH.FINAL_UPDATE_ID]!;
}

/** Levels of the book being written by writeBookAsReset (grows with the largest book seen). */
let resetScratch = new Float64Array(2 * 2 * DEFAULT_LEVELS_PER_SIDE);

/**
 * Writes the whole book as one depth event flagged Reset (consumers clear the symbol's book on its First
 * record, then apply its levels): records of up to 4 levels, bids best first, then asks best first.
 * U = u = book.lastUpdateId, pu = -1, event/transaction times -1. Used for a REST snapshot and to repair a
 * consumer after ring-A records were dropped. All or nothing: returns the number of records committed, or -1
 * when `out` ran out of slots (the claimed slots are released with `abort`).
 */
export function writeBookAsReset(
  book: L2Book,
  symbolId: number,
  out: SlotWriter,
  recvTs: number,
  pubTs: number,
  extraFirstFlags = 0,
): number {
  const nb = book.bidLevels;
  const total = nb + book.askLevels;
  const nRec = total === 0 ? 1 : Math.ceil(total / DEPTH_LEVELS_PER_RECORD);
  // both sides in one walk each, bids then asks, as price, qty pairs
  if (resetScratch.length < 2 * total) resetScratch = new Float64Array(4 * total);
  const levels = resetScratch;
  book.fillBids(levels, nb);
  book.fillAsks(levels.subarray(2 * nb), total - nb);
  const f64 = out.f64;
  const i32 = out.i32;
  const id = book.lastUpdateId;
  let lv = 0;
  for (let r = 0; r < nRec; r++) {
    const base = out.claim();
    if (base < 0) {
      out.abort();
      return -1;
    }
    let n = total - lv;
    if (n > DEPTH_LEVELS_PER_RECORD) n = DEPTH_LEVELS_PER_RECORD;
    let mask = 0;
    let w = base + DEPTH.LEVELS;
    for (let j = 0; j < n; j++, lv++, w += 2) {
      f64[w] = levels[2 * lv]!;
      f64[w + 1] = levels[2 * lv + 1]!;
      if (lv >= nb) mask |= 1 << j;
    }
    for (let j = n; j < DEPTH_LEVELS_PER_RECORD; j++, w += 2) {
      f64[w] = 0;
      f64[w + 1] = 0;
    }
    let flags = RecordFlag.Reset;
    if (r === 0) flags |= RecordFlag.First | extraFirstFlags;
    if (r === nRec - 1) flags |= RecordFlag.Last;
    i32[base * 2] = packHeader(RecordType.Depth, flags, depthCount(n, mask));
    i32[base * 2 + 1] = symbolId;
    f64[base + W.RECV_TS] = recvTs;
    f64[base + W.PUB_TS] = pubTs;
    f64[base + DEPTH.FIRST_UPDATE_ID] = id;
    f64[base + DEPTH.FINAL_UPDATE_ID] = id;
    f64[base + DEPTH.PREV_UPDATE_ID] = -1;
    f64[base + DEPTH.EVENT_TIME] = -1;
    f64[base + DEPTH.TX_TIME] = -1;
  }
  out.commit();
  return nRec;
}
