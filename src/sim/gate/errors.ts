import type { RejectReason } from '../Venue.js';

/**
 * A Gate REST error (protocols.md §2.10): non-2xx with `{"label","message"}`; a few labels carry
 * `detail` instead of `message` (ORDER_POC_IMMEDIATE, as captured).
 */
export interface GateError {
  http: number;
  label: string;
  message: string;
  /** Write the text under `detail` instead of `message`. */
  detail?: boolean;
}

export function gerr(label: string, message: string, http = 400, detail = false): GateError {
  return detail ? { http, label, message, detail } : { http, label, message };
}

export function errorJson(e: GateError): string {
  return e.detail ? JSON.stringify({ label: e.label, detail: e.message }) : JSON.stringify({ label: e.label, message: e.message });
}

export function isGateError(v: unknown): v is GateError {
  return typeof v === 'object' && v !== null && 'label' in v && 'http' in v;
}

export const GE = {
  missingHeader: (h: string): GateError => gerr('MISSING_REQUIRED_HEADER', `Missing required header: ${h}`, 401),
  invalidKey: (): GateError => gerr('INVALID_KEY', 'Invalid key provided', 401),
  invalidSignature: (): GateError => gerr('INVALID_SIGNATURE', 'Signature mismatch', 401),
  requestExpired: (): GateError => gerr('REQUEST_EXPIRED', 'Request timestamp is too far from server time (60s)', 401),
  exptime: (): GateError => gerr('REQUEST_EXPIRED', 'Request received after x-gate-exptime', 400),
  invalidParam: (name: string, value: string): GateError => gerr('INVALID_PARAM_VALUE', `Invalid parameter \`${name}\` with value: ${value}`),
  missingParam: (name: string): GateError => gerr('MISSING_REQUIRED_PARAM', `Missing required parameter: ${name}`),
  invalidBody: (why: string): GateError => gerr('INVALID_REQUEST_BODY', why),
  contractNotFound: (c: string): GateError => gerr('CONTRACT_NOT_FOUND', `Contract ${c} not found`),
  orderNotFound: (id: string): GateError => gerr('ORDER_NOT_FOUND', `Order with ID ${id} not found`, 404),
  orderFinished: (id: string): GateError => gerr('ORDER_FINISHED', `Order ${id} has already finished`),
  sizeTooSmall: (min: number): GateError => gerr('SIZE_TOO_SMALL', `Order size is smaller than the minimum ${min}`),
  sizeTooLarge: (max: number): GateError => gerr('SIZE_TOO_LARGE', `Order size is larger than the maximum ${max}`),
  priceDeviated: (price: string, mark: string): GateError => gerr('PRICE_TOO_DEVIATED', `order price ${price} deviates too much from mark price ${mark}`),
  pocImmediate: (price: string, counter: string): GateError => gerr('ORDER_POC_IMMEDIATE', `order price ${price} while counter price ${counter}`, 400, true),
  fok: (): GateError => gerr('ORDER_FOK', 'FOK order cannot be filled completely'),
  increasePosition: (): GateError => gerr('INCREASE_POSITION', 'reduce-only order would increase position'),
  positionEmpty: (): GateError => gerr('POSITION_EMPTY', 'no position to close'),
  insufficient: (): GateError => gerr('INSUFFICIENT_AVAILABLE', 'Insufficient available balance'),
  tooManyOrders: (limit: number): GateError => gerr('TOO_MANY_ORDERS', `Open orders exceed the limit ${limit}`),
  leverageTooHigh: (max: number): GateError => gerr('LEVERAGE_TOO_HIGH', `leverage exceeds the maximum ${max}`),
  leverageTooLow: (): GateError => gerr('LEVERAGE_TOO_LOW', 'leverage is below the minimum 1'),
  tooManyRequests: (code: number): GateError => gerr('TOO_MANY_REQUESTS', `Request Rate limit Exceeded (${code})`, 429),
  notFound: (path: string): GateError => gerr('NOT_FOUND', `No route for ${path}`, 404),
  tooLarge: (): GateError => gerr('INVALID_REQUEST_BODY', 'Request body too large', 413),
  internal: (): GateError => gerr('INTERNAL', 'Internal server error', 500),
} as const;

/** Gate error for a venue-neutral order reject. */
export function rejectToGate(reason: RejectReason, ctx: { min: number; max: number; limit: number; price: string; counter: string }): GateError {
  switch (reason) {
    case 'QTY_BELOW_MIN':
      return GE.sizeTooSmall(ctx.min);
    case 'QTY_ABOVE_MAX':
      return GE.sizeTooLarge(ctx.max);
    case 'PRICE_BELOW_MIN':
      return GE.invalidParam('price', ctx.price);
    case 'PRICE_ABOVE_MAX':
      return GE.priceDeviated(ctx.price, ctx.counter);
    case 'REDUCE_ONLY_REJECTED':
      return GE.increasePosition();
    case 'FOK_NOT_FILLED':
      return GE.fok();
    case 'POST_ONLY_WOULD_TAKE':
      return GE.pocImmediate(ctx.price, ctx.counter);
    case 'MAX_OPEN_ORDERS':
      return GE.tooManyOrders(ctx.limit);
    case 'MARGIN_INSUFFICIENT':
      return GE.insufficient();
    case 'DUPLICATE_CLIENT_ORDER_ID':
    case 'MIN_NOTIONAL':
      // Not produced for Gate orders (generated client ids, no notional floor); kept total.
      return GE.invalidParam('text', '');
    case 'UNKNOWN_ORDER':
      return GE.orderNotFound('');
  }
}
