import { describe, expect, it } from 'vitest';
import { makeInstrument } from '../src/core/Instrument.js';
import { BookState, ExecType, FS, INTENT_SLOT_BYTES, IntentFlag, MARKET_SLOT_BYTES, OrderStatus, OrderType, RecordType, RejectReason, Side, TimeInForce, packHeader } from '../src/ring/layout.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { PreTradeLimits } from '../src/risk/PreTradeLimits.js';
import { StrategyRunner } from '../src/strategy/StrategyRunner.js';
import { TradingState } from '../src/risk/RiskEngine.js';
import { OrderRequest, type Strategy } from '../src/strategy/Strategy.js';
import { strategyRig } from './helpers/strategyRig.js';

const inst = [makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '5')];
const idle: Strategy = { name: 'idle', onMarket: () => undefined, onReport: () => undefined, onTimer: () => undefined };

function setup() {
  const h = strategyRig(idle, inst, { maxOrderQty: 1, maxPosition: 1 });
  h.ticker(99.9, 100.1, 1000);
  const req = new OrderRequest();
  const buy = h.runner.submit(req.market(0, Side.Buy, 0.5, false));
  h.report(buy, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.5, 100.1);
  const bid = h.runner.submit(req.limit(0, Side.Buy, 99, 0.1, TimeInForce.Gtc, false));
  const ask = h.runner.submit(req.limit(0, Side.Sell, 101, 0.1, TimeInForce.Gtc, false));
  h.report(bid, ExecType.Ack, OrderStatus.New, Side.Buy);
  h.report(ask, ExecType.Ack, OrderStatus.New, Side.Sell);
  return { h, req, bid, ask };
}

describe('trading states and the kill switch (runner)', () => {
  it('REDUCE_ONLY passes only reduce-only orders that reduce; HALTED passes nothing and cancels every open order; ACTIVE again trades', () => {
    const { h, req, bid, ask } = setup();
    expect(h.runner.position(0)).toBeCloseTo(0.5, 12);
    h.runner.setTradingState(TradingState.ReduceOnly);
    expect(h.runner.submit(req.market(0, Side.Buy, 0.1, false))).toBe(-1);
    expect(h.runner.submit(req.market(0, Side.Sell, 0.1, false))).toBe(-1); // reduces, but not flagged reduce-only
    const red = h.runner.submit(req.market(0, Side.Sell, 0.1, true));
    expect(red).toBeGreaterThan(0);
    h.report(red, ExecType.Fill, OrderStatus.Filled, Side.Sell, 0.1, 99.9);
    const before = h.intents.count;
    h.runner.setTradingState(TradingState.Halted);
    // both resting orders are cancelled, once
    expect(h.intents.count).toBe(before + 2);
    expect([h.intent(before), h.intent(before + 1)].map((x) => [x.kind, x.target]).sort()).toEqual([[RecordType.OrderCancel, bid], [RecordType.OrderCancel, ask]]);
    h.runner.cancelAll();
    expect(h.intents.count).toBe(before + 2);
    expect(h.runner.submit(req.market(0, Side.Sell, 0.1, true))).toBe(-1);
    expect(h.runner.risk.rejectsByReason[RejectReason.Halted]).toBeGreaterThan(0);
    h.runner.setTradingState(TradingState.Active);
    expect(h.runner.submit(req.market(0, Side.Buy, 0.1, false))).toBeGreaterThan(0);
  });

  it('FLATTEN: cancels, closes the position with a reduce-only market order, and reads flat only when nothing is left', () => {
    const { h, bid, ask } = setup();
    const before = h.intents.count;
    h.runner.flatten();
    expect(h.runner.tradingState).toBe(TradingState.Halted);
    expect(h.intents.count).toBe(before + 3);
    const close = h.intent(before + 2);
    expect(close).toMatchObject({ kind: RecordType.OrderNew, side: Side.Sell, type: OrderType.Market, qtySteps: 500, flags: IntentFlag.ReduceOnly });
    expect(h.runner.flattenState).toBe(1);
    h.report(bid, ExecType.Canceled, OrderStatus.Canceled, Side.Buy);
    h.report(ask, ExecType.Canceled, OrderStatus.Canceled, Side.Sell);
    expect(h.runner.flattenState).toBe(1);
    // half fills: still closing, and no second close order while this one is in flight
    h.report(close.id, ExecType.Fill, OrderStatus.PartiallyFilled, Side.Sell, 0.2, 99.9);
    expect(h.runner.flattenState).toBe(1);
    expect(h.intents.count).toBe(before + 3);
    // the rest expires unfilled: a new close order for what is left
    h.report(close.id, ExecType.Expired, OrderStatus.Expired, Side.Sell, 0.2, 99.9);
    expect(h.intents.count).toBe(before + 4);
    const again = h.intent(before + 3);
    expect(again).toMatchObject({ side: Side.Sell, type: OrderType.Market, qtySteps: 300, flags: IntentFlag.ReduceOnly });
    h.report(again.id, ExecType.Fill, OrderStatus.Filled, Side.Sell, 0.3, 99.9);
    expect(h.runner.position(0)).toBeCloseTo(0, 12);
    expect(h.runner.flattenState).toBe(2);
    expect(h.runner.counters.flattenOrders).toBe(2);
  });

  it('automatic kill switch: a Halted reject from order entry (418) and a market-data disconnect longer than the limit', () => {
    const { h, bid } = setup();
    const before = h.intents.count;
    h.report(999, ExecType.Reject, OrderStatus.Rejected, Side.Buy, 0, 0, RejectReason.Halted);
    expect(h.runner.tradingState).toBe(TradingState.Halted);
    expect(h.runner.counters.killSwitches).toBe(1);
    expect(h.intents.count).toBe(before + 2);
    expect(h.intent(before).target === bid || h.intent(before + 1).target === bid).toBe(true);

    // market data down for longer than disconnectHaltMs (the runner's clock, ns): halt
    let now = 0;
    const intents = new ArraySlotWriter(INTENT_SLOT_BYTES, 64);
    const runner = new StrategyRunner(idle, inst, intents, new PreTradeLimits({ maxOrderQty: 1, maxPosition: 1 }), { now: () => now }, {}, { disconnectHaltMs: 5000 });
    const rec = new ArraySlotWriter(MARKET_SLOT_BYTES, 1);
    const status = (connected: number): void => {
      rec.reset();
      const b = rec.claim();
      rec.i32[b * 2] = packHeader(RecordType.FeedStatus, 0, 0);
      rec.i32[b * 2 + 1] = 0;
      rec.f64[b + FS.BOOK_STATE] = BookState.Syncing;
      rec.f64[b + FS.CONNECTED] = connected;
      rec.commit();
      runner.onMarketRecord(rec.f64, rec.i32, b);
    };
    runner.beginBatch((now = 1e9));
    status(0);
    runner.beginBatch((now = 1e9 + 4_000e6));
    expect(runner.tradingState).toBe(TradingState.Active);
    // back before the limit: the clock restarts at the next disconnect
    status(1);
    runner.beginBatch((now = 1e9 + 9_000e6));
    expect(runner.tradingState).toBe(TradingState.Active);
    status(0);
    runner.beginBatch((now = 1e9 + 13_000e6));
    expect(runner.tradingState).toBe(TradingState.Active);
    runner.beginBatch((now = 1e9 + 14_100e6));
    expect(runner.tradingState).toBe(TradingState.Halted);
    expect(runner.counters.killSwitches).toBe(1);
  });
});
