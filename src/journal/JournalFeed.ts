import { packHeader } from '../ring/layout.js';
import type { SlotWriter } from '../ring/SlotWriter.js';
import { SpscRing } from '../ring/SpscRing.js';
import type { Doorbell } from '../ring/Doorbell.js';
import { INTENT_COPY_WORDS, JG, JOURNAL_SLOT_BYTES, JOURNAL_SLOT_WORDS, JournalRecordType, JRR, REPORT_COPY_WORDS, RISK_MSG_MAX } from './feedLayout.js';

/** Creates a journal feed ring; `doorbell` is the journal worker's (one doorbell for all its feeds). */
export function createJournalFeed(name: string, capacity = 1 << 14, doorbell?: Doorbell): SpscRing {
  return SpscRing.create(name, capacity, JOURNAL_SLOT_BYTES, doorbell);
}

export interface JournalFeedCounters {
  /** records put into the ring */
  published: number;
  /** records that waited in the spill queue because the ring was full */
  spilled: number;
  /** records lost: ring and spill queue both full (announced to the journal by a Gap record) */
  lost: number;
}

const I32_PER_SLOT = JOURNAL_SLOT_WORDS * 2;
const UTF8 = new TextEncoder();

/**
 * The producer side of a journal feed, for the thread that owns the records (the execution worker):
 * copies each intent and report into the feed as it passes. Never blocks and never allocates: a full ring
 * parks records, in order, in a preallocated spill queue that the next copy (or `flush()`) drains first;
 * when that is full too the record is counted lost and a Gap record tells the journal how many.
 *
 * Records are copied as int32 pairs, not float64 words: a word holding two int32s (header and symbol id
 * -1) or message bytes can be a NaN bit pattern, and a NaN read as a number may not keep its bits.
 */
export class JournalFeedWriter {
  readonly counters: JournalFeedCounters = { published: 0, spilled: 0, lost: 0 };
  private readonly spill: Int32Array;
  private readonly spillSlots: number;
  private spillHead = 0;
  private spillCount = 0;
  private pendingLost = 0;
  private readonly spillF64: Float64Array;
  /** one record built in place (RiskReject) before it is copied like any other */
  private readonly staging = new Float64Array(JOURNAL_SLOT_WORDS);
  private readonly stagingI32 = new Int32Array(this.staging.buffer);
  private readonly stagingMsg = new Uint8Array(this.staging.buffer, JRR.MSG * 8, RISK_MSG_MAX);

  constructor(
    private readonly ring: SlotWriter,
    /** spill queue capacity in records (0 = none). Default 4096 (1 MiB). */
    spillSlots = 4096,
    /** ns since the process epoch, for Gap records */
    private readonly now: () => number = () => 0,
  ) {
    if (ring.slotWords !== JOURNAL_SLOT_WORDS) throw new Error(`journal feed: slots must be ${JOURNAL_SLOT_BYTES} bytes`);
    this.spillSlots = spillSlots;
    this.spill = new Int32Array(Math.max(1, spillSlots) * I32_PER_SLOT);
    this.spillF64 = new Float64Array(this.spill.buffer);
  }

  /** Records waiting in the spill queue. */
  get pending(): number {
    return this.spillCount;
  }

  /** A ring-B intent record (its Int32Array view and float64 word base). */
  intent(i32: Int32Array, base: number): void {
    this.copy(i32, base, INTENT_COPY_WORDS);
  }

  /** A ring-C record (ExecReport or AccountUpdate). */
  report(i32: Int32Array, base: number): void {
    this.copy(i32, base, REPORT_COPY_WORDS);
  }

  /** Copies `words` float64 words of a record at word base `base` of `src` (an Int32Array view). */
  copy(src: Int32Array, base: number, words: number): void {
    if (this.spillCount > 0) this.flush();
    if (this.pendingLost > 0 && !this.emitGap()) {
      this.lose();
      return;
    }
    const n = words * 2;
    const s0 = base * 2;
    if (this.spillCount === 0) {
      const b = this.ring.claim();
      if (b >= 0) {
        const dst = this.ring.i32;
        const d0 = b * 2;
        for (let k = 0; k < n; k++) dst[d0 + k] = src[s0 + k]!;
        for (let k = n; k < I32_PER_SLOT; k++) dst[d0 + k] = 0;
        this.ring.commit();
        this.counters.published++;
        return;
      }
    }
    if (this.spillCount >= this.spillSlots) {
      this.lose();
      return;
    }
    const at = this.spillTail();
    const sp = this.spill;
    for (let k = 0; k < n; k++) sp[at + k] = src[s0 + k]!;
    for (let k = n; k < I32_PER_SLOT; k++) sp[at + k] = 0;
    this.spillCount++;
    this.counters.spilled++;
  }

  /**
   * A pre-trade risk refusal (the strategy side: an order that never reached ring B). Allocation-free for
   * a message that fits the slot.
   */
  riskReject(symbolId: number, side: number, qty: number, price: number, reason: number, limit: number, value: number, recvTs: number, message: string): void {
    const f64 = this.staging;
    const i32 = this.stagingI32;
    f64.fill(0);
    i32[0] = packHeader(JournalRecordType.RiskReject, 0, 0);
    i32[1] = symbolId;
    f64[JRR.RECV_TS] = recvTs;
    f64[JRR.PUB_TS] = this.now();
    f64[JRR.SIDE] = side;
    f64[JRR.QTY] = qty;
    f64[JRR.PRICE] = price;
    f64[JRR.REASON] = reason;
    f64[JRR.LIMIT] = limit;
    f64[JRR.VALUE] = value;
    f64[JRR.MSG_LEN] = message.length > 0 ? UTF8.encodeInto(message, this.stagingMsg).written : 0;
    this.copy(i32, 0, JOURNAL_SLOT_WORDS);
  }

  /** Moves spilled records into the ring while it has room; returns how many still wait. Call from a timer too. */
  flush(): number {
    const sp = this.spill;
    while (this.spillCount > 0) {
      const b = this.ring.claim();
      if (b < 0) break;
      const dst = this.ring.i32;
      const d0 = b * 2;
      const s0 = this.spillHead * I32_PER_SLOT;
      for (let k = 0; k < I32_PER_SLOT; k++) dst[d0 + k] = sp[s0 + k]!;
      this.ring.commit();
      this.counters.published++;
      this.spillHead = (this.spillHead + 1) % this.spillSlots;
      this.spillCount--;
    }
    if (this.spillCount === 0 && this.pendingLost > 0) this.emitGap();
    return this.spillCount;
  }

  /** A ring-C SlotWriter that copies every record it commits into this feed (see JournalTeeWriter). */
  tee(ring: SlotWriter): JournalTeeWriter {
    return new JournalTeeWriter(ring, this);
  }

  private lose(): void {
    this.counters.lost++;
    this.pendingLost++;
  }

  private spillTail(): number {
    return ((this.spillHead + this.spillCount) % this.spillSlots) * I32_PER_SLOT;
  }

  /**
   * Announces the records lost so far, where they were lost: straight into the ring when nothing waits,
   * else behind the spilled records. False if there is no room for the announcement either.
   */
  private emitGap(): boolean {
    let i32: Int32Array;
    let f64: Float64Array;
    let at: number;
    if (this.spillCount === 0) {
      const b = this.ring.claim();
      if (b < 0) return false;
      i32 = this.ring.i32;
      f64 = this.ring.f64;
      at = b;
    } else if (this.spillCount < this.spillSlots) {
      i32 = this.spill;
      f64 = this.spillF64;
      at = this.spillTail() / 2;
    } else {
      return false;
    }
    for (let k = 0; k < I32_PER_SLOT; k++) i32[at * 2 + k] = 0;
    i32[at * 2] = packHeader(JournalRecordType.Gap, 0, 0);
    i32[at * 2 + 1] = -1;
    f64[at + JG.PUB_TS] = this.now();
    f64[at + JG.LOST] = this.pendingLost;
    this.pendingLost = 0;
    if (i32 === this.spill) {
      this.spillCount++;
    } else {
      this.ring.commit();
      this.counters.published++;
    }
    return true;
  }
}

/** Claims one commit may cover (the user data stream writes one record per position of an account update). */
const MAX_CLAIMS = 256;

/**
 * Ring C as the execution worker's writers see it, with a journal copy of each record: claims go to the
 * ring; on commit the ring is published first (the strategy is not kept waiting) and then each claimed
 * slot is copied into the feed. Safe after the commit: only this thread writes those slots, and it cannot
 * claim them again before this call returns. `abort` copies nothing.
 */
export class JournalTeeWriter implements SlotWriter {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly slotWords: number;
  /** records committed beyond MAX_CLAIMS in one commit: published, not journaled */
  untracked = 0;
  private readonly bases = new Int32Array(MAX_CLAIMS);
  private claims = 0;

  constructor(
    private readonly ring: SlotWriter,
    private readonly feed: JournalFeedWriter,
  ) {
    this.f64 = ring.f64;
    this.i32 = ring.i32;
    this.u8 = ring.u8;
    this.slotWords = ring.slotWords;
  }

  claim(): number {
    const b = this.ring.claim();
    if (b >= 0) {
      if (this.claims < MAX_CLAIMS) this.bases[this.claims++] = b;
      else this.untracked++;
    }
    return b;
  }

  commit(): void {
    this.ring.commit();
    const n = this.claims;
    this.claims = 0;
    const words = this.slotWords < REPORT_COPY_WORDS ? this.slotWords : REPORT_COPY_WORDS;
    for (let k = 0; k < n; k++) this.feed.copy(this.i32, this.bases[k]!, words);
  }

  abort(): void {
    this.claims = 0;
    this.ring.abort();
  }
}
