import { parseScaled } from '../../core/decimal.js';
import type { MarketSource } from '../market/types.js';
import type { Instrument } from '../instruments.js';
import type { AlgoType, NewAlgoOrder, NewOrder, OrderType, PositionSide, PriceMatch, TimeInForce, VenueCore, WorkingType } from '../Venue.js';
import { E, type BinanceError } from './errors.js';

export type NewOrderRespType = 'ACK' | 'RESULT';

export interface ParsedNewOrder {
  order: NewOrder;
  respType: NewOrderRespType;
}

const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const SIDES = new Set(['BUY', 'SELL']);
/** Types the venue knows; the simulator executes LIMIT and MARKET only. */
const KNOWN_TYPES = new Set(['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET']);
const TIFS = new Set(['GTC', 'IOC', 'FOK', 'GTX', 'GTD']);

function present(params: Map<string, string>, k: string): string | undefined {
  const v = params.get(k);
  return v === undefined || v.length === 0 ? undefined : v;
}

/**
 * `POST /fapi/v1/order` parameters -> a venue-neutral order (integer steps/ticks), or the Binance error
 * the venue would answer: -1102 mandatory, -1121 symbol, -1117 side, -1116 type, -1115 timeInForce,
 * -1111 precision, -4003 qty <= 0, -4023 step, -4013/-4014 price, -1106 price on MARKET, -4015 client id,
 * -4061 position side (one-way mode), -1130 bad enum values.
 */
export function parseNewOrder(params: Map<string, string>, market: MarketSource, core: VenueCore): ParsedNewOrder | BinanceError {
  const symbol = present(params, 'symbol');
  if (symbol === undefined) return E.mandatory('symbol');
  const inst = market.instrument(symbol);
  if (!inst) return E.invalidSymbol();

  const side = present(params, 'side');
  if (side === undefined) return E.mandatory('side');
  if (!SIDES.has(side)) return E.invalidSide();

  const type = present(params, 'type');
  if (type === undefined) return E.mandatory('type');
  if (!KNOWN_TYPES.has(type)) return E.invalidOrderType();
  // Conditional types moved to the algo service (2025-12): the order endpoint refuses them.
  if (type !== 'LIMIT' && type !== 'MARKET') return E.algoTypeOnOrderEndpoint();

  let positionSide: PositionSide = 'BOTH';
  const ps = present(params, 'positionSide');
  if (ps !== undefined) {
    if (ps !== 'BOTH' && ps !== 'LONG' && ps !== 'SHORT') return E.invalidData('positionSide');
    if (ps !== 'BOTH') return E.positionSideMismatch();
    positionSide = ps;
  }

  let timeInForce: TimeInForce = 'GTC';
  const tif = present(params, 'timeInForce');
  if (type === 'LIMIT') {
    if (tif === undefined) return E.mandatory('timeInForce');
    if (!TIFS.has(tif)) return E.invalidTif();
    timeInForce = tif as TimeInForce;
  }

  const qtyStr = present(params, 'quantity');
  if (qtyStr === undefined) return E.mandatory('quantity');
  const qtyUnits = parseScaled(qtyStr, inst.qtyDecimals);
  if (qtyUnits === 'precision') return E.badPrecision();
  if (qtyUnits === 'malformed') return E.mandatory('quantity');
  if (qtyUnits <= 0) return E.qtyNotPositive();
  if (qtyUnits % inst.stepUnits !== 0) return E.qtyNotStep();

  let priceTicks = 0;
  const priceStr = present(params, 'price');
  if (type === 'LIMIT') {
    if (priceStr === undefined) return E.mandatory('price');
    const units = parseScaled(priceStr, inst.priceDecimals);
    if (units === 'precision') return E.badPrecision();
    if (units === 'malformed') return E.mandatory('price');
    if (units <= 0) return E.priceBelowMin();
    if (units % inst.tickUnits !== 0) return E.priceNotTick();
    priceTicks = units / inst.tickUnits;
  } else if (priceStr !== undefined) {
    return E.notRequired('price');
  }

  let goodTillDate = 0;
  if (timeInForce === 'GTD') {
    const g = present(params, 'goodTillDate');
    if (g === undefined) return E.mandatory('goodTillDate');
    if (!/^\d{1,16}$/.test(g)) return E.invalidData('goodTillDate');
    goodTillDate = Number(g);
  }

  let clientOrderId = present(params, 'newClientOrderId');
  if (clientOrderId !== undefined) {
    if (!CLIENT_ID_RE.test(clientOrderId)) return E.invalidClientOrderId();
  } else clientOrderId = core.generateClientOrderId();

  let reduceOnly = false;
  const ro = present(params, 'reduceOnly');
  if (ro !== undefined) {
    const l = ro.toLowerCase();
    if (l !== 'true' && l !== 'false') return E.invalidData('reduceOnly');
    reduceOnly = l === 'true';
  }

  let respType: NewOrderRespType = 'ACK';
  const rt = present(params, 'newOrderRespType');
  if (rt !== undefined) {
    if (rt !== 'ACK' && rt !== 'RESULT') return E.invalidData('newOrderRespType');
    respType = rt;
  }

  return {
    respType,
    order: {
      inst,
      side: side as 'BUY' | 'SELL',
      type: type as OrderType,
      timeInForce,
      qty: qtyUnits / inst.stepUnits,
      price: priceTicks,
      clientOrderId,
      reduceOnly,
      positionSide,
      goodTillDate,
    },
  };
}

/** A parsed `PUT /fapi/v1/order` / `order.modify`: the order to find and its new quantity and price. */
export interface ParsedAmendment {
  inst: Instrument;
  /** orderId prevails when both are sent. */
  orderId: number | null;
  clientOrderId: string | null;
  side: 'BUY' | 'SELL';
  /** Steps. */
  qty: number;
  /** Ticks; null when `priceMatch` prices the order from the book. */
  price: number | null;
  priceMatch: PriceMatch;
}

/** priceMatch values the venue takes (OPPONENT_10 / OPPONENT_20 are suspended since 2025-10-23). */
const PRICE_MATCHES = new Set<string>(['NONE', 'OPPONENT', 'OPPONENT_5', 'QUEUE', 'QUEUE_5', 'QUEUE_10', 'QUEUE_20']);

/**
 * `PUT /fapi/v1/order` parameters: symbol, orderId | origClientOrderId, side, quantity and price (both
 * mandatory; priceMatch may replace price but not come with it: -1106). Same precision and tick/step
 * errors as a new order.
 */
export function parseAmendOrder(params: Map<string, string>, market: MarketSource): ParsedAmendment | BinanceError {
  const symbol = present(params, 'symbol');
  if (symbol === undefined) return E.mandatory('symbol');
  const inst = market.instrument(symbol);
  if (!inst) return E.invalidSymbol();

  const idStr = present(params, 'orderId');
  const clientOrderId = present(params, 'origClientOrderId') ?? null;
  if (idStr === undefined && clientOrderId === null) return E.eitherOrderId();
  let orderId: number | null = null;
  if (idStr !== undefined) {
    if (!/^\d{1,16}$/.test(idStr)) return E.invalidData('orderId');
    orderId = Number(idStr);
  }

  const side = present(params, 'side');
  if (side === undefined) return E.mandatory('side');
  if (!SIDES.has(side)) return E.invalidSide();

  const qtyStr = present(params, 'quantity');
  if (qtyStr === undefined) return E.mandatory('quantity');
  const qtyUnits = parseScaled(qtyStr, inst.qtyDecimals);
  if (qtyUnits === 'precision') return E.badPrecision();
  if (qtyUnits === 'malformed') return E.mandatory('quantity');
  if (qtyUnits <= 0) return E.qtyNotPositive();
  if (qtyUnits % inst.stepUnits !== 0) return E.qtyNotStep();

  let priceMatch: PriceMatch = 'NONE';
  const pm = present(params, 'priceMatch');
  if (pm !== undefined) {
    if (!PRICE_MATCHES.has(pm)) return E.invalidData('priceMatch');
    priceMatch = pm as PriceMatch;
  }
  const priceStr = present(params, 'price');
  let price: number | null = null;
  if (priceMatch !== 'NONE') {
    if (priceStr !== undefined) return E.notRequired('price');
  } else {
    if (priceStr === undefined) return E.mandatory('price');
    const p = priceTicks(priceStr, inst);
    if (typeof p !== 'number') return p;
    price = p;
  }

  return { inst, orderId, clientOrderId: orderId === null ? clientOrderId : null, side: side as 'BUY' | 'SELL', qty: qtyUnits / inst.stepUnits, price, priceMatch };
}

const ALGO_TYPES = new Set(['STOP_MARKET', 'TAKE_PROFIT_MARKET', 'STOP', 'TAKE_PROFIT', 'TRAILING_STOP_MARKET']);

function bool(params: Map<string, string>, k: string): boolean | BinanceError {
  const v = present(params, k);
  if (v === undefined) return false;
  const l = v.toLowerCase();
  if (l !== 'true' && l !== 'false') return E.invalidData(k);
  return l === 'true';
}

/** A price parameter in ticks (tick multiple, > 0), or the venue's error. */
function priceTicks(v: string, inst: Instrument): number | BinanceError {
  const units = parseScaled(v, inst.priceDecimals);
  if (units === 'precision') return E.badPrecision();
  if (units === 'malformed') return E.invalidData('price');
  if (units <= 0) return E.priceBelowMin();
  if (units % inst.tickUnits !== 0) return E.priceNotTick();
  return units / inst.tickUnits;
}

/**
 * `POST /fapi/v1/algoOrder` parameters (algoType=CONDITIONAL) -> a venue-neutral conditional order:
 * type STOP_MARKET / TAKE_PROFIT_MARKET / STOP / TAKE_PROFIT (triggerPrice; price for the limit ones) or
 * TRAILING_STOP_MARKET (callbackRate 0.1..10, optional activatePrice); quantity unless closePosition.
 */
export function parseAlgoOrder(params: Map<string, string>, market: MarketSource, core: VenueCore): NewAlgoOrder | BinanceError {
  const algoType = present(params, 'algoType');
  if (algoType === undefined) return E.mandatory('algoType');
  if (algoType !== 'CONDITIONAL') return E.invalidData('algoType');
  const symbol = present(params, 'symbol');
  if (symbol === undefined) return E.mandatory('symbol');
  const inst = market.instrument(symbol);
  if (!inst) return E.invalidSymbol();
  const side = present(params, 'side');
  if (side === undefined) return E.mandatory('side');
  if (!SIDES.has(side)) return E.invalidSide();
  const type = present(params, 'type');
  if (type === undefined) return E.mandatory('type');
  if (!ALGO_TYPES.has(type)) return E.invalidOrderType();
  const algo = type as AlgoType;

  let positionSide: PositionSide = 'BOTH';
  const ps = present(params, 'positionSide');
  if (ps !== undefined) {
    if (ps !== 'BOTH' && ps !== 'LONG' && ps !== 'SHORT') return E.invalidData('positionSide');
    if (ps !== 'BOTH') return E.positionSideMismatch();
    positionSide = ps;
  }

  const closePosition = bool(params, 'closePosition');
  if (typeof closePosition !== 'boolean') return closePosition;
  const reduceOnly = bool(params, 'reduceOnly');
  if (typeof reduceOnly !== 'boolean') return reduceOnly;
  const priceProtect = bool(params, 'priceProtect');
  if (typeof priceProtect !== 'boolean') return priceProtect;
  if (closePosition && algo !== 'STOP_MARKET' && algo !== 'TAKE_PROFIT_MARKET') return E.badParamCombination();
  if (closePosition && reduceOnly) return E.notRequired('reduceOnly');

  let qty = 0;
  const qtyStr = present(params, 'quantity');
  if (closePosition) {
    if (qtyStr !== undefined) return E.notRequired('quantity');
  } else {
    if (qtyStr === undefined) return E.mandatory('quantity');
    const units = parseScaled(qtyStr, inst.qtyDecimals);
    if (units === 'precision') return E.badPrecision();
    if (units === 'malformed') return E.mandatory('quantity');
    if (units <= 0) return E.qtyNotPositive();
    if (units % inst.stepUnits !== 0) return E.qtyNotStep();
    qty = units / inst.stepUnits;
  }

  const limit = algo === 'STOP' || algo === 'TAKE_PROFIT';
  let price = 0;
  const priceStr = present(params, 'price');
  if (limit) {
    if (priceStr === undefined) return E.mandatory('price');
    const p = priceTicks(priceStr, inst);
    if (typeof p !== 'number') return p;
    price = p;
  } else if (priceStr !== undefined) return E.notRequired('price');

  let timeInForce: TimeInForce = 'GTC';
  const tif = present(params, 'timeInForce');
  if (tif !== undefined) {
    if (!TIFS.has(tif)) return E.invalidTif();
    timeInForce = tif as TimeInForce;
  }

  let triggerPrice = 0;
  let activatePrice = 0;
  let callbackRate = 0;
  if (algo === 'TRAILING_STOP_MARKET') {
    const cb = present(params, 'callbackRate');
    if (cb === undefined) return E.mandatory('callbackRate');
    const tenths = parseScaled(cb, 1);
    if (typeof tenths !== 'number' || tenths < 1 || tenths > 100) return E.invalidData('callbackRate');
    callbackRate = tenths;
    const ap = present(params, 'activatePrice') ?? present(params, 'activationPrice');
    if (ap !== undefined) {
      const p = priceTicks(ap, inst);
      if (typeof p !== 'number') return p;
      activatePrice = p;
    }
  } else {
    const tp = present(params, 'triggerPrice');
    if (tp === undefined) return E.mandatory('triggerPrice');
    const p = priceTicks(tp, inst);
    if (typeof p !== 'number') return p;
    triggerPrice = p;
  }

  let workingType: WorkingType = 'CONTRACT_PRICE';
  const wt = present(params, 'workingType');
  if (wt !== undefined) {
    if (wt !== 'CONTRACT_PRICE' && wt !== 'MARK_PRICE') return E.invalidData('workingType');
    workingType = wt;
  }

  let clientAlgoId = present(params, 'clientAlgoId');
  if (clientAlgoId !== undefined) {
    if (!CLIENT_ID_RE.test(clientAlgoId)) return E.invalidClientOrderId();
  } else clientAlgoId = core.generateClientOrderId();

  let goodTillDate = 0;
  if (timeInForce === 'GTD') {
    const g = present(params, 'goodTillDate');
    if (g === undefined) return E.mandatory('goodTillDate');
    if (!/^\d{1,16}$/.test(g)) return E.invalidData('goodTillDate');
    goodTillDate = Number(g);
  }

  return {
    inst,
    side: side as 'BUY' | 'SELL',
    type: algo,
    positionSide,
    timeInForce,
    qty,
    price,
    triggerPrice,
    workingType,
    reduceOnly,
    closePosition,
    priceProtect,
    activatePrice,
    callbackRate,
    clientAlgoId,
    goodTillDate,
  };
}
