import { formatScaled } from './decimal.js';

/**
 * Venue instrument rules as exact integers. Order prices and quantities travel as integer ticks and
 * steps; they become decimal text only when a request is written, so `0.30000000000000004` can never be
 * sent. A decimal step such as "0.0010" is held as units of 10^-scale: units=1, scale=3.
 */
export interface Instrument {
  symbol: string;
  /** price step: tickUnits * 10^-priceScale */
  tickUnits: number;
  priceScale: number;
  /** quantity step: stepUnits * 10^-qtyScale */
  stepUnits: number;
  qtyScale: number;
  /** smallest order quantity, in steps */
  minQtySteps: number;
  /** smallest notional (price * qty) in quote units; 0 = none */
  minNotional: number;
  tickSize: number;
  stepSize: number;
}

/** "0.0010" -> { units: 1, scale: 3 } (trailing zeros trimmed). Throws on anything but a plain decimal. */
export function parseStep(text: string): { units: number; scale: number } {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`not a plain decimal: ${JSON.stringify(text)}`);
  let [int, frac = ''] = text.split('.') as [string, string?];
  frac = (frac ?? '').replace(/0+$/, '');
  const units = Number(int + frac);
  if (!Number.isSafeInteger(units) || units <= 0) throw new Error(`step must be a positive decimal: ${JSON.stringify(text)}`);
  return { units, scale: frac.length };
}

export function makeInstrument(symbol: string, tickSize: string, stepSize: string, minQty: string, minNotional: string): Instrument {
  const t = parseStep(tickSize);
  const s = parseStep(stepSize);
  const minQ = Number(minQty);
  const step = Number(stepSize);
  return {
    symbol,
    tickUnits: t.units,
    priceScale: t.scale,
    stepUnits: s.units,
    qtyScale: s.scale,
    minQtySteps: Math.max(1, Math.round(minQ / step)),
    minNotional: Number(minNotional) || 0,
    tickSize: Number(tickSize),
    stepSize: step,
  };
}

/** Nearest whole number of steps for a float quantity (signal math -> exact order quantity). */
export function qtyToSteps(inst: Instrument, qty: number): number {
  return Math.round(qty / inst.stepSize);
}

export function priceToTicks(inst: Instrument, price: number): number {
  return Math.round(price / inst.tickSize);
}

/**
 * Writes `count * units * 10^-scale` as decimal text into `buf` at `pos` without allocating; returns the
 * new position. E.g. (count 15, units 1, scale 3) -> "0.015"; (count 7, units 5, scale 1) -> "3.5".
 */
export function writeScaled(buf: Uint8Array, pos: number, count: number, units: number, scale: number): number {
  let v = count * units; // exact while < 2^53
  if (v < 0) {
    buf[pos++] = 45; // '-'
    v = -v;
  }
  // digits of v, least significant first, into the tail of a scratch area
  let n = 0;
  do {
    SCRATCH[n++] = 48 + (v % 10);
    v = Math.floor(v / 10);
  } while (v > 0);
  while (n <= scale) SCRATCH[n++] = 48; // at least one integer digit
  for (let i = n - 1; i >= 0; i--) {
    buf[pos++] = SCRATCH[i]!;
    if (i === scale && scale > 0) buf[pos++] = 46; // '.'
  }
  return pos;
}
const SCRATCH = new Uint8Array(40);

/** `count` ticks or steps of `units * 10^-scale` as decimal text (logs, tests; allocates). */
export function formatSteps(count: number, units: number, scale: number): string {
  return formatScaled(count * units, scale);
}
