import type { Instrument } from '../instruments.js';
import { Rng } from '../rng.js';
import { L2Book } from './L2Book.js';
import type {
  BookTickerEvent,
  BookTop,
  DepthEvent,
  DepthSnapshot,
  MarketEvent,
  MarketEventKind,
  MarketSource,
  Side,
  TakeResult,
  TradeEvent,
} from './types.js';

export interface SyntheticMarketOptions {
  seed: number;
  /** Levels kept on each side of each book (a window of this many ticks from the best price). Default 20. */
  levels?: number;
  /** Probability that a tick inside the window holds a level (the best is always present). Default 0.85. */
  fillProbability?: number;
}

/**
 * Seeded synthetic market for several symbols.
 *
 * Each symbol has an L2 book at tick granularity (a window of `levels` ticks per side from the best
 * price). Its dynamics: the mid moves by a random walk whose step size follows a GARCH(1,1)-like
 * variance (volatility clustering), with a weak pull back to the start price; the spread is 1-3 ticks;
 * level sizes are log-normal and grow away from the touch; takers arrive as bursts (an aggressive
 * order, sometimes a sweep of several levels, printed as one trade per level over consecutive trade
 * events). Update ids grow by irregular increments, like the venue's (ids are not contiguous).
 *
 * The market advances only when asked for an event (`next`) or when liquidity is taken (`take`): the
 * simulated venue's scheduler drives it at the configured message rate.
 */
export class SyntheticMarket implements MarketSource {
  readonly instruments: readonly Instrument[];
  private readonly bySymbol = new Map<string, number>();
  private readonly books: SymbolMarket[];

  constructor(instruments: readonly Instrument[], opts: SyntheticMarketOptions) {
    this.instruments = instruments;
    const levels = Math.max(2, Math.floor(opts.levels ?? 20));
    const fill = Math.min(1, Math.max(0.1, opts.fillProbability ?? 0.85));
    const master = new Rng(opts.seed);
    this.books = instruments.map((inst) => {
      this.bySymbol.set(inst.symbol, inst.idx);
      // Venue-like starting ids (~6e11), distinct per symbol.
      const startId = 600_000_000_000 + master.int(50_000_000_000);
      return new SymbolMarket(inst, master.fork(), levels, fill, startId, 1_000_000 + master.int(100_000_000));
    });
  }

  instrument(symbol: string): Instrument | undefined {
    const i = this.bySymbol.get(symbol);
    return i === undefined ? undefined : this.instruments[i];
  }

  /** Current book update id of a symbol. */
  updateId(sym: number): number {
    return this.m(sym).book.updateId;
  }

  top(sym: number): BookTop {
    return this.m(sym).top();
  }

  snapshot(sym: number, limit: number, now: number): DepthSnapshot {
    return this.m(sym).snapshot(limit, now);
  }

  levels(sym: number, n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    return this.m(sym).levels(n);
  }

  available(sym: number, takerSide: Side, maxQty: number, limitPrice: number | null): number {
    return this.m(sym).available(takerSide, maxQty, limitPrice);
  }

  take(sym: number, takerSide: Side, qty: number, limitPrice: number | null, now: number): TakeResult {
    return this.m(sym).take(takerSide, qty, limitPrice, now);
  }

  next(sym: number, kind: MarketEventKind, now: number): MarketEvent {
    const m = this.m(sym);
    switch (kind) {
      case 'bookTicker':
        return m.nextBookTicker(now);
      case 'trade':
        return m.nextTrade(now);
      case 'depth':
        return m.nextDepth(now);
    }
  }

  discardDepth(sym: number): void {
    this.m(sym).book.discardDiff();
  }

  /**
   * The depth changes pending since the last diff as one event (null when none), without moving the
   * market as `next(sym, 'depth')` does: for dialects that publish diffs on their own clock (Gate 100 ms).
   */
  takeDepth(sym: number, now: number): DepthEvent | null {
    const ev: DepthEvent = { kind: 'depth', sym, U: 0, u: 0, pu: 0, bids: [], asks: [], time: now };
    return this.m(sym).book.takeDiff(ev) ? ev : null;
  }

  /** Pending (not yet emitted) depth levels of a symbol. */
  pendingDepthLevels(sym: number): number {
    return this.m(sym).book.pendingLevels;
  }

  private m(sym: number): SymbolMarket {
    const m = this.books[sym];
    if (m === undefined) throw new Error(`SyntheticMarket: unknown symbol index ${sym}`);
    return m;
  }
}

/** GARCH(1,1) parameters of the per-move variance, in ticks^2: long-run variance omega/(1-alpha-beta) = 1. */
const OMEGA = 0.05;
const ALPHA = 0.12;
const BETA = 0.83;
const MAX_VAR = 36;

class SymbolMarket {
  readonly book: L2Book;
  /** Lowest tick of the bid window. */
  private bidFloor = 0;
  /** Highest tick of the ask window. */
  private askCeil = 0;
  private variance = 1;
  private readonly typicalTrade: number;
  private aggId: number;
  private tradeId: number;
  private burstSide: Side = 'BUY';
  private burstLeft = 0;

  constructor(
    private readonly inst: Instrument,
    private readonly rng: Rng,
    private readonly L: number,
    private readonly pFill: number,
    startId: number,
    startTradeId: number,
  ) {
    this.book = new L2Book(startId);
    this.aggId = startTradeId;
    this.tradeId = startTradeId * 3;
    this.typicalTrade = Math.max(1, Math.round(inst.typicalLevelSteps * 0.08));
    // Initial book, not part of any diff (clients start from a snapshot).
    this.book.beginUpdate(1);
    const spread = this.drawSpread();
    const bid = Math.max(1, inst.initialTicks - (spread >> 1));
    this.seedBids(bid);
    this.seedAsks(bid + spread);
    this.book.discardDiff();
  }

  top(): BookTop {
    const b = this.book;
    return { u: b.updateId, bid: b.bestBid, bidQty: b.bidQty(b.bestBid), ask: b.bestAsk, askQty: b.askQty(b.bestAsk) };
  }

  nextBookTicker(now: number): BookTickerEvent {
    this.book.beginUpdate(this.idIncrement());
    const r = this.rng.uniform();
    if (r < 0.35) this.moveQuote();
    else if (r < 0.45) this.improveInsideSpread();
    else this.touchTop();
    this.normalize();
    const b = this.book;
    return {
      kind: 'bookTicker',
      sym: this.inst.idx,
      u: b.updateId,
      bid: b.bestBid,
      bidQty: b.bidQty(b.bestBid),
      ask: b.bestAsk,
      askQty: b.askQty(b.bestAsk),
      time: now,
    };
  }

  nextTrade(now: number): TradeEvent {
    if (this.burstLeft <= 0) this.startBurst();
    const side = this.burstSide;
    const b = this.book;
    b.beginUpdate(this.idIncrement());
    const tick = side === 'BUY' ? b.bestAsk : b.bestBid;
    const have = side === 'BUY' ? b.askQty(tick) : b.bidQty(tick);
    const fill = Math.max(1, Math.min(this.burstLeft, have));
    this.burstLeft -= fill;
    if (side === 'BUY') b.setAsk(tick, have - fill, tick + 2 * this.L);
    else b.setBid(tick, have - fill, tick - 2 * this.L);
    this.normalize();
    const n = 1 + Math.floor(this.rng.exponential(0.7));
    const first = this.tradeId + 1;
    this.tradeId += n;
    return {
      kind: 'trade',
      sym: this.inst.idx,
      id: ++this.aggId,
      firstTradeId: first,
      lastTradeId: this.tradeId,
      price: tick,
      qty: fill,
      buyerMaker: side === 'SELL',
      time: now,
    };
  }

  nextDepth(now: number): DepthEvent {
    const b = this.book;
    if (!b.hasPending) {
      b.beginUpdate(this.idIncrement());
      if (this.rng.chance(0.5)) this.touchDeep();
      else this.touchTop();
      this.normalize();
    }
    const ev: DepthEvent = { kind: 'depth', sym: this.inst.idx, U: 0, u: 0, pu: 0, bids: [], asks: [], time: now };
    b.takeDiff(ev);
    return ev;
  }

  snapshot(limit: number, now: number): DepthSnapshot {
    const b = this.book;
    // Make sure the snapshot id falls inside the next depth event's [U, u] range.
    if (!b.hasPending) {
      b.beginUpdate(this.idIncrement());
      this.touchDeep();
      this.normalize();
    }
    return {
      lastUpdateId: b.updateId,
      time: now,
      bids: b.bidsFromBest(limit, this.bidFloor),
      asks: b.asksFromBest(limit, this.askCeil),
    };
  }

  levels(n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    return { bids: this.book.bidsFromBest(n, this.bidFloor), asks: this.book.asksFromBest(n, this.askCeil) };
  }

  available(side: Side, maxQty: number, limit: number | null): number {
    const levels = side === 'BUY' ? this.book.asksFromBest(this.L, this.askCeil) : this.book.bidsFromBest(this.L, this.bidFloor);
    let got = 0;
    for (const [t, q] of levels) {
      if (limit !== null && (side === 'BUY' ? t > limit : t < limit)) break;
      got += q;
      if (got >= maxQty) return maxQty;
    }
    return got;
  }

  take(side: Side, qty: number, limit: number | null, now: number): TakeResult {
    const b = this.book;
    const res: TakeResult = { fills: [], filled: 0, events: [] };
    const levels = side === 'BUY' ? b.asksFromBest(this.L, this.askCeil) : b.bidsFromBest(this.L, this.bidFloor);
    let left = qty;
    for (const [t, q] of levels) {
      if (left <= 0) break;
      if (limit !== null && (side === 'BUY' ? t > limit : t < limit)) break;
      if (res.fills.length === 0) b.beginUpdate(this.idIncrement());
      const f = Math.min(left, q);
      left -= f;
      if (side === 'BUY') b.setAsk(t, q - f, t + 2 * this.L);
      else b.setBid(t, q - f, t - 2 * this.L);
      res.fills.push({ price: t, qty: f });
      const first = this.tradeId + 1;
      this.tradeId += 1;
      const trade: TradeEvent = {
        kind: 'trade',
        sym: this.inst.idx,
        id: ++this.aggId,
        firstTradeId: first,
        lastTradeId: this.tradeId,
        price: t,
        qty: f,
        buyerMaker: side === 'SELL',
        time: now,
      };
      res.events.push(trade);
    }
    res.filled = qty - left;
    if (res.fills.length > 0) {
      this.normalize();
      const top = this.top();
      res.events.push({ kind: 'bookTicker', sym: this.inst.idx, ...top, time: now });
    }
    return res;
  }

  // ---- dynamics -------------------------------------------------------------------------------------

  private idIncrement(): number {
    return 1 + Math.floor(this.rng.exponential(1 / 12));
  }

  private drawSpread(): number {
    const r = this.rng.uniform();
    return r < 0.6 ? 1 : r < 0.9 ? 2 : 3;
  }

  /** Quantity for a level `dist` ticks away from the touch. */
  private drawQty(dist: number): number {
    const q = this.inst.typicalLevelSteps * this.rng.logNormal(-0.2, 0.75) * (1 + 0.06 * dist);
    return Math.max(1, Math.round(q));
  }

  private startBurst(): void {
    this.burstSide = this.rng.chance(0.5) ? 'BUY' : 'SELL';
    if (this.rng.chance(0.06)) {
      // Sweep: one aggressive order through the first 1-3 levels.
      const levels =
        this.burstSide === 'BUY' ? this.book.asksFromBest(1 + this.rng.int(3), this.askCeil) : this.book.bidsFromBest(1 + this.rng.int(3), this.bidFloor);
      let sum = 0;
      for (const [, q] of levels) sum += q;
      this.burstLeft = Math.max(1, sum - this.rng.int(Math.max(1, levels[levels.length - 1]?.[1] ?? 1)));
    } else {
      this.burstLeft = Math.max(1, Math.round(this.typicalTrade * this.rng.logNormal(0, 1.1)));
    }
  }

  /** Mid moves by k ticks (GARCH-scaled normal) and the spread is redrawn. */
  private moveQuote(): void {
    const b = this.book;
    const sigma = Math.sqrt(this.variance);
    let k = Math.round(this.rng.normal(0, sigma));
    // Weak pull back towards the start price so long runs stay in a sane range.
    const mid = (b.bestBid + b.bestAsk) / 2;
    const dev = (mid - this.inst.initialTicks) / this.inst.initialTicks;
    if (Math.abs(dev) > 0.01 && this.rng.chance(Math.min(0.5, Math.abs(dev) * 5))) k -= Math.sign(dev);
    const cap = Math.max(1, this.L >> 1);
    if (k > cap) k = cap;
    else if (k < -cap) k = -cap;
    this.variance = Math.min(MAX_VAR, OMEGA + ALPHA * k * k + BETA * this.variance);

    const spread = this.drawSpread();
    const x = b.bestBid + b.bestAsk + 2 * k - spread;
    let newBid = Math.floor(x / 2);
    if (x % 2 !== 0 && this.rng.chance(0.5)) newBid += 1;
    if (newBid < 1) newBid = 1;
    const newAsk = newBid + spread;
    const oldBid = b.bestBid;
    const oldAsk = b.bestAsk;
    const L = this.L;

    if (newAsk > oldAsk) {
      for (let t = oldAsk; t < newAsk; t++) b.setAsk(t, 0, t + 2 * L);
      if (b.askQty(newAsk) === 0) b.setAsk(newAsk, this.drawQty(0), newAsk + 2 * L);
    } else if (newAsk < oldAsk) {
      b.setAsk(newAsk, this.drawQty(0), newAsk + 2 * L);
      const hi = Math.min(oldAsk, newAsk + L);
      for (let t = newAsk + 1; t < hi; t++) if (this.rng.chance(this.pFill)) b.setAsk(t, this.drawQty(t - newAsk), t + 2 * L);
    }
    if (newBid < oldBid) {
      for (let t = oldBid; t > newBid; t--) b.setBid(t, 0, t - 2 * L);
      if (b.bidQty(newBid) === 0) b.setBid(newBid, this.drawQty(0), newBid - 2 * L);
    } else if (newBid > oldBid) {
      b.setBid(newBid, this.drawQty(0), newBid - 2 * L);
      const lo = Math.max(oldBid, newBid - L);
      for (let t = newBid - 1; t > lo; t--) if (this.rng.chance(this.pFill)) b.setBid(t, this.drawQty(newBid - t), t - 2 * L);
    }
  }

  /** A new best level inside a spread wider than one tick. */
  private improveInsideSpread(): void {
    const b = this.book;
    if (b.bestAsk - b.bestBid <= 1) {
      this.touchTop();
      return;
    }
    if (this.rng.chance(0.5)) b.setBid(b.bestBid + 1, this.drawQty(0), b.bestBid - 2 * this.L);
    else b.setAsk(b.bestAsk - 1, this.drawQty(0), b.bestAsk + 2 * this.L);
  }

  /** Size change at the best bid or ask (orders added or cancelled at the touch). */
  private touchTop(): void {
    const b = this.book;
    const bid = this.rng.chance(0.5);
    const tick = bid ? b.bestBid : b.bestAsk;
    const q = bid ? b.bidQty(tick) : b.askQty(tick);
    const r = this.rng.uniform();
    let nq: number;
    const delta = Math.max(1, Math.round(this.inst.typicalLevelSteps * 0.15 * this.rng.logNormal(0, 0.8)));
    if (r < 0.45) nq = q + delta;
    else if (r < 0.9) nq = q - delta;
    else nq = this.drawQty(0);
    if (nq < 0) nq = 0;
    // Keep at least one more level on that side before emptying the touch.
    if (nq === 0 && (bid ? b.bidLevels : b.askLevels) <= 1) nq = this.drawQty(0);
    if (bid) b.setBid(tick, nq, tick - 2 * this.L);
    else b.setAsk(tick, nq, tick + 2 * this.L);
  }

  /** Size change (or removal, or a new level) somewhere behind the touch. */
  private touchDeep(): void {
    const b = this.book;
    const bid = this.rng.chance(0.5);
    const dist = 1 + this.rng.int(this.L - 1);
    const tick = bid ? b.bestBid - dist : b.bestAsk + dist;
    if (tick < 1) {
      this.touchTop();
      return;
    }
    const q = bid ? b.bidQty(tick) : b.askQty(tick);
    const nq = q > 0 && this.rng.chance(0.15) ? 0 : this.drawQty(dist);
    if (bid) b.setBid(tick, nq, tick - 2 * this.L);
    else b.setAsk(tick, nq, tick + 2 * this.L);
  }

  /** Restores the invariants after an update: both sides present, windows anchored at the best. */
  private normalize(): void {
    const b = this.book;
    if (b.bestBid < 0) this.seedBids(Math.max(1, (b.bestAsk > 0 ? b.bestAsk : this.inst.initialTicks) - this.drawSpread()));
    if (b.bestAsk < 0) this.seedAsks(b.bestBid + this.drawSpread());
    this.rewindowBids();
    this.rewindowAsks();
  }

  private seedBids(best: number): void {
    const b = this.book;
    const L = this.L;
    b.setBid(best, this.drawQty(0), best - 2 * L);
    for (let t = best - 1; t > best - L && t >= 1; t--) if (this.rng.chance(this.pFill)) b.setBid(t, this.drawQty(best - t), t - 2 * L);
    this.bidFloor = best - L + 1;
  }

  private seedAsks(best: number): void {
    const b = this.book;
    const L = this.L;
    b.setAsk(best, this.drawQty(0), best + 2 * L);
    for (let t = best + 1; t < best + L; t++) if (this.rng.chance(this.pFill)) b.setAsk(t, this.drawQty(t - best), t + 2 * L);
    this.askCeil = best + L - 1;
  }

  private rewindowBids(): void {
    const b = this.book;
    const best = b.bestBid;
    const nf = best - this.L + 1;
    const of = this.bidFloor;
    if (nf > of) {
      if (nf - of > 4 * this.L) {
        for (const t of [...b.bidTicks()]) if (t < nf) b.setBid(t, 0, nf);
      } else {
        for (let t = of; t < nf; t++) b.setBid(t, 0, nf);
      }
    } else if (nf < of) {
      const hi = Math.min(of, best);
      for (let t = Math.max(1, nf); t < hi; t++) if (this.rng.chance(this.pFill)) b.setBid(t, this.drawQty(best - t), nf);
    }
    this.bidFloor = nf;
  }

  private rewindowAsks(): void {
    const b = this.book;
    const best = b.bestAsk;
    const nc = best + this.L - 1;
    const oc = this.askCeil;
    if (nc < oc) {
      if (oc - nc > 4 * this.L) {
        for (const t of [...b.askTicks()]) if (t > nc) b.setAsk(t, 0, nc);
      } else {
        for (let t = oc; t > nc; t--) b.setAsk(t, 0, nc);
      }
    } else if (nc > oc) {
      const lo = Math.max(oc, best);
      for (let t = nc; t > lo; t--) if (this.rng.chance(this.pFill)) b.setAsk(t, this.drawQty(t - best), nc);
    }
    this.askCeil = nc;
  }
}
