import type { MarketEvent, Side } from '../market/types.js';
import type { QueueModel, UniformSource } from './QueueModel.js';

/**
 * Participants' resting (passive) orders per symbol, side and price, matched against the flow of market
 * events with a queue-position estimate (QueueModel).
 *
 * The market book does not contain these orders; each order keeps `ahead`, the estimated MARKET quantity
 * in front of it at its level. Per event:
 * - trade at an order's price (taker on the other side): the queue consumes from the front. Participants
 *   at one level keep price-time priority among themselves: order i stands behind `ahead_i` market units
 *   and the unfilled quantity of the participants that joined before it, so a trade of t fills it by
 *   min(remaining, t - ahead_i - participantsBefore) when positive (partial fills), and leaves
 *   max(0, ahead_i - (t - filledBeforeIt)) market units in front of it.
 * - trade strictly through an order's price (a seller printing below a resting buy, a buyer above a
 *   resting sell): the order fills completely.
 * - the opposite best at or through an order's price (the book crossed it): fills completely.
 * - a new quantity for a level holding orders (depth diff, book ticker; a level inside the spread is
 *   empty): the net decrease, trades already counted, goes to the model; the estimate is then capped
 *   by the new level quantity. Growth is behind everyone.
 * An amended order loses its priority: `requeue` puts it at the back of its (new) level.
 * All fills are at the order's own price (maker). An event may fill several orders; `apply` returns
 * how many fills it produced, read them with `fill(i)` (valid until the next `apply`). Orders filled
 * completely are already out of the book when `apply` returns.
 */

export interface RestingEntry<T> {
  readonly ref: T;
  readonly sym: number;
  readonly side: Side;
  /** Price in ticks. */
  readonly price: number;
  /** Unfilled quantity (steps). */
  rem: number;
  /** Estimated market quantity in front of it (steps; fractional under the probabilistic model). */
  ahead: number;
  /** Its level; null once the order left the book. */
  level: Level<T> | null;
}

export interface PassiveFill<T> {
  entry: RestingEntry<T>;
  /** Steps filled now. */
  qty: number;
}

export interface Level<T> {
  readonly price: number;
  /** Market quantity at this price as last seen, less the trades printed since. */
  qty: number;
  /** Resting orders, in arrival order (time priority). */
  readonly orders: Array<RestingEntry<T>>;
}

class SideBook<T> {
  /** Levels best first (bids descending, asks ascending). */
  readonly levels: Array<Level<T>> = [];
  readonly byPrice = new Map<number, Level<T>>();
  constructor(
    readonly buy: boolean,
    readonly owner: SymBook<T>,
  ) {}

  /** True when price a is better (closer to the other side) than b. */
  better(a: number, b: number): boolean {
    return this.buy ? a > b : a < b;
  }

  level(price: number, qty: number): Level<T> {
    let l = this.byPrice.get(price);
    if (l !== undefined) return l;
    l = { price, qty, orders: [] };
    this.byPrice.set(price, l);
    // Binary search for the first level worse than `price`.
    const a = this.levels;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.better(a[mid]!.price, price)) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, l);
    return l;
  }

  drop(l: Level<T>): void {
    this.byPrice.delete(l.price);
    const i = this.levels.indexOf(l);
    if (i >= 0) this.levels.splice(i, 1);
  }
}

class SymBook<T> {
  readonly bids: SideBook<T> = new SideBook<T>(true, this);
  readonly asks: SideBook<T> = new SideBook<T>(false, this);
  count = 0;
}

export class PassiveBook<T> {
  private readonly syms: Array<SymBook<T> | undefined> = [];
  private readonly fills: Array<PassiveFill<T>> = [];
  private nFills = 0;
  /** Orders in the book, all symbols. */
  size = 0;

  constructor(
    readonly model: QueueModel,
    private readonly rng: UniformSource | null = null,
  ) {
    if (model.random && rng === null) throw new Error('PassiveBook: the queue model draws random numbers; pass a seeded source');
  }

  /** Resting orders of a symbol. */
  count(sym: number): number {
    return this.syms[sym]?.count ?? 0;
  }

  /**
   * Rests an order of `qty` steps at `price`; `levelQty` is the market quantity at that price now (what
   * it queues behind, as the model sees it).
   */
  add(sym: number, side: Side, price: number, qty: number, levelQty: number, ref: T): RestingEntry<T> {
    let sb = this.syms[sym];
    if (sb === undefined) {
      sb = new SymBook<T>();
      while (this.syms.length < sym) this.syms.push(undefined);
      this.syms[sym] = sb;
    }
    const book = side === 'BUY' ? sb.bids : sb.asks;
    const existing = book.byPrice.get(price);
    let l: Level<T>;
    if (existing !== undefined) {
      // The fresh level quantity is an observation for the orders already there.
      this.observe(existing, levelQty);
      l = existing;
    } else l = book.level(price, levelQty);
    let ahead = this.model.joinAhead(levelQty);
    const last = l.orders[l.orders.length - 1];
    if (last !== undefined && last.ahead > ahead) ahead = last.ahead;
    const e: RestingEntry<T> = { ref, sym, side, price, rem: qty, ahead, level: l };
    l.orders.push(e);
    sb.count++;
    this.size++;
    return e;
  }

  /** Takes an order out (cancel, or its owner finished it). False when it was not in the book. */
  remove(e: RestingEntry<T>): boolean {
    const l = e.level;
    if (l === null) return false;
    const i = l.orders.indexOf(e);
    if (i >= 0) l.orders.splice(i, 1);
    e.level = null;
    const sb = this.syms[e.sym]!;
    sb.count--;
    this.size--;
    if (l.orders.length === 0) (e.side === 'BUY' ? sb.bids : sb.asks).drop(l);
    return true;
  }

  /**
   * An amended order (new price and/or unfilled quantity): it leaves its place and joins the back of its
   * (new) price level as a fresh arrival, behind the other participants there and behind `levelQty` of
   * market quantity, the way the venue re-queues a modified order. Returns the new entry (same ref).
   */
  requeue(e: RestingEntry<T>, price: number, rem: number, levelQty: number): RestingEntry<T> {
    this.remove(e);
    return this.add(e.sym, e.side, price, rem, levelQty, e.ref);
  }

  /** Fill i of the last `apply`. */
  fill(i: number): PassiveFill<T> {
    return this.fills[i]!;
  }

  /**
   * Applies one market event of `ev.sym`; `bestBid` / `bestAsk` are the market's best prices after it
   * (-1 = side empty). Returns the number of fills produced.
   */
  apply(ev: MarketEvent, bestBid: number, bestAsk: number): number {
    this.nFills = 0;
    const sb = this.syms[ev.sym];
    if (sb === undefined || sb.count === 0) return 0;
    const bids = sb.bids;
    const asks = sb.asks;
    if (ev.kind === 'trade') {
      // buyerMaker: a seller took the bids.
      const book = ev.buyerMaker ? bids : asks;
      const lv = book.levels;
      while (lv.length > 0 && book.better(lv[0]!.price, ev.price)) this.fillLevel(book, lv[0]!);
      if (lv.length > 0 && lv[0]!.price === ev.price) this.tradeAt(book, lv[0]!, ev.qty);
      this.cross(bids, asks, bestBid, bestAsk);
    } else if (ev.kind === 'bookTicker') {
      this.cross(bids, asks, ev.bid, ev.ask);
      this.observeTop(bids, ev.bid, ev.bidQty);
      this.observeTop(asks, ev.ask, ev.askQty);
    } else {
      if (bids.levels.length > 0 && ev.bids.length > 0) this.observeDiff(bids, ev.bids);
      if (asks.levels.length > 0 && ev.asks.length > 0) this.observeDiff(asks, ev.asks);
      this.cross(bids, asks, bestBid, bestAsk);
    }
    return this.nFills;
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private pushFill(e: RestingEntry<T>, qty: number): void {
    e.rem -= qty;
    let f = this.fills[this.nFills];
    if (f === undefined) {
      f = { entry: e, qty };
      this.fills.push(f);
    } else {
      f.entry = e;
      f.qty = qty;
    }
    this.nFills++;
  }

  /** Every order of the level fills completely (in time order); the level goes. */
  private fillLevel(book: SideBook<T>, l: Level<T>): void {
    const os = l.orders;
    for (let i = 0; i < os.length; i++) {
      const e = os[i]!;
      this.pushFill(e, e.rem);
      e.level = null;
    }
    book.owner.count -= os.length;
    this.size -= os.length;
    os.length = 0;
    book.drop(l);
  }

  /** Orders the opposite best reached. */
  private cross(bids: SideBook<T>, asks: SideBook<T>, bestBid: number, bestAsk: number): void {
    if (bestAsk >= 0) while (bids.levels.length > 0 && bids.levels[0]!.price >= bestAsk) this.fillLevel(bids, bids.levels[0]!);
    if (bestBid >= 0) while (asks.levels.length > 0 && asks.levels[0]!.price <= bestBid) this.fillLevel(asks, asks.levels[0]!);
  }

  /** A trade of `t` at the level's price. */
  private tradeAt(book: SideBook<T>, l: Level<T>, t: number): void {
    l.qty = l.qty > t ? l.qty - t : 0;
    const os = l.orders;
    let before = 0; // participants' unfilled quantity in front, before this trade
    let filled = 0; // what this trade gave the participants in front
    let done = 0;
    for (let i = 0; i < os.length; i++) {
      const e = os[i]!;
      const rem = e.rem;
      const over = t - e.ahead - before;
      let f = 0;
      if (over > 0) {
        // Fills are whole steps; a fractional estimate rounds against the order (the epsilon absorbs float noise).
        f = Math.floor((over < rem ? over : rem) + 1e-9);
        if (f > 0) {
          this.pushFill(e, f);
          if (e.rem === 0) done++;
        }
      }
      const left = e.ahead - (t - filled);
      e.ahead = left > 0 ? left : 0;
      before += rem;
      filled += f;
    }
    if (done > 0) this.compact(book, l, done);
  }

  /** Drops the fully filled orders of a level (and the level when it is empty). */
  private compact(book: SideBook<T>, l: Level<T>, done: number): void {
    const os = l.orders;
    let w = 0;
    for (let i = 0; i < os.length; i++) {
      const e = os[i]!;
      if (e.rem > 0) os[w++] = e;
      else e.level = null;
    }
    os.length = w;
    book.owner.count -= done;
    this.size -= done;
    if (w === 0) book.drop(l);
  }

  /** A book ticker's best level of one side: that level's quantity, and the levels better than it are empty. */
  private observeTop(book: SideBook<T>, best: number, qty: number): void {
    const lv = book.levels;
    if (lv.length === 0 || best < 0) return;
    for (let i = 0; i < lv.length; i++) {
      const l = lv[i]!;
      if (l.price === best) {
        this.observe(l, qty);
        return;
      }
      if (!book.better(l.price, best)) return;
      this.observe(l, 0);
    }
  }

  /** Changed levels of one side of a depth diff, flat [tick, qty, ...]. */
  private observeDiff(book: SideBook<T>, flat: number[]): void {
    const lv = book.levels;
    // Orders' price range: skip diffs that cannot touch them without map lookups.
    const a = lv[0]!.price;
    const b = lv[lv.length - 1]!.price;
    const lo = a < b ? a : b;
    const hi = a < b ? b : a;
    for (let i = 0; i < flat.length; i += 2) {
      const tick = flat[i]!;
      if (tick < lo || tick > hi) continue;
      const l = book.byPrice.get(tick);
      if (l !== undefined) this.observe(l, flat[i + 1]!);
    }
  }

  /** The level now holds `qty` (market quantity): cancellations go to the model, then the cap. */
  private observe(l: Level<T>, qty: number): void {
    const prev = l.qty;
    l.qty = qty;
    const os = l.orders;
    const m = this.model;
    if (prev > qty && m.usesDecreases) {
      const d = prev - qty;
      const u = m.random ? this.rng!.uniform() : 0;
      let floor = 0;
      for (let i = 0; i < os.length; i++) {
        const e = os[i]!;
        const behind = prev - e.ahead;
        let a = m.afterDecrease(e.ahead, behind > 0 ? behind : 0, d, u);
        // Whoever joined later cannot have less in front than whoever joined earlier.
        if (a < floor) a = floor;
        e.ahead = a;
        floor = a;
      }
    }
    // The estimate is monotone along the queue: the last order has the most in front.
    const last = os[os.length - 1];
    if (last !== undefined && last.ahead > qty) for (let i = 0; i < os.length; i++) if (os[i]!.ahead > qty) os[i]!.ahead = qty;
  }
}
