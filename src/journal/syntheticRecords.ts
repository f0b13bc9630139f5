import { ExecType, IN, OrderStatus, OrderType, packHeader, RecordType, REPORT_MSG_MAX, RejectReason, RP, Side, TimeInForce, W } from '../ring/layout.js';

/**
 * Writes ring-B intent and ring-C report records from plain values, exactly as the strategy runner and
 * the execution worker lay them out. For tests, benches and replays that need records without the
 * workers; a spec object can be reused between calls so a producer loop does not allocate.
 */
export interface IntentSpec {
  kind: 'new' | 'cancel';
  intentId: number;
  symbolId: number;
  side: number;
  orderType?: number;
  tif?: number;
  priceTicks?: number;
  qtySteps: number;
  flags?: number;
  decisionPrice?: number;
  /** cancel: the intent id of the order to cancel */
  targetId?: number;
  recvTs?: number;
  pubTs?: number;
  readTs?: number;
  eventTime?: number;
}

export function writeIntent(f64: Float64Array, i32: Int32Array, base: number, s: IntentSpec): void {
  i32[base * 2] = packHeader(s.kind === 'cancel' ? RecordType.OrderCancel : RecordType.OrderNew, 0, 0);
  i32[base * 2 + 1] = s.symbolId;
  f64[base + W.RECV_TS] = s.recvTs ?? 0;
  f64[base + W.PUB_TS] = s.pubTs ?? 0;
  f64[base + IN.INTENT_ID] = s.intentId;
  f64[base + IN.SIDE] = s.side;
  f64[base + IN.ORDER_TYPE] = s.kind === 'cancel' ? 0 : s.orderType ?? OrderType.Limit;
  f64[base + IN.TIF] = s.kind === 'cancel' ? 0 : s.tif ?? TimeInForce.Gtc;
  f64[base + IN.PRICE_TICKS] = s.priceTicks ?? 0;
  f64[base + IN.QTY_STEPS] = s.qtySteps;
  f64[base + IN.FLAGS] = s.flags ?? 0;
  f64[base + IN.DECISION_PRICE] = s.decisionPrice ?? 0;
  f64[base + IN.STOP_PRICE_TICKS] = 0;
  f64[base + IN.READ_TS] = s.readTs ?? 0;
  f64[base + IN.EVENT_TIME] = s.eventTime ?? 0;
  f64[base + IN.TARGET_ID] = s.kind === 'cancel' ? s.targetId ?? -1 : 0;
}

export interface ReportSpec {
  intentId: number;
  symbolId: number;
  side: number;
  status: number;
  execType: number;
  lastQty?: number;
  lastPrice?: number;
  /** NaN for a TRADE_LITE */
  cumQty?: number;
  avgPrice?: number;
  fee?: number;
  orderId?: number;
  errorCode?: number;
  reason?: number;
  /** ExecFlag bits (Stream, Lite, Dup, Foreign, ...) */
  flags?: number;
  /** foreign reports: the OrderOrigin */
  origin?: number;
  recvTs?: number;
  sentTs?: number;
  ackTs?: number;
  pubTs?: number;
  venueTime?: number;
  isMaker?: number;
  message?: string;
}

const UTF8 = new TextEncoder();

export function writeReport(f64: Float64Array, i32: Int32Array, u8: Uint8Array, base: number, s: ReportSpec): void {
  i32[base * 2] = packHeader(RecordType.ExecReport, s.flags ?? 0, s.origin ?? 0);
  i32[base * 2 + 1] = s.symbolId;
  f64[base + W.RECV_TS] = s.recvTs ?? 0;
  f64[base + W.PUB_TS] = s.pubTs ?? 0;
  f64[base + RP.INTENT_ID] = s.intentId;
  f64[base + RP.STATUS] = s.status;
  f64[base + RP.EXEC_TYPE] = s.execType;
  f64[base + RP.SIDE] = s.side;
  f64[base + RP.LAST_QTY] = s.lastQty ?? 0;
  f64[base + RP.LAST_PRICE] = s.lastPrice ?? 0;
  f64[base + RP.CUM_QTY] = s.cumQty ?? 0;
  f64[base + RP.AVG_PRICE] = s.avgPrice ?? 0;
  f64[base + RP.FEE] = s.fee ?? 0;
  f64[base + RP.ORDER_ID] = s.orderId ?? 0;
  f64[base + RP.ERROR_CODE] = s.errorCode ?? 0;
  f64[base + RP.SENT_TS] = s.sentTs ?? 0;
  f64[base + RP.ACK_TS] = s.ackTs ?? 0;
  f64[base + RP.VENUE_TIME] = s.venueTime ?? 0;
  f64[base + RP.IS_MAKER] = s.isMaker ?? 0;
  f64[base + RP.REASON] = s.reason ?? RejectReason.None;
  let len = 0;
  if (s.message !== undefined && s.message.length > 0) {
    const m0 = (base + RP.MSG) * 8;
    len = UTF8.encodeInto(s.message, u8.subarray(m0, m0 + REPORT_MSG_MAX)).written;
  }
  f64[base + RP.MSG_LEN] = len;
}

/** A fill report as a REST / WS API response or the stream's ORDER_TRADE_UPDATE writes it. */
export function fillSpec(intentId: number, symbolId: number, side: Side, lastQty: number, price: number, cumQty: number, avgPrice: number, done: boolean): ReportSpec {
  return {
    intentId, symbolId, side, status: done ? OrderStatus.Filled : OrderStatus.PartiallyFilled, execType: ExecType.Fill,
    lastQty, lastPrice: price, cumQty, avgPrice, orderId: 1_000_000 + intentId,
  };
}
