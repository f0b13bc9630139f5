import { describe, expect, it } from 'vitest';
import { makeInstrument } from '../src/core/Instrument.js';
import { BookState, ExecType, IntentFlag, OrderStatus, OrderType, RecordType, Side } from '../src/ring/layout.js';
import { NO_EXITS } from '../src/strategy/exits/ExitManager.js';
import { ManagedStrategy, type ManagedConfig } from '../src/strategy/ManagedStrategy.js';
import { FeeMomentum } from '../src/strategy/FeeMomentum.js';
import { createStrategy, managedConfig, strategyDefaults } from '../src/strategy/registry.js';
import { GATE_SCALPER_SIZING } from '../src/strategy/sizing.js';
import { OrderRequest, type Strategy, type StrategyContext } from '../src/strategy/Strategy.js';
import type { MarketEvent } from '../src/strategy/views.js';
import { strategyRig } from './helpers/strategyRig.js';

const inst = [makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '100')];

/** Buys `qty` at market on every trade whose quantity is exactly 0.5 (a marker the scenario sets); sells on 0.7. */
class OnMarker implements Strategy {
  readonly name = 'on-marker';
  readonly ids: number[] = [];
  private readonly req = new OrderRequest();
  constructor(private readonly qty = 0.01) {}
  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.type !== RecordType.AggTrade) return;
    if (ev.qty === 0.5) this.ids.push(ctx.submit(this.req.market(0, Side.Buy, this.qty, false)));
    if (ev.qty === 0.7) this.ids.push(ctx.submit(this.req.market(0, Side.Sell, this.qty, false)));
  }
  onReport(): void {}
  onTimer(): void {}
}

const cfg = (over: Omit<Partial<ManagedConfig>, 'exits'> & { exits?: Partial<ManagedConfig['exits']> } = {}): ManagedConfig => ({
  protectiveStop: false,
  protectiveStopOnMark: true,
  sizing: { ...GATE_SCALPER_SIZING, mode: 'fixed', quantity: 1 },
  equity: 10_000,
  barMs: 60_000,
  ...over,
  exits: { ...NO_EXITS, ...over.exits },
});

describe('shared exits and sizing (ManagedStrategy)', () => {
  it('stop-loss exit with a protective stop at the venue: placed after the entry fill, cancelled when the exit leaves the position flat', () => {
    const m = new ManagedStrategy(new OnMarker(), 0, cfg({ exits: { stopLoss: 0.01, takeProfit: 0.02 }, protectiveStop: true }));
    const h = strategyRig(m, inst);
    h.ticker(19999.9, 20000.1, 1000);
    h.trade(20000, 1001, 0.5);
    expect(h.intents.count).toBe(1);
    expect(h.intent(0)).toMatchObject({ kind: RecordType.OrderNew, id: 1, side: Side.Buy, type: OrderType.Market, qtySteps: 10, flags: 0 });
    h.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.01, 20000);
    // entry 20000, stop 1% under: 19800.0 = 198000 ticks, closing the position, on the mark price
    expect(h.intents.count).toBe(2);
    expect(h.intent(1)).toMatchObject({ kind: RecordType.OrderNew, id: 2, side: Side.Sell, type: OrderType.StopMarket, stopTicks: 198000, qtySteps: 10, flags: IntentFlag.ClosePosition | IntentFlag.TriggerOnMark });
    h.report(2, ExecType.Ack, OrderStatus.New, Side.Sell);
    h.trade(20100, 1002);
    h.trade(19850, 1003);
    expect(h.intents.count).toBe(2);
    // through the stop (19800): a reduce-only market sell of the whole position
    h.trade(19799.9, 1004);
    expect(h.intents.count).toBe(3);
    expect(h.intent(2)).toMatchObject({ kind: RecordType.OrderNew, id: 3, side: Side.Sell, type: OrderType.Market, qtySteps: 10, flags: IntentFlag.ReduceOnly });
    // one decision per breach while the exit is in flight
    h.trade(19700, 1005);
    expect(h.intents.count).toBe(3);
    h.report(3, ExecType.Fill, OrderStatus.Filled, Side.Sell, 0.01, 19800);
    expect(h.runner.position(0)).toBeCloseTo(0, 12);
    // flat: the venue-side stop is cancelled, on the algo endpoint (the cancel carries the target's type)
    expect(h.intents.count).toBe(4);
    expect(h.intent(3)).toMatchObject({ kind: RecordType.OrderCancel, id: 4, target: 2, type: OrderType.StopMarket });
    h.report(2, ExecType.Canceled, OrderStatus.Canceled, Side.Sell);
    h.trade(19600, 1006);
    expect(h.intents.count).toBe(4);
    expect(m.counters).toMatchObject({ exits: 1, protectiveStopsPlaced: 1, protectiveStopsCancelled: 1 });
  });

  it('an added entry moves the protective stop (cancel, then place at the new level); take-profit; no exit on a Syncing book', () => {
    const m = new ManagedStrategy(new OnMarker(), 0, cfg({ exits: { stopLoss: 0.01, takeProfit: 0.02 }, protectiveStop: true, protectiveStopOnMark: false }));
    const h = strategyRig(m, inst);
    h.ticker(19999.9, 20000.1, 1000);
    h.trade(20000, 1001, 0.5);
    h.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.01, 20000);
    expect(h.intent(1)).toMatchObject({ type: OrderType.StopMarket, stopTicks: 198000, flags: IntentFlag.ClosePosition });
    h.report(2, ExecType.Ack, OrderStatus.New, Side.Sell);
    h.trade(20200, 1002, 0.5);
    expect(h.intent(2)).toMatchObject({ id: 3, side: Side.Buy, type: OrderType.Market, qtySteps: 10 });
    h.report(3, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.01, 20200);
    // entry 20100: the stop moves to 19899.0; first the old one is cancelled
    expect(h.intents.count).toBe(4);
    expect(h.intent(3)).toMatchObject({ kind: RecordType.OrderCancel, target: 2, type: OrderType.StopMarket });
    h.report(2, ExecType.Canceled, OrderStatus.Canceled, Side.Sell);
    expect(h.intents.count).toBe(5);
    expect(h.intent(4)).toMatchObject({ id: 5, type: OrderType.StopMarket, side: Side.Sell, stopTicks: 198990, qtySteps: 20 });
    h.report(5, ExecType.Ack, OrderStatus.New, Side.Sell);
    // take-profit at 20100 * 1.02 = 20502, but the book is rebuilding: no order until it is Live again
    h.bookState(BookState.Syncing);
    h.trade(20510, 1003);
    expect(h.intents.count).toBe(5);
    h.bookState(BookState.Live);
    h.trade(20505, 1004);
    expect(h.intents.count).toBe(6);
    expect(h.intent(5)).toMatchObject({ side: Side.Sell, type: OrderType.Market, qtySteps: 20, flags: IntentFlag.ReduceOnly });
  });

  it('percent-equity and risk sizing replace the entry quantity; an order that reduces the position keeps its own', () => {
    const pct = new ManagedStrategy(new OnMarker(), 0, cfg({ sizing: { ...GATE_SCALPER_SIZING, mode: 'percent-equity', quantity: 1, equityFraction: 0.1, leverage: 5 } }));
    const h = strategyRig(pct, inst, { maxOrderQty: 10, maxPosition: 10 });
    h.ticker(19999.9, 20000.1, 1000);
    h.trade(20000, 1001, 0.5);
    // 10000 * 0.1 * 5 / 20000.1 (the ask) = 0.249998..., down to the step: 0.249
    expect(h.intent(0)).toMatchObject({ side: Side.Buy, qtySteps: 249 });
    h.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.249, 20000.1);
    h.trade(20000, 1002, 0.7);
    // a sell against the long: the strategy's 0.01
    expect(h.intent(1)).toMatchObject({ side: Side.Sell, qtySteps: 10 });
    expect(pct.counters).toMatchObject({ entriesSized: 1 });

    const risk = new ManagedStrategy(new OnMarker(), 0, cfg({ sizing: { ...GATE_SCALPER_SIZING, mode: 'risk', quantity: 1 } }));
    const r = strategyRig(risk, inst, { maxOrderQty: 10, maxPosition: 10 });
    r.ticker(19999.9, 20000.1, 1000);
    r.trade(20000, 1001, 0.5);
    // no ATR yet: stop 0.4%; margin 10000 * 0.01 / (5 * 0.004) = 5000, capped at 25% of equity = 2500;
    // 2500 * 5 / 20000.1 = 0.62499..., down to 0.624
    expect(r.intent(0)).toMatchObject({ side: Side.Buy, qtySteps: 624 });
  });

  it('the registry wraps a strategy only when a shared parameter is on; the parameters are validated', () => {
    const syms = ['BTCUSDT'];
    expect(createStrategy('fee-momentum', { symbol: 'BTCUSDT' }, syms)).toBeInstanceOf(FeeMomentum);
    const s = createStrategy('fee-momentum', { symbol: 'BTCUSDT', exitStopLoss: 0.005, protectiveStop: true }, syms);
    expect(s).toBeInstanceOf(ManagedStrategy);
    expect((s as ManagedStrategy).inner).toBeInstanceOf(FeeMomentum);
    expect(s.name).toBe('fee-momentum');
    expect(managedConfig({ ...strategyDefaults('fee-momentum'), sizing: 'risk', sizingLeverage: 10 }).sizing).toMatchObject({ mode: 'risk', leverage: 10, riskPerTrade: 0.01 });
    expect(() => createStrategy('fee-momentum', { symbol: 'BTCUSDT', exitStopLoss: 0.9 }, syms)).toThrow(/strategy\.params\.exitStopLoss must be between 0 and 0\.5; got 0\.9/);
    expect(() => createStrategy('fee-momentum', { symbol: 'BTCUSDT', sizing: 'kelly' }, syms)).toThrow(/sizing must be one of fixed, percent-equity, risk/);
  });
});
