import { ConfigError, showValue } from '../config/ConfigError.js';
import type { Strategy } from './Strategy.js';
import { PingPong } from './PingPong.js';
import { FeeMomentum, type FeeMomentumParams } from './FeeMomentum.js';
import { EmaImbalance, type EmaImbalanceParams } from './EmaImbalance.js';
import type { PingPongParams } from '../config/Config.js';
import { ManagedStrategy, needsManagement, type ManagedConfig } from './ManagedStrategy.js';
import { GATE_SCALPER_SIZING, type SizingMode } from './sizing.js';

/**
 * The strategy registry: every strategy the engine can run, with a typed parameter schema (defaults,
 * ranges, allowed values) and a factory. Config `strategy.name` / `strategy.params`, the runtime control
 * message (switch / re-parameterise) and `hft strategies` all go through it, so a parameter is validated
 * the same way wherever it comes from. Errors name the key and what is allowed, like the config's.
 */

export type ParamValue = number | string | boolean;

/** Validated parameters: every key of the strategy's schema, defaults filled in. Each strategy trades `symbol`. */
export type StrategyParams = { symbol: string; [key: string]: ParamValue };

export type ParamSpec =
  | { type: 'number'; default: number; min: number; max: number; description: string }
  | { type: 'integer'; default: number; min: number; max: number; description: string }
  | { type: 'boolean'; default: boolean; description: string }
  /** one of `allowed` */
  | { type: 'enum'; default: string; allowed: readonly string[]; description: string }
  /** a venue symbol; the engine also requires it to be one of the configured symbols */
  | { type: 'symbol'; default: string; description: string };

/** Schema keys typed by the strategy's own parameter type, so a schema cannot miss or misname one. */
export type ParamSchema<P> = { readonly [K in keyof P & string]: ParamSpec };

export interface StrategyDefinition<P extends StrategyParams> {
  name: string;
  description: string;
  params: ParamSchema<P>;
  /** defaults of the shared exit and sizing parameters for this strategy (SHARED_PARAMS; all off otherwise) */
  sharedDefaults?: Partial<Record<SharedParamKey, ParamValue>>;
  /** `symbolId` = index of params.symbol among the engine's symbols */
  create(params: P, symbolId: number): Strategy;
}

/** As stored: the parameter type erased (the schema check is what guarantees the shape). */
interface RegisteredStrategy {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  create(params: StrategyParams, symbolId: number): Strategy;
}

/** Binance symbols (BTCUSDT) and Gate contracts (BTC_USDT) */
const SYMBOL = /^[A-Z0-9]{1,20}(_[A-Z0-9]{1,10})?$/;
const NAME = /^[a-z][a-z0-9-]{1,40}$/;
const registry = new Map<string, RegisteredStrategy>();

export function registerStrategy<P extends StrategyParams>(def: StrategyDefinition<P>): void {
  if (!NAME.test(def.name)) throw new Error(`strategy name ${JSON.stringify(def.name)} must be lower-case words joined by "-"`);
  if (registry.has(def.name)) throw new Error(`strategy ${def.name} is already registered`);
  const own = def.params as Readonly<Record<string, ParamSpec>>;
  if (own.symbol?.type !== 'symbol') throw new Error(`strategy ${def.name}: params.symbol must be a symbol parameter`);
  const params: Record<string, ParamSpec> = { ...own };
  for (const [k, spec] of Object.entries(SHARED_PARAMS)) {
    if (k in own) throw new Error(`strategy ${def.name}: ${k} is a shared parameter`);
    const d = def.sharedDefaults?.[k as SharedParamKey];
    params[k] = d === undefined ? spec : ({ ...spec, default: d } as ParamSpec);
    checkParam(params[k]!, params[k]!.default, `${def.name}.${k}`);
  }
  registry.set(def.name, {
    name: def.name,
    description: def.description,
    params,
    create: (p, symbolId) => {
      const inner = def.create(p as P, symbolId);
      const managed = managedConfig(p);
      return needsManagement(managed) ? new ManagedStrategy(inner, symbolId, managed) : inner;
    },
  });
}

/**
 * Exit and sizing parameters every strategy has (ManagedStrategy): off by default, so a strategy runs as
 * written unless they are set. Fractions are of the entry price (exits) or of equity (sizing).
 */
export const SHARED_PARAMS = {
  exitStopLoss: { type: 'number', default: 0, min: 0, max: 0.5, description: 'shared exits: close all this fraction against the entry (0 = off)' },
  exitTakeProfit: { type: 'number', default: 0, min: 0, max: 10, description: 'shared exits: close all this fraction in favour (0 = off)' },
  exitTrailActivate: { type: 'number', default: 0, min: 0, max: 10, description: 'shared exits: arm the trailing stop this fraction in favour (0 = from entry)' },
  exitTrailDistance: { type: 'number', default: 0, min: 0, max: 0.5, description: 'shared exits: trailing stop distance from the best price (0 = off)' },
  exitPartialAt: { type: 'number', default: 0, min: 0, max: 10, description: 'shared exits: take a partial profit this fraction in favour (0 = off)' },
  exitPartialFraction: { type: 'number', default: 0.5, min: 0.01, max: 1, description: 'shared exits: fraction of the position the partial take-profit closes' },
  exitMaxHoldMs: { type: 'integer', default: 0, min: 0, max: 30 * 86_400_000, description: 'shared exits: close all this long after entry, event time (0 = off)' },
  protectiveStop: { type: 'boolean', default: false, description: 'rest a close-position STOP_MARKET at the venue at the stop-loss level while a position is open (needs exitStopLoss)' },
  protectiveStopOnMark: { type: 'boolean', default: true, description: 'the protective stop triggers on the mark price (else the last price)' },
  sizing: { type: 'enum', default: 'fixed', allowed: ['fixed', 'percent-equity', 'risk'], description: "entry sizing: 'fixed' = the strategy's own size; 'percent-equity'; 'risk' (ATR-floored stop, volatility scaling)" },
  sizingEquity: { type: 'number', default: 10_000, min: 1, max: 1e12, description: 'equity (quote) for sizing until the venue reports a wallet balance' },
  sizingEquityFraction: { type: 'number', default: 0.1, min: 0.0001, max: 1, description: "percent-equity: margin per entry as a fraction of equity" },
  sizingLeverage: { type: 'number', default: 5, min: 1, max: 125, description: 'percent-equity and risk: leverage (notional = margin x leverage)' },
  sizingRiskPerTrade: { type: 'number', default: 0.01, min: 0.0001, max: 0.2, description: 'risk: equity fraction lost if the stop is hit' },
  sizingStop: { type: 'number', default: 0.004, min: 0, max: 0.5, description: "risk: the strategy's stop distance (fraction of price)" },
  sizingMinStop: { type: 'number', default: 0.0009, min: 0.00001, max: 0.5, description: 'risk: the stop is never tighter than this' },
  sizingAtrMultiple: { type: 'number', default: 1.1, min: 0, max: 100, description: 'risk: the stop is at least ATR/price x this' },
  sizingMaxMargin: { type: 'number', default: 0.25, min: 0.001, max: 1, description: 'risk: margin per entry at most this fraction of equity' },
  sizingBarMs: { type: 'integer', default: 60_000, min: 1000, max: 86_400_000, description: 'risk: bar length for the ATR(14) and the volatility (20 bars)' },
} as const satisfies Record<string, ParamSpec>;

export type SharedParamKey = keyof typeof SHARED_PARAMS;

/** The shared parameters at their defaults (a fresh object). */
export function sharedParamDefaults(): Record<SharedParamKey, ParamValue> {
  const out = {} as Record<SharedParamKey, ParamValue>;
  for (const [k, s] of Object.entries(SHARED_PARAMS)) out[k as SharedParamKey] = s.default;
  return out;
}

/** The shared parameters of validated strategy parameters, as the layer's configuration. */
export function managedConfig(p: StrategyParams): ManagedConfig {
  const n = (k: SharedParamKey): number => p[k] as number;
  return {
    exits: {
      stopLoss: n('exitStopLoss'),
      takeProfit: n('exitTakeProfit'),
      trailActivate: n('exitTrailActivate'),
      trailDistance: n('exitTrailDistance'),
      partialAt: n('exitPartialAt'),
      partialFraction: n('exitPartialFraction'),
      maxHoldMs: n('exitMaxHoldMs'),
    },
    protectiveStop: p.protectiveStop === true,
    protectiveStopOnMark: p.protectiveStopOnMark === true,
    sizing: {
      ...GATE_SCALPER_SIZING,
      mode: p.sizing as SizingMode,
      quantity: 1,
      equityFraction: n('sizingEquityFraction'),
      leverage: n('sizingLeverage'),
      riskPerTrade: n('sizingRiskPerTrade'),
      stopRatio: n('sizingStop'),
      minStop: n('sizingMinStop'),
      atrMultiple: n('sizingAtrMultiple'),
      maxMarginFraction: n('sizingMaxMargin'),
    },
    equity: n('sizingEquity'),
    barMs: n('sizingBarMs'),
  };
}

export function strategyNames(): string[] {
  return [...registry.keys()];
}

function lookup(name: string, key = 'strategy.name'): RegisteredStrategy {
  const def = registry.get(name);
  if (!def) throw new ConfigError(key, `must be one of ${strategyNames().join(', ')}; got ${showValue(name)}`);
  return def;
}

/** The strategy's defaults (a fresh object). */
export function strategyDefaults(name: string): StrategyParams {
  const out: Record<string, ParamValue> = {};
  for (const [k, s] of Object.entries(lookup(name).params)) out[k] = s.default;
  return out as StrategyParams;
}

function checkParam(s: ParamSpec, v: unknown, key: string): ParamValue {
  switch (s.type) {
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v) || (s.type === 'integer' && !Number.isInteger(v))) {
        throw new ConfigError(key, `must be ${s.type === 'integer' ? 'an integer' : 'a number'} between ${s.min} and ${s.max}; got ${showValue(v)}`);
      }
      if (v < s.min || v > s.max) throw new ConfigError(key, `must be between ${s.min} and ${s.max}; got ${showValue(v)}`);
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw new ConfigError(key, `must be true or false; got ${showValue(v)}`);
      return v;
    case 'enum':
      if (typeof v !== 'string' || !s.allowed.includes(v)) throw new ConfigError(key, `must be one of ${s.allowed.join(', ')}; got ${showValue(v)}`);
      return v;
    case 'symbol':
      if (typeof v !== 'string' || !SYMBOL.test(v)) throw new ConfigError(key, `must be an upper-case venue symbol such as BTCUSDT (Gate: BTC_USDT); got ${showValue(v)}`);
      return v;
  }
}

/**
 * Checks `raw` against the named strategy's schema and returns complete parameters: keys it omits take
 * `base`'s values (default: the strategy's defaults; a re-parameterisation passes the current ones).
 * Unknown keys are errors. `key` prefixes error keys (config: "strategy.params").
 */
export function validateStrategyParams(name: string, raw: unknown, key = 'strategy.params', base?: StrategyParams): StrategyParams {
  const def = lookup(name);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(key, `must be an object; got ${showValue(raw)}`);
  const given = raw as Record<string, unknown>;
  for (const k of Object.keys(given)) {
    if (!(k in def.params)) throw new ConfigError(`${key}.${k}`, `is not a parameter of ${name}; allowed here: ${Object.keys(def.params).join(', ')}`);
  }
  const from = base ?? strategyDefaults(name);
  const out: Record<string, ParamValue> = {};
  for (const [k, s] of Object.entries(def.params)) out[k] = k in given ? checkParam(s, given[k], `${key}.${k}`) : checkParam(s, from[k], `${key}.${k}`);
  return out as StrategyParams;
}

/** Every symbol parameter must name one of the engine's symbols. */
export function checkStrategySymbols(name: string, params: StrategyParams, symbols: readonly string[], key = 'strategy.params'): void {
  for (const [k, s] of Object.entries(lookup(name).params)) {
    if (s.type === 'symbol' && !symbols.includes(params[k] as string)) {
      throw new ConfigError(`${key}.${k}`, `must be one of the configured symbols (${symbols.join(', ')}); got ${showValue(params[k])}`);
    }
  }
}

/** Builds a strategy from validated parameters (validates again: a factory never sees a bad value). */
export function createStrategy(name: string, params: StrategyParams, symbols: readonly string[]): Strategy {
  const p = validateStrategyParams(name, params);
  checkStrategySymbols(name, p, symbols);
  return lookup(name).create(p, symbols.indexOf(p.symbol));
}

export interface StrategyListing {
  name: string;
  description: string;
  params: Array<{ name: string; type: ParamSpec['type']; default: ParamValue; min?: number; max?: number; allowed?: string[]; description: string }>;
}

/** The registry as data (`hft strategies --json`). */
export function listStrategies(): StrategyListing[] {
  return [...registry.values()].map((d) => ({
    name: d.name,
    description: d.description,
    params: Object.entries(d.params).map(([k, s]) => ({
      name: k,
      type: s.type,
      default: s.default,
      ...(s.type === 'number' || s.type === 'integer' ? { min: s.min, max: s.max } : {}),
      ...(s.type === 'enum' ? { allowed: [...s.allowed] } : {}),
      description: s.description,
    })),
  }));
}

/** Human-readable listing (`hft strategies`). */
export function formatStrategies(list: StrategyListing[] = listStrategies()): string {
  const lines: string[] = [];
  for (const s of list) {
    lines.push(`${s.name}`, `  ${s.description}`);
    for (const p of s.params) {
      const range = p.min !== undefined ? ` [${p.min}..${p.max}]` : p.allowed ? ` {${p.allowed.join('|')}}` : '';
      lines.push(`    ${p.name.padEnd(16)} ${p.type.padEnd(8)} default ${JSON.stringify(p.default)}${range}  ${p.description}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

// ------------------------------------------------------------------ the strategies

const symbolParam = { type: 'symbol', default: 'BTCUSDT', description: 'the symbol traded (one of the configured symbols)' } as const;

registerStrategy<PingPongParams>({
  name: 'ping-pong',
  description: 'Test strategy (Rust engine): above a trigger price, alternate BUY and SELL market orders after a cooldown; bench mode fires every Nth tick.',
  params: {
    symbol: symbolParam,
    quantity: { type: 'number', default: 0.002, min: 1e-12, max: 1e9, description: 'order size, base units' },
    cooldownMs: { type: 'integer', default: 1000, min: 0, max: 86_400_000, description: 'minimum event-time gap between orders' },
    triggerPrice: { type: 'number', default: 0, min: 0, max: 1e12, description: 'trade only while the last price is above this (0 = always)' },
    everyNTicks: { type: 'integer', default: 0, min: 0, max: 1e9, description: 'bench mode: an order every Nth market event (0 = off)' },
  },
  create: (p, sym) => new PingPong(sym, p),
});

registerStrategy<FeeMomentumParams>({
  name: 'fee-momentum',
  description: 'Fee-aware momentum (Rust engine): velocity over N trade ticks against base + price*2*takerFee; market orders, exits on a velocity sign change, cooldown.',
  params: {
    symbol: symbolParam,
    quantity: { type: 'number', default: 0.01, min: 1e-12, max: 1e9, description: 'entry size, base units' },
    window: { type: 'integer', default: 50, min: 2, max: 100_000, description: 'N ticks: velocity = p_t - p_(t-(N-1))' },
    baseThreshold: { type: 'number', default: 2.0, min: 0, max: 1e9, description: 'base threshold, quote units' },
    takerFee: { type: 'number', default: 0.0005, min: 0, max: 0.01, description: 'taker fee rate (threshold adds price*2*takerFee)' },
    cooldownMs: { type: 'integer', default: 1000, min: 0, max: 86_400_000, description: 'minimum event-time gap between orders' },
  },
  create: (p, sym) => new FeeMomentum(sym, p),
});

registerStrategy<EmaImbalanceParams>({
  name: 'ema-imbalance',
  description: 'EMA crossover with order-book imbalance (Python event-bus system): EMA fast/slow on trades, enter IOC at the touch when diff and OBI agree, market exit after a hold time.',
  params: {
    symbol: symbolParam,
    quantity: { type: 'number', default: 0.01, min: 1e-12, max: 1e9, description: 'entry size, base units' },
    fastPeriod: { type: 'integer', default: 5, min: 1, max: 10_000, description: 'fast EMA period (trades)' },
    slowPeriod: { type: 'integer', default: 20, min: 2, max: 10_000, description: 'slow EMA period (trades)' },
    diffThreshold: { type: 'number', default: 0.001, min: 0, max: 1, description: 'entry when |(fast - slow)/slow| exceeds this' },
    obiLevels: { type: 'integer', default: 5, min: 1, max: 100, description: 'book levels per side in the imbalance' },
    obiThreshold: { type: 'number', default: 0.2, min: 0, max: 1, description: 'entry needs OBI beyond this, in the trade direction' },
    holdMs: { type: 'integer', default: 5000, min: 1, max: 86_400_000, description: 'exit with a market order this long (event time) after entry' },
  },
  create: (p, sym) => new EmaImbalance(sym, p),
});

import { LiquidationCascade, CASCADE_MODES, type LiquidationCascadeParams } from './LiquidationCascade.js';
import { LookbackMomentum, PRICE_SOURCES, type LookbackMomentumParams } from './LookbackMomentum.js';
import { BollingerReversion, type BollingerReversionParams } from './BollingerReversion.js';

registerStrategy<LiquidationCascadeParams>({
  name: 'liquidation-cascade',
  description: 'Liquidation cascade (Rust engine): price velocity with a trade-volume burst (as-coded sum-vs-mean, or normalized mean-vs-mean), or the venue forceOrder stream; market orders, exit when the burst fades, cooldown.',
  params: {
    symbol: { type: 'symbol', default: 'BTCUSDT', description: 'the symbol traded (one of the configured symbols)' },
    quantity: { type: 'number', default: 0.01, min: 1e-12, max: 1e9, description: 'entry size, base units' },
    mode: { type: 'enum', default: 'as-coded', allowed: CASCADE_MODES, description: 'as-coded: burst sum > avgVol*mult; normalized: burst mean > avgVol*mult; force-order: liquidation notional' },
    window: { type: 'integer', default: 50, min: 2, max: 100_000, description: 'N trade ticks: velocity = p_t - p_(t-(N-1)), avgVol = mean qty over N' },
    burstTicks: { type: 'integer', default: 5, min: 1, max: 100_000, description: 'burst = sum of qty over the last this many ticks (<= window)' },
    priceThreshold: { type: 'number', default: 10.0, min: 0, max: 1e12, description: 'entry needs |velocity| above this, quote units' },
    volumeMultiplier: { type: 'number', default: 3.0, min: 0, max: 1e6, description: 'entry needs the burst above avgVol times this' },
    liqWindowMs: { type: 'integer', default: 5000, min: 1, max: 600_000, description: 'force-order: liquidation notional summed per side over this much event time' },
    liqNotional: { type: 'number', default: 100_000, min: 0, max: 1e15, description: 'force-order: entry when one side liquidated at least this (quote) in the window; exit below it' },
    cooldownMs: { type: 'integer', default: 1000, min: 0, max: 86_400_000, description: 'minimum event-time gap between orders' },
  },
  create: (p, sym) => new LiquidationCascade(sym, p),
});

registerStrategy<LookbackMomentumParams>({
  name: 'lookback-momentum',
  description: 'Lookback momentum (CCXT MVP): return over N samples (trades or closed klines) against a threshold; long above, short below minus; exit when the return loses its sign; market orders, cooldown.',
  params: {
    symbol: { type: 'symbol', default: 'BTCUSDT', description: 'the symbol traded (one of the configured symbols)' },
    quantity: { type: 'number', default: 0.01, min: 1e-12, max: 1e9, description: 'entry size, base units' },
    source: { type: 'enum', default: 'trade', allowed: PRICE_SOURCES, description: 'samples: each trade price, or each closed kline close' },
    lookback: { type: 'integer', default: 20, min: 1, max: 100_000, description: 'return = p_t / p_(t-lookback) - 1, in samples' },
    threshold: { type: 'number', default: 0.001, min: 0, max: 1, description: 'entry when |return| exceeds this (fraction)' },
    cooldownMs: { type: 'integer', default: 1000, min: 0, max: 86_400_000, description: 'minimum event-time gap between orders' },
  },
  create: (p, sym) => new LookbackMomentum(sym, p),
});

registerStrategy<BollingerReversionParams>({
  name: 'bollinger-reversion',
  description: 'Bollinger mean reversion (CCXT MVP): long below the lower band, short above the upper band, exit at the moving average; market orders, cooldown.',
  params: {
    symbol: { type: 'symbol', default: 'BTCUSDT', description: 'the symbol traded (one of the configured symbols)' },
    quantity: { type: 'number', default: 0.01, min: 1e-12, max: 1e9, description: 'entry size, base units' },
    source: { type: 'enum', default: 'trade', allowed: PRICE_SOURCES, description: 'samples: each trade price, or each closed kline close' },
    period: { type: 'integer', default: 20, min: 2, max: 100_000, description: 'moving-average (and std) window, samples' },
    stdMultiplier: { type: 'number', default: 2.0, min: 1e-9, max: 100, description: 'bands at the mean +/- this times the population std' },
    cooldownMs: { type: 'integer', default: 1000, min: 0, max: 86_400_000, description: 'minimum event-time gap between orders' },
  },
  create: (p, sym) => new BollingerReversion(sym, p),
});

import { MarketMaker, type MarketMakerParams } from './MarketMaker.js';
registerStrategy<MarketMakerParams>({
  name: 'market-maker',
  description: 'Multi-level post-only market maker (Python event-bus system): quotes around the mid with inventory skew and OBI widening, diffs against resting quotes within an order-rate budget.',
  params: {
    symbol: { type: 'symbol', default: 'BTCUSDT', description: 'the symbol traded (one of the configured symbols)' },
    spreadBps: { type: 'number', default: 5, min: 0.01, max: 1000, description: 'level-0 spread (bid to ask) before the imbalance widening, bps' },
    levels: { type: 'integer', default: 3, min: 1, max: 10, description: 'quote levels per side' },
    levelSpacingBps: { type: 'number', default: 3, min: 0, max: 1000, description: 'extra distance per level, bps' },
    refreshMs: { type: 'integer', default: 500, min: 10, max: 3_600_000, description: 're-quote timer, event time' },
    skewFactor: { type: 'number', default: 0.3, min: 0, max: 100, description: 'inventory skew at full inventory (unit: skewUnit)' },
    skewUnit: { type: 'enum', default: 'half-spread', allowed: ['half-spread', 'legacy'], description: 'half-spread: skew = factor*half*inv; legacy: factor*inv/1e4 (the original)' },
    maxInventory: { type: 'number', default: 300, min: 1e-9, max: 1e12, description: 'inventory bound, quote units: no quote that would take |inventory| past it' },
    orderSize: { type: 'number', default: 100, min: 1e-9, max: 1e12, description: 'level-0 order size, quote units (base qty rounded to the step)' },
    sizeStep: { type: 'number', default: 0.2, min: 0, max: 100, description: 'level k size = orderSize*(1 + sizeStep*k)' },
    obiLevels: { type: 'integer', default: 5, min: 1, max: 100, description: 'book levels per side in the imbalance' },
    volAdjFactor: { type: 'number', default: 0.5, min: 0, max: 100, description: 'spread widening: half*(1 + volAdjFactor*|OBI|)' },
    requoteBps: { type: 'number', default: 5, min: 0, max: 10_000, description: 'refresh early when the mid moves more than this since the last refresh, bps' },
    maxOrdersPerSec: { type: 'integer', default: 5, min: 1, max: 1000, description: 'places + cancels + amends per 1000 ms of event time' },
    amendQuotes: { type: 'boolean', default: true, description: 're-price a resting quote with one amend (re-queued by the venue) instead of cancel + place' },
  },
  create: (p, sym) => new MarketMaker(sym, p),
});

import { GateScalper, GATE_SCALPER_MODES, type GateScalperParams } from './GateScalper.js';
registerStrategy<GateScalperParams>({
  name: 'gate-scalper',
  description: 'Gate.io tick scalper: composite signal (weighted momentum, surge, imbalances, gates, votes, funding blackout), OBI or MA mode; IOC entries at a premium, risk sizing, TP/SL/trailing/partial exits.',
  params: {
    symbol: { type: 'symbol', default: 'BTCUSDT', description: 'the symbol traded (one of the configured symbols)' },
    mode: { type: 'enum', default: 'composite', allowed: GATE_SCALPER_MODES, description: 'composite: the full signal; obi: book imbalance + volume ratio; ma: SMA fast/slow' },
    equity: { type: 'number', default: 1000, min: 1e-6, max: 1e12, description: 'account equity (quote) for the risk sizing (no account view in the API yet)' },
    entryPremium: { type: 'number', default: 0.0001, min: 0, max: 0.05, description: 'IOC limit at the touch plus this fraction' },
    cooldownMs: { type: 'integer', default: 4000, min: 0, max: 86_400_000, description: 'minimum event-time gap between entries (all modes)' },
    momentumWindow: { type: 'integer', default: 10, min: 4, max: 10_000, description: 'composite: n tick returns in m, the surge and the imbalance' },
    momentumThreshold: { type: 'number', default: 0.0008, min: 0, max: 1, description: 'composite: |m| gate' },
    volumeThreshold: { type: 'number', default: 2.5, min: 0, max: 1e6, description: 'composite: surge gate' },
    imbalanceThreshold: { type: 'number', default: 0.6, min: 0, max: 1, description: 'composite: |trade imbalance| gate (and |ob| for trending)' },
    entryThreshold: { type: 'number', default: 0.2, min: 0, max: 1, description: 'composite: score threshold T (x1.5 when ranging; short at -0.9T)' },
    volatilityThreshold: { type: 'number', default: 0.0003, min: 0, max: 1, description: 'composite: mean |r| for trending (last jump: twice this)' },
    minConfidence: { type: 'number', default: 0.5, min: 0, max: 1, description: 'composite: minimum confidence' },
    minLiquidity: { type: 'number', default: 500, min: 0, max: 1e12, description: 'composite: top-3 depth (base) below this counts as trending' },
    idleVolatility: { type: 'number', default: 0.00003, min: 0, max: 1, description: 'composite: idle (no entry) when mean |r| is below this' },
    trendScale: { type: 'number', default: 0.002, min: 1e-9, max: 1, description: 'composite: a series return of this much is a full (+/-1) trend bias' },
    trendSmoothing: { type: 'number', default: 0.3, min: 0, max: 1, description: 'composite: EMA factor of the trend bias, per bar close' },
    fundingBlackoutMs: { type: 'integer', default: 600_000, min: 0, max: 86_400_000, description: 'composite: no entries within this of a funding time (markPrice)' },
    obiLevels: { type: 'integer', default: 5, min: 1, max: 100, description: 'obi: book levels per side' },
    obiThreshold: { type: 'number', default: 0.0005, min: 0, max: 1, description: 'obi: long at OBI >= this, short at <= -this' },
    volumeRatio: { type: 'number', default: 0.95, min: 0, max: 1e6, description: 'obi: needs sum vol(5) / mean vol(20) >= this' },
    fastPeriod: { type: 'integer', default: 8, min: 1, max: 10_000, description: 'ma: fast SMA (trades)' },
    slowPeriod: { type: 'integer', default: 21, min: 2, max: 10_000, description: 'ma: slow SMA (trades)' },
    maThreshold: { type: 'number', default: 0.00008, min: 0, max: 1, description: 'ma: |(fast - slow)/slow| entry threshold' },
    maCross: { type: 'boolean', default: false, description: 'ma: enter only on the tick the diff crosses the threshold' },
  },
  create: (p, sym) => new GateScalper(sym, p),
});
