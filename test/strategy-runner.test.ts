import { describe, expect, it } from 'vitest';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { AT, BT, ExecType, IN, OrderStatus, OrderType, RecordFlag, RecordType, RP, Side, W, packHeader, MARKET_SLOT_BYTES, INTENT_SLOT_BYTES, REPORT_SLOT_BYTES } from '../src/ring/layout.js';
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
  const report = (intentId: number, execType: ExecType, status: OrderStatus, side: Side, lastQty = 0, code = 0): void => {
    reports.reset();
    const b = reports.claim();
    reports.i32[b * 2] = packHeader(RecordType.ExecReport, 0, 0);
    reports.i32[b * 2 + 1] = 0;
    reports.f64[b + RP.INTENT_ID] = intentId;
    reports.f64[b + RP.EXEC_TYPE] = execType;
    reports.f64[b + RP.STATUS] = status;
    reports.f64[b + RP.SIDE] = side;
    reports.f64[b + RP.LAST_QTY] = lastQty;
    reports.f64[b + RP.ERROR_CODE] = code;
    reports.commit();
    runner.onReportRecord(reports.f64, reports.i32, reports.u8, b);
  };
  const intent = (i: number): Record<string, number> => {
    const b = intents.base(i);
    return { id: intents.f64[b + IN.INTENT_ID]!, side: intents.f64[b + IN.SIDE]!, type: intents.f64[b + IN.ORDER_TYPE]!, qtySteps: intents.f64[b + IN.QTY_STEPS]!, recvTs: intents.f64[b + W.RECV_TS]!, readTs: intents.f64[b + IN.READ_TS]!, pubTs: intents.f64[b + W.PUB_TS]!, sym: intents.i32[b * 2 + 1]! };
  };
  return { strat, runner, intents, trade, book, report, intent };
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
      s.report(n, ExecType.Fill, OrderStatus.PartiallyFilled, s.intent(n - 1).side as Side, 0.004);
      s.report(n, ExecType.Fill, OrderStatus.Filled, s.intent(n - 1).side as Side, 0.006);
    }
    expect(s.intents.count).toBe(50);
    expect(s.runner.risk.rejects.maxPosition).toBe(0);
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
    expect(big.runner.risk.rejects.maxOrderQty).toBe(1);
    expect(big.strat.refused).toBe(1);
    const pos = setup({ quantity: 0.01 }, { maxOrderQty: 1, maxPosition: 0.005 });
    pos.trade(60_000, 0);
    expect(pos.intents.count).toBe(0);
    expect(pos.runner.risk.rejects.maxPosition).toBe(1);
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
