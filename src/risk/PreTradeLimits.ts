import { RejectReason } from '../ring/layout.js';
import { RiskEngine } from './RiskEngine.js';
import { RISK_OFF } from './RiskConfig.js';

export interface PreTradeLimitsConfig {
  maxOrderQty: number;
  /** absolute position bound per symbol, counting orders in flight on the same side */
  maxPosition: number;
}

/**
 * The two basic limits (max order quantity, max position) as a RiskEngine with every other rule off: what
 * tests, benches and the simplest configurations use. `rejects` keeps the two counters by name.
 */
export class PreTradeLimits extends RiskEngine {
  constructor(cfg: PreTradeLimitsConfig) {
    super({ ...RISK_OFF, maxOrderQty: cfg.maxOrderQty, maxPositionQty: cfg.maxPosition });
  }

  get rejects(): { maxOrderQty: number; maxPosition: number } {
    return { maxOrderQty: this.rejectsByReason[RejectReason.MaxOrderQty]!, maxPosition: this.rejectsByReason[RejectReason.MaxPosition]! };
  }
}
