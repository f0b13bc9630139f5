import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { RISK_OFF } from '../src/risk/RiskConfig.js';
import type { BacktestConfig } from '../src/backtest/Backtester.js';
import { runBacktest } from '../src/backtest/runBacktest.js';
import { PROJECT_ROOT } from './helpers/fixtures.js';

/**
 * A hand-made recording (test/fixtures/backtest/tiny.jsonl, BTCUSDT, tick 0.1, step 0.1):
 *   depth U=99..u=101 (buffered), REST snapshot lastUpdateId 100: bids 100.0 x 1.0, 99.9 x 2.0; asks 100.1 x 0.5, 100.2 x 3.0
 *   t=.3 bookTicker 100.0/100.1, t=.4 bookTicker (2nd tick), t=.5 depth: asks 100.1 and 100.2 gone, ask 100.6 x 2.0, bid 100.5 x 1.0,
 *   t=.6 aggTrade 100.5 (3rd tick), t=.7 aggTrade 100.6 (4th tick).
 * ping-pong, everyNTicks 2, quantity 0.8, no latency, taker fee 0.0005:
 *   tick 2 (t=.4): BUY 0.8 market walks the asks: 0.5 @ 100.1 (fee 0.025025) + 0.3 @ 100.2 (fee 0.01503); avg 100.1375
 *   tick 4 (t=.7): SELL 0.8 market at the best bid 100.5 (1.0 there): fee 0.0402; realized (100.5 - 100.1375) x 0.8 = 0.29
 *   fees 0.080255, net 0.29 - 0.080255 = 0.209745; one winning round trip; turnover 50.05 + 30.06 + 80.4 = 160.51.
 *   Slippage vs the decision price (the strategy's ask 100.1 for the buy, bid 100.0 for the sell), notional-weighted:
 *   (0 x 50.05 + (0.1/100.1)e4 x 30.06 - 50 x 80.4) / 160.51 = -23.17426 bps.
 *   Held 0.8 from t=.4 to t=.7 of a run from .1 to .7: mean |position| 0.4, time in market 0.5.
 *   Drawdown: right after the buy, marked at mid 100.05: (100.05 - 100.1375) x 0.8 - 0.040055 = -0.110055.
 */
const TINY = join(PROJECT_ROOT, 'test/fixtures/backtest/tiny.jsonl');

function tinyConfig(over: Partial<BacktestConfig> = {}): BacktestConfig {
  return {
    files: [TINY],
    strategy: 'ping-pong',
    params: { quantity: 0.8, everyNTicks: 2 },
    seed: 1,
    latency: {},
    queue: 'risk-averse',
    fees: { maker: 0.0002, taker: 0.0005 },
    risk: { ...RISK_OFF },
    capital: 10_000,
    sampleMs: 100,
    ...over,
  };
}

describe('backtest: known answer on a hand-made recording', () => {
  it('fills, fees and PnL as computed by hand', () => {
    const { metrics: m, run } = runBacktest(tinyConfig());
    const f = run.ledger.fills;
    const rows = Array.from({ length: f.length }, (_, i) => [f.side.at(i), f.qty.at(i), f.price.at(i), Number(f.fee.at(i).toFixed(9)), f.isMaker.at(i)]);
    expect(rows).toEqual([
      [1, 0.5, 100.1, 0.025025, 0],
      [1, 0.3, 100.2, 0.01503, 0],
      [-1, 0.8, 100.5, 0.0402, 0],
    ]);
    expect(m.symbol).toBe('BTCUSDT');
    expect(m.grossPnl).toBeCloseTo(0.29, 9);
    expect(m.fees).toBeCloseTo(0.080255, 9);
    expect(m.netPnl).toBeCloseTo(0.209745, 9);
    expect(m.realizedPnl).toBeCloseTo(0.29, 9);
    expect(m.trades).toBe(3);
    expect(m.orders).toBe(2);
    expect(m.roundTrips).toBe(1);
    expect(m.winRate).toBe(1);
    expect(m.turnover).toBeCloseTo(160.51, 9);
    expect(m.takerShare).toBe(1);
    expect(m.fillRatio).toBe(1);
    expect(m.avgSlippageBps).toBeCloseTo(-23.17426, 4);
    expect(m.meanAbsPosition).toBeCloseTo(0.4, 9);
    expect(m.timeInMarket).toBeCloseTo(0.5, 9);
    expect(m.maxAbsPosition).toBe(0.8);
    expect(m.maxDrawdown).toBeCloseTo(0.110055, 9);
    expect(m.finalPosition).toBe(0);
    // the runner's own position agrees with the exchange's
    expect(run.runner.fills).toBe(3);
  });

  it('every-3rd-tick variant: one buy of 0.8 at 100.6 left open, marked at mid 100.55', () => {
    const { metrics: m } = runBacktest(tinyConfig({ params: { quantity: 0.8, everyNTicks: 3 } }));
    expect(m.trades).toBe(1);
    expect(m.fees).toBeCloseTo(0.04024, 9);
    expect(m.unrealizedPnl).toBeCloseTo(-0.04, 9);
    expect(m.netPnl).toBeCloseTo(-0.08024, 9);
    expect(m.roundTrips).toBe(0);
    expect(m.finalPosition).toBe(0.8);
  });

  it('order latency: a 150 ms order path makes the buy meet the book after the t=.5 depth update', () => {
    // decided at t=.4, acted on at t=.55: the asks are then 100.6 x 2.0 only
    const { metrics: m, run } = runBacktest(tinyConfig({ latency: { order: 150 } }));
    expect(run.ledger.fills.price.at(0)).toBe(100.6);
    expect(run.ledger.fills.qty.at(0)).toBe(0.8);
    expect(m.latency['order']).toBe('const 150ms');
  });
});
