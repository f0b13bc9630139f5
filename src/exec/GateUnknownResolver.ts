import { ExecType, OrderStatus, RejectReason } from '../ring/layout.js';
import { gateNum, gateOrderOutcome, type GateOrderOutcome } from '../venues/gate/orderState.js';
import type { GateOrder, GateResult } from '../venues/gate/RestClient.js';
import { nextRetryMs, ResolverCore, type ResolverCoreCounters, type ResolverCoreEntry, type ResolverCoreOptions } from './ResolverCore.js';

/** The lookups the resolver needs (GateRestClient has them). */
export interface GateOrderQuery {
  /** `GET /futures/usdt/orders/{text}`: found while open, or up to 60 s after it finished. */
  getOrder(orderIdOrText: string): Promise<GateResult<GateOrder>>;
  /** `GET /futures/usdt/orders?contract=&status=`: newest first. */
  listOrders(contract: string, status: 'open' | 'finished', limit?: number): Promise<GateResult<GateOrder[]>>;
}

export interface GateResolverOptions extends ResolverCoreOptions {
  query: GateOrderQuery;
  /** venue-clock estimate (ms): the clock the lost requests were stamped with */
  venueTimeMs: () => number;
  /** Added to each deadline: our clock's error and the venue's processing after its check. Default 250 ms. */
  marginMs?: number;
  /** Poll period while an order is not found before its deadline. Default 200 ms. */
  pollMs?: number;
  /** Finished orders listed when the text lookup fails after the deadline. Default 100. */
  finishedScan?: number;
}

export interface GateResolverCounters extends ResolverCoreCounters {
  resolvedFilled: number;
  resolvedOpen: number;
  resolvedCanceled: number;
  resolvedExpired: number;
  /** found through the finished-orders list (the text lookup had expired) */
  resolvedFromList: number;
  /** a late answer reported the state first: the resolver wrote nothing */
  resolvedByLateAnswer: number;
  /** a cancel's target order no longer known to the venue: its earlier reports stand */
  cancelTargetGone: number;
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

interface Entry extends GateUnknown, ResolverCoreEntry {}

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
export class GateUnknownResolver extends ResolverCore<GateResolverOptions, Entry, GateResolverCounters> {
  readonly counters: GateResolverCounters = {
    unknownSeen: 0, unknownResolved: 0, resolvedFilled: 0, resolvedOpen: 0, resolvedCanceled: 0, resolvedExpired: 0, resolvedNeverArrived: 0,
    resolvedFromList: 0, resolvedByLateAnswer: 0, cancelTargetGone: 0, resolveErrors: 0, resolvePending: 0, resolveAbandoned: 0,
  };
  private readonly outcome: GateOrderOutcome = { status: OrderStatus.New, execType: ExecType.Ack, cumQty: 0, avgPrice: NaN };

  /** An Unknown outcome; a second one for the same order while the first is pending is ignored. */
  enqueue(u: GateUnknown): void {
    if (this.stopped || u.intentId < 0 || u.text === '' || this.pending.has(u.intentId)) return;
    this.start({ ...u, settled: false });
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

  protected async run(e: Entry): Promise<void> {
    const margin = this.opts.marginMs ?? 250;
    let delay = this.firstRetryMs;
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
          this.failed(`${e.text} (${e.contract})`, `${l.label} ${l.message}`, delay);
        } else this.failed(`${e.text} (${e.contract})`, `${r.label} ${r.message}`, delay);
        await this.sleep(delay);
        delay = nextRetryMs(delay);
      }
    } finally {
      this.finish(e);
    }
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
    this.writeNeverArrived(e, `${e.text} (${e.contract})`, 404, 'never arrived: unknown to the venue after its deadline');
  }
}
