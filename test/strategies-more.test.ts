import { strategyRig } from './helpers/strategyRig.js';
import { describe, expect, it } from 'vitest';

import { ExecType, IntentFlag, OrderStatus, OrderType, RecordType, Side, TimeInForce } from '../src/ring/layout.js';
import { makeInstrument } from '../src/core/Instrument.js';

import type { Strategy } from '../src/strategy/Strategy.js';
import { LiquidationCascade, type LiquidationCascadeParams } from '../src/strategy/LiquidationCascade.js';
import { LookbackMomentum } from '../src/strategy/LookbackMomentum.js';
import { BollingerReversion } from '../src/strategy/BollingerReversion.js';
import { createStrategy, sharedParamDefaults, strategyDefaults, strategyNames, validateStrategyParams } from '../src/strategy/registry.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
// qty step 0.001: an order of 0.01 is 10 steps
const inst = [makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '100'), makeInstrument('ETHUSDT', '0.01', '0.001', '0.001', '20')];

/** A runner in-process around `strat`: hand-built ring A / C records in, ring B intents read back. */
function harness(strat: Strategy) {
  const { runner, intents, trade: rigTrade, liquidation, kline, report, intent } = strategyRig(strat, inst);
  const trade = (price: number, eventTime: number, qty = 0.1, sym = 0): void => rigTrade(price, eventTime, qty, sym);
  const fill = (intentId: number, side: Side, qty = 0.01): void => report(intentId, ExecType.Fill, OrderStatus.Filled, side, qty);
  /** every intent written so far */
  const all = () => Array.from({ length: intents.count }, (_, i) => intent(i));
  return { runner, intents, trade, liquidation, kline, fill, intent, all };
}

/** the expected market OrderNew intent for symbol 0 */
const mkt = (id: number, side: Side, eventTime: number, reduceOnly = false, qtySteps = 10) => ({
  kind: RecordType.OrderNew, sym: 0, id, side, type: OrderType.Market, tif: TimeInForce.None, priceTicks: 0, qtySteps,
  flags: reduceOnly ? IntentFlag.ReduceOnly : 0, eventTime, target: 0,
});

const cascade = (over: Partial<LiquidationCascadeParams>): LiquidationCascadeParams => ({
  symbol: 'BTCUSDT', quantity: 0.01, mode: 'as-coded', window: 5, burstTicks: 2, priceThreshold: 10, volumeMultiplier: 3,
  liqWindowMs: 1000, liqNotional: 50_000, cooldownMs: 1000, ...over,
});

describe('liquidation cascade (Rust engine)', () => {
  it('as-coded: burst SUM > avgVol*mult with |velocity| > threshold; exits when the burst mean <= avgVol; cooldown', () => {
    // window 5: velocity = p_t - p_(t-4), avgVol = mean qty(5); burst = sum qty(last 2)
    const strat = new LiquidationCascade(0, cascade({}));
    const h = harness(strat);
    h.trade(100, 0, 1);
    h.trade(100, 100, 1);
    h.trade(100, 200, 1);
    h.trade(115, 300, 4); // warm-up (4 of 5 ticks): a move and a burst, no order
    expect(h.intents.count).toBe(0);
    // v = 116 - 100 = 16 > 10; qty [1,1,1,4,4]: avg 2.2, burst 8 > 6.6: BUY (normalized would not: 4 < 6.6)
    h.trade(116, 400, 4);
    expect(strat.velocity).toBe(16);
    expect(strat.burst).toBe(8);
    expect(strat.avgVol).toBeCloseTo(2.2, 12);
    expect(h.all()).toEqual([mkt(1, Side.Buy, 400)]);
    h.fill(1, Side.Buy);
    h.trade(117, 500, 1); // qty [1,1,4,4,1]: burst/2 = 2.5 > avg 2.2: hold (and in cooldown)
    h.trade(117, 1500, 1); // qty [1,4,4,1,1]: burst/2 = 1 <= 2.2: SELL the position, reduce-only
    expect(h.all()).toEqual([mkt(1, Side.Buy, 400), mkt(2, Side.Sell, 1500, true)]);
    h.fill(2, Side.Sell);
    h.trade(105, 2600, 1); // v = 105 - 115 = -10: not beyond -10 (and no burst)
    expect(h.intents.count).toBe(2);
    // v = 100 - 116 = -16; qty [4,1,1,1,10]: avg 3.4, burst 11 > 10.2: SELL
    h.trade(100, 3700, 10);
    expect(h.intent(2)).toEqual(mkt(3, Side.Sell, 3700));
    h.fill(3, Side.Sell);
    h.trade(100, 3800, 1); // qty [1,1,1,10,1]: burst/2 = 5.5 > 2.8: hold
    h.trade(100, 3900, 1); // qty [1,1,10,1,1]: burst/2 = 1 <= 2.8 but 200 ms since the entry: cooldown
    expect(h.intents.count).toBe(3);
    h.trade(100, 4700, 1); // qty [1,10,1,1,1]: burst/2 = 1 <= 2.8, cooldown over: BUY back, reduce-only
    h.trade(300, 4800, 50, 1); // other symbol: ignored
    expect(h.all()).toEqual([mkt(1, Side.Buy, 400), mkt(2, Side.Sell, 1500, true), mkt(3, Side.Sell, 3700), mkt(4, Side.Buy, 4700, true)]);
  });

  it('normalized: burst MEAN > avgVol*mult (a burst the as-coded test passes is refused)', () => {
    // window 10, burst 2 ticks: burst/2 > 3*avgVol
    const strat = new LiquidationCascade(0, cascade({ mode: 'normalized', window: 10, burstTicks: 2, cooldownMs: 0 }));
    const h = harness(strat);
    for (let i = 0; i < 8; i++) h.trade(100, i * 100, 1);
    h.trade(115, 800, 4); // 9 of 10 ticks: warm-up
    // v = 15; qty [1 x8, 4, 4]: avg 1.6, burst 8: as-coded 8 > 4.8 would BUY, normalized 4 > 4.8 does not
    h.trade(115, 900, 4);
    expect(strat.velocity).toBe(15);
    expect(strat.avgVol).toBeCloseTo(1.6, 12);
    expect(h.intents.count).toBe(0);
    // v = 116 - 100 = 16; qty [1 x7, 4, 4, 30]: avg 4.5, burst 34: 17 > 13.5: BUY
    h.trade(116, 1000, 30);
    expect(h.all()).toEqual([mkt(1, Side.Buy, 1000)]);
    h.fill(1, Side.Buy);
    h.trade(116, 2100, 1); // qty [1 x6, 4, 4, 30, 1]: avg 4.5, burst/2 = 15.5: hold
    expect(h.intents.count).toBe(1);
    h.trade(116, 2200, 1); // qty [1 x5, 4, 4, 30, 1, 1]: avg 4.5, burst/2 = 1: exit
    expect(strat.avgVol).toBeCloseTo(4.5, 12);
    expect(h.all()).toEqual([mkt(1, Side.Buy, 1000), mkt(2, Side.Sell, 2200, true)]);
  });

  it('force-order: liquidation notional per side over liqWindowMs; follows the liquidated side; exits when it fades', () => {
    const strat = new LiquidationCascade(0, cascade({ mode: 'force-order', cooldownMs: 0 }));
    const h = harness(strat);
    h.trade(100, 0); // the first event starts the 1000 ms warm-up
    h.liquidation(Side.Buy, 100, 600, 100, 600, 500); // shorts liquidated: 100 * 600 = 60,000 bought; warm-up
    expect(h.intents.count).toBe(0);
    h.trade(100, 1000); // warm-up over; (0, 1000] holds buy 60,000 >= 50,000 > sell 0: BUY
    expect(strat.buyLiqNotional).toBe(60_000);
    expect(h.all()).toEqual([mkt(1, Side.Buy, 1000)]);
    h.trade(100, 1100); // still flat, the signal holds, but the entry is in flight
    expect(h.intents.count).toBe(1);
    h.fill(1, Side.Buy);
    // a SELL liquidation snapshot before any fill: price * qty = 99 * 100 = 9,900
    h.liquidation(Side.Sell, 99, 100, 0, 0, 1200);
    expect(strat.sellLiqNotional).toBe(9_900);
    expect(h.intents.count).toBe(1); // buy side still 60,000: hold
    h.trade(100, 1500, 25); // the 500 ms liquidation leaves (cutoff 500): buy 0 < 50,000: SELL the long
    expect(h.all()).toEqual([mkt(1, Side.Buy, 1000), mkt(2, Side.Sell, 1500, true)]);
    h.fill(2, Side.Sell);
    h.liquidation(Side.Sell, 97, 600, 98, 600, 1600); // longs liquidated: 98 * 600 = 58,800; sell 68,700: SELL
    expect(strat.sellLiqNotional).toBe(68_700);
    expect(h.intent(2)).toEqual(mkt(3, Side.Sell, 1600));
    h.fill(3, Side.Sell);
    h.trade(100, 2300); // 1200 leaves: sell 58,800 still >= 50,000: hold
    expect(h.intents.count).toBe(3);
    h.trade(100, 2600); // 1600 leaves: sell 0: BUY back
    expect(h.intent(3)).toEqual(mkt(4, Side.Buy, 2600, true));
    expect(h.intents.count).toBe(4);
  });
});

describe('lookback momentum (CCXT MVP)', () => {
  it('return over the lookback beyond +/- threshold enters; exits when the return loses its sign', () => {
    // lookback 3: r = p_t / p_(t-3) - 1
    const strat = new LookbackMomentum(0, { symbol: 'BTCUSDT', quantity: 0.01, source: 'trade', lookback: 3, threshold: 0.01, cooldownMs: 0 });
    const h = harness(strat);
    h.trade(100, 0);
    h.trade(100, 100);
    h.trade(110, 200); // warm-up (3 of 4 prices): a 10% move, no order
    h.trade(101, 300); // r = 0.01: not above the threshold
    expect(strat.ret).toBeCloseTo(0.01, 15);
    expect(h.intents.count).toBe(0);
    h.trade(102, 400); // r = 102/100 - 1 = 0.02: BUY
    expect(h.all()).toEqual([mkt(1, Side.Buy, 400)]);
    h.fill(1, Side.Buy);
    h.trade(111, 500); // r = 111/110 - 1 > 0: hold
    expect(h.intents.count).toBe(1);
    h.trade(101, 600); // r = 101/101 - 1 = 0: exit
    expect(h.intent(1)).toEqual(mkt(2, Side.Sell, 600, true));
    h.fill(2, Side.Sell);
    h.trade(95, 700); // r = 95/102 - 1 = -0.0686: SELL
    expect(strat.ret).toBeCloseTo(95 / 102 - 1, 12);
    expect(h.intent(2)).toEqual(mkt(3, Side.Sell, 700));
    h.fill(3, Side.Sell);
    h.trade(110, 800); // r = 110/111 - 1 < 0: hold
    expect(h.intents.count).toBe(3);
    h.trade(102, 900); // r = 102/101 - 1 > 0: BUY back
    expect(h.all()).toEqual([mkt(1, Side.Buy, 400), mkt(2, Side.Sell, 600, true), mkt(3, Side.Sell, 700), mkt(4, Side.Buy, 900, true)]);
  });

  it('source kline: closed candles only, trades ignored', () => {
    const strat = new LookbackMomentum(0, { symbol: 'BTCUSDT', quantity: 0.01, source: 'kline', lookback: 1, threshold: 0.01, cooldownMs: 0 });
    const h = harness(strat);
    h.kline(100, 59_999, true); // warm-up
    h.kline(103, 90_000, false); // open candle: not a sample
    h.trade(200, 100_000); // trades are not samples in kline mode
    expect(h.intents.count).toBe(0);
    h.kline(102, 119_999, true); // r = 0.02: BUY
    expect(h.all()).toEqual([mkt(1, Side.Buy, 119_999)]);
  });
});

describe('Bollinger reversion (CCXT MVP)', () => {
  it('long below the lower band, short above the upper band, exit at the mean', () => {
    // period 4, k 1: bands = mean +/- population std of the last 4 prices, current included
    const strat = new BollingerReversion(0, { symbol: 'BTCUSDT', quantity: 0.01, source: 'trade', period: 4, stdMultiplier: 1, cooldownMs: 0 });
    const h = harness(strat);
    h.trade(100, 0);
    h.trade(100, 100);
    h.trade(90, 200); // warm-up (3 of 4): would be below any band, no order
    h.trade(100, 300); // [100,100,90,100]: mean 97.5, std sqrt(18.75) = 4.33: inside
    expect(strat.middle).toBe(97.5);
    expect(strat.lower).toBeCloseTo(97.5 - Math.sqrt(18.75), 12);
    expect(h.intents.count).toBe(0);
    h.trade(85, 400); // [100,90,100,85]: mean 93.75, std sqrt(42.1875) = 6.495, lower 87.255: BUY
    expect(strat.lower).toBeCloseTo(93.75 - Math.sqrt(42.1875), 12);
    expect(h.all()).toEqual([mkt(1, Side.Buy, 400)]);
    h.fill(1, Side.Buy);
    h.trade(90, 500); // [90,100,85,90]: mean 91.25 > 90: hold
    expect(h.intents.count).toBe(1);
    h.trade(95, 600); // [100,85,90,95]: mean 92.5 <= 95: exit
    expect(h.intent(1)).toEqual(mkt(2, Side.Sell, 600, true));
    h.fill(2, Side.Sell);
    h.trade(110, 700); // [85,90,95,110]: mean 95, std sqrt(87.5) = 9.354, upper 104.354: SELL
    expect(strat.upper).toBeCloseTo(95 + Math.sqrt(87.5), 12);
    expect(h.intent(2)).toEqual(mkt(3, Side.Sell, 700));
    h.fill(3, Side.Sell);
    h.trade(100, 800); // [90,95,110,100]: mean 98.75 < 100: hold
    expect(h.intents.count).toBe(3);
    h.trade(97, 900); // [95,110,100,97]: mean 100.5 >= 97: BUY back
    expect(h.all()).toEqual([mkt(1, Side.Buy, 400), mkt(2, Side.Sell, 600, true), mkt(3, Side.Sell, 700), mkt(4, Side.Buy, 900, true)]);
  });
});

describe('registry: the three strategies', () => {
  it('registered with the defaults of strategies.md', () => {
    expect(strategyNames()).toEqual(expect.arrayContaining(['liquidation-cascade', 'lookback-momentum', 'bollinger-reversion']));
    expect(strategyDefaults('liquidation-cascade')).toEqual({
      ...sharedParamDefaults(),
      symbol: 'BTCUSDT', quantity: 0.01, mode: 'as-coded', window: 50, burstTicks: 5, priceThreshold: 10, volumeMultiplier: 3,
      liqWindowMs: 5000, liqNotional: 100_000, cooldownMs: 1000,
    });
    expect(strategyDefaults('lookback-momentum')).toEqual({ ...sharedParamDefaults(), symbol: 'BTCUSDT', quantity: 0.01, source: 'trade', lookback: 20, threshold: 0.001, cooldownMs: 1000 });
    expect(strategyDefaults('bollinger-reversion')).toEqual({ ...sharedParamDefaults(), symbol: 'BTCUSDT', quantity: 0.01, source: 'trade', period: 20, stdMultiplier: 2, cooldownMs: 1000 });
  });

  it('validates modes and builds each strategy', () => {
    expect(() => validateStrategyParams('liquidation-cascade', { mode: 'liquidations' })).toThrow(
      'config: strategy.params.mode must be one of as-coded, normalized, force-order; got "liquidations"',
    );
    expect(() => validateStrategyParams('bollinger-reversion', { source: 'bar' })).toThrow(/strategy\.params\.source must be one of trade, kline/);
    for (const mode of ['as-coded', 'normalized', 'force-order']) {
      expect(createStrategy('liquidation-cascade', { symbol: 'ETHUSDT', mode }, SYMBOLS)).toBeInstanceOf(LiquidationCascade);
    }
    expect(() => createStrategy('liquidation-cascade', { symbol: 'BTCUSDT', window: 4, burstTicks: 5 }, SYMBOLS)).toThrow(/burstTicks \(5\) must not exceed window \(4\)/);
    expect(createStrategy('lookback-momentum', { symbol: 'BTCUSDT' }, SYMBOLS)).toBeInstanceOf(LookbackMomentum);
    expect(createStrategy('bollinger-reversion', { symbol: 'BTCUSDT', source: 'kline' }, SYMBOLS)).toBeInstanceOf(BollingerReversion);
  });
});
