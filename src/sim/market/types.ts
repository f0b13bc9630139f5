import type { Instrument } from '../instruments.js';

/**
 * Venue-neutral market events. Prices are integer ticks and quantities integer steps of the symbol's
 * instrument; each venue dialect formats them into its own wire shape. `sym` is the instrument index.
 * Times are ms since the epoch (venue times).
 */
export interface BookTickerEvent {
  kind: 'bookTicker';
  sym: number;
  /** Book update id the best bid/ask belong to (same id space as depth `u`). */
  u: number;
  bid: number;
  bidQty: number;
  ask: number;
  askQty: number;
  time: number;
}

export interface TradeEvent {
  kind: 'trade';
  sym: number;
  /** Aggregate trade id. */
  id: number;
  firstTradeId: number;
  lastTradeId: number;
  price: number;
  qty: number;
  /** true when the taker sold (the buyer was the resting order). */
  buyerMaker: boolean;
  time: number;
}

export interface DepthEvent {
  kind: 'depth';
  sym: number;
  /** First update id in this event. */
  U: number;
  /** Last update id in this event. */
  u: number;
  /** Last update id of the previous depth event of this symbol. */
  pu: number;
  /** Changed bid levels as flat [tick, qty, tick, qty, ...], ascending by price; qty 0 = level removed. */
  bids: number[];
  /** Changed ask levels, same layout, ascending by price. */
  asks: number[];
  time: number;
}

export type MarketEvent = BookTickerEvent | TradeEvent | DepthEvent;
export type MarketEventKind = MarketEvent['kind'];

export interface BookTop {
  u: number;
  bid: number;
  bidQty: number;
  ask: number;
  askQty: number;
}

export interface DepthSnapshot {
  lastUpdateId: number;
  time: number;
  /** [tick, qty] from the best bid down. */
  bids: Array<[number, number]>;
  /** [tick, qty] from the best ask up. */
  asks: Array<[number, number]>;
}

export type Side = 'BUY' | 'SELL';

/** Liquidity taken by an aggressive order, one entry per price level. */
export interface TakeFill {
  price: number;
  qty: number;
}

export interface TakeResult {
  fills: TakeFill[];
  filled: number;
  /** Public events caused by the take (trade prints, new best bid/ask), to be broadcast. */
  events: MarketEvent[];
}

/**
 * A source of market data and liquidity for the simulated venue. The synthetic market is the first one;
 * a recorded-data replay or a full matching engine can implement the same surface.
 */
export interface MarketSource {
  readonly instruments: readonly Instrument[];
  instrument(symbol: string): Instrument | undefined;
  /** Current best bid/ask of a symbol. */
  top(sym: number): BookTop;
  /**
   * A depth snapshot whose lastUpdateId is straddled by the next depth event of the symbol
   * (first event with U <= lastUpdateId <= u), as the Binance book-sync procedure requires.
   */
  snapshot(sym: number, limit: number, now: number): DepthSnapshot;
  /** The best `n` levels of each side as [tick, qty] (bids from the best down, asks from the best up); no side effect. */
  levels(sym: number, n: number): { bids: Array<[number, number]>; asks: Array<[number, number]> };
  /** Quantity (steps) a taker could get now, up to maxQty, not beyond limitPrice (ticks; null = no limit). */
  available(sym: number, takerSide: Side, maxQty: number, limitPrice: number | null): number;
  /** Take liquidity from the book (walks levels from the best price). Mutates the book. */
  take(sym: number, takerSide: Side, qty: number, limitPrice: number | null, now: number): TakeResult;
  /** Advance the market of one symbol and produce one event of the given kind. */
  next(sym: number, kind: MarketEventKind, now: number): MarketEvent;
  /** Forget depth changes not yet emitted (no one listens to this symbol's depth). */
  discardDepth(sym: number): void;
}
