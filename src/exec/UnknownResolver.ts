import { ExecType, OrderStatus, RejectReason } from '../ring/layout.js';
import type { OrderResolution } from '../venues/binance/RestClient.js';
import { orderOutcome } from '../venues/binance/orderResponse.js';
import type { ExecReportSink } from './OrderTransport.js';

/** The query the resolver needs (BinanceRestClient.resolveOrder, called without a timestamp: the resolver waits itself). */
export interface OrderQuery {
  resolveOrder(symbol: string, clientOrderId: string, sentTimestampMs?: number): Promise<OrderResolution>;
}

export interface UnknownResolverOptions {
  query: OrderQuery;
  /** where the follow-up reports go (ring C, behind whatever was written before) */
  sink: ExecReportSink;
  /** symbol names by id */
  symbols: readonly string[];
  clientIdPrefix: string;
  /** wall-clock ms adjusted to the venue's clock: the same clock that stamped the lost request */
  venueTimeMs: () => number;
  /** the recvWindow the requests carry (ms) */
  recvWindowMs: number;
  /** ns since the process epoch */
  now: () => number;
  /**
   * Added to the recvWindow wait: covers the error of our venue-clock estimate (about half a round trip)
   * and the venue's processing after its timestamp check. Default 250 ms.
   */
  marginMs?: number;
  /** First retry delay after a failed query; doubles up to 10 s. Default 500 ms. */
  retryMs?: number;
  onEvent?: (level: 'info' | 'warn', msg: string) => void;
}

export interface ResolverCounters {
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

interface Entry {
  symbolId: number;
  intentId: number;
  side: number;
  recvTs: number;
  sentTs: number;
  /** venue ms at or after the lost request's `timestamp` */
  sentVenueMs: number;
  settled: boolean;
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
export class UnknownResolver {
  readonly counters: ResolverCounters = {
    unknownSeen: 0, unknownResolved: 0, resolvedFilled: 0, resolvedOpen: 0, resolvedCanceled: 0, resolvedExpired: 0,
    resolvedRejected: 0, resolvedNeverArrived: 0, resolvedByLateResponse: 0, resolveErrors: 0, resolvePending: 0, resolveAbandoned: 0,
  };
  private readonly pending = new Map<number, Entry>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly opts: UnknownResolverOptions) {}

  get size(): number {
    return this.pending.size;
  }

  /** An Unknown outcome for intent `intentId` (the order's own intent). A second Unknown for it is ignored. */
  enqueue(symbolId: number, intentId: number, side: number, recvTs: number, sentTs: number): void {
    if (this.stopped || intentId < 0 || this.pending.has(intentId)) return;
    const e: Entry = {
      symbolId, intentId, side, recvTs, sentTs,
      sentVenueMs: this.opts.venueTimeMs() + (this.opts.marginMs ?? 250),
      settled: false, attempts: 0,
    };
    this.pending.set(intentId, e);
    this.counters.unknownSeen++;
    this.counters.resolvePending = this.pending.size;
    const p = this.run(e).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** A definite report for the intent arrived (e.g. a late WS API response): no follow-up needed. */
  settle(intentId: number): void {
    const e = this.pending.get(intentId);
    if (e !== undefined) e.settled = true;
  }

  private async run(e: Entry): Promise<void> {
    const symbol = this.opts.symbols[e.symbolId] ?? '';
    const clid = `${this.opts.clientIdPrefix}${e.intentId}`;
    let delay = this.opts.retryMs ?? 500;
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
          this.counters.unknownResolved++;
          this.counters.resolvedNeverArrived++;
          this.opts.sink.execReport(e.symbolId, e.intentId, e.side, e.recvTs, e.sentTs, this.opts.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, -2013, 0, RejectReason.Transport, 'never arrived: unknown to the venue after its recvWindow');
          this.opts.onEvent?.('info', `order ${clid} (${symbol}): outcome resolved: it never reached the venue`);
          return;
        }
        if (r !== null && r.state === 'unknown') failure = `${r.error.code} ${r.error.msg}`;
        this.counters.resolveErrors++;
        this.opts.onEvent?.('warn', `order ${clid} (${symbol}): outcome still unknown, query failed (${failure}); retrying in ${delay} ms`);
        await this.sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    } finally {
      this.pending.delete(e.intentId);
      this.counters.resolvePending = this.pending.size;
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        this.wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** Waits (at most `timeoutMs`) for the resolutions in progress; true when none is left. */
  async idle(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < end) {
      await Promise.race([Promise.all([...this.running]), new Promise((r) => setTimeout(r, Math.max(1, end - Date.now())))]);
    }
    return this.running.size === 0;
  }

  /** Gives up on what is still pending (counted); queries already sent are left to finish unseen. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.counters.resolveAbandoned += this.pending.size;
    for (const w of [...this.wakers]) w();
  }
}
