import { strategyRig, type RigLevel } from './helpers/strategyRig.js';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

import { BookState, ExecType, IN, IntentFlag, OrderStatus, OrderType, RecordType, Side, TimeInForce } from '../src/ring/layout.js';
import { makeInstrument } from '../src/core/Instrument.js';

import { OrderRequest, type Strategy, type StrategyContext } from '../src/strategy/Strategy.js';
import type { ExecReportView, MarketEvent } from '../src/strategy/views.js';
import { FeeMomentum } from '../src/strategy/FeeMomentum.js';
import { EmaImbalance } from '../src/strategy/EmaImbalance.js';
import { PingPong } from '../src/strategy/PingPong.js';
import { SHARED_PARAMS, createStrategy, listStrategies, sharedParamDefaults, strategyDefaults, strategyNames, validateStrategyParams } from '../src/strategy/registry.js';
import { StrategyController, resolveControl } from '../src/strategy/control.js';
import { ConfigError, DEFAULT_CONFIG, loadConfig, validateConfig } from '../src/config/Config.js';
import { PROJECT_ROOT } from './helpers/fixtures.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const inst = [makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '100'), makeInstrument('ETHUSDT', '0.01', '0.001', '0.001', '20')];

/** A runner in-process around `strat`, with hand-built ring A / C records and ring B read back. */
function harness(strat: Strategy, risk = { maxOrderQty: 1, maxPosition: 1 }) {
  const rig = strategyRig(strat, inst, risk);
  const trade = (price: number, eventTime: number, sym = 0): void => rig.trade(price, eventTime, 0.1, sym);
  const ticker = (bid: number, ask: number, eventTime: number): void => rig.ticker(bid, ask, eventTime);
  const depthReset = (levels: RigLevel[], eventTime: number): void => rig.depthReset(levels, eventTime);
  const bookState = (st: BookState): void => rig.bookState(st);
  const report = (intentId: number, execType: ExecType, status: OrderStatus, side: Side, lastQty = 0): void => rig.report(intentId, execType, status, side, lastQty);
  return { runner: rig.runner, intents: rig.intents, trade, ticker, depthReset, bookState, report, intent: rig.intent };
}

const market = { type: OrderType.Market, tif: TimeInForce.None, priceTicks: 0 };

describe('fee-aware momentum (Rust engine)', () => {
  it('enters past base + price*2*fee, exits on a velocity sign change, market orders, cooldown in event time', () => {
    // window 3: velocity = p_t - p_(t-2); threshold = 1.0 + p*2*0.0005 = 1.0 + p/1000
    const strat = new FeeMomentum(0, { symbol: 'BTCUSDT', quantity: 0.01, window: 3, baseThreshold: 1.0, takerFee: 0.0005, cooldownMs: 1000 });
    const h = harness(strat);
    h.trade(100, 0);
    h.trade(100.5, 10); // window not full
    expect(h.intents.count).toBe(0);
    h.trade(101.2, 20); // v = 1.2 > 1.1012: BUY 0.01
    expect(h.intents.count).toBe(1);
    expect(h.intent(0)).toEqual({ kind: RecordType.OrderNew, sym: 0, id: 1, side: Side.Buy, ...market, qtySteps: 10, flags: 0, eventTime: 20, target: 0 });
    expect(strat.threshold).toBeCloseTo(1.1012, 12);
    h.trade(102, 30); // v = 1.5 but the order is in flight
    expect(h.intents.count).toBe(1);
    h.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.01);
    expect(h.runner.position(0)).toBeCloseTo(0.01, 12);
    h.trade(101, 500); // v = 101 - 101.2 < 0: long exits, but only 480 ms since the entry
    expect(h.intents.count).toBe(1);
    h.trade(101.5, 1020); // v = 101.5 - 102 = -0.5 < 0, cooldown over: SELL the position, reduce-only
    expect(h.intents.count).toBe(2);
    expect(h.intent(1)).toEqual({ kind: RecordType.OrderNew, sym: 0, id: 2, side: Side.Sell, ...market, qtySteps: 10, flags: IntentFlag.ReduceOnly, eventTime: 1020, target: 0 });
    h.report(2, ExecType.Fill, OrderStatus.Filled, Side.Sell, 0.01);
    expect(h.runner.position(0)).toBeCloseTo(0, 12);
    h.trade(102.05, 2050); // v = 102.05 - 101 = 1.05: above the base 1.0, below base + fees 1.10205
    expect(h.intents.count).toBe(2);
    h.trade(99, 2100); // v = 99 - 101.5 = -2.5 < -1.099: SELL 0.01 (a new short, not reduce-only)
    expect(h.intents.count).toBe(3);
    expect(h.intent(2)).toEqual({ kind: RecordType.OrderNew, sym: 0, id: 3, side: Side.Sell, ...market, qtySteps: 10, flags: 0, eventTime: 2100, target: 0 });
    h.report(3, ExecType.Fill, OrderStatus.Filled, Side.Sell, 0.01);
    h.trade(99.5, 3200); // v = 99.5 - 102.05 < 0: short holds
    expect(h.intents.count).toBe(3);
    h.trade(100, 3300); // v = 100 - 99 = 1 > 0: short exits, BUY reduce-only
    expect(h.intents.count).toBe(4);
    expect(h.intent(3)).toEqual({ kind: RecordType.OrderNew, sym: 0, id: 4, side: Side.Buy, ...market, qtySteps: 10, flags: IntentFlag.ReduceOnly, eventTime: 3300, target: 0 });
    h.trade(200, 9000, 1); // other symbol: ignored
    expect(h.intents.count).toBe(4);
  });
});

describe('EMA crossover with order-book imbalance (Python event-bus system)', () => {
  const params = { symbol: 'BTCUSDT', quantity: 0.01, fastPeriod: 2, slowPeriod: 3, diffThreshold: 0.001, obiLevels: 5, obiThreshold: 0.2, holdMs: 5000 };

  it('BUY: IOC at the best ask when diff and OBI agree, only on a Live book; market exit after the hold time (event-time timer)', () => {
    const strat = new EmaImbalance(0, params);
    const h = harness(strat);
    // bids 3 + 2, asks 1 + 1: OBI = (5 - 2)/7 = 0.428571
    h.depthReset([[100.9, 3, false], [100.8, 2, false], [101.0, 1, true], [101.1, 1, true]], 900);
    // EMA fast (a = 2/3): 100, 100, 100.666667; slow (a = 1/2): 100, 100, 100.5; diff = 0.00165837 > 0.001
    h.trade(100, 1000);
    h.trade(100, 1100);
    h.trade(101, 1200);
    expect(h.intents.count).toBe(0); // the book is still Syncing
    h.bookState(BookState.Live);
    // fast = 100.888889, slow = 100.75, diff = 0.0013786
    h.trade(101, 1300);
    expect(h.intents.count).toBe(1);
    expect(h.intent(0)).toEqual({ kind: RecordType.OrderNew, sym: 0, id: 1, side: Side.Buy, type: OrderType.Limit, tif: TimeInForce.Ioc, priceTicks: 1010, qtySteps: 10, flags: 0, eventTime: 1300, target: 0 });
    expect(strat.diff).toBeCloseTo(0.138889 / 100.75, 6);
    expect(strat.obi).toBeCloseTo(3 / 7, 12);
    h.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.01);
    expect(h.runner.position(0)).toBeCloseTo(0.01, 12);
    h.trade(101, 6299); // hold not over (deadline 1300 + 5000)
    expect(h.intents.count).toBe(1);
    expect(h.runner.counters.timers).toBe(0);
    h.trade(101, 6300); // deadline reached: market SELL of the position, reduce-only
    expect(h.runner.counters.timers).toBe(1);
    expect(h.intents.count).toBe(2);
    expect(h.intent(1)).toEqual({ kind: RecordType.OrderNew, sym: 0, id: 2, side: Side.Sell, ...market, qtySteps: 10, flags: IntentFlag.ReduceOnly, eventTime: 6300, target: 0 });
  });

  it('SELL mirrored at the best bid; an unfilled IOC leaves nothing for the timer; no entry on a Stale book', () => {
    const strat = new EmaImbalance(0, params);
    const h = harness(strat);
    // bids 1, asks 3 + 2: OBI = (1 - 5)/6 = -0.666667
    h.depthReset([[100.9, 1, false], [101.0, 3, true], [101.1, 2, true]], 0);
    h.bookState(BookState.Live);
    // fast: 101, 101, 100.333333; slow: 101, 101, 100.5; diff = -0.00165837
    h.trade(101, 0);
    h.trade(101, 100);
    h.trade(100, 200);
    expect(h.intents.count).toBe(1);
    expect(h.intent(0)).toEqual({ kind: RecordType.OrderNew, sym: 0, id: 1, side: Side.Sell, type: OrderType.Limit, tif: TimeInForce.Ioc, priceTicks: 1009, qtySteps: 10, flags: 0, eventTime: 200, target: 0 });
    h.report(1, ExecType.Expired, OrderStatus.Expired, Side.Sell); // IOC found nothing
    h.bookState(BookState.Stale);
    // fast = 100.111111, slow = 100.25: diff = -0.0013854 would enter, but the book is Stale
    h.trade(100, 5200);
    expect(h.runner.counters.timers).toBe(1); // fired at 5200, flat: no exit
    expect(h.intents.count).toBe(1);
    h.bookState(BookState.Live);
    // fast = 100.037037, slow = 100.125: diff = -0.000876 is inside the threshold
    h.trade(100, 5300);
    expect(h.intents.count).toBe(1);
    // fast = 99.679012, slow = 99.8125: diff = -0.0013374: SELL again
    h.trade(99.5, 5400);
    expect(h.intents.count).toBe(2);
    expect(h.intent(1)).toMatchObject({ id: 2, side: Side.Sell, type: OrderType.Limit, tif: TimeInForce.Ioc, priceTicks: 1009 });
  });
});

/** A scripted strategy: records what it is called with, and does what the test queues. */
class Probe implements Strategy {
  readonly name = 'probe';
  timers: number[] = [];
  markets = 0;
  reports = 0;
  onEvent: ((ev: MarketEvent, ctx: StrategyContext) => void) | undefined;
  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    this.markets++;
    this.onEvent?.(ev, ctx);
  }
  onReport(_r: ExecReportView, _ctx: StrategyContext): void {
    this.reports++;
  }
  onTimer(nowMs: number, _ctx: StrategyContext): void {
    this.timers.push(nowMs);
  }
}

describe('strategy API: timers, cancels, order types', () => {
  it('a timer fires once, before the event whose event time reaches it; the clock never goes back; NaN clears', () => {
    const p = new Probe();
    const h = harness(p);
    h.runner.setTimer(1500);
    h.trade(100, 1000);
    h.trade(100, 1499);
    expect(p.timers).toEqual([]);
    h.trade(100, 1600);
    expect(p.timers).toEqual([1600]);
    h.trade(100, 1700);
    expect(p.timers).toEqual([1600]);
    h.runner.setTimer(1650); // already past: fires on the next event, whose time is older than the clock
    h.trade(100, 1690);
    expect(p.timers).toEqual([1600, 1700]);
    expect(h.runner.eventTimeMs()).toBe(1700);
    h.runner.setTimer(2000);
    h.runner.setTimer(NaN);
    h.trade(100, 3000);
    expect(p.timers).toEqual([1600, 1700]);
    expect(h.runner.counters.timers).toBe(2);
  });

  it('cancel writes an OrderCancel intent naming the target; refused for orders not in flight', () => {
    const p = new Probe();
    const h = harness(p);
    const req = new OrderRequest();
    req.symbolId = 0;
    req.side = Side.Sell;
    req.type = OrderType.Limit;
    req.tif = TimeInForce.Gtx;
    req.price = 101.3;
    req.qty = 0.005;
    h.ticker(101.1, 101.2, 10);
    expect(h.runner.submit(req)).toBe(1);
    expect(h.intent(0)).toMatchObject({ kind: RecordType.OrderNew, side: Side.Sell, type: OrderType.Limit, tif: TimeInForce.Gtx, priceTicks: 1013, qtySteps: 5 });
    expect(h.runner.cancel(99)).toBe(-1);
    expect(h.runner.cancel(1)).toBe(2);
    expect(h.intents.count).toBe(2);
    expect(h.intent(1)).toMatchObject({ kind: RecordType.OrderCancel, sym: 0, id: 2, side: Side.Sell, target: 1, eventTime: 10 });
    expect(h.runner.counters.cancels).toBe(1);
    expect(h.runner.pendingQty(0, Side.Sell)).toBeCloseTo(-0.005, 12);
    h.report(1, ExecType.Canceled, OrderStatus.Canceled, Side.Sell);
    expect(h.runner.pendingQty(0, Side.Sell)).toBeCloseTo(0, 12);
    expect(h.runner.cancel(1)).toBe(-1); // finished
    expect(h.intents.count).toBe(2);
  });

  it('accepts MARKET, LIMIT GTC/IOC/FOK/GTX and well-formed conditionals; refuses a conditional without trigger, a limit without price or TIF, a market with a TIF', () => {
    const h = harness(new Probe());
    const req = new OrderRequest();
    req.qty = 0.001;
    const tryIt = (type: OrderType, tif: TimeInForce, price: number): number => {
      req.type = type;
      req.tif = tif;
      req.price = price;
      return h.runner.submit(req);
    };
    expect(tryIt(OrderType.Market, TimeInForce.None, 0)).toBeGreaterThan(0);
    for (const tif of [TimeInForce.Gtc, TimeInForce.Ioc, TimeInForce.Fok, TimeInForce.Gtx]) expect(tryIt(OrderType.Limit, tif, 100)).toBeGreaterThan(0);
    expect(h.intents.count).toBe(5);
    expect(tryIt(OrderType.StopMarket, TimeInForce.None, 0)).toBe(-1);
    expect(tryIt(OrderType.TrailingStopMarket, TimeInForce.None, 0)).toBe(-1);
    expect(tryIt(OrderType.Limit, TimeInForce.Gtc, 0)).toBe(-1);
    expect(tryIt(OrderType.Limit, TimeInForce.None, 100)).toBe(-1);
    expect(tryIt(OrderType.Market, TimeInForce.Ioc, 0)).toBe(-1);
    expect(h.runner.counters.unsupportedRejects).toBe(5);
    expect(h.intents.count).toBe(5);
    // conditionals: a reduce-only or close-position stop with a trigger; a reduce-only trailing stop of 0.1..10 %
    expect(h.runner.submit(req.conditional(0, OrderType.StopMarket, Side.Sell, 95, 0.001, true))).toBeGreaterThan(0);
    expect(h.runner.submit(req.conditional(0, OrderType.TakeProfitMarket, Side.Sell, 105, 0.001, false))).toBeGreaterThan(0);
    expect(h.runner.submit(req.trailingStop(0, Side.Sell, 0.001, 0.5, 0))).toBeGreaterThan(0);
    expect(h.runner.submit(req.trailingStop(0, Side.Sell, 0.001, 0.05, 0))).toBe(-1);
    req.conditional(0, OrderType.StopMarket, Side.Sell, 95, 0.001, false);
    req.reduceOnly = false; // a stop that could open a position is not a protective order
    expect(h.runner.submit(req)).toBe(-1);
    expect(h.runner.counters).toMatchObject({ conditionals: 3, unsupportedRejects: 7 });
    expect(h.intents.count).toBe(8);
    expect(h.intents.f64[h.intents.base(5) + IN.STOP_PRICE_TICKS]).toBe(950);
    expect(h.intents.f64[h.intents.base(5) + IN.FLAGS]).toBe(IntentFlag.ClosePosition);
    expect(h.intents.f64[h.intents.base(7) + IN.CALLBACK_RATE]).toBe(0.5);
  });
});

describe('strategy registry', () => {
  it('lists every strategy with typed params, defaults, ranges', () => {
    // the catalogue grows: these three come first, in registration order
    expect(strategyNames().slice(0, 3)).toEqual(['ping-pong', 'fee-momentum', 'ema-imbalance']);
    const fm = listStrategies().find((s) => s.name === 'fee-momentum')!;
    expect(fm.params.map((p) => p.name)).toEqual(['symbol', 'quantity', 'window', 'baseThreshold', 'takerFee', 'cooldownMs', ...Object.keys(SHARED_PARAMS)]);
    expect(fm.params.find((p) => p.name === 'window')).toMatchObject({ type: 'integer', default: 50, min: 2, max: 100_000 });
    expect(strategyDefaults('ema-imbalance')).toEqual({ ...sharedParamDefaults(), symbol: 'BTCUSDT', quantity: 0.01, fastPeriod: 5, slowPeriod: 20, diffThreshold: 0.001, obiLevels: 5, obiThreshold: 0.2, holdMs: 5000 });
    // the config's embedded ping-pong defaults are the registry's
    expect(DEFAULT_CONFIG.strategy.params).toEqual(strategyDefaults('ping-pong'));
  });

  it('validates params: errors name the key and what is allowed; omitted keys take defaults', () => {
    expect(() => validateStrategyParams('fee-momentum', { window: 1 })).toThrow('config: strategy.params.window must be between 2 and 100000; got 1');
    expect(() => validateStrategyParams('fee-momentum', { window: 2.5 })).toThrow('config: strategy.params.window must be an integer between 2 and 100000; got 2.5');
    expect(() => validateStrategyParams('fee-momentum', { triggerPrice: 1 })).toThrow(
      'config: strategy.params.triggerPrice is not a parameter of fee-momentum; allowed here: symbol, quantity, window, baseThreshold, takerFee, cooldownMs',
    );
    expect(() => validateStrategyParams('ema-imbalance', { symbol: 'btc' })).toThrow(/strategy\.params\.symbol must be an upper-case venue symbol/);
    expect(() => validateStrategyParams('nope', {})).toThrow(`config: strategy.name must be one of ${strategyNames().join(', ')}; got "nope"`);
    expect(validateStrategyParams('fee-momentum', { window: 100, baseThreshold: 1 })).toEqual({ ...sharedParamDefaults(), symbol: 'BTCUSDT', quantity: 0.01, window: 100, baseThreshold: 1, takerFee: 0.0005, cooldownMs: 1000 });
    expect(() => createStrategy('fee-momentum', { symbol: 'SOLUSDT' }, SYMBOLS)).toThrow(/strategy\.params\.symbol must be one of the configured symbols \(BTCUSDT, ETHUSDT\)/);
    expect(createStrategy('ema-imbalance', { symbol: 'ETHUSDT' }, SYMBOLS)).toBeInstanceOf(EmaImbalance);
  });

  it('config strategy.name takes any registered strategy and checks params against its schema', () => {
    const a = JSON.parse(JSON.stringify(DEFAULT_CONFIG)) as { strategy: { name: string; params: Record<string, unknown> } };
    a.strategy = { name: 'fee-momentum', params: { symbol: 'ETHUSDT', window: 100 } };
    expect(validateConfig(a).strategy).toEqual({ name: 'fee-momentum', params: { ...strategyDefaults('fee-momentum'), symbol: 'ETHUSDT', window: 100 } });
    a.strategy = { name: 'fee-momentum', params: { everyNTicks: 1 } };
    expect(() => validateConfig(a)).toThrow(ConfigError);
    expect(() => validateConfig(a)).toThrow(/strategy\.params\.everyNTicks is not a parameter of fee-momentum/);
    a.strategy = { name: 'grid', params: {} };
    expect(() => validateConfig(a)).toThrow(`config: strategy.name must be one of ${strategyNames().join(', ')}; got "grid"`);
    // a file naming another strategy starts from that strategy's defaults, and env overrides its params
    const dir = mkdtempSync(join(tmpdir(), 'hft-strat-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ strategy: { name: 'ema-imbalance', params: { holdMs: 3000 } } }));
    const cfg = loadConfig(file, { HFT_STRATEGY__PARAMS__OBITHRESHOLD: '0.3' });
    expect(cfg.strategy).toEqual({ name: 'ema-imbalance', params: { ...strategyDefaults('ema-imbalance'), holdMs: 3000, obiThreshold: 0.3 } });
    const viaEnv = loadConfig(undefined, { HFT_STRATEGY__NAME: 'fee-momentum', HFT_STRATEGY__PARAMS__WINDOW: '80' });
    expect(viaEnv.strategy).toEqual({ name: 'fee-momentum', params: { ...strategyDefaults('fee-momentum'), window: 80 } });
  });
});

describe('runtime strategy control', () => {
  it('deactivate stops events and orders, activate resumes, switch and params rebuild from the registry', () => {
    const initial = { name: 'ping-pong', params: { symbol: 'BTCUSDT', quantity: 0.01, cooldownMs: 0, triggerPrice: 0, everyNTicks: 1 }, active: true };
    const h = harness(createStrategy(initial.name, initial.params, SYMBOLS));
    const ctl = new StrategyController(h.runner, initial, SYMBOLS);
    h.trade(100, 1);
    expect(h.intents.count).toBe(1);
    h.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.01);
    expect(ctl.apply({ action: 'deactivate' })).toMatchObject({ ok: true, active: false });
    const pp = h.runner.currentStrategy as PingPong;
    h.trade(100, 2);
    h.trade(100, 3);
    expect(h.intents.count).toBe(1);
    expect(pp.submitted).toBe(1);
    expect(h.runner.submit(new OrderRequest())).toBe(-1);
    expect(ctl.apply({ action: 'activate' })).toMatchObject({ ok: true, active: true });
    h.trade(100, 4);
    expect(h.intents.count).toBe(2);
    expect(h.intent(1).side).toBe(Side.Sell);
    h.report(2, ExecType.Fill, OrderStatus.Filled, Side.Sell, 0.01);

    // a bad switch changes nothing and says why
    const bad = ctl.apply({ action: 'switch', name: 'fee-momentum', params: { window: 0 } });
    expect(bad).toEqual({ ok: false, error: 'config: control.params.window must be between 2 and 100000; got 0' });
    expect(h.runner.currentStrategy).toBe(pp);
    expect(ctl.apply({ action: 'switch', name: 'nope' })).toMatchObject({ ok: false, error: expect.stringContaining(`control.name must be one of ${strategyNames().join(', ')}`) });

    const ok = ctl.apply({ action: 'switch', name: 'fee-momentum', params: { window: 2, baseThreshold: 0.5, cooldownMs: 0 } });
    expect(ok).toMatchObject({ ok: true, name: 'fee-momentum', active: true, params: { window: 2, baseThreshold: 0.5, takerFee: 0.0005, quantity: 0.01 } });
    expect(h.runner.currentStrategy).toBeInstanceOf(FeeMomentum);
    h.trade(100, 10);
    h.trade(100.7, 11); // v = 0.7 > 0.5 + 0.1007: BUY
    expect(h.intents.count).toBe(3);
    expect(h.intent(2)).toMatchObject({ side: Side.Buy, type: OrderType.Market, eventTime: 11 });
    h.report(3, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.01);

    // re-parameterise: omitted keys keep their current values
    const rp = ctl.apply({ action: 'params', params: { baseThreshold: 5 } });
    expect(rp).toMatchObject({ ok: true, name: 'fee-momentum', params: { window: 2, baseThreshold: 5, cooldownMs: 0 } });
    expect(h.runner.position(0)).toBeCloseTo(0.01, 12); // positions survive the rebuild
    expect(ctl.apply({ action: 'params', params: { window: 'x' } })).toMatchObject({ ok: false, error: expect.stringContaining('control.params.window must be an integer') });
    expect(resolveControl(ctl.state, { action: 'explode' }, SYMBOLS)).toEqual({ ok: false, error: 'config: control.action must be one of activate, deactivate, switch, params; got "explode"' });
  });
});

describe('hft strategies', () => {
  it('--json prints the registry', async () => {
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/hft.js'), 'strategies', '--json'], { cwd: PROJECT_ROOT });
      let stdout = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.on('exit', (code) => resolve({ code, stdout }));
    });
    expect(out.code).toBe(0);
    const list = JSON.parse(out.stdout) as Array<{ name: string; params: Array<Record<string, unknown>> }>;
    expect(list.map((s) => s.name)).toEqual(strategyNames());
    expect(list[2]!.params.find((p) => p.name === 'holdMs')).toEqual({ name: 'holdMs', type: 'integer', default: 5000, min: 1, max: 86_400_000, description: expect.any(String) });
  }, 20_000);
});
