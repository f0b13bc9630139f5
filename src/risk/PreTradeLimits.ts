import { RejectReason } from '../ring/layout.js';
import type { OrderRequest } from '../strategy/Strategy.js';

export interface PreTradeLimitsConfig {
  maxOrderQty: number;
  /** absolute position bound per symbol, counting orders in flight on the same side */
  maxPosition: number;
}

/** Allocation-free inline checks run on every intent before it reaches ring B; each reject is counted. */
export class PreTradeLimits {
  readonly rejects = { maxOrderQty: 0, maxPosition: 0 };

  constructor(private cfg: PreTradeLimitsConfig) {}

  update(cfg: PreTradeLimitsConfig): void {
    this.cfg = cfg;
  }

  /**
   * @param position signed filled position of the symbol
   * @param pendingSameSide base quantity in flight on the order's side (positive)
   */
  check(req: OrderRequest, position: number, pendingSameSide: number): RejectReason {
    if (!(req.qty > 0) || req.qty > this.cfg.maxOrderQty) {
      this.rejects.maxOrderQty++;
      return RejectReason.MaxOrderQty;
    }
    const worst = position + req.side * (pendingSameSide + req.qty);
    if (!req.reduceOnly && Math.abs(worst) > this.cfg.maxPosition + 1e-12) {
      this.rejects.maxPosition++;
      return RejectReason.MaxPosition;
    }
    return RejectReason.None;
  }
}
