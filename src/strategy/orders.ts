import { ExecType, OrderStatus } from '../ring/layout.js';
import type { ExecReportView } from './views.js';

/** The report ends the order's life (filled, canceled, rejected, expired): nothing more will fill. */
export function isFinalReport(r: ExecReportView): boolean {
  const x = r.execType;
  return x === ExecType.Fill ? r.status === OrderStatus.Filled : x !== ExecType.Ack;
}

/** Positions are sums of decimal fills: below this a position is flat. */
export const FLAT_EPS = 1e-9;
