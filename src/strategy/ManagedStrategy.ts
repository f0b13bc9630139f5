import type { Instrument } from '../core/Instrument.js';
import type { L2Book } from '../book/L2Book.js';
import { ExecType, OrderType, RecordType, Side, type BookState } from '../ring/layout.js';
import { ExitManager, ExitReason, type ExitConfig } from './exits/ExitManager.js';
import { Atr } from './features/Atr.js';
import { RealizedVol } from './features/RealizedVol.js';
import { TimeBars, type Bar } from './features/TimeBars.js';
import { FLAT_EPS, isFinalReport } from './orders.js';
import { PositionSizer, type SizingConfig } from './sizing.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import type { ExecReportView, MarketEvent } from './views.js';

/**
 * Exits and sizing shared by every strategy, as a layer around it. The registry wraps a strategy in it
 * when its parameters turn any of these on (all are off by default, so an unmanaged strategy pays nothing):
 *
 * - Exits (ExitManager): stop-loss, take-profit, trailing stop, partial take-profit and time exit on the
 *   strategy's symbol, priced on trades and on the book-ticker mid, closed with reduce-only MARKET orders.
 * - Protective stop: while a position is open, a STOP_MARKET with closePosition rests at the venue at the
 *   stop-loss level (triggered on the mark price by default), so the position is protected while this
 *   process or its feed is down. It is placed after each fill that changes the position and moved (cancel,
 *   then place: the venue cannot amend a conditional order) when the entry price changes; cancelled when flat.
 *   It follows the entry, not the trailing stop: re-placing on every new best price would spend the
 *   order-rate budget on stops.
 * - Sizing (PositionSizer): in `percent-equity` or `risk` mode the layer replaces the quantity of each
 *   entry the strategy submits (an order that is not reduce-only and does not reduce the position) with the
 *   sized one; `fixed` leaves the strategy's own sizes. Equity is the venue's wallet balance once reported,
 *   else `equity`; risk mode uses an ATR and the realised volatility of `barMs` bars built from trades.
 *
 * The inner strategy sees a context whose `submit` applies the sizing; everything else passes through. Its
 * own reports reach it as before (the layer's exit and stop orders have intent ids it does not know).
 * Allocation-free per event.
 */
export interface ManagedConfig {
  exits: ExitConfig;
  protectiveStop: boolean;
  protectiveStopOnMark: boolean;
  sizing: SizingConfig;
  /** quote units, used until the venue reports a wallet balance */
  equity: number;
  /** bar length for the sizing's ATR and volatility (ms) */
  barMs: number;
}

export interface ManagedCounters {
  exits: number;
  exitsRefused: number;
  protectiveStopsPlaced: number;
  protectiveStopsCancelled: number;
  protectiveStopsRefused: number;
  entriesSized: number;
  /** entries dropped because the sizer gave 0 (below the minimum, no equity) */
  entriesSkipped: number;
}

export function needsManagement(c: ManagedConfig): boolean {
  const e = c.exits;
  return e.stopLoss > 0 || e.takeProfit > 0 || e.trailDistance > 0 || e.partialAt > 0 || e.maxHoldMs > 0 || c.protectiveStop || c.sizing.mode !== 'fixed';
}

export class ManagedStrategy implements Strategy {
  readonly name: string;
  readonly exits: ExitManager;
  readonly sizer: PositionSizer;
  readonly counters: ManagedCounters = { exits: 0, exitsRefused: 0, protectiveStopsPlaced: 0, protectiveStopsCancelled: 0, protectiveStopsRefused: 0, entriesSized: 0, entriesSkipped: 0 };
  private readonly view: SizingContext;
  private readonly req = new OrderRequest();
  private readonly atr = new Atr(14);
  private readonly vol = new RealizedVol(20);
  private readonly bars: TimeBars;
  private readonly exitsOn: boolean;
  private exitId = -1;
  /** the resting protective stop: its intent id and trigger price; the cancel of a stop being moved */
  private stopId = -1;
  private stopTrigger = NaN;
  private stopCancelId = -1;
  private stopCancelling = -1;

  constructor(
    readonly inner: Strategy,
    private readonly symbolId: number,
    private readonly cfg: ManagedConfig,
  ) {
    this.name = inner.name;
    this.exits = new ExitManager(cfg.exits);
    this.sizer = new PositionSizer(cfg.sizing);
    this.view = new SizingContext(this);
    const e = cfg.exits;
    this.exitsOn = e.stopLoss > 0 || e.takeProfit > 0 || e.trailDistance > 0 || e.partialAt > 0 || e.maxHoldMs > 0;
    this.bars = new TimeBars(cfg.barMs, (b) => this.onBar(b));
  }

  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    const sym = this.symbolId;
    let price = NaN;
    if (ev.symbolId === sym) {
      const t = ev.type;
      if (t === RecordType.AggTrade || t === RecordType.Trade) {
        price = ev.price;
        if (this.cfg.sizing.mode === 'risk') this.bars.onTrade(ev);
      } else if (t === RecordType.BookTicker) price = (ev.bid + ev.ask) / 2;
    }
    this.inner.onMarket(ev, this.view.bind(ctx));
    if (this.exitsOn && price > 0) this.checkExit(price, ctx);
  }

  onReport(r: ExecReportView, ctx: StrategyContext): void {
    const sym = this.symbolId;
    if (r.symbolId === sym) {
      const id = r.intentId;
      const final = isFinalReport(r);
      this.exits.onReport(r, ctx.position(sym), ctx.eventTimeMs(), this.exitId);
      if (id === this.exitId && final) this.exitId = -1;
      if (id === this.stopId && final) {
        // triggered and filled, cancelled, or refused: no stop rests now
        this.stopId = -1;
        this.stopTrigger = NaN;
      }
      if (id === this.stopCancelling && final) this.stopCancelling = -1;
      if (id === this.stopCancelId && r.execType === ExecType.Reject) {
        // the cancel was refused: the stop's own report says what became of it; a stop still resting is
        // cancelled again at the next sync
        this.stopCancelId = -1;
        this.stopCancelling = -1;
      }
      if (this.cfg.protectiveStop && (r.execType === ExecType.Fill || final)) this.syncProtectiveStop(ctx);
    }
    this.inner.onReport(r, this.view.bind(ctx));
  }

  onTimer(nowMs: number, ctx: StrategyContext): void {
    this.inner.onTimer(nowMs, this.view.bind(ctx));
  }

  /** Equity for sizing: the venue's wallet balance once reported, else the configured figure. */
  equity(ctx: StrategyContext): number {
    const w = ctx.walletBalance();
    return w > 0 ? w : this.cfg.equity;
  }

  /**
   * The quantity for an entry at `price` (0 = skip it), or `qty` unchanged when sizing is `fixed` or the
   * order is not an entry.
   */
  sizeEntry(req: OrderRequest, ctx: StrategyContext): number {
    if (this.cfg.sizing.mode === 'fixed' || req.reduceOnly || req.closePosition || req.symbolId !== this.symbolId) return req.qty;
    const t = req.type;
    if (t !== OrderType.Market && t !== OrderType.Limit) return req.qty;
    const pos = ctx.position(req.symbolId);
    // an order against the position reduces it: the strategy's own size stands
    if ((pos > FLAT_EPS && req.side === Side.Sell) || (pos < -FLAT_EPS && req.side === Side.Buy)) return req.qty;
    let px = req.price;
    if (!(px > 0)) px = req.side === Side.Buy ? ctx.bestAsk(req.symbolId) : ctx.bestBid(req.symbolId);
    if (!(px > 0)) px = ctx.lastTradePrice(req.symbolId);
    const inst = ctx.instrument(req.symbolId);
    const q = this.sizer.size(inst, this.equity(ctx), px, this.atr.value, this.vol.value);
    if (q > 0) this.counters.entriesSized++;
    else this.counters.entriesSkipped++;
    return q;
  }

  private onBar(b: Bar): void {
    this.atr.update(b.high, b.low, b.close);
    this.vol.update(b.close);
  }

  private checkExit(price: number, ctx: StrategyContext): void {
    const ex = this.exits;
    if (ex.onPrice(price, ctx.eventTimeMs()) === ExitReason.None) return;
    const sym = this.symbolId;
    const qty = ex.exitQty(ctx.instrument(sym).stepSize);
    const side = ex.exitSide();
    if (qty <= 0 || side === 0) {
      ex.exitFinished();
      return;
    }
    // refused (risk, a full ring, or a book being rebuilt: the runner never trades on one): the rule is
    // evaluated again on the next event
    const id = ctx.submit(this.req.market(sym, side === Side.Sell ? Side.Sell : Side.Buy, qty, true));
    if (id < 0) {
      this.counters.exitsRefused++;
      ex.exitFinished();
      return;
    }
    this.counters.exits++;
    this.exitId = id;
  }

  /**
   * Keeps one close-position stop at the stop-loss level while a position is open: places it when missing,
   * moves it when the level or the side changed (cancel first; the new one goes out on the cancel's final
   * report), cancels it when flat.
   */
  private syncProtectiveStop(ctx: StrategyContext): void {
    if (this.stopCancelling >= 0) return;
    const sym = this.symbolId;
    const inst = ctx.instrument(sym);
    const pos = ctx.position(sym);
    const flat = pos <= FLAT_EPS && pos >= -FLAT_EPS;
    const level = this.exits.stopPrice;
    const want = flat || !(level > 0) ? NaN : roundAway(level, inst, pos > 0);
    if (this.stopId >= 0) {
      if (want === this.stopTrigger) return;
      const c = ctx.cancel(this.stopId);
      if (c >= 0) {
        this.counters.protectiveStopsCancelled++;
        this.stopCancelId = c;
        this.stopCancelling = this.stopId;
      }
      return;
    }
    if (!(want > 0)) return;
    const req = this.req.conditional(sym, OrderType.StopMarket, pos > 0 ? Side.Sell : Side.Buy, want, pos > 0 ? pos : -pos, true);
    req.triggerOnMark = this.cfg.protectiveStopOnMark;
    const id = ctx.submit(req);
    if (id < 0) {
      this.counters.protectiveStopsRefused++;
      return;
    }
    this.counters.protectiveStopsPlaced++;
    this.stopId = id;
    this.stopTrigger = want;
  }
}

/** A stop level on the tick grid, rounded away from the market (a long's stop down): never tighter than asked. */
function roundAway(price: number, inst: Instrument, long: boolean): number {
  const ticks = price / inst.tickSize;
  const t = long ? Math.floor(ticks + 1e-9) : Math.ceil(ticks - 1e-9);
  return t * inst.tickSize;
}

/** The context the inner strategy sees: the engine's, with entries sized by the layer. */
class SizingContext implements StrategyContext {
  private ctx!: StrategyContext;

  constructor(private readonly layer: ManagedStrategy) {}

  bind(ctx: StrategyContext): this {
    this.ctx = ctx;
    return this;
  }

  submit(req: OrderRequest): number {
    const own = req.qty;
    const q = this.layer.sizeEntry(req, this.ctx);
    if (q === own) return this.ctx.submit(req);
    if (!(q > 0)) return -1;
    req.qty = q;
    const id = this.ctx.submit(req);
    // the strategy's request object is its own: leave its quantity as it set it
    req.qty = own;
    return id;
  }
  cancel(intentId: number): number {
    return this.ctx.cancel(intentId);
  }
  amend(intentId: number, price: number, qty: number): number {
    return this.ctx.amend(intentId, price, qty);
  }
  setTimer(atMs: number): void {
    this.ctx.setTimer(atMs);
  }
  eventTimeMs(): number {
    return this.ctx.eventTimeMs();
  }
  position(symbolId: number): number {
    return this.ctx.position(symbolId);
  }
  pendingQty(symbolId: number, side: Side): number {
    return this.ctx.pendingQty(symbolId, side);
  }
  walletBalance(): number {
    return this.ctx.walletBalance();
  }
  instrument(symbolId: number): Instrument {
    return this.ctx.instrument(symbolId);
  }
  bestBid(symbolId: number): number {
    return this.ctx.bestBid(symbolId);
  }
  bestAsk(symbolId: number): number {
    return this.ctx.bestAsk(symbolId);
  }
  lastTradePrice(symbolId: number): number {
    return this.ctx.lastTradePrice(symbolId);
  }
  isStale(symbolId: number): boolean {
    return this.ctx.isStale(symbolId);
  }
  book(symbolId: number): L2Book {
    return this.ctx.book(symbolId);
  }
  bookState(symbolId: number): BookState {
    return this.ctx.bookState(symbolId);
  }
}
