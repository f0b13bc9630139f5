import type { SlotWriter } from './SlotWriter.js';
import { Doorbell } from './Doorbell.js';

/**
 * Single-producer / single-consumer ring over a SharedArrayBuffer, after the Disruptor and Agrona's
 * one-to-one ring buffer: fixed power-of-two slots, one record per slot, the producer and consumer
 * counters each on their own 128-byte block, a producer-side cached copy of the consumer counter that is
 * re-read only when the ring looks full, and consumers that drain a batch and publish their position once.
 *
 * Memory layout (bytes):
 *   0..127    producer block: int32 TAIL (records published, wraps at 2^32); float64 published, full events
 *   128..255  consumer block: int32 HEAD (records consumed); float64 consumed
 *   256..383  meta (read-only after creation): capacity, slot bytes, magic
 *   384..511  unused padding
 *   512..     slots
 * Statistics sit in the block of the side that writes them, so neither side dirties the other's line.
 *
 * Ordering: the producer writes a slot with plain typed-array stores and then `Atomics.store`s TAIL; the
 * consumer `Atomics.load`s TAIL and then reads slots with plain loads. JS Atomics are sequentially
 * consistent, so every plain write made before the TAIL store is visible to a thread that has loaded the
 * new TAIL value. The same argument covers HEAD in the other direction (the producer never overwrites a
 * slot the consumer may still read). This is the only place the memory model matters.
 *
 * Counters are int32 and wrap: every comparison is on `(a - b) | 0`, valid while capacity <= 2^30.
 *
 * A full ring never blocks and never drops silently: `claim()` returns -1, counts a full event, and the
 * producer applies its ring's policy (market data: count and mark the symbol stale; orders: reject the
 * intent with a reason; reports: hold in an overflow queue).
 */

const HEADER_BYTES = 512;
const I_TAIL = 0;
const I_HEAD = 32;
const I_CAPACITY = 64;
const I_SLOT_BYTES = 65;
const I_MAGIC = 66;
const MAGIC = 0x52494e47; // "RING"
const F_PUBLISHED = 8; // byte 64, producer block
const F_FULL = 9; // byte 72, producer block
const F_CONSUMED = 24; // byte 192, consumer block

/** What a worker needs to attach to a ring (structured-cloneable). */
export interface RingDescriptor {
  name: string;
  sab: SharedArrayBuffer;
  doorbell: SharedArrayBuffer;
}

export interface RingStats {
  name: string;
  capacity: number;
  /** records currently waiting for the consumer */
  depth: number;
  published: number;
  consumed: number;
  /** claims refused because the ring was full */
  fullEvents: number;
}

export class SpscRing implements SlotWriter {
  readonly name: string;
  readonly capacity: number;
  readonly slotBytes: number;
  readonly slotWords: number;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly doorbell: Doorbell;
  private readonly ctl: Int32Array;
  private readonly stats: Float64Array;
  private readonly mask: number;
  private readonly sab: SharedArrayBuffer;

  // producer-local state
  private tail: number;
  private claimed = 0;
  private cachedHead: number;
  // consumer-local state
  private head: number;
  private cachedTail: number;

  /** Creates a ring with `capacity` slots (power of two) of `slotBytes` bytes (multiple of 64). */
  static create(name: string, capacity: number, slotBytes: number, doorbell?: Doorbell): SpscRing {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 1 << 30 || (capacity & (capacity - 1)) !== 0) {
      throw new Error(`ring ${name}: capacity must be a power of two between 2 and 2^30, got ${capacity}`);
    }
    if (!Number.isInteger(slotBytes) || slotBytes < 64 || slotBytes % 64 !== 0) {
      throw new Error(`ring ${name}: slotBytes must be a positive multiple of 64, got ${slotBytes}`);
    }
    const sab = new SharedArrayBuffer(HEADER_BYTES + capacity * slotBytes);
    const ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    ctl[I_CAPACITY] = capacity;
    ctl[I_SLOT_BYTES] = slotBytes;
    ctl[I_MAGIC] = MAGIC;
    return new SpscRing({ name, sab, doorbell: (doorbell ?? Doorbell.create()).sab });
  }

  /** Attaches to a ring created elsewhere (another thread). */
  static attach(d: RingDescriptor): SpscRing {
    return new SpscRing(d);
  }

  private constructor(d: RingDescriptor) {
    this.name = d.name;
    this.sab = d.sab;
    this.ctl = new Int32Array(d.sab, 0, HEADER_BYTES / 4);
    if (this.ctl[I_MAGIC] !== MAGIC) throw new Error(`ring ${d.name}: not a ring buffer`);
    this.capacity = this.ctl[I_CAPACITY]!;
    this.slotBytes = this.ctl[I_SLOT_BYTES]!;
    this.slotWords = this.slotBytes / 8;
    this.mask = this.capacity - 1;
    this.stats = new Float64Array(d.sab, 0, HEADER_BYTES / 8);
    const dataBytes = this.capacity * this.slotBytes;
    this.f64 = new Float64Array(d.sab, HEADER_BYTES, dataBytes / 8);
    this.i32 = new Int32Array(d.sab, HEADER_BYTES, dataBytes / 4);
    this.u8 = new Uint8Array(d.sab, HEADER_BYTES, dataBytes);
    this.doorbell = new Doorbell(d.doorbell);
    this.tail = Atomics.load(this.ctl, I_TAIL);
    this.head = Atomics.load(this.ctl, I_HEAD);
    this.cachedHead = this.head;
    this.cachedTail = this.tail;
  }

  descriptor(): RingDescriptor {
    return { name: this.name, sab: this.sab, doorbell: this.doorbell.sab };
  }

  // ------------------------------------------------------------------ producer

  claim(): number {
    const seq = (this.tail + this.claimed) | 0;
    if (((seq - this.cachedHead) | 0) >= this.capacity) {
      this.cachedHead = Atomics.load(this.ctl, I_HEAD);
      if (((seq - this.cachedHead) | 0) >= this.capacity) {
        this.stats[F_FULL]!++;
        return -1;
      }
    }
    this.claimed++;
    return (seq & this.mask) * this.slotWords;
  }

  commit(): void {
    const n = this.claimed;
    if (n === 0) return;
    this.claimed = 0;
    this.tail = (this.tail + n) | 0;
    Atomics.store(this.ctl, I_TAIL, this.tail);
    this.stats[F_PUBLISHED]! += n;
    this.doorbell.ring();
  }

  abort(): void {
    this.claimed = 0;
  }

  /** Free slots as the producer sees them (re-reads the consumer counter). */
  freeSlots(): number {
    this.cachedHead = Atomics.load(this.ctl, I_HEAD);
    return this.capacity - ((this.tail + this.claimed - this.cachedHead) | 0);
  }

  // ------------------------------------------------------------------ consumer

  /**
   * Records available to read, at most `max` (reads the producer counter only when the cached value is
   * exhausted). Read record i (0-based) at word base `readBase(i)`, then `release(n)` once per batch.
   */
  poll(max = 0x7fffffff): number {
    let n = (this.cachedTail - this.head) | 0;
    if (n === 0) {
      this.cachedTail = Atomics.load(this.ctl, I_TAIL);
      n = (this.cachedTail - this.head) | 0;
    }
    return n < max ? n : max;
  }

  /** True if the producer has published records not yet consumed (always re-reads the counter). */
  hasData(): boolean {
    this.cachedTail = Atomics.load(this.ctl, I_TAIL);
    return this.cachedTail !== this.head;
  }

  readBase(i: number): number {
    return ((this.head + i) & this.mask) * this.slotWords;
  }

  /** Marks `n` records consumed and publishes the consumer position. */
  release(n: number): void {
    if (n <= 0) return;
    this.head = (this.head + n) | 0;
    Atomics.store(this.ctl, I_HEAD, this.head);
    this.stats[F_CONSUMED]! += n;
  }

  // ------------------------------------------------------------------ monitoring (any thread)

  snapshot(): RingStats {
    const tail = Atomics.load(this.ctl, I_TAIL);
    const head = Atomics.load(this.ctl, I_HEAD);
    return {
      name: this.name,
      capacity: this.capacity,
      depth: (tail - head) | 0,
      published: this.stats[F_PUBLISHED]!,
      consumed: this.stats[F_CONSUMED]!,
      fullEvents: this.stats[F_FULL]!,
    };
  }
}
