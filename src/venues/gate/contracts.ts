import { formatScaled, parseScaled } from '../../core/decimal.js';
import { makeInstrument, parseStep, type Instrument } from '../../core/Instrument.js';

/**
 * Gate USDT-futures contract rules (protocols.md §2.9) as exact integers. Orders are sized in whole
 * contracts: one contract is `quanto_multiplier` of the base asset, prices step by `order_price_round`, and
 * the size must lie within [order_size_min, order_size_max]. Decimals are held as units of 10^-scale so that
 * no binary float ever decides a size or is formatted into a request.
 */
export interface GateContractRules {
  name: string;
  /** base amount of one contract: multiplierUnits * 10^-multiplierScale (BTC_USDT "0.0001" -> 1, 4) */
  multiplierUnits: number;
  multiplierScale: number;
  /** price tick: tickUnits * 10^-priceScale (order_price_round "0.1" -> 1, 1) */
  tickUnits: number;
  priceScale: number;
  /** order size limits, whole contracts */
  sizeMin: number;
  sizeMax: number;
  /** |price - mark| <= mark * deviate; NaN when the contract gives none */
  priceDeviate: number;
  leverageMin: number;
  leverageMax: number;
  makerFeeRate: number;
  takerFeeRate: number;
  /** the venue's open-order cap per contract (0 = not given) */
  ordersLimit: number;
  inDelisting: boolean;
  /** texts as the venue sent them */
  quantoMultiplier: string;
  orderPriceRound: string;
}

/** Why a size could not be made. */
export type GateSizeError = 'SIZE_TOO_SMALL' | 'SIZE_TOO_LARGE' | 'BAD_AMOUNT';
export type GateSizeResult = { ok: true; contracts: number } | { ok: false; reason: GateSizeError };

const MAX_SCALE = 18;

/** One element of `GET /futures/usdt/contracts` (or the body of `/contracts/{name}`) already parsed as JSON. */
export function parseGateContract(o: unknown): GateContractRules {
  if (typeof o !== 'object' || o === null) throw new Error('gate contract: not an object');
  const c = o as Record<string, unknown>;
  const name = c['name'];
  if (typeof name !== 'string' || name === '') throw new Error('gate contract: no name');
  const text = (k: string): string => {
    const v = c[k];
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    throw new Error(`gate contract ${name}: ${k} missing`);
  };
  const int = (k: string, dflt: number): number => {
    const v = c[k];
    if (v === undefined || v === null) return dflt;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new Error(`gate contract ${name}: ${k} is not an integer`);
    return n;
  };
  const num = (k: string): number => {
    const v = c[k];
    const n = typeof v === 'string' && v !== '' ? Number(v) : typeof v === 'number' ? v : NaN;
    return Number.isFinite(n) ? n : NaN;
  };
  const quanto = text('quanto_multiplier');
  const round = text('order_price_round');
  const m = parseStep(quanto);
  const t = parseStep(round);
  const sizeMin = Math.max(1, int('order_size_min', 1));
  const sizeMax = int('order_size_max', Number.MAX_SAFE_INTEGER);
  if (sizeMax < sizeMin) throw new Error(`gate contract ${name}: order_size_max < order_size_min`);
  return {
    name,
    multiplierUnits: m.units,
    multiplierScale: m.scale,
    tickUnits: t.units,
    priceScale: t.scale,
    sizeMin,
    sizeMax,
    priceDeviate: num('order_price_deviate'),
    leverageMin: num('leverage_min'),
    leverageMax: num('leverage_max'),
    makerFeeRate: num('maker_fee_rate'),
    takerFeeRate: num('taker_fee_rate'),
    ordersLimit: int('orders_limit', 0),
    inDelisting: c['in_delisting'] === true,
    quantoMultiplier: quanto,
    orderPriceRound: round,
  };
}

/** A `/contracts` response body (array) or one contract object, as text. */
export function parseGateContracts(body: string): GateContractRules[] {
  const v = JSON.parse(body) as unknown;
  return Array.isArray(v) ? v.map(parseGateContract) : [parseGateContract(v)];
}

/**
 * The engine's Instrument for a contract: quantity steps are whole contracts (step "1"), price steps are
 * order_price_round ticks. So intent QTY_STEPS is the Gate `size` magnitude as it goes on the wire.
 */
export function gateInstrument(c: GateContractRules): Instrument {
  return makeInstrument(c.name, c.orderPriceRound, '1', String(c.sizeMin), '0');
}

/** Whole contracts within the contract's limits: SIZE_TOO_SMALL under the minimum, SIZE_TOO_LARGE over the maximum. */
export function checkSize(c: GateContractRules, contracts: number): GateSizeResult {
  if (!Number.isSafeInteger(contracts) || contracts < 0) return { ok: false, reason: 'BAD_AMOUNT' };
  if (contracts < c.sizeMin) return { ok: false, reason: 'SIZE_TOO_SMALL' };
  if (contracts > c.sizeMax) return { ok: false, reason: 'SIZE_TOO_LARGE' };
  return { ok: true, contracts };
}

/**
 * Contracts for a base-asset amount given as a decimal string ("0.0125" BTC): floor(amount / multiplier),
 * exactly (never more base than asked), then checked against the limits.
 */
export function contractsForBase(c: GateContractRules, baseAmount: string): GateSizeResult {
  const scale = Math.max(c.multiplierScale, Math.min(MAX_SCALE, decimalsIn(baseAmount)));
  const units = parseScaled(baseAmount, scale);
  if (typeof units !== 'number' || units < 0) return { ok: false, reason: 'BAD_AMOUNT' };
  const per = BigInt(c.multiplierUnits) * 10n ** BigInt(scale - c.multiplierScale);
  return checkSize(c, Number(BigInt(units) / per));
}

/**
 * Contracts for a quote notional ("250" USDT) at a price ("26696.1"): floor(notional / (price * multiplier)),
 * computed on integers, then checked against the limits.
 */
export function contractsForNotional(c: GateContractRules, notional: string, price: string): GateSizeResult {
  const ns = Math.min(MAX_SCALE, decimalsIn(notional));
  const ps = Math.min(MAX_SCALE, decimalsIn(price));
  const n = parseScaled(notional, ns);
  const p = parseScaled(price, ps);
  if (typeof n !== 'number' || typeof p !== 'number' || n < 0 || p <= 0) return { ok: false, reason: 'BAD_AMOUNT' };
  // notional / (price * mult): n*10^-ns / (p*10^-ps * mu*10^-ms) = n * 10^(ps+ms) / (p * mu * 10^ns)
  const num = BigInt(n) * 10n ** BigInt(ps + c.multiplierScale);
  const den = BigInt(p) * BigInt(c.multiplierUnits) * 10n ** BigInt(ns);
  return checkSize(c, Number(num / den));
}

/** Base amount of `contracts` contracts as exact decimal text (3 contracts of "0.0001" -> "0.0003"). */
export function baseAmountOf(c: GateContractRules, contracts: number): string {
  return formatScaled(contracts * c.multiplierUnits, c.multiplierScale);
}

/** The signed Gate `size`: positive buys, negative sells. */
export function signedSize(side: 1 | -1, contracts: number): number {
  return side === 1 ? contracts : -contracts;
}

/**
 * Whole ticks of a price text, or -1 when the text is not a multiple of the tick (or not a plain decimal):
 * a price the venue would refuse.
 */
export function priceTicks(c: GateContractRules, price: string): number {
  const units = parseScaled(price, c.priceScale);
  if (typeof units !== 'number' || units < 0 || units % c.tickUnits !== 0) return -1;
  return units / c.tickUnits;
}

/**
 * Ticks for a float price from signal math, rounded to the passive side: down for a buy, up for a sell
 * (a quote never crosses further than asked). A relative epsilon absorbs float noise such as 0.30000000000000004.
 */
export function passiveTicks(c: GateContractRules, side: 1 | -1, price: number): number {
  const tick = c.tickUnits / 10 ** c.priceScale;
  const x = price / tick;
  const r = Math.round(x);
  if (Math.abs(x - r) < 1e-9 * Math.max(1, Math.abs(x))) return r;
  return side === 1 ? Math.floor(x) : Math.ceil(x);
}

/** A price in ticks as the decimal text Gate expects ("26696.1"). */
export function formatPriceTicks(c: GateContractRules, ticks: number): string {
  return formatScaled(ticks * c.tickUnits, c.priceScale);
}

function decimalsIn(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}
