import type { Instrument } from '../core/Instrument.js';

/**
 * Order sizing for strategies: fixed quantity, a percent of equity, or risk-based (the Gate.io scalper's rule,
 * strategies.md). Every mode ends in `roundDownToStep`: a quantity is whole instrument steps, rounded down so
 * sizing never risks more than asked, and 0 when that is below the instrument's minimum quantity or notional
 * (the venue would refuse the order; the strategy should skip the entry).
 *
 * Numbers only and no allocation per call: `PositionSizer.size` keeps its intermediate results in fields.
 */

export type SizingMode = 'fixed' | 'percent-equity' | 'risk';

export interface SizingConfig {
  mode: SizingMode;
  /** fixed: base quantity per order */
  quantity: number;
  /** percent-equity: fraction of equity used as margin (0.1 = 10%) */
  equityFraction: number;
  /** percent-equity and risk: leverage (notional = margin · leverage) */
  leverage: number;
  /** risk: fraction of equity lost if the stop is hit (0.01 = 1%) */
  riskPerTrade: number;
  /** risk: the strategy's stop distance, fraction of price */
  stopRatio: number;
  /** risk: the stop is never tighter than this (0.0009) */
  minStop: number;
  /** risk: the stop is at least ATR/price · atrMultiple (1.1) */
  atrMultiple: number;
  /** risk: above this volatility the margin is × highVolFactor (0.0025, 0.75) */
  highVol: number;
  highVolFactor: number;
  /** risk: below this volatility the margin is × lowVolFactor (0.0005, 1.15) */
  lowVol: number;
  lowVolFactor: number;
  /** risk: margin at most this fraction of equity (0.25) */
  maxMarginFraction: number;
}

/** The Gate.io scalper's risk-based sizing (strategies.md): leverage 5, risk 1% per trade, SL 0.4%. */
export const GATE_SCALPER_SIZING: Readonly<SizingConfig> = {
  mode: 'risk',
  quantity: 0,
  equityFraction: 0,
  leverage: 5,
  riskPerTrade: 0.01,
  stopRatio: 0.004,
  minStop: 0.0009,
  atrMultiple: 1.1,
  highVol: 0.0025,
  highVolFactor: 0.75,
  lowVol: 0.0005,
  lowVolFactor: 1.15,
  maxMarginFraction: 0.25,
};

/**
 * `qty` as whole steps of the instrument, rounded down; 0 below the minimum quantity or minimum notional
 * at `price` (pass NaN to skip the notional check). The result is built from the integer step units, so it
 * is the clean decimal (0.3, not 0.30000000000000004).
 */
export function roundDownToStep(inst: Instrument, qty: number, price = NaN): number {
  if (!(qty > 0)) return 0;
  // the small epsilon keeps an exact multiple that float division puts just under (0.3 / 0.1 = 2.9999999999999996)
  const steps = Math.floor(qty / inst.stepSize + 1e-9);
  if (steps < inst.minQtySteps) return 0;
  const q = (steps * inst.stepUnits) / POW10[inst.qtyScale]!;
  if (inst.minNotional > 0 && price > 0 && q * price < inst.minNotional) return 0;
  return q;
}
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];

/** Fixed quantity, in whole steps. */
export function fixedQty(inst: Instrument, qty: number, price = NaN): number {
  return roundDownToStep(inst, qty, price);
}

/** Margin = equity · fraction; quantity = margin · leverage / price, in whole steps. */
export function percentOfEquityQty(inst: Instrument, equity: number, fraction: number, leverage: number, price: number): number {
  if (!(equity > 0) || !(price > 0)) return 0;
  return roundDownToStep(inst, (equity * fraction * leverage) / price, price);
}

/** stop = max(stopRatio, minStop, ATR/price · atrMultiple); an ATR not yet known (NaN) is left out. */
export function riskStop(cfg: Readonly<SizingConfig>, atr: number, price: number): number {
  let s = cfg.stopRatio > cfg.minStop ? cfg.stopRatio : cfg.minStop;
  if (atr > 0 && price > 0) {
    const a = (atr / price) * cfg.atrMultiple;
    if (a > s) s = a;
  }
  return s;
}

/**
 * Risk-based sizing. margin = equity · riskPerTrade / (leverage · stop), so that a move of `stop` against
 * the position at this leverage loses riskPerTrade of equity; × highVolFactor when volatility > highVol,
 * × lowVolFactor when < lowVol (NaN volatility: unchanged); at most maxMarginFraction · equity; quantity =
 * margin · leverage / price in whole steps. `stop`, `margin` and `qty` of the last call stay in the fields.
 */
export class PositionSizer {
  stop = NaN;
  margin = NaN;
  qty = 0;
  private cfg: SizingConfig;

  constructor(cfg: Readonly<SizingConfig>) {
    this.cfg = checkSizing(cfg);
  }

  get config(): Readonly<SizingConfig> {
    return this.cfg;
  }

  setConfig(cfg: Readonly<SizingConfig>): void {
    this.cfg = checkSizing(cfg);
  }

  /**
   * Quantity for one entry at `price` given `equity` (quote), the current `atr` (price units, NaN if not
   * ready) and `volatility` (per-tick or per-bar return std, NaN if not ready); 0 = do not enter.
   */
  size(inst: Instrument, equity: number, price: number, atr: number, volatility: number): number {
    const c = this.cfg;
    if (c.mode === 'fixed') {
      this.margin = NaN;
      this.stop = NaN;
      this.qty = fixedQty(inst, c.quantity, price);
      return this.qty;
    }
    if (!(equity > 0) || !(price > 0)) {
      this.qty = 0;
      return 0;
    }
    if (c.mode === 'percent-equity') {
      this.stop = NaN;
      this.margin = equity * c.equityFraction;
      this.qty = percentOfEquityQty(inst, equity, c.equityFraction, c.leverage, price);
      return this.qty;
    }
    const stop = riskStop(c, atr, price);
    let m = (equity * c.riskPerTrade) / (c.leverage * stop);
    if (volatility > c.highVol) m *= c.highVolFactor;
    else if (volatility < c.lowVol) m *= c.lowVolFactor;
    const cap = equity * c.maxMarginFraction;
    if (m > cap) m = cap;
    this.stop = stop;
    this.margin = m;
    this.qty = roundDownToStep(inst, (m * c.leverage) / price, price);
    return this.qty;
  }
}

function checkSizing(cfg: Readonly<SizingConfig>): SizingConfig {
  const need = (k: keyof SizingConfig, ok: boolean): void => {
    if (!ok) throw new RangeError(`sizing.${k} is out of range; got ${String(cfg[k])}`);
  };
  need('mode', cfg.mode === 'fixed' || cfg.mode === 'percent-equity' || cfg.mode === 'risk');
  if (cfg.mode === 'fixed') need('quantity', cfg.quantity > 0);
  else need('leverage', cfg.leverage >= 1 && cfg.leverage <= 200);
  if (cfg.mode === 'percent-equity') need('equityFraction', cfg.equityFraction > 0 && cfg.equityFraction <= 1);
  if (cfg.mode === 'risk') {
    need('riskPerTrade', cfg.riskPerTrade > 0 && cfg.riskPerTrade <= 1);
    need('stopRatio', cfg.stopRatio >= 0 && cfg.stopRatio < 1);
    need('minStop', cfg.minStop > 0 && cfg.minStop < 1);
    need('atrMultiple', cfg.atrMultiple >= 0);
    need('highVolFactor', cfg.highVolFactor > 0);
    need('lowVolFactor', cfg.lowVolFactor > 0);
    need('maxMarginFraction', cfg.maxMarginFraction > 0 && cfg.maxMarginFraction <= 1);
  }
  return { ...cfg };
}
