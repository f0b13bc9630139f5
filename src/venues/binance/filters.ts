import { formatScaled, parseScaled } from '../../core/decimal.js';
import { makeInstrument, type Instrument } from '../../core/Instrument.js';
import { OrderType, RejectReason, Side } from '../../ring/layout.js';

/**
 * exchangeInfo symbol filters (protocols.md §1.7) as exact integers, and the local pre-send check of an
 * order against them. Prices travel as integer ticks of PRICE_FILTER.tickSize and quantities as integer
 * steps of LOT_SIZE.stepSize (design.md §3); every comparison here is integer arithmetic on units of
 * 10^-scale, with a BigInt fallback only where a product can pass 2^53.
 */

/** One filter object as exchangeInfo prints it (decimal strings; `limit` is a JSON number). */
export interface ExchangeInfoFilter {
  filterType: string;
  [field: string]: string | number | undefined;
}

export interface ExchangeInfoSymbol {
  symbol: string;
  status?: string;
  filters: ExchangeInfoFilter[];
  orderTypes?: string[];
  timeInForce?: string[];
}

export interface ExchangeInfoRateLimit {
  rateLimitType: string;
  interval: string;
  intervalNum: number;
  limit: number;
}

export interface ExchangeInfo {
  serverTime?: number;
  rateLimits?: ExchangeInfoRateLimit[];
  symbols: ExchangeInfoSymbol[];
}

/** A quantity rule (LOT_SIZE or MARKET_LOT_SIZE) in units of 10^-qtyScale. 0 / Infinity = disabled. */
export interface QtyRule {
  minUnits: number;
  maxUnits: number;
  /** 0 = no step check */
  stepUnits: number;
}

export interface SymbolFilters {
  symbol: string;
  status: string;
  /** status === 'TRADING' (checkOrder answers NotReady otherwise) */
  trading: boolean;
  // ---- price grid: price = priceTicks * tickUnits * 10^-priceScale
  priceScale: number;
  /** units per tick; never 0 (a disabled tickSize "0" makes the grid one unit and skips the tick check) */
  tickUnits: number;
  tickCheck: boolean;
  /** tickSize as printed, and its significant decimals (used when writing prices) */
  tickSize: string;
  tickDecimals: number;
  minPriceUnits: number;
  /** Infinity when maxPrice is "0" */
  maxPriceUnits: number;
  // ---- quantity grid: qty = qtySteps * stepUnits * 10^-qtyScale (LOT_SIZE step)
  qtyScale: number;
  stepUnits: number;
  stepSize: string;
  stepDecimals: number;
  lot: QtyRule;
  marketLot: QtyRule;
  // ---- MIN_NOTIONAL: price * qty >= minNotionalUnits * 10^-notionalScale
  notionalScale: number;
  minNotionalUnits: number;
  /** 10^(notionalScale - priceScale - qtyScale): lifts a price*qty product to the notional scale */
  notionalLift: number;
  minNotional: string;
  // ---- PERCENT_PRICE: BUY price <= mark * up, SELL price >= mark * down (units of 10^-multScale)
  multScale: number;
  multUpUnits: number;
  multDownUnits: number;
  /** 10^multScale */
  multOne: number;
  // ---- open-order caps (0 = none)
  maxNumOrders: number;
  maxNumAlgoOrders: number;
  orderTypes: readonly string[];
  timeInForce: readonly string[];
}

/** Significant decimals of a plain decimal ("0.0010" -> 3, "5" -> 0). */
function sigDecimals(s: string): number {
  const dot = s.indexOf('.');
  if (dot < 0) return 0;
  let end = s.length;
  while (end > dot + 1 && s.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

function field(f: ExchangeInfoFilter | undefined, name: string): string {
  const v = f?.[name];
  if (v === undefined || v === null) return '0';
  return typeof v === 'number' ? String(v) : v;
}

function units(symbol: string, what: string, text: string, scale: number): number {
  const v = parseScaled(text, scale);
  if (typeof v !== 'number' || v < 0) throw new Error(`${symbol}: ${what} ${JSON.stringify(text)} is not a plain non-negative decimal within 2^53 units`);
  return v;
}

const POW10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POW10.push(p);

function qtyRule(symbol: string, name: string, f: ExchangeInfoFilter | undefined, scale: number): QtyRule {
  const max = units(symbol, `${name}.maxQty`, field(f, 'maxQty'), scale);
  return {
    minUnits: units(symbol, `${name}.minQty`, field(f, 'minQty'), scale),
    maxUnits: max === 0 ? Number.POSITIVE_INFINITY : max,
    stepUnits: units(symbol, `${name}.stepSize`, field(f, 'stepSize'), scale),
  };
}

/** Parses one exchangeInfo symbol's filters. Throws on a malformed decimal (exchangeInfo is start-up data). */
export function parseSymbolFilters(s: ExchangeInfoSymbol): SymbolFilters {
  const find = (t: string): ExchangeInfoFilter | undefined => s.filters.find((x) => x.filterType === t);
  const pf = find('PRICE_FILTER');
  const lot = find('LOT_SIZE');
  const mlot = find('MARKET_LOT_SIZE') ?? lot;
  const mn = find('MIN_NOTIONAL');
  const pp = find('PERCENT_PRICE');
  const sym = s.symbol;

  const tickSize = field(pf, 'tickSize');
  const minPrice = field(pf, 'minPrice');
  const maxPrice = field(pf, 'maxPrice');
  // One scale that holds every price field exactly (minPrice may carry more decimals than the tick).
  const priceScale = Math.max(sigDecimals(tickSize), sigDecimals(minPrice), sigDecimals(maxPrice));
  const tickRaw = units(sym, 'tickSize', tickSize, priceScale);
  const maxPriceUnits = units(sym, 'maxPrice', maxPrice, priceScale);

  const stepSize = field(lot, 'stepSize');
  let qtyScale = 0;
  for (const f of [lot, mlot]) for (const k of ['minQty', 'maxQty', 'stepSize']) qtyScale = Math.max(qtyScale, sigDecimals(field(f, k)));
  const lotRule = qtyRule(sym, 'LOT_SIZE', lot, qtyScale);
  const marketRule = qtyRule(sym, 'MARKET_LOT_SIZE', mlot, qtyScale);

  // MIN_NOTIONAL's field is `notional` today, `minNotional` in older payloads.
  const minNotional = mn?.['notional'] !== undefined ? field(mn, 'notional') : field(mn, 'minNotional');
  const notionalScale = Math.max(priceScale + qtyScale, sigDecimals(minNotional));

  const up = field(pp, 'multiplierUp');
  const down = field(pp, 'multiplierDown');
  const multScale = Math.max(sigDecimals(up), sigDecimals(down));

  const limit = (t: string): number => {
    const v = Number(find(t)?.['limit'] ?? 0);
    return Number.isFinite(v) && v > 0 ? v : 0;
  };

  return {
    symbol: sym,
    status: s.status ?? 'TRADING',
    trading: (s.status ?? 'TRADING') === 'TRADING',
    priceScale,
    tickUnits: tickRaw === 0 ? 1 : tickRaw,
    tickCheck: tickRaw !== 0,
    tickSize,
    tickDecimals: tickRaw === 0 ? priceScale : sigDecimals(tickSize),
    minPriceUnits: units(sym, 'minPrice', minPrice, priceScale),
    maxPriceUnits: maxPriceUnits === 0 ? Number.POSITIVE_INFINITY : maxPriceUnits,
    qtyScale,
    stepUnits: lotRule.stepUnits === 0 ? 1 : lotRule.stepUnits,
    stepSize,
    stepDecimals: lotRule.stepUnits === 0 ? qtyScale : sigDecimals(stepSize),
    lot: lotRule,
    marketLot: marketRule,
    notionalScale,
    minNotionalUnits: units(sym, 'MIN_NOTIONAL', minNotional, notionalScale),
    notionalLift: POW10[notionalScale - priceScale - qtyScale]!,
    minNotional,
    multScale,
    multUpUnits: units(sym, 'multiplierUp', up, multScale),
    multDownUnits: units(sym, 'multiplierDown', down, multScale),
    multOne: POW10[multScale]!,
    maxNumOrders: limit('MAX_NUM_ORDERS'),
    maxNumAlgoOrders: limit('MAX_NUM_ALGO_ORDERS'),
    orderTypes: s.orderTypes ?? [],
    timeInForce: s.timeInForce ?? [],
  };
}

/** Filters of every symbol in an exchangeInfo payload, by symbol name. */
export function parseExchangeInfoFilters(info: ExchangeInfo): Map<string, SymbolFilters> {
  const out = new Map<string, SymbolFilters>();
  for (const s of info.symbols) out.set(s.symbol, parseSymbolFilters(s));
  return out;
}

/** The engine's Instrument (core/Instrument.ts) for these filters: same tick and step grid. */
export function instrumentOf(f: SymbolFilters): Instrument {
  const tick = formatScaled(f.tickUnits, f.priceScale);
  const step = formatScaled(f.stepUnits, f.qtyScale);
  const minQty = formatScaled(Math.max(f.lot.minUnits, f.stepUnits), f.qtyScale);
  return makeInstrument(f.symbol, tick, step, minQty, f.minNotional);
}

// ---------------------------------------------------------------------------------------- order check

/** Where checkOrder writes a short, constant explanation (no string is built). */
export interface CheckOutcome {
  reason: RejectReason;
  text: string;
}

function fail(out: CheckOutcome | undefined, reason: RejectReason, text: string): RejectReason {
  if (out !== undefined) {
    out.reason = reason;
    out.text = text;
  }
  return reason;
}

/** a * b >= c for non-negative safe integers, exact even when a * b passes 2^53. */
function productAtLeast(a: number, b: number, c: number): boolean {
  const p = a * b;
  if (p <= Number.MAX_SAFE_INTEGER) return p >= c;
  return BigInt(a) * BigInt(b) >= BigInt(c);
}

/** a * b <= c * d for non-negative safe integers, exact. */
function productsLe(a: number, b: number, c: number, d: number): boolean {
  const l = a * b;
  const r = c * d;
  if (l <= Number.MAX_SAFE_INTEGER && r <= Number.MAX_SAFE_INTEGER) return l <= r;
  return BigInt(a) * BigInt(b) <= BigInt(c) * BigInt(d);
}

function checkQty(rule: QtyRule, qtyUnits: number, out: CheckOutcome | undefined): RejectReason {
  if (qtyUnits < rule.minUnits) return fail(out, RejectReason.LotSize, 'quantity below minQty');
  if (qtyUnits > rule.maxUnits) return fail(out, RejectReason.LotSize, 'quantity above maxQty');
  // The venue's rule: (qty - minQty) % stepSize == 0.
  if (rule.stepUnits > 0 && (qtyUnits - rule.minUnits) % rule.stepUnits !== 0) return fail(out, RejectReason.LotSize, 'quantity not on the stepSize grid');
  return RejectReason.None;
}

function checkPrice(f: SymbolFilters, ticks: number, out: CheckOutcome | undefined): RejectReason {
  if (!Number.isSafeInteger(ticks) || ticks <= 0) return fail(out, RejectReason.PriceFilter, 'price must be a positive whole number of ticks');
  const u = ticks * f.tickUnits;
  if (u < f.minPriceUnits) return fail(out, RejectReason.PriceFilter, 'price below minPrice');
  if (u > f.maxPriceUnits) return fail(out, RejectReason.PriceFilter, 'price above maxPrice');
  // (price - minPrice) % tickSize == 0: a tick multiple fails only if minPrice itself is off the grid.
  if (f.tickCheck && (u - f.minPriceUnits) % f.tickUnits !== 0) return fail(out, RejectReason.PriceFilter, 'price not on the tickSize grid');
  return RejectReason.None;
}

/**
 * Checks an order against the symbol's filters before it is sent; returns RejectReason.None or the first
 * failing filter (PriceFilter, LotSize, MinNotional, PercentPrice; NotReady when the symbol is not
 * TRADING) and, when `out` is given, writes a short constant text there. Allocation-free unless a
 * product passes 2^53.
 *
 * - `priceTicks`: LIMIT price; for STOP_MARKET / TAKE_PROFIT_MARKET the trigger price; for
 *   TRAILING_STOP_MARKET the activation price (0 = none); ignored for MARKET.
 * - `qtySteps`: in LOT_SIZE steps; MARKET-like types are checked against MARKET_LOT_SIZE.
 * - `markPriceTicks`: current mark price in ticks, 0/undefined when unknown (then PERCENT_PRICE, and
 *   MIN_NOTIONAL of a MARKET order, are not checked).
 * - `reduceOnly`: exempt from MIN_NOTIONAL (the venue waives -4164 for reduce-only).
 */
export function checkOrder(
  f: SymbolFilters,
  side: Side,
  type: OrderType,
  priceTicks: number,
  qtySteps: number,
  markPriceTicks: number | undefined,
  reduceOnly: boolean,
  out?: CheckOutcome,
): RejectReason {
  if (!f.trading) return fail(out, RejectReason.NotReady, 'symbol is not TRADING');
  if (!Number.isSafeInteger(qtySteps) || qtySteps <= 0) return fail(out, RejectReason.LotSize, 'quantity must be a positive whole number of steps');
  const qtyUnits = qtySteps * f.stepUnits;
  const isLimit = type === OrderType.Limit;
  const r = checkQty(isLimit ? f.lot : f.marketLot, qtyUnits, out);
  if (r !== RejectReason.None) return r;

  const mark = markPriceTicks !== undefined && markPriceTicks > 0 ? markPriceTicks : 0;
  const hasPrice = type !== OrderType.Market && !(type === OrderType.TrailingStopMarket && priceTicks === 0);
  if (hasPrice) {
    const p = checkPrice(f, priceTicks, out);
    if (p !== RejectReason.None) return p;
  }

  // PERCENT_PRICE bounds a limit price around the mark: price*10^m <= mark*up (BUY), >= mark*down (SELL).
  if (isLimit && mark > 0) {
    if (side === Side.Buy) {
      if (f.multUpUnits > 0 && !productsLe(priceTicks, f.multOne, mark, f.multUpUnits)) return fail(out, RejectReason.PercentPrice, 'buy price above mark * multiplierUp');
    } else if (f.multDownUnits > 0 && !productsLe(mark, f.multDownUnits, priceTicks, f.multOne)) {
      return fail(out, RejectReason.PercentPrice, 'sell price below mark * multiplierDown');
    }
  }

  if (!reduceOnly && f.minNotionalUnits > 0) {
    // MARKET orders are valued at the mark price; conditional orders at their trigger.
    const refTicks = type === OrderType.Market || !hasPrice ? mark : priceTicks;
    if (refTicks > 0) {
      const priceUnits = refTicks * f.tickUnits * f.notionalLift;
      if (!productAtLeast(priceUnits, qtyUnits, f.minNotionalUnits)) return fail(out, RejectReason.MinNotional, 'notional below MIN_NOTIONAL');
    }
  }
  if (out !== undefined) {
    out.reason = RejectReason.None;
    out.text = '';
  }
  return RejectReason.None;
}

/** true when one more open order (or algo order) would pass MAX_NUM_ORDERS / MAX_NUM_ALGO_ORDERS. */
export function exceedsOpenOrderCap(f: SymbolFilters, openOrders: number, openAlgoOrders: number, algo: boolean): boolean {
  // The venue counts algo orders against MAX_NUM_ORDERS too.
  if (f.maxNumOrders > 0 && openOrders + openAlgoOrders + 1 > f.maxNumOrders) return true;
  return algo && f.maxNumAlgoOrders > 0 && openAlgoOrders + 1 > f.maxNumAlgoOrders;
}

// ---------------------------------------------------------------------------------------- float -> grid

export const enum Rounding {
  /** toward -infinity */
  Down = 0,
  /** toward +infinity */
  Up = 1,
  /** nearest, halves away from zero */
  Nearest = 2,
}

/**
 * A float that lies within this relative distance of a grid point is that grid point: strategies compute
 * floats (0.1 + 0.2 = 0.30000000000000004), and such noise must not push a value to the next tick when
 * rounding up or down. 1e-12 is ~4500 ulps: far above arithmetic noise, far below any intended offset.
 */
const SNAP = 1e-12;

function toGrid(value: number, scale: number, unitsPerStep: number, mode: Rounding): number {
  if (!Number.isFinite(value)) return Number.NaN;
  const x = (value * POW10[scale]!) / unitsPerStep;
  const r = Math.round(x);
  const ax = x < 0 ? -x : x;
  if (Math.abs(x - r) <= SNAP * (ax > 1 ? ax : 1)) return r === 0 ? 0 : r;
  let v: number;
  if (mode === Rounding.Down) v = Math.floor(x);
  else if (mode === Rounding.Up) v = Math.ceil(x);
  else v = x < 0 ? -Math.round(-x) : r;
  return v === 0 ? 0 : v;
}

/** Float price -> whole ticks with the given rounding (NaN for a non-finite price). */
export function priceToTicks(f: SymbolFilters, price: number, mode: Rounding): number {
  return toGrid(price, f.priceScale, f.tickUnits, mode);
}

/** Float quantity -> whole LOT_SIZE steps with the given rounding (NaN for a non-finite quantity). */
export function qtyToSteps(f: SymbolFilters, qty: number, mode: Rounding): number {
  return toGrid(qty, f.qtyScale, f.stepUnits, mode);
}

/** Ticks -> the decimal text sent to the venue, with the tick's own decimals ("0.0010" tick -> 3). */
export function formatPrice(f: SymbolFilters, ticks: number): string {
  return formatScaled((ticks * f.tickUnits) / POW10[f.priceScale - f.tickDecimals]!, f.tickDecimals);
}

/** Steps -> the decimal text sent to the venue, with the step's own decimals. */
export function formatQty(f: SymbolFilters, steps: number): string {
  return formatScaled((steps * f.stepUnits) / POW10[f.qtyScale - f.stepDecimals]!, f.stepDecimals);
}
