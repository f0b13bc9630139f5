import { describe, expect, it } from 'vitest';
import { Portfolio, validatePortfolioConfig } from '../src/portfolio/Portfolio.js';
import { EquityCurve } from '../src/portfolio/EquityCurve.js';

const BUY = 1;
const SELL = -1;

describe('Portfolio: a hand-computed session', () => {
  // BTC (symbol 0), taker 5 bps, maker 2 bps, capital 10,000
  const pf = new Portfolio(2, { initialCapital: 10_000, takerFeeRate: 0.0005, makerFeeRate: 0.0002 });

  it('opens and adds: average entry, fees from the report or the maker rate', () => {
    expect(pf.onFill(0, BUY, 0.1, 50_000, 2.5, false, 49_990)).toBe(false);
    expect(pf.position(0)).toBeCloseTo(0.1, 12);
    expect(pf.avgEntryPrice(0)).toBe(50_000);
    // no fee reported: maker rate, 0.3 x 50,400 x 0.0002 = 3.024
    expect(pf.onFill(0, BUY, 0.3, 50_400, NaN, true, NaN)).toBe(false);
    expect(pf.fees(0)).toBeCloseTo(5.524, 9);
    expect(pf.estimatedFees).toBe(1);
    // (0.1 x 50,000 + 0.3 x 50,400) / 0.4
    expect(pf.avgEntryPrice(0)).toBeCloseTo(50_300, 9);
    expect(pf.position(0)).toBeCloseTo(0.4, 12);
    expect(pf.unrealizedPnl(0)).toBeNaN(); // no price yet
    expect(pf.equity()).toBeNaN();
  });

  it('marks to the mark price: unrealised and equity', () => {
    pf.onQuote(0, 50_590, 50_610); // mid 50,600 is not used while a mark exists
    pf.onMarkPrice(0, 50_500);
    expect(pf.unrealizedPnl(0)).toBeCloseTo(80, 9); // 0.4 x (50,500 - 50,300)
    expect(pf.equity()).toBeCloseTo(10_000 - 5.524 + 80, 9);
  });

  it('reduces: realises against the average entry, which stays', () => {
    // decided at 50,610, sold at 50,600: 10 worse on 0.2
    expect(pf.onFill(0, SELL, 0.2, 50_600, 5.06, false, 50_610)).toBe(false);
    expect(pf.realizedPnl(0)).toBeCloseTo(60, 9); // 0.2 x (50,600 - 50,300)
    expect(pf.avgEntryPrice(0)).toBeCloseTo(50_300, 9);
    expect(pf.position(0)).toBeCloseTo(0.2, 12);
    pf.onFunding(0, -1.5);
    expect(pf.funding(0)).toBe(-1.5);
  });

  it('flips through zero: closes the long, opens a short at the fill price, splits the fee', () => {
    expect(pf.onFill(0, SELL, 0.5, 50_000, 12.5, false, 50_000)).toBe(true);
    // realised -60 on the closed 0.2; round trip = -2.5 - 3.024 + 60 - 5.06 - 1.5 - 60 - 12.5 x 0.2/0.5
    expect(pf.lastRoundTripPnl).toBeCloseTo(-17.084, 9);
    expect(pf.realizedPnl(0)).toBeCloseTo(0, 9);
    expect(pf.position(0)).toBeCloseTo(-0.3, 12);
    expect(pf.avgEntryPrice(0)).toBe(50_000);
    pf.onMarkPrice(0, 49_800);
    expect(pf.unrealizedPnl(0)).toBeCloseTo(60, 9); // -0.3 x (49,800 - 50,000)
    expect(pf.feesTotal).toBeCloseTo(23.084, 9);
    expect(pf.equity()).toBeCloseTo(10_000 + 0 - 23.084 - 1.5 + 60, 9);
  });

  it('closes the short with a maker rebate', () => {
    expect(pf.onFill(0, BUY, 0.3, 49_700, -0.5, true, NaN)).toBe(true);
    // 0.3 x (50,000 - 49,700) = 90; trip = -7.5 (its share of the flip fee) + 90 + 0.5
    expect(pf.lastRoundTripPnl).toBeCloseTo(83, 9);
    expect(pf.position(0)).toBe(0);
    expect(pf.avgEntryPrice(0)).toBe(0);
    expect(pf.unrealizedPnl(0)).toBe(0);
    expect(pf.realizedTotal).toBeCloseTo(90, 9);
    expect(pf.netRealizedPnl()).toBeCloseTo(90 - 22.584 - 1.5, 9);
    expect(pf.equity()).toBeCloseTo(10_065.916, 9);
    expect(pf.roundTrips).toBe(2);
    expect(pf.winningTrips).toBe(1);
    expect(pf.losingTrips).toBe(1);
    expect(pf.makerFills).toBe(2);
    expect(pf.takerFills).toBe(3);
    expect(pf.makerFees).toBeCloseTo(2.524, 9);
    expect(pf.takerFees).toBeCloseTo(20.06, 9);
  });

  it('slippage per fill against the decision price', () => {
    // samples: +10 on 0.1 (decided 49,990), +10 on 0.2 (sold 10 below 50,610), 0 on 0.5: cost 3
    expect(pf.slippageCostTotal).toBeCloseTo(3, 9);
    expect(pf.avgSlippageBps(0)).toBeCloseTo((3 / (4_999 + 10_122 + 25_000)) * 1e4, 9);
    expect(pf.lastSlippageBps).toBeCloseTo(0, 12);
    expect(pf.avgSlippageBps(1)).toBe(0);
  });
});

describe('Portfolio: valuation and the equity curve', () => {
  it('values at mid when configured, or before the first mark', () => {
    const pf = new Portfolio(1, { initialCapital: 1_000, markWith: 'mid' });
    pf.onFill(0, SELL, 2, 100, 0, false, NaN);
    pf.onQuote(0, 98, 99);
    pf.onMarkPrice(0, 90);
    expect(pf.unrealizedPnl(0)).toBe(3); // -2 x (98.5 - 100)
    const m = new Portfolio(1, { initialCapital: 1_000 });
    m.onFill(0, SELL, 2, 100, 0, false, NaN);
    m.onQuote(0, 98, 99);
    expect(m.unrealizedPnl(0)).toBe(3);
    m.onMarkPrice(0, 90);
    expect(m.unrealizedPnl(0)).toBe(20);
    expect(m.grossExposure()).toBe(180);
  });

  it('a reconcile takes the venue position and entry', () => {
    const pf = new Portfolio(1, { initialCapital: 1_000 });
    pf.onFill(0, BUY, 1, 100, 0, false, NaN);
    pf.setPosition(0, 3, 110);
    pf.onMarkPrice(0, 120);
    expect(pf.unrealizedPnl(0)).toBe(30);
  });

  it('samples drawdown on event time', () => {
    const pf = new Portfolio(1, { initialCapital: 1_000, equityIntervalMs: 1_000, equityCapacity: 10 });
    pf.onFill(0, BUY, 1, 100, 0, false, NaN);
    for (const [t, mark] of [[0, 100], [500, 150], [1_200, 120], [2_500, 160], [3_100, 140]] as const) {
      pf.onMarkPrice(0, mark);
      pf.sample({ eventTimeMs: t });
    }
    expect(pf.peakEquity).toBe(1_060);
    expect(pf.maxDrawdown).toBe(30); // 1,050 -> 1,020
    expect(pf.maxDrawdownFraction).toBeCloseTo(30 / 1_050, 12);
    expect(pf.curve.length).toBe(3);
    expect(pf.curve.toArray()).toEqual([
      { timeMs: 0, equity: 1_050, low: 1_000, high: 1_050 },
      { timeMs: 1_000, equity: 1_020, low: 1_020, high: 1_020 },
      { timeMs: 2_000, equity: 1_060, low: 1_060, high: 1_060 },
    ]);
  });

  it('the curve ring keeps the last buckets with their low and high', () => {
    const c = new EquityCurve(3, 1_000);
    c.add(500, 100);
    c.add(900, 90);
    c.add(999, 95);
    expect(c.length).toBe(0);
    c.add(1_500, 110); // closes [0, 1000)
    c.add(3_200, 120); // closes [1000, 2000); nothing in [2000, 3000)
    c.add(4_100, 130);
    expect(c.length).toBe(3);
    expect([c.timeAt(0), c.equityAt(0), c.lowAt(0), c.highAt(0)]).toEqual([0, 95, 90, 100]);
    c.add(5_000, 140); // closes [4000, 5000): the oldest bucket goes
    expect(c.length).toBe(3);
    expect([0, 1, 2].map((i) => c.timeAt(i))).toEqual([1_000, 3_000, 4_000]);
    expect([0, 1, 2].map((i) => c.equityAt(i))).toEqual([110, 120, 130]);
    c.commit();
    expect(c.timeAt(2)).toBe(5_000);
    expect(() => c.timeAt(3)).toThrow(RangeError);
  });

  it('config validation names the key and the range', () => {
    expect(validatePortfolioConfig({ takerFeeRate: 0.0004 }).takerFeeRate).toBe(0.0004);
    expect(() => validatePortfolioConfig({ equityCapacity: 0 })).toThrow('config: portfolio.equityCapacity must be an integer between 1 and 10000000; got 0');
    expect(() => validatePortfolioConfig({ markWith: 'last' })).toThrow('config: portfolio.markWith must be one of mark, mid; got "last"');
    expect(() => validatePortfolioConfig({ fee: 1 })).toThrow(/^config: portfolio\.fee is not a known key/);
  });
});
