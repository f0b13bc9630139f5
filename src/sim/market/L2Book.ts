/**
 * Price-level book of one symbol, at tick granularity, with integer quantities (steps).
 *
 * It also keeps what a diff-depth stream needs: a monotonically increasing update id, the levels changed
 * since the last emitted depth event (absolute quantities, 0 = removed) and the id range they cover.
 * Every mutation must happen inside an update opened with `beginUpdate()`.
 */
export class L2Book {
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  private readonly dirtyBids = new Map<number, number>();
  private readonly dirtyAsks = new Map<number, number>();

  /** Best bid tick, -1 when the bid side is empty. */
  bestBid = -1;
  /** Best ask tick, -1 when the ask side is empty. */
  bestAsk = -1;

  /** Id of the last update applied to the book. */
  updateId: number;
  /** `u` of the last depth event emitted (the next event's `pu`). */
  lastEmittedId: number;
  /** First update id not yet covered by an emitted depth event (0 = none pending). */
  firstPendingId = 0;

  constructor(startId: number) {
    this.updateId = startId;
    this.lastEmittedId = startId;
  }

  /** Opens a new update: the id grows by `increment` (>= 1). */
  beginUpdate(increment: number): number {
    this.updateId += increment;
    if (this.firstPendingId === 0) this.firstPendingId = this.updateId;
    return this.updateId;
  }

  bidQty(tick: number): number {
    return this.bids.get(tick) ?? 0;
  }

  askQty(tick: number): number {
    return this.asks.get(tick) ?? 0;
  }

  get bidLevels(): number {
    return this.bids.size;
  }

  get askLevels(): number {
    return this.asks.size;
  }

  /** Sets a bid level's absolute quantity (0 removes it). `floorHint`: lowest tick worth scanning. */
  setBid(tick: number, qty: number, floorHint: number): void {
    const had = this.bids.has(tick);
    if (qty > 0) {
      this.bids.set(tick, qty);
      if (tick > this.bestBid) this.bestBid = tick;
    } else {
      if (!had) return;
      this.bids.delete(tick);
      if (tick === this.bestBid) this.bestBid = this.scanBidBelow(tick - 1, floorHint);
    }
    this.dirtyBids.set(tick, qty);
  }

  /** Sets an ask level's absolute quantity (0 removes it). `ceilHint`: highest tick worth scanning. */
  setAsk(tick: number, qty: number, ceilHint: number): void {
    const had = this.asks.has(tick);
    if (qty > 0) {
      this.asks.set(tick, qty);
      if (this.bestAsk < 0 || tick < this.bestAsk) this.bestAsk = tick;
    } else {
      if (!had) return;
      this.asks.delete(tick);
      if (tick === this.bestAsk) this.bestAsk = this.scanAskAbove(tick + 1, ceilHint);
    }
    this.dirtyAsks.set(tick, qty);
  }

  private scanBidBelow(from: number, floor: number): number {
    if (this.bids.size === 0) return -1;
    for (let t = from; t >= floor; t--) if (this.bids.has(t)) return t;
    // Levels outside the hinted window (should not happen): full scan.
    let best = -1;
    for (const t of this.bids.keys()) if (t > best) best = t;
    return best;
  }

  private scanAskAbove(from: number, ceil: number): number {
    if (this.asks.size === 0) return -1;
    for (let t = from; t <= ceil; t++) if (this.asks.has(t)) return t;
    let best = -1;
    for (const t of this.asks.keys()) if (best < 0 || t < best) best = t;
    return best;
  }

  /** Bid levels from the best down, at most `limit`, scanning no lower than `floor`. */
  bidsFromBest(limit: number, floor: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (this.bestBid < 0) return out;
    for (let t = this.bestBid; t >= floor && out.length < limit; t--) {
      const q = this.bids.get(t);
      if (q !== undefined) out.push([t, q]);
    }
    return out;
  }

  /** Ask levels from the best up, at most `limit`, scanning no higher than `ceil`. */
  asksFromBest(limit: number, ceil: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (this.bestAsk < 0) return out;
    for (let t = this.bestAsk; t <= ceil && out.length < limit; t++) {
      const q = this.asks.get(t);
      if (q !== undefined) out.push([t, q]);
    }
    return out;
  }

  /** Ticks of every bid level (unordered). */
  bidTicks(): IterableIterator<number> {
    return this.bids.keys();
  }

  askTicks(): IterableIterator<number> {
    return this.asks.keys();
  }

  get hasPending(): boolean {
    return this.firstPendingId !== 0;
  }

  get pendingLevels(): number {
    return this.dirtyBids.size + this.dirtyAsks.size;
  }

  /**
   * Closes the pending changes into one diff: U = first pending update id, u = current id, pu = previous
   * event's u. Returns false when nothing is pending. Levels come out ascending by price.
   */
  takeDiff(out: { U: number; u: number; pu: number; bids: number[]; asks: number[] }): boolean {
    if (this.firstPendingId === 0) return false;
    out.U = this.firstPendingId;
    out.u = this.updateId;
    out.pu = this.lastEmittedId;
    out.bids = flatten(this.dirtyBids);
    out.asks = flatten(this.dirtyAsks);
    this.dirtyBids.clear();
    this.dirtyAsks.clear();
    this.lastEmittedId = this.updateId;
    this.firstPendingId = 0;
    return true;
  }

  /** Drops the pending changes as if they had been emitted to no one. */
  discardDiff(): void {
    if (this.firstPendingId === 0) return;
    this.dirtyBids.clear();
    this.dirtyAsks.clear();
    this.lastEmittedId = this.updateId;
    this.firstPendingId = 0;
  }
}

function flatten(m: Map<number, number>): number[] {
  const ticks = [...m.keys()].sort((a, b) => a - b);
  const out = new Array<number>(ticks.length * 2);
  for (let i = 0; i < ticks.length; i++) {
    const t = ticks[i]!;
    out[2 * i] = t;
    out[2 * i + 1] = m.get(t)!;
  }
  return out;
}
