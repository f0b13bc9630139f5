/**
 * The strategy's in-flight orders, keyed by intent id: symbol, side and the quantity not yet filled.
 *
 * An open-addressing hash table over typed arrays (linear probing, backward-shift deletion, so no
 * tombstones). A JS `Map` would do the same job but reallocates its backing store when it shrinks after
 * deletes, which showed as minor GCs in the strategy bench for strategies that place and finish orders
 * continuously. This table allocates only when it grows past half full (doubling), never per order.
 */
export class IntentTable {
  private keys: Float64Array;
  /** symbol id of the order in each slot */
  sym: Int32Array;
  /** Side (+1 / -1) */
  side: Int8Array;
  /** base quantity not yet filled */
  remaining: Float64Array;
  /** the order's total quantity (changed by an amend) */
  total: Float64Array;
  /** OrderType */
  type: Int8Array;
  /** the price the strategy saw when it decided (IN.DECISION_PRICE), for slippage */
  decision: Float64Array;
  /** 1 once a halt or flatten has asked to cancel the order (not asked twice) */
  cancelSent: Uint8Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.sym = new Int32Array(cap);
    this.side = new Int8Array(cap);
    this.remaining = new Float64Array(cap);
    this.total = new Float64Array(cap);
    this.type = new Int8Array(cap);
    this.decision = new Float64Array(cap);
    this.cancelSent = new Uint8Array(cap);
    this.mask = cap - 1;
  }

  /** Slots to scan with `keyAt` (a table scan visits every slot; only halts and flattens do it). */
  get capacity(): number {
    return this.keys.length;
  }

  /** The intent id in `slot`, or -1 when the slot is empty. */
  keyAt(slot: number): number {
    return this.keys[slot]!;
  }

  get size(): number {
    return this.count;
  }

  /** The slot holding intent `id`, or -1. */
  find(id: number): number {
    if (id < 0) return -1;
    const keys = this.keys;
    const mask = this.mask;
    let i = hash(id) & mask;
    for (;;) {
      const k = keys[i]!;
      if (k === id) return i;
      if (k === -1) return -1;
      i = (i + 1) & mask;
    }
  }

  /** Adds intent `id` (a non-negative integer not already present); returns its slot. */
  insert(id: number, sym: number, side: number, qty: number, type: number): number {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    let i = hash(id) & mask;
    while (keys[i] !== -1) i = (i + 1) & mask;
    keys[i] = id;
    this.sym[i] = sym;
    this.side[i] = side;
    this.remaining[i] = qty;
    this.total[i] = qty;
    this.type[i] = type;
    this.decision[i] = NaN;
    this.cancelSent[i] = 0;
    this.count++;
    return i;
  }

  /** Removes the entry in `slot` (from `find`). Later entries of the same probe run shift back into the hole. */
  removeAt(slot: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let hole = slot;
    let i = (slot + 1) & mask;
    for (;;) {
      const k = keys[i]!;
      if (k === -1) break;
      const home = hash(k) & mask;
      // move k into the hole unless its home lies cyclically in (hole, i]
      const stays = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (!stays) {
        keys[hole] = k;
        this.sym[hole] = this.sym[i]!;
        this.side[hole] = this.side[i]!;
        this.remaining[hole] = this.remaining[i]!;
        this.total[hole] = this.total[i]!;
        this.type[hole] = this.type[i]!;
        this.decision[hole] = this.decision[i]!;
        this.cancelSent[hole] = this.cancelSent[i]!;
        hole = i;
      }
      i = (i + 1) & mask;
    }
    keys[hole] = -1;
    this.count--;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldSym = this.sym;
    const oldSide = this.side;
    const oldRem = this.remaining;
    const oldTotal = this.total;
    const oldType = this.type;
    const oldDecision = this.decision;
    const oldCancel = this.cancelSent;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.sym = new Int32Array(cap);
    this.side = new Int8Array(cap);
    this.remaining = new Float64Array(cap);
    this.total = new Float64Array(cap);
    this.type = new Int8Array(cap);
    this.decision = new Float64Array(cap);
    this.cancelSent = new Uint8Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k === -1) continue;
      const j = this.insert(k, oldSym[i]!, oldSide[i]!, oldRem[i]!, oldType[i]!);
      this.total[j] = oldTotal[i]!;
      this.decision[j] = oldDecision[i]!;
      this.cancelSent[j] = oldCancel[i]!;
    }
  }
}

/** Intent ids are sequential: a multiplicative hash spreads neighbours so probe runs stay short after deletes. */
function hash(id: number): number {
  return Math.imul(id | 0, 0x9e3779b1) >>> 0;
}
