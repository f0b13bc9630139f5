import { strategyRig } from './helpers/strategyRig.js';
import { describe, expect, it } from 'vitest';

import { BookState, ExecType, IN, IntentFlag, OrderStatus, OrderType, RecordType, Side, TimeInForce } from '../src/ring/layout.js';
import { makeInstrument } from '../src/core/Instrument.js';

import { GateRefusal, GateScalper, type GateScalperParams } from '../src/strategy/GateScalper.js';
import { ExitReason } from '../src/strategy/exits/ExitManager.js';
import { createStrategy, strategyDefaults } from '../src/strategy/registry.js';

/** tick 0.01, step 0.001 */
const INST = makeInstrument('ETHUSDT', '0.01', '0.001', '0.001', '5');

/**
 * Defaults of the spec, equity 800: risk sizing gives margin min(800·0.01/(5·0.004) (×1.15 at low volatility),
 * 0.25·800 = 200) = 200, so qty = 200·5/price = 1000/price: 1.000 (1000 steps) at a touch of 1000.
 */
const BASE: GateScalperParams = {
  symbol: 'ETHUSDT', mode: 'composite', equity: 800, entryPremium: 0.0001, cooldownMs: 4000,
  momentumWindow: 10, momentumThreshold: 0.0008, volumeThreshold: 2.5, imbalanceThreshold: 0.6, entryThreshold: 0.2,
  volatilityThreshold: 0.0003, minConfidence: 0.5, minLiquidity: 500, idleVolatility: 0.00003, trendScale: 0.002,
  trendSmoothing: 0.3, fundingBlackoutMs: 600_000, obiLevels: 5, obiThreshold: 0.0005, volumeRatio: 0.95,
  fastPeriod: 8, slowPeriod: 21, maThreshold: 0.00008, maCross: false,
};

type Level = [number, number, boolean];

function harness(p: Partial<GateScalperParams>) {
  const strat = new GateScalper(0, { ...BASE, ...p });
  const { runner, intents, trade: rigTrade, depthReset: book, bookState, markPrice, report } = strategyRig(strat, [INST], { maxOrderQty: 100, maxPosition: 100 });
  /** `sold` = the aggressor sold (buyerMaker) */
  const trade = (price: number, eventTime: number, qty = 1, sold = false): void => rigTrade(price, eventTime, qty, 0, sold);
  const fill = (id: number, side: Side, qty: number, price: number): void => report(id, ExecType.Fill, OrderStatus.Filled, side, qty, price);
  const expire = (id: number, side: Side): void => report(id, ExecType.Expired, OrderStatus.Expired, side);
  const intent = (i: number) => {
    const b = intents.base(i);
    const f = intents.f64;
    return {
      kind: intents.i32[b * 2]! & 0xff, id: f[b + IN.INTENT_ID]!, side: f[b + IN.SIDE]!, type: f[b + IN.ORDER_TYPE]!, tif: f[b + IN.TIF]!,
      priceTicks: f[b + IN.PRICE_TICKS]!, qtySteps: f[b + IN.QTY_STEPS]!, flags: f[b + IN.FLAGS]!, eventTime: f[b + IN.EVENT_TIME]!,
    };
  };
  const all = () => Array.from({ length: intents.count }, (_, i) => intent(i));
  return { strat, runner, intents, trade, book, bookState, markPrice, fill, expire, intent, all };
}

/** an IOC limit entry */
const ioc = (id: number, side: Side, priceTicks: number, qtySteps: number, eventTime: number) => ({
  kind: RecordType.OrderNew, id, side, type: OrderType.Limit, tif: TimeInForce.Ioc, priceTicks, qtySteps, flags: 0, eventTime,
});
/** a reduce-only market exit */
const exitMkt = (id: number, side: Side, qtySteps: number, eventTime: number) => ({
  kind: RecordType.OrderNew, id, side, type: OrderType.Market, tif: TimeInForce.None, priceTicks: 0, qtySteps, flags: IntentFlag.ReduceOnly, eventTime,
});

// OBI(5) = (3 − 2)/5 = 0.2 (long); touch: bid 999.9, ask 1000
const BID_HEAVY: Level[] = [[999.9, 2, false], [999.8, 1, false], [1000, 1, true], [1000.1, 1, true]];
// OBI(5) = (1 − 3)/4 = −0.5 (short)
const ASK_HEAVY: Level[] = [[999.9, 1, false], [1000, 2, true], [1000.1, 1, true]];

describe('gate-scalper: obi mode', () => {
  it('OBI beyond ±0.0005 with Σvol(5)/mean vol(20) ≥ 0.95; IOC at the touch ± 0.0001; 4 s cooldown', () => {
    const h = harness({ mode: 'obi' });
    h.book(BID_HEAVY, 0);
    h.bookState(BookState.Live);
    // 15 trades of 10 then 5 of 0.1 (20 = the volume window: ready at the 20th)
    for (let i = 0; i < 15; i++) h.trade(1000, i * 10, 10);
    for (let i = 15; i < 20; i++) h.trade(1000, i * 10, 0.1);
    // Σvol(5) = 0.5, mean vol(20) = 150.5/20 = 7.525: ratio 0.0664 < 0.95 (OBI 0.2 would buy)
    expect(h.strat.volRatio).toBeCloseTo(0.5 / 7.525, 12);
    expect(h.intents.count).toBe(0);
    // qty 100: Σvol(5) = 0.4 + 100 = 100.4, mean vol(20) = (14·10 + 5·0.1 + 100)/20 = 12.025: ratio 8.35 → BUY
    // at 1000·1.0001 = 1000.1 (100010 ticks), qty 1000/1000 = 1.000 (1000 steps)
    h.trade(1000, 200, 100);
    expect(h.strat.obi).toBeCloseTo(0.2, 12);
    expect(h.strat.volRatio).toBeCloseTo(100.4 / 12.025, 12);
    expect(h.all()).toEqual([ioc(1, Side.Buy, 100010, 1000, 200)]);
    h.fill(1, Side.Buy, 1, 1000);
    // +0.9% ≥ the 0.8% take-profit: the whole position, reduce-only market
    h.trade(1009, 300);
    expect(h.strat.exits.reason).toBe(ExitReason.TakeProfit);
    expect(h.intent(1)).toEqual(exitMkt(2, Side.Sell, 1000, 300));
    h.fill(2, Side.Sell, 1, 1009);
    expect(h.runner.position(0)).toBeCloseTo(0, 12);
    h.book(ASK_HEAVY, 400);
    h.trade(1000, 4100); // OBI −0.5, volume ok, but 3900 ms since the entry: cooldown
    expect(h.intents.count).toBe(2);
    // SELL at 999.9·0.9999 = 999.80001 → up to the tick 999.81 (99981); qty 1000/999.9 = 1.0001 → 1000 steps
    h.trade(1000, 4200);
    expect(h.strat.obi).toBeCloseTo(-0.5, 12);
    expect(h.intent(2)).toEqual(ioc(3, Side.Sell, 99981, 1000, 4200));
    expect(h.intents.count).toBe(3);
  });

  it('never trades while the book is not Live', () => {
    const h = harness({ mode: 'obi' });
    h.book(BID_HEAVY, 0); // Syncing
    for (let i = 0; i < 25; i++) h.trade(1000, i * 10, 1);
    expect(h.intents.count).toBe(0);
    h.bookState(BookState.Live);
    h.trade(1000, 300, 1); // Σvol(5)/mean(20) = 5/1 ≥ 0.95, OBI 0.2: BUY
    expect(h.all()).toEqual([ioc(1, Side.Buy, 100010, 1000, 300)]);
  });
});

describe('gate-scalper: ma mode', () => {
  // fast SMA 2, slow SMA 4 to keep the arithmetic short
  const trades = (h: ReturnType<typeof harness>): void => {
    h.book(BID_HEAVY, 0);
    h.bookState(BookState.Live);
    for (let i = 0; i < 4; i++) h.trade(1000, i * 100); // diff 0
    // fast (1000 + 1001)/2 = 1000.5, slow (3·1000 + 1001)/4 = 1000.25: diff 0.25/1000.25 = 2.4994e-4 ≥ 8e-5
    h.trade(1001, 400);
  };

  it('(fast − slow)/slow ≥ 0.00008 buys, ≤ −0.00008 sells (no cross confirmation)', () => {
    const h = harness({ mode: 'ma', fastPeriod: 2, slowPeriod: 4 });
    trades(h);
    expect(h.strat.maDiff).toBeCloseTo(0.25 / 1000.25, 15);
    expect(h.all()).toEqual([ioc(1, Side.Buy, 100010, 1000, 400)]);
    h.expire(1, Side.Buy); // the IOC did not fill: still flat
    // fast 1001, slow (1000, 1000, 1001, 1001) = 1000.5: diff 0.5/1000.5, still long, cooldown over → BUY again
    h.trade(1001, 4400);
    expect(h.strat.maDiff).toBeCloseTo(0.5 / 1000.5, 15);
    expect(h.intent(1)).toEqual(ioc(2, Side.Buy, 100010, 1000, 4400));
    h.expire(2, Side.Buy);
    // fast (1001 + 999)/2 = 1000, slow (1000, 1001, 1001, 999) = 1000.25: diff −0.25/1000.25 → SELL at 999.81
    h.trade(999, 8400);
    expect(h.intent(2)).toEqual(ioc(3, Side.Sell, 99981, 1000, 8400));
  });

  it('cross confirmation: no entry while the diff stays past the threshold', () => {
    const h = harness({ mode: 'ma', fastPeriod: 2, slowPeriod: 4, maCross: true });
    trades(h); // 0 → 2.4994e-4: a cross → BUY
    expect(h.all()).toEqual([ioc(1, Side.Buy, 100010, 1000, 400)]);
    h.expire(1, Side.Buy);
    h.trade(1001, 4400); // 4.9975e-4 after 2.4994e-4: no new cross
    expect(h.strat.prevMaDiff).toBeCloseTo(0.25 / 1000.25, 15);
    expect(h.intents.count).toBe(1);
    h.trade(999, 8400); // −2.4994e-4 after +4.9975e-4: a cross down → SELL
    expect(h.intent(1)).toEqual(ioc(2, Side.Sell, 99981, 1000, 8400));
  });
});

describe('gate-scalper: composite mode', () => {
  // top 3 levels: bids 300 + 100, asks 100 + 100: ob = 200/600 = 1/3, liquidity 600 (≥ 500), spread 0.01
  const BOOK: Level[] = [[999.99, 300, false], [999.98, 100, false], [1000, 100, true], [1000.01, 100, true]];
  // n = 5: m over 5 returns, surge = Σvol(last 3) / mean vol(2 before), imbalance over 5 trades (= tq)
  const P: Partial<GateScalperParams> = { momentumWindow: 5 };
  const PRICES = [1000, 1000, 1000.5, 1001, 1001.5, 1002];
  const QTYS = [1, 1, 1, 1, 3, 3];
  const run = (h: ReturnType<typeof harness>): void => {
    h.book(BOOK, 0);
    h.bookState(BookState.Live);
    for (let i = 0; i < 6; i++) h.trade(PRICES[i]!, i * 100, QTYS[i]!); // all aggressive buys
  };
  // hand computation at the 6th trade (trend bias 0: no bar series is full after 0.5 s)
  const r = [0, 0.5 / 1000, 0.5 / 1000.5, 0.5 / 1001, 0.5 / 1001.5];
  const m = (r[0]! * 1 + r[1]! * 2 + r[2]! * 3 + r[3]! * 4 + r[4]! * 5) / 15; // ≈ 4.6623e-4
  const sumR = r[0]! + r[1]! + r[2]! + r[3]! + r[4]!; // ≈ 1.998e-3
  const mom = 200 * sumR; // ≈ 0.3996
  const ob = 1 / 3;
  const micro = (0.05 - 0.01) * 20 + 600 / 5000; // 0.92
  const tq = 1;
  // all components positive: ob 0.25·0.9, mom 0.25·0.95, micro 0.25·1.0, tq 0.15·0.9
  const score = (0.225 * ob + 0.2375 * mom + 0.25 * micro + 0.135 * tq) / (0.225 + 0.2375 + 0.25 + 0.135); // ≈ 0.6312

  it('enters long on a hand-computed score with every gate passed', () => {
    const h = harness(P);
    run(h);
    const s = h.strat;
    expect(s.m).toBeCloseTo(m, 15);
    expect(s.mom).toBeCloseTo(mom, 12);
    expect(s.micro).toBeCloseTo(micro, 12);
    expect(s.ob).toBeCloseTo(ob, 12);
    expect(s.tq).toBe(1);
    expect(s.score).toBeCloseTo(score, 12);
    expect(s.score).toBeCloseTo(0.6312, 4);
    // mean|r| = 3.996e-4 ≥ 3e-4: trending, T = 0.2
    expect(s.trending).toBe(true);
    expect(s.threshold).toBe(0.2);
    // gates: |m| 4.66e-4 < 8e-4 fails, surge (1 + 3 + 3)/1 = 7 ≥ 2.5 and imbalance 1 ≥ 0.6 pass: 2 of 3
    expect(s.surge).toBe(7);
    expect(s.imbalance).toBe(1);
    // adaptive: 0.5·8e-4, lowered by (score − 0.2)/0.8 / 2 for the strong score; m is above it
    expect(s.adaptiveThreshold).toBeCloseTo(4e-4 * (1 - 0.5 * ((score - 0.2) / 0.8)), 15);
    // votes: momentum, imbalance, ob, price over VWAP (9012/9 = 1001.33), over the EMA; trend bias abstains
    expect([s.votesFor, s.votesCast]).toEqual([5, 5]);
    // confidence min(|m|·800 + (7 − 1), 0.95)
    expect(s.confidence).toBe(0.95);
    expect(s.refusal).toBe(GateRefusal.None);
    // IOC buy at 1000·1.0001 = 1000.1, qty 1000/1000 = 1.000
    expect(h.all()).toEqual([ioc(1, Side.Buy, 100010, 1000, 500)]);
  });

  it('the funding blackout refuses the same signal within ±10 min of the next funding time', () => {
    const h = harness(P);
    h.markPrice(1000, 600_400, 0); // funding at 600,400: 500 is 599,900 ms before it (≤ 600,000)
    run(h);
    expect(h.strat.score).toBeCloseTo(score, 12);
    expect(h.strat.refusal).toBe(GateRefusal.Funding);
    expect(h.intents.count).toBe(0);

    const ok = harness(P);
    ok.markPrice(1000, 600_600, 0); // 600,100 ms away: outside the blackout
    run(ok);
    expect(ok.all()).toEqual([ioc(1, Side.Buy, 100010, 1000, 500)]);
  });

  it('refuses when the last 4 ticks are not monotone in the trade direction', () => {
    const h = harness(P);
    h.book(BOOK, 0);
    h.bookState(BookState.Live);
    // returns 0, +5e-4, +1e-3, −5e-4, +1e-3 (approx.): score still long, but 1001.5 → 1001 breaks the last 4
    const px = [1000, 1000, 1000.5, 1001.5, 1001, 1002];
    for (let i = 0; i < 6; i++) h.trade(px[i]!, i * 100, QTYS[i]!);
    expect(h.strat.score).toBeGreaterThanOrEqual(0.2);
    expect(h.strat.refusal).toBe(GateRefusal.Monotone);
    expect(h.intents.count).toBe(0);
  });

  it('exits through the ExitManager: 50% at +0.6%, then the trailing stop (armed at +0.4%, 0.3% behind)', () => {
    const h = harness(P);
    run(h);
    expect(h.intents.count).toBe(1);
    h.fill(1, Side.Buy, 1, 1000);
    expect(h.strat.exits.entryPrice).toBe(1000);
    h.trade(1003, 600); // +0.3%: nothing
    expect(h.intents.count).toBe(1);
    // +0.65%: partial take-profit of 50% (500 steps); the trail is armed (best ≥ 1004) at 1006.5·0.997
    h.trade(1006.5, 700);
    expect(h.strat.exits.reason).toBe(ExitReason.PartialTakeProfit);
    expect(h.intent(1)).toEqual(exitMkt(2, Side.Sell, 500, 700));
    h.trade(1002, 750); // the partial is in flight: nothing more
    expect(h.intents.count).toBe(2);
    h.fill(2, Side.Sell, 0.5, 1006.5);
    expect(h.runner.position(0)).toBeCloseTo(0.5, 12);
    expect(h.strat.exits.trailPrice).toBeCloseTo(1006.5 * 0.997, 9);
    h.trade(1004, 800); // above the trail (1003.48): hold
    expect(h.intents.count).toBe(2);
    h.trade(1003, 900); // ≤ 1003.4805: the trailing stop closes the rest
    expect(h.strat.exits.reason).toBe(ExitReason.TrailingStop);
    expect(h.intent(2)).toEqual(exitMkt(3, Side.Sell, 500, 900));
  });
});

describe('gate-scalper: registry', () => {
  it('is registered with the spec defaults', () => {
    const d = strategyDefaults('gate-scalper');
    expect(d).toMatchObject({ mode: 'composite', entryPremium: 0.0001, cooldownMs: 4000, momentumWindow: 10, momentumThreshold: 0.0008,
      volumeThreshold: 2.5, imbalanceThreshold: 0.6, entryThreshold: 0.2, volatilityThreshold: 0.0003, minConfidence: 0.5,
      fundingBlackoutMs: 600_000, obiThreshold: 0.0005, volumeRatio: 0.95, fastPeriod: 8, slowPeriod: 21, maThreshold: 0.00008, maCross: false });
    const s = createStrategy('gate-scalper', { ...d, symbol: 'ETHUSDT', mode: 'obi' }, ['BTCUSDT', 'ETHUSDT']);
    expect(s.name).toBe('gate-scalper');
  });
});
