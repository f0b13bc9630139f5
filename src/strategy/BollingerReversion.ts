import { RecordType, Side } from '../ring/layout.js';
import { Bollinger } from './features/Bollinger.js';
import { PRICE_SOURCES } from './LookbackMomentum.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import type { ExecReportView, MarketEvent } from './views.js';
import { FLAT_EPS, isFinalReport } from './orders.js';

export type BollingerReversionParams = {
  symbol: string;
  quantity: number;
  source: string;
  period: number;
  stdMultiplier: number;
  cooldownMs: number;
};

/**
 * Bollinger mean reversion (the CCXT MVP's): middle = SMA of the last `period` samples (trades, or closed
 * klines with `source: kline`), bands = middle ± stdMultiplier·σ (population σ of the same window, the
 * current sample included, as a rolling-window band over closes is usually computed). Flat: BUY when the
 * price is below the lower band, SELL when above the upper band (strictly: a flat window has zero width and
 * never trades). Exit at the mean: a long closes when price ≥ middle, a short when price ≤ middle, with a
 * reduce-only market order for the whole position.
 *
 * Market orders, one in flight, at least `cooldownMs` of event time between orders; position from fills.
 * No trading until `period` samples have been seen.
 */
export class BollingerReversion implements Strategy {
  readonly name = 'bollinger-reversion';
  submitted = 0;
  refused = 0;
  /** the bands at the last sample (observability, tests) */
  lower = NaN;
  middle = NaN;
  upper = NaN;
  private readonly kline: boolean;
  private readonly bb: Bollinger;
  private readonly req = new OrderRequest();
  private inFlight = -1;
  private lastOrderTime = -Infinity;

  constructor(
    private readonly symbolId: number,
    private readonly p: BollingerReversionParams,
  ) {
    if (!PRICE_SOURCES.some((s) => s === p.source)) throw new RangeError(`source must be one of ${PRICE_SOURCES.join(', ')} (got ${p.source})`);
    this.kline = p.source === 'kline';
    this.bb = new Bollinger(p.period, p.stdMultiplier);
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
    const bb = this.bb;
    bb.update(price);
    if (!bb.ready) return;
    // σ once for both bands
    const mid = bb.mean;
    const half = bb.k * bb.std;
    const lower = mid - half;
    const upper = mid + half;
    this.lower = lower;
    this.middle = mid;
    this.upper = upper;
    if (this.inFlight >= 0) return;
    const now = ev.eventTime;
    if (now - this.lastOrderTime < this.p.cooldownMs) return;
    const pos = ctx.position(this.symbolId);
    let side: Side;
    let qty: number;
    let reduce = false;
    if (pos > FLAT_EPS) {
      if (!(price >= mid)) return;
      side = Side.Sell;
      qty = pos;
      reduce = true;
    } else if (pos < -FLAT_EPS) {
      if (!(price <= mid)) return;
      side = Side.Buy;
      qty = -pos;
      reduce = true;
    } else if (price < lower) {
      side = Side.Buy;
      qty = this.p.quantity;
    } else if (price > upper) {
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
