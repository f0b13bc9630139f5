import { ConfigError, showValue } from '../config/ConfigError.js';

/**
 * Pre-trade risk rules (src/risk/RiskEngine.ts). Every numeric limit is off at 0; units are in the key
 * name's documentation: quantities in base units, notionals and PnL in quote currency, fractions as
 * fractions (0.05 = 5 %), bps = 1e-4, times in milliseconds of event time.
 */
export interface RiskConfig {
  // ---- one order
  /** largest order quantity (base units) */
  maxOrderQty: number;
  /** largest order notional (quote): qty x limit price, or x the touch price for a market order */
  maxOrderNotional: number;

  // ---- exposure (entries only: an order that reduces a position is never refused by these)
  /** largest absolute position per symbol (base units), counting orders in flight on the same side */
  maxPositionQty: number;
  /** largest position notional per symbol (quote, at mid), counting orders in flight */
  maxPositionNotional: number;
  /** largest gross notional over all symbols (quote, at mid), counting orders in flight */
  maxTotalNotional: number;
  /** refuse an entry in the direction of an existing position (or of an entry already in flight) */
  noDuplicatePosition: boolean;

  // ---- order flow (every new order; cancels are never refused)
  /** most open orders over all symbols (orders sent and not finished) */
  maxOpenOrders: number;
  /** most open orders on one symbol */
  maxOpenOrdersPerSymbol: number;
  /** most orders accepted in any sliding 1 s / 10 s / 60 s window */
  maxOrdersPerSecond: number;
  maxOrdersPer10s: number;
  maxOrdersPerMinute: number;

  // ---- market and venue state
  /** a limit price may sit at most this far from mid (bps) */
  priceBandBps: number;
  /** entries need a spread of at least this (bps of mid) */
  minSpreadBps: number;
  /** the expected execution price (limit price, or the touch for a market order) may be at most this much worse than the decision price (bps) */
  maxSlippageBps: number;
  /** refuse orders on a symbol whose book is not Live (syncing or stale) */
  requireLiveBook: boolean;
  /** refuse orders while the venue's measured latency is above this (ms) */
  maxVenueLatencyMs: number;

  // ---- PnL and capital (breaches change the trading state; see RiskEngine)
  /** capital the fraction rules refer to (quote); 0 = the first equity seen */
  initialCapital: number;
  /** daily loss limit in quote: equity at or below the UTC day's starting equity minus this */
  dailyLossLimit: number;
  /** daily loss limit as a fraction of the day's starting equity */
  dailyLossFraction: number;
  /** drawdown from the equity peak, as a fraction of the peak */
  maxDrawdownFraction: number;
  /** session realised loss (net of fees and funding) that stops entries (quote) */
  maxRealizedLoss: number;
  /** session realised profit (net) at which entries stop: take the profit (quote) */
  targetProfit: number;
  /** equity below this fraction of initial capital halts trading */
  minCapitalFraction: number;
  /** losing round trips in a row that pause entries */
  maxConsecutiveLosses: number;
  /** how long the pause lasts (ms); 0 = until an operator resumes (REDUCE_ONLY) */
  lossPauseMs: number;
  /** losing round trips in one UTC day that stop entries until the next day */
  maxLossesPerDay: number;

  // ---- trade pacing (a "trade" is an accepted order that opens or adds to a position)
  minTradeIntervalMs: number;
  maxTradesPerMinute: number;
  /** per UTC day */
  maxTradesPerDay: number;

  // ---- leverage and margin
  /** the account's leverage: margin of a position = notional / leverage */
  leverage: number;
  /** gross notional over all symbols (with this order and orders in flight) / equity */
  maxLeverage: number;
  /** one order's margin (notional / leverage) as a fraction of equity */
  maxOrderMarginFraction: number;
  /** total margin in use (gross notional / leverage, with this order) as a fraction of equity */
  maxCapitalUsage: number;
}

/** Every rule off: the base of the presets. */
export const RISK_OFF: Readonly<RiskConfig> = Object.freeze({
  maxOrderQty: 0,
  maxOrderNotional: 0,
  maxPositionQty: 0,
  maxPositionNotional: 0,
  maxTotalNotional: 0,
  noDuplicatePosition: false,
  maxOpenOrders: 0,
  maxOpenOrdersPerSymbol: 0,
  maxOrdersPerSecond: 0,
  maxOrdersPer10s: 0,
  maxOrdersPerMinute: 0,
  priceBandBps: 0,
  minSpreadBps: 0,
  maxSlippageBps: 0,
  requireLiveBook: false,
  maxVenueLatencyMs: 0,
  initialCapital: 0,
  dailyLossLimit: 0,
  dailyLossFraction: 0,
  maxDrawdownFraction: 0,
  maxRealizedLoss: 0,
  targetProfit: 0,
  minCapitalFraction: 0,
  maxConsecutiveLosses: 0,
  lossPauseMs: 0,
  maxLossesPerDay: 0,
  minTradeIntervalMs: 0,
  maxTradesPerMinute: 0,
  maxTradesPerDay: 0,
  leverage: 1,
  maxLeverage: 0,
  maxOrderMarginFraction: 0,
  maxCapitalUsage: 0,
});

/**
 * The risk rules of the earlier systems (../shared/docs/strategies.md), each over RISK_OFF. Strategy-level
 * rules (stop-loss, take-profit, risk per trade as sizing) live in the strategies, not here.
 */
export const RISK_PRESETS = {
  /** every rule off except what is set over it (benches, tests, a strategy with its own limits) */
  off: RISK_OFF,
  /** Python Binance event-bus system: the engine's default. Plus: never trade on a book that is not Live. */
  eventBus: Object.freeze({
    ...RISK_OFF,
    maxPositionNotional: 500,
    maxOpenOrders: 10,
    maxOrdersPerSecond: 5,
    maxOrdersPer10s: 300, // the venue's own limit
    dailyLossLimit: 200,
    maxDrawdownFraction: 0.05,
    maxConsecutiveLosses: 5,
    lossPauseMs: 0, // "halt after 5 consecutive losses": no new risk until an operator resumes
    priceBandBps: 200,
    minSpreadBps: 2,
    maxSlippageBps: 10,
    leverage: 1,
    maxLeverage: 1,
    requireLiveBook: true,
  }),
  /** Gate.io tick scalper's survival rules. Its 300 trades/day cap is moot under its stop at 15 trades a day. */
  gateScalper: Object.freeze({
    ...RISK_OFF,
    leverage: 5,
    maxLeverage: 5,
    maxOrderMarginFraction: 0.25,
    maxConsecutiveLosses: 3,
    lossPauseMs: 15 * 60_000,
    dailyLossFraction: 0.03,
    minCapitalFraction: 0.5,
    maxLossesPerDay: 3,
    maxTradesPerDay: 15,
    maxTradesPerMinute: 10,
    maxVenueLatencyMs: 100,
    requireLiveBook: true,
  }),
  /** Python Binance ML system. */
  mlSystem: Object.freeze({
    ...RISK_OFF,
    dailyLossFraction: 0.05,
    maxDrawdownFraction: 0.15,
    maxTradesPerMinute: 1,
    minTradeIntervalMs: 60_000,
    requireLiveBook: true,
  }),
  /** CCXT-based MVP. */
  ccxtMvp: Object.freeze({
    ...RISK_OFF,
    initialCapital: 10_000,
    maxPositionNotional: 1_000,
    dailyLossFraction: 0.05,
    maxDrawdownFraction: 0.2,
    noDuplicatePosition: true,
    requireLiveBook: true,
  }),
} as const satisfies Record<string, Readonly<RiskConfig>>;

export type RiskPresetName = keyof typeof RISK_PRESETS;

export const DEFAULT_RISK_CONFIG: Readonly<RiskConfig> = RISK_PRESETS.eventBus;

type Spec = { t: 'num' | 'int'; min: number; max: number } | { t: 'bool' };

const QUOTE_MAX = 1e12;
const num = (max: number, min = 0): Spec => ({ t: 'num', min, max });
const int = (max: number): Spec => ({ t: 'int', min: 0, max });
const bool: Spec = { t: 'bool' };
const DAY_MS = 86_400_000;

/** Allowed range of every key. Window limits size preallocated arrays, hence their caps. */
export const RISK_CONFIG_SPEC: Readonly<Record<keyof RiskConfig, Spec>> = {
  maxOrderQty: num(QUOTE_MAX),
  maxOrderNotional: num(QUOTE_MAX),
  maxPositionQty: num(QUOTE_MAX),
  maxPositionNotional: num(QUOTE_MAX),
  maxTotalNotional: num(QUOTE_MAX),
  noDuplicatePosition: bool,
  maxOpenOrders: int(100_000),
  maxOpenOrdersPerSymbol: int(100_000),
  maxOrdersPerSecond: int(10_000),
  maxOrdersPer10s: int(100_000),
  maxOrdersPerMinute: int(100_000),
  priceBandBps: num(10_000),
  minSpreadBps: num(10_000),
  maxSlippageBps: num(10_000),
  requireLiveBook: bool,
  maxVenueLatencyMs: num(60_000),
  initialCapital: num(QUOTE_MAX),
  dailyLossLimit: num(QUOTE_MAX),
  dailyLossFraction: num(1),
  maxDrawdownFraction: num(1),
  maxRealizedLoss: num(QUOTE_MAX),
  targetProfit: num(QUOTE_MAX),
  minCapitalFraction: num(1),
  maxConsecutiveLosses: int(10_000),
  lossPauseMs: num(7 * DAY_MS),
  maxLossesPerDay: int(100_000),
  minTradeIntervalMs: num(DAY_MS),
  maxTradesPerMinute: int(100_000),
  maxTradesPerDay: int(10_000_000),
  leverage: num(125, 1),
  maxLeverage: num(125),
  maxOrderMarginFraction: num(1),
  maxCapitalUsage: num(1),
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a risk section (a partial RiskConfig, optionally with `preset`: one of RISK_PRESETS) and
 * returns the complete config: the preset (default: DEFAULT_RISK_CONFIG) with the given keys over it.
 * Throws a ConfigError naming the key (under `key`) and the allowed range.
 */
export function validateRiskConfig(raw: unknown, key = 'risk'): RiskConfig {
  if (raw === undefined) return { ...DEFAULT_RISK_CONFIG };
  if (!isPlainObject(raw)) throw new ConfigError(key, `must be an object; got ${showValue(raw)}`);
  let base: Readonly<RiskConfig> = DEFAULT_RISK_CONFIG;
  const presetNames = Object.keys(RISK_PRESETS);
  if ('preset' in raw) {
    const p = raw.preset;
    if (typeof p !== 'string' || !presetNames.includes(p)) throw new ConfigError(`${key}.preset`, `must be one of ${presetNames.join(', ')}; got ${showValue(p)}`);
    base = RISK_PRESETS[p as RiskPresetName];
  }
  const out: RiskConfig = { ...base };
  const allowed = ['preset', ...Object.keys(RISK_CONFIG_SPEC)];
  for (const k of Object.keys(raw)) {
    if (k === 'preset') continue;
    if (!(k in RISK_CONFIG_SPEC)) throw new ConfigError(`${key}.${k}`, `is not a known key; allowed here: ${allowed.join(', ')}`);
    const name = k as keyof RiskConfig;
    const spec = RISK_CONFIG_SPEC[name];
    const v = raw[k];
    if (spec.t === 'bool') {
      if (typeof v !== 'boolean') throw new ConfigError(`${key}.${k}`, `must be true or false; got ${showValue(v)}`);
      (out as unknown as Record<string, boolean>)[k] = v;
      continue;
    }
    const what = spec.t === 'int' ? 'an integer' : 'a number';
    if (typeof v !== 'number' || !Number.isFinite(v) || (spec.t === 'int' && !Number.isInteger(v)) || v < spec.min || v > spec.max) {
      throw new ConfigError(`${key}.${k}`, `must be ${what} between ${spec.min} and ${spec.max}${name === 'initialCapital' ? ' (0 = the first equity seen)' : spec.min === 0 ? ' (0 = off)' : ''}; got ${showValue(v)}`);
    }
    (out as unknown as Record<string, number>)[k] = v;
  }
  return out;
}
