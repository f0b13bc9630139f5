/**
 * Object inputs for the features fed by market events. `MarketEvent` (src/strategy/views.ts) satisfies both
 * structurally, so a strategy passes its event flyweight as it is: `bars.onTrade(ev)`.
 *
 * Why an object and not numbers: V8 passes arguments to a call it does not inline as tagged values, so
 * each non-integer double argument (a price, a ms timestamp above 2^31) is boxed, i.e. allocated, at the
 * call. Small `update(...)` methods are inlined into their caller and cost nothing, but a strategy that
 * drives many features from one function runs out of TurboFan's inlining budget; an object argument is a
 * pointer and never boxed, and the doubles are then read inside the feature.
 */
export interface TradeInput {
  /** ms */
  readonly eventTime: number;
  readonly price: number;
  readonly qty: number;
  /** true when the aggressor sold (Binance's `m`) */
  readonly buyerMaker: boolean;
}

export interface QuoteInput {
  readonly bid: number;
  readonly bidQty: number;
  readonly ask: number;
  readonly askQty: number;
}
