import { formatScaled, formatScaledBig } from '../../core/decimal.js';

/**
 * JSON writing for the Gate dialect. Gate mixes JSON numbers that a JS double cannot hold (order ids
 * above 2^53) or should not round (prices pushed as numbers on `futures.orders`) with strings, in key
 * orders the fixtures show; so the dialect builds plain objects whose exact numbers are `Raw` tokens,
 * and `toJson` writes them verbatim.
 */

/** A JSON number written exactly as given (decimal digits, no exponent). */
export class Raw {
  constructor(readonly text: string) {}
}

export type Json = string | number | boolean | null | Raw | Json[] | { [key: string]: Json };

export function toJson(v: Json): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i > 0 ? ',' : '') + toJson(v[i]!);
    return s + ']';
  }
  let s = '{';
  let first = true;
  for (const k of Object.keys(v)) {
    s += (first ? '' : ',') + JSON.stringify(k) + ':' + toJson(v[k]!);
    first = false;
  }
  return s + '}';
}

/** A decimal string without trailing fractional zeros ("750.500" -> "750.5", "1.000" -> "1"). */
export function trim(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  const out = s.slice(0, end);
  return out === '-0' ? '0' : out;
}

/** Money (10^-8 units) as a trimmed decimal string. */
export function money(v: bigint): string {
  return trim(formatScaledBig(v, 8));
}

/** 10^-8 units (a number) as a trimmed decimal string. */
export function dec8(v: number): string {
  return trim(formatScaled(Math.round(v), 8));
}

/** A decimal string as an exact JSON number. */
export function num(decimal: string): Raw {
  return new Raw(decimal);
}

/** ms since the epoch as Gate's float seconds (1733801848.473), exact. */
export function secs(ms: number): Raw {
  return new Raw(trim(formatScaled(ms, 3)));
}

/** Whole seconds. */
export function sec(ms: number): number {
  return Math.floor(ms / 1000);
}
