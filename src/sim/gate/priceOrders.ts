import { parseScaled } from '../../core/decimal.js';
import type { SimAccount } from '../Venue.js';
import { GE, type GateError } from './errors.js';
import { Raw, secs, type Json } from './json.js';
import type { GateContext, GateTrading, Outcome } from './trading.js';

/**
 * Gate price-triggered orders (`/futures/usdt/price_orders`): `{"initial": <order body>, "trigger":
 * {"strategy_type":0, "price_type":0|1|2, "price", "rule":1|2, "expiration"}}`. rule 1 fires when the
 * watched price is >= the trigger, rule 2 when <=; price_type 0 = last trade, 1 = mark, 2 = index (the mark
 * here). When it fires, `initial` is placed as a normal order (a market order is `price "0"` + ioc); the
 * trigger order then reads finished with `finish_as "succeeded"` and the placed order's id in `trade_id`,
 * or `finish_as "failed"` with the reason when the placement was refused. Ids are plain integers (< 2^53).
 */

interface PriceOrder {
  id: number;
  acc: SimAccount;
  contract: string;
  sym: number;
  initial: Record<string, unknown>;
  priceType: number;
  rule: number;
  triggerText: string;
  /** trigger price in ticks */
  trigger: number;
  expiresAt: number;
  createTime: number;
  status: 'open' | 'finished';
  finishAs: string;
  finishTime: number;
  tradeId: string;
  reason: string;
}

export class GatePriceOrders {
  private nextId = 1_432_329;
  private readonly all = new Map<number, PriceOrder>();
  fired = 0;

  constructor(
    private readonly ctx: GateContext,
    private readonly trading: GateTrading,
  ) {}

  create(acc: SimAccount, body: unknown, now: number): Outcome<Json> {
    if (!isObject(body)) return fail(GE.invalidBody('request body must be a JSON object'));
    const initial = body['initial'];
    const trigger = body['trigger'];
    if (!isObject(initial)) return fail(GE.missingParam('initial'));
    if (!isObject(trigger)) return fail(GE.missingParam('trigger'));
    const name = initial['contract'];
    const c = typeof name === 'string' ? this.ctx.contract(name) : undefined;
    if (!c) return fail(GE.contractNotFound(String(name)));
    const size = initial['size'];
    if (typeof size !== 'number' || !Number.isSafeInteger(size)) return fail(GE.invalidParam('initial.size', String(size)));
    if (size === 0 && initial['close'] !== true) return fail(GE.invalidParam('initial.size', '0'));
    const priceType = trigger['price_type'] ?? 0;
    if (priceType !== 0 && priceType !== 1 && priceType !== 2) return fail(GE.invalidParam('trigger.price_type', String(priceType)));
    const rule = trigger['rule'];
    if (rule !== 1 && rule !== 2) return fail(GE.invalidParam('trigger.rule', String(rule)));
    const tp = trigger['price'];
    const units = typeof tp === 'string' ? parseScaled(tp, c.inst.priceDecimals) : null;
    if (typeof units !== 'number' || units <= 0 || units % c.inst.tickUnits !== 0) return fail(GE.invalidParam('trigger.price', String(tp)));
    const exp = trigger['expiration'] ?? 0;
    if (typeof exp !== 'number' || exp < 0) return fail(GE.invalidParam('trigger.expiration', String(exp)));
    const o: PriceOrder = {
      id: this.nextId++,
      acc,
      contract: c.name,
      sym: c.idx,
      initial: { ...initial },
      priceType,
      rule,
      triggerText: tp as string,
      trigger: units / c.inst.tickUnits,
      expiresAt: exp > 0 ? now + exp * 1000 : 0,
      createTime: now,
      status: 'open',
      finishAs: '',
      finishTime: 0,
      tradeId: '0',
      reason: '',
    };
    this.all.set(o.id, o);
    return { ok: true, value: { id: o.id } };
  }

  cancel(acc: SimAccount, ref: string, now: number): Outcome<Json> {
    const o = this.find(acc, ref);
    if (!o) return fail(GE.orderNotFound(ref));
    if (o.status !== 'open') return fail(GE.orderFinished(ref));
    this.finish(o, 'cancelled', now, '');
    return { ok: true, value: this.json(o) };
  }

  get(acc: SimAccount, ref: string): Outcome<Json> {
    const o = this.find(acc, ref);
    return o ? { ok: true, value: this.json(o) } : fail(GE.orderNotFound(ref));
  }

  list(acc: SimAccount, status: string | undefined, contract: string | undefined): Outcome<Json> {
    const out: Json[] = [];
    for (const o of this.all.values()) {
      if (o.acc !== acc || (contract !== undefined && o.contract !== contract)) continue;
      if (status === 'open' ? o.status !== 'open' : status === 'finished' ? o.status === 'open' : false) continue;
      out.push(this.json(o));
    }
    return { ok: true, value: out.reverse() };
  }

  /** Fires every open order whose condition holds now (called by the venue after market events). */
  check(now: number): void {
    for (const o of this.all.values()) {
      if (o.status !== 'open') continue;
      if (o.expiresAt > 0 && now >= o.expiresAt) {
        this.finish(o, 'expired', now, '');
        continue;
      }
      const c = this.ctx.contracts[o.sym]!;
      const px = o.priceType === 0 ? this.ctx.data.last(o.sym) : this.ctx.marks.mark8(o.sym) / (c.inst.tickUnits * 10 ** (8 - c.inst.priceDecimals));
      if (!(o.rule === 1 ? px >= o.trigger : px <= o.trigger)) continue;
      this.fired++;
      const r = this.trading.placeOrder(o.acc, o.initial, now);
      if (r.ok) {
        const id = (r.value as Record<string, Json>)['id'];
        this.finish(o, 'succeeded', now, '');
        o.tradeId = id instanceof Raw ? id.text : String(id ?? '0');
      } else this.finish(o, 'failed', now, `${r.error.label}: ${r.error.message}`);
    }
  }

  private finish(o: PriceOrder, as: string, now: number, reason: string): void {
    o.status = 'finished';
    o.finishAs = as;
    o.finishTime = now;
    o.reason = reason;
  }

  private find(acc: SimAccount, ref: string): PriceOrder | undefined {
    if (!/^\d{1,15}$/.test(ref)) return undefined;
    const o = this.all.get(Number(ref));
    return o && o.acc === acc ? o : undefined;
  }

  private json(o: PriceOrder): Json {
    const out: Record<string, Json> = {
      initial: o.initial as Json,
      trigger: { strategy_type: 0, price_type: o.priceType, price: o.triggerText, rule: o.rule, expiration: o.expiresAt > 0 ? Math.round((o.expiresAt - o.createTime) / 1000) : 0 },
      id: o.id,
      user: this.trading.uid(o.acc),
      create_time: secs(o.createTime),
      finish_time: o.finishTime > 0 ? secs(o.finishTime) : 0,
      trade_id: o.tradeId,
      status: o.status,
      finish_as: o.finishAs,
      reason: o.reason,
      order_type: '',
    };
    return out;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(error: GateError): Outcome<Json> {
  return { ok: false, error };
}
