import { RejectReason } from '../../ring/layout.js';
import { ErrorHandling } from '../../exec/errorHandling.js';

/**
 * Binance USD-M error taxonomy (protocols.md §1.6, §1.10): every venue answer, and the local outcomes of a
 * request that got no answer, maps to one `BinanceErrorKind`; each kind carries the engine's handling
 * class and the ring-C reject reason. Codes are stable, messages are not, so classification is by code
 * first; messages matter only where the venue overloads one status (503) or omits the code.
 */
export const enum BinanceErrorKind {
  Ok = 0,
  // ---- 10xx general
  UnknownError, // -1000
  Disconnected, // -1001
  Unauthorized, // -1002
  TooManyRequests, // -1003
  UnexpectedResponse, // -1006
  BackendTimeout, // -1007
  Throttled, // -1008 (and 503 with that text)
  NotWhitelisted, // -1011
  UnsupportedComposition, // -1014
  TooManyOrders, // -1015
  ServiceShuttingDown, // -1016
  UnsupportedOperation, // -1020
  InvalidTimestamp, // -1021
  InvalidSignature, // -1022
  // ---- 11xx request issues (all bugs on our side)
  IllegalChars, // -1100
  TooManyParameters, // -1101
  MandatoryParamMissing, // -1102
  UnknownParam, // -1103
  UnreadParameters, // -1104
  ParamEmpty, // -1105
  ParamNotRequired, // -1106
  BadPrecision, // -1111
  TifNotRequired, // -1114
  InvalidTimeInForce, // -1115
  InvalidOrderType, // -1116
  InvalidSide, // -1117
  EmptyClientOrderId, // -1118, -1119
  InvalidSymbol, // -1121
  InvalidListenKey, // -1125
  OptionalParamsBadCombo, // -1128
  InvalidParameter, // -1130
  InvalidRespType, // -1136
  // ---- 20xx processing
  NewOrderRejected, // -2010
  CancelRejected, // -2011
  NoSuchOrder, // -2013
  BadApiKeyFormat, // -2014
  InvalidApiKey, // -2015
  BalanceInsufficient, // -2018
  MarginInsufficient, // -2019
  UnableToFill, // -2020
  WouldImmediatelyTrigger, // -2021
  ReduceOnlyRejected, // -2022
  PositionNotSufficient, // -2024
  MaxOpenOrders, // -2025
  ReduceOnlyTypeNotSupported, // -2026
  MaxPositionAtLeverage, // -2027
  LeverageTooSmall, // -2028
  // ---- 40xx filters and others
  PriceBelowZero, // -4001
  PriceAboveMax, // -4002
  QtyNotPositive, // -4003
  QtyBelowMin, // -4004
  QtyAboveMax, // -4005
  StopPriceBelowZero, // -4006
  StopPriceAboveMax, // -4007
  PriceBelowMin, // -4013
  PriceNotTick, // -4014
  InvalidClientOrderId, // -4015
  PriceAboveMultiplierUp, // -4016
  QtyNotStep, // -4023
  PriceBelowMultiplierDown, // -4024
  InvalidLeverage, // -4028
  MaxStopOrders, // -4045
  IsolatedBalanceInsufficient, // -4051
  InvalidPositionSide, // -4060
  PositionSideMismatch, // -4061
  ReduceOnlyConflict, // -4062
  ReduceOnlyPermissionOnly, // -4087
  NoPlaceOrderPermission, // -4088
  DuplicateClientOrderId, // -4116
  ReduceOnlyMarginCheck, // -4118
  MarketOrderPercentPrice, // -4131
  InvalidActivationPrice, // -4135
  WouldTriggerImmediately, // -4142
  MinNotional, // -4164
  PriceAboveStopMultiplier, // -4183
  PriceBelowStopMultiplier, // -4184
  QuantRulesReduceOnly, // -4400
  LargePositionReduceOnly, // -4401
  // ---- 50xx
  FokNotFilled, // -5021
  PostOnlyWouldTake, // -5022
  NothingToModify, // -5027
  MeRecvWindow, // -5028
  // ---- HTTP-level answers without a (known) code
  WafBlocked, // 403
  NotFound, // 404
  RequestTimeoutHttp, // 408
  IpBanned, // 418
  RateLimited, // 429 without a specific code
  ServiceUnavailable, // 503 "Service Unavailable."
  ExecutionUnknown, // 503 "Unknown error, please check your request or try again later."
  ServerError, // other 5xx
  OtherReject, // a 4xx, or a negative code not in the table, with no 5xx
  // ---- local outcomes (nothing or nothing usable came back)
  TransportNotSent, // connection failed before the request was written
  NoResponse, // written, then the connection died
  RequestTimeout, // written, no answer in time
  BadResponse, // 2xx whose body is not the JSON we expect
  LocalRateLimited, // refused by our own RateBudget (never sent)
  LocalHalted, // order entry halted locally (418, auth failure, operator)
  LocalInvalid, // request refused by local validation (never sent)
  /** number of kinds; keep last */
  Count,
}

export { ErrorHandling } from '../../exec/errorHandling.js';

const NAMES: string[] = [];
const HANDLING = new Uint8Array(BinanceErrorKind.Count);
const REASON = new Uint8Array(BinanceErrorKind.Count);
const BY_CODE = new Map<number, BinanceErrorKind>();
const CODES: Array<{ code: number; kind: BinanceErrorKind }> = [];

function def(kind: BinanceErrorKind, name: string, handling: ErrorHandling, reason: RejectReason, ...codes: number[]): void {
  NAMES[kind] = name;
  HANDLING[kind] = handling;
  REASON[kind] = reason;
  for (const c of codes) {
    BY_CODE.set(c, kind);
    CODES.push({ code: c, kind });
  }
}

const D = ErrorHandling.Definite;
const U = ErrorHandling.Unknown;
const V = RejectReason.Venue;

def(BinanceErrorKind.Ok, 'Ok', ErrorHandling.None, RejectReason.None);
def(BinanceErrorKind.UnknownError, 'UnknownError', U, RejectReason.Unknown, -1000);
def(BinanceErrorKind.Disconnected, 'Disconnected', U, RejectReason.Unknown, -1001);
def(BinanceErrorKind.Unauthorized, 'Unauthorized', ErrorHandling.Halt, RejectReason.Halted, -1002);
def(BinanceErrorKind.TooManyRequests, 'TooManyRequests', ErrorHandling.Backoff, RejectReason.RateLimited, -1003);
def(BinanceErrorKind.UnexpectedResponse, 'UnexpectedResponse', U, RejectReason.Unknown, -1006);
def(BinanceErrorKind.BackendTimeout, 'BackendTimeout', U, RejectReason.Timeout, -1007);
// Definite failure; reduce-only and close-position orders are exempt, so the caller may still send those.
def(BinanceErrorKind.Throttled, 'Throttled', ErrorHandling.Backoff, RejectReason.RateLimited, -1008);
def(BinanceErrorKind.NotWhitelisted, 'NotWhitelisted', ErrorHandling.Halt, RejectReason.Halted, -1011);
def(BinanceErrorKind.UnsupportedComposition, 'UnsupportedComposition', D, V, -1014);
def(BinanceErrorKind.TooManyOrders, 'TooManyOrders', ErrorHandling.Backoff, RejectReason.RateLimited, -1015);
def(BinanceErrorKind.ServiceShuttingDown, 'ServiceShuttingDown', ErrorHandling.Backoff, V, -1016);
def(BinanceErrorKind.UnsupportedOperation, 'UnsupportedOperation', D, V, -1020);
def(BinanceErrorKind.InvalidTimestamp, 'InvalidTimestamp', ErrorHandling.RetryAfterClockSync, V, -1021);
def(BinanceErrorKind.InvalidSignature, 'InvalidSignature', D, V, -1022);
def(BinanceErrorKind.IllegalChars, 'IllegalChars', D, V, -1100);
def(BinanceErrorKind.TooManyParameters, 'TooManyParameters', D, V, -1101);
def(BinanceErrorKind.MandatoryParamMissing, 'MandatoryParamMissing', D, V, -1102);
def(BinanceErrorKind.UnknownParam, 'UnknownParam', D, V, -1103);
def(BinanceErrorKind.UnreadParameters, 'UnreadParameters', D, V, -1104);
def(BinanceErrorKind.ParamEmpty, 'ParamEmpty', D, V, -1105);
def(BinanceErrorKind.ParamNotRequired, 'ParamNotRequired', D, V, -1106);
def(BinanceErrorKind.BadPrecision, 'BadPrecision', D, V, -1111);
def(BinanceErrorKind.TifNotRequired, 'TifNotRequired', D, V, -1114);
def(BinanceErrorKind.InvalidTimeInForce, 'InvalidTimeInForce', D, V, -1115);
def(BinanceErrorKind.InvalidOrderType, 'InvalidOrderType', D, V, -1116);
def(BinanceErrorKind.InvalidSide, 'InvalidSide', D, V, -1117);
def(BinanceErrorKind.EmptyClientOrderId, 'EmptyClientOrderId', D, V, -1118, -1119);
def(BinanceErrorKind.InvalidSymbol, 'InvalidSymbol', D, V, -1121);
def(BinanceErrorKind.InvalidListenKey, 'InvalidListenKey', D, V, -1125);
def(BinanceErrorKind.OptionalParamsBadCombo, 'OptionalParamsBadCombo', D, V, -1128);
def(BinanceErrorKind.InvalidParameter, 'InvalidParameter', D, V, -1130);
def(BinanceErrorKind.InvalidRespType, 'InvalidRespType', D, V, -1136);
def(BinanceErrorKind.NewOrderRejected, 'NewOrderRejected', D, V, -2010);
def(BinanceErrorKind.CancelRejected, 'CancelRejected', ErrorHandling.AlreadyClosed, V, -2011);
def(BinanceErrorKind.NoSuchOrder, 'NoSuchOrder', D, V, -2013);
def(BinanceErrorKind.BadApiKeyFormat, 'BadApiKeyFormat', ErrorHandling.Halt, RejectReason.Halted, -2014);
def(BinanceErrorKind.InvalidApiKey, 'InvalidApiKey', ErrorHandling.Halt, RejectReason.Halted, -2015);
def(BinanceErrorKind.BalanceInsufficient, 'BalanceInsufficient', D, V, -2018);
def(BinanceErrorKind.MarginInsufficient, 'MarginInsufficient', D, V, -2019);
def(BinanceErrorKind.UnableToFill, 'UnableToFill', D, V, -2020);
def(BinanceErrorKind.WouldImmediatelyTrigger, 'WouldImmediatelyTrigger', D, V, -2021);
def(BinanceErrorKind.ReduceOnlyRejected, 'ReduceOnlyRejected', D, V, -2022);
def(BinanceErrorKind.PositionNotSufficient, 'PositionNotSufficient', D, V, -2024);
def(BinanceErrorKind.MaxOpenOrders, 'MaxOpenOrders', D, V, -2025);
def(BinanceErrorKind.ReduceOnlyTypeNotSupported, 'ReduceOnlyTypeNotSupported', D, V, -2026);
def(BinanceErrorKind.MaxPositionAtLeverage, 'MaxPositionAtLeverage', D, RejectReason.MaxPosition, -2027);
def(BinanceErrorKind.LeverageTooSmall, 'LeverageTooSmall', D, V, -2028);
def(BinanceErrorKind.PriceBelowZero, 'PriceBelowZero', D, RejectReason.PriceFilter, -4001);
def(BinanceErrorKind.PriceAboveMax, 'PriceAboveMax', D, RejectReason.PriceFilter, -4002);
def(BinanceErrorKind.QtyNotPositive, 'QtyNotPositive', D, RejectReason.LotSize, -4003);
def(BinanceErrorKind.QtyBelowMin, 'QtyBelowMin', D, RejectReason.LotSize, -4004);
def(BinanceErrorKind.QtyAboveMax, 'QtyAboveMax', D, RejectReason.LotSize, -4005);
def(BinanceErrorKind.StopPriceBelowZero, 'StopPriceBelowZero', D, RejectReason.PriceFilter, -4006);
def(BinanceErrorKind.StopPriceAboveMax, 'StopPriceAboveMax', D, RejectReason.PriceFilter, -4007);
def(BinanceErrorKind.PriceBelowMin, 'PriceBelowMin', D, RejectReason.PriceFilter, -4013);
def(BinanceErrorKind.PriceNotTick, 'PriceNotTick', D, RejectReason.PriceFilter, -4014);
def(BinanceErrorKind.InvalidClientOrderId, 'InvalidClientOrderId', D, V, -4015);
// -4016/-4024 are the PERCENT_PRICE cap/floor around the mark price, not PRICE_FILTER's maxPrice (-4002).
def(BinanceErrorKind.PriceAboveMultiplierUp, 'PriceAboveMultiplierUp', D, RejectReason.PercentPrice, -4016);
def(BinanceErrorKind.QtyNotStep, 'QtyNotStep', D, RejectReason.LotSize, -4023);
def(BinanceErrorKind.PriceBelowMultiplierDown, 'PriceBelowMultiplierDown', D, RejectReason.PercentPrice, -4024);
def(BinanceErrorKind.InvalidLeverage, 'InvalidLeverage', D, V, -4028);
def(BinanceErrorKind.MaxStopOrders, 'MaxStopOrders', D, V, -4045);
def(BinanceErrorKind.IsolatedBalanceInsufficient, 'IsolatedBalanceInsufficient', D, V, -4051);
def(BinanceErrorKind.InvalidPositionSide, 'InvalidPositionSide', D, V, -4060);
def(BinanceErrorKind.PositionSideMismatch, 'PositionSideMismatch', D, V, -4061);
def(BinanceErrorKind.ReduceOnlyConflict, 'ReduceOnlyConflict', D, V, -4062);
def(BinanceErrorKind.ReduceOnlyPermissionOnly, 'ReduceOnlyPermissionOnly', D, V, -4087);
// The account may not place orders at all: nothing will work until someone looks.
def(BinanceErrorKind.NoPlaceOrderPermission, 'NoPlaceOrderPermission', ErrorHandling.Halt, RejectReason.Halted, -4088);
// Not placed by this request; after an Unknown outcome it also proves the first attempt arrived.
def(BinanceErrorKind.DuplicateClientOrderId, 'DuplicateClientOrderId', D, V, -4116);
def(BinanceErrorKind.ReduceOnlyMarginCheck, 'ReduceOnlyMarginCheck', D, V, -4118);
def(BinanceErrorKind.MarketOrderPercentPrice, 'MarketOrderPercentPrice', D, RejectReason.PercentPrice, -4131);
def(BinanceErrorKind.InvalidActivationPrice, 'InvalidActivationPrice', D, V, -4135);
def(BinanceErrorKind.WouldTriggerImmediately, 'WouldTriggerImmediately', D, V, -4142);
def(BinanceErrorKind.MinNotional, 'MinNotional', D, RejectReason.MinNotional, -4164);
def(BinanceErrorKind.PriceAboveStopMultiplier, 'PriceAboveStopMultiplier', D, RejectReason.PercentPrice, -4183);
def(BinanceErrorKind.PriceBelowStopMultiplier, 'PriceBelowStopMultiplier', D, RejectReason.PercentPrice, -4184);
def(BinanceErrorKind.QuantRulesReduceOnly, 'QuantRulesReduceOnly', D, V, -4400);
def(BinanceErrorKind.LargePositionReduceOnly, 'LargePositionReduceOnly', D, V, -4401);
def(BinanceErrorKind.FokNotFilled, 'FokNotFilled', ErrorHandling.Expected, V, -5021);
def(BinanceErrorKind.PostOnlyWouldTake, 'PostOnlyWouldTake', ErrorHandling.Expected, V, -5022);
def(BinanceErrorKind.NothingToModify, 'NothingToModify', D, V, -5027);
def(BinanceErrorKind.MeRecvWindow, 'MeRecvWindow', ErrorHandling.RetryAfterClockSync, V, -5028);
// A WAF block is not a rate limit that expires on its own schedule: stop and let a human look.
def(BinanceErrorKind.WafBlocked, 'WafBlocked', ErrorHandling.Halt, RejectReason.Halted);
// No such route: nothing reached the matching engine.
def(BinanceErrorKind.NotFound, 'NotFound', D, V);
// The gateway gave up waiting for the backend, which may still have executed the request.
def(BinanceErrorKind.RequestTimeoutHttp, 'RequestTimeoutHttp', U, RejectReason.Timeout);
def(BinanceErrorKind.IpBanned, 'IpBanned', ErrorHandling.Halt, RejectReason.Halted);
def(BinanceErrorKind.RateLimited, 'RateLimited', ErrorHandling.Backoff, RejectReason.RateLimited);
def(BinanceErrorKind.ServiceUnavailable, 'ServiceUnavailable', ErrorHandling.Backoff, V);
def(BinanceErrorKind.ExecutionUnknown, 'ExecutionUnknown', U, RejectReason.Unknown);
def(BinanceErrorKind.ServerError, 'ServerError', U, RejectReason.Unknown);
def(BinanceErrorKind.OtherReject, 'OtherReject', D, V);
def(BinanceErrorKind.TransportNotSent, 'TransportNotSent', D, RejectReason.Transport);
def(BinanceErrorKind.NoResponse, 'NoResponse', U, RejectReason.Transport);
def(BinanceErrorKind.RequestTimeout, 'RequestTimeout', U, RejectReason.Timeout);
def(BinanceErrorKind.BadResponse, 'BadResponse', U, RejectReason.Unknown);
def(BinanceErrorKind.LocalRateLimited, 'LocalRateLimited', ErrorHandling.Backoff, RejectReason.RateLimited);
def(BinanceErrorKind.LocalHalted, 'LocalHalted', ErrorHandling.Halt, RejectReason.Halted);
def(BinanceErrorKind.LocalInvalid, 'LocalInvalid', D, RejectReason.Unknown);

/** Every venue code this module knows, with its kind (documentation and tests). */
export const BINANCE_ERROR_CODES: ReadonlyArray<{ readonly code: number; readonly kind: BinanceErrorKind }> = CODES;

const MSG_503_UNKNOWN = 'Unknown error, please check your request';
const MSG_503_UNAVAILABLE = 'Service Unavailable';

/**
 * Classifies one venue answer. `code` is the body's `code` (0 when absent; the positive `200` of
 * allOpenOrders is a success), `msg` its `msg` ('' when absent). No allocation: a branch, a Map lookup and,
 * for 503 only, two substring searches.
 */
export function classifyBinanceError(httpStatus: number, code: number, msg: string): BinanceErrorKind {
  if (code >= 0 && httpStatus >= 200 && httpStatus < 300) return BinanceErrorKind.Ok;
  if (httpStatus === 418) return BinanceErrorKind.IpBanned;
  if (code === -1008) return BinanceErrorKind.Throttled;
  if (httpStatus === 503) {
    // Three meanings distinguished by message (§1.6); "unknown" is the one that must never read as failure.
    if (msg.includes(MSG_503_UNKNOWN)) return BinanceErrorKind.ExecutionUnknown;
    if (msg.startsWith(MSG_503_UNAVAILABLE)) return BinanceErrorKind.ServiceUnavailable;
  }
  if (httpStatus === 429) {
    if (code === -1015) return BinanceErrorKind.TooManyOrders;
    if (code === -1003) return BinanceErrorKind.TooManyRequests;
    return BinanceErrorKind.RateLimited;
  }
  // An unknown path never reached the matching engine, whatever code the gateway attached.
  if (httpStatus === 404) return BinanceErrorKind.NotFound;
  if (code < 0) {
    const k = BY_CODE.get(code);
    if (k !== undefined) return k;
    // An unlisted code from a 5xx may still hide an executed request.
    return httpStatus >= 500 ? BinanceErrorKind.ServerError : BinanceErrorKind.OtherReject;
  }
  if (httpStatus === 403) return BinanceErrorKind.WafBlocked;
  if (httpStatus === 408) return BinanceErrorKind.RequestTimeoutHttp;
  if (httpStatus >= 500) return BinanceErrorKind.ServerError;
  return BinanceErrorKind.OtherReject;
}

/** Kind of a venue code (undefined when the code is not in the table). */
export function kindOfCode(code: number): BinanceErrorKind | undefined {
  return BY_CODE.get(code);
}

export function handlingOf(kind: BinanceErrorKind): ErrorHandling {
  return HANDLING[kind] as ErrorHandling;
}

/** Ring-C reject reason for a kind (None for Ok). */
export function rejectReasonOf(kind: BinanceErrorKind): RejectReason {
  return REASON[kind] as RejectReason;
}

export function errorKindName(kind: BinanceErrorKind): string {
  return NAMES[kind] ?? `kind#${kind}`;
}

/** true when the request certainly had no effect on the venue (everything but Unknown and Ok). */
export function certainlyNotPlaced(h: ErrorHandling): boolean {
  return h !== ErrorHandling.Unknown && h !== ErrorHandling.None;
}

/**
 * Outcome of a request that got no HTTP answer. `written`: the request bytes may have reached the venue
 * (then its effect is unknown); `timedOut`: we stopped waiting.
 */
export function classifyNoResponse(written: boolean, timedOut: boolean): BinanceErrorKind {
  if (!written) return BinanceErrorKind.TransportNotSent;
  return timedOut ? BinanceErrorKind.RequestTimeout : BinanceErrorKind.NoResponse;
}

/**
 * The ban end a -1003/418 message may carry ("... IP banned until 1659146400000. ..."), in venue ms;
 * 0 when absent.
 */
export function parseBanUntil(msg: string): number {
  const i = msg.indexOf('banned until ');
  if (i < 0) return 0;
  let v = 0;
  let n = 0;
  for (let p = i + 13; p < msg.length; p++) {
    const c = msg.charCodeAt(p) - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
    n++;
  }
  // A ms epoch has 13 digits today; anything else is not a time we understand.
  return n >= 12 && n <= 14 ? v : 0;
}
