/**
 * The order state machine (src/orders/): hand-computed lifecycles driven by ring-B intent and ring-C report
 * records, duplicates from the response and the stream counted once, Unknown outcomes and their resolution,
 * cancels, timeouts, adoption, slot reuse, no allocation on the steady path, and a fast-check property:
 * any interleaving (with duplicates) of the same venue events ends in the same state.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ExecFlag, ExecType, OrderStatus, RejectReason } from '../src/ring/layout.js';
import { OrderStateMachine, ReportEffect } from '../src/orders/OrderStateMachine.js';
import { OrderState, clientOrderId, intentIdOf, orderStateName } from '../src/orders/OrderState.js';
import { writeIntent, writeReport, type IntentSpec, type ReportSpec } from '../src/journal/syntheticRecords.js';
import { steadyHeapGrowth } from './helpers/steadyHeap.js';

const SLOT_WORDS = 32;
const buf = new ArrayBuffer(SLOT_WORDS * 8);
const f64 = new Float64Array(buf);
const i32 = new Int32Array(buf);
const u8 = new Uint8Array(buf);

const BTC = 0;
// step 0.001 BTC, tick 0.1 USDT
const machine = (capacity = 64): OrderStateMachine => new OrderStateMachine({ capacity, stepSizes: [0.001], tickSizes: [0.1], trackChanges: true });

function intent(m: OrderStateMachine, s: Partial<IntentSpec> & { intentId: number }): number {
  f64.fill(0);
  writeIntent(f64, i32, 0, { kind: 'new', symbolId: BTC, side: 1, qtySteps: 3, priceTicks: 1_000_000, pubTs: 1e9, ...s });
  return m.onIntentRecord(f64, i32, 0);
}
function report(m: OrderStateMachine, s: Partial<ReportSpec> & { intentId: number; status: number; execType: number }): number {
  f64.fill(0);
  writeReport(f64, i32, u8, 0, { symbolId: BTC, side: 1, ...s });
  return m.onReportRecord(f64, i32, 0);
}
const ack = (id: number, extra: Partial<ReportSpec> = {}): Partial<ReportSpec> & { intentId: number; status: number; execType: number } =>
  ({ intentId: id, status: OrderStatus.New, execType: ExecType.Ack, orderId: 7001, ...extra });
const fill = (id: number, last: number, price: number, cum: number, avg: number, done: boolean, flags = 0): Partial<ReportSpec> & { intentId: number; status: number; execType: number } =>
  ({ intentId: id, status: done ? OrderStatus.Filled : OrderStatus.PartiallyFilled, execType: ExecType.Fill, lastQty: last, lastPrice: price, cumQty: cum, avgPrice: avg, orderId: 7001, flags });

describe('order state machine: lifecycles', () => {
  it('pending-new -> new -> partially-filled -> filled, with each new quantity and its price', () => {
    const m = machine();
    expect(intent(m, { intentId: 1 })).toBe(ReportEffect.Created | ReportEffect.StateChanged);
    expect(m.stateOf(1)).toBe(OrderState.PendingNew);
    expect(m.snapshot(1)!.qty).toBe(0.003);
    expect(m.snapshot(1)!.price).toBe(100_000);

    expect(report(m, ack(1))).toBe(ReportEffect.StateChanged | ReportEffect.Updated);
    expect(m.stateOf(1)).toBe(OrderState.New);

    expect(report(m, fill(1, 0.001, 100, 0.001, 100, false))).toBe(ReportEffect.Fill | ReportEffect.StateChanged);
    expect(m.stateOf(1)).toBe(OrderState.PartiallyFilled);
    expect([m.fillQty, m.fillPrice, m.fillSide]).toEqual([0.001, 100, 1]);

    // 0.001 @ 100 + 0.002 @ 101 = 0.003 @ 100.666...
    const avg = (0.001 * 100 + 0.002 * 101) / 0.003;
    expect(report(m, fill(1, 0.002, 101, 0.003, avg, true))).toBe(ReportEffect.Fill | ReportEffect.StateChanged);
    expect(m.stateOf(1)).toBe(OrderState.Filled);
    expect([m.fillQty, m.fillPrice]).toEqual([0.002, 101]);
    const s = m.snapshot(1)!;
    expect(s.cumQty).toBe(0.003);
    expect(s.avgPrice).toBeCloseTo(100.6666667, 6);
    expect(s.venueOrderId).toBe(7001);
    expect(m.openOrders).toBe(0);
  });

  it('a fill seen from the REST response and from the user data stream counts once', () => {
    const m = machine();
    intent(m, { intentId: 2 });
    // REST response: one state, executedQty as both last and cumulative
    expect(report(m, fill(2, 0.003, 100.5, 0.003, 100.5, true))).toBe(ReportEffect.Fill | ReportEffect.StateChanged | ReportEffect.Updated);
    expect(m.fillQty).toBe(0.003);
    // the stream's ORDER_TRADE_UPDATE of the same execution
    expect(report(m, fill(2, 0.003, 100.5, 0.003, 100.5, true, ExecFlag.Stream))).toBe(ReportEffect.Duplicate);
    expect(m.fillQty).toBe(0);
    expect(m.counters.duplicateReports).toBe(1);
    expect(m.snapshot(2)!.cumQty).toBe(0.003);
  });

  it('stream partial first, then the response snapshot: only the rest is new, priced from the averages', () => {
    const m = machine();
    intent(m, { intentId: 3 });
    report(m, fill(3, 0.001, 100, 0.001, 100, false, ExecFlag.Stream));
    const avg = (0.001 * 100 + 0.002 * 103) / 0.003; // 102
    expect(report(m, fill(3, 0.003, avg, 0.003, avg, true))).toBe(ReportEffect.Fill | ReportEffect.StateChanged);
    expect(m.fillQty).toBe(0.002);
    expect(m.fillPrice).toBeCloseTo(103, 9);
    // then the stream's second fill: nothing new
    expect(report(m, fill(3, 0.002, 103, 0.003, avg, true, ExecFlag.Stream))).toBe(ReportEffect.Duplicate);
    expect(m.stateOf(3)).toBe(OrderState.Filled);
  });

  it('TRADE_LITE is a lower bound; its Dup ORDER_TRADE_UPDATE adds nothing', () => {
    const m = machine();
    intent(m, { intentId: 4 });
    expect(report(m, { ...fill(4, 0.001, 99.9, Number.NaN, Number.NaN, false, ExecFlag.Stream | ExecFlag.Lite) })).toBe(ReportEffect.Fill | ReportEffect.StateChanged | ReportEffect.Updated);
    expect([m.fillQty, m.fillPrice]).toEqual([0.001, 99.9]);
    expect(report(m, fill(4, 0.001, 99.9, 0.001, 99.9, false, ExecFlag.Stream | ExecFlag.Dup))).toBe(ReportEffect.Duplicate);
    expect(m.snapshot(4)!.cumQty).toBe(0.001);
    expect(m.stateOf(4)).toBe(OrderState.PartiallyFilled);
  });

  it('out of order: a late New ack after Filled changes nothing; terminal states are final', () => {
    const m = machine();
    intent(m, { intentId: 5 });
    report(m, fill(5, 0.003, 100, 0.003, 100, true, ExecFlag.Stream));
    expect(report(m, ack(5))).toBe(ReportEffect.Duplicate);
    expect(report(m, { intentId: 5, status: OrderStatus.Canceled, execType: ExecType.Canceled, cumQty: 0.003, avgPrice: 100 })).toBe(ReportEffect.Duplicate);
    expect(m.stateOf(5)).toBe(OrderState.Filled);
  });

  it('the cumulative reaching the order quantity is Filled even when the record says PartiallyFilled', () => {
    const m = machine();
    intent(m, { intentId: 6 });
    report(m, fill(6, 0.003, 100, 0.003, 100, false));
    expect(m.stateOf(6)).toBe(OrderState.Filled);
  });

  it('rejected with reason and venue code; IOC partially filled then expired', () => {
    const m = machine();
    intent(m, { intentId: 7 });
    report(m, { intentId: 7, status: OrderStatus.Rejected, execType: ExecType.Reject, reason: RejectReason.Venue, errorCode: -2019 });
    const r = m.snapshot(7)!;
    expect([r.state, r.rejectReason, r.errorCode]).toEqual([OrderState.Rejected, RejectReason.Venue, -2019]);

    intent(m, { intentId: 8 });
    report(m, fill(8, 0.001, 100, 0.001, 100, false));
    report(m, { intentId: 8, status: OrderStatus.Expired, execType: ExecType.Expired, cumQty: 0.001, avgPrice: 100 });
    const x = m.snapshot(8)!;
    expect([x.state, x.cumQty]).toEqual([OrderState.Expired, 0.001]);
  });
});

describe('order state machine: unknown outcomes', () => {
  it('Unknown after a lost answer, resolved Filled by the query by client order id', () => {
    const m = machine();
    intent(m, { intentId: 10 });
    expect(report(m, { intentId: 10, status: OrderStatus.Unknown, execType: ExecType.Reject, reason: RejectReason.Transport })).toBe(ReportEffect.StateChanged);
    expect(m.stateOf(10)).toBe(OrderState.Unknown);
    // UnknownResolver: the venue's order found, executedQty as last and cumulative
    expect(report(m, fill(10, 0.003, 100.2, 0.003, 100.2, true))).toBe(ReportEffect.Fill | ReportEffect.StateChanged | ReportEffect.Updated);
    expect([m.stateOf(10), m.fillQty, m.fillPrice]).toEqual([OrderState.Filled, 0.003, 100.2]);
  });

  it('Unknown resolved "never arrived" (-2013) is Rejected; resolved open is New', () => {
    const m = machine();
    intent(m, { intentId: 11 });
    report(m, { intentId: 11, status: OrderStatus.Unknown, execType: ExecType.Reject });
    report(m, { intentId: 11, status: OrderStatus.Rejected, execType: ExecType.Reject, errorCode: -2013, reason: RejectReason.Transport });
    expect([m.stateOf(11), m.snapshot(11)!.errorCode]).toEqual([OrderState.Rejected, -2013]);

    intent(m, { intentId: 12 });
    report(m, { intentId: 12, status: OrderStatus.Unknown, execType: ExecType.Reject });
    report(m, ack(12));
    expect(m.stateOf(12)).toBe(OrderState.New);
  });

  it('the stream ack before the timed-out response: the order is New, not Unknown', () => {
    const m = machine();
    intent(m, { intentId: 13 });
    report(m, ack(13, { flags: ExecFlag.Stream }));
    expect(report(m, { intentId: 13, status: OrderStatus.Unknown, execType: ExecType.Reject, reason: RejectReason.Timeout })).toBe(ReportEffect.Duplicate);
    expect(m.stateOf(13)).toBe(OrderState.New);
  });

  it('sweepTimeouts marks pending-new orders older than the timeout Unknown, and only them', () => {
    const m = machine();
    intent(m, { intentId: 14, pubTs: 1e9 });
    intent(m, { intentId: 15, pubTs: 2.5e9 });
    intent(m, { intentId: 16, pubTs: 1e9 });
    report(m, ack(16));
    m.clearDirty();
    expect(m.sweepTimeouts(4e9, 2e9)).toBe(1);
    expect([m.stateOf(14), m.stateOf(15), m.stateOf(16)]).toEqual([OrderState.Unknown, OrderState.PendingNew, OrderState.New]);
    expect(m.dirtyLength).toBe(1);
    expect(m.slotIntentId(m.dirtySlot(0))).toBe(14);
    // resolved later
    report(m, { intentId: 14, status: OrderStatus.Canceled, execType: ExecType.Canceled });
    expect(m.stateOf(14)).toBe(OrderState.Canceled);
  });
});

describe('order state machine: cancels', () => {
  it('pending-cancel, then canceled under the target id', () => {
    const m = machine();
    intent(m, { intentId: 20 });
    report(m, ack(20));
    expect(intent(m, { kind: 'cancel', intentId: 21, targetId: 20, qtySteps: 0 })).toBe(ReportEffect.Created | ReportEffect.StateChanged);
    expect(m.stateOf(20)).toBe(OrderState.PendingCancel);
    expect(m.stateOf(21)).toBe(-1); // a cancel is not an order
    report(m, { intentId: 20, status: OrderStatus.Canceled, execType: ExecType.Canceled, cumQty: 0, orderId: 7001 });
    expect(m.stateOf(20)).toBe(OrderState.Canceled);
  });

  it('a refused cancel (reported under the cancel id) puts the order back; a repeat changes nothing', () => {
    const m = machine();
    intent(m, { intentId: 22 });
    report(m, ack(22));
    report(m, fill(22, 0.001, 100, 0.001, 100, false));
    intent(m, { kind: 'cancel', intentId: 23, targetId: 22, qtySteps: 0 });
    expect(m.stateOf(22)).toBe(OrderState.PendingCancel);
    expect(report(m, { intentId: 23, status: OrderStatus.Rejected, execType: ExecType.Reject, errorCode: -2011 })).toBe(ReportEffect.StateChanged);
    expect(m.stateOf(22)).toBe(OrderState.PartiallyFilled);
    expect(report(m, { intentId: 23, status: OrderStatus.Rejected, execType: ExecType.Reject, errorCode: -2011 })).toBe(ReportEffect.Duplicate);
  });

  it('a cancel whose outcome is Unknown: the order shows its last definite state until the resolver reports', () => {
    const m = machine();
    intent(m, { intentId: 24 });
    report(m, ack(24));
    intent(m, { kind: 'cancel', intentId: 25, targetId: 24, qtySteps: 0 });
    report(m, { intentId: 25, status: OrderStatus.Unknown, execType: ExecType.Reject });
    expect([m.stateOf(24), m.counters.cancelUnknown]).toEqual([OrderState.New, 1]);
    report(m, { intentId: 24, status: OrderStatus.Canceled, execType: ExecType.Canceled });
    expect(m.stateOf(24)).toBe(OrderState.Canceled);
  });
});

describe('order state machine: table', () => {
  it('foreign reports are left alone; duplicate intents are ignored', () => {
    const m = machine();
    expect(report(m, { ...fill(-1, 0.5, 100, 0.5, 100, true, ExecFlag.Stream | ExecFlag.Foreign) })).toBe(ReportEffect.Foreign);
    intent(m, { intentId: 30 });
    expect(intent(m, { intentId: 30 })).toBe(ReportEffect.Duplicate);
    expect([m.counters.foreign, m.counters.duplicateIntents, m.counters.intents]).toEqual([1, 1, 1]);
  });

  it('a report for an intent never seen adopts the order; a report older than a retired slot does not', () => {
    const m = machine(8);
    expect(report(m, fill(40, 0.002, 100, 0.002, 100, false))).toBe(ReportEffect.Created | ReportEffect.Adopted | ReportEffect.Fill | ReportEffect.StateChanged | ReportEffect.Updated);
    const a = m.snapshot(40)!;
    expect([a.adopted, a.state, a.cumQty, Number.isNaN(a.qty)]).toEqual([true, OrderState.PartiallyFilled, 0.002, true]);
    // ids 1..16 terminal, reusing the 8 slots; then a late report for id 3
    for (let id = 1; id <= 16; id++) {
      intent(m, { intentId: id });
      report(m, fill(id, 0.003, 100, 0.003, 100, true));
      m.clearDirty();
    }
    expect(report(m, fill(3, 0.003, 100, 0.003, 100, true))).toBe(ReportEffect.Unmatched);
    expect(m.counters.adopted).toBe(1);
  });

  it('slots are reused only once terminal: live orders filling the probe window refuse a new intent', () => {
    const m = machine(8);
    for (let id = 0; id < 8; id++) intent(m, { intentId: id });
    expect(intent(m, { intentId: 8 })).toBe(ReportEffect.Unmatched);
    expect(m.counters.tableFull).toBe(1);
    report(m, { intentId: 3, status: OrderStatus.Canceled, execType: ExecType.Canceled });
    m.clearDirty();
    expect(intent(m, { intentId: 8 })).toBe(ReportEffect.Created | ReportEffect.StateChanged);
    expect([m.stateOf(8), m.stateOf(0), m.openOrders]).toEqual([OrderState.PendingNew, OrderState.PendingNew, 8]);
    expect(m.openSnapshots().map((o) => o.intentId).sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 5, 6, 7, 8]);
  });

  it('allocates nothing per event on the steady path (intent, ack, two fills, duplicate)', () => {
    const m = new OrderStateMachine({ capacity: 1024, stepSizes: [0.001] });
    const ib = new Float64Array(16);
    const ii = new Int32Array(ib.buffer);
    const rbuf = new ArrayBuffer(5 * SLOT_WORDS * 8);
    const rb = new Float64Array(rbuf);
    const ri = new Int32Array(rbuf);
    const ru = new Uint8Array(rbuf);
    writeIntent(ib, ii, 0, { kind: 'new', intentId: 0, symbolId: 0, side: 1, qtySteps: 2 });
    writeReport(rb, ri, ru, 0, ack(0) as ReportSpec);
    writeReport(rb, ri, ru, 32, fill(0, 0.001, 100, 0.001, 100, false) as ReportSpec);
    writeReport(rb, ri, ru, 64, fill(0, 0.001, 101, 0.002, 100.5, true, ExecFlag.Stream) as ReportSpec);
    writeReport(rb, ri, ru, 96, fill(0, 0.002, 100.5, 0.002, 100.5, true) as ReportSpec);
    const counter = new Float64Array(1);
    const round = (): void => {
      for (let k = 0; k < 50_000; k++) {
        const id = ++counter[0]!;
        ib[3] = id;
        rb[3] = id;
        rb[32 + 3] = id;
        rb[64 + 3] = id;
        rb[96 + 3] = id;
        m.onIntentRecord(ib, ii, 0);
        for (let r = 0; r < 4; r++) m.onReportRecord(rb, ri, r * 32);
      }
    };
    round();
    round();
    expect(m.stateOf(counter[0]!)).toBe(OrderState.Filled);
    // 250k events: one boxed number each would be ~4 MB
    expect(steadyHeapGrowth(round)).toBeLessThan(256 * 1024);
  });

  it('client order ids name the intent', () => {
    expect(clientOrderId('h1abc-', 42)).toBe('h1abc-42');
    expect(intentIdOf('h1abc-42', 'h1abc-')).toBe(42);
    expect(intentIdOf('web_xyz', 'h1abc-')).toBe(-1);
    expect(orderStateName(OrderState.PendingCancel)).toBe('pending_cancel');
  });
});

// ---------------------------------------------------------------- property

type Ev = ReportSpec;

/** The venue events of one order with fills `parts` (steps) of an order of `total` steps, ending `end`. */
function venueEvents(id: number, total: number, parts: number[], prices: number[], end: 'filled' | 'canceled' | 'expired' | 'open', withUnknown: boolean, withLite: boolean): Ev[] {
  const step = 0.001;
  const ev: Ev[] = [];
  const base = { intentId: id, symbolId: BTC, side: 1, orderId: 9000 + id };
  if (withUnknown) ev.push({ ...base, status: OrderStatus.Unknown, execType: ExecType.Reject, reason: RejectReason.Timeout, orderId: 0 });
  ev.push({ ...base, status: OrderStatus.New, execType: ExecType.Ack, cumQty: 0, flags: ExecFlag.Stream });
  let cumSteps = 0;
  let notional = 0;
  for (let k = 0; k < parts.length; k++) {
    cumSteps += parts[k]!;
    notional += parts[k]! * step * prices[k]!;
    const cum = Math.round(cumSteps) * step;
    const cumQ = Math.round(cum * 1e10) / 1e10;
    const avg = notional / cumQ;
    const last = Math.round(parts[k]! * step * 1e10) / 1e10;
    const done = cumSteps === total;
    const status = done ? OrderStatus.Filled : OrderStatus.PartiallyFilled;
    ev.push({ ...base, status, execType: ExecType.Fill, lastQty: last, lastPrice: prices[k]!, cumQty: cumQ, avgPrice: avg, flags: ExecFlag.Stream | (withLite ? ExecFlag.Dup : 0) });
    if (withLite) ev.push({ ...base, status, execType: ExecType.Fill, lastQty: last, lastPrice: prices[k]!, cumQty: Number.NaN, avgPrice: Number.NaN, flags: ExecFlag.Stream | ExecFlag.Lite });
    // a response (or resolver answer) snapshot at this point
    ev.push({ ...base, status, execType: ExecType.Fill, lastQty: cumQ, lastPrice: avg, cumQty: cumQ, avgPrice: avg });
  }
  const cumQ = Math.round(cumSteps * step * 1e10) / 1e10;
  const avg = cumSteps > 0 ? notional / cumQ : 0;
  if (end === 'canceled') ev.push({ ...base, status: OrderStatus.Canceled, execType: ExecType.Canceled, cumQty: cumQ, avgPrice: avg });
  if (end === 'expired') ev.push({ ...base, status: OrderStatus.Expired, execType: ExecType.Expired, cumQty: cumQ, avgPrice: avg, flags: ExecFlag.Stream });
  return ev;
}

const scenario = fc
  .record({
    total: fc.integer({ min: 1, max: 12 }),
    cuts: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 5 }),
    prices: fc.array(fc.integer({ min: 990, max: 1010 }), { minLength: 5, maxLength: 5 }),
    end: fc.constantFrom<'filled' | 'canceled' | 'expired' | 'open'>('filled', 'canceled', 'expired', 'open'),
    withUnknown: fc.boolean(),
    withLite: fc.boolean(),
    withCancel: fc.constantFrom<'none' | 'refused' | 'unknown' | 'pending'>('none', 'refused', 'unknown', 'pending'),
  })
  .map((s) => {
    // fills: the cuts, clipped to the order quantity; all of it when the order ends filled
    const parts: number[] = [];
    let left = s.total;
    for (const c of s.cuts) {
      if (left === 0) break;
      const p = Math.min(c, left);
      parts.push(p);
      left -= p;
    }
    if (s.end === 'filled' && left > 0) parts.push(left);
    const end = s.end === 'filled' || parts.reduce((a, b) => a + b, 0) === s.total ? 'filled' : s.end;
    const prices = parts.map((_, k) => s.prices[k % 5]! / 10);
    return { ...s, parts, prices, end } as const;
  });

function finalState(events: Ev[], total: number, cancel: 'none' | 'refused' | 'unknown' | 'pending'): { snap: unknown; filledSum: number } {
  const m = machine(64);
  intent(m, { intentId: 1, qtySteps: total });
  if (cancel !== 'none') intent(m, { kind: 'cancel', intentId: 2, targetId: 1, qtySteps: 0 });
  let filledSum = 0;
  for (const e of events) {
    f64.fill(0);
    writeReport(f64, i32, u8, 0, e);
    if ((m.onReportRecord(f64, i32, 0) & ReportEffect.Fill) !== 0) filledSum += m.fillQty;
  }
  const s = m.snapshot(1)!;
  return { snap: { state: s.state, cumQty: s.cumQty, avgPrice: s.avgPrice, venueOrderId: s.venueOrderId, rejectReason: s.rejectReason, errorCode: s.errorCode, pendingCancels: s.pendingCancels }, filledSum: Math.round(filledSum * 1e9) / 1e9 };
}

describe('order state machine: property', () => {
  it('any interleaving of the same venue events, with duplicates, ends in the same state and counts each fill once', () => {
    fc.assert(
      fc.property(scenario, fc.infiniteStream(fc.nat()), fc.array(fc.nat(), { maxLength: 12 }), (s, seeds, dupPicks) => {
        const events = venueEvents(1, s.total, s.parts, s.prices, s.end, s.withUnknown, s.withLite);
        if (s.withCancel === 'refused') events.push({ intentId: 2, symbolId: BTC, side: 1, status: OrderStatus.Rejected, execType: ExecType.Reject, errorCode: -2011 });
        if (s.withCancel === 'unknown') events.push({ intentId: 2, symbolId: BTC, side: 1, status: OrderStatus.Unknown, execType: ExecType.Reject });
        const reference = finalState(events, s.total, s.withCancel);
        // shuffle (Fisher-Yates from the generated stream) and repeat some events
        const shuffled = events.slice();
        for (const p of dupPicks) shuffled.push(events[p % events.length]!);
        const it = seeds[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (it.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const got = finalState(shuffled, s.total, s.withCancel);
        expect(got).toEqual(reference);
        const filled = Math.round(s.parts.reduce((a, b) => a + b, 0) * 0.001 * 1e9) / 1e9;
        expect(got.filledSum).toBe(filled);
        // hand-derived end state of the reference order
        const expectedState =
          s.end === 'filled' ? OrderState.Filled
            : s.end === 'canceled' ? OrderState.Canceled
              : s.end === 'expired' ? OrderState.Expired
                : s.withCancel === 'pending' ? OrderState.PendingCancel
                  : filled > 0 ? OrderState.PartiallyFilled : OrderState.New;
        expect((got.snap as { state: number }).state).toBe(expectedState);
      }),
      { numRuns: 400 },
    );
  });
});
