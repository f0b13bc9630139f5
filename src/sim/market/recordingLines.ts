import { decimalsOf, parseScaled } from '../../core/decimal.js';
import type { RecordingLine } from '../../venues/binance/recording.js';

/**
 * Helpers the replay sources of both simulator dialects (Binance `ReplaySource`, Gate `GateReplaySource`) use to
 * read a recording in the shared recordings format (fixtures/MANIFEST.md): the JSON of a line, the levels of a
 * recorded book, and the tick and step an instrument gets from the decimals the recording printed. How a level
 * or a price is spelled (arrays of strings on Binance, `{p, s}` with integer sizes on Gate) stays with the venue.
 */

export type Rec = Record<string, unknown>;

export function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A plain non-negative decimal as the venues print prices and quantities. */
export const DECIMAL_RE = /^\d+(\.\d+)?$/;

/** The prices a recording printed for one symbol (for its tick) and the first positive one (its initial price). */
export interface PricesSeen {
  prices: Set<string>;
  firstPrice: string;
}

export function notePrice(s: PricesSeen, p: unknown): void {
  if (typeof p !== 'string' || !DECIMAL_RE.test(p)) return;
  if (s.firstPrice === '' && Number(p) > 0) s.firstPrice = p;
  s.prices.add(p);
}

/** Below this many distinct prices their gcd says little about the tick: one unit of the finest decimal instead. */
export const MIN_PRICES_FOR_GCD = 20;

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** `msg` of a recording line as text and parsed JSON; null when it is empty, a JSON string, or not JSON. */
export function lineJson(bytes: Buffer, line: RecordingLine): { text: string; payload: unknown } | null {
  if (line.msgEnd <= line.msgStart || line.msgIsString) return null;
  const text = bytes.toString('utf8', line.msgStart, line.msgEnd);
  try {
    return { text, payload: JSON.parse(text) as unknown };
  } catch {
    return null;
  }
}

export interface DerivedTick {
  /** Decimals of the prices (the finest printed, 8 at most). */
  decimals: number;
  /** The tick in units of 10^-decimals: gcd of the prices, 1 when they are too few to tell. */
  tick: number;
  /** The highest price printed, in the same units (0 = none). */
  maxUnits: number;
}

/**
 * The tick a recording's prices show. `decimalsOnly`: prices whose decimals count but not their gcd (deep
 * levels of a snapshot can sit off the current tick).
 */
export function deriveTick(prices: ReadonlySet<string>, decimalsOnly: ReadonlySet<string> = new Set()): DerivedTick {
  let decimals = 0;
  for (const p of prices) decimals = Math.max(decimals, decimalsOf(p));
  for (const p of decimalsOnly) decimals = Math.max(decimals, decimalsOf(p));
  decimals = Math.min(decimals, 8);
  let tick = 0;
  let maxUnits = 0;
  for (const p of prices) {
    const u = parseScaled(p, decimals);
    if (typeof u !== 'number' || u <= 0) continue;
    tick = gcd(u, tick);
    if (u > maxUnits) maxUnits = u;
  }
  if (prices.size < MIN_PRICES_FOR_GCD || tick <= 0) tick = 1;
  return { decimals, tick, maxUnits };
}

/** The median of positive values (the typical level size of a derived instrument), 1 when there are none. */
export function medianOr1(values: Iterable<number>): number {
  const v = [...values].filter((x) => x > 0).sort((a, b) => a - b);
  return v.length > 0 ? v[v.length >> 1]! : 1;
}

/** Reads one recorded level as [tick, qty] (NaN where unreadable), or null when it is not a level. */
export type LevelReader = (lvl: unknown) => [number, number] | null;

/** Levels of a recorded snapshot side in recorded order (from the best), non-empty levels only. */
export function snapshotLevels(v: unknown, read: LevelReader): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (!Array.isArray(v)) return out;
  for (const lvl of v) {
    const l = read(lvl);
    if (l !== null && l[0] === l[0] && l[1] > 0) out.push(l);
  }
  return out;
}

/** Levels of a recorded update as flat [tick, qty, ...] ascending by price (qty 0 = level removed). */
export function updateLevels(v: unknown, read: LevelReader): number[] {
  const pairs: Array<[number, number]> = [];
  if (Array.isArray(v)) {
    for (const lvl of v) {
      const l = read(lvl);
      if (l !== null && l[0] === l[0] && l[1] === l[1]) pairs.push(l);
    }
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [t, q] of pairs) out.push(t, q);
  return out;
}

/**
 * The ws frames and REST snapshots a replay source kept from a recording: each list on its own (instruments
 * are derived from all of them before the timeline is built), and both again in the order of the file.
 */
export class KeptLines<W, R> {
  readonly ws: W[] = [];
  readonly rest: R[] = [];
  private readonly order: Array<0 | 1> = [];

  frame(w: W): void {
    this.ws.push(w);
    this.order.push(0);
  }

  snapshot(r: R): void {
    this.rest.push(r);
    this.order.push(1);
  }

  inFileOrder(on: { frame(w: W): void; snapshot(r: R): void }): void {
    let wi = 0;
    let ri = 0;
    for (const o of this.order) {
      if (o === 1) on.snapshot(this.rest[ri++]!);
      else on.frame(this.ws[wi++]!);
    }
  }
}
