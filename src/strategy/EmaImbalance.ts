import { BookState, OrderType, RecordType, Side, TimeInForce } from '../ring/layout.js';
import { Ema } from './features/Ema.js';
import { BookImbalance } from './features/book.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import type { ExecReportView, MarketEvent } from './views.js';
import { FLAT_EPS, isFinalReport } from './orders.js';

export type EmaImbalanceParams = {
  symbol: string;
  quantity: number;
  fastPeriod: number;
  slowPeriod: number;
  diffThreshold: number;
  obiLevels: number;
  obiThreshold: number;
  holdMs: number;
};

/**
 * EMA crossover confirmed by order-book imbalance (the Python event-bus system's momentum): EMAs fast/slow
 * of trade prices (α = 2/(n+1), valid after n trades), diff = (fast − slow)/slow, OBI over the top
 * `obiLevels` levels of the feed's book. On a trade, when flat with nothing in flight and the book Live:
 * BUY if diff > threshold and OBI > obiThreshold, a LIMIT IOC at the best ask; SELL mirrored at the best
 * bid. The entry arms an event-time timer at entry time + holdMs; when it fires and a position is held,
 * a reduce-only MARKET order closes it (if an order is still in flight then, the exit waits for the next
 * event). An IOC that did not fill leaves the strategy flat, and the timer finds nothing to close.
 */
export class EmaImbalance implements Strategy {
  readonly name = 'ema-imbalance';
  submitted = 0;
  refused = 0;
  /** last diff and OBI seen at a decision (observability, tests) */
  diff = NaN;
  obi = NaN;
  private readonly fast: Ema;
  private readonly slow: Ema;
  private readonly imb: BookImbalance;
  private readonly req = new OrderRequest();
  private inFlight = -1;

  constructor(
    private readonly symbolId: number,
    private readonly p: EmaImbalanceParams,
  ) {
    this.fast = new Ema(p.fastPeriod);
    this.slow = new Ema(p.slowPeriod);
    this.imb = new BookImbalance(p.obiLevels);
  }

  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.symbolId !== this.symbolId) return;
    const t = ev.type;
    if (t !== RecordType.AggTrade && t !== RecordType.Trade) return;
    const price = ev.price;
    this.fast.update(price);
    this.slow.update(price);
    if (!this.fast.ready || !this.slow.ready) return;
    if (this.inFlight >= 0) return;
    const sym = this.symbolId;
    const pos = ctx.position(sym);
    if (pos > FLAT_EPS || pos < -FLAT_EPS) return;
    // the imbalance and the entry price come from the book: only while the feed says it is whole and current
    if (ctx.bookState(sym) !== BookState.Live) return;
    const book = ctx.book(sym);
    this.imb.update(book);
    if (!this.imb.ready) return;
    const diff = (this.fast.value - this.slow.value) / this.slow.value;
    const obi = this.imb.value;
    this.diff = diff;
    this.obi = obi;
    const th = this.p.diffThreshold;
    const ob = this.p.obiThreshold;
    let side: Side;
    let px: number;
    if (diff > th && obi > ob) {
      side = Side.Buy;
      px = book.askPrice(0);
    } else if (diff < -th && obi < -ob) {
      side = Side.Sell;
      px = book.bidPrice(0);
    } else return;
    const req = this.req;
    req.symbolId = sym;
    req.side = side;
    req.type = OrderType.Limit;
    req.tif = TimeInForce.Ioc;
    req.price = px;
    req.qty = this.p.quantity;
    req.reduceOnly = false;
    const id = ctx.submit(req);
    if (id < 0) {
      this.refused++;
      return;
    }
    this.submitted++;
    this.inFlight = id;
    ctx.setTimer(ev.eventTime + this.p.holdMs);
  }

  onTimer(nowMs: number, ctx: StrategyContext): void {
    const sym = this.symbolId;
    const pos = ctx.position(sym);
    if (pos <= FLAT_EPS && pos >= -FLAT_EPS) return;
    if (this.inFlight >= 0) {
      // the entry (or a previous exit) is still open: try again on the next event
      ctx.setTimer(nowMs);
      return;
    }
    const req = this.req;
    req.market(sym, pos > 0 ? Side.Sell : Side.Buy, pos > 0 ? pos : -pos, true);
    const id = ctx.submit(req);
    if (id < 0) {
      this.refused++;
      // risk or a full ring refused the exit: keep trying on later events rather than hold forever
      ctx.setTimer(nowMs);
      return;
    }
    this.submitted++;
    this.inFlight = id;
  }

  onReport(r: ExecReportView, _ctx: StrategyContext): void {
    if (r.intentId === this.inFlight && isFinalReport(r)) this.inFlight = -1;
  }
}
