import { formatRatio, formatScaled, formatScaledBig } from '../../core/decimal.js';
import type { Instrument } from '../instruments.js';
import type { BookTickerEvent, DepthEvent, DepthSnapshot, MarketEvent, TradeEvent } from '../market/types.js';
import type { SimOrder } from '../Venue.js';

/*
 * Binance USD-M wire shapes. Market events are built as strings by hand (they are the hot path of the
 * simulator: up to 200k/s) with the key order seen in real frames.
 */

/** `<symbol>@bookTicker` payload; keys in the real order e,u,s,b,B,a,A,T,E. */
export function bookTickerJson(ev: BookTickerEvent, inst: Instrument): string {
  return (
    `{"e":"bookTicker","u":${ev.u},"s":"${inst.symbol}","b":"${inst.priceStr(ev.bid)}","B":"${inst.qtyStr(ev.bidQty)}",` +
    `"a":"${inst.priceStr(ev.ask)}","A":"${inst.qtyStr(ev.askQty)}","T":${ev.time},"E":${ev.time}}`
  );
}

/** `<symbol>@aggTrade` payload; key order as in real frames: e,E,a,s,p,q,f,l,T,m. */
export function aggTradeJson(ev: TradeEvent, inst: Instrument): string {
  return (
    `{"e":"aggTrade","E":${ev.time},"a":${ev.id},"s":"${inst.symbol}","p":"${inst.priceStr(ev.price)}",` +
    `"q":"${inst.qtyStr(ev.qty)}","f":${ev.firstTradeId},"l":${ev.lastTradeId},"T":${ev.time},"m":${ev.buyerMaker}}`
  );
}

/** `<symbol>@depth[@100ms]` diff payload; key order e,E,T,s,U,u,pu,b,a. */
export function depthUpdateJson(ev: DepthEvent, inst: Instrument): string {
  return (
    `{"e":"depthUpdate","E":${ev.time},"T":${ev.time},"s":"${inst.symbol}","U":${ev.U},"u":${ev.u},"pu":${ev.pu},` +
    `"b":${levelsJson(ev.bids, inst)},"a":${levelsJson(ev.asks, inst)}}`
  );
}

function levelsJson(flat: number[], inst: Instrument): string {
  if (flat.length === 0) return '[]';
  let s = '[';
  for (let i = 0; i < flat.length; i += 2) {
    if (i > 0) s += ',';
    s += `["${inst.priceStr(flat[i]!)}","${inst.qtyStr(flat[i + 1]!)}"]`;
  }
  return s + ']';
}

export function eventJson(ev: MarketEvent, inst: Instrument): string {
  switch (ev.kind) {
    case 'bookTicker':
      return bookTickerJson(ev, inst);
    case 'trade':
      return aggTradeJson(ev, inst);
    case 'depth':
      return depthUpdateJson(ev, inst);
  }
}

/** `GET /fapi/v1/depth` body. */
export function depthSnapshotJson(snap: DepthSnapshot, inst: Instrument): string {
  const side = (lv: Array<[number, number]>): string =>
    '[' + lv.map(([t, q]) => `["${inst.priceStr(t)}","${inst.qtyStr(q)}"]`).join(',') + ']';
  return `{"lastUpdateId":${snap.lastUpdateId},"E":${snap.time},"T":${snap.time},"bids":${side(snap.bids)},"asks":${side(snap.asks)}}`;
}

/** Average fill price: exact when short, else 8 decimals; "0.00"-style (price decimals) when nothing filled. */
export function avgPriceStr(o: SimOrder): string {
  const inst = o.inst;
  if (o.executedQty === 0) return formatScaled(0, inst.priceDecimals);
  return formatRatio(o.cumQuote, BigInt(o.executedQty * inst.stepUnits), inst.priceDecimals, inst.priceDecimals, Math.max(8, inst.priceDecimals));
}

/** The order object of `POST /fapi/v1/order` (and cancel/query), in the real key order. */
export function orderObject(o: SimOrder, ack: boolean, withTime = false): Record<string, unknown> {
  const inst = o.inst;
  const zeroPrice = formatScaled(0, inst.priceDecimals);
  const executed = ack ? 0 : o.executedQty;
  const out: Record<string, unknown> = {
    orderId: o.orderId,
    symbol: inst.symbol,
    status: ack ? 'NEW' : o.status,
    clientOrderId: o.clientOrderId,
    price: o.type === 'MARKET' ? zeroPrice : inst.priceStr(o.price),
    avgPrice: ack ? zeroPrice : avgPriceStr(o),
    origQty: inst.qtyStr(o.qty),
    executedQty: inst.qtyStr(executed),
    cumQty: inst.qtyStr(executed),
    cumQuote: formatScaledBig(ack ? 0n : o.cumQuote, inst.priceDecimals + inst.qtyDecimals),
    timeInForce: o.timeInForce,
    type: o.type,
    reduceOnly: o.reduceOnly,
    closePosition: false,
    side: o.side,
    positionSide: o.positionSide,
    stopPrice: zeroPrice,
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: o.type,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'NONE',
    goodTillDate: o.goodTillDate,
  };
  if (withTime) out['time'] = o.time;
  out['updateTime'] = ack ? o.time : o.updateTime;
  return out;
}

export function orderJson(o: SimOrder, ack: boolean): string {
  return JSON.stringify(orderObject(o, ack));
}

export const RATE_LIMITS = [
  { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
  { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
  { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
] as const;

/** `GET /fapi/v1/exchangeInfo` body. */
export function exchangeInfoJson(instruments: readonly Instrument[], now: number): string {
  const assets = new Set<string>();
  for (const i of instruments) {
    assets.add(i.spec.quoteAsset);
    assets.add(i.spec.baseAsset);
  }
  return JSON.stringify({
    timezone: 'UTC',
    serverTime: now,
    futuresType: 'U_MARGINED',
    rateLimits: RATE_LIMITS,
    exchangeFilters: [],
    assets: [...assets].map((a) => ({ asset: a, marginAvailable: a === 'USDT' || a === 'BTC' || a === 'ETH', autoAssetExchange: a === 'USDT' ? '-10000' : '0' })),
    symbols: instruments.map((i) => {
      const s = i.spec;
      return {
        symbol: s.symbol,
        pair: s.symbol,
        contractType: 'PERPETUAL',
        deliveryDate: 4133404800000,
        onboardDate: 1569398400000,
        status: 'TRADING',
        maintMarginPercent: '2.5000',
        requiredMarginPercent: '5.0000',
        baseAsset: s.baseAsset,
        quoteAsset: s.quoteAsset,
        marginAsset: s.quoteAsset,
        pricePrecision: i.priceDecimals,
        quantityPrecision: i.qtyDecimals,
        baseAssetPrecision: 8,
        quotePrecision: 8,
        underlyingType: 'COIN',
        underlyingSubType: [],
        settlePlan: 0,
        triggerProtect: '0.0500',
        liquidationFee: '0.012500',
        marketTakeBound: '0.05',
        maxMoveOrderLimit: 10000,
        filters: [
          { minPrice: s.minPrice, maxPrice: s.maxPrice, filterType: 'PRICE_FILTER', tickSize: s.tickSize },
          { stepSize: s.stepSize, filterType: 'LOT_SIZE', maxQty: s.maxQty, minQty: s.minQty },
          { stepSize: s.stepSize, filterType: 'MARKET_LOT_SIZE', maxQty: s.marketMaxQty ?? s.maxQty, minQty: s.minQty },
          { limit: 200, filterType: 'MAX_NUM_ORDERS' },
          { limit: 10, filterType: 'MAX_NUM_ALGO_ORDERS' },
          { notional: s.minNotional, filterType: 'MIN_NOTIONAL' },
          { multiplierDown: '0.9500', multiplierUp: '1.0500', multiplierDecimal: '4', filterType: 'PERCENT_PRICE' },
        ],
        // Only what the simulator executes (the real venue also lists the conditional types).
        orderTypes: ['LIMIT', 'MARKET'],
        timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
      };
    }),
  });
}
