import { strategyRig } from './helpers/strategyRig.js';
import { describe, expect, it } from 'vitest';

import { BookState, ExecType, IN, OrderStatus, OrderType, RecordType, Side, TimeInForce } from '../src/ring/layout.js';
import { makeInstrument, type Instrument } from '../src/core/Instrument.js';

import { MarketMaker, type MarketMakerParams } from '../src/strategy/MarketMaker.js';
import { createStrategy, sharedParamDefaults, strategyDefaults } from '../src/strategy/registry.js';

/** tick 0.01 at ~1000: 0.1 bp per tick, so every bps term shows in the prices */
const FINE = makeInstrument('BTCUSDT', '0.01', '0.001', '0.001', '5');
/** tick 1 at ~1000: 10 bps per tick, so rounding can leave a level unchanged after a mid move */
const COARSE = makeInstrument('BTCUSDT', '1', '0.001', '0.001', '5');

const DEFAULTS: MarketMakerParams = {
  symbol: 'BTCUSDT', spreadBps: 5, levels: 3, levelSpacingBps: 3, refreshMs: 500, skewFactor: 0.3, skewUnit: 'half-spread',
  maxInventory: 300, orderSize: 100, sizeStep: 0.2, obiLevels: 5, volAdjFactor: 0.5, requoteBps: 5, maxOrdersPerSec: 5, amendQuotes: true,
};

/** The runner in-process around a market maker, with hand-built ring A / C records and ring B read back. */
function harness(p: Partial<MarketMakerParams>, inst: Instrument = FINE) {
  const strat = new MarketMaker(0, { ...DEFAULTS, amendQuotes: false, ...p });
  const { runner, intents, trade: rigTrade, depthReset: book, bookState, report } = strategyRig(strat, [inst], { maxOrderQty: 10, maxPosition: 100 }, 128);
  const trade = (price: number, eventTime: number): void => rigTrade(price, eventTime);
  const ack = (...ids: number[]): void => {
    for (const id of ids) report(id, ExecType.Ack, OrderStatus.New, Side.Buy);
  };
  const intent = (i: number) => {
    const b = intents.base(i);
    const f = intents.f64;
    return {
      kind: intents.i32[b * 2]! & 0xff, id: f[b + IN.INTENT_ID]!, side: f[b + IN.SIDE]!, type: f[b + IN.ORDER_TYPE]!, tif: f[b + IN.TIF]!,
      priceTicks: f[b + IN.PRICE_TICKS]!, qtySteps: f[b + IN.QTY_STEPS]!, eventTime: f[b + IN.EVENT_TIME]!, target: f[b + IN.TARGET_ID]!,
    };
  };
  /** intents from index `from` on, compactly: ['B'|'S', priceTicks, qtySteps] for places, ['X', target] for cancels */
  const since = (from: number): Array<Array<string | number>> => {
    const out: Array<Array<string | number>> = [];
    for (let i = from; i < intents.count; i++) {
      const x = intent(i);
      if (x.kind === RecordType.OrderCancel) out.push(['X', x.target]);
      else if (x.kind === RecordType.OrderAmend) out.push(['A', x.target, x.priceTicks, x.qtySteps]);
      else {
        expect(x).toMatchObject({ type: OrderType.Limit, tif: TimeInForce.Gtx });
        out.push([x.side === Side.Buy ? 'B' : 'S', x.priceTicks, x.qtySteps]);
      }
    }
    return out;
  };
  return { strat, runner, intents, trade, book, bookState, report, ack, intent, since };
}

// bids 3 + 1, asks 1 + 1: OBI = (4 - 2)/6 = 1/3, vol_adj = 1 + 0.5/3; mid 1000
const BOOK_A: Array<[number, number, boolean]> = [[999.9, 3, false], [999.8, 1, false], [1000.1, 1, true], [1000.2, 1, true]];

describe('market maker (Python event-bus system)', () => {
  it('first quote set, a sub-threshold mid move, then a fill re-prices with the inventory skew', () => {
    const h = harness({ maxOrdersPerSec: 20 });
    h.book(BOOK_A, 900);
    expect(h.intents.count).toBe(0); // book still Syncing
    h.bookState(BookState.Live); // the book is whole already: quotes at once (a FeedStatus record has event time 0)
    h.book(BOOK_A, 1000); // same mid: nothing more
    // half·vol_adj = 0.00025·7/6 = 2.916667e-4 → ±0.291667; spacing 0.3 per level; bids rounded down, asks up
    // sizes $100/$120/$140 at mid 1000 → 0.100/0.120/0.140
    expect(h.since(0)).toEqual([
      ['B', 99970, 100], ['S', 100030, 100], ['B', 99940, 120], ['S', 100060, 120], ['B', 99910, 140], ['S', 100090, 140],
    ]);
    expect(h.intent(0)).toEqual({ kind: RecordType.OrderNew, id: 1, side: Side.Buy, type: OrderType.Limit, tif: TimeInForce.Gtx, priceTicks: 99970, qtySteps: 100, eventTime: 0, target: 0 });
    expect(h.strat.volAdj).toBeCloseTo(7 / 6, 12);
    h.ack(1, 2, 3, 4, 5, 6);
    expect(h.strat.openQuotes).toBe(6);

    // mid 1000.2: 2 bps < 5 bps → nothing
    h.book([[1000.1, 3, false], [1000.0, 1, false], [1000.3, 1, true], [1000.4, 1, true]], 1100);
    h.book(BOOK_A, 1200);
    expect(h.intents.count).toBe(6);

    // bid 0 fills: position +0.1 → inv = 100/300 = 1/3, skew = 0.3·0.00025/3 = 2.5e-5 → every price 0.025 lower
    h.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.1);
    expect(h.runner.position(0)).toBeCloseTo(0.1, 12);
    expect(h.strat.inv).toBeCloseTo(1 / 3, 12);
    expect(h.strat.skew).toBeCloseTo(2.5e-5, 15);
    // bid0 999.683 → 999.68, ask0 1000.267 → 1000.27, bid1 999.383, ask1 1000.567, bid2 999.083, ask2 1000.867
    expect(h.since(6)).toEqual([
      ['X', 2], ['X', 3], ['X', 4], ['X', 5], ['X', 6],
      ['B', 99968, 100], ['S', 100027, 100], ['B', 99938, 120], ['S', 100057, 120], ['B', 99908, 140], ['S', 100087, 140],
    ]);
    expect(h.strat.retiring).toBe(5);
    for (const id of [2, 3, 4, 5, 6]) h.report(id, ExecType.Canceled, OrderStatus.Canceled, Side.Buy);
    expect(h.strat.retiring).toBe(0);
    expect(h.strat.openQuotes).toBe(6);
  });

  it('legacy skew unit: factor·inv/1e4', () => {
    const h = harness({ maxOrdersPerSec: 20, skewUnit: 'legacy' });
    h.bookState(BookState.Live);
    h.book(BOOK_A, 1000);
    h.ack(1, 2, 3, 4, 5, 6);
    h.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.1);
    // skew = 0.3·(1/3)/1e4 = 1e-5 → 0.01 lower: bid0 999.69833 → 999.69
    expect(h.strat.skew).toBeCloseTo(1e-5, 15);
    expect(h.since(6).filter((x) => x[0] === 'B')).toEqual([['B', 99969, 100], ['B', 99939, 120], ['B', 99909, 140]]);
  });

  it('a mid move above 5 bps: unchanged levels keep their orders, changed ones are cancelled and re-placed; a GTX reject is re-quoted at the next refresh', () => {
    const h = harness({ maxOrdersPerSec: 20, levelSpacingBps: 10 }, COARSE);
    h.bookState(BookState.Live);
    h.book([[999, 1, false], [1001, 1, true]], 1000);
    // mid 1000: bids 999.75/998.75/997.75 → 999/998/997; asks 1000.25/1001.25/1002.25 → 1001/1002/1003
    expect(h.since(0)).toEqual([['B', 999, 100], ['S', 1001, 100], ['B', 998, 120], ['S', 1002, 120], ['B', 997, 140], ['S', 1003, 140]]);
    h.ack(1, 2, 3, 4, 5, 6);
    // mid 1000.6 (6 bps): bids 1000.350/999.349/998.349 → 1000/999/998 (changed);
    // asks 1000.850/1001.851/1002.851 → 1001/1002/1003, sizes still 100/120/140 steps (kept)
    h.book([[1000.1, 1, false], [1001.1, 1, true]], 1100);
    expect(h.since(6)).toEqual([['X', 1], ['X', 3], ['X', 5], ['B', 1000, 100], ['B', 999, 120], ['B', 998, 140]]);
    expect(h.intent(9).id).toBe(10);
    for (const id of [1, 3, 5]) h.report(id, ExecType.Canceled, OrderStatus.Canceled, Side.Buy);
    h.ack(11, 12);
    // the new bid 0 is refused post-only (-5022): the level is free, nothing is sent until the next refresh
    h.report(10, ExecType.Reject, OrderStatus.Rejected, Side.Buy);
    expect(h.strat.openQuotes).toBe(5);
    h.trade(1000.5, 1599);
    expect(h.intents.count).toBe(12);
    h.trade(1000.5, 1600); // timer (1100 + 500): same desired quotes, only bid 0 is missing
    expect(h.since(12)).toEqual([['B', 1000, 100]]);
  });

  it('amendQuotes: a changed resting quote is amended in place (one action, not two); a refused amend is replaced by cancel + place', () => {
    const h = harness({ maxOrdersPerSec: 20, levelSpacingBps: 10, amendQuotes: true }, COARSE);
    h.bookState(BookState.Live);
    h.book([[999, 1, false], [1001, 1, true]], 1000);
    expect(h.since(0)).toEqual([['B', 999, 100], ['S', 1001, 100], ['B', 998, 120], ['S', 1002, 120], ['B', 997, 140], ['S', 1003, 140]]);
    h.ack(1, 2, 3, 4, 5, 6);
    // the same move as above: the three bids change, the asks are kept; each bid is amended (ids 7, 8, 9)
    h.book([[1000.1, 1, false], [1001.1, 1, true]], 1100);
    expect(h.since(6)).toEqual([['A', 1, 1000, 100], ['A', 3, 999, 120], ['A', 5, 998, 140]]);
    expect(h.strat.amended).toBe(3);
    expect(h.strat.openQuotes).toBe(6);
    // the amends' answers are Acks of the orders; the one of bid 1 (amend 8) is refused instead
    h.report(1, ExecType.Ack, OrderStatus.New, Side.Buy);
    h.report(5, ExecType.Ack, OrderStatus.New, Side.Buy);
    h.report(8, ExecType.Reject, OrderStatus.Rejected, Side.Buy);
    h.trade(1000.5, 1599);
    expect(h.intents.count).toBe(9);
    // the timer refresh (1600): bid 1 still rests at 998 as the venue kept it: cancelled and placed again
    h.trade(1000.5, 1600);
    expect(h.since(9)).toEqual([['X', 3], ['B', 999, 120]]);
  });

  it('the order-rate budget (5/s of event time, places and cancels) defers the excess; cancels go first', () => {
    const h = harness({});
    h.bookState(BookState.Live);
    h.book(BOOK_A, 1000);
    expect(h.since(0)).toEqual([['B', 99970, 100], ['S', 100030, 100], ['B', 99940, 120], ['S', 100060, 120], ['B', 99910, 140]]);
    expect(h.strat.deferred).toBe(1);
    h.ack(1, 2, 3, 4, 5);
    h.trade(1000, 1500); // refresh timer: the budget is still spent
    h.trade(1000, 1999);
    expect(h.intents.count).toBe(5);
    h.trade(1000, 2000); // the first actions leave the window
    expect(h.since(5)).toEqual([['S', 100090, 140]]);
    expect(h.intent(5).eventTime).toBe(2000);
    h.ack(6);
    // mid 1000.6 (6 bps): every level changes; 4 actions free (one was spent at 2000): cancels first
    h.book([[1000.5, 3, false], [1000.4, 1, false], [1000.7, 1, true], [1000.8, 1, true]], 2100);
    expect(h.since(6)).toEqual([['X', 1], ['X', 2], ['X', 3], ['X', 4]]);
    for (const id of [1, 2, 3, 4]) h.report(id, ExecType.Canceled, OrderStatus.Canceled, Side.Buy);
    h.trade(1000, 2999);
    expect(h.intents.count).toBe(10);
    h.trade(1000, 3000); // the action of 2000 leaves the window: one more cancel
    expect(h.since(10)).toEqual([['X', 5]]);
    h.trade(1000, 3100); // the four of 2100 leave it: the last cancel, then bids/asks from level 0
    expect(h.since(11)).toEqual([['X', 6], ['B', 100030, 100], ['S', 100090, 100], ['B', 100000, 120]]);
  });

  it('book not Live: every quote is cancelled at once (past the budget), nothing quoted until Live again', () => {
    const h = harness({});
    h.bookState(BookState.Live);
    h.book(BOOK_A, 1000);
    expect(h.intents.count).toBe(5);
    h.ack(1, 2, 3);
    h.bookState(BookState.Stale);
    expect(h.since(5)).toEqual([['X', 1], ['X', 3], ['X', 5], ['X', 2], ['X', 4]]); // bids, then asks
    expect(h.strat.openQuotes).toBe(0);
    h.book(BOOK_A, 1600);
    h.trade(1000, 2500);
    expect(h.intents.count).toBe(10);
    for (const id of [1, 2, 3, 4, 5]) h.report(id, ExecType.Canceled, OrderStatus.Canceled, Side.Buy);
    expect(h.strat.retiring).toBe(0);
    h.bookState(BookState.Syncing);
    h.trade(1000, 2600);
    expect(h.intents.count).toBe(10);
    h.bookState(BookState.Live); // re-quote at once (the budget has room again by event time 2600)
    expect(h.since(10)).toEqual([['B', 99970, 100], ['S', 100030, 100], ['B', 99940, 120], ['S', 100060, 120], ['B', 99910, 140]]);
  });

  it('max inventory: no quote that would take |inventory| past the bound', () => {
    const h = harness({ maxOrdersPerSec: 50 });
    h.bookState(BookState.Live);
    h.book(BOOK_A, 1000);
    h.ack(1, 2, 3, 4, 5, 6);
    // long 0.2 ($200): bid 0 would make $300 (allowed), bids 1 and 2 $320 / $340 (not)
    h.report(1, ExecType.Fill, OrderStatus.Filled, Side.Buy, 0.1);
    h.report(3, ExecType.Fill, OrderStatus.PartiallyFilled, Side.Buy, 0.1);
    expect(h.runner.position(0)).toBeCloseTo(0.2, 12);
    const bids = h.strat.desSteps.slice(0, 3);
    expect([...bids]).toEqual([100, 0, 0]);
    expect(h.strat.inv).toBeCloseTo(2 / 3, 12);
  });

  it('is registered with the spec defaults', () => {
    expect(strategyDefaults('market-maker')).toEqual({ ...sharedParamDefaults(), ...DEFAULTS });
    expect(createStrategy('market-maker', { symbol: 'ETHUSDT' }, ['BTCUSDT', 'ETHUSDT'])).toBeInstanceOf(MarketMaker);
  });
});
