import { ExecType, OrderStatus, RejectReason } from '../../ring/layout.js';
import { BinanceErrorKind, ErrorHandling, classifyBinanceError, handlingOf, rejectReasonOf } from './errors.js';

/** What one `POST /fapi/v1/order` response means for the order (protocols.md §1.6, §1.7, §1.10). */
export interface OrderOutcome {
  status: OrderStatus;
  execType: ExecType;
  lastQty: number;
  lastPrice: number;
  cumQty: number;
  avgPrice: number;
  orderId: number;
  /** venue error code (negative), 0 if none */
  code: number;
  venueTime: number;
  reason: RejectReason;
  message: string;
}

/**
 * What a venue error answer means for an order (the taxonomy of errors.ts, protocols.md §1.6, §1.10):
 * `unknown` when the venue may have acted (resolve by client order id, never resend blindly: -1000,
 * -1001, -1006, -1007, 503 "Unknown error...", other 5xx without a known code, 408), else a definite
 * reject with its typed reason (503 "Service Unavailable." and -1008 did not place the order). REST and
 * the WebSocket API classify alike.
 */
export function classifyOrderError(httpStatus: number, code: number, msg: string): { unknown: boolean; reason: RejectReason } {
  const kind = classifyBinanceError(httpStatus, code, msg);
  // A positive code on a non-200 answer is no venue error we know: a plain reject, as before.
  if (kind === BinanceErrorKind.Ok) return { unknown: false, reason: RejectReason.Venue };
  if (handlingOf(kind) === ErrorHandling.Unknown) return { unknown: true, reason: RejectReason.Unknown };
  return { unknown: false, reason: rejectReasonOf(kind) };
}

const STATUS: Record<string, OrderStatus> = {
  NEW: OrderStatus.New,
  PARTIALLY_FILLED: OrderStatus.PartiallyFilled,
  FILLED: OrderStatus.Filled,
  CANCELED: OrderStatus.Canceled,
  REJECTED: OrderStatus.Rejected,
  EXPIRED: OrderStatus.Expired,
  EXPIRED_IN_MATCH: OrderStatus.Expired,
};

function outcome(status: OrderStatus, execType: ExecType, reason: RejectReason, code: number, message: string): OrderOutcome {
  return { status, execType, lastQty: 0, lastPrice: 0, cumQty: 0, avgPrice: 0, orderId: 0, code, venueTime: 0, reason, message };
}

/**
 * Classifies an HTTP status and body. Parsing the response with JSON.parse is fine here: this runs in the
 * execution worker after the order left (the response path), never on the market-data path.
 */
export function classifyOrderResponse(httpStatus: number, body: Buffer): OrderOutcome {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    const text = body.toString('utf8', 0, Math.min(body.length, 80));
    // A non-JSON 5xx (e.g. a gateway page): the venue may have taken the order.
    if (httpStatus >= 500) return outcome(OrderStatus.Unknown, ExecType.Reject, RejectReason.Unknown, 0, `HTTP ${httpStatus}: ${text}`);
    return outcome(OrderStatus.Rejected, ExecType.Reject, RejectReason.Venue, 0, `HTTP ${httpStatus}: ${text}`);
  }
  if (httpStatus !== 200 || typeof j.code === 'number') {
    const code = typeof j.code === 'number' ? j.code : 0;
    const msg = typeof j.msg === 'string' ? j.msg : `HTTP ${httpStatus}`;
    const e = classifyOrderError(httpStatus, code, typeof j.msg === 'string' ? j.msg : '');
    return outcome(e.unknown ? OrderStatus.Unknown : OrderStatus.Rejected, ExecType.Reject, e.reason, code, msg);
  }
  return orderOutcome(j);
}

/**
 * What an order object (the REST / WS API order response, or GET /fapi/v1/order) says: its status, and
 * its cumulative fill as both the last and the cumulative quantity (a response reports one state).
 */
export function orderOutcome(j: Record<string, unknown>): OrderOutcome {
  const status = STATUS[String(j.status)];
  if (status === undefined) return outcome(OrderStatus.Unknown, ExecType.Reject, RejectReason.Unknown, 0, `unrecognised order status ${String(j.status)}`);
  const executed = Number(j.executedQty ?? 0);
  const avg = Number(j.avgPrice ?? 0);
  let execType: ExecType;
  if (executed > 0) execType = ExecType.Fill;
  else if (status === OrderStatus.Expired) execType = ExecType.Expired;
  else if (status === OrderStatus.Canceled) execType = ExecType.Canceled;
  else if (status === OrderStatus.Rejected) execType = ExecType.Reject;
  else execType = ExecType.Ack;
  return {
    status,
    execType,
    lastQty: executed,
    lastPrice: avg,
    cumQty: executed,
    avgPrice: avg,
    orderId: Number(j.orderId ?? 0),
    code: 0,
    venueTime: Number(j.updateTime ?? 0),
    reason: status === OrderStatus.Rejected ? RejectReason.Venue : RejectReason.None,
    message: '',
  };
}

const ALGO_STATUS: Record<string, OrderStatus> = {
  NEW: OrderStatus.New,
  TRIGGERING: OrderStatus.New,
  TRIGGERED: OrderStatus.New,
  // triggered and done: the fills are reported by the triggered order (same client id) on the user stream
  FINISHED: OrderStatus.New,
  CANCELED: OrderStatus.Canceled,
  REJECTED: OrderStatus.Rejected,
  EXPIRED: OrderStatus.Expired,
};

/**
 * What an algo-order answer means (`POST` / `DELETE /fapi/v1/algoOrder`, protocols.md §1.5): the algo
 * object (`algoStatus`; ORDER_ID = `algoId`), or a cancel's `{"algoId":…,"code":"200","msg":"success"}`
 * (a string code: success, unlike the negative numeric codes of errors), or an error.
 */
export function classifyAlgoResponse(httpStatus: number, body: Buffer): OrderOutcome {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return classifyOrderResponse(httpStatus, body);
  }
  if (httpStatus !== 200 || typeof j.code === 'number') return classifyOrderResponse(httpStatus, body);
  const algoId = Number(j.algoId ?? 0);
  if (j.code === '200') {
    const o = outcome(OrderStatus.Canceled, ExecType.Canceled, RejectReason.None, 0, '');
    o.orderId = algoId;
    return o;
  }
  const status = ALGO_STATUS[String(j.algoStatus)];
  if (status === undefined) return outcome(OrderStatus.Unknown, ExecType.Reject, RejectReason.Unknown, 0, `unrecognised algo status ${String(j.algoStatus)}`);
  const x = status === OrderStatus.Canceled ? ExecType.Canceled : status === OrderStatus.Expired ? ExecType.Expired : status === OrderStatus.Rejected ? ExecType.Reject : ExecType.Ack;
  const o = outcome(status, x, status === OrderStatus.Rejected ? RejectReason.Venue : RejectReason.None, 0, '');
  o.orderId = algoId;
  o.venueTime = Number(j.updateTime ?? 0);
  return o;
}
