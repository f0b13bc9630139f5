import { ExecFlag, ExecType, IN, OrderStatus, RecordType, RejectReason, RP, W } from '../ring/layout.js';
import { OrderState } from './OrderState.js';

/** What one record did to the table (bit set; `ReportEffect.None` = nothing new). */
export const enum ReportEffect {
  None = 0,
  /** the order's derived state changed */
  StateChanged = 1 << 0,
  /** new filled quantity: `fillQty` / `fillPrice` hold it */
  Fill = 1 << 1,
  /** the record named an intent id this table does not hold (and did not adopt) */
  Unmatched = 1 << 2,
  /** a report of an order that is not ours (INTENT_ID -1 or flag Foreign): not tracked here */
  Foreign = 1 << 3,
  /** not a record this table reads (market data, AccountUpdate) */
  Ignored = 1 << 4,
  /** the record was already known: a duplicate intent, or a report that changed nothing */
  Duplicate = 1 << 5,
  /** an intent or an adopted order took a slot: `slot` holds it */
  Created = 1 << 6,
  /** a report for an intent whose record was never seen: the order was created from the report */
  Adopted = 1 << 7,
  /** the order's cumulative quantity, average price or venue id changed without a state change */
  Updated = 1 << 8,
}

export const enum SlotKind {
  Free = 0,
  Order = 1,
  /** an OrderCancel intent: remembered so a refused cancel (reported under its own id) finds its target */
  Cancel = 2,
}

export interface OrderStateMachineOptions {
  /** Slots (power of two). Each live order holds one until it is terminal and a newer intent needs it. Default 65536. */
  capacity?: number;
  /** Quantity of one step per symbol id (Instrument.stepSize): order quantities in base units. Missing: unknown (NaN). */
  stepSizes?: ArrayLike<number>;
  /** Price of one tick per symbol id (Instrument.tickSize): order prices. Missing: unknown (NaN). */
  tickSizes?: ArrayLike<number>;
  /**
   * Keep a list of changed slots for a consumer that writes rows (the journal): `dirtyLength` / `dirtySlot`,
   * emptied by `clearDirty()`. A terminal order's slot is not reused while it is listed. Default false.
   */
  trackChanges?: boolean;
}

export interface OrderCounters {
  intents: number;
  cancels: number;
  reports: number;
  duplicateIntents: number;
  /** reports that changed nothing (a fill seen from both the response and the stream, a repeated status) */
  duplicateReports: number;
  unmatched: number;
  adopted: number;
  foreign: number;
  /** intents not tracked: every slot of their probe window held a live order */
  tableFull: number;
  /** pending-new orders marked Unknown by `sweepTimeouts` */
  timedOut: number;
  /** cancels whose outcome was reported Unknown (the target shows its last definite state until resolved) */
  cancelUnknown: number;
}

/** A copy of one order's fields (allocates: tests, journal rows, restart; not for the hot path). */
export interface OrderSnapshot {
  intentId: number;
  symbolId: number;
  side: number;
  orderType: number;
  tif: number;
  priceTicks: number;
  qtySteps: number;
  /** base units; NaN when the step size is not known */
  qty: number;
  price: number;
  reduceOnly: boolean;
  state: OrderState;
  cumQty: number;
  avgPrice: number;
  venueOrderId: number;
  rejectReason: number;
  errorCode: number;
  createdTs: number;
  updatedTs: number;
  venueTime: number;
  /** reports applied to this order (duplicates included) */
  reports: number;
  pendingCancels: number;
  /** created from a report, its intent record never seen */
  adopted: boolean;
}

/** Slots looked at from an id's home slot; a wider window only helps with very many long-lived orders. */
const MAX_PROBE = 8;
/** Quantities are decimals of at most ~8 places: keep sums and differences clean of float noise. */
function qtyRound(q: number): number {
  return Math.round(q * 1e10) / 1e10;
}
const QTY_EPS = 1e-9;

/** Terminal precedence: when conflicting terminal reports arrive, the strongest wins whatever their order. */
function terminalRank(s: number): number {
  switch (s) {
    case OrderState.Filled:
      return 4;
    case OrderState.Expired:
      return 3;
    case OrderState.Canceled:
      return 2;
    case OrderState.Rejected:
      return 1;
    default:
      return 0;
  }
}

const NO_SLOT = -1;

/**
 * The single source of truth for our orders: one row per intent id in preallocated typed arrays, driven by
 * ring-B intent records (`onIntentRecord`) and ring-C report records (`onReportRecord`), allocating nothing
 * per event.
 *
 * The state is a function of the *set* of reports seen, not of their order or multiplicity, so duplicates
 * (the REST or WS API response and the user data stream both report a fill; a reconcile repeats it) and
 * reordering (a late response after the stream) converge to the same row:
 *  - filled quantity = the largest cumulative quantity reported (a TRADE_LITE, which has no cumulative,
 *    is a lower bound through its last quantity); new quantity = its increase, so a fill counts once;
 *  - terminal state = the strongest terminal status seen (Filled > Expired > Canceled > Rejected), also
 *    Filled when the cumulative reaches the order quantity; terminal states never change again;
 *  - otherwise PendingCancel while a cancel of ours is in flight, PartiallyFilled once anything filled,
 *    New once the venue acknowledged it, Unknown after an Unknown outcome (a lost answer, or
 *    `sweepTimeouts`) with no definite news since, else PendingNew.
 * An Unknown order is resolved by whatever definite report comes next: the UnknownResolver's follow-up
 * (the venue's state found by client order id, or Rejected "never arrived"), a late response, the stream.
 *
 * Table: open addressing from `intentId & (capacity - 1)` over MAX_PROBE slots. Intent ids are sequential
 * per session, so an id normally lands on its home slot, taking it over from the id `capacity` earlier.
 * A slot is reused only when its order is terminal (or its cancel resolved); ids at or below the newest
 * retired id are "late" and never adopted, so a very late duplicate cannot create a second order.
 */
export class OrderStateMachine {
  readonly capacity: number;
  readonly counters: OrderCounters = {
    intents: 0, cancels: 0, reports: 0, duplicateIntents: 0, duplicateReports: 0, unmatched: 0, adopted: 0, foreign: 0,
    tableFull: 0, timedOut: 0, cancelUnknown: 0,
  };
  /** Slot touched by the last call (-1 if none). */
  slot = NO_SLOT;
  /** New filled quantity of the last report (0 unless its effect has `Fill`), in base units. */
  fillQty = 0;
  /** Price of that new quantity: the report's last price, or what the change of the average implies. */
  fillPrice = 0;
  /** Side of that new quantity (1 buy, -1 sell). */
  fillSide = 0;

  private readonly mask: number;
  /** per symbol id, NaN when not given (typed: reading a plain array's double would box it) */
  private readonly stepSizes: Float64Array;
  private readonly tickSizes: Float64Array;
  // ---- one entry per slot
  private readonly id: Float64Array;
  private readonly kind: Uint8Array;
  private readonly symbol: Int32Array;
  private readonly side: Int8Array;
  private readonly orderType: Uint8Array;
  private readonly tif: Uint8Array;
  private readonly intentFlags: Uint8Array;
  private readonly priceTicks: Float64Array;
  private readonly qtySteps: Float64Array;
  private readonly qty: Float64Array;
  private readonly cum: Float64Array;
  private readonly avg: Float64Array;
  private readonly venueOrderId: Float64Array;
  private readonly acked: Uint8Array;
  private readonly unknownSeen: Uint8Array;
  private readonly adoptedFlag: Uint8Array;
  private readonly terminal: Uint8Array;
  private readonly state: Uint8Array;
  private readonly pendingCancels: Int32Array;
  private readonly rejectReason: Int32Array;
  private readonly errorCode: Int32Array;
  private readonly createdTs: Float64Array;
  private readonly updatedTs: Float64Array;
  private readonly venueTime: Float64Array;
  private readonly reports: Int32Array;
  /** Cancel slots: the intent id they target, and whether their own outcome (refused / unknown) arrived. */
  private readonly target: Float64Array;
  private readonly cancelDone: Uint8Array;
  // ---- open orders: an intrusive doubly linked list (slot capacity = head sentinel)
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly inOpen: Uint8Array;
  // ---- slots changed since the last takeDirty()
  private readonly dirty: Int32Array;
  private readonly isDirty: Uint8Array;
  private dirtyCount = 0;
  private readonly trackChanges: boolean;
  /** newest intent id whose slot was reused: reports at or below it are never adopted */
  private retiredBelow = -1;
  private openCount = 0;

  constructor(opts: OrderStateMachineOptions = {}) {
    const cap = opts.capacity ?? 65536;
    if (!Number.isInteger(cap) || cap < MAX_PROBE || (cap & (cap - 1)) !== 0) throw new Error(`order table capacity must be a power of two >= ${MAX_PROBE}, got ${cap}`);
    this.capacity = cap;
    this.mask = cap - 1;
    this.stepSizes = Float64Array.from(opts.stepSizes ?? [], (x) => (x > 0 ? x : Number.NaN));
    this.tickSizes = Float64Array.from(opts.tickSizes ?? [], (x) => (x > 0 ? x : Number.NaN));
    this.trackChanges = opts.trackChanges ?? false;
    this.id = new Float64Array(cap).fill(-1);
    this.kind = new Uint8Array(cap);
    this.symbol = new Int32Array(cap);
    this.side = new Int8Array(cap);
    this.orderType = new Uint8Array(cap);
    this.tif = new Uint8Array(cap);
    this.intentFlags = new Uint8Array(cap);
    this.priceTicks = new Float64Array(cap);
    this.qtySteps = new Float64Array(cap);
    this.qty = new Float64Array(cap);
    this.cum = new Float64Array(cap);
    this.avg = new Float64Array(cap);
    this.venueOrderId = new Float64Array(cap);
    this.acked = new Uint8Array(cap);
    this.unknownSeen = new Uint8Array(cap);
    this.adoptedFlag = new Uint8Array(cap);
    this.terminal = new Uint8Array(cap);
    this.state = new Uint8Array(cap);
    this.pendingCancels = new Int32Array(cap);
    this.rejectReason = new Int32Array(cap);
    this.errorCode = new Int32Array(cap);
    this.createdTs = new Float64Array(cap);
    this.updatedTs = new Float64Array(cap);
    this.venueTime = new Float64Array(cap);
    this.reports = new Int32Array(cap);
    this.target = new Float64Array(cap);
    this.cancelDone = new Uint8Array(cap);
    this.next = new Int32Array(cap + 1).fill(cap);
    this.prev = new Int32Array(cap + 1).fill(cap);
    this.inOpen = new Uint8Array(cap);
    this.dirty = new Int32Array(cap);
    this.isDirty = new Uint8Array(cap);
  }

  // ------------------------------------------------------------------ lookup

  /** Slot of intent `intentId` (an order or a cancel), or -1. */
  find(intentId: number): number {
    if (!(intentId >= 0)) return NO_SLOT;
    const ids = this.id;
    let s = intentId & this.mask;
    for (let k = 0; k < MAX_PROBE; k++) {
      if (ids[s] === intentId) return s;
      s = (s + 1) & this.mask;
    }
    return NO_SLOT;
  }

  /** Derived state of intent `intentId`'s order, or -1 if the table does not hold it. */
  stateOf(intentId: number): number {
    const s = this.find(intentId);
    return s >= 0 && this.kind[s] === SlotKind.Order ? this.state[s]! : -1;
  }

  /** Orders not yet terminal. */
  get openOrders(): number {
    return this.openCount;
  }

  // per-slot readers for consumers that write rows (the journal) without a snapshot object
  slotKind(s: number): number { return this.kind[s]!; }
  slotIntentId(s: number): number { return this.id[s]!; }
  slotSymbol(s: number): number { return this.symbol[s]!; }
  slotSide(s: number): number { return this.side[s]!; }
  slotState(s: number): number { return this.state[s]!; }
  slotCumQty(s: number): number { return this.cum[s]!; }
  slotAvgPrice(s: number): number { return this.avg[s]!; }
  slotVenueOrderId(s: number): number { return this.venueOrderId[s]!; }
  slotRejectReason(s: number): number { return this.rejectReason[s]!; }
  slotErrorCode(s: number): number { return this.errorCode[s]!; }
  slotUpdatedTs(s: number): number { return this.updatedTs[s]!; }
  slotReports(s: number): number { return this.reports[s]!; }
  slotTarget(s: number): number { return this.target[s]!; }

  snapshot(intentId: number): OrderSnapshot | undefined {
    const s = this.find(intentId);
    if (s < 0 || this.kind[s] !== SlotKind.Order) return undefined;
    return this.snapshotSlot(s);
  }

  snapshotSlot(s: number): OrderSnapshot {
    const sym = this.symbol[s]!;
    const tick = sym >= 0 && sym < this.tickSizes.length ? this.tickSizes[sym]! : Number.NaN;
    return {
      intentId: this.id[s]!,
      symbolId: sym,
      side: this.side[s]!,
      orderType: this.orderType[s]!,
      tif: this.tif[s]!,
      priceTicks: this.priceTicks[s]!,
      qtySteps: this.qtySteps[s]!,
      qty: this.qty[s]!,
      price: this.priceTicks[s]! > 0 ? qtyRound(this.priceTicks[s]! * tick) : Number.NaN,
      reduceOnly: (this.intentFlags[s]! & 1) !== 0,
      state: this.state[s]! as OrderState,
      cumQty: this.cum[s]!,
      avgPrice: this.avg[s]!,
      venueOrderId: this.venueOrderId[s]!,
      rejectReason: this.rejectReason[s]!,
      errorCode: this.errorCode[s]!,
      createdTs: this.createdTs[s]!,
      updatedTs: this.updatedTs[s]!,
      venueTime: this.venueTime[s]!,
      reports: this.reports[s]!,
      pendingCancels: this.pendingCancels[s]!,
      adopted: this.adoptedFlag[s] === 1,
    };
  }

  /** Snapshots of every open order (allocates: restart, shutdown, tests). */
  openSnapshots(): OrderSnapshot[] {
    const out: OrderSnapshot[] = [];
    const head = this.capacity;
    for (let s = this.next[head]!; s !== head; s = this.next[s]!) out.push(this.snapshotSlot(s));
    return out;
  }

  // ------------------------------------------------------------------ changed slots

  /** Slots whose row changed since the last `clearDirty()`: `dirtySlot(0..dirtyLength-1)`. */
  get dirtyLength(): number {
    return this.dirtyCount;
  }

  dirtySlot(i: number): number {
    return this.dirty[i]!;
  }

  clearDirty(): void {
    for (let i = 0; i < this.dirtyCount; i++) this.isDirty[this.dirty[i]!] = 0;
    this.dirtyCount = 0;
  }

  private markDirty(s: number): void {
    if (this.trackChanges && this.isDirty[s] === 0) {
      this.isDirty[s] = 1;
      this.dirty[this.dirtyCount++] = s;
    }
  }

  // ------------------------------------------------------------------ ring B

  /** A ring-B intent record (OrderNew or OrderCancel) at word base `base`. */
  onIntentRecord(f64: Float64Array, i32: Int32Array, base: number): number {
    this.slot = NO_SLOT;
    this.fillQty = 0;
    const type = i32[base * 2]! & 0xff;
    if (type !== RecordType.OrderNew && type !== RecordType.OrderCancel) return ReportEffect.Ignored;
    const intentId = f64[base + IN.INTENT_ID]!;
    if (this.find(intentId) >= 0) {
      this.counters.duplicateIntents++;
      return ReportEffect.Duplicate;
    }
    const s = this.claimSlot(intentId);
    if (s < 0) {
      this.counters.tableFull++;
      return ReportEffect.Unmatched;
    }
    const sym = i32[base * 2 + 1]!;
    this.resetSlot(s, intentId, sym, f64[base + IN.SIDE]!, f64[base + W.PUB_TS]!);
    this.slot = s;
    if (type === RecordType.OrderCancel) {
      this.counters.cancels++;
      this.kind[s] = SlotKind.Cancel;
      const targetId = f64[base + IN.TARGET_ID]!;
      this.target[s] = targetId;
      const t = this.find(targetId);
      if (t >= 0 && this.kind[t] === SlotKind.Order && this.terminal[t] === 0) {
        this.pendingCancels[t]!++;
        return ReportEffect.Created | this.recompute(t);
      }
      return ReportEffect.Created;
    }
    this.counters.intents++;
    this.kind[s] = SlotKind.Order;
    this.orderType[s] = f64[base + IN.ORDER_TYPE]!;
    this.tif[s] = f64[base + IN.TIF]!;
    this.intentFlags[s] = f64[base + IN.FLAGS]!;
    const steps = f64[base + IN.QTY_STEPS]!;
    this.priceTicks[s] = f64[base + IN.PRICE_TICKS]!;
    this.qtySteps[s] = steps;
    // NaN when the symbol's step is not known
    this.qty[s] = sym >= 0 && sym < this.stepSizes.length ? qtyRound(steps * this.stepSizes[sym]!) : Number.NaN;
    this.state[s] = OrderState.PendingNew;
    this.linkOpen(s);
    this.markDirty(s);
    return ReportEffect.Created | ReportEffect.StateChanged;
  }

  // ------------------------------------------------------------------ ring C

  /** A ring-C record at word base `base` (ExecReport; anything else is ignored). */
  onReportRecord(f64: Float64Array, i32: Int32Array, base: number): number {
    this.slot = NO_SLOT;
    this.fillQty = 0;
    const h = i32[base * 2]!;
    if ((h & 0xff) !== RecordType.ExecReport) return ReportEffect.Ignored;
    this.counters.reports++;
    const flags = (h >>> 8) & 0xff;
    const intentId = f64[base + RP.INTENT_ID]!;
    if (!(intentId >= 0) || (flags & ExecFlag.Foreign) !== 0) {
      this.counters.foreign++;
      return ReportEffect.Foreign;
    }
    let s = this.find(intentId);
    let effect = 0;
    if (s < 0) {
      if (intentId <= this.retiredBelow) {
        this.counters.unmatched++;
        return ReportEffect.Unmatched;
      }
      // Its intent record was never seen (a journal gap, a table started late): the report creates it.
      s = this.claimSlot(intentId);
      if (s < 0) {
        this.counters.tableFull++;
        this.counters.unmatched++;
        return ReportEffect.Unmatched;
      }
      this.counters.adopted++;
      this.resetSlot(s, intentId, i32[base * 2 + 1]!, f64[base + RP.SIDE]!, f64[base + RP.ACK_TS]!);
      this.kind[s] = SlotKind.Order;
      this.qty[s] = Number.NaN;
      this.adoptedFlag[s] = 1;
      this.state[s] = OrderState.PendingNew;
      this.linkOpen(s);
      this.markDirty(s);
      effect = ReportEffect.Created | ReportEffect.Adopted;
    }
    this.slot = s;
    if (this.kind[s] === SlotKind.Cancel) return effect | this.applyCancelOutcome(s, f64, base);
    return effect | this.applyReport(s, f64, base, flags);
  }

  /** A report under a cancel intent's own id: the cancel was refused (Reject) or its outcome is Unknown. */
  private applyCancelOutcome(s: number, f64: Float64Array, base: number): number {
    const status = f64[base + RP.STATUS]!;
    const refused = f64[base + RP.EXEC_TYPE]! === ExecType.Reject || status === OrderStatus.Rejected;
    if (!(refused || status === OrderStatus.Unknown) || this.cancelDone[s] === 1) {
      this.counters.duplicateReports++;
      return ReportEffect.Duplicate;
    }
    // Unknown: the target shows its last definite state; the resolver reports the target's real state.
    if (status === OrderStatus.Unknown) this.counters.cancelUnknown++;
    this.cancelDone[s] = 1;
    const t = this.find(this.target[s]!);
    if (t < 0 || this.kind[t] !== SlotKind.Order) return ReportEffect.None;
    if (this.pendingCancels[t]! > 0) this.pendingCancels[t]!--;
    return this.recompute(t);
  }

  private applyReport(s: number, f64: Float64Array, base: number, flags: number): number {
    this.reports[s]!++;
    const status = f64[base + RP.STATUS]!;
    const execType = f64[base + RP.EXEC_TYPE]!;
    let updated = false;
    const ackTs = f64[base + RP.ACK_TS]!;
    if (ackTs > this.updatedTs[s]!) this.updatedTs[s] = ackTs;
    const vt = f64[base + RP.VENUE_TIME]!;
    if (vt > this.venueTime[s]!) this.venueTime[s] = vt;
    const oid = f64[base + RP.ORDER_ID]!;
    if (oid > this.venueOrderId[s]!) {
      this.venueOrderId[s] = oid;
      updated = true;
    }
    if (this.side[s] === 0) this.side[s] = f64[base + RP.SIDE]!;

    if (status === OrderStatus.Unknown) {
      if (this.unknownSeen[s] === 0) this.unknownSeen[s] = 1;
    } else if (status === OrderStatus.Rejected || execType === ExecType.Reject) {
      this.raiseTerminal(s, OrderState.Rejected, f64[base + RP.REASON]!, f64[base + RP.ERROR_CODE]!);
    } else if (status !== OrderStatus.PendingNew) {
      // New, PartiallyFilled, Filled, Canceled, Expired: the venue holds (or held) the order
      this.acked[s] = 1;
      if (status === OrderStatus.Filled) this.raiseTerminal(s, OrderState.Filled, RejectReason.None, 0);
      else if (status === OrderStatus.Canceled) this.raiseTerminal(s, OrderState.Canceled, RejectReason.None, 0);
      else if (status === OrderStatus.Expired) this.raiseTerminal(s, OrderState.Expired, RejectReason.None, 0);
    }

    // Quantity: the largest cumulative wins; a TRADE_LITE (no cumulative) is a lower bound.
    const prevCum = this.cum[s]!;
    const prevAvg = this.avg[s]!;
    const reportedCum = f64[base + RP.CUM_QTY]!;
    const last = f64[base + RP.LAST_QTY]!;
    // prices are decimals of at most 8 places: rounded so that one average reached by two sums is one value
    const lastPrice = round8(f64[base + RP.LAST_PRICE]!);
    let newCum = prevCum;
    let newAvg = prevAvg;
    if (reportedCum === reportedCum) {
      const avgIn = round8(f64[base + RP.AVG_PRICE]!);
      if (reportedCum > prevCum + QTY_EPS) {
        newCum = reportedCum;
        newAvg = avgIn === avgIn ? avgIn : prevAvg;
      } else if (reportedCum > 0 && Math.abs(reportedCum - prevCum) <= QTY_EPS && avgIn === avgIn && avgIn > prevAvg) {
        // same quantity, an average we did not have (e.g. after a TRADE_LITE): deterministic tie-break
        newAvg = avgIn;
      }
    } else if ((flags & ExecFlag.Lite) !== 0 && execType === ExecType.Fill && last > prevCum + QTY_EPS) {
      newCum = last;
      newAvg = lastPrice;
    }
    let effect = 0;
    if (newCum !== prevCum) {
      const delta = qtyRound(newCum - prevCum);
      this.cum[s] = newCum;
      this.avg[s] = newAvg;
      this.fillQty = delta;
      this.fillSide = this.side[s]!;
      // the record's own execution when it is exactly the new quantity, else what the averages imply
      if (Math.abs(last - delta) <= QTY_EPS && lastPrice > 0 && execType === ExecType.Fill) this.fillPrice = lastPrice;
      // rounded to 1e-8: prices are decimals of at most 8 places, the division leaves float noise
      else if (newAvg > 0 && prevCum > 0 && prevAvg > 0) this.fillPrice = Math.round(((newAvg * newCum - prevAvg * prevCum) / delta) * 1e8) / 1e8;
      else this.fillPrice = newAvg > 0 ? newAvg : lastPrice;
      effect |= ReportEffect.Fill;
      const q = this.qty[s]!;
      if (q === q && q > 0 && newCum >= q - QTY_EPS) this.raiseTerminal(s, OrderState.Filled, RejectReason.None, 0);
    } else if (newAvg !== prevAvg) {
      this.avg[s] = newAvg;
      updated = true;
    }
    effect |= this.recompute(s);
    if (updated) {
      effect |= ReportEffect.Updated;
      this.markDirty(s);
    }
    if (effect === 0) {
      this.counters.duplicateReports++;
      return ReportEffect.Duplicate;
    }
    if ((effect & ReportEffect.Fill) !== 0) this.markDirty(s);
    return effect;
  }

  private raiseTerminal(s: number, t: OrderState, reason: number, code: number): void {
    const cur = this.terminal[s]!;
    const rNew = terminalRank(t);
    const rCur = terminalRank(cur);
    if (rNew > rCur) {
      this.terminal[s] = t;
      if (t === OrderState.Rejected) {
        this.rejectReason[s] = reason;
        this.errorCode[s] = code;
      }
    } else if (rNew === rCur && t === OrderState.Rejected && (reason > this.rejectReason[s]! || (reason === this.rejectReason[s]! && code > this.errorCode[s]!))) {
      // two rejects of one order (rare): the same one wins whatever their order
      this.rejectReason[s] = reason;
      this.errorCode[s] = code;
    }
  }

  /** Re-derives slot `s`'s state from its facts; StateChanged if it moved. */
  private recompute(s: number): number {
    let st: OrderState;
    const t = this.terminal[s]!;
    if (t !== 0) st = t as OrderState;
    else if (this.pendingCancels[s]! > 0) st = OrderState.PendingCancel;
    else if (this.cum[s]! > 0) st = OrderState.PartiallyFilled;
    else if (this.acked[s] === 1) st = OrderState.New;
    else if (this.unknownSeen[s] === 1) st = OrderState.Unknown;
    else st = OrderState.PendingNew;
    if (st === this.state[s]) return ReportEffect.None;
    this.state[s] = st;
    if (t !== 0) this.unlinkOpen(s);
    this.markDirty(s);
    return ReportEffect.StateChanged;
  }

  // ------------------------------------------------------------------ timeouts

  /**
   * Marks Unknown every order still PendingNew whose intent was published more than `timeoutNs` before
   * `nowNs` (no answer at all, not even a lost one). Returns how many moved; they are in the dirty list.
   */
  sweepTimeouts(nowNs: number, timeoutNs: number): number {
    const head = this.capacity;
    let n = 0;
    for (let s = this.next[head]!; s !== head; s = this.next[s]!) {
      if (this.state[s] === OrderState.PendingNew && this.unknownSeen[s] === 0 && nowNs - this.createdTs[s]! > timeoutNs) {
        this.unknownSeen[s] = 1;
        this.recompute(s);
        n++;
      }
    }
    this.counters.timedOut += n;
    return n;
  }

  // ------------------------------------------------------------------ slots

  private claimSlot(intentId: number): number {
    if (!(intentId >= 0)) return NO_SLOT;
    let s = intentId & this.mask;
    for (let k = 0; k < MAX_PROBE; k++) {
      if (this.reusable(s)) {
        const old = this.id[s]!;
        if (old > this.retiredBelow) this.retiredBelow = old;
        return s;
      }
      s = (s + 1) & this.mask;
    }
    return NO_SLOT;
  }

  private reusable(s: number): boolean {
    const k = this.kind[s]!;
    if (k === SlotKind.Free) return true;
    if (k === SlotKind.Order) return this.terminal[s] !== 0 && this.isDirty[s] === 0;
    // a cancel: once its outcome is in, or its target is gone or terminal
    if (this.cancelDone[s] === 1) return true;
    const t = this.find(this.target[s]!);
    return t < 0 || this.terminal[t] !== 0;
  }

  private resetSlot(s: number, intentId: number, sym: number, side: number, ts: number): void {
    this.id[s] = intentId;
    this.symbol[s] = sym;
    this.side[s] = side;
    this.orderType[s] = 0;
    this.tif[s] = 0;
    this.intentFlags[s] = 0;
    this.priceTicks[s] = 0;
    this.qtySteps[s] = 0;
    this.qty[s] = Number.NaN;
    this.cum[s] = 0;
    this.avg[s] = 0;
    this.venueOrderId[s] = 0;
    this.acked[s] = 0;
    this.unknownSeen[s] = 0;
    this.adoptedFlag[s] = 0;
    this.terminal[s] = 0;
    this.state[s] = OrderState.PendingNew;
    this.pendingCancels[s] = 0;
    this.rejectReason[s] = 0;
    this.errorCode[s] = 0;
    this.createdTs[s] = ts;
    this.updatedTs[s] = ts;
    this.venueTime[s] = 0;
    this.reports[s] = 0;
    this.target[s] = -1;
    this.cancelDone[s] = 0;
  }

  private linkOpen(s: number): void {
    if (this.inOpen[s] === 1) return;
    const head = this.capacity;
    const first = this.next[head]!;
    this.next[s] = first;
    this.prev[s] = head;
    this.prev[first] = s;
    this.next[head] = s;
    this.inOpen[s] = 1;
    this.openCount++;
  }

  private unlinkOpen(s: number): void {
    if (this.inOpen[s] === 0) return;
    const p = this.prev[s]!;
    const n = this.next[s]!;
    this.next[p] = n;
    this.prev[n] = p;
    this.inOpen[s] = 0;
    this.openCount--;
  }
}

function round8(x: number): number {
  return Math.round(x * 1e8) / 1e8;
}
