import { OrderType, RecordType, Side, TimeInForce } from '../ring/layout.js';
import { PriceVelocity } from './features/PriceVelocity.js';
import { VolumeSurge } from './features/VolumeSurge.js';
import { TwoSumWindow } from './features/rings.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import type { ExecReportView, MarketEvent } from './views.js';
import { FLAT_EPS, isFinalReport } from './orders.js';

export const CASCADE_MODES = ['as-coded', 'normalized', 'force-order'] as const;
export type CascadeMode = (typeof CASCADE_MODES)[number];

export type LiquidationCascadeParams = {
  symbol: string;
  quantity: number;
  mode: string;
  window: number;
  burstTicks: number;
  priceThreshold: number;
  volumeMultiplier: number;
  liqWindowMs: number;
  liqNotional: number;
  cooldownMs: number;
};

/** forceOrder events held per liquidation window: Binance pushes at most one per symbol per second */
const LIQ_CAPACITY = 1024;

/**
 * Liquidation cascade (the Rust engine's), in three modes:
 *
 * - `as-coded`: on each trade, velocity = p_t − p_{t−(N−1)} over N = `window` ticks, avgVol = mean qty over
 *   the same N ticks, burst = Σ qty over the last `burstTicks` (5). Flat: BUY if velocity > priceThreshold
 *   and burst > avgVol·volumeMultiplier; SELL if velocity < −priceThreshold and the same volume test.
 *   Kept for comparison: it compares a 5-tick sum with a per-tick mean, so with the default multiplier 3 a
 *   burst only needs 0.6× the average per-tick volume, which is barely a filter.
 * - `normalized`: the same, with the volume test mean-vs-mean: burst/burstTicks > avgVol·volumeMultiplier.
 *   avgVol includes the burst ticks (as the original), so this can only pass when window > burstTicks ·
 *   volumeMultiplier (defaults: 50 > 15).
 * - `force-order`: reads the venue's liquidation stream instead of inferring cascades from trade volume.
 *   Notional of each forceOrder (avgPrice·cumQty, or price·qty before any fill) is summed per side over
 *   the last `liqWindowMs` of event time. A BUY liquidation is a short being force-closed (forced buying,
 *   pushing the price up), a SELL one a long. Flat: BUY when the buy-side notional ≥ liqNotional and
 *   exceeds the sell side; SELL mirrored. Trades only age the window (no entry on trade volume).
 *
 * Exit (reduce-only market order for the whole position): in `as-coded` / `normalized`, when the burst
 * has faded, burst/burstTicks ≤ avgVol (the original's rule, evaluated on trades). In `force-order`, when
 * the notional of the side that drove the entry falls below liqNotional (the cascade is over), evaluated
 * on every trade or forceOrder of the symbol.
 *
 * Market orders, one in flight, at least `cooldownMs` of event time between orders; the state
 * (flat/long/short) is the runner's position from fills. No trading until the windows are full
 * (`window` trades; in force-order mode, `liqWindowMs` of event time since the first event).
 */
export class LiquidationCascade implements Strategy {
  readonly name = 'liquidation-cascade';
  submitted = 0;
  refused = 0;
  /** last values at a decision (observability, tests) */
  velocity = NaN;
  burst = NaN;
  avgVol = NaN;
  buyLiqNotional = 0;
  sellLiqNotional = 0;
  private readonly mode: CascadeMode;
  private readonly vel: PriceVelocity;
  private readonly vol: VolumeSurge;
  /** A = BUY-side liquidation notional, B = SELL-side */
  private readonly liq: TwoSumWindow;
  private readonly req = new OrderRequest();
  private inFlight = -1;
  private lastOrderTime = -Infinity;
  /** event time of the event being handled: kept in a field so helpers take no double argument (boxing) */
  private now = 0;
  /** force-order warm-up starts at the first event of the symbol */
  private firstTime = NaN;

  constructor(
    private readonly symbolId: number,
    private readonly p: LiquidationCascadeParams,
  ) {
    const mode = CASCADE_MODES.find((m) => m === p.mode);
    if (mode === undefined) throw new RangeError(`mode must be one of ${CASCADE_MODES.join(', ')} (got ${p.mode})`);
    if (p.burstTicks > p.window) throw new RangeError(`burstTicks (${p.burstTicks}) must not exceed window (${p.window})`);
    this.mode = mode;
    this.vel = new PriceVelocity(p.window);
    // overlap: avgVol is over the whole window, the burst ticks included (as the original)
    this.vol = new VolumeSurge(p.burstTicks, p.window, { overlap: true });
    this.liq = new TwoSumWindow({ windowMs: p.liqWindowMs, capacity: LIQ_CAPACITY });
  }

  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.symbolId !== this.symbolId) return;
    const t = ev.type;
    this.now = ev.eventTime;
    if (this.mode === 'force-order') {
      if (t === RecordType.ForceOrder) this.onLiquidation(ev);
      else if (t === RecordType.AggTrade || t === RecordType.Trade) this.liq.advanceTo(this.now);
      else return;
      this.decideForceOrder(ctx);
      return;
    }
    if (t !== RecordType.AggTrade && t !== RecordType.Trade) return;
    this.vel.update(ev.price);
    this.vol.update(ev.qty);
    if (!this.vel.ready || !this.vol.ready) return;
    const v = this.vel.value;
    const burst = this.vol.recentSum;
    const avg = this.vol.baselineMean;
    this.velocity = v;
    this.burst = burst;
    this.avgVol = avg;
    if (!this.canOrder()) return;
    const pos = ctx.position(this.symbolId);
    if (pos > FLAT_EPS || pos < -FLAT_EPS) {
      if (burst / this.p.burstTicks <= avg) this.exit(ctx);
      return;
    }
    const surge = this.mode === 'normalized' ? burst / this.p.burstTicks > avg * this.p.volumeMultiplier : burst > avg * this.p.volumeMultiplier;
    if (!surge) return;
    const thr = this.p.priceThreshold;
    if (v > thr) this.enter(Side.Buy, ctx);
    else if (v < -thr) this.enter(Side.Sell, ctx);
  }

  private onLiquidation(ev: MarketEvent): void {
    const cum = ev.liquidationCumQty;
    const avgPx = ev.liquidationAvgPrice;
    // a snapshot before any fill has no average price: fall back to the order's price and size
    const notional = cum > 0 && avgPx > 0 ? avgPx * cum : ev.liquidationPrice * ev.liquidationQty;
    if (!(notional > 0)) return;
    const liq = this.liq;
    liq.nextTime = this.now;
    if (ev.liquidationSide === Side.Buy) {
      liq.nextA = notional;
      liq.nextB = 0;
    } else {
      liq.nextA = 0;
      liq.nextB = notional;
    }
    liq.addNext();
  }

  private decideForceOrder(ctx: StrategyContext): void {
    const liq = this.liq;
    if (this.firstTime !== this.firstTime) this.firstTime = this.now;
    // the sums are never too high, but before a whole window has been watched a cascade's start is missing
    if (this.now - this.firstTime < this.p.liqWindowMs) return;
    const buy = liq.sumA;
    const sell = liq.sumB;
    this.buyLiqNotional = buy;
    this.sellLiqNotional = sell;
    if (!this.canOrder()) return;
    const thr = this.p.liqNotional;
    const pos = ctx.position(this.symbolId);
    if (pos > FLAT_EPS) {
      if (buy < thr) this.exit(ctx);
    } else if (pos < -FLAT_EPS) {
      if (sell < thr) this.exit(ctx);
    } else if (buy >= thr && buy > sell) this.enter(Side.Buy, ctx);
    else if (sell >= thr && sell > buy) this.enter(Side.Sell, ctx);
  }

  private canOrder(): boolean {
    return this.inFlight < 0 && this.now - this.lastOrderTime >= this.p.cooldownMs;
  }

  private enter(side: Side, ctx: StrategyContext): void {
    const req = this.req;
    req.qty = this.p.quantity;
    req.reduceOnly = false;
    this.send(side, ctx);
  }

  /** closes the whole position (reduce-only) */
  private exit(ctx: StrategyContext): void {
    const pos = ctx.position(this.symbolId);
    const req = this.req;
    req.qty = pos > 0 ? pos : -pos;
    req.reduceOnly = true;
    this.send(pos > 0 ? Side.Sell : Side.Buy, ctx);
  }

  /** sends `req` (qty and reduceOnly already set) as a market order */
  private send(side: Side, ctx: StrategyContext): void {
    const req = this.req;
    req.symbolId = this.symbolId;
    req.side = side;
    req.type = OrderType.Market;
    req.tif = TimeInForce.None;
    req.price = 0;
    const id = ctx.submit(req);
    if (id < 0) {
      this.refused++;
      return;
    }
    this.submitted++;
    this.inFlight = id;
    this.lastOrderTime = this.now;
  }

  onReport(r: ExecReportView, _ctx: StrategyContext): void {
    if (r.intentId === this.inFlight && isFinalReport(r)) this.inFlight = -1;
  }

  onTimer(_nowMs: number, _ctx: StrategyContext): void {}
}
