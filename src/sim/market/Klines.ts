import type { Instrument } from '../instruments.js';
import type { TradeEvent } from './types.js';

/** Kline intervals the venue serves, with their length (ms; 1M is calendar-based). */
export const KLINE_INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'] as const;
export type KlineInterval = (typeof KLINE_INTERVALS)[number];

const MIN = 60_000;
const LENGTH: Record<Exclude<KlineInterval, '1M'>, number> = {
  '1m': MIN,
  '3m': 3 * MIN,
  '5m': 5 * MIN,
  '15m': 15 * MIN,
  '30m': 30 * MIN,
  '1h': 60 * MIN,
  '2h': 120 * MIN,
  '4h': 240 * MIN,
  '6h': 360 * MIN,
  '8h': 480 * MIN,
  '12h': 720 * MIN,
  '1d': 1440 * MIN,
  '3d': 3 * 1440 * MIN,
  '1w': 7 * 1440 * MIN,
};
/** Weeks open on Monday 00:00 UTC (the epoch was a Thursday). */
const WEEK_OFFSET = 4 * 1440 * MIN;

/** [open, close] times of the kline of `interval` holding `t`. */
export function klineBounds(interval: KlineInterval, t: number): [number, number] {
  if (interval === '1M') {
    const d = new Date(t);
    const open = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    return [open, next - 1];
  }
  const len = LENGTH[interval];
  const off = interval === '1w' ? WEEK_OFFSET : 0;
  const open = Math.floor((t - off) / len) * len + off;
  return [open, open + len - 1];
}

/** One candle being built (prices in ticks, volumes in steps, quote volumes in price x qty units). */
export interface Kline {
  readonly inst: Instrument;
  readonly interval: KlineInterval;
  openTime: number;
  closeTime: number;
  /** First / last trade id (-1 when no trade yet). */
  first: number;
  last: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
  quoteVolume: bigint;
  takerBuyVolume: number;
  takerBuyQuote: bigint;
  closed: boolean;
  /** A candle that finished and was not reported yet. */
  pending: Kline | null;
}

/**
 * Candles of the (symbol, interval) pairs someone listens to, fed by every trade the market prints. A
 * candle starts when first tracked (so the first one only holds what was seen since) and rolls over at
 * its close time: `roll` returns the finished candle (closed = true) once, then a fresh one opens at the
 * previous close.
 */
export class KlineBook {
  private readonly tracked = new Map<string, Kline>();
  private readonly bySym = new Map<number, Kline[]>();

  track(inst: Instrument, interval: KlineInterval, seedTicks: number, now: number): Kline {
    const key = `${inst.idx}:${interval}`;
    const have = this.tracked.get(key);
    if (have) return have;
    const k = fresh(inst, interval, seedTicks, now);
    this.tracked.set(key, k);
    let list = this.bySym.get(inst.idx);
    if (!list) this.bySym.set(inst.idx, (list = []));
    list.push(k);
    return k;
  }

  untrack(sym: number, interval: KlineInterval): void {
    const key = `${sym}:${interval}`;
    const k = this.tracked.get(key);
    if (!k) return;
    this.tracked.delete(key);
    const list = this.bySym.get(sym)!;
    list.splice(list.indexOf(k), 1);
  }

  get(sym: number, interval: KlineInterval): Kline | undefined {
    return this.tracked.get(`${sym}:${interval}`);
  }

  hasAny(sym: number): boolean {
    const l = this.bySym.get(sym);
    return l !== undefined && l.length > 0;
  }

  onTrade(ev: TradeEvent): void {
    const list = this.bySym.get(ev.sym);
    if (!list) return;
    for (const k of list) {
      if (ev.time > k.closeTime) this.rollOne(k, ev.time);
      const q = k.inst.quote(ev.price, ev.qty);
      if (k.first < 0) {
        k.first = ev.firstTradeId;
        k.open = k.high = k.low = ev.price;
      }
      k.last = ev.lastTradeId;
      if (ev.price > k.high) k.high = ev.price;
      if (ev.price < k.low) k.low = ev.price;
      k.close = ev.price;
      k.volume += ev.qty;
      k.trades += ev.lastTradeId - ev.firstTradeId + 1;
      k.quoteVolume += q;
      if (!ev.buyerMaker) {
        k.takerBuyVolume += ev.qty;
        k.takerBuyQuote += q;
      }
    }
  }

  /** The tracked candle of (sym, interval) as of `now`; `finished` gets a candle that closed since the last call. */
  roll(sym: number, interval: KlineInterval, now: number): { current: Kline; finished: Kline | null } | null {
    const k = this.tracked.get(`${sym}:${interval}`);
    if (!k) return null;
    if (now > k.closeTime) this.rollOne(k, now);
    const finished = k.pending;
    k.pending = null;
    return { current: k, finished };
  }

  /** Closes `k` in place (keeping a copy of the finished candle in `pending`) and opens the period holding `now`. */
  private rollOne(k: Kline, now: number): void {
    const done: Kline = { ...k, closed: true, pending: null };
    k.pending = done;
    const [open, close] = klineBounds(k.interval, now);
    k.openTime = open;
    k.closeTime = close;
    k.first = -1;
    k.last = -1;
    k.open = k.high = k.low = done.close;
    k.volume = 0;
    k.trades = 0;
    k.quoteVolume = 0n;
    k.takerBuyVolume = 0;
    k.takerBuyQuote = 0n;
  }
}

function fresh(inst: Instrument, interval: KlineInterval, seed: number, now: number): Kline {
  const [open, close] = klineBounds(interval, now);
  return {
    inst,
    interval,
    openTime: open,
    closeTime: close,
    first: -1,
    last: -1,
    open: seed,
    high: seed,
    low: seed,
    close: seed,
    volume: 0,
    trades: 0,
    quoteVolume: 0n,
    takerBuyVolume: 0,
    takerBuyQuote: 0n,
    closed: false,
    pending: null,
  };
}
