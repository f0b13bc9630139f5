import { parseScaled } from '../../core/decimal.js';
import type { MarketSource } from '../market/types.js';
import type { NewOrder, OrderType, PositionSide, TimeInForce, VenueCore } from '../Venue.js';
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
  if (!KNOWN_TYPES.has(type) || (type !== 'LIMIT' && type !== 'MARKET')) return E.invalidOrderType();

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
