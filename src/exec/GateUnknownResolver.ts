import { ExecType, OrderStatus, RejectReason } from '../ring/layout.js';
import { gateNum, gateOrderOutcome, type GateOrderOutcome } from '../venues/gate/orderState.js';
import type { GateOrder, GateResult } from '../venues/gate/RestClient.js';
import type { ExecReportSink } from './OrderTransport.js';

/** The lookups the resolver needs (GateRestClient has them). */
export interface GateOrderQuery {
  /** `GET /futures/usdt/orders/{text}`: found while open, or up to 60 s after it finished. */
  getOrder(orderIdOrText: string): Promise<GateResult<GateOrder>>;
  /** `GET /futures/usdt/orders?contract=&status=`: newest first. */
  listOrders(contract: string, status: 'open' | 'finished', limit?: number): Promise<GateResult<GateOrder[]>>;
}

export interface GateResolverOptions {
  query: GateOrderQuery;
  /** where the follow-up reports go (ring C, behind what was written before) */
  sink: ExecReportSink;
  /** venue-clock estimate (ms): the clock the lost requests were stamped with */
  venueTimeMs: () => number;
  /** ns since the process epoch */
  now: () => number;
  /** Added to each deadline: our clock's error and the venue's processing after its check. Default 250 ms. */
  marginMs?: number;
  /** Poll period while an order is not found before its deadline. Default 200 ms. */
  pollMs?: number;
  /** First retry delay after a failed query; doubles up to 10 s. Default 500 ms. */
  retryMs?: number;
  /** Finished orders listed when the text lookup fails after the deadline. Default 100. */
  finishedScan?: number;
  onEvent?: (level: 'info' | 'warn', msg: string) => void;
}

export interface GateResolverCounters {
  unknownSeen: number;
  unknownResolved: number;
  resolvedFilled: number;
  resolvedOpen: number;
  resolvedCanceled: number;
  resolvedExpired: number;
  /** not found after its deadline: the request never reached the venue */
  resolvedNeverArrived: number;
  /** found through the finished-orders list (the text lookup had expired) */
  resolvedFromList: number;
  /** a late answer reported the state first: the resolver wrote nothing */
  resolvedByLateAnswer: number;
  /** a cancel's target order no longer known to the venue: its earlier reports stand */
  cancelTargetGone: number;
  resolveErrors: number;
  resolvePending: number;
  resolveAbandoned: number;
}

/** One Unknown outcome to resolve. */
export interface GateUnknown {
  symbolId: number;
  /** the order's own intent (for a cancel: its target) */
  intentId: number;
  side: number;
  recvTs: number;
  sentTs: number;
  /** the order's client id (`t-...`) */
  text: string;
  contract: string;
  /**
   * Venue time (ms) after which the request can no longer be acted on if it has not been yet: its
   * `x-gate-exptime`, or its signed time plus the venue's tolerance. Until then "not found" is not final.
   */
  deadlineVenueMs: number;
  /** the lost request was a cancel: a target the venue no longer knows is not "never arrived" */
  cancel: boolean;
}

interface Entry extends GateUnknown {
  settled: boolean;
}

/**
 * Resolves Gate orders whose outcome is Unknown (a timeout, a connection lost after the request was
 * written, a 5xx / INTERNAL / TOO_BUSY answer) by their client `text`, like UnknownResolver does on Binance:
 * nothing is ever resent, and each Unknown order gets exactly one follow-up report with its real state.
 *
 * - `GET /orders/{text}` at once: found -> Filled / New / PartiallyFilled / Canceled / Expired (safe at any
 *   time: the order exists).
 * - Not found before the request's deadline: it may still be on its way; look again until the deadline.
 * - Not found after the deadline: a text lookup only works up to 60 s after an order finished, so the newest
 *   finished orders of the contract are searched for the text too; absent there as well, the request never
 *   reached the venue (Rejected, "never arrived"): past its deadline the venue refuses it.
 *
 * Off the hot path: it runs on promises and timers, only after an Unknown.
 */
export class GateUnknownResolver {
  readonly counters: GateResolverCounters = {
    unknownSeen: 0, unknownResolved: 0, resolvedFilled: 0, resolvedOpen: 0, resolvedCanceled: 0, resolvedExpired: 0, resolvedNeverArrived: 0,
    resolvedFromList: 0, resolvedByLateAnswer: 0, cancelTargetGone: 0, resolveErrors: 0, resolvePending: 0, resolveAbandoned: 0,
  };
  private readonly pending = new Map<number, Entry>();
  private readonly running = new Set<Promise<void>>();
  private readonly wakers = new Set<() => void>();
  private readonly outcome: GateOrderOutcome = { status: OrderStatus.New, execType: ExecType.Ack, cumQty: 0, avgPrice: NaN };
  private stopped = false;

  constructor(private readonly opts: GateResolverOptions) {}

  get size(): number {
    return this.pending.size;
  }

  /** An Unknown outcome; a second one for the same order while the first is pending is ignored. */
  enqueue(u: GateUnknown): void {
    if (this.stopped || u.intentId < 0 || u.text === '' || this.pending.has(u.intentId)) return;
    const e: Entry = { ...u, settled: false };
    this.pending.set(u.intentId, e);
    this.counters.unknownSeen++;
    this.counters.resolvePending = this.pending.size;
    const p = this.run(e).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /**
   * A late answer for the order arrived. True when the caller should report it (the resolver had not
   * and now will not); false when the resolver already reported the order, or nothing was pending.
   */
  settle(intentId: number): boolean {
    const e = this.pending.get(intentId);
    if (e === undefined || e.settled) return false;
    e.settled = true;
    this.counters.resolvedByLateAnswer++;
    return true;
  }

  private async run(e: Entry): Promise<void> {
    const margin = this.opts.marginMs ?? 250;
    let delay = this.opts.retryMs ?? 500;
    try {
      while (!this.stopped && !e.settled) {
        const r = await this.opts.query.getOrder(e.text);
        if (this.stopped || e.settled) return;
        if (r.ok) {
          this.writeFound(e, r.value, false);
          return;
        }
        if (r.label === 'ORDER_NOT_FOUND') {
          const wait = e.deadlineVenueMs + margin - this.opts.venueTimeMs();
          if (wait > 0) {
            // still possibly on its way: look again (a found order is final at any time)
            await this.sleep(Math.min(Math.ceil(wait), this.opts.pollMs ?? 200));
            continue;
          }
          const l = await this.opts.query.listOrders(e.contract, 'finished', this.opts.finishedScan ?? 100);
          if (this.stopped || e.settled) return;
          if (l.ok) {
            const o = l.value.find((x) => x.text === e.text);
            if (o !== undefined) this.writeFound(e, o, true);
            else this.writeAbsent(e);
            return;
          }
          this.failed(e, `${l.label} ${l.message}`, delay);
        } else this.failed(e, `${r.label} ${r.message}`, delay);
        await this.sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    } finally {
      this.pending.delete(e.intentId);
      this.counters.resolvePending = this.pending.size;
    }
  }

  private failed(e: Entry, why: string, delay: number): void {
    this.counters.resolveErrors++;
    this.opts.onEvent?.('warn', `order ${e.text} (${e.contract}): outcome still unknown, query failed (${why}); retrying in ${delay} ms`);
  }

  private writeFound(e: Entry, o: GateOrder, fromList: boolean): void {
    const r = gateOrderOutcome(String(o.status ?? ''), String(o.finish_as ?? ''), gateNum(o.size), gateNum(o.left), gateNum(o.fill_price), this.outcome);
    const k = this.counters;
    k.unknownResolved++;
    if (fromList) k.resolvedFromList++;
    if (r.status === OrderStatus.Filled) k.resolvedFilled++;
    else if (r.status === OrderStatus.New || r.status === OrderStatus.PartiallyFilled) k.resolvedOpen++;
    else if (r.status === OrderStatus.Expired) k.resolvedExpired++;
    else k.resolvedCanceled++;
    const size = gateNum(o.size);
    const side = size > 0 ? 1 : size < 0 ? -1 : e.side;
    const lastQty = r.execType === ExecType.Fill ? r.cumQty : 0;
    const venueTime = Math.round(gateNum(o['update_time'] ?? o.create_time) * 1000) || 0;
    const id = String(o.id ?? '');
    this.opts.sink.execReport(e.symbolId, e.intentId, side, e.recvTs, e.sentTs, this.opts.now(), r.status, r.execType, lastQty, lastQty > 0 ? r.avgPrice : 0, r.cumQty, r.cumQty > 0 ? r.avgPrice : 0, Number(id) || 0, 0, venueTime, RejectReason.None, id);
    this.opts.onEvent?.('info', `order ${e.text} (${e.contract}): outcome resolved: ${String(o.status)} ${String(o.finish_as ?? '')} filled ${r.cumQty}`);
  }

  private writeAbsent(e: Entry): void {
    if (e.cancel) {
      // the target finished long ago (or never existed): what was reported for it stands
      this.counters.cancelTargetGone++;
      this.opts.onEvent?.('info', `order ${e.text} (${e.contract}): cancel outcome unknown, the order is no longer known to the venue`);
      return;
    }
    this.counters.unknownResolved++;
    this.counters.resolvedNeverArrived++;
    this.opts.sink.execReport(e.symbolId, e.intentId, e.side, e.recvTs, e.sentTs, this.opts.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 404, 0, RejectReason.Transport, 'never arrived: unknown to the venue after its deadline');
    this.opts.onEvent?.('info', `order ${e.text} (${e.contract}): outcome resolved: it never reached the venue`);
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

  /** Gives up on what is still pending (counted). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.counters.resolveAbandoned += this.pending.size;
    for (const w of [...this.wakers]) w();
  }
}
