import { ErrorHandling as GateErrorHandling } from '../../exec/errorHandling.js';
import { RejectReason } from '../../ring/layout.js';

/**
 * Gate futures error taxonomy (protocols.md §2.10): a REST error is a non-2xx answer with
 * `{"label","message"|"detail"}`; classification is by label (stable), then by HTTP status. Each kind
 * carries the engine's handling class and the ring-C reject reason, like venues/binance/errors.ts.
 */
export const enum GateErrorKind {
  Ok = 0,
  // ---- auth / permission: stop order entry
  InvalidKey,
  InvalidSignature,
  MissingRequiredHeader,
  IpForbidden,
  ReadOnly,
  Forbidden,
  AccountLocked,
  // ---- clock
  RequestExpired,
  // ---- our bugs
  InvalidParam,
  MissingParam,
  InvalidRequestBody,
  ContractNotFound,
  UserNotFound,
  // ---- order outcomes
  InsufficientAvailable,
  PocImmediate,
  FokNotFilled,
  SizeTooLarge,
  SizeTooSmall,
  PriceTooDeviated,
  PriceOverLiquidation,
  IncreasePosition,
  ReduceExceeded,
  PositionEmpty,
  TooManyOrders,
  RiskLimit,
  LeverageInvalid,
  ContractInDelisting,
  // ---- cancel races
  OrderNotFound,
  OrderFinished,
  OrderNotOwned,
  // ---- rate and venue side
  TooManyRequests,
  ServerError,
  NotFound,
  /** a 4xx label not in the table */
  OtherReject,
  // ---- local outcomes (no usable answer)
  TransportNotSent,
  NoResponse,
  RequestTimeout,
  BadResponse,
  /** refused by local validation, never sent */
  LocalInvalid,
  Count,
}

// The engine's handlings are venue-neutral (shared with Binance); the Gate name stays.
export { ErrorHandling as GateErrorHandling } from '../../exec/errorHandling.js';

const NAMES: string[] = [];
const HANDLING = new Uint8Array(GateErrorKind.Count);
const REASON = new Uint8Array(GateErrorKind.Count);
const BY_LABEL = new Map<string, GateErrorKind>();

function def(kind: GateErrorKind, name: string, handling: GateErrorHandling, reason: RejectReason, ...labels: string[]): void {
  NAMES[kind] = name;
  HANDLING[kind] = handling;
  REASON[kind] = reason;
  for (const l of labels) BY_LABEL.set(l, kind);
}

const D = GateErrorHandling.Definite;
const H = GateErrorHandling.Halt;
const V = RejectReason.Venue;

def(GateErrorKind.Ok, 'Ok', GateErrorHandling.None, RejectReason.None);
def(GateErrorKind.InvalidKey, 'InvalidKey', H, RejectReason.Halted, 'INVALID_KEY');
def(GateErrorKind.InvalidSignature, 'InvalidSignature', H, RejectReason.Halted, 'INVALID_SIGNATURE');
def(GateErrorKind.MissingRequiredHeader, 'MissingRequiredHeader', H, RejectReason.Halted, 'MISSING_REQUIRED_HEADER');
def(GateErrorKind.IpForbidden, 'IpForbidden', H, RejectReason.Halted, 'IP_FORBIDDEN');
def(GateErrorKind.ReadOnly, 'ReadOnly', H, RejectReason.Halted, 'READ_ONLY');
def(GateErrorKind.Forbidden, 'Forbidden', H, RejectReason.Halted, 'FORBIDDEN');
def(GateErrorKind.AccountLocked, 'AccountLocked', H, RejectReason.Halted, 'ACCOUNT_LOCKED');
def(GateErrorKind.RequestExpired, 'RequestExpired', GateErrorHandling.RetryAfterClockSync, V, 'REQUEST_EXPIRED');
def(GateErrorKind.InvalidParam, 'InvalidParam', D, V, 'INVALID_PARAM_VALUE', 'INVALID_ARGUMENT', 'BAD_REQUEST');
def(GateErrorKind.MissingParam, 'MissingParam', D, V, 'MISSING_REQUIRED_PARAM');
def(GateErrorKind.InvalidRequestBody, 'InvalidRequestBody', D, V, 'INVALID_REQUEST_BODY');
def(GateErrorKind.ContractNotFound, 'ContractNotFound', D, V, 'CONTRACT_NOT_FOUND');
def(GateErrorKind.UserNotFound, 'UserNotFound', D, V, 'USER_NOT_FOUND');
def(GateErrorKind.InsufficientAvailable, 'InsufficientAvailable', D, V, 'INSUFFICIENT_AVAILABLE');
def(GateErrorKind.PocImmediate, 'PocImmediate', GateErrorHandling.Expected, V, 'ORDER_POC_IMMEDIATE', 'POC_FILL_IMMEDIATELY');
def(GateErrorKind.FokNotFilled, 'FokNotFilled', GateErrorHandling.Expected, V, 'ORDER_FOK');
def(GateErrorKind.SizeTooLarge, 'SizeTooLarge', D, RejectReason.LotSize, 'SIZE_TOO_LARGE');
def(GateErrorKind.SizeTooSmall, 'SizeTooSmall', D, RejectReason.LotSize, 'SIZE_TOO_SMALL');
def(GateErrorKind.PriceTooDeviated, 'PriceTooDeviated', D, RejectReason.PercentPrice, 'PRICE_TOO_DEVIATED');
def(GateErrorKind.PriceOverLiquidation, 'PriceOverLiquidation', D, RejectReason.PriceFilter, 'PRICE_OVER_LIQUIDATION', 'PRICE_OVER_BANKRUPT');
def(GateErrorKind.IncreasePosition, 'IncreasePosition', D, V, 'INCREASE_POSITION');
def(GateErrorKind.ReduceExceeded, 'ReduceExceeded', D, V, 'REDUCE_EXCEEDED');
def(GateErrorKind.PositionEmpty, 'PositionEmpty', D, V, 'POSITION_EMPTY');
def(GateErrorKind.TooManyOrders, 'TooManyOrders', D, V, 'TOO_MANY_ORDERS');
def(GateErrorKind.RiskLimit, 'RiskLimit', D, RejectReason.MaxPosition, 'RISK_LIMIT_EXCEEDED', 'RISK_LIMIT_TOO_LOW', 'LIQUIDATE_IMMEDIATELY', 'POSITION_HOLDING');
def(GateErrorKind.LeverageInvalid, 'LeverageInvalid', D, V, 'LEVERAGE_TOO_HIGH', 'LEVERAGE_TOO_LOW', 'LEVERAGE_INVALID');
def(GateErrorKind.ContractInDelisting, 'ContractInDelisting', D, V, 'CONTRACT_IN_DELISTING');
def(GateErrorKind.OrderNotFound, 'OrderNotFound', GateErrorHandling.AlreadyClosed, V, 'ORDER_NOT_FOUND');
def(GateErrorKind.OrderFinished, 'OrderFinished', GateErrorHandling.AlreadyClosed, V, 'ORDER_FINISHED');
def(GateErrorKind.OrderNotOwned, 'OrderNotOwned', D, V, 'ORDER_NOT_OWNED');
def(GateErrorKind.TooManyRequests, 'TooManyRequests', GateErrorHandling.Backoff, RejectReason.RateLimited, 'TOO_MANY_REQUESTS');
// The venue failed on its side: an order request may still have been acted on.
def(GateErrorKind.ServerError, 'ServerError', GateErrorHandling.Unknown, RejectReason.Unknown, 'INTERNAL', 'SERVER_ERROR', 'TOO_BUSY');
def(GateErrorKind.NotFound, 'NotFound', D, V, 'NOT_FOUND');
def(GateErrorKind.OtherReject, 'OtherReject', D, V);
def(GateErrorKind.TransportNotSent, 'TransportNotSent', D, RejectReason.Transport);
def(GateErrorKind.NoResponse, 'NoResponse', GateErrorHandling.Unknown, RejectReason.Transport);
def(GateErrorKind.RequestTimeout, 'RequestTimeout', GateErrorHandling.Unknown, RejectReason.Timeout);
def(GateErrorKind.BadResponse, 'BadResponse', GateErrorHandling.Unknown, RejectReason.Unknown);
def(GateErrorKind.LocalInvalid, 'LocalInvalid', D, RejectReason.Unknown);

/**
 * Classifies one venue answer by its label (first) and HTTP status. `label` is '' when the body had none.
 * A TOO_BUSY / INTERNAL answer, or any 5xx, leaves an order's fate unknown.
 */
export function classifyGateError(httpStatus: number, label: string): GateErrorKind {
  if (httpStatus >= 200 && httpStatus < 300 && label === '') return GateErrorKind.Ok;
  const k = BY_LABEL.get(label);
  if (k !== undefined) return k;
  if (httpStatus === 429) return GateErrorKind.TooManyRequests;
  if (httpStatus === 401 || httpStatus === 403) return GateErrorKind.Forbidden;
  if (httpStatus >= 500) return GateErrorKind.ServerError;
  if (httpStatus === 404) return GateErrorKind.NotFound;
  return GateErrorKind.OtherReject;
}

/** Outcome of a request with no HTTP answer: `written` = the bytes may have reached the venue. */
export function classifyGateNoResponse(written: boolean, timedOut: boolean): GateErrorKind {
  if (!written) return GateErrorKind.TransportNotSent;
  return timedOut ? GateErrorKind.RequestTimeout : GateErrorKind.NoResponse;
}

export function gateKindOfLabel(label: string): GateErrorKind | undefined {
  return BY_LABEL.get(label);
}

export function gateHandlingOf(kind: GateErrorKind): GateErrorHandling {
  return HANDLING[kind] as GateErrorHandling;
}

export function gateRejectReasonOf(kind: GateErrorKind): RejectReason {
  return REASON[kind] as RejectReason;
}

export function gateErrorKindName(kind: GateErrorKind): string {
  return NAMES[kind] ?? `kind#${kind}`;
}

/** Every label this module knows (documentation and tests). */
export const GATE_ERROR_LABELS: readonly string[] = [...BY_LABEL.keys()];

/** `{label, message}` or `{label, detail}` of an error body; label '' when the body is not such an object. */
export function parseGateErrorBody(body: string): { label: string; message: string } {
  try {
    const o = JSON.parse(body) as unknown;
    if (typeof o === 'object' && o !== null) {
      const r = o as Record<string, unknown>;
      const label = typeof r['label'] === 'string' ? r['label'] : '';
      const msg = typeof r['message'] === 'string' ? r['message'] : typeof r['detail'] === 'string' ? r['detail'] : '';
      return { label, message: msg };
    }
  } catch {
    // not JSON: no label
  }
  return { label: '', message: body.slice(0, 200) };
}
