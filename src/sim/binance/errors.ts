import type { AmendRejectReason, RejectReason } from '../Venue.js';

/** A Binance error as sent on the wire: `{"code":-NNNN,"msg":"..."}` with its HTTP status. */
export interface BinanceError {
  http: number;
  code: number;
  msg: string;
}

export function err(code: number, msg: string, http = 400): BinanceError {
  return { http, code, msg };
}

export function errorJson(e: BinanceError): string {
  return JSON.stringify({ code: e.code, msg: e.msg });
}

export const E = {
  invalidApiKey: (): BinanceError => err(-2015, 'Invalid API-key, IP, or permissions for action.', 401),
  invalidSignature: (): BinanceError => err(-1022, 'Signature for this request is not valid.'),
  invalidTimestamp: (): BinanceError => err(-1021, 'Timestamp for this request is outside of the recvWindow.'),
  mandatory: (param: string): BinanceError =>
    err(-1102, `Mandatory parameter '${param}' was not sent, was empty/null, or malformed.`),
  notRequired: (param: string): BinanceError => err(-1106, `Parameter '${param}' sent when not required.`),
  invalidData: (param: string): BinanceError => err(-1130, `Data sent for parameter '${param}' is not valid.`),
  badPrecision: (): BinanceError => err(-1111, 'Precision is over the maximum defined for this asset.'),
  invalidTif: (): BinanceError => err(-1115, 'Invalid timeInForce.'),
  invalidOrderType: (): BinanceError => err(-1116, 'Invalid orderType.'),
  invalidSide: (): BinanceError => err(-1117, 'Invalid side.'),
  invalidSymbol: (): BinanceError => err(-1121, 'Invalid symbol.'),
  tooManyOrders: (): BinanceError => err(-1015, 'Too many new orders; current limit is 300 orders per TEN_SECONDS.', 429),
  tooMuchWeight: (): BinanceError =>
    err(-1003, 'Too much request weight used, current limit is 2400 request weight per 1 MINUTE. Please use the websocket for live updates to avoid polling the API.', 429),
  unknownOrder: (): BinanceError => err(-2011, 'Unknown order sent.'),
  noSuchOrder: (): BinanceError => err(-2013, 'Order does not exist.'),
  qtyNotPositive: (): BinanceError => err(-4003, 'Quantity less than or equal to zero.'),
  qtyBelowMin: (): BinanceError => err(-4004, 'Quantity less than min quantity.'),
  qtyAboveMax: (): BinanceError => err(-4005, 'Quantity greater than max quantity.'),
  priceBelowMin: (): BinanceError => err(-4013, 'Price less than min price.'),
  priceNotTick: (): BinanceError => err(-4014, 'Price not increased by tick size.'),
  invalidClientOrderId: (): BinanceError => err(-4015, 'Client order id is not valid.'),
  priceAboveMax: (): BinanceError => err(-4002, 'Price greater than max price.'),
  qtyNotStep: (): BinanceError => err(-4023, 'Qty not increased by step size.'),
  positionSideMismatch: (): BinanceError => err(-4061, "Order's position side does not match user's setting."),
  duplicateClientOrderId: (): BinanceError => err(-4116, 'ClientOrderId is duplicated.'),
  reduceOnlyRejected: (): BinanceError => err(-2022, 'ReduceOnly Order is rejected.'),
  maxOpenOrders: (): BinanceError => err(-2025, 'Reach max open order limit.'),
  fokNotFilled: (): BinanceError => err(-5021, 'Due to the order could not be filled immediately, the FOK order has been rejected.'),
  postOnlyWouldTake: (): BinanceError =>
    err(-5022, 'Due to the order could not be executed as maker, the Post Only order will be rejected.'),
  minNotional: (notional: string): BinanceError =>
    err(-4164, `Order's notional must be no smaller than ${notional} (unless you choose reduce only).`),
  algoTypeOnOrderEndpoint: (): BinanceError =>
    err(-4120, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.'),
  noOpenOrder: (): BinanceError => err(-2013, 'Order does not exist.'),
  nothingToModify: (): BinanceError => err(-5027, 'No need to modify the order.'),
  priceAboveMultiplierUp: (limit: string): BinanceError => err(-4016, `Limit price can't be higher than ${limit}.`),
  priceBelowMultiplierDown: (limit: string): BinanceError => err(-4024, `Limit price can't be lower than ${limit}.`),
  eitherOrderId: (): BinanceError => err(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"),
  eitherOrderIdList: (): BinanceError => err(-1102, "Param 'origClientOrderIdList' or 'orderIdList' must be sent, but both were empty/null!"),
  eitherAlgoId: (): BinanceError => err(-1102, "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!"),
  marginInsufficient: (): BinanceError => err(-2019, 'Margin is insufficient.'),
  wouldTrigger: (): BinanceError => err(-2021, 'Order would immediately trigger.'),
  invalidLeverage: (lev: string): BinanceError => err(-4028, `Leverage ${lev} is not valid`),
  invalidListenKey: (): BinanceError => err(-1125, 'This listenKey does not exist.'),
  maxAlgoOrders: (): BinanceError => err(-4045, 'Reach max stop order limit.'),
  badParamCombination: (): BinanceError => err(-1128, 'Combination of optional parameters invalid.'),
  orderCountExceeded: (limit: number, window: string): BinanceError =>
    err(-1015, `Too many new orders; current limit is ${limit} orders per ${window}.`, 429),
  weightExceeded: (limit: number): BinanceError =>
    err(-1003, `Too much request weight used, current limit is ${limit} request weight per 1 MINUTE. Please use the websocket for live updates to avoid polling the API.`, 429),
  banned: (until: number): BinanceError =>
    err(-1003, `Way too many requests; IP(127.0.0.1) banned until ${until}. Please use the websocket for live updates to avoid bans.`, 418),
  notFound: (): BinanceError => err(-1000, 'Unknown path or method.', 404),
  tooLarge: (): BinanceError => err(-1000, 'Request body too large.', 413),
} as const;

/**
 * Binance error for a refused amendment (`PUT /fapi/v1/order`, WS `order.modify`). An order that is not
 * open answers -2013 NO_SUCH_ORDER (-2011 is the cancel endpoint's reject); `limit` is the broken
 * PERCENT_PRICE bound as a price string.
 */
export function amendRejectToError(reason: AmendRejectReason, limit: string): BinanceError {
  switch (reason) {
    case 'UNKNOWN_ORDER':
      return E.noSuchOrder();
    case 'NOT_LIMIT':
      return E.invalidOrderType();
    case 'SIDE_MISMATCH':
      return E.invalidSide();
    case 'NOTHING_TO_MODIFY':
      return E.nothingToModify();
    case 'QTY_BELOW_MIN':
      return E.qtyBelowMin();
    case 'QTY_ABOVE_MAX':
      return E.qtyAboveMax();
    case 'PRICE_BELOW_MIN':
      return E.priceBelowMin();
    case 'PRICE_ABOVE_MAX':
      return E.priceAboveMax();
    case 'PRICE_ABOVE_MULTIPLIER_UP':
      return E.priceAboveMultiplierUp(limit);
    case 'PRICE_BELOW_MULTIPLIER_DOWN':
      return E.priceBelowMultiplierDown(limit);
    case 'MARGIN_INSUFFICIENT':
      return E.marginInsufficient();
  }
}

/** Binance error for a venue-neutral order reject. */
export function rejectToError(reason: RejectReason, minNotional: string): BinanceError {
  switch (reason) {
    case 'DUPLICATE_CLIENT_ORDER_ID':
      return E.duplicateClientOrderId();
    case 'QTY_BELOW_MIN':
      return E.qtyBelowMin();
    case 'QTY_ABOVE_MAX':
      return E.qtyAboveMax();
    case 'PRICE_BELOW_MIN':
      return E.priceBelowMin();
    case 'PRICE_ABOVE_MAX':
      return E.priceAboveMax();
    case 'MIN_NOTIONAL':
      return E.minNotional(minNotional);
    case 'REDUCE_ONLY_REJECTED':
      return E.reduceOnlyRejected();
    case 'FOK_NOT_FILLED':
      return E.fokNotFilled();
    case 'POST_ONLY_WOULD_TAKE':
      return E.postOnlyWouldTake();
    case 'MAX_OPEN_ORDERS':
      return E.maxOpenOrders();
    case 'MARGIN_INSUFFICIENT':
      return E.marginInsufficient();
    case 'UNKNOWN_ORDER':
      return E.unknownOrder();
  }
}
