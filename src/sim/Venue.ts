import { formatRatio, formatScaledBig } from '../core/decimal.js';
import type { Instrument } from './instruments.js';
import type { MarketEvent, MarketSource, Side } from './market/types.js';
import type { Rng } from './rng.js';

/**
 * Venue-neutral core of the simulated exchange: accounts, order handling against the market's book,
 * positions and the venue's own fill log. A dialect (Binance, later Gate) parses its wire requests into
 * `NewOrder`s (integer ticks and steps), calls the core, and formats the results and rejects its way.
 *
 * This first version executes aggressive orders (MARKET, IOC/FOK LIMIT, the marketable part of GTC
 * LIMIT) immediately against the synthetic book, walking price levels; resting LIMIT orders are kept
 * open but not matched against later flow (queue models come with the matching engine).
 */

export type OrderType = 'LIMIT' | 'MARKET';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTX' | 'GTD';
export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
export type PositionSide = 'BOTH' | 'LONG' | 'SHORT';

export interface NewOrder {
  inst: Instrument;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  /** Quantity in steps (> 0). */
  qty: number;
  /** Limit price in ticks; 0 for MARKET. */
  price: number;
  clientOrderId: string;
  reduceOnly: boolean;
  positionSide: PositionSide;
  goodTillDate: number;
}

export interface SimOrder {
  orderId: number;
  clientOrderId: string;
  accountId: string;
  inst: Instrument;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  price: number;
  qty: number;
  executedQty: number;
  /** Sum of price x qty of the fills, in units of 10^-(priceDecimals + qtyDecimals). */
  cumQuote: bigint;
  status: OrderStatus;
  reduceOnly: boolean;
  positionSide: PositionSide;
  goodTillDate: number;
  time: number;
  updateTime: number;
}

/** One execution as the venue records it. Decimal strings are exact (at tick/step precision). */
export interface SimFill {
  tradeId: number;
  accountId: string;
  symbol: string;
  side: Side;
  qty: string;
  price: string;
  /** price x qty, exact. */
  quoteQty: string;
  orderId: number;
  clientOrderId: string;
  maker: boolean;
  time: number;
}

export interface SimPosition {
  accountId: string;
  symbol: string;
  /** Signed position (base asset), exact. */
  positionAmt: string;
  /** Average entry price (rounded to 8 decimals), "0" when flat. */
  entryPrice: string;
  /** Realized PnL in quote asset, before fees (rounded to 8 decimals). */
  realizedPnl: string;
}

export type RejectReason =
  | 'DUPLICATE_CLIENT_ORDER_ID'
  | 'QTY_BELOW_MIN'
  | 'QTY_ABOVE_MAX'
  | 'PRICE_BELOW_MIN'
  | 'PRICE_ABOVE_MAX'
  | 'MIN_NOTIONAL'
  | 'REDUCE_ONLY_REJECTED'
  | 'FOK_NOT_FILLED'
  | 'POST_ONLY_WOULD_TAKE'
  | 'MAX_OPEN_ORDERS'
  | 'UNKNOWN_ORDER';

export type PlaceResult =
  | { ok: true; order: SimOrder; fills: SimFill[]; events: MarketEvent[] }
  | { ok: false; reason: RejectReason; order?: undefined };

export type CancelResult = { ok: true; order: SimOrder } | { ok: false; reason: 'UNKNOWN_ORDER' };

export interface SimAccount {
  readonly id: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Open orders by order id. */
  readonly open: Map<number, SimOrder>;
  /** Open orders by client order id. */
  readonly openByClientId: Map<string, SimOrder>;
  /** Position per symbol index. */
  readonly positions: Map<number, PositionState>;
}

interface PositionState {
  /** Signed quantity in steps. */
  qty: number;
  /** Cost of the open quantity (price units x qty units), always >= 0. */
  cost: bigint;
  /** Realized PnL in price units x qty units. */
  realized: bigint;
}

export interface VenueCoreOptions {
  rng: Rng;
  /** Max open orders per symbol and account (MAX_NUM_ORDERS). Default 200. */
  maxOpenOrders?: number;
  /** Fill log bound: older entries are dropped beyond it. Default 1_000_000. */
  maxFillLog?: number;
}

export class VenueCore {
  private readonly accounts = new Map<string, SimAccount>();
  private readonly byApiKey = new Map<string, SimAccount>();
  private readonly fillLog: SimFill[] = [];
  private nextOrderId: number;
  private nextTradeId: number;
  private readonly maxOpen: number;
  private readonly maxFillLog: number;
  private readonly rng: Rng;
  /** Counters for stats. */
  ordersAccepted = 0;
  ordersRejected = 0;
  fillCount = 0;

  constructor(
    readonly market: MarketSource,
    opts: VenueCoreOptions,
  ) {
    this.rng = opts.rng;
    this.nextOrderId = 4_000_000_000 + this.rng.int(100_000_000);
    this.nextTradeId = 300_000_000 + this.rng.int(10_000_000);
    this.maxOpen = opts.maxOpenOrders ?? 200;
    this.maxFillLog = opts.maxFillLog ?? 1_000_000;
  }

  addAccount(id: string, apiKey: string, apiSecret: string): SimAccount {
    if (this.byApiKey.has(apiKey)) throw new Error('VenueCore: duplicate api key');
    const acc: SimAccount = { id, apiKey, apiSecret, open: new Map(), openByClientId: new Map(), positions: new Map() };
    this.accounts.set(id, acc);
    this.byApiKey.set(apiKey, acc);
    return acc;
  }

  accountByApiKey(apiKey: string): SimAccount | undefined {
    return this.byApiKey.get(apiKey);
  }

  /** A client order id that is not open on the account (22 chars of [0-9A-Za-z]). */
  generateClientOrderId(): string {
    const ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let s = '';
    for (let i = 0; i < 22; i++) s += ALPHA[this.rng.int(62)];
    return s;
  }

  openOrderCount(acc: SimAccount, sym: number): number {
    let n = 0;
    for (const o of acc.open.values()) if (o.inst.idx === sym) n++;
    return n;
  }

  placeOrder(acc: SimAccount, req: NewOrder, now: number): PlaceResult {
    const r = this.place(acc, req, now);
    if (r.ok) this.ordersAccepted++;
    else this.ordersRejected++;
    return r;
  }

  private place(acc: SimAccount, req: NewOrder, now: number): PlaceResult {
    const inst = req.inst;
    const sym = inst.idx;
    if (acc.openByClientId.has(req.clientOrderId)) return { ok: false, reason: 'DUPLICATE_CLIENT_ORDER_ID' };

    // Quantity and price filters (tick/step multiples are the dialect's parsing job).
    if (req.qty < inst.minQtySteps) return { ok: false, reason: 'QTY_BELOW_MIN' };
    if (req.qty > (req.type === 'MARKET' ? inst.marketMaxQtySteps : inst.maxQtySteps)) return { ok: false, reason: 'QTY_ABOVE_MAX' };
    if (req.type === 'LIMIT') {
      const units = req.price * inst.tickUnits;
      if (units < inst.minPriceUnits) return { ok: false, reason: 'PRICE_BELOW_MIN' };
      if (inst.maxPriceUnits > 0 && units > inst.maxPriceUnits) return { ok: false, reason: 'PRICE_ABOVE_MAX' };
    }

    let qty = req.qty;
    const pos = acc.positions.get(sym);
    if (req.reduceOnly) {
      const p = pos?.qty ?? 0;
      const reduces = req.side === 'BUY' ? p < 0 : p > 0;
      if (!reduces) return { ok: false, reason: 'REDUCE_ONLY_REJECTED' };
      qty = Math.min(qty, Math.abs(p));
    }

    const top = this.market.top(sym);
    if (!req.reduceOnly) {
      // MIN_NOTIONAL: limit price, or for MARKET the price it would trade at first.
      const refTicks = req.type === 'MARKET' ? (req.side === 'BUY' ? top.ask : top.bid) : req.price;
      if (inst.quote(refTicks, qty) < inst.minNotionalQuote) return { ok: false, reason: 'MIN_NOTIONAL' };
    }

    const limit = req.type === 'MARKET' ? null : req.price;
    const crosses = limit === null || (req.side === 'BUY' ? top.ask >= 0 && limit >= top.ask : top.bid >= 0 && limit <= top.bid);
    if (req.timeInForce === 'GTX' && req.type === 'LIMIT' && crosses) return { ok: false, reason: 'POST_ONLY_WOULD_TAKE' };
    if (req.timeInForce === 'FOK' && this.market.available(sym, req.side, qty, limit) < qty) return { ok: false, reason: 'FOK_NOT_FILLED' };
    const rests = req.type === 'LIMIT' && (req.timeInForce === 'GTC' || req.timeInForce === 'GTD' || req.timeInForce === 'GTX');
    if (rests && this.openOrderCount(acc, sym) >= this.maxOpen) return { ok: false, reason: 'MAX_OPEN_ORDERS' };

    const order: SimOrder = {
      orderId: this.nextOrderId++,
      clientOrderId: req.clientOrderId,
      accountId: acc.id,
      inst,
      side: req.side,
      type: req.type,
      timeInForce: req.type === 'MARKET' ? 'GTC' : req.timeInForce,
      price: req.type === 'MARKET' ? 0 : req.price,
      qty,
      executedQty: 0,
      cumQuote: 0n,
      status: 'NEW',
      reduceOnly: req.reduceOnly,
      positionSide: req.positionSide,
      goodTillDate: req.goodTillDate,
      time: now,
      updateTime: now,
    };

    const fills: SimFill[] = [];
    let events: MarketEvent[] = [];
    if (crosses) {
      const taken = this.market.take(sym, req.side, qty, limit, now);
      events = taken.events;
      for (const f of taken.fills) {
        order.executedQty += f.qty;
        const q = inst.quote(f.price, f.qty);
        order.cumQuote += q;
        this.applyFill(acc, sym, req.side, f.price, f.qty);
        const fill: SimFill = {
          tradeId: this.nextTradeId++,
          accountId: acc.id,
          symbol: inst.symbol,
          side: req.side,
          qty: inst.qtyStr(f.qty),
          price: inst.priceStr(f.price),
          quoteQty: formatScaledBig(q, inst.priceDecimals + inst.qtyDecimals),
          orderId: order.orderId,
          clientOrderId: order.clientOrderId,
          maker: false,
          time: now,
        };
        fills.push(fill);
        this.recordFill(fill);
      }
    }

    if (order.executedQty >= order.qty) order.status = 'FILLED';
    else if (rests) {
      order.status = order.executedQty > 0 ? 'PARTIALLY_FILLED' : 'NEW';
      acc.open.set(order.orderId, order);
      acc.openByClientId.set(order.clientOrderId, order);
    } else order.status = 'EXPIRED';
    return { ok: true, order, fills, events };
  }

  /** Cancels an open order by order id or client order id. */
  cancelOrder(acc: SimAccount, sym: number, orderId: number | null, clientOrderId: string | null, now: number): CancelResult {
    const o = orderId !== null ? acc.open.get(orderId) : clientOrderId !== null ? acc.openByClientId.get(clientOrderId) : undefined;
    if (!o || o.inst.idx !== sym) return { ok: false, reason: 'UNKNOWN_ORDER' };
    acc.open.delete(o.orderId);
    acc.openByClientId.delete(o.clientOrderId);
    o.status = 'CANCELED';
    o.updateTime = now;
    return { ok: true, order: o };
  }

  /** Cancels every open order of a symbol; returns them. */
  cancelAll(acc: SimAccount, sym: number, now: number): SimOrder[] {
    const out: SimOrder[] = [];
    for (const o of [...acc.open.values()]) {
      if (o.inst.idx !== sym) continue;
      const r = this.cancelOrder(acc, sym, o.orderId, null, now);
      if (r.ok) out.push(r.order);
    }
    return out;
  }

  openOrders(acc: SimAccount, sym: number | null): SimOrder[] {
    const out: SimOrder[] = [];
    for (const o of acc.open.values()) if (sym === null || o.inst.idx === sym) out.push(o);
    return out;
  }

  /** The venue's record of fills (copies), oldest first. */
  fills(): SimFill[] {
    return this.fillLog.map((f) => ({ ...f }));
  }

  positions(): SimPosition[] {
    const out: SimPosition[] = [];
    for (const acc of this.accounts.values()) {
      for (const [sym, p] of acc.positions) {
        const inst = this.market.instruments[sym]!;
        const scale = inst.priceDecimals + inst.qtyDecimals;
        const qtyUnits = BigInt(Math.abs(p.qty) * inst.stepUnits);
        out.push({
          accountId: acc.id,
          symbol: inst.symbol,
          positionAmt: inst.qtyStr(p.qty),
          // cost / qty is in price units: scale back by 10^priceDecimals.
          entryPrice: p.qty === 0 ? '0' : formatRatio(p.cost, qtyUnits, inst.priceDecimals, inst.priceDecimals, 8),
          realizedPnl: formatRatio(p.realized, 1n, scale, 0, 8),
        });
      }
    }
    return out;
  }

  private recordFill(f: SimFill): void {
    this.fillCount++;
    this.fillLog.push(f);
    if (this.fillLog.length > this.maxFillLog) this.fillLog.splice(0, this.fillLog.length - this.maxFillLog);
  }

  /** Average-cost position keeping (one-way mode). */
  private applyFill(acc: SimAccount, sym: number, side: Side, priceTicks: number, steps: number): void {
    const inst = this.market.instruments[sym]!;
    let p = acc.positions.get(sym);
    if (!p) {
      p = { qty: 0, cost: 0n, realized: 0n };
      acc.positions.set(sym, p);
    }
    const signed = side === 'BUY' ? steps : -steps;
    if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed)) {
      p.cost += inst.quote(priceTicks, steps);
      p.qty += signed;
      return;
    }
    const open = Math.abs(p.qty);
    const closing = Math.min(open, steps);
    const closeCost = (p.cost * BigInt(closing)) / BigInt(open);
    const closeValue = inst.quote(priceTicks, closing);
    // Long closed by a sell: value - cost; short closed by a buy: cost - value.
    p.realized += p.qty > 0 ? closeValue - closeCost : closeCost - closeValue;
    p.cost -= closeCost;
    p.qty += signed;
    if (p.qty === 0) p.cost = 0n;
    else if (Math.sign(p.qty) === Math.sign(signed)) p.cost = inst.quote(priceTicks, Math.abs(p.qty));
  }
}
