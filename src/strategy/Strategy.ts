import { OrderType, TimeInForce, type BookState, type Side } from '../ring/layout.js';
import type { L2Book } from '../book/L2Book.js';
import type { ExecReportView, MarketEvent } from './views.js';
import type { Instrument } from '../core/Instrument.js';

/**
 * The strategy API. A strategy is pure: it sees market events and its own execution reports, reads the
 * engine's view of books and positions, and asks for orders through an OrderSink. It does no I/O, reads
 * no clock (event timestamps only) and uses no unseeded randomness, so the same class runs in the live
 * strategy worker and in an in-process replay and makes the same decisions.
 *
 * Allocation-free: events arrive as re-pointed views, and a strategy fills one OrderRequest object it
 * owns and passes it to `submit`.
 */
export interface Strategy {
  readonly name: string;
  onMarket(ev: MarketEvent, ctx: StrategyContext): void;
  onReport(r: ExecReportView, ctx: StrategyContext): void;
  /**
   * The deadline set with `ctx.setTimer` has passed in event time: called once, before the market event
   * whose event time reached it (`nowMs` = that event time). Never driven by the wall clock, so a replay
   * fires the same timers at the same points.
   */
  onTimer(nowMs: number, ctx: StrategyContext): void;
}

/**
 * One order, filled in place by the strategy (it owns one and reuses it). Supported on the order path:
 * - MARKET (`tif` None, `price` ignored);
 * - LIMIT with `tif` GTC, IOC, FOK or GTX (post-only: the venue rejects it if it would take) and a price > 0;
 * - conditional orders, placed on the venue's algo-order service and triggered there (so they protect a
 *   position even while this process is down): STOP_MARKET and TAKE_PROFIT_MARKET with `stopPrice` > 0,
 *   TRAILING_STOP_MARKET with `callbackRate` (percent, 0.1..10) and an optional activation price in
 *   `stopPrice` (0 = from the current price). `closePosition` closes whatever the position is when it
 *   triggers (no quantity); `triggerOnMark` triggers on the mark price instead of the last price;
 * - `reduceOnly` on any of them (not with `closePosition`).
 * The runner refuses a request outside this set (`submit` returns -1).
 */
export class OrderRequest {
  symbolId = 0;
  side: Side = 1;
  type: OrderType = 1;
  tif: TimeInForce = 0;
  /** limit price (ignored for market and conditional orders) */
  price = 0;
  qty = 0;
  reduceOnly = false;
  /** STOP_MARKET / TAKE_PROFIT_MARKET: trigger price; TRAILING_STOP_MARKET: activation price (0 = none) */
  stopPrice = 0;
  /** TRAILING_STOP_MARKET: callback rate in percent (1 = 1%) */
  callbackRate = 0;
  closePosition = false;
  triggerOnMark = false;

  /** Sets every field for a market order (small enough to inline: no double is boxed). */
  market(symbolId: number, side: Side, qty: number, reduceOnly: boolean): this {
    this.symbolId = symbolId;
    this.side = side;
    this.type = OrderType.Market;
    this.tif = TimeInForce.None;
    this.price = 0;
    this.qty = qty;
    this.reduceOnly = reduceOnly;
    this.stopPrice = 0;
    this.callbackRate = 0;
    this.closePosition = false;
    this.triggerOnMark = false;
    return this;
  }

  /** Sets every field for a limit order. */
  limit(symbolId: number, side: Side, price: number, qty: number, tif: TimeInForce, reduceOnly: boolean): this {
    this.market(symbolId, side, qty, reduceOnly);
    this.type = OrderType.Limit;
    this.tif = tif;
    this.price = price;
    return this;
  }

  /**
   * A venue-side stop (STOP_MARKET) or take-profit (TAKE_PROFIT_MARKET) at `triggerPrice`. With
   * `closePosition` the quantity is whatever the position is when it triggers (pass the current size as
   * `qty` for the runner's bookkeeping); otherwise a reduce-only order of `qty`.
   */
  conditional(symbolId: number, type: OrderType.StopMarket | OrderType.TakeProfitMarket, side: Side, triggerPrice: number, qty: number, closePosition: boolean): this {
    this.market(symbolId, side, qty, !closePosition);
    this.type = type;
    this.stopPrice = triggerPrice;
    this.closePosition = closePosition;
    return this;
  }

  /** A venue-side trailing stop: reduce-only, `callbackRatePct` percent behind the best price after activation. */
  trailingStop(symbolId: number, side: Side, qty: number, callbackRatePct: number, activationPrice: number): this {
    this.market(symbolId, side, qty, true);
    this.type = OrderType.TrailingStopMarket;
    this.callbackRate = callbackRatePct;
    this.stopPrice = activationPrice;
    return this;
  }
}

export interface StrategyContext {
  /**
   * Submits an order; returns its intent id, or -1 if the request is not supported (see OrderRequest),
   * pre-trade risk or a full ring refused it, or the strategy is deactivated.
   */
  submit(req: OrderRequest): number;
  /**
   * Asks to cancel the order of intent `intentId` (an OrderCancel intent). Returns the cancel's own intent
   * id, or -1 if that order is not in flight (already finished or unknown) or ring B is full. Success is
   * reported on the target intent (Canceled); a refused cancel as a Reject of the cancel intent.
   */
  cancel(intentId: number): number;
  /**
   * Asks to change the price and quantity of our resting LIMIT order of intent `intentId` (an OrderAmend
   * intent): one request instead of a cancel and a new order, but the venue re-queues the order at the back
   * of its new level. `qty` is the new total (filled part included); the venue cancels the order when it is
   * not above what has filled. Returns the amend's intent id, or -1 if that order is not in flight, is not a
   * limit order, or ring B is full. The outcome is reported on the target intent (Ack with the order's state,
   * or Canceled); a refused amend as a Reject of the amend intent, the order staying as it was.
   */
  amend(intentId: number, price: number, qty: number): number;
  /**
   * Sets the strategy's one timer to event time `atMs` (replacing any earlier one); `onTimer` is called when
   * a market event's time reaches it. NaN or Infinity clears it.
   */
  setTimer(atMs: number): void;
  /** The latest event time seen (ms), the clock timers run on (0 before the first event). */
  eventTimeMs(): number;
  /** Signed position in base units, from fills. */
  position(symbolId: number): number;
  /** Base quantity of orders sent and not yet finished (buy side positive, sell side negative). */
  pendingQty(symbolId: number, side: Side): number;
  /** The margin asset's wallet balance as the venue last reported it (quote units), NaN before any report. */
  walletBalance(): number;
  instrument(symbolId: number): Instrument;
  /** Best bid/ask seen on the feed (NaN before the first book ticker), and whether the view is stale. */
  bestBid(symbolId: number): number;
  bestAsk(symbolId: number): number;
  lastTradePrice(symbolId: number): number;
  isStale(symbolId: number): boolean;
  /**
   * The symbol's order book as the feed keeps it (read the top levels in place: `bidPrice(i)`, `askQty(i)`,
   * ...; nothing is copied). Only meaningful while `bookState` is Live: quoting strategies must not quote
   * on a book that is Syncing or Stale.
   */
  book(symbolId: number): L2Book;
  bookState(symbolId: number): BookState;
}
