import { ExecType, OrderStatus, RecordType, RejectReason, RP, W, packHeader, REPORT_MSG_MAX } from '../ring/layout.js';
import type { SlotWriter } from '../ring/SlotWriter.js';

/**
 * The seam between the execution worker's intent loop and the ways an order reaches the venue (REST
 * keep-alive connection, WebSocket API). A transport takes ring-B intents and reports every outcome as a
 * ring-C ExecReport through an `ExecReportSink`, so the strategy sees one record format whatever the route.
 *
 * Contract: each `place` / `cancel` call produces at least one report, including when the transport cannot
 * send (Rejected, RejectReason.Transport: it never left the process) and when the outcome is not known
 * (status Unknown: resolve by client order id, never resend blindly). `isReady` lets a router pick the
 * transport per intent (e.g. the WebSocket API while it is connected, REST otherwise).
 */
export interface OrderTransport {
  readonly name: string;
  /** An intent handed over now would be written to the venue at once (connected, capacity left). */
  isReady(): boolean;
  /** Ring-B OrderNew record at word base `base` of `f64`; `readTs` = when the intent was read (ns). */
  place(f64: Float64Array, symbolId: number, base: number, readTs: number): void;
  /**
   * Ring-B OrderCancel record: cancels the order of intent IN.TARGET_ID (by its client order id). Success
   * reports the target intent Canceled; a refused cancel reports the cancel intent itself as a Reject.
   */
  cancel(f64: Float64Array, symbolId: number, base: number, readTs: number): void;
  inFlightCount(): number;
  close(): Promise<void>;
}

/** Receives each outcome; writes one ring-C ExecReport (the format OrderGateway writes today). */
export interface ExecReportSink {
  execReport(
    symbolId: number, intentId: number, side: number, recvTs: number, sentTs: number, ackTs: number,
    status: OrderStatus, execType: ExecType, lastQty: number, lastPrice: number, cumQty: number, avgPrice: number,
    orderId: number, code: number, venueTime: number, reason: RejectReason, message: string,
  ): void;
}

const UTF8 = new TextEncoder();

/**
 * ExecReportSink over ring C. A full ring never loses a report: it waits, in order, in an overflow queue
 * (counted) that is flushed first by the next report or by `flush()`. This is OrderGateway.writeReport /
 * flushOverflow moved out so every transport (and the gateway) shares one queue and one ordering.
 */
export class RingReportSink implements ExecReportSink {
  reports = 0;
  overflowed = 0;
  /** rejects and unknown outcomes by venue code (0 = local or transport) */
  readonly rejectsByCode = new Map<number, number>();
  private readonly overflow: Float64Array[] = [];

  constructor(
    private readonly ring: SlotWriter,
    private readonly now: () => number,
    /** Called for each reject or unknown outcome (rare; the worker logs them). */
    private readonly onReject?: (symbolId: number, intentId: number, code: number, message: string, unknown: boolean) => void,
  ) {}

  get pending(): number {
    return this.overflow.length;
  }

  execReport(
    symbolId: number, intentId: number, side: number, recvTs: number, sentTs: number, ackTs: number,
    status: OrderStatus, execType: ExecType, lastQty: number, lastPrice: number, cumQty: number, avgPrice: number,
    orderId: number, code: number, venueTime: number, reason: RejectReason, message: string,
  ): void {
    this.reports++;
    const ring = this.ring;
    if (this.overflow.length > 0) this.flush();
    const claimed = this.overflow.length > 0 ? -1 : ring.claim();
    let f64: Float64Array;
    let i32: Int32Array;
    let u8: Uint8Array;
    let base: number;
    let spill: Float64Array | undefined;
    if (claimed >= 0) {
      f64 = ring.f64;
      i32 = ring.i32;
      u8 = ring.u8;
      base = claimed;
    } else {
      this.overflowed++;
      spill = new Float64Array(ring.slotWords);
      f64 = spill;
      i32 = new Int32Array(spill.buffer);
      u8 = new Uint8Array(spill.buffer);
      base = 0;
    }
    i32[base * 2] = packHeader(RecordType.ExecReport, 0, 0);
    i32[base * 2 + 1] = symbolId;
    f64[base + W.RECV_TS] = recvTs;
    f64[base + RP.INTENT_ID] = intentId;
    f64[base + RP.STATUS] = status;
    f64[base + RP.EXEC_TYPE] = execType;
    f64[base + RP.SIDE] = side;
    f64[base + RP.LAST_QTY] = lastQty;
    f64[base + RP.LAST_PRICE] = lastPrice;
    f64[base + RP.CUM_QTY] = cumQty;
    f64[base + RP.AVG_PRICE] = avgPrice;
    f64[base + RP.FEE] = 0;
    f64[base + RP.ORDER_ID] = orderId;
    f64[base + RP.ERROR_CODE] = code;
    f64[base + RP.SENT_TS] = sentTs;
    f64[base + RP.ACK_TS] = ackTs;
    f64[base + RP.VENUE_TIME] = venueTime;
    f64[base + RP.IS_MAKER] = 0;
    f64[base + RP.REASON] = reason;
    let len = 0;
    if (message.length > 0) {
      const m0 = (base + RP.MSG) * 8;
      len = UTF8.encodeInto(message, u8.subarray(m0, m0 + REPORT_MSG_MAX)).written;
    }
    f64[base + RP.MSG_LEN] = len;
    f64[base + W.PUB_TS] = this.now();
    if (spill) this.overflow.push(spill);
    else ring.commit();
    if (execType === ExecType.Reject || status === OrderStatus.Unknown) {
      this.rejectsByCode.set(code, (this.rejectsByCode.get(code) ?? 0) + 1);
      this.onReject?.(symbolId, intentId, code, message, status === OrderStatus.Unknown);
    }
  }

  /** Moves waiting reports into the ring while it has room; returns how many are still waiting. */
  flush(): number {
    const ring = this.ring;
    while (this.overflow.length > 0) {
      const base = ring.claim();
      if (base < 0) break;
      ring.f64.set(this.overflow.shift()!, base);
      ring.commit();
    }
    return this.overflow.length;
  }
}

/**
 * Ring C as a second writer on the execution thread (the user data stream) sees it: a SlotWriter that
 * refuses (`claim` -> -1, as if the ring were full) while the sink still holds reports in its overflow
 * queue, so a stream record can never overtake a transport report written before it. The writer then
 * keeps its own backlog and retries; each retry first tries to flush the sink's queue.
 */
export class GatedReportWriter implements SlotWriter {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly slotWords: number;
  /** claims refused because transport reports were waiting */
  refused = 0;
  private claimed = 0;

  constructor(
    private readonly ring: SlotWriter,
    private readonly sink: RingReportSink,
  ) {
    this.f64 = ring.f64;
    this.i32 = ring.i32;
    this.u8 = ring.u8;
    this.slotWords = ring.slotWords;
  }

  claim(): number {
    // Flushing commits on the ring: only between events, never with our own claims outstanding.
    if (this.sink.pending > 0 && (this.claimed > 0 || this.sink.flush() > 0)) {
      this.refused++;
      return -1;
    }
    const base = this.ring.claim();
    if (base >= 0) this.claimed++;
    return base;
  }

  commit(): void {
    this.claimed = 0;
    this.ring.commit();
  }

  abort(): void {
    this.claimed = 0;
    this.ring.abort();
  }
}
