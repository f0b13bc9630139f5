import { formatRatio, formatScaledBig, parseScaled } from '../core/decimal.js';
import type { Instrument } from './instruments.js';
import type { MarketEvent, MarketSource, Side } from './market/types.js';
import { PassiveBook, type RestingEntry } from './matching/PassiveBook.js';
import { createQueueModel, type QueueModelSpec } from './matching/QueueModel.js';
import type { Rng } from './rng.js';

/**
 * Venue-neutral core of the simulated exchange: accounts (wallet, leverage, positions), order handling
 * against the market's book, conditional (algo) orders, margin, and the venue's own fill log. A dialect
 * (Binance, later Gate) parses its wire requests into `NewOrder`s (integer ticks and steps), calls the
 * core, and formats the results and rejects its way. Account-side changes are reported as they happen
 * to `listener` (the dialect's user-data stream), in the order the venue would send them.
 *
 * Execution: aggressive orders (MARKET, IOC/FOK LIMIT, the marketable part of GTC LIMIT) walk the
 * synthetic book at once. Resting LIMIT orders are not part of the synthetic book; they wait in a
 * PassiveBook with a queue-position estimate (option `queueModel`) and fill as maker at their own price
 * as the market's events reach them (`matchResting`): trades at their price once the queue in front is
 * used up, a trade through the price or the opposite best crossing it (all of it).
 *
 * Money (balances, fees, PnL, margins) is kept as bigint units of 10^-8 of the margin asset.
 */

export type OrderType = 'LIMIT' | 'MARKET';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTX' | 'GTD';
export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
export type PositionSide = 'BOTH' | 'LONG' | 'SHORT';
export type ExecType = 'NEW' | 'CANCELED' | 'EXPIRED' | 'TRADE' | 'AMENDMENT';
/** How a dialect priced an order from the book (Binance `priceMatch`); 'NONE' = the price sent. */
export type PriceMatch = 'NONE' | 'OPPONENT' | 'OPPONENT_5' | 'OPPONENT_10' | 'OPPONENT_20' | 'QUEUE' | 'QUEUE_5' | 'QUEUE_10' | 'QUEUE_20';
export type WorkingType = 'CONTRACT_PRICE' | 'MARK_PRICE';
export type AlgoType = 'STOP_MARKET' | 'TAKE_PROFIT_MARKET' | 'STOP' | 'TAKE_PROFIT' | 'TRAILING_STOP_MARKET';
export type AlgoStatus = 'NEW' | 'TRIGGERING' | 'TRIGGERED' | 'FINISHED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';

export const MONEY_DECIMALS = 8;
const PPM = 1_000_000n;

/** Expire reasons (Binance `er`): 2 IOC remainder, 9 market order remainder. */
export const EXPIRE_IOC = 2;
export const EXPIRE_MARKET = 9;

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
  /** Set on orders placed by a triggered conditional order. */
  trigger?: TriggerInfo;
}

/** What a triggered conditional order leaves on the order it places. */
export interface TriggerInfo {
  origType: AlgoType;
  /** Trigger price in ticks. */
  stopPrice: number;
  workingType: WorkingType;
  closePosition: boolean;
  priceProtect: boolean;
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
  /** Why the venue expired it (0 = not expired by the venue). */
  expireReason: number;
  trigger: TriggerInfo | null;
  /** Set by an amendment priced with priceMatch. */
  priceMatch: PriceMatch;
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
  /** Commission charged (negative = rebate), 8 decimals, in `commissionAsset`. */
  commission: string;
  commissionAsset: string;
  /** Realized PnL of this fill before fees, 8 decimals. */
  realizedPnl: string;
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
  | 'MARGIN_INSUFFICIENT'
  | 'UNKNOWN_ORDER';

export type PlaceResult =
  | { ok: true; order: SimOrder; fills: SimFill[]; events: MarketEvent[] }
  | { ok: false; reason: RejectReason; order?: undefined };

export type CancelResult = { ok: true; order: SimOrder } | { ok: false; reason: 'UNKNOWN_ORDER' };

/** A change of an open LIMIT order: its new total quantity (steps, filled part included) and price (ticks). */
export interface OrderAmendment {
  /** Order id, or null to find the order by `clientOrderId`. */
  orderId: number | null;
  clientOrderId: string | null;
  /** Must be the order's side. */
  side: Side;
  qty: number;
  price: number;
  priceMatch: PriceMatch;
  /**
   * Price band around the mark price in millionths (PERCENT_PRICE: a BUY above mark x up or a SELL below
   * mark x down is refused); null = no band.
   */
  percentPrice: { upPpm: number; downPpm: number } | null;
}

export type AmendRejectReason =
  | 'UNKNOWN_ORDER'
  | 'NOT_LIMIT'
  | 'SIDE_MISMATCH'
  | 'NOTHING_TO_MODIFY'
  | 'QTY_BELOW_MIN'
  | 'QTY_ABOVE_MAX'
  | 'PRICE_BELOW_MIN'
  | 'PRICE_ABOVE_MAX'
  | 'PRICE_ABOVE_MULTIPLIER_UP'
  | 'PRICE_BELOW_MULTIPLIER_DOWN'
  | 'MARGIN_INSUFFICIENT';

/**
 * `canceled`: the amendment ended the order instead (new quantity not above what is filled, or a
 * post-only order whose new price would take). A rejected amendment leaves the order as it was;
 * `bound8` is the PERCENT_PRICE limit it broke (10^-8 units), 0 otherwise.
 */
export type AmendResult =
  | { ok: true; order: SimOrder; canceled: boolean; fills: SimFill[]; events: MarketEvent[] }
  | { ok: false; reason: AmendRejectReason; bound8: number };

/** A conditional order waiting in the venue's algo service. */
export interface AlgoOrder {
  algoId: number;
  clientAlgoId: string;
  accountId: string;
  inst: Instrument;
  side: Side;
  type: AlgoType;
  positionSide: PositionSide;
  timeInForce: TimeInForce;
  /** Steps; 0 with closePosition. */
  qty: number;
  /** Limit price in ticks (STOP / TAKE_PROFIT), 0 otherwise. */
  price: number;
  /** Trigger price in ticks (0 for a trailing stop without activation price). */
  triggerPrice: number;
  workingType: WorkingType;
  reduceOnly: boolean;
  closePosition: boolean;
  priceProtect: boolean;
  /** Trailing: activation price in ticks (0 = active at once). */
  activatePrice: number;
  /** Trailing: callback rate in tenths of a percent (1 = 0.1 %, 50 = 5 %). */
  callbackRate: number;
  goodTillDate: number;
  status: AlgoStatus;
  createTime: number;
  updateTime: number;
  triggerTime: number;
  /** Order placed on trigger (0 until then). */
  actualOrderId: number;
  /** Why the venue cancelled it on trigger ('' = none). */
  reason: string;
  /** Trailing state: activated, and the best price since (10^-8 units). */
  trailActive: boolean;
  trailExtreme: number;
}

export interface NewAlgoOrder {
  inst: Instrument;
  side: Side;
  type: AlgoType;
  positionSide: PositionSide;
  timeInForce: TimeInForce;
  qty: number;
  price: number;
  triggerPrice: number;
  workingType: WorkingType;
  reduceOnly: boolean;
  closePosition: boolean;
  priceProtect: boolean;
  activatePrice: number;
  callbackRate: number;
  clientAlgoId: string;
  goodTillDate: number;
}

export type AlgoRejectReason = 'WOULD_IMMEDIATELY_TRIGGER' | 'DUPLICATE_CLIENT_ALGO_ID' | 'MAX_ALGO_ORDERS' | 'QTY_BELOW_MIN' | 'QTY_ABOVE_MAX';

export interface SimAccount {
  readonly id: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Open orders by order id. */
  readonly open: Map<number, SimOrder>;
  /** Open orders by client order id. */
  readonly openByClientId: Map<string, SimOrder>;
  /** Open orders per symbol index (kept with `open`: the max-open-orders check is per order placed). */
  readonly openPerSymbol: Map<number, number>;
  /** Position per symbol index. */
  readonly positions: Map<number, PositionState>;
  /** Wallet balance per margin asset (10^-8 units). */
  readonly wallet: Map<string, bigint>;
  /** Initial leverage per symbol index (default applies when absent). */
  readonly leverage: Map<number, number>;
  /** Recent orders, open and closed, oldest first (bounded), for order queries. */
  readonly orders: Map<number, SimOrder>;
  readonly ordersByClientId: Map<string, SimOrder>;
  /** Recent algo orders (bounded) and the open ones. */
  readonly algos: Map<number, AlgoOrder>;
  readonly openAlgos: Map<number, AlgoOrder>;
  walletUpdateTime: number;
}

export interface PositionState {
  /** Signed quantity in steps. */
  qty: number;
  /** Cost of the open quantity (price units x qty units), always >= 0. */
  cost: bigint;
  /** Realized PnL in price units x qty units. */
  realized: bigint;
  updateTime: number;
}

/** Mark price source (10^-8 units of the quote asset). */
export interface MarkSource {
  mark8(sym: number): number;
}

/** One fill as the user stream reports it (money in 10^-8 units). */
export interface TradeInfo {
  fill: SimFill;
  /** Realized PnL of the fill, before fees. */
  realized: bigint;
  /** Commission (negative = rebate). */
  fee: bigint;
}

/**
 * Account-side changes, in venue order: for an order, NEW, then per fill TRADE followed by the account
 * change, AMENDMENT when it is modified, then a final CANCELED/EXPIRED when the venue ends it. Called synchronously while the core
 * mutates its state, so the listener sees the state as of each event.
 */
export interface CoreListener {
  /** Skip formatting for accounts nobody listens to. */
  wants(acc: SimAccount): boolean;
  order(acc: SimAccount, o: SimOrder, exec: ExecType, trade: TradeInfo | null, now: number): void;
  account(acc: SimAccount, sym: number, now: number): void;
  algo(acc: SimAccount, a: AlgoOrder, now: number): void;
  leverage(acc: SimAccount, sym: number, leverage: number, now: number): void;
}

/** Position numbers for a dialect to format (money in 10^-8 units). */
export interface PositionView {
  inst: Instrument;
  /** Signed steps. */
  qty: number;
  cost: bigint;
  realized: bigint;
  mark8: number;
  unrealized: bigint;
  /** Signed notional at mark. */
  notional: bigint;
  initialMargin: bigint;
  maintMargin: bigint;
  openOrderInitialMargin: bigint;
  bidNotional: bigint;
  askNotional: bigint;
  leverage: number;
  hasOpenOrders: boolean;
  updateTime: number;
  /** Decimal strings: "0" when flat. */
  entryPrice: string;
  breakEvenPrice: string;
  liquidationPrice: string;
}

export interface AssetView {
  asset: string;
  wallet: bigint;
  unrealized: bigint;
  initialMargin: bigint;
  positionInitialMargin: bigint;
  openOrderInitialMargin: bigint;
  maintMargin: bigint;
  marginBalance: bigint;
  available: bigint;
  maxWithdraw: bigint;
  updateTime: number;
}

export interface VenueCoreOptions {
  rng: Rng;
  /** Max open orders per symbol and account (MAX_NUM_ORDERS). Default 200. */
  maxOpenOrders?: number;
  /** Max open conditional orders per symbol and account (MAX_NUM_ALGO_ORDERS). Default 10. */
  maxAlgoOrders?: number;
  /** Fill log bound: older entries are dropped beyond it. Default 1_000_000. */
  maxFillLog?: number;
  /** Orders (and algo orders) kept per account for queries. Default 100_000. */
  maxOrderHistory?: number;
  /** Starting wallet balance of every account in each quote asset (decimal). Default "100000". */
  initialBalance?: string;
  /** Default initial leverage. Default 20. */
  defaultLeverage?: number;
  /** Commission rates in millionths (500 = 0.05 %). Default maker 200, taker 500. */
  makerFeePpm?: number;
  takerFeePpm?: number;
  /** Maintenance margin rate in millionths. Default 4000 (0.4 %). */
  maintMarginPpm?: number;
  /** Reject orders whose initial margin exceeds the available balance (-2019). Default true. */
  marginCheck?: boolean;
  marks?: MarkSource;
  /** Queue-position model of resting orders (src/sim/matching/QueueModel.ts). Default 'risk-averse'. */
  queueModel?: QueueModelSpec;
}

/** What the passive book holds per resting order. */
interface RestingRef {
  acc: SimAccount;
  order: SimOrder;
}

export class VenueCore {
  private readonly accounts = new Map<string, SimAccount>();
  private readonly byApiKey = new Map<string, SimAccount>();
  private readonly fillLog: SimFill[] = [];
  /** Index of the oldest kept fill: entries before it are dropped, and cut off in batches (no shift per fill). */
  private fillHead = 0;
  private nextOrderId: number;
  private nextTradeId: number;
  private nextAlgoId: number;
  private readonly maxOpen: number;
  private readonly maxAlgo: number;
  private readonly maxFillLog: number;
  private readonly maxHistory: number;
  private readonly initialBalance: bigint;
  private readonly defaultLeverage: number;
  private readonly makerFee: bigint;
  private readonly takerFee: bigint;
  private readonly mmr: bigint;
  private readonly marginCheck: boolean;
  private readonly rng: Rng;
  /** Open orders per symbol over all accounts: resting-match work only where there are some. */
  private readonly restingCount: Int32Array;
  /** Resting orders with their queue estimates, and each one's entry by order id. */
  private readonly passive: PassiveBook<RestingRef>;
  private readonly passiveByOrder = new Map<number, RestingEntry<RestingRef>>();
  private readonly algoCount: Int32Array;
  /** Last trade price per symbol (ticks, -1 = none yet). */
  private readonly lastPrice: Float64Array;
  /** Triggered algo order by the order it placed (to finish it when that order ends). */
  private readonly algoByOrder = new Map<number, AlgoOrder>();
  marks: MarkSource | null;
  listener: CoreListener | null = null;
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
    this.nextAlgoId = 1_000_000 + this.rng.int(1_000_000);
    this.maxOpen = opts.maxOpenOrders ?? 200;
    this.maxAlgo = opts.maxAlgoOrders ?? 10;
    this.maxFillLog = opts.maxFillLog ?? 1_000_000;
    this.maxHistory = opts.maxOrderHistory ?? 100_000;
    const bal = parseScaled(opts.initialBalance ?? '100000', MONEY_DECIMALS);
    if (typeof bal !== 'number' || bal < 0) throw new Error('VenueCore: initialBalance must be a non-negative decimal with at most 8 decimals');
    this.initialBalance = BigInt(bal);
    this.defaultLeverage = opts.defaultLeverage ?? 20;
    this.makerFee = BigInt(opts.makerFeePpm ?? 200);
    this.takerFee = BigInt(opts.takerFeePpm ?? 500);
    this.mmr = BigInt(opts.maintMarginPpm ?? 4000);
    this.marginCheck = opts.marginCheck ?? true;
    this.marks = opts.marks ?? null;
    const n = market.instruments.length;
    this.restingCount = new Int32Array(n);
    const model = createQueueModel(opts.queueModel);
    // Its own stream (forked only when used), so other draws of the venue stay what they were.
    this.passive = new PassiveBook<RestingRef>(model, model.random ? this.rng.fork() : null);
    this.algoCount = new Int32Array(n);
    this.lastPrice = new Float64Array(n).fill(-1);
  }

  /** `createdAt`: time of the initial deposit (the balance's update time). */
  addAccount(id: string, apiKey: string, apiSecret: string, createdAt = 0): SimAccount {
    if (this.byApiKey.has(apiKey)) throw new Error('VenueCore: duplicate api key');
    const wallet = new Map<string, bigint>();
    for (const i of this.market.instruments) wallet.set(i.spec.quoteAsset, this.initialBalance);
    const acc: SimAccount = {
      id,
      apiKey,
      apiSecret,
      open: new Map(),
      openByClientId: new Map(),
      openPerSymbol: new Map(),
      positions: new Map(),
      wallet,
      leverage: new Map(),
      orders: new Map(),
      ordersByClientId: new Map(),
      algos: new Map(),
      openAlgos: new Map(),
      walletUpdateTime: createdAt,
    };
    this.accounts.set(id, acc);
    this.byApiKey.set(apiKey, acc);
    return acc;
  }

  accountByApiKey(apiKey: string): SimAccount | undefined {
    return this.byApiKey.get(apiKey);
  }

  allAccounts(): SimAccount[] {
    return [...this.accounts.values()];
  }

  /** A client order id that is not open on the account (22 chars of [0-9A-Za-z]). */
  generateClientOrderId(): string {
    const ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let s = '';
    for (let i = 0; i < 22; i++) s += ALPHA[this.rng.int(62)];
    return s;
  }

  openOrderCount(acc: SimAccount, sym: number): number {
    return acc.openPerSymbol.get(sym) ?? 0;
  }

  // ---- prices -----------------------------------------------------------------------------------------

  /** Mark price (10^-8 units): the mark source, else the book's mid. */
  mark8(sym: number): number {
    if (this.marks) return this.marks.mark8(sym);
    const t = this.market.top(sym);
    return ticksTo8(this.market.instruments[sym]!, (t.bid + t.ask) / 2);
  }

  /** Last trade price (10^-8 units); the mid before the first trade. */
  last8(sym: number): number {
    const p = this.lastPrice[sym]!;
    if (p >= 0) return ticksTo8(this.market.instruments[sym]!, p);
    const t = this.market.top(sym);
    return ticksTo8(this.market.instruments[sym]!, (t.bid + t.ask) / 2);
  }

  /** Records a market trade price (feeds CONTRACT_PRICE triggers). */
  noteTrade(sym: number, priceTicks: number): void {
    this.lastPrice[sym] = priceTicks;
  }

  hasAlgos(sym: number): boolean {
    return this.algoCount[sym]! > 0;
  }

  hasResting(sym: number): boolean {
    return this.restingCount[sym]! > 0;
  }

  // ---- orders -------------------------------------------------------------------------------------------

  /**
   * Places an order. `beforeNew` sees the accepted order before any event about it is reported (the
   * algo service uses it to report TRIGGERED with the new order id first).
   */
  placeOrder(acc: SimAccount, req: NewOrder, now: number, beforeNew?: (o: SimOrder) => void): PlaceResult {
    const r = this.place(acc, req, now, beforeNew);
    if (r.ok) this.ordersAccepted++;
    else this.ordersRejected++;
    return r;
  }

  private place(acc: SimAccount, req: NewOrder, now: number, beforeNew?: (o: SimOrder) => void): PlaceResult {
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
    // MIN_NOTIONAL and margin: limit price, or for MARKET the price it would trade at first.
    const refTicks = req.type === 'MARKET' ? (req.side === 'BUY' ? top.ask : top.bid) : req.price;
    if (!req.reduceOnly) {
      if (inst.quote(refTicks, qty) < inst.minNotionalQuote) return { ok: false, reason: 'MIN_NOTIONAL' };
      if (this.marginCheck) {
        // Only the part that grows the position needs margin.
        const p = pos?.qty ?? 0;
        const opposite = req.side === 'BUY' ? p < 0 : p > 0;
        const growing = opposite ? Math.max(0, qty - Math.abs(p)) : qty;
        if (growing > 0) {
          const need = toMoney(inst.quote(refTicks, growing), inst) / BigInt(this.leverageOf(acc, sym));
          if (need > this.assetView(acc, inst.spec.quoteAsset).available) return { ok: false, reason: 'MARGIN_INSUFFICIENT' };
        }
      }
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
      expireReason: 0,
      trigger: req.trigger ?? null,
      priceMatch: 'NONE',
    };
    this.remember(acc, order);
    // A resting order is on the book from its NEW event on (its notional shows in that event).
    if (rests) {
      acc.open.set(order.orderId, order);
      acc.openByClientId.set(order.clientOrderId, order);
      acc.openPerSymbol.set(sym, (acc.openPerSymbol.get(sym) ?? 0) + 1);
      this.restingCount[sym]!++;
    }
    beforeNew?.(order);
    const listen = this.listener !== null && this.listener.wants(acc);
    if (listen) this.listener!.order(acc, order, 'NEW', null, now);

    const fills: SimFill[] = [];
    let events: MarketEvent[] = [];
    if (crosses) {
      const taken = this.market.take(sym, req.side, qty, limit, now);
      events = taken.events;
      for (const f of taken.fills) {
        this.lastPrice[sym] = f.price;
        fills.push(this.execute(acc, order, f.price, f.qty, false, now));
      }
    }

    if (order.executedQty >= order.qty) {
      // FILLED: the last TRADE event said so.
      this.unrest(acc, order);
      this.finishAlgo(order, now);
    } else if (!rests) {
      order.status = 'EXPIRED';
      order.expireReason = req.type === 'MARKET' ? EXPIRE_MARKET : EXPIRE_IOC;
      if (listen) this.listener!.order(acc, order, 'EXPIRED', null, now);
      this.finishAlgo(order, now);
    } else {
      // The remainder joins the queue behind what the market holds at its price now (after its own take).
      const entry = this.passive.add(sym, order.side, order.price, order.qty - order.executedQty, this.levelQty(sym, order.side, order.price), { acc, order });
      this.passiveByOrder.set(order.orderId, entry);
    }
    return { ok: true, order, fills, events };
  }

  /** Market quantity (steps) at a price on one side of the book now (0 when no level there). */
  private levelQty(sym: number, side: Side, price: number): number {
    const t = this.market.top(sym);
    const best = side === 'BUY' ? t.bid : t.ask;
    if (best < 0 || (side === 'BUY' ? price > best : price < best)) return 0;
    if (price === best) return side === 'BUY' ? t.bidQty : t.askQty;
    const lv = this.market.levels(sym, 1000);
    for (const [tick, q] of side === 'BUY' ? lv.bids : lv.asks) {
      if (tick === price) return q;
      if (side === 'BUY' ? tick < price : tick > price) break;
    }
    return 0;
  }

  /** One fill of `order`: order state, position, wallet, fill log, then TRADE + account events. */
  private execute(acc: SimAccount, order: SimOrder, priceTicks: number, steps: number, maker: boolean, now: number): SimFill {
    const inst = order.inst;
    const sym = inst.idx;
    const q = inst.quote(priceTicks, steps);
    order.executedQty += steps;
    order.cumQuote += q;
    order.status = order.executedQty >= order.qty ? 'FILLED' : 'PARTIALLY_FILLED';
    order.updateTime = now;
    const realized = toMoney(this.applyFill(acc, sym, order.side, priceTicks, steps, now), inst);
    const fee = roundDiv(toMoneyExact(q, inst) * (maker ? this.makerFee : this.takerFee), PPM * moneyDivisor(inst));
    const asset = inst.spec.quoteAsset;
    acc.wallet.set(asset, (acc.wallet.get(asset) ?? 0n) + realized - fee);
    acc.walletUpdateTime = now;
    const fill: SimFill = {
      tradeId: this.nextTradeId++,
      accountId: acc.id,
      symbol: inst.symbol,
      side: order.side,
      qty: inst.qtyStr(steps),
      price: inst.priceStr(priceTicks),
      quoteQty: formatScaledBig(q, inst.priceDecimals + inst.qtyDecimals),
      orderId: order.orderId,
      clientOrderId: order.clientOrderId,
      maker,
      time: now,
      commission: formatScaledBig(fee, MONEY_DECIMALS),
      commissionAsset: asset,
      realizedPnl: formatScaledBig(realized, MONEY_DECIMALS),
    };
    this.recordFill(fill);
    if (this.listener !== null && this.listener.wants(acc)) {
      this.listener.order(acc, order, 'TRADE', { fill, realized, fee }, now);
      this.listener.account(acc, sym, now);
    }
    return fill;
  }

  /**
   * Applies one market event to the resting orders of its symbol (PassiveBook + queue model): maker fills
   * at the orders' own prices, partial or complete; the synthetic book is left as it is. Called for
   * every market event of a symbol with resting orders.
   */
  matchResting(ev: MarketEvent): void {
    const sym = ev.sym;
    if (this.restingCount[sym]! <= 0) return;
    let n: number;
    if (ev.kind === 'bookTicker') n = this.passive.apply(ev, ev.bid, ev.ask);
    else {
      const t = this.market.top(sym);
      n = this.passive.apply(ev, t.bid, t.ask);
    }
    if (n === 0) return;
    const now = ev.time;
    for (let i = 0; i < n; i++) {
      const f = this.passive.fill(i);
      const { acc, order } = f.entry.ref;
      this.execute(acc, order, order.price, f.qty, true, now);
      if (order.executedQty >= order.qty) {
        this.unrest(acc, order);
        this.finishAlgo(order, now);
      }
    }
  }

  /** Queue estimate of a resting order (market steps in front of it), or undefined when it is not resting. */
  queueAhead(orderId: number): number | undefined {
    return this.passiveByOrder.get(orderId)?.ahead;
  }

  /** Cancels an open order by order id or client order id. */
  cancelOrder(acc: SimAccount, sym: number, orderId: number | null, clientOrderId: string | null, now: number): CancelResult {
    const o = orderId !== null ? acc.open.get(orderId) : clientOrderId !== null ? acc.openByClientId.get(clientOrderId) : undefined;
    if (!o || o.inst.idx !== sym) return { ok: false, reason: 'UNKNOWN_ORDER' };
    this.unrest(acc, o);
    o.status = 'CANCELED';
    o.updateTime = now;
    if (this.listener !== null && this.listener.wants(acc)) this.listener.order(acc, o, 'CANCELED', null, now);
    this.finishAlgo(o, now);
    return { ok: true, order: o };
  }

  /**
   * Modifies an open LIMIT order the way Binance does. LOT_SIZE, PRICE_FILTER, PERCENT_PRICE and the
   * margin of a larger order are checked first: a failure leaves the order as it was. A new quantity not
   * above the filled quantity, or a post-only order whose new price would take, cancels the order
   * (CANCELED). Otherwise the order takes the new quantity and price (AMENDMENT), loses its queue place
   * (back of its new level), and takes liquidity at once when its new price crosses the book.
   */
  amendOrder(acc: SimAccount, sym: number, req: OrderAmendment, now: number): AmendResult {
    const reject = (reason: AmendRejectReason, bound8 = 0): AmendResult => ({ ok: false, reason, bound8 });
    const o = req.orderId !== null ? acc.open.get(req.orderId) : req.clientOrderId !== null ? acc.openByClientId.get(req.clientOrderId) : undefined;
    if (!o || o.inst.idx !== sym) return reject('UNKNOWN_ORDER');
    if (o.type !== 'LIMIT') return reject('NOT_LIMIT');
    if (o.side !== req.side) return reject('SIDE_MISMATCH');
    if (req.qty === o.qty && req.price === o.price) return reject('NOTHING_TO_MODIFY');

    const inst = o.inst;
    if (req.qty < inst.minQtySteps) return reject('QTY_BELOW_MIN');
    if (req.qty > inst.maxQtySteps) return reject('QTY_ABOVE_MAX');
    const units = req.price * inst.tickUnits;
    if (units < inst.minPriceUnits) return reject('PRICE_BELOW_MIN');
    if (inst.maxPriceUnits > 0 && units > inst.maxPriceUnits) return reject('PRICE_ABOVE_MAX');
    if (req.percentPrice !== null) {
      // Bigint: mark (10^-8 units) x millionths overflows a double's exact range.
      const mark = BigInt(this.mark8(sym));
      const price8 = BigInt(ticksTo8(inst, req.price));
      if (o.side === 'BUY') {
        const cap = (mark * BigInt(req.percentPrice.upPpm)) / PPM;
        if (price8 > cap) return reject('PRICE_ABOVE_MULTIPLIER_UP', Number(cap));
      } else {
        const floor = (mark * BigInt(req.percentPrice.downPpm) + PPM - 1n) / PPM;
        if (price8 < floor) return reject('PRICE_BELOW_MULTIPLIER_DOWN', Number(floor));
      }
    }
    const newRem = req.qty - o.executedQty;
    if (this.marginCheck && !o.reduceOnly && newRem > 0) {
      // Only what the amendment adds to the open order's notional needs more margin.
      const growth = inst.quote(req.price, newRem) - inst.quote(o.price, o.qty - o.executedQty);
      if (growth > 0n) {
        const need = toMoney(growth, inst) / BigInt(this.leverageOf(acc, sym));
        if (need > this.assetView(acc, inst.spec.quoteAsset).available) return reject('MARGIN_INSUFFICIENT');
      }
    }

    const top = this.market.top(sym);
    const crosses = o.side === 'BUY' ? top.ask >= 0 && req.price >= top.ask : top.bid >= 0 && req.price <= top.bid;
    if ((o.executedQty > 0 && newRem <= 0) || (o.timeInForce === 'GTX' && crosses)) {
      this.cancelOrder(acc, sym, o.orderId, null, now);
      return { ok: true, order: o, canceled: true, fills: [], events: [] };
    }

    o.qty = req.qty;
    o.price = req.price;
    o.priceMatch = req.priceMatch;
    o.updateTime = now;
    if (this.listener !== null && this.listener.wants(acc)) this.listener.order(acc, o, 'AMENDMENT', null, now);
    const fills: SimFill[] = [];
    let events: MarketEvent[] = [];
    if (crosses) {
      const taken = this.market.take(sym, o.side, newRem, o.price, now);
      events = taken.events;
      for (const f of taken.fills) {
        this.lastPrice[sym] = f.price;
        fills.push(this.execute(acc, o, f.price, f.qty, false, now));
      }
    }
    if (o.executedQty >= o.qty) {
      this.unrest(acc, o);
      this.finishAlgo(o, now);
    } else {
      const rem = o.qty - o.executedQty;
      const levelQty = this.levelQty(sym, o.side, o.price);
      const prev = this.passiveByOrder.get(o.orderId);
      const entry = prev !== undefined ? this.passive.requeue(prev, o.price, rem, levelQty) : this.passive.add(sym, o.side, o.price, rem, levelQty, { acc, order: o });
      this.passiveByOrder.set(o.orderId, entry);
    }
    return { ok: true, order: o, canceled: false, fills, events };
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

  /** An order (open or recently closed) by id or client id (the latest with that client id). */
  findOrder(acc: SimAccount, sym: number, orderId: number | null, clientOrderId: string | null): SimOrder | undefined {
    const o = orderId !== null ? acc.orders.get(orderId) : clientOrderId !== null ? acc.ordersByClientId.get(clientOrderId) : undefined;
    return o && o.inst.idx === sym ? o : undefined;
  }

  private unrest(acc: SimAccount, o: SimOrder): void {
    if (!acc.open.delete(o.orderId)) return;
    acc.openByClientId.delete(o.clientOrderId);
    acc.openPerSymbol.set(o.inst.idx, (acc.openPerSymbol.get(o.inst.idx) ?? 1) - 1);
    this.restingCount[o.inst.idx]!--;
    const e = this.passiveByOrder.get(o.orderId);
    if (e !== undefined) {
      this.passive.remove(e);
      this.passiveByOrder.delete(o.orderId);
    }
  }

  private remember(acc: SimAccount, o: SimOrder): void {
    acc.orders.set(o.orderId, o);
    acc.ordersByClientId.set(o.clientOrderId, o);
    if (acc.orders.size > this.maxHistory) {
      const oldest = acc.orders.values().next().value as SimOrder;
      acc.orders.delete(oldest.orderId);
      if (acc.ordersByClientId.get(oldest.clientOrderId) === oldest) acc.ordersByClientId.delete(oldest.clientOrderId);
    }
  }

  // ---- leverage and margin ------------------------------------------------------------------------------

  /** Maintenance margin rate in millionths (first bracket). */
  get maintMarginPpm(): number {
    return Number(this.mmr);
  }

  leverageOf(acc: SimAccount, sym: number): number {
    return acc.leverage.get(sym) ?? this.defaultLeverage;
  }

  setLeverage(acc: SimAccount, sym: number, leverage: number, now: number): void {
    acc.leverage.set(sym, leverage);
    if (this.listener !== null && this.listener.wants(acc)) this.listener.leverage(acc, sym, leverage, now);
  }

  positionView(acc: SimAccount, sym: number): PositionView {
    const inst = this.market.instruments[sym]!;
    const p = acc.positions.get(sym);
    const qty = p?.qty ?? 0;
    const cost = p?.cost ?? 0n;
    const lev = BigInt(this.leverageOf(acc, sym));
    const mark8 = this.mark8(sym);
    const qd = inst.qtyDecimals;
    const qtyUnits = BigInt(qty * inst.stepUnits);
    const absUnits = qtyUnits < 0n ? -qtyUnits : qtyUnits;
    const sign = qty > 0 ? 1n : qty < 0 ? -1n : 0n;
    // qty x mark and cost at scale qd + 8, then back to money (scale 8).
    const exactNotional = qtyUnits * BigInt(mark8);
    const exactCost = sign * cost * pow10n(MONEY_DECIMALS - inst.priceDecimals);
    const div = pow10n(qd);
    const notional = roundDiv(exactNotional, div);
    const unrealized = roundDiv(exactNotional - exactCost, div);
    const absNotional = notional < 0n ? -notional : notional;
    let bid = 0n;
    let ask = 0n;
    let orderIm = 0n;
    let hasOpen = false;
    for (const o of acc.open.values()) {
      if (o.inst.idx !== sym) continue;
      hasOpen = true;
      const n = toMoney(inst.quote(o.price, o.qty - o.executedQty), inst);
      if (o.side === 'BUY') bid += n;
      else ask += n;
      if (!o.reduceOnly) orderIm += n;
    }
    const entryPrice = qty === 0 ? '0' : formatRatio(cost, absUnits, inst.priceDecimals, 0, 8);
    const breakEvenPrice =
      qty === 0 ? '0' : formatRatio(cost * (PPM + sign * this.takerFee), absUnits * PPM, inst.priceDecimals, 0, 8);
    let liquidationPrice = '0';
    if (qty !== 0) {
      // Cross, single position, first bracket: LP = (WB - side x |P| x EP) / (|P| x (MMR - side)).
      const wallet = acc.wallet.get(inst.spec.quoteAsset) ?? 0n;
      const numer = wallet - sign * toMoney(cost, inst);
      const denom = absUnits * (this.mmr - sign * PPM);
      const lp = (numer * 10n ** BigInt(qd) * PPM) / denom;
      if (lp > 0n) liquidationPrice = formatRatio(numer * 10n ** BigInt(qd) * PPM, denom, MONEY_DECIMALS, MONEY_DECIMALS, MONEY_DECIMALS);
    }
    return {
      inst,
      qty,
      cost,
      realized: p ? toMoney(p.realized, inst) : 0n,
      mark8,
      unrealized,
      notional,
      initialMargin: absNotional / lev,
      maintMargin: roundDiv(absNotional * this.mmr, PPM),
      openOrderInitialMargin: orderIm / lev,
      bidNotional: bid,
      askNotional: ask,
      leverage: Number(lev),
      hasOpenOrders: hasOpen,
      updateTime: p?.updateTime ?? 0,
      entryPrice,
      breakEvenPrice,
      liquidationPrice,
    };
  }

  /** Cross-margin totals of one margin asset. */
  assetView(acc: SimAccount, asset: string): AssetView {
    const wallet = acc.wallet.get(asset) ?? 0n;
    let unrealized = 0n;
    let posIm = 0n;
    let orderIm = 0n;
    let mm = 0n;
    for (const inst of this.market.instruments) {
      if (inst.spec.quoteAsset !== asset) continue;
      if (!acc.positions.has(inst.idx) && this.restingCount[inst.idx] === 0) continue;
      const v = this.positionView(acc, inst.idx);
      unrealized += v.unrealized;
      posIm += v.initialMargin;
      orderIm += v.openOrderInitialMargin;
      mm += v.maintMargin;
    }
    const marginBalance = wallet + unrealized;
    const available = marginBalance - posIm - orderIm;
    const maxWithdraw = available < 0n ? 0n : available < wallet ? available : wallet;
    return {
      asset,
      wallet,
      unrealized,
      initialMargin: posIm + orderIm,
      positionInitialMargin: posIm,
      openOrderInitialMargin: orderIm,
      maintMargin: mm,
      marginBalance,
      available,
      maxWithdraw,
      updateTime: acc.walletUpdateTime,
    };
  }

  /** Margin assets of the venue's instruments, in instrument order. */
  marginAssets(): string[] {
    return [...new Set(this.market.instruments.map((i) => i.spec.quoteAsset))];
  }

  // ---- conditional (algo) orders ------------------------------------------------------------------------

  placeAlgo(acc: SimAccount, req: NewAlgoOrder, now: number): { ok: true; algo: AlgoOrder } | { ok: false; reason: AlgoRejectReason } {
    const sym = req.inst.idx;
    for (const a of acc.openAlgos.values()) if (a.clientAlgoId === req.clientAlgoId) return { ok: false, reason: 'DUPLICATE_CLIENT_ALGO_ID' };
    if (!req.closePosition) {
      if (req.qty < req.inst.minQtySteps) return { ok: false, reason: 'QTY_BELOW_MIN' };
      if (req.qty > req.inst.maxQtySteps) return { ok: false, reason: 'QTY_ABOVE_MAX' };
    }
    let n = 0;
    for (const a of acc.openAlgos.values()) if (a.inst.idx === sym) n++;
    if (n >= this.maxAlgo) return { ok: false, reason: 'MAX_ALGO_ORDERS' };
    const algo: AlgoOrder = {
      ...req,
      algoId: this.nextAlgoId++,
      accountId: acc.id,
      status: 'NEW',
      createTime: now,
      updateTime: now,
      triggerTime: 0,
      actualOrderId: 0,
      reason: '',
      trailActive: false,
      trailExtreme: 0,
    };
    const price = req.workingType === 'MARK_PRICE' ? this.mark8(sym) : this.last8(sym);
    if (req.type === 'TRAILING_STOP_MARKET') {
      const act = req.activatePrice > 0 ? ticksTo8(req.inst, req.activatePrice) : 0;
      // A trailing order's activation price must still be ahead of the market.
      if (act > 0 && (req.side === 'SELL' ? act <= price : act >= price)) return { ok: false, reason: 'WOULD_IMMEDIATELY_TRIGGER' };
      if (act === 0) {
        algo.trailActive = true;
        algo.trailExtreme = price;
      }
    } else if (triggers(req.type, req.side, price, ticksTo8(req.inst, req.triggerPrice))) {
      return { ok: false, reason: 'WOULD_IMMEDIATELY_TRIGGER' };
    }
    acc.algos.set(algo.algoId, algo);
    if (acc.algos.size > this.maxHistory) acc.algos.delete(acc.algos.keys().next().value as number);
    acc.openAlgos.set(algo.algoId, algo);
    this.algoCount[sym]!++;
    if (this.listener !== null && this.listener.wants(acc)) this.listener.algo(acc, algo, now);
    return { ok: true, algo };
  }

  findAlgo(acc: SimAccount, algoId: number | null, clientAlgoId: string | null): AlgoOrder | undefined {
    if (algoId !== null) return acc.algos.get(algoId);
    let found: AlgoOrder | undefined;
    if (clientAlgoId !== null) for (const a of acc.algos.values()) if (a.clientAlgoId === clientAlgoId) found = a;
    return found;
  }

  cancelAlgo(acc: SimAccount, algoId: number | null, clientAlgoId: string | null, now: number): AlgoOrder | undefined {
    let a = algoId !== null ? acc.openAlgos.get(algoId) : undefined;
    if (a === undefined && clientAlgoId !== null) for (const x of acc.openAlgos.values()) if (x.clientAlgoId === clientAlgoId) a = x;
    if (a === undefined) return undefined;
    this.closeAlgo(acc, a, 'CANCELED', now);
    return a;
  }

  cancelAllAlgos(acc: SimAccount, sym: number, now: number): AlgoOrder[] {
    const out: AlgoOrder[] = [];
    for (const a of [...acc.openAlgos.values()]) {
      if (a.inst.idx !== sym) continue;
      this.closeAlgo(acc, a, 'CANCELED', now);
      out.push(a);
    }
    return out;
  }

  openAlgoOrders(acc: SimAccount, sym: number | null): AlgoOrder[] {
    const out: AlgoOrder[] = [];
    for (const a of acc.openAlgos.values()) if (sym === null || a.inst.idx === sym) out.push(a);
    return out;
  }

  private closeAlgo(acc: SimAccount, a: AlgoOrder, status: AlgoStatus, now: number): void {
    if (acc.openAlgos.delete(a.algoId)) this.algoCount[a.inst.idx]!--;
    a.status = status;
    a.updateTime = now;
    if (this.listener !== null && this.listener.wants(acc)) this.listener.algo(acc, a, now);
  }

  /**
   * Fires the symbol's conditional orders whose trigger the current last/mark price meets: TRIGGERING,
   * then the order is placed (TRIGGERED before its NEW), its fills, and FINISHED once it is done.
   * Returns the market events the placed orders caused (to be published).
   */
  checkTriggers(sym: number, now: number): MarketEvent[] {
    if (this.algoCount[sym]! <= 0) return [];
    const events: MarketEvent[] = [];
    const mark = this.mark8(sym);
    const last = this.last8(sym);
    for (const acc of this.accounts.values()) {
      if (acc.openAlgos.size === 0) continue;
      for (const a of [...acc.openAlgos.values()]) {
        if (a.inst.idx !== sym) continue;
        const price = a.workingType === 'MARK_PRICE' ? mark : last;
        if (!this.algoFires(a, price)) continue;
        for (const ev of this.trigger(acc, a, now)) events.push(ev);
      }
    }
    return events;
  }

  private algoFires(a: AlgoOrder, price: number): boolean {
    if (a.type !== 'TRAILING_STOP_MARKET') return triggers(a.type, a.side, price, ticksTo8(a.inst, a.triggerPrice));
    if (!a.trailActive) {
      const act = ticksTo8(a.inst, a.activatePrice);
      if (a.side === 'SELL' ? price < act : price > act) return false;
      a.trailActive = true;
      a.trailExtreme = price;
    }
    // SELL protects a long: fire on a fall of callbackRate from the high since activation (BUY mirrors).
    if (a.side === 'SELL') {
      if (price > a.trailExtreme) a.trailExtreme = price;
      return price * 1000 <= a.trailExtreme * (1000 - a.callbackRate);
    }
    if (price < a.trailExtreme) a.trailExtreme = price;
    return price * 1000 >= a.trailExtreme * (1000 + a.callbackRate);
  }

  private trigger(acc: SimAccount, a: AlgoOrder, now: number): MarketEvent[] {
    const sym = a.inst.idx;
    acc.openAlgos.delete(a.algoId);
    this.algoCount[sym]!--;
    a.status = 'TRIGGERING';
    a.triggerTime = now;
    a.updateTime = now;
    const listen = this.listener !== null && this.listener.wants(acc);
    if (listen) this.listener!.algo(acc, a, now);
    let qty = a.qty;
    let reduceOnly = a.reduceOnly;
    if (a.closePosition) {
      const p = acc.positions.get(sym)?.qty ?? 0;
      qty = Math.abs(p);
      reduceOnly = true;
      if (qty === 0 || (a.side === 'BUY' ? p > 0 : p < 0)) {
        a.reason = 'Reduce Only reject';
        this.closeAlgo(acc, a, 'CANCELED', now);
        return [];
      }
    }
    const limitType = a.type === 'STOP' || a.type === 'TAKE_PROFIT';
    const cid = acc.openByClientId.has(a.clientAlgoId) ? this.generateClientOrderId() : a.clientAlgoId;
    const r = this.placeOrder(
      acc,
      {
        inst: a.inst,
        side: a.side,
        type: limitType ? 'LIMIT' : 'MARKET',
        timeInForce: limitType ? a.timeInForce : 'GTC',
        qty,
        price: limitType ? a.price : 0,
        clientOrderId: cid,
        reduceOnly,
        positionSide: a.positionSide,
        goodTillDate: a.goodTillDate,
        trigger: { origType: a.type, stopPrice: a.triggerPrice, workingType: a.workingType, closePosition: a.closePosition, priceProtect: a.priceProtect },
      },
      now,
      (o) => {
        a.actualOrderId = o.orderId;
        a.status = 'TRIGGERED';
        this.algoByOrder.set(o.orderId, a);
        if (listen) this.listener!.algo(acc, a, now);
      },
    );
    if (!r.ok) {
      a.reason = r.reason === 'REDUCE_ONLY_REJECTED' ? 'Reduce Only reject' : r.reason === 'MARGIN_INSUFFICIENT' ? 'Margin is insufficient' : r.reason;
      this.closeAlgo(acc, a, 'CANCELED', now);
      return [];
    }
    return r.events;
  }

  /** The order placed by a triggered algo order ended: the algo order is FINISHED. */
  private finishAlgo(o: SimOrder, now: number): void {
    if (o.trigger === null) return;
    const a = this.algoByOrder.get(o.orderId);
    if (!a) return;
    this.algoByOrder.delete(o.orderId);
    a.status = 'FINISHED';
    a.updateTime = now;
    const acc = this.accounts.get(a.accountId)!;
    if (this.listener !== null && this.listener.wants(acc)) this.listener.algo(acc, a, now);
  }

  /** The order a triggered algo order placed (for its actual price / quantity), if still known. */
  algoOrderOf(acc: SimAccount, a: AlgoOrder): SimOrder | undefined {
    return a.actualOrderId === 0 ? undefined : acc.orders.get(a.actualOrderId);
  }

  // ---- records --------------------------------------------------------------------------------------------

  /** The venue's record of fills (copies), oldest first. */
  fills(): SimFill[] {
    return this.fillLog.slice(this.fillHead).map((f) => ({ ...f }));
  }

  /** Fills of one account and symbol (for trade queries), oldest first. */
  accountFills(acc: SimAccount, symbol: string): SimFill[] {
    const out: SimFill[] = [];
    for (let i = this.fillHead; i < this.fillLog.length; i++) {
      const f = this.fillLog[i]!;
      if (f.accountId === acc.id && f.symbol === symbol) out.push(f);
    }
    return out;
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
    if (this.fillLog.length - this.fillHead > this.maxFillLog) {
      this.fillHead++;
      if (this.fillHead >= 4096 && this.fillHead * 8 >= this.fillLog.length) {
        this.fillLog.splice(0, this.fillHead);
        this.fillHead = 0;
      }
    }
  }

  /** Average-cost position keeping (one-way mode). Returns the realized PnL of the fill (price x qty units). */
  private applyFill(acc: SimAccount, sym: number, side: Side, priceTicks: number, steps: number, now: number): bigint {
    const inst = this.market.instruments[sym]!;
    let p = acc.positions.get(sym);
    if (!p) {
      p = { qty: 0, cost: 0n, realized: 0n, updateTime: now };
      acc.positions.set(sym, p);
    }
    p.updateTime = now;
    const signed = side === 'BUY' ? steps : -steps;
    if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed)) {
      p.cost += inst.quote(priceTicks, steps);
      p.qty += signed;
      return 0n;
    }
    const open = Math.abs(p.qty);
    const closing = Math.min(open, steps);
    const closeCost = (p.cost * BigInt(closing)) / BigInt(open);
    const closeValue = inst.quote(priceTicks, closing);
    // Long closed by a sell: value - cost; short closed by a buy: cost - value.
    const realized = p.qty > 0 ? closeValue - closeCost : closeCost - closeValue;
    p.realized += realized;
    p.cost -= closeCost;
    p.qty += signed;
    if (p.qty === 0) p.cost = 0n;
    else if (Math.sign(p.qty) === Math.sign(signed)) p.cost = inst.quote(priceTicks, Math.abs(p.qty));
    return realized;
  }
}

/** Does a STOP / TAKE_PROFIT order fire at `price` (both 10^-8 units)? STOP BUY at >=, SELL at <=; TAKE_PROFIT the reverse. */
export function triggers(type: AlgoType, side: Side, price: number, trigger: number): boolean {
  const stop = type === 'STOP' || type === 'STOP_MARKET';
  const up = stop ? side === 'BUY' : side === 'SELL';
  return up ? price >= trigger : price <= trigger;
}

/** A price in ticks as 10^-8 units of the quote asset. */
export function ticksTo8(inst: Instrument, ticks: number): number {
  return Math.round(ticks * inst.tickUnits * 10 ** (MONEY_DECIMALS - inst.priceDecimals));
}

/** 10^(scale - 8) when an instrument's price x qty scale is finer than money, else 1. */
function moneyDivisor(inst: Instrument): bigint {
  const s = inst.priceDecimals + inst.qtyDecimals;
  return s > MONEY_DECIMALS ? pow10n(s - MONEY_DECIMALS) : 1n;
}

/** price x qty units -> money units, unrounded when the scale allows (else the caller divides by moneyDivisor). */
function toMoneyExact(v: bigint, inst: Instrument): bigint {
  const s = inst.priceDecimals + inst.qtyDecimals;
  return s <= MONEY_DECIMALS ? v * pow10n(MONEY_DECIMALS - s) : v;
}

/** price x qty units -> money units (rounded half away from zero). */
export function toMoney(v: bigint, inst: Instrument): bigint {
  return roundDiv(toMoneyExact(v, inst), moneyDivisor(inst));
}

/** a / b rounded half away from zero (b > 0). */
export function roundDiv(a: bigint, b: bigint): bigint {
  if (b === 1n) return a;
  const neg = a < 0n;
  const n = neg ? -a : a;
  const q = (n + b / 2n) / b;
  return neg ? -q : q;
}

/** 10^n as a bigint from a table (n < 64): money conversions run per fill, and `10n ** BigInt(n)` allocated twice per call. */
const POW10N: readonly bigint[] = Array.from({ length: 64 }, (_, i) => 10n ** BigInt(i));
function pow10n(n: number): bigint {
  return POW10N[n] ?? 10n ** BigInt(n);
}
