import { ExecType, RecordType, Side } from '../ring/layout.js';
import type { PingPongParams } from '../config/Config.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import type { ExecReportView, MarketEvent } from './views.js';

/**
 * Ping-pong (a test strategy from the Rust engine): while the last price is above a trigger and the
 * cooldown has passed (event time), alternate BUY and SELL market orders of a fixed size. One order at a
 * time: the next waits for the previous one's final report. Bench mode (`everyNTicks` > 0) fires on every
 * Nth market event of the symbol instead, so the end-to-end profile has a steady order flow.
 */
export class PingPong implements Strategy {
  readonly name = 'ping-pong';
  /** orders submitted / refused by risk or ring */
  submitted = 0;
  refused = 0;
  private readonly req = new OrderRequest();
  private nextSide: Side = Side.Buy;
  private lastOrderTime = -Infinity;
  private ticks = 0;
  private inFlight = -1;
  private lastPrice = NaN;

  constructor(
    private readonly symbolId: number,
    private readonly p: PingPongParams,
  ) {}

  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.symbolId !== this.symbolId) return;
    const t = ev.type;
    if (t === RecordType.AggTrade || t === RecordType.Trade) this.lastPrice = ev.price;
    else if (t === RecordType.BookTicker) {
      if (this.lastPrice !== this.lastPrice) this.lastPrice = (ev.bid + ev.ask) / 2;
    } else return;
    this.ticks++;
    if (this.inFlight >= 0) return;
    const eventTime = ev.eventTime;
    if (this.p.everyNTicks > 0) {
      if (this.ticks % this.p.everyNTicks !== 0) return;
    } else {
      if (!(this.lastPrice > this.p.triggerPrice)) return;
      if (eventTime - this.lastOrderTime < this.p.cooldownMs) return;
    }
    if (ctx.isStale(this.symbolId)) return;
    const req = this.req;
    req.market(this.symbolId, this.nextSide, this.p.quantity, false);
    const id = ctx.submit(req);
    if (id < 0) {
      this.refused++;
      return;
    }
    this.submitted++;
    this.inFlight = id;
    this.lastOrderTime = eventTime;
    this.nextSide = this.nextSide === Side.Buy ? Side.Sell : Side.Buy;
  }

  onTimer(_nowMs: number, _ctx: StrategyContext): void {}

  onReport(r: ExecReportView, _ctx: StrategyContext): void {
    if (r.intentId !== this.inFlight) return;
    const x = r.execType;
    if (x === ExecType.Fill ? r.status === 3 /* Filled */ : x !== ExecType.Ack) this.inFlight = -1;
  }
}
