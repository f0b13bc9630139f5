import { describe, expect, it } from 'vitest';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { AT, ExecType, IN, IntentFlag, OrderStatus, OrderType, RecordType, RP, Side, TimeInForce, W, packHeader, INTENT_SLOT_BYTES, MARKET_SLOT_BYTES, REPORT_SLOT_BYTES } from '../src/ring/layout.js';
import { makeInstrument } from '../src/core/Instrument.js';
import { StrategyRunner } from '../src/strategy/StrategyRunner.js';
import { PreTradeLimits } from '../src/risk/PreTradeLimits.js';
import { OrderRequest, type Strategy, type StrategyContext } from '../src/strategy/Strategy.js';
import { ExecReportView, type MarketEvent } from '../src/strategy/views.js';
import { ExitManager, ExitReason, GATE_SCALPER_EXITS, NO_EXITS, type ExitConfig } from '../src/strategy/exits/index.js';
import { GATE_SCALPER_SIZING, PositionSizer, fixedQty, percentOfEquityQty, riskStop, roundDownToStep, type SizingConfig } from '../src/strategy/sizing.js';

const cfg = (c: Partial<ExitConfig>): ExitConfig => ({ ...NO_EXITS, ...c });

/** Feeds `prices` (one per ms from t0) and returns [index, reason, fraction] of every non-None decision. */
function run(x: ExitManager, prices: number[], t0 = 2000): Array<[number, ExitReason, number]> {
  const out: Array<[number, ExitReason, number]> = [];
  prices.forEach((p, i) => {
    const r = x.onPrice(p, t0 + i);
    if (r !== ExitReason.None) out.push([i, r, x.fraction]);
  });
  return out;
}

describe('ExitManager: entry price from fills', () => {
  it('volume-weighted while growing, kept while shrinking, new on a flip, reset when flat; duplicates ignored', () => {
    const x = new ExitManager(cfg({ stopLoss: 0.01 }));
    x.onPosition(0.01, 100, 1000);
    expect([x.position, x.entryPrice, x.entryTimeMs, x.side, x.stopPrice]).toEqual([0.01, 100, 1000, 1, 99]);
    x.onPosition(0.03, 103, 1500); // (100·0.01 + 103·0.02) / 0.03 = 102
    expect(x.entryPrice).toBeCloseTo(102, 12);
    expect(x.entryTimeMs).toBe(1000); // the position opened at 1000; adding does not restart the clock
    expect(x.stopPrice).toBeCloseTo(100.98, 12);
    x.onPosition(0.03, 999, 1600); // same position again (a fill reported twice): nothing
    expect(x.entryPrice).toBeCloseTo(102, 12);
    x.onPosition(0.01, 110, 1700); // partly closed: entry kept
    expect(x.entryPrice).toBeCloseTo(102, 12);
    x.onPosition(-0.02, 108, 1800); // flipped short: a new entry
    expect([x.position, x.entryPrice, x.entryTimeMs, x.side, x.exitSide()]).toEqual([-0.02, 108, 1800, -1, Side.Buy]);
    expect(x.stopPrice).toBeCloseTo(109.08, 12);
    x.onPosition(0, 107, 1900);
    expect([x.position, x.entryPrice, x.stopPrice, x.side, x.exitSide()]).toEqual([0, NaN, NaN, 0, 0]);
    expect(x.onPrice(50, 2000)).toBe(ExitReason.None); // flat: no exits
  });

  it('onReport takes the fill price from the report and the position from the runner; the exit order\'s final report unlatches', () => {
    const w = new ArraySlotWriter(REPORT_SLOT_BYTES, 4);
    const view = new ExecReportView();
    const rep = (intentId: number, x: ExecType, st: OrderStatus, lastPrice: number) => {
      const b = w.claim();
      w.i32[b * 2] = packHeader(RecordType.ExecReport, 0, 0);
      w.f64[b + RP.INTENT_ID] = intentId;
      w.f64[b + RP.EXEC_TYPE] = x;
      w.f64[b + RP.STATUS] = st;
      w.f64[b + RP.LAST_PRICE] = lastPrice;
      w.commit();
      return view.wrap(w.f64, w.i32, w.u8, b);
    };
    const x = new ExitManager(cfg({ stopLoss: 0.01 }));
    x.onReport(rep(1, ExecType.Fill, OrderStatus.Filled, 200), 0.5, 10, -1);
    expect([x.position, x.entryPrice, x.entryTimeMs]).toEqual([0.5, 200, 10]);
    expect(x.onPrice(197.9, 20)).toBe(ExitReason.StopLoss); // stop 198
    expect(x.onPrice(197, 21)).toBe(ExitReason.None); // latched while the exit is in flight
    x.onReport(rep(2, ExecType.Expired, OrderStatus.Expired, 0), 0.5, 22, 2); // the exit found nothing
    expect(x.pending).toBe(false);
    expect(x.onPrice(197, 23)).toBe(ExitReason.StopLoss); // still breached: again
  });
});

describe('ExitManager: each exit on a scripted price path', () => {
  it('stop-loss, long: fires on the first price at or below entry·(1 − 1%), once until exitFinished', () => {
    const x = new ExitManager(cfg({ stopLoss: 0.01 }));
    x.onPosition(0.01, 100, 1000); // stop 99
    expect(run(x, [100.5, 99.5, 99.01, 98.9, 98.5])).toEqual([[3, ExitReason.StopLoss, 1]]);
    expect(x.exitQty(0.001)).toBe(0.01);
    x.exitFinished();
    expect(run(x, [98.5])).toEqual([[0, ExitReason.StopLoss, 1]]);
  });

  it('stop-loss, short: entry·(1 + 0.5%) from below', () => {
    const x = new ExitManager(cfg({ stopLoss: 0.005 }));
    x.onPosition(-0.5, 200, 1000); // stop 201
    expect(x.exitSide()).toBe(Side.Buy);
    expect(run(x, [199, 200.5, 200.99, 201.2])).toEqual([[3, ExitReason.StopLoss, 1]]);
  });

  it('take-profit, long and short', () => {
    const l = new ExitManager(cfg({ takeProfit: 0.02 }));
    l.onPosition(1, 100, 0); // TP 102
    expect(run(l, [101, 101.9, 99, 102.1, 103])).toEqual([[3, ExitReason.TakeProfit, 1]]);
    const s = new ExitManager(cfg({ takeProfit: 0.02 }));
    s.onPosition(-1, 100, 0); // TP 98
    expect(run(s, [99, 98.1, 101, 97.9])).toEqual([[3, ExitReason.TakeProfit, 1]]);
  });

  it('trailing stop, long: arms at +0.4%, then trails the high by 0.3%', () => {
    const x = new ExitManager(cfg({ trailActivate: 0.004, trailDistance: 0.003 }));
    x.onPosition(0.1, 100, 0);
    // 100.2 / 99.8 / 100.3: not armed (needs 100.4); 100.5 arms it: trail 100.1985; 101: trail 100.697;
    // 100.8 above it; 100.69 at or below: exit
    const path = [100.2, 99.8, 100.3, 100.5, 101, 100.8, 100.69];
    expect(run(x, path.slice(0, 3))).toEqual([]);
    expect(x.trailing).toBe(false);
    expect(run(x, [100.5])).toEqual([]);
    expect(x.trailing).toBe(true);
    expect(x.trailPrice).toBeCloseTo(100.1985, 10);
    expect(run(x, [101, 100.8])).toEqual([]);
    expect(x.trailPrice).toBeCloseTo(100.697, 10);
    expect(run(x, [100.69])).toEqual([[0, ExitReason.TrailingStop, 1]]);
  });

  it('trailing stop, short: arms at −0.4%, trails the low by 0.3%', () => {
    const x = new ExitManager(cfg({ trailActivate: 0.004, trailDistance: 0.003 }));
    x.onPosition(-0.1, 100, 0);
    // 99.7 not armed (needs 99.6); 99.5 arms: trail 99.7985; 99.3: trail 99.5979; 99.55 below; 99.6 exits
    expect(run(x, [99.7, 99.5, 99.3, 99.55, 99.6])).toEqual([[4, ExitReason.TrailingStop, 1]]);
    expect(x.trailPrice).toBeCloseTo(99.5979, 10);
  });

  it('trailActivate 0 trails from entry', () => {
    const x = new ExitManager(cfg({ trailDistance: 0.01 }));
    x.onPosition(1, 100, 0);
    expect(x.trailing).toBe(true);
    expect(x.trailPrice).toBeCloseTo(99, 12);
    expect(run(x, [99.5, 102, 101, 100.9])).toEqual([[3, ExitReason.TrailingStop, 1]]); // trail 100.98 after 102
  });

  it('partial take-profit (Gate scalper): 50% at +0.6%, once per position; then the full take-profit at +0.8%', () => {
    const x = new ExitManager(GATE_SCALPER_EXITS);
    x.onPosition(0.02, 100, 0);
    expect([x.stopPrice, x.partialPrice, x.takeProfitPrice]).toEqual([99.6, 100.6, 100.8]);
    // 100.3 nothing; 100.45 arms the trail (100.14865); 100.65 >= 100.6: take 50%
    expect(run(x, [100.3, 100.45, 100.65])).toEqual([[2, ExitReason.PartialTakeProfit, 0.5]]);
    expect(x.exitQty(0.001)).toBe(0.01);
    expect(x.exitSide()).toBe(Side.Sell);
    expect(run(x, [100.7])).toEqual([]); // latched
    x.onPosition(0.01, 100.65, 5); // half filled: entry kept
    x.exitFinished();
    expect(x.entryPrice).toBe(100);
    // partial already taken; 100.75 trail 100.44775; 100.82 >= 100.8: close the rest
    expect(run(x, [100.7, 100.75, 100.82])).toEqual([[2, ExitReason.TakeProfit, 1]]);
    expect(x.exitQty(0.001)).toBe(0.01);
  });

  it('a partial take-profit that filled nothing may be taken again; exitQty rounds down to the step', () => {
    const x = new ExitManager(cfg({ partialAt: 0.006, partialFraction: 0.5 }));
    x.onPosition(0.003, 100, 0);
    expect(run(x, [100.7])).toEqual([[0, ExitReason.PartialTakeProfit, 0.5]]);
    expect(x.exitQty(0.001)).toBe(0.001); // 0.0015 -> 0.001
    x.exitFinished(); // the order expired unfilled
    expect(x.partialTaken).toBe(false);
    expect(run(x, [100.7])).toEqual([[0, ExitReason.PartialTakeProfit, 0.5]]);
  });

  it('time exit: maxHoldMs after the position opened (event time)', () => {
    const x = new ExitManager(cfg({ maxHoldMs: 5000 }));
    x.onPosition(1, 100, 1000);
    expect(x.onPrice(100, 5999)).toBe(ExitReason.None);
    expect(x.onPrice(100, 6000)).toBe(ExitReason.TimeExit);
    expect(x.fraction).toBe(1);
  });

  it('several rules on one event: stop-loss first; full exits before the partial', () => {
    const x = new ExitManager(cfg({ stopLoss: 0.01, maxHoldMs: 10 }));
    x.onPosition(1, 100, 0);
    expect(x.onPrice(98, 50)).toBe(ExitReason.StopLoss);
    const y = new ExitManager(cfg({ takeProfit: 0.005, partialAt: 0.003, partialFraction: 0.5 }));
    y.onPosition(1, 100, 0);
    expect(y.onPrice(100.6, 1)).toBe(ExitReason.TakeProfit); // both reached: close all
  });

  it('protective stop levels (for venue-side stops, not routed yet): the tighter of stop-loss and trail', () => {
    const x = new ExitManager(GATE_SCALPER_EXITS);
    x.onPosition(1, 100, 0);
    expect(x.protectiveStopPrice()).toBe(99.6);
    expect(x.protectiveTakeProfitPrice()).toBe(100.8);
    x.onPrice(100.5, 1); // trail armed at 100.1985
    expect(x.protectiveStopPrice()).toBeCloseTo(100.1985, 10);
  });

  it('rejects bad rules', () => {
    expect(() => new ExitManager(cfg({ stopLoss: -0.01 }))).toThrow('exits.stopLoss must be between 0 and 1; got -0.01');
    expect(() => new ExitManager(cfg({ partialAt: 0.01 }))).toThrow(/partialFraction/);
  });
});

describe('sizing', () => {
  // step 0.001, min qty 0.001, min notional 5
  const eth = makeInstrument('ETHUSDT', '0.01', '0.001', '0.001', '5');
  const dec = makeInstrument('XUSDT', '0.01', '0.1', '0.1', '0');

  it('rounds down to whole steps; 0 below the minimum quantity or notional', () => {
    expect(roundDownToStep(eth, 0.0129)).toBe(0.012);
    expect(roundDownToStep(dec, 0.3)).toBe(0.3); // 0.3 / 0.1 = 2.9999999999999996 in floats: still 3 steps
    expect(roundDownToStep(dec, 0.39)).toBe(0.3);
    expect(roundDownToStep(eth, 0.0009)).toBe(0);
    expect(roundDownToStep(eth, 0.002, 2000)).toBe(0); // notional 4 < 5
    expect(roundDownToStep(eth, 0.002, 3000)).toBe(0.002);
    expect(roundDownToStep(eth, -1)).toBe(0);
  });

  it('fixed quantity', () => {
    expect(fixedQty(eth, 0.0157)).toBe(0.015);
    const s = new PositionSizer({ ...GATE_SCALPER_SIZING, mode: 'fixed', quantity: 0.0157 });
    expect(s.size(eth, 0, 2500, NaN, NaN)).toBe(0.015); // equity does not matter
  });

  it('percent of equity: margin = equity·fraction, qty = margin·leverage/price', () => {
    expect(percentOfEquityQty(eth, 10_000, 0.1, 5, 2500)).toBe(2); // 5000 / 2500
    expect(percentOfEquityQty(eth, 10_000, 0.1, 5, 3000)).toBe(1.666); // 1.6667 rounded down
    const s = new PositionSizer({ ...GATE_SCALPER_SIZING, mode: 'percent-equity', equityFraction: 0.1, leverage: 5 });
    expect(s.size(eth, 10_000, 3000, NaN, NaN)).toBe(1.666);
    expect(s.margin).toBe(1000);
    expect(s.size(eth, 0, 3000, NaN, NaN)).toBe(0);
  });

  describe('risk-based: margin = equity·risk / (leverage·stop), stop = max(stop_ratio, 0.0009, ATR/price·1.1)', () => {
    const base: SizingConfig = { ...GATE_SCALPER_SIZING, riskPerTrade: 0.01, leverage: 5, stopRatio: 0.01 };
    const s = new PositionSizer(base);

    it('stop from stop_ratio: 100 / (5·0.01) = 2000 margin, qty 2000·5/2500 = 4', () => {
      expect(s.size(eth, 10_000, 2500, NaN, 0.001)).toBe(4);
      expect([s.stop, s.margin]).toEqual([0.01, 2000]);
    });

    it('stop from ATR: 30/2500·1.1 = 0.0132 -> margin 1515.15, qty 3.0303 -> 3.030', () => {
      expect(riskStop(base, 30, 2500)).toBeCloseTo(0.0132, 15);
      expect(s.size(eth, 10_000, 2500, 30, 0.001)).toBe(3.03);
      expect(s.margin).toBeCloseTo(1515.151515, 5);
    });

    it('the floor 0.0009, and the cap at 25% of equity', () => {
      expect(riskStop({ ...base, stopRatio: 0.0005 }, NaN, 2500)).toBe(0.0009);
      const t = new PositionSizer({ ...base, stopRatio: 0.0005 });
      // 100 / (5·0.0009) = 22222 > 2500 cap: qty 2500·5/2500 = 5
      expect(t.size(eth, 10_000, 2500, NaN, NaN)).toBe(5);
      expect([t.stop, t.margin]).toEqual([0.0009, 2500]);
    });

    it('×0.75 above volatility 0.0025, ×1.15 below 0.0005, unchanged between', () => {
      expect(s.size(eth, 10_000, 2500, NaN, 0.003)).toBe(3); // 2000·0.75 = 1500
      expect(s.margin).toBe(1500);
      expect(s.size(eth, 10_000, 2500, NaN, 0.0004)).toBe(4.6); // 2000·1.15 = 2300
      expect(s.margin).toBeCloseTo(2300, 9);
      expect(s.size(eth, 10_000, 2500, NaN, 0.0025)).toBe(4); // not above
    });

    it('the Gate scalper preset: equity 1000, stop 0.4% -> 500 margin, capped at 250: qty 0.5 at 2500', () => {
      const g = new PositionSizer(GATE_SCALPER_SIZING);
      expect(g.size(eth, 1000, 2500, NaN, 0.001)).toBe(0.5);
      expect([g.stop, g.margin]).toEqual([0.004, 250]);
      expect(g.size(eth, 1, 2500, NaN, 0.001)).toBe(0); // 0.0005 is below one step
    });

    it('rejects bad configs', () => {
      expect(() => new PositionSizer({ ...base, leverage: 0 })).toThrow('sizing.leverage is out of range; got 0');
      expect(() => new PositionSizer({ ...base, mode: 'fixed', quantity: 0 })).toThrow(/sizing\.quantity/);
    });
  });
});

/** A strategy using both, as a real one would: risk-sized market entry, reduce-only exits from the manager. */
class ExitUser implements Strategy {
  readonly name = 'exit-user';
  readonly exits = new ExitManager(GATE_SCALPER_EXITS);
  readonly sizer = new PositionSizer(GATE_SCALPER_SIZING);
  private readonly req = new OrderRequest();
  private inFlight = -1;
  private exitId = -1;
  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.type !== RecordType.AggTrade) return;
    const price = ev.price;
    const req = this.req;
    req.symbolId = 0;
    req.type = OrderType.Market;
    req.tif = TimeInForce.None;
    req.price = 0;
    if (this.exits.side === 0) {
      if (this.inFlight >= 0) return;
      req.side = Side.Buy;
      req.qty = this.sizer.size(ctx.instrument(0), 1000, price, NaN, NaN);
      req.reduceOnly = false;
      this.inFlight = ctx.submit(req);
      return;
    }
    if (this.exits.onPrice(price, ev.eventTime) === ExitReason.None) return;
    req.side = this.exits.exitSide() as Side;
    req.qty = this.exits.exitQty(ctx.instrument(0).stepSize);
    req.reduceOnly = true;
    this.exitId = ctx.submit(req);
  }
  onReport(r: ExecReportView, ctx: StrategyContext): void {
    this.exits.onReport(r, ctx.position(0), ctx.eventTimeMs(), this.exitId);
  }
  onTimer(): void {}
}

describe('a strategy with ExitManager and PositionSizer in the runner', () => {
  it('sizes the entry, takes 50% at +0.6% and the rest at +0.8%, reduce-only', () => {
    const inst = [makeInstrument('ETHUSDT', '0.01', '0.001', '0.001', '5')];
    const intents = new ArraySlotWriter(INTENT_SLOT_BYTES, 16);
    const runner = new StrategyRunner(new ExitUser(), inst, intents, new PreTradeLimits({ maxOrderQty: 10, maxPosition: 10 }), { now: () => 0 });
    const m = new ArraySlotWriter(MARKET_SLOT_BYTES, 1);
    const r = new ArraySlotWriter(REPORT_SLOT_BYTES, 1);
    const trade = (price: number, t: number): void => {
      m.reset();
      const b = m.claim();
      m.i32[b * 2] = packHeader(RecordType.AggTrade, 0, 0);
      m.f64[b + AT.PRICE] = price;
      m.f64[b + AT.QTY] = 1;
      m.f64[b + AT.EVENT_TIME] = t;
      m.f64[b + W.RECV_TS] = 1;
      m.commit();
      runner.onMarketRecord(m.f64, m.i32, b);
    };
    const fill = (id: number, side: Side, qty: number, price: number): void => {
      r.reset();
      const b = r.claim();
      r.i32[b * 2] = packHeader(RecordType.ExecReport, 0, 0);
      r.f64[b + RP.INTENT_ID] = id;
      r.f64[b + RP.EXEC_TYPE] = ExecType.Fill;
      r.f64[b + RP.STATUS] = OrderStatus.Filled;
      r.f64[b + RP.SIDE] = side;
      r.f64[b + RP.LAST_QTY] = qty;
      r.f64[b + RP.CUM_QTY] = qty;
      r.f64[b + RP.LAST_PRICE] = price;
      r.commit();
      runner.onReportRecord(r.f64, r.i32, r.u8, b);
    };
    const intent = (i: number) => {
      const b = intents.base(i);
      return { side: intents.f64[b + IN.SIDE], steps: intents.f64[b + IN.QTY_STEPS], flags: intents.f64[b + IN.FLAGS] };
    };
    trade(2500, 1); // margin min(1000·0.01/(5·0.004), 250) = 250: qty 250·5/2500 = 0.5
    expect(intent(0)).toEqual({ side: Side.Buy, steps: 500, flags: 0 });
    fill(1, Side.Buy, 0.5, 2500);
    trade(2514, 2); // +0.56%: nothing (trail armed at 2510)
    expect(intents.count).toBe(1);
    trade(2516, 3); // +0.64%: sell 0.25
    expect(intent(1)).toEqual({ side: Side.Sell, steps: 250, flags: IntentFlag.ReduceOnly });
    trade(2517, 4); // in flight: nothing
    fill(2, Side.Sell, 0.25, 2516);
    trade(2521, 5); // +0.84%: sell the rest
    expect(intent(2)).toEqual({ side: Side.Sell, steps: 250, flags: IntentFlag.ReduceOnly });
    fill(3, Side.Sell, 0.25, 2521);
    expect(runner.position(0)).toBeCloseTo(0, 12);
    expect(intents.count).toBe(3);
  });
});
