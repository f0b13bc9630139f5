import { describe, expect, it } from 'vitest';
import { RISK_OFF } from '../src/risk/RiskConfig.js';
import type { BacktestConfig } from '../src/backtest/Backtester.js';
import { runBacktest } from '../src/backtest/runBacktest.js';
import { HAVE_SHARED_FIXTURES, NO_FIXTURES_MESSAGE, fixturePath } from './helpers/fixtures.js';

const FILE = 'recordings/binance-usdm/2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl';

function config(seed: number): BacktestConfig {
  return {
    files: [fixturePath(FILE)],
    strategy: 'market-maker',
    params: { symbol: 'NEOUSDT', orderSize: 50, maxInventory: 200 },
    seed,
    // random draws on every channel and in the queue model: what the seed must pin down
    latency: { feed: 'lognormal:1ms:0.5', rtt: 'uniform:1ms:30ms' },
    queue: { kind: 'probabilistic', sampling: 'draw' },
    fees: { maker: 0.0002, taker: 0.0005 },
    risk: { ...RISK_OFF },
    capital: 10_000,
    sampleMs: 1000,
  };
}

function fills(r: ReturnType<typeof runBacktest>): number[][] {
  const f = r.run.ledger.fills;
  return Array.from({ length: f.length }, (_, i) => [f.timeMs.at(i), f.intentId.at(i), f.side.at(i), f.qty.at(i), f.price.at(i), f.fee.at(i), f.isMaker.at(i)]);
}

describe.skipIf(!HAVE_SHARED_FIXTURES)('backtest determinism (shared recording)', () => {
  it('the same seed gives identical metrics and fills, twice', () => {
    const a = runBacktest(config(7));
    const b = runBacktest(config(7));
    expect(a.metrics.trades).toBeGreaterThan(0);
    expect(a.metrics.amends).toBeGreaterThan(0);
    expect(b.metrics).toEqual(a.metrics);
    expect(fills(b)).toEqual(fills(a));
    expect(b.run.series.equity.toArray()).toEqual(a.run.series.equity.toArray());
  }, 60_000);

  it('a lap replayed from the decoded tape (kept by an earlier run in this process) gives exactly what decoding gives', () => {
    // the tape of this file was kept by the runs above; this run replays it instead of decoding
    const taped = runBacktest({ ...config(11), loops: 1 });
    const decoded = runBacktest({ ...config(11), loops: 1, tape: false });
    expect(taped.run.marketLines).toBe(decoded.run.marketLines);
    expect(taped.run.marketRecords).toBe(decoded.run.marketRecords);
    expect(taped.metrics.trades).toBeGreaterThan(0);
    // the same fills (time, side, quantity, price, fee, maker) and PnL; the intent ids may be numbered apart
    // by cancels of the strategy's own quote refreshes, which the order of same-millisecond events can shift
    const noId = (r: ReturnType<typeof runBacktest>): number[][] => fills(r).map(([t, , ...rest]) => [t!, ...rest]);
    expect(noId(taped)).toEqual(noId(decoded));
    const m = taped.metrics as unknown as Record<string, number>;
    const d = decoded.metrics as unknown as Record<string, number>;
    for (const k of ['trades', 'netPnl', 'grossPnl', 'fees', 'maxDrawdown', 'makerShare', 'avgSlippageBps']) expect(m[k], k).toEqual(d[k]);
    // several laps from the tape: the same records each lap (a decoded lap can differ from the one before it,
    // since the book sync's resync budget runs on the replay clock); deterministic all the same
    const a = runBacktest({ ...config(11), loops: 3 });
    const b = runBacktest({ ...config(11), loops: 3 });
    expect(a.run.marketRecords).toBe(3 * taped.run.marketRecords);
    expect(fills(b)).toEqual(fills(a));
    expect(b.metrics).toEqual(a.metrics);
  }, 90_000);
});

if (!HAVE_SHARED_FIXTURES) it.skip(NO_FIXTURES_MESSAGE, () => {});
