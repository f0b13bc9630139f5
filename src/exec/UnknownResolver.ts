import { OrderStatus } from '../ring/layout.js';
import type { OrderResolution } from '../venues/binance/RestClient.js';
import { orderOutcome } from '../venues/binance/orderResponse.js';
import { nextRetryMs, ResolverCore, type ResolverCoreCounters, type ResolverCoreEntry, type ResolverCoreOptions } from './ResolverCore.js';

/** The query the resolver needs (BinanceRestClient.resolveOrder, called without a timestamp: the resolver waits itself). */
export interface OrderQuery {
  resolveOrder(symbol: string, clientOrderId: string, sentTimestampMs?: number): Promise<OrderResolution>;
}

export interface UnknownResolverOptions extends ResolverCoreOptions {
  query: OrderQuery;
  /** symbol names by id */
  symbols: readonly string[];
  clientIdPrefix: string;
  /** wall-clock ms adjusted to the venue's clock: the same clock that stamped the lost request */
  venueTimeMs: () => number;
  /** the recvWindow the requests carry (ms) */
  recvWindowMs: number;
  /**
   * Added to the recvWindow wait: covers the error of our venue-clock estimate (about half a round trip)
   * and the venue's processing after its timestamp check. Default 250 ms.
   */
  marginMs?: number;
}

export interface ResolverCounters extends ResolverCoreCounters {
  /** Unknown outcomes handed to the resolver */
  unknownSeen: number;
  /** resolved with a follow-up report of the real state */
  unknownResolved: number;
  resolvedFilled: number;
  resolvedOpen: number;
  resolvedCanceled: number;
  resolvedExpired: number;
  resolvedRejected: number;
  /** -2013 after the recvWindow: the request never reached the venue */
  resolvedNeverArrived: number;
  /** a late response reported the real state first: no query answer was written */
  resolvedByLateResponse: number;
  /** queries that failed and were retried */
  resolveErrors: number;
  /** still waiting */
  resolvePending: number;
  /** given up at stop */
  resolveAbandoned: number;
}

interface Entry extends ResolverCoreEntry {
  /** venue ms at or after the lost request's `timestamp` */
  sentVenueMs: number;
  attempts: number;
}

/**
 * Resolves orders whose outcome is Unknown (a timeout, a connection cut after the request was written, a
 * 5xx "Unknown error", -1006/-1007): after the request's recvWindow has passed (from then on the venue
 * refuses it if it is still on its way, so "not found" is final), it asks the venue for the order by client
 * order id and writes a follow-up ExecReport with the real state: Filled / New / Canceled / Expired with the
 * cumulative quantity, or Rejected "never arrived" for -2013. Nothing is ever resent. A failed query is
 * retried with backoff for as long as the resolver runs. Off the hot path: Unknown is rare, and all of this
 * runs on promises and timers.
 */
export class UnknownResolver extends ResolverCore<UnknownResolverOptions, Entry, ResolverCounters> {
  readonly counters: ResolverCounters = {
    unknownSeen: 0, unknownResolved: 0, resolvedFilled: 0, resolvedOpen: 0, resolvedCanceled: 0, resolvedExpired: 0,
    resolvedRejected: 0, resolvedNeverArrived: 0, resolvedByLateResponse: 0, resolveErrors: 0, resolvePending: 0, resolveAbandoned: 0,
  };

  /** An Unknown outcome for intent `intentId` (the order's own intent). A second Unknown for it is ignored. */
  enqueue(symbolId: number, intentId: number, side: number, recvTs: number, sentTs: number): void {
    if (this.stopped || intentId < 0 || this.pending.has(intentId)) return;
    this.start({
      symbolId, intentId, side, recvTs, sentTs,
      sentVenueMs: this.opts.venueTimeMs() + (this.opts.marginMs ?? 250),
      settled: false, attempts: 0,
    });
  }

  /** A definite report for the intent arrived (e.g. a late WS API response): no follow-up needed. */
  settle(intentId: number): void {
    const e = this.pending.get(intentId);
    if (e !== undefined) e.settled = true;
  }

  protected async run(e: Entry): Promise<void> {
    const symbol = this.opts.symbols[e.symbolId] ?? '';
    const clid = `${this.opts.clientIdPrefix}${e.intentId}`;
    let delay = this.firstRetryMs;
    try {
      // Wait out the recvWindow on the clock that stamped the request: past it the venue refuses the
      // request if it is still on its way, so "not found" is final. Interruptible by stop().
      for (let wait = e.sentVenueMs + this.opts.recvWindowMs - this.opts.venueTimeMs(); wait > 0 && !this.stopped; wait = e.sentVenueMs + this.opts.recvWindowMs - this.opts.venueTimeMs()) {
        await this.sleep(Math.ceil(wait));
      }
      while (!this.stopped) {
        let r: OrderResolution | null = null;
        let failure = '';
        try {
          r = await this.opts.query.resolveOrder(symbol, clid);
        } catch (err) {
          failure = (err as Error).message;
        }
        e.attempts++;
        if (this.stopped) return;
        if (e.settled) {
          this.counters.resolvedByLateResponse++;
          return;
        }
        if (r !== null && r.state === 'found') {
          this.writeFound(e, r.order as unknown as Record<string, unknown>);
          return;
        }
        if (r !== null && r.state === 'notFound') {
          this.writeNeverArrived(e, `${clid} (${symbol})`, -2013, 'never arrived: unknown to the venue after its recvWindow');
          return;
        }
        if (r !== null && r.state === 'unknown') failure = `${r.error.code} ${r.error.msg}`;
        this.failed(`${clid} (${symbol})`, failure, delay);
        await this.sleep(delay);
        delay = nextRetryMs(delay);
      }
    } finally {
      this.finish(e);
    }
  }

  private writeFound(e: Entry, order: Record<string, unknown>): void {
    const c = orderOutcome(order);
    const s = c.status;
    const k = this.counters;
    k.unknownResolved++;
    if (s === OrderStatus.Filled) k.resolvedFilled++;
    else if (s === OrderStatus.New || s === OrderStatus.PartiallyFilled) k.resolvedOpen++;
    else if (s === OrderStatus.Canceled) k.resolvedCanceled++;
    else if (s === OrderStatus.Expired) k.resolvedExpired++;
    else k.resolvedRejected++;
    const side = order['side'] === 'BUY' ? 1 : order['side'] === 'SELL' ? -1 : e.side;
    this.opts.sink.execReport(e.symbolId, e.intentId, side, e.recvTs, e.sentTs, this.opts.now(), s, c.execType, c.lastQty, c.lastPrice, c.cumQty, c.avgPrice, c.orderId, c.code, c.venueTime, c.reason, c.message);
    this.opts.onEvent?.('info', `order ${this.opts.clientIdPrefix}${e.intentId}: outcome resolved: ${String(order['status'])} ${String(order['executedQty'] ?? '')}`);
  }
}
