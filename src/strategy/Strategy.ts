import type { BookState, OrderType, Side, TimeInForce } from '../ring/layout.js';
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
}

export class OrderRequest {
  symbolId = 0;
  side: Side = 1;
  type: OrderType = 1;
  tif: TimeInForce = 0;
  /** limit price (ignored for market orders) */
  price = 0;
  qty = 0;
  reduceOnly = false;
}

export interface StrategyContext {
  /** Submits an order; returns its intent id, or -1 if pre-trade risk or a full ring refused it. */
  submit(req: OrderRequest): number;
  /** Signed position in base units, from fills. */
  position(symbolId: number): number;
  /** Base quantity of orders sent and not yet finished (buy side positive, sell side negative). */
  pendingQty(symbolId: number, side: Side): number;
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
