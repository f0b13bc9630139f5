import { parseScaled } from '../../core/decimal.js';
import type { MarkPrices } from '../market/MarkPrice.js';
import type { MarketEvent } from '../market/types.js';
import type { SyntheticMarket } from '../market/SyntheticMarket.js';
import type { SimAccount, SimOrder, VenueCore } from '../Venue.js';
import { WindowCounter } from '../WindowCounter.js';
import type { GateLedger } from './account.js';
import type { GateContract } from './contracts.js';
import { GE, isGateError, rejectToGate, type GateError } from './errors.js';
import { dec8, secs, trim, type Json } from './json.js';
import type { GateMarketData } from './marketData.js';
import { gateIdOf, isOpen, parseOrderBody, restOrder, type FeeRates, type GateOrderBook } from './orders.js';

/** Everything the Gate REST and WS API handlers share. */
export interface GateContext {
  readonly contracts: readonly GateContract[];
  contract(name: string): GateContract | undefined;
  readonly market: SyntheticMarket;
  readonly core: VenueCore;
  readonly marks: MarkPrices;
  readonly orders: GateOrderBook;
  readonly ledger: GateLedger;
  readonly data: GateMarketData;
  readonly fees: FeeRates;
  readonly maxOpenOrders: number;
  now(): number;
  /** Broadcasts market events caused by orders. */
  publish(events: MarketEvent[]): void;
}

/** Per-account order-rate figures (REST headers and WS API header fields). */
export interface RateInfo {
  limit: number;
  remain: number;
  /** ms; "now" when not limited (as observed). */
  reset: number;
}

export type Outcome<T> = { ok: true; value: T; rate?: RateInfo } | { ok: false; error: GateError; rate?: RateInfo };

/** Orders per second per account: placement (and amend) 100/s, cancellation 200/s (protocols.md §2.10). */
const PLACE_LIMIT = 100;
const CANCEL_LIMIT = 200;

/**
 * Order entry shared by REST and the WS API: place, cancel (one, all of a contract), query, list, the
 * dead-man switch, with the per-account order-rate windows (enforced only when asked).
 */
export class GateTrading {
  private readonly place = new Map<string, WindowCounter>();
  private readonly cancel = new Map<string, WindowCounter>();
  private readonly countdowns = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly ctx: GateContext,
    private readonly enforceRateLimits: boolean,
  ) {}

  private rate(map: Map<string, WindowCounter>, acc: SimAccount, limit: number, now: number): RateInfo {
    let w = map.get(acc.id);
    if (!w) map.set(acc.id, (w = new WindowCounter(1000, 10)));
    const used = w.add(now);
    return { limit, remain: Math.max(0, limit - used), reset: used > limit ? now + 1000 : now };
  }

  uid(acc: SimAccount): number {
    return this.ctx.ledger.uid(acc);
  }

  orderJson(acc: SimAccount, o: SimOrder): Json {
    return restOrder(o, this.ctx.orders.of(o), this.ctx.contracts[o.inst.idx]!, this.uid(acc), this.ctx.fees);
  }

  /** POST /orders body (also WS API order_place `req_param`). */
  placeOrder(acc: SimAccount, body: unknown, now: number): Outcome<Json> {
    const rate = this.rate(this.place, acc, PLACE_LIMIT, now);
    if (this.enforceRateLimits && rate.remain === 0 && rate.reset > now) return { ok: false, error: GE.tooManyRequests(311), rate };
    const ctx = this.ctx;
    const parsed = parseOrderBody(body, acc, { contract: (n) => ctx.contract(n), core: ctx.core, mark8: (s) => ctx.marks.mark8(s) });
    if (isGateError(parsed)) return { ok: false, error: parsed, rate };
    const c = parsed.contract;
    const r = ctx.core.placeOrder(acc, parsed.order, now, (o) => ctx.orders.set(o, parsed.meta));
    if (!r.ok) {
      const top = ctx.market.top(c.idx);
      const counter = parsed.order.side === 'BUY' ? top.ask : top.bid;
      return {
        ok: false,
        error: rejectToGate(r.reason, {
          min: c.spec.orderSizeMin,
          max: c.spec.orderSizeMax,
          limit: ctx.maxOpenOrders,
          price: parsed.priceText,
          counter: counter >= 0 ? c.px(counter) : dec8(ctx.marks.mark8(c.idx)),
        }),
        rate,
      };
    }
    if (r.events.length > 0) ctx.publish(r.events);
    return { ok: true, value: this.orderJson(acc, r.order), rate };
  }

  /** Cancels an open order by Gate id or `text`. */
  cancelOrder(acc: SimAccount, ref: string, now: number): Outcome<Json> {
    const rate = this.rate(this.cancel, acc, CANCEL_LIMIT, now);
    if (this.enforceRateLimits && rate.remain === 0 && rate.reset > now) return { ok: false, error: GE.tooManyRequests(311), rate };
    const o = this.ctx.orders.find(acc, ref, now);
    if (!o) return { ok: false, error: GE.orderNotFound(ref), rate };
    if (!isOpen(o)) return { ok: false, error: GE.orderFinished(ref), rate };
    const r = this.ctx.core.cancelOrder(acc, o.inst.idx, o.orderId, null, now);
    if (!r.ok) return { ok: false, error: GE.orderNotFound(ref), rate };
    return { ok: true, value: this.orderJson(acc, r.order), rate };
  }

  /** An order by Gate id, or by `text` while open or up to 60 s after it finished (as the venue answers). */
  getOrder(acc: SimAccount, ref: string, now?: number): Outcome<Json> {
    const o = this.ctx.orders.find(acc, ref, now);
    if (!o) return { ok: false, error: GE.orderNotFound(ref) };
    return { ok: true, value: this.orderJson(acc, o) };
  }

  /** Open orders, or the latest finished ones (newest first), of one contract or all. */
  listOrders(acc: SimAccount, contract: string | undefined, status: string | undefined, limit: number): Outcome<Json[]> {
    if (status === undefined || status === '') return { ok: false, error: GE.missingParam('status') };
    if (status !== 'open' && status !== 'finished') return { ok: false, error: GE.invalidParam('status', status) };
    let sym: number | null = null;
    if (contract !== undefined && contract !== '') {
      const c = this.ctx.contract(contract);
      if (!c) return { ok: false, error: GE.contractNotFound(contract) };
      sym = c.idx;
    }
    const out: Json[] = [];
    if (status === 'open') {
      for (const o of acc.open.values()) if ((sym === null || o.inst.idx === sym) && out.length < limit) out.push(this.orderJson(acc, o));
    } else {
      const all = [...acc.orders.values()];
      for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
        const o = all[i]!;
        if (!isOpen(o) && (sym === null || o.inst.idx === sym)) out.push(this.orderJson(acc, o));
      }
    }
    return { ok: true, value: out };
  }

  /** Cancels every open order of a contract (one side with `side` bid|ask). */
  cancelAll(acc: SimAccount, contract: string | undefined, side: string | undefined, now: number): Outcome<Json[]> {
    if (contract === undefined || contract === '') return { ok: false, error: GE.missingParam('contract') };
    const c = this.ctx.contract(contract);
    if (!c) return { ok: false, error: GE.contractNotFound(contract) };
    if (side !== undefined && side !== '' && side !== 'bid' && side !== 'ask') return { ok: false, error: GE.invalidParam('side', side) };
    const rate = this.rate(this.cancel, acc, CANCEL_LIMIT, now);
    const out: Json[] = [];
    for (const o of [...acc.open.values()]) {
      if (o.inst.idx !== c.idx) continue;
      if (side === 'bid' && o.side !== 'BUY') continue;
      if (side === 'ask' && o.side !== 'SELL') continue;
      const r = this.ctx.core.cancelOrder(acc, c.idx, o.orderId, null, now);
      if (r.ok) out.push(this.orderJson(acc, r.order));
    }
    return { ok: true, value: out, rate };
  }

  /**
   * Dead-man switch: after `timeout` s (>= 5; 0 stops it) without renewal, the account's open orders
   * (of `contract`, or all) are cancelled. Returns the trigger time (ms, as a string; "0" when stopped).
   */
  countdown(acc: SimAccount, body: unknown, now: number): Outcome<Json> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, error: GE.invalidBody('request body must be a JSON object') };
    const b = body as Record<string, unknown>;
    const t = b['timeout'];
    if (t === undefined) return { ok: false, error: GE.missingParam('timeout') };
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || (t !== 0 && t < 5)) return { ok: false, error: GE.invalidParam('timeout', JSON.stringify(t)) };
    let sym: number | null = null;
    const cn = b['contract'];
    if (cn !== undefined && cn !== '') {
      const c = typeof cn === 'string' ? this.ctx.contract(cn) : undefined;
      if (!c) return { ok: false, error: GE.contractNotFound(String(cn)) };
      sym = c.idx;
    }
    const key = `${acc.id}\u0000${sym ?? ''}`;
    const prev = this.countdowns.get(key);
    if (prev) clearTimeout(prev);
    this.countdowns.delete(key);
    if (t === 0) return { ok: true, value: { triggerTime: '0' } };
    const timer = setTimeout(() => {
      this.countdowns.delete(key);
      const at = this.ctx.now();
      for (const o of [...acc.open.values()]) if (sym === null || o.inst.idx === sym) this.ctx.core.cancelOrder(acc, o.inst.idx, o.orderId, null, at);
    }, t * 1000);
    timer.unref();
    this.countdowns.set(key, timer);
    return { ok: true, value: { triggerTime: String(now + t * 1000) } };
  }

  /**
   * `GET /my_trades`: the account's fills, newest first. `range` is `GET /my_trades_timerange`: fills with
   * `from <= create_time <= to` (seconds), its rows naming the id `trade_id` (a string) as the venue does.
   */
  myTrades(acc: SimAccount, contract: string | undefined, order: string | undefined, limit: number, range?: { from: number; to: number }): Outcome<Json[]> {
    let list = this.ctx.contracts;
    if (contract !== undefined && contract !== '') {
      const c = this.ctx.contract(contract);
      if (!c) return { ok: false, error: GE.contractNotFound(contract) };
      list = [c];
    }
    const rows: Json[] = [];
    const fills = list.flatMap((c) => this.ctx.core.accountFills(acc, c.name).map((f) => ({ f, c })));
    fills.sort((a, b) => b.f.tradeId - a.f.tradeId);
    for (const { f, c } of fills) {
      const gid = gateIdOf(f.orderId);
      if (order !== undefined && order !== '' && order !== gid) continue;
      if (range !== undefined && (f.time < range.from * 1000 || f.time > range.to * 1000 + 999)) continue;
      if (rows.length >= limit) break;
      const o = acc.orders.get(f.orderId);
      const units = parseScaled(f.qty, c.inst.qtyDecimals);
      const steps = typeof units === 'number' ? units / c.inst.stepUnits : 0;
      rows.push({
        ...(range === undefined ? { id: f.tradeId } : { trade_id: String(f.tradeId) }),
        create_time: secs(f.time),
        contract: c.name,
        order_id: gid,
        size: f.side === 'BUY' ? steps : -steps,
        price: trim(f.price),
        role: f.maker ? 'maker' : 'taker',
        text: o ? this.ctx.orders.of(o).text : 'api',
        fee: trim(f.commission),
        point_fee: '0',
      });
    }
    return { ok: true, value: rows };
  }

  close(): void {
    for (const t of this.countdowns.values()) clearTimeout(t);
    this.countdowns.clear();
  }
}
