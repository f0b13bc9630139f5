import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Rounding,
  checkOrder,
  exceedsOpenOrderCap,
  formatPrice,
  formatQty,
  instrumentOf,
  parseExchangeInfoFilters,
  parseSymbolFilters,
  priceToTicks,
  qtyToSteps,
  type CheckOutcome,
  type ExchangeInfo,
  type ExchangeInfoSymbol,
  type SymbolFilters,
} from '../src/venues/binance/filters.js';
import { OrderType, RejectReason, Side } from '../src/ring/layout.js';
import { makeInstrument } from '../src/core/Instrument.js';
import { HAVE_SHARED_FIXTURES, fixturePath } from './helpers/fixtures.js';

const BUY = Side.Buy;
const SELL = Side.Sell;
const LIMIT = OrderType.Limit;
const MARKET = OrderType.Market;

function sym(symbol: string, filters: ExchangeInfoSymbol['filters']): SymbolFilters {
  return parseSymbolFilters({ symbol, filters });
}

describe.skipIf(!HAVE_SHARED_FIXTURES)('exchangeInfo filters: real exchangeInfo.json', () => {
  const info = HAVE_SHARED_FIXTURES ? (JSON.parse(readFileSync(fixturePath('binance-usdm/exchangeInfo.json'), 'utf8')) as ExchangeInfo) : { symbols: [] };
  const all = parseExchangeInfoFilters(info);
  const btc = all.get('BTCUSDT')!;
  const sushi = all.get('SUSHIUSDT')!;
  const ctk = all.get('CTKUSDT')!;
  const akro = all.get('AKROUSDT')!;

  it('parses every symbol into integer terms', () => {
    expect([...all.keys()]).toEqual(['BTCUSDT', 'ETHUSDT', 'SUSHIUSDT', 'CTKUSDT', 'AKROUSDT', 'KEEPUSDT']);
    expect(btc).toMatchObject({
      priceScale: 2,
      tickUnits: 1,
      tickCheck: true,
      minPriceUnits: 55672,
      maxPriceUnits: 100000000,
      qtyScale: 3,
      stepUnits: 1,
      lot: { minUnits: 1, maxUnits: 1000000, stepUnits: 1 },
      marketLot: { minUnits: 1, maxUnits: 1000000, stepUnits: 1 },
      notionalScale: 5,
      minNotionalUnits: 500000,
      // "1.1500" is 115 hundredths: trailing zeros carry no precision
      multScale: 2,
      multUpUnits: 115,
      multDownUnits: 85,
      maxNumOrders: 200,
      maxNumAlgoOrders: 10,
      status: 'TRADING',
    });
    // "0.0010" is a tick of 0.001: three decimals, one unit
    expect(sushi).toMatchObject({ priceScale: 3, tickUnits: 1, tickDecimals: 3, minPriceUnits: 143, qtyScale: 0, stepUnits: 1 });
    expect(sushi.lot.maxUnits).toBe(10000000);
    expect(sushi.marketLot.maxUnits).toBe(100000);
    expect(ctk).toMatchObject({ priceScale: 3, tickUnits: 1, minPriceUnits: 26, maxPriceUnits: 100000 });
    expect(akro).toMatchObject({ priceScale: 5, tickUnits: 1, minPriceUnits: 48 });
  });

  it('BTCUSDT price filter: minPrice 556.72 and maxPrice 1000000 are inclusive bounds', () => {
    const qty = 1000; // 1.000 BTC: notional never the issue here
    expect(checkOrder(btc, BUY, LIMIT, 55672, qty, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(btc, BUY, LIMIT, 55671, qty, undefined, false)).toBe(RejectReason.PriceFilter);
    expect(checkOrder(btc, SELL, LIMIT, 100000000, qty, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(btc, SELL, LIMIT, 100000001, qty, undefined, false)).toBe(RejectReason.PriceFilter);
    expect(checkOrder(btc, BUY, LIMIT, 0, qty, undefined, false)).toBe(RejectReason.PriceFilter);
    expect(checkOrder(btc, BUY, LIMIT, 5000000.5, qty, undefined, false)).toBe(RejectReason.PriceFilter);
    const out: CheckOutcome = { reason: RejectReason.None, text: '' };
    checkOrder(btc, BUY, LIMIT, 55671, qty, undefined, false, out);
    expect(out).toEqual({ reason: RejectReason.PriceFilter, text: 'price below minPrice' });
  });

  it('BTCUSDT lot size: 0.001..1000 in steps of 0.001', () => {
    const px = 5000000; // 50000.00
    expect(checkOrder(btc, BUY, LIMIT, px, 1, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(btc, BUY, LIMIT, px, 1000000, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(btc, BUY, LIMIT, px, 1000001, undefined, false)).toBe(RejectReason.LotSize);
    expect(checkOrder(btc, BUY, LIMIT, px, 0, undefined, false)).toBe(RejectReason.LotSize);
    expect(checkOrder(btc, BUY, LIMIT, px, -3, undefined, false)).toBe(RejectReason.LotSize);
    expect(checkOrder(btc, BUY, LIMIT, px, 2.5, undefined, false)).toBe(RejectReason.LotSize);
  });

  it('BTCUSDT MIN_NOTIONAL 5: price x qty >= 5 exactly, reduce-only exempt, MARKET valued at the mark', () => {
    // 5000.00 x 0.001 = 5.00000: exactly at the minimum
    expect(checkOrder(btc, BUY, LIMIT, 500000, 1, undefined, false)).toBe(RejectReason.None);
    // 4999.99 x 0.001 = 4.99999
    expect(checkOrder(btc, BUY, LIMIT, 499999, 1, undefined, false)).toBe(RejectReason.MinNotional);
    expect(checkOrder(btc, BUY, LIMIT, 499999, 1, undefined, true)).toBe(RejectReason.None);
    // 556.72 x 0.008 = 4.45376 < 5; x 0.009 = 5.01048
    expect(checkOrder(btc, SELL, LIMIT, 55672, 8, undefined, false)).toBe(RejectReason.MinNotional);
    expect(checkOrder(btc, SELL, LIMIT, 55672, 9, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(btc, BUY, MARKET, 0, 1, 500000, false)).toBe(RejectReason.None);
    expect(checkOrder(btc, BUY, MARKET, 0, 1, 499999, false)).toBe(RejectReason.MinNotional);
    expect(checkOrder(btc, BUY, MARKET, 0, 1, 499999, true)).toBe(RejectReason.None);
    // mark unknown: a MARKET order's notional cannot be judged here
    expect(checkOrder(btc, BUY, MARKET, 0, 1, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(btc, BUY, MARKET, 0, 1, 0, false)).toBe(RejectReason.None);
  });

  it('BTCUSDT PERCENT_PRICE 1.15 / 0.85 around the mark, inclusive', () => {
    const mark = 5000000; // 50000.00
    const q = 1;
    expect(checkOrder(btc, BUY, LIMIT, 5750000, q, mark, false)).toBe(RejectReason.None); // 57500.00 = mark x 1.15
    expect(checkOrder(btc, BUY, LIMIT, 5750001, q, mark, false)).toBe(RejectReason.PercentPrice);
    expect(checkOrder(btc, SELL, LIMIT, 4250000, q, mark, false)).toBe(RejectReason.None); // 42500.00 = mark x 0.85
    expect(checkOrder(btc, SELL, LIMIT, 4249999, q, mark, false)).toBe(RejectReason.PercentPrice);
    // the bound is one-sided per side
    expect(checkOrder(btc, SELL, LIMIT, 5750001, q, mark, false)).toBe(RejectReason.None);
    expect(checkOrder(btc, BUY, LIMIT, 4249999, q, mark, false)).toBe(RejectReason.None);
    // no mark, no check
    expect(checkOrder(btc, BUY, LIMIT, 5750001, q, undefined, false)).toBe(RejectReason.None);
    // a mark with a remainder: 50000.01 x 1.15 = 57500.0115 -> 57500.01 passes, 57500.02 does not
    expect(checkOrder(btc, BUY, LIMIT, 5750001, q, 5000001, false)).toBe(RejectReason.None);
    expect(checkOrder(btc, BUY, LIMIT, 5750002, q, 5000001, false)).toBe(RejectReason.PercentPrice);
    const out: CheckOutcome = { reason: RejectReason.None, text: '' };
    checkOrder(btc, SELL, LIMIT, 4249999, q, mark, false, out);
    expect(out.text).toBe('sell price below mark * multiplierDown');
  });

  it('SUSHIUSDT: tick 0.0010, step 1, MARKET_LOT_SIZE max 100000 vs LOT_SIZE max 10000000', () => {
    // 5.000 x 1 = 5: at the minimum; 4.999 x 1 below
    expect(checkOrder(sushi, BUY, LIMIT, 5000, 1, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(sushi, BUY, LIMIT, 4999, 1, undefined, false)).toBe(RejectReason.MinNotional);
    expect(checkOrder(sushi, BUY, LIMIT, 143, 35, undefined, false)).toBe(RejectReason.None); // 0.143 x 35 = 5.005
    expect(checkOrder(sushi, BUY, LIMIT, 142, 100, undefined, false)).toBe(RejectReason.PriceFilter);
    expect(checkOrder(sushi, BUY, LIMIT, 5000, 100001, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(sushi, BUY, MARKET, 0, 100000, 5000, false)).toBe(RejectReason.None);
    expect(checkOrder(sushi, BUY, MARKET, 0, 100001, 5000, false)).toBe(RejectReason.LotSize);
    expect(checkOrder(sushi, SELL, OrderType.StopMarket, 4000, 100001, undefined, true)).toBe(RejectReason.LotSize);
    expect(checkOrder(sushi, SELL, OrderType.StopMarket, 4000, 10, undefined, true)).toBe(RejectReason.None);
    expect(checkOrder(sushi, SELL, OrderType.StopMarket, 100, 10, undefined, true)).toBe(RejectReason.PriceFilter);
    // trailing stop without an activation price: no price to check
    expect(checkOrder(sushi, SELL, OrderType.TrailingStopMarket, 0, 10, undefined, true)).toBe(RejectReason.None);
  });

  it('writes prices and quantities with the filter\'s own decimals', () => {
    expect(formatPrice(btc, 5000000)).toBe('50000.00');
    expect(formatPrice(btc, 55672)).toBe('556.72');
    expect(formatQty(btc, 15)).toBe('0.015');
    expect(formatPrice(sushi, 5000)).toBe('5.000');
    expect(formatQty(sushi, 12)).toBe('12');
    expect(formatPrice(ctk, 26)).toBe('0.026');
    expect(formatPrice(akro, 48)).toBe('0.00048');
  });

  it('matches core/Instrument for the engine (same grid)', () => {
    expect(instrumentOf(btc)).toEqual(makeInstrument('BTCUSDT', '0.01', '0.001', '0.001', '5'));
    expect(instrumentOf(sushi)).toEqual(makeInstrument('SUSHIUSDT', '0.0010', '1', '1', '5'));
  });

  it('open-order caps: MAX_NUM_ORDERS counts algo orders too, MAX_NUM_ALGO_ORDERS only those', () => {
    expect(exceedsOpenOrderCap(btc, 199, 0, false)).toBe(false);
    expect(exceedsOpenOrderCap(btc, 200, 0, false)).toBe(true);
    expect(exceedsOpenOrderCap(btc, 190, 10, false)).toBe(true);
    expect(exceedsOpenOrderCap(btc, 0, 9, true)).toBe(false);
    expect(exceedsOpenOrderCap(btc, 0, 10, true)).toBe(true);
    expect(exceedsOpenOrderCap(btc, 0, 10, false)).toBe(false);
  });
});

describe('exchangeInfo filters: variants and edge cases', () => {
  it('"0" disables a bound; a tickSize "0" disables the tick check', () => {
    const f = sym('X', [
      { filterType: 'PRICE_FILTER', minPrice: '0', maxPrice: '0', tickSize: '0.01' },
      { filterType: 'LOT_SIZE', minQty: '0', maxQty: '0', stepSize: '0.1' },
      { filterType: 'MIN_NOTIONAL', notional: '0' },
    ]);
    expect(f.maxPriceUnits).toBe(Number.POSITIVE_INFINITY);
    expect(f.lot.maxUnits).toBe(Number.POSITIVE_INFINITY);
    // no MARKET_LOT_SIZE: LOT_SIZE applies to MARKET orders as well
    expect(f.marketLot).toEqual(f.lot);
    expect(checkOrder(f, BUY, LIMIT, 1, 1, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(f, BUY, LIMIT, 4e15, 9e14, undefined, false)).toBe(RejectReason.None);
    const g = sym('Y', [
      { filterType: 'PRICE_FILTER', minPrice: '0.05', maxPrice: '100', tickSize: '0' },
      { filterType: 'LOT_SIZE', minQty: '1', maxQty: '100', stepSize: '1' },
    ]);
    expect(g.tickCheck).toBe(false);
    expect(g.tickUnits).toBe(1);
    expect(checkOrder(g, BUY, LIMIT, 7, 1, undefined, false)).toBe(RejectReason.None); // 0.07
    expect(checkOrder(g, BUY, LIMIT, 4, 1, undefined, false)).toBe(RejectReason.PriceFilter); // 0.04 < 0.05
  });

  it('reads the older MIN_NOTIONAL field name `minNotional`', () => {
    const f = sym('OLD', [
      { filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '1000', tickSize: '0.01' },
      { filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '100', stepSize: '0.001' },
      { filterType: 'MIN_NOTIONAL', minNotional: '10' },
    ]);
    expect(f.minNotionalUnits).toBe(10 * 10 ** 5);
    expect(checkOrder(f, BUY, LIMIT, 100000, 10, undefined, false)).toBe(RejectReason.None); // 1000.00 x 0.010 = 10
    expect(checkOrder(f, BUY, LIMIT, 99999, 10, undefined, false)).toBe(RejectReason.MinNotional);
  });

  it('a minPrice off the tick grid makes every tick-multiple price fail, as (price - minPrice) % tick != 0 on the venue', () => {
    const f = sym('OFF', [
      { filterType: 'PRICE_FILTER', minPrice: '0.015', maxPrice: '10', tickSize: '0.01' },
      { filterType: 'LOT_SIZE', minQty: '1', maxQty: '100', stepSize: '1' },
    ]);
    expect(f.priceScale).toBe(3);
    expect(f.tickUnits).toBe(10);
    expect(checkOrder(f, BUY, LIMIT, 5, 1, undefined, false)).toBe(RejectReason.PriceFilter);
  });

  it('a MARKET_LOT_SIZE step coarser than LOT_SIZE is enforced on MARKET orders only', () => {
    const f = sym('MS', [
      { filterType: 'PRICE_FILTER', minPrice: '1', maxPrice: '1000', tickSize: '1' },
      { filterType: 'LOT_SIZE', minQty: '0.1', maxQty: '100', stepSize: '0.1' },
      { filterType: 'MARKET_LOT_SIZE', minQty: '1', maxQty: '10', stepSize: '1' },
    ]);
    expect(checkOrder(f, BUY, LIMIT, 10, 15, undefined, false)).toBe(RejectReason.None); // 1.5
    expect(checkOrder(f, BUY, MARKET, 0, 15, undefined, false)).toBe(RejectReason.LotSize); // 1.5 not on the 1-grid
    expect(checkOrder(f, BUY, MARKET, 0, 20, undefined, false)).toBe(RejectReason.None);
    expect(checkOrder(f, BUY, MARKET, 0, 5, undefined, false)).toBe(RejectReason.LotSize); // 0.5 < 1
  });

  it('PERCENT_PRICE stays exact when the products pass 2^53', () => {
    // price 99999999948.33 vs mark 86948960914.99 x 1.1501: in units of 10^-6, price x 10^4 exceeds
    // mark x up by exactly 1 at ~1e17, where binary floats (ulp 16) see no difference.
    const f = sym('BIG', [
      { filterType: 'PRICE_FILTER', minPrice: '0', maxPrice: '0', tickSize: '0.01' },
      { filterType: 'LOT_SIZE', minQty: '1', maxQty: '0', stepSize: '1' },
      { filterType: 'PERCENT_PRICE', multiplierUp: '1.1501', multiplierDown: '0.5', multiplierDecimal: '4' },
    ]);
    const P = 9999999994833;
    const M = 8694896091499;
    expect(10_000 * P).toBe(11501 * M); // as floats they look equal ...
    expect(BigInt(P) * 10_000n - BigInt(M) * 11501n).toBe(1n); // ... but are not
    expect(checkOrder(f, BUY, LIMIT, P, 1, M, false)).toBe(RejectReason.PercentPrice);
    expect(checkOrder(f, BUY, LIMIT, P - 1, 1, M, false)).toBe(RejectReason.None);
  });

  it('a symbol that is not TRADING is NotReady', () => {
    const f = parseSymbolFilters({
      symbol: 'SETTLING',
      status: 'SETTLING',
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '1000', tickSize: '0.01' },
        { filterType: 'LOT_SIZE', minQty: '1', maxQty: '100', stepSize: '1' },
      ],
    });
    expect(f.trading).toBe(false);
    const out: CheckOutcome = { reason: RejectReason.None, text: '' };
    expect(checkOrder(f, BUY, LIMIT, 100, 1, undefined, true, out)).toBe(RejectReason.NotReady);
    expect(out.text).toBe('symbol is not TRADING');
  });

  it('rejects malformed filter decimals at parse time', () => {
    expect(() => sym('BAD', [{ filterType: 'PRICE_FILTER', minPrice: '1e-3', maxPrice: '10', tickSize: '0.01' }])).toThrow(/BAD: minPrice/);
  });
});

describe('float -> ticks/steps', () => {
  const f = sym('BTCUSDT', [
    { filterType: 'PRICE_FILTER', minPrice: '556.72', maxPrice: '1000000', tickSize: '0.01' },
    { filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '1000', stepSize: '0.001' },
  ]);
  const coarse = sym('COARSE', [
    { filterType: 'PRICE_FILTER', minPrice: '0', maxPrice: '0', tickSize: '0.50' },
    { filterType: 'LOT_SIZE', minQty: '5', maxQty: '0', stepSize: '5' },
  ]);

  it('rounds down, up and to nearest on the grid', () => {
    expect(priceToTicks(f, 50000.004, Rounding.Down)).toBe(5000000);
    expect(priceToTicks(f, 50000.004, Rounding.Up)).toBe(5000001);
    expect(priceToTicks(f, 50000.004, Rounding.Nearest)).toBe(5000000);
    expect(priceToTicks(f, 50000.006, Rounding.Nearest)).toBe(5000001);
    expect(qtyToSteps(f, 0.0014, Rounding.Nearest)).toBe(1);
    expect(qtyToSteps(f, 0.0016, Rounding.Nearest)).toBe(2);
    expect(qtyToSteps(f, 0.0016, Rounding.Down)).toBe(1);
    // multi-unit ticks: 0.50 per tick
    expect(priceToTicks(coarse, 10.2, Rounding.Down)).toBe(20);
    expect(priceToTicks(coarse, 10.2, Rounding.Up)).toBe(21);
    expect(priceToTicks(coarse, 10.25, Rounding.Nearest)).toBe(21); // 20.5 -> away from zero
    expect(qtyToSteps(coarse, 12, Rounding.Down)).toBe(2);
    expect(qtyToSteps(coarse, 12, Rounding.Up)).toBe(3);
  });

  it('float noise does not move a value off its grid point in any mode', () => {
    // 0.1 + 0.2 = 0.30000000000000004; x 1000 = 300.00000000000006
    for (const m of [Rounding.Down, Rounding.Up, Rounding.Nearest]) {
      expect(qtyToSteps(f, 0.1 + 0.2, m)).toBe(300);
      // 100.07 x 100 = 10006.999999999998 in floats
      expect(priceToTicks(f, 100.07, m)).toBe(10007);
      expect(priceToTicks(f, 0.07 * 3, m)).toBe(21);
      expect(priceToTicks(f, 123456.78, m)).toBe(12345678);
    }
    expect(formatPrice(f, priceToTicks(f, 100.07, Rounding.Down))).toBe('100.07');
    expect(formatQty(f, qtyToSteps(f, 0.1 + 0.2, Rounding.Up))).toBe('0.300');
  });

  it('non-finite input gives NaN, which checkOrder rejects', () => {
    expect(priceToTicks(f, Number.NaN, Rounding.Down)).toBeNaN();
    expect(qtyToSteps(f, Number.POSITIVE_INFINITY, Rounding.Up)).toBeNaN();
    expect(checkOrder(f, BUY, LIMIT, Number.NaN, 1, undefined, false)).toBe(RejectReason.PriceFilter);
    expect(checkOrder(f, BUY, LIMIT, 5000000, Number.NaN, undefined, false)).toBe(RejectReason.LotSize);
  });
});
