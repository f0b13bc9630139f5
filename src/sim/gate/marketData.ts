import type { MarkPrices } from '../market/MarkPrice.js';
import type { BookTickerEvent, BookTop, TradeEvent } from '../market/types.js';
import type { SyntheticMarket } from '../market/SyntheticMarket.js';
import type { GateContract } from './contracts.js';
import { dec8, sec, secs, trim, type Json } from './json.js';
import { formatRatio, formatScaledBig } from '../../core/decimal.js';

/**
 * Gate public market data built from the synthetic market: trade history, session statistics (the
 * 24 h figures of tickers cover the venue's session), candles of every Gate interval, and the payloads
 * of `futures.book_ticker`, `futures.trades`, `futures.tickers`, `futures.candlesticks` and the REST
 * market endpoints, in the key orders of the fixtures.
 */

/** Gate candle intervals and their length in seconds (7d opens on the epoch-aligned week, a Thursday). */
export const CANDLE_INTERVALS: Readonly<Record<string, number>> = {
  '10s': 10,
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '30m': 1800,
  '1h': 3600,
  '4h': 14_400,
  '8h': 28_800,
  '1d': 86_400,
  '7d': 604_800,
};
const INTERVAL_NAMES = Object.keys(CANDLE_INTERVALS);
/** Closed candles kept per contract and interval (REST candlesticks answers at most this many). */
const CANDLE_HISTORY = 2000;
const TRADE_HISTORY = 1000;

export interface Candle {
  /** Open time (s). */
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  /** Contracts traded. */
  v: number;
  /** Quote volume in price x qty units of the instrument. */
  quote: bigint;
}

interface Series {
  readonly len: number;
  cur: Candle;
  readonly done: Candle[];
  /** The current candle changed (or opened) since the last push. */
  dirty: boolean;
}

interface ContractStats {
  /** Last trade price (ticks), -1 before the first trade. */
  last: number;
  open: number;
  high: number;
  low: number;
  volume: number;
  quote: bigint;
  tradeId: number;
  trades: Array<{ id: number; time: number; size: number; price: number }>;
  series: Series[];
  /** Time of the last book change (ms). */
  bookTime: number;
}

export class GateMarketData {
  private readonly stats: ContractStats[];

  constructor(
    private readonly contracts: readonly GateContract[],
    private readonly market: SyntheticMarket,
    private readonly marks: MarkPrices,
    now: number,
  ) {
    this.stats = contracts.map((c) => {
      const mid = this.mid(c.idx);
      return {
        last: -1,
        open: mid,
        high: mid,
        low: mid,
        volume: 0,
        quote: 0n,
        tradeId: 0,
        trades: [],
        series: INTERVAL_NAMES.map((iv) => {
          const len = CANDLE_INTERVALS[iv]!;
          return { len, cur: fresh(openOf(sec(now), len), mid), done: [], dirty: true };
        }),
        bookTime: now,
      };
    });
  }

  private mid(sym: number): number {
    const t = this.market.top(sym);
    return t.bid >= 0 && t.ask >= 0 ? Math.round((t.bid + t.ask) / 2) : this.contracts[sym]!.inst.initialTicks;
  }

  /** Last trade price (ticks), the mid before the first trade. */
  last(sym: number): number {
    const s = this.stats[sym]!;
    return s.last >= 0 ? s.last : this.mid(sym);
  }

  touchBook(sym: number, now: number): void {
    this.stats[sym]!.bookTime = now;
  }

  bookTime(sym: number): number {
    return this.stats[sym]!.bookTime;
  }

  onTrade(ev: TradeEvent): void {
    const s = this.stats[ev.sym]!;
    const size = ev.buyerMaker ? -ev.qty : ev.qty;
    s.last = ev.price;
    if (ev.price > s.high) s.high = ev.price;
    if (ev.price < s.low) s.low = ev.price;
    s.volume += ev.qty;
    const q = this.contracts[ev.sym]!.inst.quote(ev.price, ev.qty);
    s.quote += q;
    s.tradeId = ev.id;
    s.trades.push({ id: ev.id, time: ev.time, size, price: ev.price });
    if (s.trades.length > TRADE_HISTORY) s.trades.splice(0, s.trades.length - TRADE_HISTORY);
    const t = sec(ev.time);
    for (const ser of s.series) {
      roll(ser, t);
      const k = ser.cur;
      if (ev.price > k.h) k.h = ev.price;
      if (ev.price < k.l) k.l = ev.price;
      k.c = ev.price;
      k.v += ev.qty;
      k.quote += q;
      ser.dirty = true;
    }
  }

  /** Rolls every series of a contract to `now` (candles with no trade carry the previous close). */
  rollAll(sym: number, now: number): void {
    const t = sec(now);
    for (const ser of this.stats[sym]!.series) roll(ser, t);
  }

  // ---- payloads -------------------------------------------------------------------------------------

  bookTicker(c: GateContract, top: BookTop | BookTickerEvent, now: number): Json {
    const empty = top.bid < 0 && top.ask < 0;
    return {
      t: empty ? 0 : now,
      u: top.u,
      s: c.name,
      b: top.bid >= 0 ? c.px(top.bid) : '',
      B: top.bid >= 0 ? top.bidQty : 0,
      a: top.ask >= 0 ? c.px(top.ask) : '',
      A: top.ask >= 0 ? top.askQty : 0,
    };
  }

  /** One trade as `futures.trades` pushes it (trades.jsonl line 3 key order). */
  tradeJson(c: GateContract, ev: TradeEvent): Json {
    return {
      size: ev.buyerMaker ? -ev.qty : ev.qty,
      id: ev.id,
      create_time: sec(ev.time),
      create_time_ms: ev.time,
      price: c.px(ev.price),
      contract: c.name,
    };
  }

  /** `GET /trades`: newest first, float create_time. */
  restTrades(c: GateContract, limit: number): Json[] {
    const list = this.stats[c.idx]!.trades;
    const out: Json[] = [];
    for (let i = list.length - 1; i >= 0 && out.length < limit; i--) {
      const tr = list[i]!;
      out.push({ id: tr.id, create_time: secs(tr.time), create_time_ms: tr.time, contract: c.name, size: tr.size, price: c.px(tr.price) });
    }
    return out;
  }

  private figures(c: GateContract): Record<string, string> {
    const s = this.stats[c.idx]!;
    const inst = c.inst;
    const last = this.last(c.idx);
    const change = s.open > 0 ? formatRatio(BigInt(last - s.open) * 100n, BigInt(s.open), 0, 0, 4) : '0';
    const base = trim(inst.qtyStr(s.volume));
    const quote = trim(formatScaledBig(s.quote, inst.priceDecimals + inst.qtyDecimals));
    return {
      last: c.px(last),
      change_percentage: change === '-0' ? '0' : change,
      total_size: String(this.openInterest(c.idx)),
      volume_24h: String(s.volume),
      volume_24h_base: base,
      volume_24h_quote: quote,
      volume_24h_settle: quote,
      mark_price: dec8(this.marks.mark8(c.idx)),
      funding_rate: dec8(this.marks.fundingRate8(c.idx)),
      index_price: dec8(this.marks.index8(c.idx)),
      low_24h: c.px(Math.min(s.low, last)),
      high_24h: c.px(Math.max(s.high, last)),
    };
  }

  /** Open interest shown by tickers: a synthetic figure that follows session volume. */
  private openInterest(sym: number): number {
    const s = this.stats[sym]!;
    return this.contracts[sym]!.spec.typicalLevelContracts * 50 + Math.floor(s.volume / 3);
  }

  /** `futures.tickers` item (tickers.jsonl line 1 key order). */
  wsTicker(c: GateContract): Json {
    const f = this.figures(c);
    return {
      contract: c.name,
      last: f['last']!,
      change_percentage: f['change_percentage']!,
      total_size: f['total_size']!,
      volume_24h: f['volume_24h']!,
      volume_24h_base: f['volume_24h_base']!,
      volume_24h_quote: f['volume_24h_quote']!,
      volume_24h_settle: f['volume_24h_settle']!,
      mark_price: f['mark_price']!,
      funding_rate: f['funding_rate']!,
      funding_rate_indicative: f['funding_rate']!,
      index_price: f['index_price']!,
      quanto_base_rate: '',
      low_24h: f['low_24h']!,
      high_24h: f['high_24h']!,
    };
  }

  /** `GET /tickers` item (the REST field set: adds best bid/ask and their sizes). */
  restTicker(c: GateContract): Json {
    const f = this.figures(c);
    const t = this.market.top(c.idx);
    return {
      contract: c.name,
      last: f['last']!,
      change_percentage: f['change_percentage']!,
      total_size: f['total_size']!,
      low_24h: f['low_24h']!,
      high_24h: f['high_24h']!,
      volume_24h: f['volume_24h']!,
      volume_24h_btc: '0',
      volume_24h_usd: f['volume_24h_quote']!,
      volume_24h_base: f['volume_24h_base']!,
      volume_24h_quote: f['volume_24h_quote']!,
      volume_24h_settle: f['volume_24h_settle']!,
      mark_price: f['mark_price']!,
      funding_rate: f['funding_rate']!,
      funding_rate_indicative: f['funding_rate']!,
      index_price: f['index_price']!,
      quanto_base_rate: '',
      lowest_ask: t.ask >= 0 ? c.px(t.ask) : '',
      lowest_size: t.ask >= 0 ? String(t.askQty) : '0',
      highest_bid: t.bid >= 0 ? c.px(t.bid) : '',
      highest_size: t.bid >= 0 ? String(t.bidQty) : '0',
    };
  }

  /** The contract object (contract.json key order and types), with live prices and counters. */
  contractJson(c: GateContract, fees: { maker: string; taker: string }, now: number, maintRate: string, ordersLimit: number): Json {
    const s = this.stats[c.idx]!;
    const f = this.figures(c);
    const fundingNext = Math.floor(this.marks.nextFundingTime(now) / 1000);
    return {
      funding_rate_indicative: f['funding_rate']!,
      mark_price_round: c.spec.markPriceRound,
      funding_offset: 0,
      in_delisting: false,
      risk_limit_base: '1000000',
      interest_rate: '0.0003',
      index_price: f['index_price']!,
      order_price_round: c.spec.orderPriceRound,
      order_size_min: c.spec.orderSizeMin,
      ref_rebate_rate: '0.2',
      name: c.name,
      ref_discount_rate: '0',
      order_price_deviate: c.spec.orderPriceDeviate,
      maintenance_rate: maintRate,
      mark_type: 'index',
      funding_interval: 28_800,
      type: 'direct',
      risk_limit_step: '1000000',
      enable_bonus: true,
      leverage_min: '1',
      funding_rate: f['funding_rate']!,
      last_price: f['last']!,
      mark_price: f['mark_price']!,
      order_size_max: c.spec.orderSizeMax,
      funding_next_apply: fundingNext,
      short_users: 2000,
      enable_credit: true,
      config_change_time: 1_700_000_000,
      create_time: 0,
      trade_size: s.volume,
      position_size: this.openInterest(c.idx),
      long_users: 3000,
      quanto_multiplier: c.spec.quantoMultiplier,
      funding_impact_value: '60000',
      leverage_max: String(c.spec.leverageMax),
      risk_limit_max: '30000000',
      maker_fee_rate: fees.maker,
      taker_fee_rate: fees.taker,
      orders_limit: ordersLimit,
      trade_id: s.tradeId,
      orderbook_id: this.market.updateId(c.idx),
    };
  }

  // ---- candles --------------------------------------------------------------------------------------

  static isInterval(iv: string): boolean {
    return iv in CANDLE_INTERVALS;
  }

  private series(sym: number, iv: string): Series {
    return this.stats[sym]!.series[INTERVAL_NAMES.indexOf(iv)]!;
  }

  /** `futures.candlesticks` item: t, v, c, h, l, o, n, a (candlesticks.jsonl key order). */
  wsCandle(c: GateContract, iv: string, k: Candle): Json {
    return { t: k.t, v: k.v, c: c.px(k.c), h: c.px(k.h), l: c.px(k.l), o: c.px(k.o), n: `${iv}_${c.name}`, a: c.baseAmount(k.v) };
  }

  /**
   * The candles of (contract, interval) to push now: the current one when it changed since the last
   * call, preceded by the final state of candles that closed since (at most 2).
   */
  candlesToPush(sym: number, iv: string, now: number, lastPushedT: number): Candle[] {
    const ser = this.series(sym, iv);
    roll(ser, sec(now));
    const out: Candle[] = [];
    if (ser.cur.t !== lastPushedT) {
      for (const k of ser.done.slice(-2)) if (k.t >= lastPushedT && lastPushedT > 0) out.push(k);
    }
    if (ser.dirty || ser.cur.t !== lastPushedT) out.push(ser.cur);
    ser.dirty = false;
    return out;
  }

  /** `GET /candlesticks`: up to `limit` candles (oldest first), optionally within [from, to] (s). */
  restCandles(c: GateContract, iv: string, limit: number, from: number | null, to: number | null, now: number): Json[] {
    const ser = this.series(c.idx, iv);
    roll(ser, sec(now));
    let all = [...ser.done, ser.cur];
    if (from !== null) all = all.filter((k) => k.t >= from);
    if (to !== null) all = all.filter((k) => k.t <= to);
    if (all.length > limit) all = from !== null ? all.slice(0, limit) : all.slice(-limit);
    return all.map((k) => ({
      t: k.t,
      v: k.v,
      c: c.px(k.c),
      h: c.px(k.h),
      l: c.px(k.l),
      o: c.px(k.o),
      sum: trim(formatScaledBig(k.quote, c.inst.priceDecimals + c.inst.qtyDecimals)),
    }));
  }
}

function openOf(t: number, len: number): number {
  return Math.floor(t / len) * len;
}

function fresh(t: number, price: number): Candle {
  return { t, o: price, h: price, l: price, c: price, v: 0, quote: 0n };
}

/** Closes the current candle when `t` (s) is past it; empty periods in between carry the close. */
function roll(ser: Series, t: number): void {
  const open = openOf(t, ser.len);
  if (open <= ser.cur.t) return;
  const close = ser.cur.c;
  ser.done.push(ser.cur);
  let next = ser.cur.t + ser.len;
  // Fill at most the kept history with empty candles.
  if ((open - next) / ser.len > CANDLE_HISTORY) next = open - CANDLE_HISTORY * ser.len;
  for (; next < open; next += ser.len) ser.done.push(fresh(next, close));
  if (ser.done.length > CANDLE_HISTORY) ser.done.splice(0, ser.done.length - CANDLE_HISTORY);
  ser.cur = fresh(open, close);
  ser.dirty = true;
}
