import { describe, expect, it } from 'vitest';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { AT, AU, AccountFlag, AccountUpdateReason, BT, ExecFlag, ExecType, IN, OrderOrigin, OrderStatus, OrderType, RecordFlag, RecordType, RP, Side, W, packHeader, MARKET_SLOT_BYTES, INTENT_SLOT_BYTES, REPORT_SLOT_BYTES } from '../src/ring/layout.js';
import { makeInstrument } from '../src/core/Instrument.js';
import { StrategyRunner } from '../src/strategy/StrategyRunner.js';
import { PingPong } from '../src/strategy/PingPong.js';
import { PreTradeLimits } from '../src/risk/PreTradeLimits.js';
import type { PingPongParams } from '../src/config/Config.js';

const inst = [makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '100'), makeInstrument('ETHUSDT', '0.01', '0.001', '0.001', '20')];

function setup(p: Partial<PingPongParams> = {}, risk = { maxOrderQty: 1, maxPosition: 1 }, intentCap = 64) {
  const params: PingPongParams = { symbol: 'BTCUSDT', quantity: 0.01, cooldownMs: 1000, triggerPrice: 50_000, everyNTicks: 0, ...p };
  const strat = new PingPong(0, params);
  const intents = new ArraySlotWriter(INTENT_SLOT_BYTES, intentCap);
  let t = 1000;
  const runner = new StrategyRunner(strat, inst, intents, new PreTradeLimits(risk), { now: () => ++t });
  const market = new ArraySlotWriter(MARKET_SLOT_BYTES, 1);
  const reports = new ArraySlotWriter(REPORT_SLOT_BYTES, 1);
  const trade = (price: number, eventTime: number, sym = 0, flags = 0): void => {
    market.reset();
    const b = market.claim();
    market.i32[b * 2] = packHeader(RecordType.AggTrade, flags, 0);
    market.i32[b * 2 + 1] = sym;
    market.f64[b + W.RECV_TS] = 500;
    market.f64[b + AT.PRICE] = price;
    market.f64[b + AT.QTY] = 0.1;
    market.f64[b + AT.EVENT_TIME] = eventTime;
    market.commit();
    runner.beginBatch(900);
    runner.onMarketRecord(market.f64, market.i32, b);
  };
  const book = (bid: number, ask: number, eventTime: number): void => {
    market.reset();
    const b = market.claim();
    market.i32[b * 2] = packHeader(RecordType.BookTicker, 0, 0);
    market.i32[b * 2 + 1] = 0;
    market.f64[b + BT.BID] = bid;
    market.f64[b + BT.ASK] = ask;
    market.f64[b + BT.EVENT_TIME] = eventTime;
    market.commit();
    runner.beginBatch(900);
    runner.onMarketRecord(market.f64, market.i32, b);
  };
  // A transport report: a response states the order's cumulative fill (one fill per response here unless given).
  const report = (intentId: number, execType: ExecType, status: OrderStatus, side: Side, lastQty = 0, code = 0, cumQty = lastQty): void => {
    reports.reset();
    const b = reports.claim();
    reports.i32[b * 2] = packHeader(RecordType.ExecReport, 0, 0);
    reports.i32[b * 2 + 1] = 0;
    reports.f64[b + RP.INTENT_ID] = intentId;
    reports.f64[b + RP.EXEC_TYPE] = execType;
    reports.f64[b + RP.STATUS] = status;
    reports.f64[b + RP.SIDE] = side;
    reports.f64[b + RP.LAST_QTY] = lastQty;
    reports.f64[b + RP.CUM_QTY] = cumQty;
    reports.f64[b + RP.ERROR_CODE] = code;
    reports.commit();
    runner.onReportRecord(reports.f64, reports.i32, reports.u8, b);
  };
  const intent = (i: number): Record<string, number> => {
    const b = intents.base(i);
    return { id: intents.f64[b + IN.INTENT_ID]!, side: intents.f64[b + IN.SIDE]!, type: intents.f64[b + IN.ORDER_TYPE]!, qtySteps: intents.f64[b + IN.QTY_STEPS]!, recvTs: intents.f64[b + W.RECV_TS]!, readTs: intents.f64[b + IN.READ_TS]!, pubTs: intents.f64[b + W.PUB_TS]!, sym: intents.i32[b * 2 + 1]! };
  };
  return { strat, runner, intents, reports, trade, book, report, intent };
}

describe('ping-pong through the strategy runner', () => {
  it('alternates BUY and SELL above the trigger, one order at a time, honouring the cooldown in event time', () => {
    const s = setup();
    s.trade(49_999, 0); // below trigger
    expect(s.intents.count).toBe(0);
    s.trade(50_001, 10);
    expect(s.intents.count).toBe(1);
    expect(s.intent(0)).toMatchObject({ id: 1, side: Side.Buy, type: OrderType.Market, qtySteps: 10, recvTs: 500, readTs: 900, sym: 0 });
    expect(s.intent(0).pubTs).toBeGreaterThan(1000);
    s.trade(50_002, 2000); // previous order still in flight
    expect(s.intents.count).toBe(1);
    expect(s.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0.01, 12);
    s.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.01);
    expect(s.runner.position(0)).toBeCloseTo(0.01, 12);
    expect(s.runner.pendingQty(0, Side.Buy)).toBe(0);
    s.trade(50_003, 500); // cooldown (1000 ms since t=10) not over
    expect(s.intents.count).toBe(1);
    s.trade(50_003, 1010);
    expect(s.intents.count).toBe(2);
    expect(s.intent(1)).toMatchObject({ id: 2, side: Side.Sell });
    s.report(2, ExecType.Fill, OrderStatus.Filled, Side.Sell, 0.01);
    expect(s.runner.position(0)).toBeCloseTo(0, 12);
    s.trade(50_003, 2020);
    expect(s.intent(2)).toMatchObject({ id: 3, side: Side.Buy });
  });

  it('a venue reject frees the strategy for the next order without changing the position', () => {
    const s = setup();
    s.trade(60_000, 0);
    s.report(1, ExecType.Reject, OrderStatus.Rejected, Side.Buy, 0, -2019);
    expect(s.runner.position(0)).toBe(0);
    expect(s.runner.counters.rejects).toBe(1);
    expect(s.runner.pendingQty(0, Side.Buy)).toBe(0);
    s.trade(60_000, 1000);
    expect(s.intents.count).toBe(2);
  });

  it('many round trips never accumulate phantom in-flight quantity (position limit stays usable)', () => {
    const s = setup({ everyNTicks: 1, triggerPrice: 0 }, { maxOrderQty: 1, maxPosition: 0.01 });
    for (let i = 0; i < 50; i++) {
      s.trade(100, i);
      const n = s.intents.count;
      s.report(n, ExecType.Fill, OrderStatus.PartiallyFilled, s.intent(n - 1).side as Side, 0.004, 0, 0.004);
      s.report(n, ExecType.Fill, OrderStatus.Filled, s.intent(n - 1).side as Side, 0.006, 0, 0.01);
      expect(s.runner.position(0)).toBeCloseTo(i % 2 === 0 ? 0.01 : 0, 12);
    }
    expect(s.intents.count).toBe(50);
    expect((s.runner.risk as PreTradeLimits).rejects.maxPosition).toBe(0);
    expect(s.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0, 12);
    expect(s.runner.pendingQty(0, Side.Sell)).toBeCloseTo(0, 12);
    expect(s.runner.position(0)).toBeCloseTo(0, 12);
  });

  it('bench mode fires on every Nth tick of its symbol only', () => {
    const s = setup({ everyNTicks: 3, triggerPrice: 0 });
    for (let i = 1; i <= 9; i++) {
      s.trade(100, i);
      s.trade(100, i, 1); // other symbol: ignored
      const n = s.intents.count;
      if (n > 0) s.report(n, ExecType.Fill, OrderStatus.Filled, s.intent(n - 1).side as Side, 0.01);
    }
    expect(s.intents.count).toBe(3);
  });

  it('pre-trade limits refuse an order above max quantity or beyond max position, counted by reason', () => {
    const big = setup({ quantity: 2 }, { maxOrderQty: 1, maxPosition: 10 });
    big.trade(60_000, 0);
    expect(big.intents.count).toBe(0);
    expect((big.runner.risk as PreTradeLimits).rejects.maxOrderQty).toBe(1);
    expect(big.strat.refused).toBe(1);
    const pos = setup({ quantity: 0.01 }, { maxOrderQty: 1, maxPosition: 0.005 });
    pos.trade(60_000, 0);
    expect(pos.intents.count).toBe(0);
    expect((pos.runner.risk as PreTradeLimits).rejects.maxPosition).toBe(1);
  });

  it('a full intent ring rejects the intent with a reason instead of dropping it', () => {
    const s = setup({ everyNTicks: 1, triggerPrice: 0 }, { maxOrderQty: 1, maxPosition: 100 }, 2);
    for (let i = 0; i < 3; i++) {
      s.trade(100, i);
      const n = s.intents.count;
      s.report(n, ExecType.Ack, OrderStatus.New, Side.Buy);
      s.report(n, ExecType.Canceled, OrderStatus.Canceled, Side.Buy);
    }
    expect(s.intents.count).toBe(2);
    expect(s.runner.counters.ringFullRejects).toBe(1);
    expect(s.strat.refused).toBe(1);
  });

  it('a gap on ring A marks the symbol stale until the next book ticker; no orders meanwhile', () => {
    const s = setup({ everyNTicks: 1, triggerPrice: 0 });
    s.trade(100, 1, 0, RecordFlag.GapBefore);
    expect(s.runner.isStale(0)).toBe(true);
    expect(s.intents.count).toBe(0);
    s.book(99.9, 100.1, 2);
    expect(s.runner.isStale(0)).toBe(false);
    expect(s.runner.bestBid(0)).toBe(99.9);
    expect(s.intents.count).toBe(1);
  });
});

// ------------------------------------------------------------------ one source of truth for fills

/** A ring-C record as the execution worker writes it: a transport response, a stream event or an AccountUpdate. */
interface Rec {
  kind: 'exec' | 'account';
  label: string;
  intentId?: number;
  flags?: number;
  origin?: number;
  status?: OrderStatus;
  execType?: ExecType;
  side?: Side;
  lastQty?: number;
  /** NaN for a TRADE_LITE */
  cumQty?: number;
  amt?: number;
  reason?: AccountUpdateReason;
  positionFlags?: number;
  wallet?: number;
}

const QTY = 0.01;
/** RESULT response of a market order filled in full */
const result = (id: number, cum = QTY, status = OrderStatus.Filled): Rec => ({ kind: 'exec', label: `RESULT(${cum})`, intentId: id, flags: 0, status, execType: cum > 0 ? ExecType.Fill : ExecType.Ack, side: Side.Buy, lastQty: cum, cumQty: cum });
/** TRADE_LITE: one fill, cumulative unknown; Filled when the fill completes the order */
const lite = (id: number, last: number, status = OrderStatus.Filled): Rec => ({ kind: 'exec', label: `LITE(${last})`, intentId: id, flags: ExecFlag.Stream | ExecFlag.Lite, status, execType: ExecType.Fill, side: Side.Buy, lastQty: last, cumQty: NaN });
/** ORDER_TRADE_UPDATE of a fill; Dup when its TRADE_LITE came first */
const otu = (id: number, last: number, cum: number, dup: boolean, status = cum >= QTY ? OrderStatus.Filled : OrderStatus.PartiallyFilled): Rec => ({ kind: 'exec', label: `OTU${dup ? '-dup' : ''}(${last}/${cum})`, intentId: id, flags: ExecFlag.Stream | (dup ? ExecFlag.Dup : 0), status, execType: ExecType.Fill, side: Side.Buy, lastQty: last, cumQty: cum });
const account = (amt: number, reason = AccountUpdateReason.Order, wallet = 1000): Rec => ({ kind: 'account', label: `AU(${amt})`, amt, reason, wallet });

function feeder(runner: StrategyRunner) {
  const w = new ArraySlotWriter(REPORT_SLOT_BYTES, 1);
  return (r: Rec): void => {
    w.reset();
    const b = w.claim();
    if (r.kind === 'account') {
      w.i32[b * 2] = packHeader(RecordType.AccountUpdate, r.positionFlags ?? 0, 0);
      w.i32[b * 2 + 1] = 0;
      w.f64[b + AU.POSITION_AMT] = r.amt!;
      w.f64[b + AU.REASON] = r.reason!;
      w.f64[b + AU.WALLET_BALANCE] = r.wallet!;
      w.f64[b + AU.CROSS_WALLET_BALANCE] = r.wallet!;
      w.f64[b + AU.HAS_BALANCE] = 1;
      w.f64[b + AU.HAS_POSITION] = 1;
      // ExecReport words of an AccountUpdate mean something else: a runner reading it as a fill would move the position
      w.f64[b + RP.EXEC_TYPE] = ExecType.Fill;
    } else {
      w.i32[b * 2] = packHeader(RecordType.ExecReport, r.flags ?? 0, r.origin ?? 0);
      w.i32[b * 2 + 1] = 0;
      w.f64[b + RP.INTENT_ID] = r.intentId!;
      w.f64[b + RP.STATUS] = r.status!;
      w.f64[b + RP.EXEC_TYPE] = r.execType!;
      w.f64[b + RP.SIDE] = r.side!;
      w.f64[b + RP.LAST_QTY] = r.lastQty!;
      w.f64[b + RP.CUM_QTY] = r.cumQty!;
    }
    w.commit();
    runner.onReportRecord(w.f64, w.i32, w.u8, b);
  };
}

/** Every way of inserting `x` into `seq` (the stream keeps its own order; the response races it). */
function insertions(seq: Rec[], x: Rec): Rec[][] {
  return Array.from({ length: seq.length + 1 }, (_, i) => [...seq.slice(0, i), x, ...seq.slice(i)]);
}

/** A runner with one BUY market intent of QTY in flight (intent id 1). */
function oneOrder() {
  const s = setup({ everyNTicks: 1, triggerPrice: 0, quantity: QTY }, { maxOrderQty: 1, maxPosition: 1 });
  s.trade(100, 1);
  expect(s.intents.count).toBe(1);
  expect(s.runner.pendingQty(0, Side.Buy)).toBeCloseTo(QTY, 12);
  return { ...s, feed: feeder(s.runner) };
}

describe('strategy runner: fills from the response and from the user data stream, in any order', () => {
  // The stream reports one fill as TRADE_LITE then ORDER_TRADE_UPDATE (Dup), or ORDER_TRADE_UPDATE alone
  // (a TRADE_LITE arriving after it writes nothing), then ACCOUNT_UPDATE; the RESULT response may land anywhere.
  const streams: Array<[string, Rec[]]> = [
    ['LITE, OTU-dup, AU', [lite(1, QTY), otu(1, QTY, QTY, true), account(QTY)]],
    ['OTU, AU', [otu(1, QTY, QTY, false), account(QTY)]],
  ];
  for (const [name, stream] of streams) {
    for (const seq of insertions(stream, result(1))) {
      it(`one fill (${name}): ${seq.map((r) => r.label).join(' -> ')}`, () => {
        const s = oneOrder();
        for (const r of seq) s.feed(r);
        expect(s.runner.position(0)).toBeCloseTo(QTY, 12);
        expect(s.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0, 12);
        expect(s.runner.inflightCount()).toBe(0);
        expect(s.runner.venuePosition(0)).toBe(QTY);
        // the venue's position agrees with ours unless it arrived before any source of the fill had
        expect(s.runner.counters.positionDivergences).toBe(seq.indexOf(stream[stream.length - 1]!) < seq.findIndex((r) => r.kind === 'exec') ? 1 : 0);
      });
    }
  }

  // Two fills of 0.004 and 0.006: per fill, LITE then OTU-dup, or OTU alone; the final RESULT anywhere.
  const fill1: Rec[][] = [[lite(1, 0.004, OrderStatus.PartiallyFilled), otu(1, 0.004, 0.004, true)], [otu(1, 0.004, 0.004, false)]];
  const fill2: Rec[][] = [[lite(1, 0.006), otu(1, 0.006, QTY, true)], [otu(1, 0.006, QTY, false)]];
  for (const a of fill1) {
    for (const b of fill2) {
      for (const seq of insertions([...a, ...b], result(1))) {
        it(`two fills: ${seq.map((r) => r.label).join(' -> ')}`, () => {
          const s = oneOrder();
          const seen: number[] = [];
          for (const r of seq) {
            s.feed(r);
            seen.push(s.runner.position(0));
          }
          expect(s.runner.position(0)).toBeCloseTo(QTY, 12);
          // never more than the order, never going back
          for (let i = 0; i < seen.length; i++) {
            expect(seen[i]!).toBeLessThanOrEqual(QTY + 1e-12);
            if (i > 0) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]! - 1e-12);
          }
          expect(s.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0, 12);
          expect(s.runner.inflightCount()).toBe(0);
        });
      }
    }
  }

  it('a partial RESULT then the stream: the stream adds only what the response had not', () => {
    const s = oneOrder();
    s.feed(result(1, 0.004, OrderStatus.PartiallyFilled));
    expect(s.runner.position(0)).toBeCloseTo(0.004, 12);
    expect(s.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0.006, 12);
    s.feed(lite(1, 0.004, OrderStatus.PartiallyFilled));
    expect(s.runner.position(0)).toBeCloseTo(0.004, 12);
    s.feed(lite(1, 0.006));
    expect(s.runner.position(0)).toBeCloseTo(QTY, 12);
    expect(s.runner.inflightCount()).toBe(0);
    expect(s.runner.counters.duplicateQty).toBe(1);
  });

  it('a stream fill arriving after the order finished is not counted again (the table outlives the in-flight entry)', () => {
    const s = oneOrder();
    s.feed(result(1));
    expect(s.runner.inflightCount()).toBe(0);
    // more orders come and go before the stream catches up
    for (let i = 0; i < 20; i++) {
      s.trade(100, 2 + i);
      const id = s.intents.count;
      s.feed({ ...result(id), side: s.intent(id - 1).side as Side });
    }
    const pos = s.runner.position(0);
    s.feed(lite(1, QTY));
    s.feed(otu(1, QTY, QTY, true));
    expect(s.runner.position(0)).toBeCloseTo(pos, 12);
    expect(s.runner.counters.lateFills).toBe(0);
  });

  it('Unknown keeps the order in flight; the resolved report (or the stream first) applies the fill once', () => {
    for (const viaStream of [false, true]) {
      const s = oneOrder();
      s.feed({ kind: 'exec', label: 'UNKNOWN', intentId: 1, flags: 0, status: OrderStatus.Unknown, execType: ExecType.Reject, side: Side.Buy, lastQty: 0, cumQty: 0 });
      expect(s.runner.counters.unknown).toBe(1);
      expect(s.runner.inflightCount()).toBe(1);
      expect(s.runner.pendingQty(0, Side.Buy)).toBeCloseTo(QTY, 12); // still counts against the position limit
      if (viaStream) s.feed(lite(1, QTY));
      s.feed(result(1)); // the follow-up report of the resolver: FILLED, executedQty 0.01
      expect(s.runner.position(0)).toBeCloseTo(QTY, 12);
      expect(s.runner.inflightCount()).toBe(0);
      expect(s.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0, 12);
    }
  });

  it('Unknown resolved as never arrived (-2013): no position, nothing left in flight', () => {
    const s = oneOrder();
    s.feed({ kind: 'exec', label: 'UNKNOWN', intentId: 1, flags: 0, status: OrderStatus.Unknown, execType: ExecType.Reject, side: Side.Buy, lastQty: 0, cumQty: 0 });
    s.feed({ kind: 'exec', label: 'NEVER', intentId: 1, flags: 0, status: OrderStatus.Rejected, execType: ExecType.Reject, side: Side.Buy, lastQty: 0, cumQty: 0 });
    expect(s.runner.position(0)).toBe(0);
    expect(s.runner.inflightCount()).toBe(0);
    expect(s.runner.pendingQty(0, Side.Buy)).toBe(0);
  });

  it('a resolved Unknown whose order finished long ago still lands (late fill)', () => {
    const s = oneOrder();
    s.feed({ kind: 'exec', label: 'REJECT', intentId: 1, flags: 0, status: OrderStatus.Rejected, execType: ExecType.Reject, side: Side.Buy, lastQty: 0, cumQty: 0 });
    expect(s.runner.inflightCount()).toBe(0);
    s.feed(lite(1, QTY)); // e.g. a fill the venue did make after all
    expect(s.runner.position(0)).toBeCloseTo(QTY, 12);
    expect(s.runner.counters.lateFills).toBe(1);
  });

  it('foreign fills move the position by LAST_QTY unless Dup', () => {
    const s = oneOrder();
    const foreign = (flags: number, last: number, cum: number, side: Side): Rec => ({ kind: 'exec', label: 'FOREIGN', intentId: -1, flags: ExecFlag.Stream | ExecFlag.Foreign | flags, origin: OrderOrigin.Liquidation, status: OrderStatus.Filled, execType: ExecType.Fill, side, lastQty: last, cumQty: cum });
    s.feed(foreign(ExecFlag.Lite, 0.5, NaN, Side.Sell));
    expect(s.runner.position(0)).toBeCloseTo(-0.5, 12);
    s.feed(foreign(ExecFlag.Dup, 0.5, 0.5, Side.Sell));
    expect(s.runner.position(0)).toBeCloseTo(-0.5, 12);
    s.feed(foreign(0, 0.25, 0.25, Side.Buy)); // an ORDER_TRADE_UPDATE whose TRADE_LITE never came
    expect(s.runner.position(0)).toBeCloseTo(-0.25, 12);
    expect(s.runner.counters.foreignFills).toBe(2);
    expect(s.runner.counters.dupFills).toBe(1);
    expect(s.runner.inflightCount()).toBe(1); // ours untouched
  });

  it('AccountUpdate: a reconcile sets the position (counted when it differed), a stream update is compared only', () => {
    const s = oneOrder();
    s.feed(account(0.5, AccountUpdateReason.Reconcile, 1234.5));
    expect(s.runner.position(0)).toBe(0.5);
    expect(s.runner.counters.positionCorrections).toBe(1);
    expect(s.runner.venueBalance()).toBe(1234.5);
    s.feed(account(0.5, AccountUpdateReason.Reconcile));
    expect(s.runner.counters.positionCorrections).toBe(1); // same: nothing to correct
    s.feed(account(0.7, AccountUpdateReason.Order));
    expect(s.runner.position(0)).toBe(0.5);
    expect(s.runner.venuePosition(0)).toBe(0.7);
    expect(s.runner.counters.positionDivergences).toBe(1);
    // hedge-mode legs are not our net position; AccountUpdates are not ExecReports
    s.feed({ ...account(3), positionFlags: AccountFlag.Long });
    expect(s.runner.venuePosition(0)).toBe(0.7);
    expect(s.runner.counters.accountUpdates).toBe(4);
    expect(s.runner.counters.reports).toBe(0);
    expect(s.runner.counters.fills).toBe(0);
    expect(s.runner.inflightCount()).toBe(1);
    expect(s.strat.submitted).toBe(1);
  });

  it('the fill table is direct-mapped: an intent 4096 ids later starts from zero', () => {
    const s = oneOrder();
    s.feed(result(1));
    s.feed({ ...result(1 + 4096), label: 'other' });
    expect(s.runner.position(0)).toBeCloseTo(2 * QTY, 12);
  });
});
