import { ExecType, OrderStatus, packHeader, RecordType, REPORT_SLOT_BYTES, RejectReason, RP, W } from '../ring/layout.js';

/**
 * Ring-C records on their way back to the strategy: the simulated exchange writes each one with the time it
 * reaches the runner (event time, ms). Delivery times never decrease (a response never overtakes an earlier
 * one), so this is a FIFO over preallocated slots; it grows (by doubling) only if more reports are in flight
 * at once than it holds.
 */
export class ReportQueue {
  f64: Float64Array;
  i32: Int32Array;
  u8: Uint8Array;
  readonly slotWords = REPORT_SLOT_BYTES / 8;
  private due: Float64Array;
  private cap: number;
  private head = 0;
  private count = 0;
  private lastDue = -Infinity;

  constructor(capacity = 1024) {
    this.cap = capacity;
    const buf = new ArrayBuffer(REPORT_SLOT_BYTES * capacity);
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
    this.due = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Delivery time of the next report (Infinity when empty). */
  nextDue(): number {
    return this.count === 0 ? Infinity : this.due[this.head]!;
  }

  /** Word base of the next report to deliver (valid until `pop`). */
  headBase(): number {
    return this.head * this.slotWords;
  }

  pop(): void {
    this.head = (this.head + 1) % this.cap;
    this.count--;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.lastDue = -Infinity;
  }

  /** Writes one ExecReport to be delivered at `dueMs` (pushed back to keep the FIFO order). */
  push(
    dueMs: number, sym: number, intentId: number, side: number, status: OrderStatus, execType: ExecType,
    lastQty: number, lastPrice: number, cumQty: number, avgPrice: number, fee: number, isMaker: number, reason: RejectReason, code: number, venueTimeMs: number,
  ): void {
    if (this.count === this.cap) this.grow();
    const due = dueMs > this.lastDue ? dueMs : this.lastDue;
    this.lastDue = due;
    const slot = (this.head + this.count) % this.cap;
    this.count++;
    this.due[slot] = due;
    const b = slot * this.slotWords;
    const f64 = this.f64;
    f64.fill(0, b, b + this.slotWords);
    this.i32[b * 2] = packHeader(RecordType.ExecReport, 0, 0);
    this.i32[b * 2 + 1] = sym;
    f64[b + W.RECV_TS] = due * 1e6;
    f64[b + W.PUB_TS] = due * 1e6;
    f64[b + RP.INTENT_ID] = intentId;
    f64[b + RP.STATUS] = status;
    f64[b + RP.EXEC_TYPE] = execType;
    f64[b + RP.SIDE] = side;
    f64[b + RP.LAST_QTY] = lastQty;
    f64[b + RP.LAST_PRICE] = lastPrice;
    f64[b + RP.CUM_QTY] = cumQty;
    f64[b + RP.AVG_PRICE] = avgPrice;
    f64[b + RP.FEE] = fee;
    f64[b + RP.ORDER_ID] = intentId;
    f64[b + RP.ERROR_CODE] = code;
    f64[b + RP.SENT_TS] = 0;
    f64[b + RP.ACK_TS] = due * 1e6;
    f64[b + RP.VENUE_TIME] = venueTimeMs;
    f64[b + RP.IS_MAKER] = isMaker;
    f64[b + RP.REASON] = reason;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const buf = new ArrayBuffer(REPORT_SLOT_BYTES * cap);
    const f64 = new Float64Array(buf);
    const due = new Float64Array(cap);
    for (let k = 0; k < this.count; k++) {
      const from = (this.head + k) % this.cap;
      f64.set(this.f64.subarray(from * this.slotWords, (from + 1) * this.slotWords), k * this.slotWords);
      due[k] = this.due[from]!;
    }
    this.f64 = f64;
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
    this.due = due;
    this.cap = cap;
    this.head = 0;
  }
}
