/**
 * What the risk engine reads about the world, kept current by its owner (the strategy runner) and passed
 * to every `RiskEngine.check`. Allocated once per runner. The per-symbol arrays are indexed by interned
 * symbol id; the owner may point them at arrays it already maintains (`inputs.position = runnerPos`) so
 * nothing is copied per message.
 */
export class RiskInputs {
  /** event time (ms) of the record being processed: the risk engine's only clock */
  eventTimeMs = 0;
  /** account equity in quote: capital + realised + unrealised PnL - fees + funding (Portfolio.equity()); NaN = unknown */
  equity = NaN;
  /** session realised PnL net of fees and funding (Portfolio.netRealizedPnl()) */
  realizedPnl = 0;
  /** venue round-trip latency (ms), e.g. the last order ack's; NaN = not measured yet (passes) */
  venueLatencyMs = NaN;
  /** price the strategy saw when it decided on the order being checked; NaN = use mid */
  decisionPrice = NaN;

  /** best bid / ask per symbol (NaN before the first quote) */
  bid: Float64Array;
  ask: Float64Array;
  /** 1 while the symbol's book is Live (BookState.Live), else 0 */
  bookLive: Uint8Array;
  /** signed filled position (base units) */
  position: Float64Array;
  /** base quantity of buy / sell orders in flight (both positive) */
  pendingBuy: Float64Array;
  pendingSell: Float64Array;
  /** orders sent and not yet finished */
  openOrders: Int32Array;

  constructor(readonly symbolCount: number) {
    this.bid = new Float64Array(symbolCount).fill(NaN);
    this.ask = new Float64Array(symbolCount).fill(NaN);
    this.bookLive = new Uint8Array(symbolCount);
    this.position = new Float64Array(symbolCount);
    this.pendingBuy = new Float64Array(symbolCount);
    this.pendingSell = new Float64Array(symbolCount);
    this.openOrders = new Int32Array(symbolCount);
  }
}
