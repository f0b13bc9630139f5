import { RecordType, Side } from '../ring/layout.js';
import { PriceVelocity } from './features/PriceVelocity.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import type { ExecReportView, MarketEvent } from './views.js';
import { FLAT_EPS, isFinalReport } from './orders.js';

export type FeeMomentumParams = {
  symbol: string;
  quantity: number;
  window: number;
  baseThreshold: number;
  takerFee: number;
  cooldownMs: number;
};

/**
 * Fee-aware momentum (the Rust engine's): on each trade of the symbol, velocity = p_t − p_{t−(N−1)} over N
 * trade ticks and threshold = base + p_t·2·takerFee (a round trip's taker fees in price units). Flat: BUY
 * when velocity > threshold, SELL when < −threshold. Long exits (SELL, reduce-only, the whole position)
 * when velocity < 0; short exits when > 0. Market orders, one at a time, at least `cooldownMs` of event
 * time apart. The state (flat/long/short) is the runner's position from fills, not the signal.
 * Trades only: it does not read the book.
 */
export class FeeMomentum implements Strategy {
  readonly name = 'fee-momentum';
  submitted = 0;
  refused = 0;
  /** last computed velocity and threshold (observability, tests) */
  velocity = NaN;
  threshold = NaN;
  private readonly vel: PriceVelocity;
  private readonly req = new OrderRequest();
  private inFlight = -1;
  private lastOrderTime = -Infinity;

  constructor(
    private readonly symbolId: number,
    private readonly p: FeeMomentumParams,
  ) {
    this.vel = new PriceVelocity(p.window);
  }

  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.symbolId !== this.symbolId) return;
    const t = ev.type;
    if (t !== RecordType.AggTrade && t !== RecordType.Trade) return;
    const price = ev.price;
    const vel = this.vel;
    vel.update(price);
    if (!vel.ready) return;
    const v = vel.value;
    const thr = this.p.baseThreshold + price * 2 * this.p.takerFee;
    this.velocity = v;
    this.threshold = thr;
    if (this.inFlight >= 0) return;
    const now = ev.eventTime;
    if (now - this.lastOrderTime < this.p.cooldownMs) return;
    const pos = ctx.position(this.symbolId);
    let side: Side;
    let qty: number;
    let reduce = false;
    if (pos > FLAT_EPS) {
      if (!(v < 0)) return;
      side = Side.Sell;
      qty = pos;
      reduce = true;
    } else if (pos < -FLAT_EPS) {
      if (!(v > 0)) return;
      side = Side.Buy;
      qty = -pos;
      reduce = true;
    } else if (v > thr) {
      side = Side.Buy;
      qty = this.p.quantity;
    } else if (v < -thr) {
      side = Side.Sell;
      qty = this.p.quantity;
    } else return;
    const req = this.req;
    req.market(this.symbolId, side, qty, reduce);
    const id = ctx.submit(req);
    if (id < 0) {
      this.refused++;
      return;
    }
    this.submitted++;
    this.inFlight = id;
    this.lastOrderTime = now;
  }

  onReport(r: ExecReportView, _ctx: StrategyContext): void {
    if (r.intentId === this.inFlight && isFinalReport(r)) this.inFlight = -1;
  }

  onTimer(_nowMs: number, _ctx: StrategyContext): void {}
}
