import { RecordType, Side } from '../ring/layout.js';
import { PriceVelocity } from './features/PriceVelocity.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import type { ExecReportView, MarketEvent } from './views.js';
import { FLAT_EPS, isFinalReport } from './orders.js';

/** what a sample is: each trade's price, or each closed candle's close (the MVP polled OHLCV candles) */
export const PRICE_SOURCES = ['trade', 'kline'] as const;

export type LookbackMomentumParams = {
  symbol: string;
  quantity: number;
  source: string;
  lookback: number;
  threshold: number;
  cooldownMs: number;
};

/**
 * Lookback momentum (the CCXT MVP's): return r = p_t / p_{t−lookback} − 1 over `lookback` samples (trades,
 * or closed klines with `source: kline`). Flat: BUY when r > threshold, SELL when r < −threshold.
 * Exit (the MVP did not specify one): a long closes when its momentum is gone, r ≤ 0; a short when r ≥ 0;
 * a reduce-only market order for the whole position. A reversal therefore goes through flat: the exit,
 * then a new entry on a later sample once the opposite threshold is crossed.
 *
 * Market orders, one in flight, at least `cooldownMs` of event time between orders; position from fills.
 * No trading until lookback + 1 samples have been seen.
 */
export class LookbackMomentum implements Strategy {
  readonly name = 'lookback-momentum';
  submitted = 0;
  refused = 0;
  /** last return computed (observability, tests) */
  ret = NaN;
  private readonly kline: boolean;
  private readonly vel: PriceVelocity;
  private readonly req = new OrderRequest();
  private inFlight = -1;
  private lastOrderTime = -Infinity;

  constructor(
    private readonly symbolId: number,
    private readonly p: LookbackMomentumParams,
  ) {
    if (!PRICE_SOURCES.some((s) => s === p.source)) throw new RangeError(`source must be one of ${PRICE_SOURCES.join(', ')} (got ${p.source})`);
    this.kline = p.source === 'kline';
    // a window of lookback + 1 prices spans `lookback` returns
    this.vel = new PriceVelocity(p.lookback + 1);
  }

  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.symbolId !== this.symbolId) return;
    const t = ev.type;
    let price: number;
    if (this.kline) {
      // an open candle's close still moves: only final candles are samples
      if (t !== RecordType.Kline || !ev.closed) return;
      price = ev.close;
    } else {
      if (t !== RecordType.AggTrade && t !== RecordType.Trade) return;
      price = ev.price;
    }
    const vel = this.vel;
    vel.update(price);
    if (!vel.ready) return;
    const r = vel.relative;
    this.ret = r;
    if (this.inFlight >= 0) return;
    const now = ev.eventTime;
    if (now - this.lastOrderTime < this.p.cooldownMs) return;
    const pos = ctx.position(this.symbolId);
    const thr = this.p.threshold;
    let side: Side;
    let qty: number;
    let reduce = false;
    if (pos > FLAT_EPS) {
      if (!(r <= 0)) return;
      side = Side.Sell;
      qty = pos;
      reduce = true;
    } else if (pos < -FLAT_EPS) {
      if (!(r >= 0)) return;
      side = Side.Buy;
      qty = -pos;
      reduce = true;
    } else if (r > thr) {
      side = Side.Buy;
      qty = this.p.quantity;
    } else if (r < -thr) {
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
