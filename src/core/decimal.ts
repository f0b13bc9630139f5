/**
 * Exact decimal strings <-> scaled integers, for the engine and the simulator. Every price and quantity is an integer
 * (ticks, steps, or units of 10^-scale) and only makes decimal strings at the edge, so no float artefact
 * (0.30000000000000004) can ever reach the wire.
 */

/** Digits after the decimal point, trailing zeros included ("0.10" -> 2, "1" -> 0). */
export function decimalsOf(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

export type ParseScaledError = 'malformed' | 'precision';

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Parses a plain decimal string ("12.340", "-1", "0.001") into an integer number of 10^-scale units.
 * Trailing fractional zeros do not count as precision. Returns 'precision' when more significant
 * decimals than `scale` are given, 'malformed' for anything else that is not a plain decimal (exponents,
 * blanks, "+1", ".5") or whose value is beyond 2^53 units.
 */
export function parseScaled(s: string, scale: number): number | ParseScaledError {
  const m = DECIMAL_RE.exec(s);
  if (m === null) return 'malformed';
  const neg = m[1] === '-';
  const intPart = m[2]!;
  let frac = m[3] ?? '';
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  if (frac.length > scale) return 'precision';
  const digits = intPart + frac.padEnd(scale, '0');
  const v = Number(digits);
  if (!Number.isSafeInteger(v)) return 'malformed';
  return neg ? -v : v;
}

/** Formats an integer number of 10^-scale units with exactly `scale` decimals. */
export function formatScaled(units: number, scale: number): string {
  if (scale === 0) return String(units);
  const neg = units < 0;
  const s = String(neg ? -units : units).padStart(scale + 1, '0');
  const out = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale);
  return neg ? '-' + out : out;
}

/** BigInt version of formatScaled (sums of price x quantity products). */
export function formatScaledBig(units: bigint, scale: number): string {
  const neg = units < 0n;
  const s = (neg ? -units : units).toString();
  if (scale === 0) return neg ? '-' + s : s;
  const p = s.padStart(scale + 1, '0');
  const out = p.slice(0, p.length - scale) + '.' + p.slice(p.length - scale);
  return neg ? '-' + out : out;
}

/**
 * numer / denom (numer in 10^-numerScale units) as a decimal string with at least `minDecimals` and at
 * most `maxDecimals` decimals: exact when the quotient terminates within maxDecimals, else rounded half-up.
 */
export function formatRatio(
  numer: bigint,
  denom: bigint,
  numerScale: number,
  minDecimals: number,
  maxDecimals: number,
): string {
  if (denom === 0n) return formatScaledBig(0n, minDecimals);
  const neg = numer < 0n !== denom < 0n && numer !== 0n;
  const n = numer < 0n ? -numer : numer;
  const d = denom < 0n ? -denom : denom;
  // value = n / d / 10^numerScale; scaled to maxDecimals: n * 10^(max - numerScale) / d
  const shift = maxDecimals - numerScale;
  let q: bigint;
  let r: bigint;
  let dd = d;
  if (shift >= 0) {
    const nn = n * 10n ** BigInt(shift);
    q = nn / dd;
    r = nn % dd;
  } else {
    dd = d * 10n ** BigInt(-shift);
    q = n / dd;
    r = n % dd;
  }
  if (r * 2n >= dd) q += 1n;
  let s = formatScaledBig(q, maxDecimals);
  // strip trailing zeros down to minDecimals
  if (maxDecimals > minDecimals) {
    let end = s.length;
    const minEnd = s.length - (maxDecimals - minDecimals);
    while (end > minEnd && s.charCodeAt(end - 1) === 48) end--;
    if (minDecimals === 0 && s.charCodeAt(end - 1) === 46) end--;
    s = s.slice(0, end);
  }
  return neg ? '-' + s : s;
}
