import { describe, expect, it } from 'vitest';
import { OrderType, RejectReason, Side, TimeInForce } from '../src/ring/layout.js';
import { OrderRequest } from '../src/strategy/Strategy.js';
import { RiskEngine, TradingState } from '../src/risk/RiskEngine.js';
import { RiskInputs } from '../src/risk/RiskInputs.js';
import { RISK_OFF, type RiskConfig } from '../src/risk/RiskConfig.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from './helpers/fixtures.js';

/** 2024-01-02T00:00:00Z: day boundaries in the tests are multiples of 86,400,000 from here */
const T0 = 1_704_153_600_000;
const DAY = 86_400_000;

/**
 * A risk engine with only the given rules on, and inputs for two symbols: 0 = BTC (bid 49,990, ask 50,010:
 * mid 50,000, spread 4 bps), 1 = ETH (bid 2,999, ask 3,001: mid 3,000); books live, equity 10,000.
 */
function riskRig(cfg: Partial<RiskConfig> = {}) {
  const risk = new RiskEngine({ ...RISK_OFF, ...cfg });
  const inp = new RiskInputs(2);
  inp.bid[0] = 49_990;
  inp.ask[0] = 50_010;
  inp.bid[1] = 2_999;
  inp.ask[1] = 3_001;
  inp.bookLive.fill(1);
  inp.equity = 10_000;
  inp.eventTimeMs = T0;
  const req = new OrderRequest();
  const limit = (side: Side, qty: number, price: number, reduceOnly = false, sym = 0) => {
    req.symbolId = sym;
    req.side = side;
    req.type = OrderType.Limit;
    req.tif = TimeInForce.Gtc;
    req.price = price;
    req.qty = qty;
    req.reduceOnly = reduceOnly;
    return risk.check(req, sym, inp);
  };
  const market = (side: Side, qty: number, reduceOnly = false, sym = 0) => risk.check(req.market(sym, side, qty, reduceOnly), sym, inp);
  return { risk, inp, req, limit, market };
}

const BUY = Side.Buy;
const SELL = Side.Sell;

describe('RiskEngine: one order', () => {
  it('max order quantity: at the limit passes, above it and non-positive quantities are refused', () => {
    const { risk, limit, market } = riskRig({ maxOrderQty: 0.5 });
    expect(limit(BUY, 0.5, 50_000)).toBe(RejectReason.None);
    expect(limit(BUY, 0.501, 50_000)).toBe(RejectReason.MaxOrderQty);
    expect(market(SELL, 0)).toBe(RejectReason.MaxOrderQty);
    expect(market(SELL, NaN)).toBe(RejectReason.MaxOrderQty);
    expect(risk.rejectCounts().maxOrderQty).toBe(3);
    expect(risk.checks).toBe(4);
    expect(risk.passes).toBe(1);
  });

  it('max order notional: limit price x qty, and the touch for a market order', () => {
    const { risk, limit, market } = riskRig({ maxOrderNotional: 25_000 });
    expect(limit(BUY, 0.5, 50_000)).toBe(RejectReason.None); // 25,000
    expect(limit(BUY, 0.5, 50_000.5)).toBe(RejectReason.MaxOrderNotional);
    expect(market(BUY, 0.5)).toBe(RejectReason.MaxOrderNotional); // at the ask 50,010: 25,005
    expect(market(SELL, 0.5)).toBe(RejectReason.None); // at the bid 49,990: 24,995
    expect(risk.rejectCounts().maxOrderNotional).toBe(2);
  });
});

describe('RiskEngine: exposure', () => {
  it('max position qty counts the position and the orders in flight on the order side', () => {
    const { risk, inp, limit } = riskRig({ maxPositionQty: 0.5 });
    inp.position[0] = 0.25;
    inp.pendingBuy[0] = 0.125;
    expect(limit(BUY, 0.125, 50_000)).toBe(RejectReason.None); // worst long 0.5
    inp.pendingBuy[0] = 0.25;
    expect(limit(BUY, 0.125, 50_000)).toBe(RejectReason.MaxPosition); // 0.625
    // a sell through zero: worst short = 0.25 - 0.75 = -0.5
    expect(limit(SELL, 0.75, 50_000)).toBe(RejectReason.None);
    expect(limit(SELL, 0.76, 50_000)).toBe(RejectReason.MaxPosition);
    expect(risk.rejectsByReason[RejectReason.MaxPosition]).toBe(2);
  });

  it('an order that reduces the position passes the exposure rules even above them', () => {
    const { inp, limit } = riskRig({ maxPositionQty: 0.1, maxPositionNotional: 1, maxTotalNotional: 1, maxLeverage: 0.01, noDuplicatePosition: true, minSpreadBps: 100 });
    inp.position[0] = 0.5;
    inp.pendingSell[0] = 0.25;
    expect(limit(SELL, 0.25, 50_000)).toBe(RejectReason.None); // 0.25 in flight + 0.25 = the position: reduces
    expect(limit(SELL, 0.26, 50_000)).toBe(RejectReason.MinSpread); // would flip: an entry
  });

  it('max position notional per symbol, valued at mid', () => {
    const { inp, limit } = riskRig({ maxPositionNotional: 10_000 });
    expect(limit(BUY, 0.2, 49_000)).toBe(RejectReason.None); // 0.2 x mid 50,000 = 10,000
    expect(limit(BUY, 0.2001, 49_000)).toBe(RejectReason.MaxPositionNotional);
    inp.position[1] = -3; // ETH short 9,000 does not count for BTC
    expect(limit(SELL, 0.2, 51_000)).toBe(RejectReason.None);
    expect(limit(SELL, 3.4, 3_000, false, 1)).toBe(RejectReason.MaxPositionNotional); // 6.4 x 3,000
    expect(limit(SELL, 0.3, 3_000, false, 1)).toBe(RejectReason.None); // 3.3 x 3,000 = 9,900
  });

  it('max total notional sums every symbol at mid', () => {
    const { inp, limit } = riskRig({ maxTotalNotional: 16_000 });
    inp.position[1] = 2; // 6,000
    expect(limit(BUY, 0.2, 50_000)).toBe(RejectReason.None); // + 10,000
    expect(limit(BUY, 0.21, 50_000)).toBe(RejectReason.MaxTotalNotional);
    inp.position[1] = 0.5;
    inp.pendingSell[1] = 1.5; // ETH's worst case is now short 1: 3,000
    expect(limit(BUY, 0.25, 50_000)).toBe(RejectReason.None); // 12,500 + 3,000
    expect(limit(BUY, 0.27, 50_000)).toBe(RejectReason.MaxTotalNotional); // 13,500 + 3,000
  });

  it('no duplicate position: no entry in the direction of a position or of an entry in flight', () => {
    const { risk, inp, limit } = riskRig({ noDuplicatePosition: true });
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.pendingBuy[0] = 0.1;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.DuplicatePosition);
    inp.pendingBuy[0] = 0;
    inp.position[0] = -0.1;
    expect(limit(SELL, 0.1, 50_000)).toBe(RejectReason.DuplicatePosition);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None); // closes
    expect(limit(BUY, 0.3, 50_000)).toBe(RejectReason.None); // flips: a new direction
    expect(risk.rejectCounts().duplicatePosition).toBe(2);
  });
});

describe('RiskEngine: order flow', () => {
  it('max open orders, in total and per symbol', () => {
    const { risk, inp, limit } = riskRig({ maxOpenOrders: 10, maxOpenOrdersPerSymbol: 7 });
    inp.openOrders[0] = 6;
    inp.openOrders[1] = 3;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.openOrders[0] = 7;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.MaxOpenOrders); // per symbol
    inp.openOrders[0] = 6;
    inp.openOrders[1] = 4;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.MaxOpenOrders); // in total
    expect(limit(BUY, 0.1, 3_000, false, 1)).toBe(RejectReason.MaxOpenOrders);
    expect(risk.rejectCounts().maxOpenOrders).toBe(3);
  });

  it('orders per second: a sliding window, refused orders do not use it up', () => {
    const { risk, inp, limit } = riskRig({ maxOrdersPerSecond: 5 });
    for (let i = 0; i < 5; i++) {
      inp.eventTimeMs = T0 + i;
      expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    }
    inp.eventTimeMs = T0 + 999;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.OrderRatePerSecond);
    expect(limit(SELL, 0.1, 50_000)).toBe(RejectReason.OrderRatePerSecond);
    inp.eventTimeMs = T0 + 1000; // the order at T0 has left (T0, T0 + 1000]
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.OrderRatePerSecond);
    inp.eventTimeMs = T0 + 1001;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(risk.rejectCounts().orderRatePerSecond).toBe(3);
    expect(risk.windowCounts(T0 + 1001).orders1s).toBe(5);
  });

  it('orders per 10 s and per minute, each with its own reason', () => {
    const { risk, inp, limit } = riskRig({ maxOrdersPer10s: 3, maxOrdersPerMinute: 4 });
    for (let i = 0; i < 3; i++) {
      inp.eventTimeMs = T0 + i * 1000;
      expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    }
    inp.eventTimeMs = T0 + 9_999;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.OrderRatePer10s);
    inp.eventTimeMs = T0 + 10_000;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None); // 4 in the minute
    inp.eventTimeMs = T0 + 30_000;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.OrderRatePerMinute);
    inp.eventTimeMs = T0 + 60_000;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(risk.rejectCounts().orderRatePer10s).toBe(1);
    expect(risk.rejectCounts().orderRatePerMinute).toBe(1);
  });

  it('cancels pass in every state', () => {
    const { risk } = riskRig({});
    risk.setState(TradingState.Halted);
    expect(risk.checkCancel()).toBe(RejectReason.None);
  });
});

describe('RiskEngine: market and venue state', () => {
  it('price band: a limit price within band bps of mid, both sides; market orders are not banded', () => {
    const { risk, limit, market } = riskRig({ priceBandBps: 200 });
    expect(limit(BUY, 0.1, 51_000)).toBe(RejectReason.None); // +200 bps
    expect(limit(BUY, 0.1, 51_000.01)).toBe(RejectReason.PriceBand);
    expect(limit(SELL, 0.1, 49_000)).toBe(RejectReason.None);
    expect(limit(SELL, 0.1, 48_999.99)).toBe(RejectReason.PriceBand);
    expect(market(BUY, 0.1)).toBe(RejectReason.None);
    expect(risk.rejectCounts().priceBand).toBe(2);
  });

  it('price band refuses a limit order when there is no mid to compare with', () => {
    const { inp, limit } = riskRig({ priceBandBps: 200 });
    inp.bid[0] = NaN;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.PriceBand);
  });

  it('min spread applies to entries only', () => {
    const { risk, inp, limit } = riskRig({ minSpreadBps: 2 });
    inp.bid[0] = 49_995;
    inp.ask[0] = 50_005; // 10 = 2 bps of 50,000
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.bid[0] = 49_995.5;
    inp.ask[0] = 50_004.5; // 9
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.MinSpread);
    inp.position[0] = 0.1;
    expect(limit(SELL, 0.1, 50_000)).toBe(RejectReason.None); // an exit
    expect(risk.rejectCounts().minSpread).toBe(1);
  });

  it('max slippage: the expected price against the decision price, adverse side only', () => {
    const { risk, inp, limit, market } = riskRig({ maxSlippageBps: 10 });
    inp.decisionPrice = 50_000;
    expect(limit(BUY, 0.1, 50_050)).toBe(RejectReason.None); // +10 bps
    expect(limit(BUY, 0.1, 50_050.5)).toBe(RejectReason.MaxSlippage);
    expect(limit(SELL, 0.1, 49_950)).toBe(RejectReason.None);
    expect(limit(SELL, 0.1, 49_949.5)).toBe(RejectReason.MaxSlippage);
    expect(limit(SELL, 0.1, 60_000)).toBe(RejectReason.None); // better than decided
    inp.decisionPrice = 49_950;
    expect(market(BUY, 0.1)).toBe(RejectReason.MaxSlippage); // the ask 50,010 is 12 bps above
    inp.decisionPrice = NaN; // against mid: the ask is 2 bps above
    expect(market(BUY, 0.1)).toBe(RejectReason.None);
    expect(risk.rejectCounts().maxSlippage).toBe(3);
  });

  it('no orders at all on a book that is not live', () => {
    const { risk, inp, limit } = riskRig({ requireLiveBook: true });
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.bookLive[0] = 0;
    inp.position[0] = 0.1;
    expect(limit(SELL, 0.1, 50_000, true)).toBe(RejectReason.NotReady);
    expect(limit(BUY, 0.1, 3_000, false, 1)).toBe(RejectReason.None);
    expect(risk.rejectCounts().bookNotLive).toBe(1);
  });

  it('venue latency above the threshold stops trading; unknown latency does not', () => {
    const { risk, inp, limit } = riskRig({ maxVenueLatencyMs: 100 });
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None); // NaN: not measured yet
    inp.venueLatencyMs = 100;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.venueLatencyMs = 100.5;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.VenueLatency);
    expect(risk.rejectCounts().venueLatency).toBe(1);
  });
});

describe('RiskEngine: leverage and margin', () => {
  it('max leverage: gross notional with this order over equity', () => {
    const { risk, inp, limit } = riskRig({ maxLeverage: 1 });
    expect(limit(BUY, 0.2, 50_000)).toBe(RejectReason.None); // 10,000 / 10,000
    inp.position[1] = 1; // + 3,000
    expect(limit(BUY, 0.2, 50_000)).toBe(RejectReason.MaxLeverage);
    expect(limit(BUY, 0.14, 50_000)).toBe(RejectReason.None); // 7,000 + 3,000
    inp.equity = NaN; // unknown equity: nothing can be checked against it
    expect(limit(BUY, 0.01, 50_000)).toBe(RejectReason.MaxLeverage);
    expect(risk.rejectCounts().maxLeverage).toBe(2);
  });

  it("one order's margin as a fraction of equity (the Gate scalper's 25 % cap at leverage 5)", () => {
    const { limit } = riskRig({ leverage: 5, maxOrderMarginFraction: 0.25 });
    expect(limit(BUY, 0.25, 50_000)).toBe(RejectReason.None); // 12,500 / 5 = 2,500 = 25 % of 10,000
    expect(limit(BUY, 0.2501, 50_000)).toBe(RejectReason.MaxOrderMargin);
  });

  it('capital usage: total margin with this order as a fraction of equity', () => {
    const { inp, limit } = riskRig({ leverage: 5, maxCapitalUsage: 0.5 });
    expect(limit(BUY, 0.5, 50_000)).toBe(RejectReason.None); // 25,000 / 5 = 5,000
    inp.position[1] = -1;
    expect(limit(BUY, 0.5, 50_000)).toBe(RejectReason.CapitalUsage);
    expect(limit(BUY, 0.44, 50_000)).toBe(RejectReason.None); // (22,000 + 3,000) / 5
  });
});

describe('RiskEngine: trade pacing', () => {
  it('min interval between trades counts entries only', () => {
    const { risk, inp, limit } = riskRig({ minTradeIntervalMs: 60_000 });
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.position[0] = 0.1;
    inp.eventTimeMs = T0 + 59_999;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.MinTradeInterval);
    expect(limit(SELL, 0.1, 50_000)).toBe(RejectReason.None); // an exit
    inp.eventTimeMs = T0 + 60_000;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(risk.rejectCounts().minTradeInterval).toBe(1);
  });

  it('max trades per minute (sliding) and per UTC day', () => {
    const { risk, inp, limit } = riskRig({ maxTradesPerMinute: 2, maxTradesPerDay: 3 });
    inp.eventTimeMs = T0 + DAY - 70_000;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.MaxTradesPerMinute);
    inp.eventTimeMs = T0 + DAY - 10_000;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(risk.tradesToday).toBe(3);
    inp.eventTimeMs = T0 + DAY - 1;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.MaxTradesPerDay);
    inp.eventTimeMs = T0 + DAY; // a new UTC day
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(risk.tradesToday).toBe(1);
    expect(risk.rejectCounts().maxTradesPerMinute).toBe(1);
    expect(risk.rejectCounts().maxTradesPerDay).toBe(1);
  });
});

describe('RiskEngine: trading states', () => {
  it('REDUCE_ONLY (manual) passes only reduce-only orders that reduce the position', () => {
    const { risk, inp, limit } = riskRig({});
    inp.position[0] = 0.3;
    risk.setState(TradingState.ReduceOnly);
    expect(limit(BUY, 0.1, 50_000, true)).toBe(RejectReason.ReduceOnlyState);
    expect(limit(SELL, 0.1, 50_000, false)).toBe(RejectReason.ReduceOnlyState); // reduces, but not flagged
    expect(limit(SELL, 0.4, 50_000, true)).toBe(RejectReason.ReduceOnlyState); // would flip
    expect(limit(SELL, 0.3, 50_000, true)).toBe(RejectReason.None);
    inp.pendingSell[0] = 0.3;
    expect(limit(SELL, 0.1, 50_000, true)).toBe(RejectReason.ReduceOnlyState); // the position is already being closed
    expect(risk.rejectCounts().reduceOnlyState).toBe(4);
    expect(risk.stateCause).toBe(RejectReason.None);
  });

  it('HALTED refuses everything (exits too) until an operator resumes', () => {
    const { risk, inp, limit, market } = riskRig({});
    const changes: Array<[TradingState, RejectReason]> = [];
    risk.onStateChange = (s, c) => changes.push([s, c]);
    inp.position[0] = 0.3;
    risk.setState(TradingState.Halted);
    expect(market(SELL, 0.3, true)).toBe(RejectReason.Halted);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.Halted);
    risk.setState(TradingState.Active);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(changes).toEqual([[TradingState.Halted, RejectReason.None], [TradingState.Active, RejectReason.None]]);
    expect(risk.stateChanges).toBe(2);
    expect(risk.rejectCounts().halted).toBe(2);
  });

  it('daily loss (quote) moves to REDUCE_ONLY at the limit, and the next UTC day lifts it', () => {
    const { risk, inp, limit } = riskRig({ dailyLossLimit: 200 });
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None); // day starts at 10,000
    inp.position[0] = 0.1;
    inp.equity = 9_800.01;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.equity = 9_800;
    risk.update(inp);
    expect(risk.state).toBe(TradingState.ReduceOnly);
    expect(risk.stateCause).toBe(RejectReason.DailyLoss);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.DailyLoss);
    expect(limit(SELL, 0.1, 50_000, true)).toBe(RejectReason.None); // exits pass
    inp.equity = 10_500; // a recovery the same day does not lift it
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.DailyLoss);
    inp.eventTimeMs = T0 + DAY;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(risk.state).toBe(TradingState.Active);
    // the new day measures from its own start: 10,500
    inp.equity = 10_300.5;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.equity = 10_300;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.DailyLoss);
    expect(risk.rejectCounts().dailyLoss).toBe(3);
  });

  it('daily loss as a fraction of the day start', () => {
    const { risk, inp } = riskRig({ dailyLossFraction: 0.03 });
    risk.update(inp);
    inp.equity = 9_700.01;
    risk.update(inp);
    expect(risk.state).toBe(TradingState.Active);
    inp.equity = 9_700;
    risk.update(inp);
    expect(risk.state).toBe(TradingState.ReduceOnly);
    expect(risk.stateCause).toBe(RejectReason.DailyLoss);
  });

  it('max drawdown from the equity peak HALTS; resuming re-bases the peak', () => {
    const { risk, inp, limit } = riskRig({ maxDrawdownFraction: 0.05 });
    inp.equity = 11_000; // peak
    risk.update(inp);
    inp.equity = 10_450.01;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.equity = 10_450; // 5 % below 11,000
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.Halted);
    expect(risk.state).toBe(TradingState.Halted);
    expect(risk.stateCause).toBe(RejectReason.MaxDrawdown);
    risk.setState(TradingState.Active);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    inp.equity = 9_927.5; // 5 % below the new peak 10,450
    risk.update(inp);
    expect(risk.state).toBe(TradingState.Halted);
  });

  it('capital floor: equity below the fraction of initial capital HALTS', () => {
    const { risk, inp } = riskRig({ initialCapital: 10_000, minCapitalFraction: 0.5 });
    inp.equity = 5_000;
    risk.update(inp);
    expect(risk.state).toBe(TradingState.Active);
    inp.equity = 4_999.99;
    risk.update(inp);
    expect(risk.state).toBe(TradingState.Halted);
    expect(risk.stateCause).toBe(RejectReason.CapitalFloor);
  });

  it('session realised loss and target profit move to REDUCE_ONLY', () => {
    const loss = riskRig({ maxRealizedLoss: 100 });
    loss.inp.realizedPnl = -99.99;
    loss.risk.update(loss.inp);
    expect(loss.risk.state).toBe(TradingState.Active);
    loss.inp.realizedPnl = -100;
    expect(loss.limit(BUY, 0.1, 50_000)).toBe(RejectReason.MaxRealizedLoss);

    const win = riskRig({ targetProfit: 500 });
    win.inp.position[0] = 0.1;
    win.inp.realizedPnl = 500;
    expect(win.limit(BUY, 0.1, 50_000)).toBe(RejectReason.TargetProfit);
    expect(win.limit(SELL, 0.1, 50_000, true)).toBe(RejectReason.None);
    // resuming re-bases: another 500 is needed
    win.risk.setState(TradingState.Active);
    win.inp.realizedPnl = 999;
    expect(win.limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    win.inp.realizedPnl = 1_000;
    expect(win.limit(BUY, 0.1, 50_000)).toBe(RejectReason.TargetProfit);
  });

  it('consecutive losses pause entries for the configured time (a win resets the streak)', () => {
    const { risk, inp, limit } = riskRig({ maxConsecutiveLosses: 3, lossPauseMs: 15 * 60_000 });
    risk.onRoundTrip(-1, T0);
    risk.onRoundTrip(-1, T0);
    risk.onRoundTrip(2, T0);
    risk.onRoundTrip(-1, T0);
    risk.onRoundTrip(-1, T0);
    expect(risk.consecutiveLosses).toBe(2);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    risk.onRoundTrip(-1, T0 + 1000);
    expect(risk.pausedUntilMs).toBe(T0 + 1000 + 900_000);
    expect(risk.pauses).toBe(1);
    expect(risk.state).toBe(TradingState.Active);
    inp.eventTimeMs = T0 + 900_999;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.LossStreakPause);
    inp.position[0] = 0.1;
    expect(limit(SELL, 0.1, 50_000)).toBe(RejectReason.None); // exits pass
    inp.eventTimeMs = T0 + 901_000;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(risk.rejectCounts().lossStreak).toBe(1);
  });

  it('consecutive losses without a pause time: REDUCE_ONLY until an operator resumes', () => {
    const { risk, limit } = riskRig({ maxConsecutiveLosses: 2 });
    risk.onRoundTrip(-5, T0);
    risk.onRoundTrip(-5, T0);
    expect(risk.state).toBe(TradingState.ReduceOnly);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.LossStreakPause);
    risk.setState(TradingState.Active);
    expect(risk.consecutiveLosses).toBe(0);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
  });

  it('losing round trips per UTC day stop entries until the next day', () => {
    const { risk, inp, limit } = riskRig({ maxLossesPerDay: 3 });
    risk.onRoundTrip(-1, T0 + 10);
    risk.onRoundTrip(3, T0 + 20);
    risk.onRoundTrip(-1, T0 + 30);
    risk.onRoundTrip(0, T0 + 35); // break-even is not a loss
    expect(risk.state).toBe(TradingState.Active);
    risk.onRoundTrip(-1, T0 + 40);
    expect(risk.state).toBe(TradingState.ReduceOnly);
    expect(risk.stateCause).toBe(RejectReason.MaxLossesPerDay);
    inp.eventTimeMs = T0 + 50;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.MaxLossesPerDay);
    inp.eventTimeMs = T0 + DAY;
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    expect(risk.lossesToday).toBe(0);
  });

  it('an automatic change never loosens the state; the more severe breach wins', () => {
    const { risk, inp } = riskRig({ dailyLossLimit: 100, maxDrawdownFraction: 0.5 });
    risk.setState(TradingState.Halted);
    inp.equity = 9_000;
    risk.update(inp);
    expect(risk.state).toBe(TradingState.Halted);
    expect(risk.stateCause).toBe(RejectReason.None);

    const b = riskRig({ dailyLossLimit: 100, maxDrawdownFraction: 0.1 });
    b.risk.update(b.inp);
    b.inp.equity = 9_900;
    b.risk.update(b.inp);
    expect(b.risk.state).toBe(TradingState.ReduceOnly);
    b.inp.equity = 9_000;
    b.risk.update(b.inp);
    expect(b.risk.state).toBe(TradingState.Halted);
    expect(b.risk.stateCause).toBe(RejectReason.MaxDrawdown);
    // a new day does not lift a HALT
    b.inp.eventTimeMs = T0 + DAY;
    b.risk.update(b.inp);
    expect(b.risk.state).toBe(TradingState.Halted);
  });
});

describe('RiskEngine: configuration and cost', () => {
  it('every rule off passes any well-formed order', () => {
    const { risk, inp, limit, market } = riskRig({});
    inp.bookLive.fill(0);
    inp.equity = NaN;
    inp.venueLatencyMs = 1e9;
    expect(limit(BUY, 1e6, 1)).toBe(RejectReason.None);
    expect(market(SELL, 1e6)).toBe(RejectReason.None);
    expect(risk.passes).toBe(2);
  });

  it('re-configuring keeps the rate window of an unchanged limit', () => {
    const cfg: RiskConfig = { ...RISK_OFF, maxOrdersPerSecond: 1 };
    const { risk, limit } = riskRig(cfg);
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.None);
    risk.configure({ ...cfg, maxOrderQty: 5 });
    expect(limit(BUY, 0.1, 50_000)).toBe(RejectReason.OrderRatePerSecond);
  });

  it('a check allocates nothing in the steady state (every rule on)', () => {
    // Measured in a plain Node process on the compiled engine (dist/), as the strategy worker runs it: inside
    // vitest the harness's own transformed code can box numbers, which is the harness, not the engine.
    const dist = join(PROJECT_ROOT, 'dist/src/risk/RiskEngine.js');
    if (!existsSync(dist)) {
      console.warn('skipped: dist/ is not built (npm test builds it first)');
      return;
    }
    const url = (p: string): string => pathToFileURL(join(PROJECT_ROOT, p)).href;
    const script = `
      const { RiskEngine } = await import(${JSON.stringify(url('dist/src/risk/RiskEngine.js'))});
      const { RiskInputs } = await import(${JSON.stringify(url('dist/src/risk/RiskInputs.js'))});
      const { RISK_OFF } = await import(${JSON.stringify(url('dist/src/risk/RiskConfig.js'))});
      const { OrderRequest } = await import(${JSON.stringify(url('dist/src/strategy/Strategy.js'))});
      const risk = new RiskEngine({ ...RISK_OFF, maxOrderQty: 10, maxOrderNotional: 1e9, maxPositionQty: 1e6, maxPositionNotional: 1e12, maxTotalNotional: 1e12, maxOpenOrders: 1000,
        maxOpenOrdersPerSymbol: 1000, maxOrdersPerSecond: 10000, maxOrdersPer10s: 100000, maxOrdersPerMinute: 100000, priceBandBps: 500, minSpreadBps: 1,
        maxSlippageBps: 50, requireLiveBook: true, maxVenueLatencyMs: 100, dailyLossLimit: 1e6, maxDrawdownFraction: 0.9, maxConsecutiveLosses: 1000,
        maxTradesPerMinute: 100000, maxTradesPerDay: 10000000, leverage: 5, maxLeverage: 100, maxOrderMarginFraction: 1, maxCapitalUsage: 1 });
      const inp = new RiskInputs(2);
      inp.bid[0] = 49990; inp.ask[0] = 50010; inp.bid[1] = 2999; inp.ask[1] = 3001; inp.bookLive.fill(1); inp.equity = 1e9;
      const req = new OrderRequest();
      function run(n, t0) {
        let ok = 0;
        for (let i = 0; i < n; i++) {
          inp.eventTimeMs = t0 + i;
          req.symbolId = i & 1; req.side = (i & 2) === 0 ? 1 : -1; req.type = 2; req.tif = 1;
          req.price = (i & 1) === 0 ? 50000 : 3000; req.qty = 0.01; req.reduceOnly = false;
          if (risk.check(req, req.symbolId, inp) === 0) ok++;
        }
        return ok;
      }
      let t0 = ${T0};
      let passed = run(200000, t0); t0 += 200000;
      let least = Infinity;
      for (let r = 0; r < 5; r++) {
        gc();
        const before = process.memoryUsage().heapUsed;
        passed += run(1000000, t0); t0 += 1000000;
        least = Math.min(least, process.memoryUsage().heapUsed - before);
      }
      console.log(JSON.stringify({ passed, least }));
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { passed: number; least: number };
    expect(out.passed).toBe(5_200_000);
    // 1M checks allocating even 8 bytes each would be 8 MB
    expect(out.least).toBeLessThan(1024 * 1024);
  });
});
