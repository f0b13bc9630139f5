import { formatRatio, parseScaled } from '../../core/decimal.js';
import { ticksTo8, type NewOrder, type SimAccount, type SimOrder, type TimeInForce, type VenueCore } from '../Venue.js';
import type { GateContract } from './contracts.js';
import { GE, type GateError } from './errors.js';
import { money, num, Raw, sec, secs, trim, type Json } from './json.js';

/**
 * Gate order entry on the core: `POST /futures/usdt/orders` bodies (also the WS API `req_param`) into
 * core orders, Gate's own order fields kept beside the core order, ids, and the order objects of the
 * REST replies and of `futures.orders` pushes (key orders of fixtures order_response.json and
 * private_ws.jsonl line 1).
 */

export type GateTif = 'gtc' | 'ioc' | 'poc' | 'fok';

/** What Gate shows about an order that the core does not keep. */
export interface GateMeta {
  /** `text`: the `t-...` client id, or "api" when none was given. */
  text: string;
  tif: GateTif;
  iceberg: number;
  isClose: boolean;
  /** Bumped on every change of the order (Gate `update_id`). */
  updateId: number;
  /** Realized PnL of the order's fills (10^-8 USDT). */
  realized: bigint;
}

/**
 * Gate order ids exceed 2^53 (58828270139457759 [obs]). They are the core's id plus a fixed offset,
 * computed and written as BigInt text so no double ever holds them.
 */
const GATE_ID_BASE = 58_828_266_000_000_000n;
const MAX_CORE_ID = BigInt(Number.MAX_SAFE_INTEGER);

export function gateOrderId(o: SimOrder): string {
  return gateIdOf(o.orderId);
}

export function gateIdOf(coreId: number): string {
  return (GATE_ID_BASE + BigInt(coreId)).toString();
}

/** The core order id behind a Gate id (decimal digits), null when it cannot be one of ours. */
export function coreOrderId(id: string): number | null {
  if (!/^\d{1,20}$/.test(id)) return null;
  const v = BigInt(id) - GATE_ID_BASE;
  if (v < 0n || v > MAX_CORE_ID) return null;
  return Number(v);
}

const TEXT_RE = /^t-[0-9A-Za-z_.-]{1,28}$/;
/** How long after finishing an order is still found by its `text`. */
const TEXT_LOOKUP_MS = 60_000;
const TIFS = new Set<string>(['gtc', 'ioc', 'poc', 'fok']);
const CORE_TIF: Record<GateTif, TimeInForce> = { gtc: 'GTC', ioc: 'IOC', poc: 'GTX', fok: 'FOK' };

export interface ParsedGateOrder {
  contract: GateContract;
  order: NewOrder;
  meta: GateMeta;
  /** The limit price as sent (for error texts), "0" for market orders. */
  priceText: string;
}

export interface OrderContext {
  contract(name: string): GateContract | undefined;
  core: VenueCore;
  /** Mark price of a contract (10^-8 USDT). */
  mark8(sym: number): number;
}

/** A JSON integer (or integer string, as in size-decimal mode) as a safe integer. */
function intOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v)) return Number(v);
  return null;
}

function text1(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? '';
}

/**
 * An order body -> core order, or the Gate error: size signed (> 0 buy, < 0 sell), price a decimal
 * string ("0" + ioc/fok = market), tif gtc|ioc|poc|fok, reduce_only, close (size 0: close the
 * position), text `t-` + up to 28 of [0-9A-Za-z_.-], iceberg accepted and ignored. The price must lie
 * within the contract's deviation band around the mark price.
 */
export function parseOrderBody(body: unknown, acc: SimAccount, ctx: OrderContext): ParsedGateOrder | GateError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return GE.invalidBody('request body must be a JSON object');
  const b = body as Record<string, unknown>;
  const name = b['contract'];
  if (name === undefined || name === '') return GE.missingParam('contract');
  if (typeof name !== 'string') return GE.invalidParam('contract', text1(name));
  const c = ctx.contract(name);
  if (!c) return GE.contractNotFound(name);
  const inst = c.inst;

  let tif: GateTif = 'gtc';
  if (b['tif'] !== undefined) {
    if (typeof b['tif'] !== 'string' || !TIFS.has(b['tif'])) return GE.invalidParam('tif', text1(b['tif']));
    tif = b['tif'] as GateTif;
  }
  let text = 'api';
  if (b['text'] !== undefined && b['text'] !== '') {
    if (typeof b['text'] !== 'string' || !TEXT_RE.test(b['text'])) return GE.invalidParam('text', text1(b['text']));
    text = b['text'];
  }
  const flag = (k: string): boolean | GateError => {
    const v = b[k];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') return GE.invalidParam(k, text1(v));
    return v;
  };
  const reduceOnly = flag('reduce_only');
  if (typeof reduceOnly !== 'boolean') return reduceOnly;
  const close = flag('close');
  if (typeof close !== 'boolean') return close;
  let iceberg = 0;
  if (b['iceberg'] !== undefined) {
    const v = intOf(b['iceberg']);
    if (v === null || v < 0) return GE.invalidParam('iceberg', text1(b['iceberg']));
    iceberg = v;
  }
  // Dual-mode closing needs dual mode, which the simulator does not have.
  if (b['auto_size'] !== undefined && b['auto_size'] !== '') return GE.invalidParam('auto_size', text1(b['auto_size']));

  if (b['size'] === undefined) return GE.missingParam('size');
  const size = intOf(b['size']);
  if (size === null) return GE.invalidParam('size', text1(b['size']));
  let qty: number;
  let side: 'BUY' | 'SELL';
  let reduce = reduceOnly;
  if (close) {
    if (size !== 0) return GE.invalidParam('size', String(size));
    const p = acc.positions.get(inst.idx)?.qty ?? 0;
    if (p === 0) return GE.positionEmpty();
    qty = Math.abs(p);
    side = p > 0 ? 'SELL' : 'BUY';
    reduce = true;
  } else {
    if (size === 0) return GE.invalidParam('size', '0');
    qty = Math.abs(size);
    side = size > 0 ? 'BUY' : 'SELL';
  }

  const rawPrice = b['price'];
  if (rawPrice === undefined) return GE.missingParam('price');
  if (typeof rawPrice !== 'string' && typeof rawPrice !== 'number') return GE.invalidParam('price', text1(rawPrice));
  const priceText = String(rawPrice);
  const units = parseScaled(priceText, inst.priceDecimals);
  if (typeof units !== 'number' || units < 0) return GE.invalidParam('price', priceText);
  let priceTicks = 0;
  let market = false;
  if (units === 0) {
    // Market order: price 0 with a taker-only time in force.
    if (tif !== 'ioc' && tif !== 'fok') return GE.invalidParam('tif', tif);
    market = true;
  } else {
    if (units % inst.tickUnits !== 0) return GE.invalidParam('price', priceText);
    priceTicks = units / inst.tickUnits;
    const mark = ctx.mark8(inst.idx);
    const p8 = ticksTo8(inst, priceTicks);
    if (Math.abs(p8 - mark) * 1e6 > mark * c.deviatePpm) return GE.priceDeviated(priceText, trim(formatRatio(BigInt(mark), 1n, 8, 0, 8)));
  }

  return {
    contract: c,
    priceText: market ? '0' : priceText,
    order: {
      inst,
      side,
      type: market ? 'MARKET' : 'LIMIT',
      timeInForce: CORE_TIF[tif],
      qty,
      price: priceTicks,
      clientOrderId: ctx.core.generateClientOrderId(),
      reduceOnly: reduce,
      positionSide: 'BOTH',
      goodTillDate: 0,
    },
    meta: { text, tif, iceberg, isClose: close, updateId: 1, realized: 0n },
  };
}

/** Average fill price (trimmed), "0" before any fill. */
export function fillPrice(o: SimOrder): string {
  if (o.executedQty === 0) return '0';
  const inst = o.inst;
  return formatRatio(o.cumQuote, BigInt(o.executedQty * inst.stepUnits), inst.priceDecimals, 0, inst.priceDecimals + 4);
}

export function isOpen(o: SimOrder): boolean {
  return o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';
}

/** `finish_as` of a finished order. */
export function finishAs(o: SimOrder): string {
  switch (o.status) {
    case 'FILLED':
      return 'filled';
    case 'EXPIRED':
      return 'ioc';
    default:
      return 'cancelled';
  }
}

export interface FeeRates {
  maker: string;
  taker: string;
}

/** The REST order object (POST/GET/DELETE replies), fixture order_response.json key order. */
export function restOrder(o: SimOrder, m: GateMeta, c: GateContract, uid: number, fees: FeeRates): Json {
  const sign = o.side === 'BUY' ? 1 : -1;
  const open = isOpen(o);
  const out: Record<string, Json> = {
    refu: 0,
    tkfr: fees.taker,
    mkfr: fees.maker,
    contract: c.name,
    id: new Raw(gateOrderId(o)),
    price: o.type === 'MARKET' ? '0' : c.px(o.price),
    tif: m.tif,
    iceberg: m.iceberg,
    text: m.text,
    user: uid,
    is_reduce_only: o.reduceOnly,
    is_close: m.isClose,
    is_liq: false,
    fill_price: fillPrice(o),
    create_time: secs(o.time),
    update_time: secs(o.updateTime),
  };
  if (!open) {
    out['finish_time'] = secs(o.updateTime);
    out['finish_as'] = finishAs(o);
  }
  out['status'] = open ? 'open' : 'finished';
  out['left'] = sign * (o.qty - o.executedQty);
  out['refr'] = '0';
  out['size'] = sign * o.qty;
  out['biz_info'] = '-';
  out['amend_text'] = '-';
  out['stp_act'] = '-';
  out['stp_id'] = 0;
  out['update_id'] = m.updateId;
  out['pnl'] = money(m.realized);
  out['pnl_margin'] = '0';
  return out;
}

/** A `futures.orders` push item: numbers for price and fees, `user` a string (private_ws.jsonl line 1). */
export function wsOrder(o: SimOrder, m: GateMeta, c: GateContract, uid: number, fees: FeeRates): Json {
  const sign = o.side === 'BUY' ? 1 : -1;
  const open = isOpen(o);
  const fa = open ? (o.executedQty === 0 ? '_new' : '_update') : finishAs(o);
  return {
    tkfr: num(fees.taker),
    text: m.text,
    user: String(uid),
    stp_act: '-',
    id: new Raw(gateOrderId(o)),
    refr: 0,
    is_reduce_only: o.reduceOnly,
    mkfr: num(fees.maker),
    stop_loss_price: '',
    is_liq: false,
    fill_price: num(fillPrice(o)),
    finish_as: fa,
    size: sign * o.qty,
    contract: c.name,
    stop_profit_price: '',
    create_time_ms: o.time,
    status: open ? 'open' : 'finished',
    price: num(o.type === 'MARKET' ? '0' : c.px(o.price)),
    biz_info: '-',
    is_close: m.isClose,
    left: sign * (o.qty - o.executedQty),
    tif: m.tif,
    finish_time_ms: o.updateTime,
    stp_id: '0',
    update_id: m.updateId,
    iceberg: m.iceberg,
    refu: 0,
    finish_time: sec(o.updateTime),
    amend_text: '-',
    create_time: sec(o.time),
  };
}

/** Gate fields of the core's orders; entries go when the core forgets the order. */
export class GateOrderBook {
  private readonly meta = new WeakMap<SimOrder, GateMeta>();

  set(o: SimOrder, m: GateMeta): void {
    this.meta.set(o, m);
  }

  /** Gate fields of an order (defaults for orders placed around the dialect). */
  of(o: SimOrder): GateMeta {
    let m = this.meta.get(o);
    if (!m) {
      m = { text: 'api', tif: o.timeInForce === 'IOC' ? 'ioc' : o.timeInForce === 'FOK' ? 'fok' : o.timeInForce === 'GTX' ? 'poc' : 'gtc', iceberg: 0, isClose: false, updateId: 1, realized: 0n };
      this.meta.set(o, m);
    }
    return m;
  }

  /**
   * An order of the account by Gate id or by `text` (the open one first, else the latest): what
   * GET/DELETE /orders/{order_id} and the WS API accept. With `now`, a finished order is found by its
   * text only up to 60 s after it finished (protocols.md §2.9); by id always.
   */
  find(acc: SimAccount, ref: string, now?: number): SimOrder | undefined {
    if (ref.startsWith('t-')) {
      for (const o of acc.open.values()) if (this.meta.get(o)?.text === ref) return o;
      let found: SimOrder | undefined;
      for (const o of acc.orders.values()) if (this.meta.get(o)?.text === ref) found = o;
      if (found !== undefined && now !== undefined && now - found.updateTime > TEXT_LOOKUP_MS) return undefined;
      return found;
    }
    const id = coreOrderId(ref);
    return id === null ? undefined : acc.orders.get(id);
  }
}
