/**
 * The producer side of a ring as the encoders see it. An encoder claims slots, writes fields through
 * `f64` / `i32` at the returned word base (int32 index = base * 2), and commits. `claim` returns -1
 * when the ring is full: the caller then applies its ring's full policy (count, mark stale, reject)
 * and calls `abort` to release what it claimed for the same event.
 */
export interface SlotWriter {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  /** Words per slot (slot bytes / 8). */
  readonly slotWords: number;
  /** Claim the next free slot; its float64 word base, or -1 if the ring is full. */
  claim(): number;
  /** Publish every slot claimed since the last commit/abort. */
  commit(): void;
  /** Forget every slot claimed since the last commit/abort. */
  abort(): void;
}

/**
 * A SlotWriter over a plain (non-shared) buffer, for tests and the in-process backtest loop: records
 * accumulate until `reset()`; `capacity` bounds them like a ring would.
 */
export class ArraySlotWriter implements SlotWriter {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly slotWords: number;
  /** committed records */
  count = 0;
  private claimed = 0;

  constructor(readonly slotBytes: number, readonly capacity: number) {
    const buf = new ArrayBuffer(slotBytes * capacity);
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
    this.slotWords = slotBytes / 8;
  }

  claim(): number {
    const idx = this.count + this.claimed;
    if (idx >= this.capacity) return -1;
    this.claimed++;
    const base = idx * this.slotWords;
    this.f64.fill(0, base, base + this.slotWords);
    return base;
  }

  commit(): void {
    this.count += this.claimed;
    this.claimed = 0;
  }

  abort(): void {
    this.claimed = 0;
  }

  /** Word base of committed record i. */
  base(i: number): number {
    return i * this.slotWords;
  }

  reset(): void {
    this.count = 0;
    this.claimed = 0;
  }
}
