import { formatRatio, formatScaled, formatScaledBig } from '../../core/decimal.js';
import type { Instrument } from '../instruments.js';
import type { Kline } from '../market/Klines.js';
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

/**
 * `<symbol>@trade` payloads of one aggregate (e,E,T,s,t,p,q,X,m as in real frames): its quantity split
 * over its trade ids as evenly as steps allow (ids beyond the quantity in steps are left unused).
 */
export function tradeJsons(ev: TradeEvent, inst: Instrument): string[] {
  const ids = ev.lastTradeId - ev.firstTradeId + 1;
  const n = Math.max(1, Math.min(ids, ev.qty));
  const base = Math.floor(ev.qty / n);
  const out: string[] = [];
  const head = `{"e":"trade","E":${ev.time},"T":${ev.time},"s":"${inst.symbol}","t":`;
  const tail = `","X":"MARKET","m":${ev.buyerMaker}}`;
  const p = inst.priceStr(ev.price);
  for (let i = 0; i < n; i++) {
    const q = i === n - 1 ? ev.qty - base * (n - 1) : base;
    out.push(`${head}${ev.firstTradeId + i},"p":"${p}","q":"${inst.qtyStr(q)}${tail}`);
  }
  return out;
}

/** `<symbol>@depth<N>` partial-book payload: the depthUpdate shape with the top N of each side. */
export function partialDepthJson(
  inst: Instrument,
  time: number,
  U: number,
  u: number,
  pu: number,
  levels: { bids: Array<[number, number]>; asks: Array<[number, number]> },
): string {
  const side = (lv: Array<[number, number]>): string => '[' + lv.map(([t, q]) => `["${inst.priceStr(t)}","${inst.qtyStr(q)}"]`).join(',') + ']';
  return `{"e":"depthUpdate","E":${time},"T":${time},"s":"${inst.symbol}","U":${U},"u":${u},"pu":${pu},"b":${side(levels.bids)},"a":${side(levels.asks)}}`;
}

/** `<symbol>@markPrice` payload, keys as in 2026 frames: e,E,s,p,ap,P,i,r,T,st (prices with 8 decimals). */
export function markPriceJson(inst: Instrument, time: number, mark8: number, index8: number, funding8: number, nextFunding: number): string {
  const p = formatScaled(mark8, 8);
  const i = formatScaled(index8, 8);
  return `{"e":"markPriceUpdate","E":${time},"s":"${inst.symbol}","p":"${p}","ap":"${p}","P":"${i}","i":"${i}","r":"${formatScaled(funding8, 8)}","T":${nextFunding},"st":1}`;
}

/** `<symbol>@forceOrder` payload (a liquidation order that traded): e,E,o{s,S,o,f,q,p,ap,X,l,z,T}. */
export function forceOrderJson(
  inst: Instrument,
  time: number,
  side: 'BUY' | 'SELL',
  qty: number,
  priceTicks: number,
  cumQuote: bigint,
  lastQty: number,
  filled: number,
  tradeTime: number,
): string {
  const ap = formatRatio(cumQuote, BigInt(filled * inst.stepUnits), inst.priceDecimals, inst.priceDecimals, inst.priceDecimals);
  return (
    `{"e":"forceOrder","E":${time},"o":{"s":"${inst.symbol}","S":"${side}","o":"LIMIT","f":"IOC","q":"${inst.qtyStr(qty)}",` +
    `"p":"${inst.priceStr(priceTicks)}","ap":"${ap}","X":"${filled >= qty ? 'FILLED' : 'PARTIALLY_FILLED'}","l":"${inst.qtyStr(lastQty)}",` +
    `"z":"${inst.qtyStr(filled)}","T":${tradeTime}}}`
  );
}

/** `<symbol>@kline_<interval>` payload: e,E,s,k{t,T,s,i,f,L,o,c,h,l,v,n,x,q,V,Q,B}. */
export function klineJson(k: Kline, time: number): string {
  const inst = k.inst;
  const qs = inst.priceDecimals + inst.qtyDecimals;
  return (
    `{"e":"kline","E":${time},"s":"${inst.symbol}","k":{"t":${k.openTime},"T":${k.closeTime},"s":"${inst.symbol}","i":"${k.interval}",` +
    `"f":${k.first},"L":${k.last},"o":"${inst.priceStr(k.open)}","c":"${inst.priceStr(k.close)}","h":"${inst.priceStr(k.high)}",` +
    `"l":"${inst.priceStr(k.low)}","v":"${inst.qtyStr(k.volume)}","n":${k.trades},"x":${k.closed},"q":"${formatScaledBig(k.quoteVolume, qs)}",` +
    `"V":"${inst.qtyStr(k.takerBuyVolume)}","Q":"${formatScaledBig(k.takerBuyQuote, qs)}","B":"0"}}`
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

/**
 * The order object of `POST /fapi/v1/order` (and cancel), in the real key order. `withTime` gives the
 * query shape (`GET /fapi/v1/order`, `openOrders`, `openOrder`): `time` added, no `cumQty`.
 */
export function orderObject(o: SimOrder, ack: boolean, withTime = false): Record<string, unknown> {
  const inst = o.inst;
  const zeroPrice = formatScaled(0, inst.priceDecimals);
  const executed = ack ? 0 : o.executedQty;
  const t = o.trigger;
  const out: Record<string, unknown> = {
    orderId: o.orderId,
    symbol: inst.symbol,
    status: ack ? 'NEW' : o.status,
    clientOrderId: o.clientOrderId,
    price: o.type === 'MARKET' ? zeroPrice : inst.priceStr(o.price),
    avgPrice: ack ? zeroPrice : avgPriceStr(o),
    origQty: inst.qtyStr(o.qty),
    executedQty: inst.qtyStr(executed),
  };
  if (!withTime) out['cumQty'] = inst.qtyStr(executed);
  out['cumQuote'] = formatScaledBig(ack ? 0n : o.cumQuote, inst.priceDecimals + inst.qtyDecimals);
  out['timeInForce'] = o.timeInForce;
  out['type'] = o.type;
  out['reduceOnly'] = o.reduceOnly;
  out['closePosition'] = t ? t.closePosition : false;
  out['side'] = o.side;
  out['positionSide'] = o.positionSide;
  out['stopPrice'] = t ? inst.priceStr(t.stopPrice) : zeroPrice;
  out['workingType'] = t ? t.workingType : 'CONTRACT_PRICE';
  out['priceProtect'] = t ? t.priceProtect : false;
  out['origType'] = t ? t.origType : o.type;
  out['priceMatch'] = o.priceMatch;
  out['selfTradePreventionMode'] = 'NONE';
  out['goodTillDate'] = o.goodTillDate;
  if (withTime) out['time'] = o.time;
  out['updateTime'] = ack ? o.time : o.updateTime;
  return out;
}

export function orderJson(o: SimOrder, ack: boolean): string {
  return JSON.stringify(orderObject(o, ack));
}

/** exchangeInfo `rateLimits` for the venue's limits. */
export function rateLimitsJson(l: { weight1m: number; orders10s: number; orders1m: number }): Array<Record<string, unknown>> {
  return [
    { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: l.weight1m },
    { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: l.orders1m },
    { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: l.orders10s },
  ];
}

/** PERCENT_PRICE filter of every symbol (exchangeInfo), in millionths: BUY <= mark x up, SELL >= mark x down. */
export const PERCENT_PRICE_UP_PPM = 1_050_000;
export const PERCENT_PRICE_DOWN_PPM = 950_000;

/** `GET /fapi/v1/exchangeInfo` body. */
export function exchangeInfoJson(
  instruments: readonly Instrument[],
  now: number,
  limits: { weight1m: number; orders10s: number; orders1m: number } = { weight1m: 2400, orders10s: 300, orders1m: 1200 },
): string {
  const assets = new Set<string>();
  for (const i of instruments) {
    assets.add(i.spec.quoteAsset);
    assets.add(i.spec.baseAsset);
  }
  return JSON.stringify({
    timezone: 'UTC',
    serverTime: now,
    futuresType: 'U_MARGINED',
    rateLimits: rateLimitsJson(limits),
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
          {
            multiplierDown: formatScaled(PERCENT_PRICE_DOWN_PPM / 100, 4),
            multiplierUp: formatScaled(PERCENT_PRICE_UP_PPM / 100, 4),
            multiplierDecimal: '4',
            filterType: 'PERCENT_PRICE',
          },
        ],
        // Conditional types are listed as the venue does; they are placed through the algo service.
        orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
        timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
      };
    }),
  });
}
