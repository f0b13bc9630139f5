import { ExecType, OrderStatus } from '../../ring/layout.js';

/**
 * A Gate order object (REST answer, WS API result or `futures.orders` push) in ring-C terms. Gate has two
 * states, `open` and `finished`, and says how an order finished in `finish_as`; sizes are signed contracts
 * and `left` the unfilled rest, so the filled size is |size| - |left|.
 */
export interface GateOrderOutcome {
  status: OrderStatus;
  execType: ExecType;
  /** contracts filled so far */
  cumQty: number;
  /** average fill price (NaN when none) */
  avgPrice: number;
}

export function gateOrderOutcome(state: string, finishAs: string, size: number, left: number, fillPrice: number, out: GateOrderOutcome): GateOrderOutcome {
  const cum = Math.abs(size) - Math.abs(left);
  out.cumQty = cum;
  out.avgPrice = cum > 0 ? fillPrice : NaN;
  if (state === 'open') {
    out.status = cum > 0 ? OrderStatus.PartiallyFilled : OrderStatus.New;
    out.execType = cum > 0 ? ExecType.Fill : ExecType.Ack;
  } else if (finishAs === 'filled' || (cum > 0 && left === 0)) {
    out.status = OrderStatus.Filled;
    out.execType = ExecType.Fill;
  } else if (finishAs === 'ioc') {
    // an IOC's unfilled rest (Binance: EXPIRED)
    out.status = OrderStatus.Expired;
    out.execType = ExecType.Expired;
  } else {
    // cancelled, reduce_only, position_closed, stp, liquidated, auto_deleveraged
    out.status = OrderStatus.Canceled;
    out.execType = ExecType.Canceled;
  }
  return out;
}

/** A decimal that Gate writes as a number or a string ("" or absent -> NaN). */
export function gateNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') return Number(v);
  return NaN;
}
