import { AT, BookState, MP, OrderType, RecordType, Side, TimeInForce } from '../ring/layout.js';
import { BookImbalance } from './features/book.js';
import { Ema } from './features/Ema.js';
import { Sma } from './features/Sma.js';
import { TradeImbalance } from './features/TradeImbalance.js';
import { VolumeSurge } from './features/VolumeSurge.js';
import { RollingVwap } from './features/Vwap.js';
import { LinearWeightedMean } from './features/WeightedMean.js';
import { ExitManager, ExitReason, GATE_SCALPER_EXITS } from './exits/ExitManager.js';
import { GATE_SCALPER_SIZING, PositionSizer } from './sizing.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import type { ExecReportView, MarketEvent } from './views.js';
import { FLAT_EPS, isFinalReport } from './orders.js';

export const GATE_SCALPER_MODES = ['composite', 'obi', 'ma'] as const;

export type GateScalperParams = {
  symbol: string;
  mode: string;
  /** account equity (quote) for the risk-based sizing: the strategy API has no account view yet */
  equity: number;
  entryPremium: number;
  cooldownMs: number;
  // composite
  momentumWindow: number;
  momentumThreshold: number;
  volumeThreshold: number;
  imbalanceThreshold: number;
  entryThreshold: number;
  volatilityThreshold: number;
  minConfidence: number;
  minLiquidity: number;
  idleVolatility: number;
  trendScale: number;
  trendSmoothing: number;
  fundingBlackoutMs: number;
  // obi
  obiLevels: number;
  obiThreshold: number;
  volumeRatio: number;
  // ma
  fastPeriod: number;
  slowPeriod: number;
  maThreshold: number;
  maCross: boolean;
};

/** Why the last composite evaluation did not enter (numbers: no allocation, easy to assert). */
export enum GateRefusal {
  None = 0,
  Score = 1,
  Gates = 2,
  AdaptiveMomentum = 3,
  Idle = 4,
  Monotone = 5,
  Votes = 6,
  TrendAgainst = 7,
  Confidence = 8,
  Funding = 9,
}

const MODE_COMPOSITE = 0;
const MODE_OBI = 1;
const MODE_MA = 2;

/** The trend-bias bar series (period ms, bars, weight), as listed for the original. */
const SERIES: ReadonlyArray<readonly [number, number, number]> = [
  [1000, 60, 1.0],
  [3000, 40, 1.2],
  [7000, 30, 1.4],
  [13000, 24, 1.6],
  [5000, 24, 1.8],
  [15000, 12, 2.0],
];

/**
 * Closes of fixed event-time bars, the last `count` of them. A bar closes when the first trade of a later
 * bucket arrives; buckets without trades repeat the last close (a quiet market is a flat one).
 */
class BarCloses {
  /** (newest − oldest)/oldest over the held closes, as of the last bar close (NaN until one closed) */
  ret = NaN;
  private readonly buf: Float64Array;
  private head = 0;
  private held = 0;
  private bucket = NaN;
  private close = NaN;

  /** `input` = [time ms, price] of the trade, written by the owner before `update()` */
  constructor(
    readonly periodMs: number,
    readonly count: number,
    private readonly input: Float64Array,
  ) {
    this.buf = new Float64Array(count);
  }

  get ready(): boolean {
    return this.held === this.count;
  }

  /**
   * The trade in `input`; returns true when at least one bar closed. No double crosses the call (an
   * argument is boxed when the loop's call is not inlined), and `ret` is a field for the same reason.
   */
  update(): boolean {
    const timeMs = this.input[0]!;
    const price = this.input[1]!;
    const b = Math.floor(timeMs / this.periodMs);
    const cur = this.bucket;
    if (cur !== cur) {
      this.bucket = b;
      this.close = price;
      return false;
    }
    if (b <= cur) {
      this.close = price;
      return false;
    }
    // the closed bar, then the empty buckets between (bounded: more than `count` would all be overwritten)
    let gaps = b - cur;
    if (gaps > this.count) gaps = this.count;
    // the closed bar (in `close`), then the empty buckets between, which repeat it
    for (let k = 0; k < gaps; k++) this.pushClose();
    this.bucket = b;
    this.close = price;
    // the buffer only changes here, so `ret` computed now is what a read at any later trade would give
    const n = this.count;
    const newest = this.buf[this.head === 0 ? n - 1 : this.head - 1]!;
    const oldest = this.buf[this.head]!;
    this.ret = (newest - oldest) / oldest;
    return true;
  }

  /** pushes `close` (a field, not an argument: see update) */
  private pushClose(): void {
    this.buf[this.head] = this.close;
    this.head = this.head + 1 === this.count ? 0 : this.head + 1;
    if (this.held < this.count) this.held++;
  }
}

/**
 * A fast-properties copy of the params: one object literal listing every key, so one fixed shape with
 * number-typed fields. The registry builds params with keyed stores (`out[k] = v`, 40-odd keys), and past a
 * dozen of those V8 turns an object into a dictionary: each `p.x` on the hot path was then a hash lookup
 * returning an untyped value, which TurboFan must check and unbox, and cannot prove to be a number when
 * deciding whether arithmetic on it may stay unboxed.
 */
function fastParams(p: GateScalperParams): GateScalperParams {
  return {
    symbol: p.symbol,
    mode: p.mode,
    equity: p.equity,
    entryPremium: p.entryPremium,
    cooldownMs: p.cooldownMs,
    momentumWindow: p.momentumWindow,
    momentumThreshold: p.momentumThreshold,
    volumeThreshold: p.volumeThreshold,
    imbalanceThreshold: p.imbalanceThreshold,
    entryThreshold: p.entryThreshold,
    volatilityThreshold: p.volatilityThreshold,
    minConfidence: p.minConfidence,
    minLiquidity: p.minLiquidity,
    idleVolatility: p.idleVolatility,
    trendScale: p.trendScale,
    trendSmoothing: p.trendSmoothing,
    fundingBlackoutMs: p.fundingBlackoutMs,
    obiLevels: p.obiLevels,
    obiThreshold: p.obiThreshold,
    volumeRatio: p.volumeRatio,
    fastPeriod: p.fastPeriod,
    slowPeriod: p.slowPeriod,
    maThreshold: p.maThreshold,
    maCross: p.maCross,
  };
}

function clip1(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

/**
 * The Gate.io tick scalper (strategies.md), three entry modes on trade ticks, one position at a time:
 *
 * - `composite`: over the last `momentumWindow` (n) tick returns r_i: weighted momentum m = Σ r_i·i / Σ i
 *   (newest weighted most), surge = Σ vol(last 3) / mean vol(the n − 3 trades before), trade imbalance over
 *   n trades. Components ob (top-3 book imbalance), mom = clip(200·Σ r_i, ±1), micro = clip((0.05 − spread)·20
 *   + min(liquidity/5000, 1), ±1) (spread in quote units, liquidity = base qty of the top 3 levels of both
 *   sides), tq = trade imbalance of the last 5 trades; the asymmetric weights; score = clip(base +
 *   0.5·clip(trendBias, ±1), ±1). Trending if mean|r| ≥ volatilityThreshold, |last r| ≥ 2·volatilityThreshold,
 *   |ob| > imbalanceThreshold, |m| > 2·momentumThreshold or liquidity < minLiquidity; else ranging (T ×1.5).
 *   Long if score ≥ T, short if ≤ −0.9·T, then the gates (see `compositeSide`).
 * - `obi`: OBI(obiLevels) ≥ obiThreshold long, ≤ −obiThreshold short, with Σ vol(5) / mean vol(20) ≥ volumeRatio.
 * - `ma`: SMA fast/slow of trade prices, (fast − slow)/slow ≥ maThreshold long, ≤ −maThreshold short;
 *   `maCross`: only on the tick where the diff crosses the threshold (the previous tick's did not).
 *
 * Entries: LIMIT IOC at the touch plus `entryPremium` (buy ask·(1 + p) rounded down to the tick, sell
 * bid·(1 − p) rounded up: never worse than the premium, never behind the touch), sized by PositionSizer with
 * GATE_SCALPER_SIZING on the `equity` param (ATR not fed: the stop is max(stopRatio, minStop); volatility =
 * mean |tick return| of the window). An IOC needs no timeout: an unfilled one just leaves the strategy flat,
 * so the original's market fallback is not implemented. `cooldownMs` between entries (all modes).
 * Exits: ExitManager with GATE_SCALPER_EXITS on trade prices, reduce-only MARKET orders.
 * Nothing is sent (entry or exit) unless the book is Live. Allocation-free per event.
 */
export class GateScalper implements Strategy {
  readonly name = 'gate-scalper';
  submitted = 0;
  refused = 0;
  // the last evaluation's inputs and outputs (observability, tests)
  m = NaN;
  sumR = NaN;
  meanAbsR = NaN;
  lastR = NaN;
  surge = NaN;
  imbalance = 0;
  ob = 0;
  mom = 0;
  micro = 0;
  tq = 0;
  liquidity = 0;
  score = NaN;
  threshold = NaN;
  trending = false;
  trendBias = 0;
  adaptiveThreshold = NaN;
  votesFor = 0;
  votesCast = 0;
  confidence = NaN;
  refusal: GateRefusal = GateRefusal.None;
  obi = 0;
  volRatio = NaN;
  maDiff = NaN;
  prevMaDiff = NaN;
  /** funding times from markPrice records: the next one, and the one before (NaN until seen) */
  nextFundingMs = NaN;
  prevFundingMs = NaN;

  readonly exits = new ExitManager(GATE_SCALPER_EXITS);
  readonly sizer = new PositionSizer(GATE_SCALPER_SIZING);

  private readonly mode: number;
  private readonly momentum: LinearWeightedMean;
  private readonly absReturns: LinearWeightedMean;
  private readonly volSurge: VolumeSurge;
  private readonly tradeImb: TradeImbalance;
  private readonly tq5: TradeImbalance;
  private readonly ob3 = new BookImbalance(3);
  private readonly obiN: BookImbalance;
  private readonly vol5of20 = new VolumeSurge(5, 20, { overlap: true });
  private readonly ema: Ema;
  private readonly vwap: RollingVwap;
  private readonly fast: Sma;
  private readonly slow: Sma;
  private readonly series: BarCloses[];
  private readonly weights: Float64Array;
  /** [time ms, price] of the current trade, the input of every BarCloses */
  private readonly barInput = new Float64Array(2);
  /** top levels copied out of the book (price, qty pairs): see compositeSide */
  private readonly bidLv: Float64Array;
  private readonly askLv: Float64Array;
  /**
   * The current trade, read once from the event's words. Everything below takes its inputs from these
   * fields: a double passed to, or returned from, a call V8 does not inline is boxed (allocated), and a
   * handler driving this many features spends its inlining budget, so which calls stay calls is not ours
   * to choose. NaN-initialised so the fields hold doubles from the start (no representation change).
   */
  private evTime = NaN;
  private evPrice = NaN;
  private evQty = NaN;
  private evSold = false;
  /** the last 4 trade prices, oldest first */
  private readonly last4 = new Float64Array(4);
  private ticks = 0;
  private lastPrice = NaN;
  private lastEntryMs = -Infinity;
  /** the params, as a fast-properties copy (see fastParams) */
  private readonly p: GateScalperParams;
  private readonly req = new OrderRequest();
  private inFlight = -1;
  private exitId = -1;

  constructor(
    private readonly symbolId: number,
    params: GateScalperParams,
  ) {
    const p = fastParams(params);
    this.p = p;
    this.mode = p.mode === 'obi' ? MODE_OBI : p.mode === 'ma' ? MODE_MA : MODE_COMPOSITE;
    const n = p.momentumWindow;
    if (n < 4) throw new RangeError('gate-scalper: momentumWindow must be at least 4 (surge = last 3 against the trades before)');
    this.momentum = new LinearWeightedMean(n);
    this.absReturns = new LinearWeightedMean(n);
    this.volSurge = new VolumeSurge(3, n - 3);
    this.tradeImb = new TradeImbalance({ ticks: n });
    this.tq5 = new TradeImbalance({ ticks: 5 });
    this.obiN = new BookImbalance(p.obiLevels);
    this.ema = new Ema(n);
    this.vwap = new RollingVwap({ ticks: n });
    this.fast = new Sma(p.fastPeriod);
    this.slow = new Sma(p.slowPeriod);
    this.series = SERIES.map(([ms, count]) => new BarCloses(ms, count, this.barInput));
    this.weights = Float64Array.from(SERIES, (s) => s[2]);
    const levels = Math.max(3, p.obiLevels);
    this.bidLv = new Float64Array(2 * levels);
    this.askLv = new Float64Array(2 * levels);
  }

  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.symbolId !== this.symbolId) return;
    const t = ev.type;
    if (t === RecordType.MarkPrice) {
      // read from the record's words, not the getter: a getter not inlined returns its double boxed
      const nf = ev.f64[ev.base + MP.NEXT_FUNDING_TIME]!;
      // a new next-funding time means the previous one has passed: keep it for the "after" half of the blackout
      if (nf > 0 && nf !== this.nextFundingMs) {
        if (this.nextFundingMs === this.nextFundingMs) this.prevFundingMs = this.nextFundingMs;
        this.nextFundingMs = nf;
      }
      return;
    }
    if (t !== RecordType.AggTrade && t !== RecordType.Trade) return;
    this.readTrade(ev);
    this.updateFeatures();
    const sym = this.symbolId;
    if (ctx.bookState(sym) !== BookState.Live) return;
    if (this.inFlight >= 0) return;
    const pos = ctx.position(sym);
    if (pos > FLAT_EPS || pos < -FLAT_EPS) {
      this.checkExit(ctx);
      return;
    }
    if (this.evTime - this.lastEntryMs < this.p.cooldownMs) return;
    const side = this.mode === MODE_COMPOSITE ? this.compositeSide(ctx) : this.mode === MODE_OBI ? this.obiSide(ctx) : this.maSide();
    if (side !== 0) this.enter(side, ctx);
  }

  /**
   * The trade's fields, straight from the record's words (what the MarketEvent getters read for AggTrade /
   * Trade). The getters are calls: `eventTime` is too big for TurboFan to inline once onMarket's budget is
   * spent, and then returned its double boxed on every trade.
   */
  private readTrade(ev: MarketEvent): void {
    const f = ev.f64;
    const b = ev.base;
    this.evTime = f[b + AT.EVENT_TIME]!;
    this.evPrice = f[b + AT.PRICE]!;
    this.evQty = f[b + AT.QTY]!;
    this.evSold = f[b + AT.BUYER_MAKER] === 1;
  }

  onTimer(_nowMs: number, _ctx: StrategyContext): void {
    // no timers: exits are evaluated on trades
  }

  onReport(r: ExecReportView, ctx: StrategyContext): void {
    this.exits.onReport(r, ctx.position(this.symbolId), ctx.eventTimeMs(), this.exitId);
    if (isFinalReport(r)) {
      if (r.intentId === this.inFlight) this.inFlight = -1;
      if (r.intentId === this.exitId) this.exitId = -1;
    }
  }

  /**
   * Every feature fed through its `next` fields and a no-argument `pushNext()`, not `update(x)` /
   * `onTrade(ev)`: this function inlines more than TurboFan's cumulative budget allows, and each feature
   * call left a call boxed its double argument (or, through onTrade, the getters' double results).
   */
  private updateFeatures(): void {
    const px = this.evPrice;
    const qty = this.evQty;
    const time = this.evTime;
    const sold = this.evSold;
    const prev = this.lastPrice;
    if (prev > 0) {
      const r = px / prev - 1;
      this.lastR = r;
      const mo = this.momentum;
      mo.next = r;
      mo.pushNext();
      const ar = this.absReturns;
      ar.next = r < 0 ? -r : r;
      ar.pushNext();
    }
    this.lastPrice = px;
    const vs = this.volSurge;
    vs.next = qty;
    vs.pushNext();
    const v5 = this.vol5of20;
    v5.next = qty;
    v5.pushNext();
    const ti = this.tradeImb;
    ti.nextTime = time;
    ti.nextQty = qty;
    ti.nextBuyerMaker = sold;
    ti.pushNext();
    const t5 = this.tq5;
    t5.nextTime = time;
    t5.nextQty = qty;
    t5.nextBuyerMaker = sold;
    t5.pushNext();
    const ema = this.ema;
    ema.next = px;
    ema.pushNext();
    const vw = this.vwap;
    vw.nextTime = time;
    vw.nextPrice = px;
    vw.nextQty = qty;
    vw.pushNext();
    const fast = this.fast;
    fast.next = px;
    fast.pushNext();
    const slow = this.slow;
    slow.next = px;
    slow.pushNext();
    const l4 = this.last4;
    l4[0] = l4[1]!;
    l4[1] = l4[2]!;
    l4[2] = l4[3]!;
    l4[3] = px;
    this.ticks++;
    if (this.mode === MODE_COMPOSITE) this.updateTrend();
    else if (this.mode === MODE_MA && this.slow.ready && this.fast.ready) {
      // every tick, not only when an entry is possible: the cross test compares consecutive ticks
      this.prevMaDiff = this.maDiff;
      this.maDiff = (this.fast.value - this.slow.value) / this.slow.value;
    }
  }

  /**
   * Trend bias: weighted mean, over the series that are full, of clip(((newest − oldest)/oldest) / trendScale,
   * ±1), smoothed by an EMA of factor trendSmoothing updated at each bar close (0 until a series is full).
   */
  private updateTrend(): void {
    // the trade goes to the series through barInput (no double arguments: see BarCloses.update)
    const input = this.barInput;
    input[0] = this.evTime;
    input[1] = this.evPrice;
    let closed = false;
    const s = this.series;
    for (let i = 0; i < s.length; i++) if (s[i]!.update()) closed = true;
    if (!closed) return;
    // a bar closes on few trades, so TurboFan leaves the calls in this branch un-inlined (below its call
    // frequency threshold), however small: clip1(x) here boxed its argument and its result. Written out.
    let num = 0;
    let den = 0;
    const scale = this.p.trendScale;
    for (let i = 0; i < s.length; i++) {
      const b = s[i]!;
      if (!b.ready) continue;
      const w = this.weights[i]!;
      let x = b.ret / scale;
      if (x > 1) x = 1;
      else if (x < -1) x = -1;
      num += w * x;
      den += w;
    }
    if (den > 0) this.trendBias += this.p.trendSmoothing * (num / den - this.trendBias);
  }

  /** The composite signal and its gates: the side to enter (Side.Buy / Side.Sell) or 0; `refusal` says why not. */
  private compositeSide(ctx: StrategyContext): number {
    const p = this.p;
    this.refusal = GateRefusal.None;
    if (!this.momentum.ready || !this.volSurge.ready || !this.tradeImb.ready || !this.tq5.ready) return 0;
    const book = ctx.book(this.symbolId);
    // the top 3 levels copied out in one walk (integers cross the calls), not read per level through
    // bidQty(i) / askPrice(0)...: in this big function those calls were not all inlined, and each returned
    // its double boxed. Same levels, same order of summation, same values.
    const bids = this.bidLv;
    const asks = this.askLv;
    const ob3 = this.ob3;
    ob3.updateFromLevels(bids, book.fillBids(bids, ob3.levels), asks, book.fillAsks(asks, ob3.levels));
    if (!ob3.ready) return 0;
    const n = this.momentum.window;
    const m = this.momentum.value;
    const sumR = this.momentum.sum;
    const meanAbs = this.absReturns.sum / n;
    const surge = this.volSurge.value;
    const imb = this.tradeImb.value;
    const ob = ob3.value;
    const liq = ob3.bidDepth + ob3.askDepth;
    // both sides hold a level (ob3.ready): [0] is the best price of each
    const spread = asks[0]! - bids[0]!;
    const mom = clip1(200 * sumR);
    const micro = clip1((0.05 - spread) * 20 + (liq / 5000 < 1 ? liq / 5000 : 1));
    const tq = this.tq5.value;
    // negative readings weigh more: the original leans toward caution on sell pressure
    const wOb = 0.25 * (ob < 0 ? 1.5 : 0.9);
    const wMom = 0.25 * (mom < 0 ? 1.4 : 0.95);
    const wMicro = 0.25 * (micro < 0 ? 1.3 : 1.0);
    const wTq = 0.15 * (tq < 0 ? 1.2 : 0.9);
    const base = (wOb * ob + wMom * mom + wMicro * micro + wTq * tq) / (wOb + wMom + wMicro + wTq);
    const bias = clip1(this.trendBias);
    const score = clip1(base + 0.5 * bias);
    const mt = p.momentumThreshold;
    const vt = p.volatilityThreshold;
    const lastAbs = this.lastR < 0 ? -this.lastR : this.lastR;
    const absM = m < 0 ? -m : m;
    const absOb = ob < 0 ? -ob : ob;
    const trending = meanAbs >= vt || lastAbs >= 2 * vt || absOb > p.imbalanceThreshold || absM > 2 * mt || liq < p.minLiquidity;
    // a factor chosen by the branch, not a branch between two doubles (see tEff below); x·1.5 = 1.5·x exactly
    const T = p.entryThreshold * (trending ? 1 : 1.5);
    this.m = m;
    this.sumR = sumR;
    this.meanAbsR = meanAbs;
    this.surge = surge;
    this.imbalance = imb;
    this.ob = ob;
    this.mom = mom;
    this.micro = micro;
    this.tq = tq;
    this.liquidity = liq;
    this.score = score;
    this.trending = trending;
    this.threshold = T;

    let dir: number;
    if (score >= T) dir = 1;
    else if (score <= -0.9 * T) dir = -1;
    else {
      this.refusal = GateRefusal.Score;
      return 0;
    }
    const absImb = imb < 0 ? -imb : imb;
    const gates = (absM >= mt ? 1 : 0) + (surge >= p.volumeThreshold ? 1 : 0) + (absImb >= p.imbalanceThreshold ? 1 : 0);
    if (gates < 2) {
      this.refusal = GateRefusal.Gates;
      return 0;
    }
    // adaptive momentum threshold: half the base, ×0.7 when ranging, up to 50% lower for a score beyond T
    let at = 0.5 * mt;
    if (!trending) at *= 0.7;
    const absScore = score < 0 ? -score : score;
    // not `dir > 0 ? T : 0.9 * T`: TurboFan kept that merge of two computed doubles tagged and boxed it, one
    // HeapNumber per evaluation past the gates (the only allocation left in steady state). A branch between
    // constants times T is plain float64 arithmetic, and the same value (T·1 = T, T·0.9 = 0.9·T exactly).
    const tEff = T * (dir > 0 ? 1 : 0.9);
    let excess = tEff < 1 ? (absScore - tEff) / (1 - tEff) : 0;
    if (excess > 1) excess = 1;
    if (excess > 0) at *= 1 - 0.5 * excess;
    if (at < 0.15 * mt) at = 0.15 * mt;
    this.adaptiveThreshold = at;
    if (!(dir * m >= at)) {
      this.refusal = GateRefusal.AdaptiveMomentum;
      return 0;
    }
    if (meanAbs < p.idleVolatility) {
      this.refusal = GateRefusal.Idle;
      return 0;
    }
    const l4 = this.last4;
    const mono =
      this.ticks >= 4 &&
      dir * (l4[1]! - l4[0]!) >= 0 &&
      dir * (l4[2]! - l4[1]!) >= 0 &&
      dir * (l4[3]! - l4[2]!) >= 0 &&
      dir * (l4[3]! - l4[0]!) > 0;
    if (!mono) {
      this.refusal = GateRefusal.Monotone;
      return 0;
    }
    // direction votes: a zero (or not yet ready) reading abstains
    const px = this.evPrice;
    let cast = 0;
    let agree = 0;
    // signs written out: TurboFan does not inline calls on a path this rarely taken, so sign(x) boxed x
    const v1 = m > 0 ? 1 : m < 0 ? -1 : 0;
    const v2 = imb > 0 ? 1 : imb < 0 ? -1 : 0;
    const v3 = ob > 0 ? 1 : ob < 0 ? -1 : 0;
    const dVwap = this.vwap.ready ? px - this.vwap.value : 0;
    const v4 = dVwap > 0 ? 1 : dVwap < 0 ? -1 : 0;
    const dEma = this.ema.ready ? px - this.ema.value : 0;
    const v5 = dEma > 0 ? 1 : dEma < 0 ? -1 : 0;
    const v6 = bias > 0 ? 1 : bias < 0 ? -1 : 0;
    if (v1 !== 0) { cast++; if (v1 === dir) agree++; }
    if (v2 !== 0) { cast++; if (v2 === dir) agree++; }
    if (v3 !== 0) { cast++; if (v3 === dir) agree++; }
    if (v4 !== 0) { cast++; if (v4 === dir) agree++; }
    if (v5 !== 0) { cast++; if (v5 === dir) agree++; }
    if (v6 !== 0) { cast++; if (v6 === dir) agree++; }
    this.votesFor = agree;
    this.votesCast = cast;
    if (cast === 0 || agree < 0.6 * cast) {
      this.refusal = GateRefusal.Votes;
      return 0;
    }
    const against = dir * bias < 0;
    if (against && (bias < 0 ? -bias : bias) > 0.5) {
      this.refusal = GateRefusal.TrendAgainst;
      return 0;
    }
    let conf = absM * 800 + (surge > 1 ? surge - 1 : 0);
    if (conf > 0.95) conf = 0.95;
    if (against) conf -= 0.2;
    this.confidence = conf;
    if (conf < p.minConfidence) {
      this.refusal = GateRefusal.Confidence;
      return 0;
    }
    if (this.inFundingBlackout()) {
      this.refusal = GateRefusal.Funding;
      return 0;
    }
    return dir > 0 ? Side.Buy : Side.Sell;
  }

  /** at the current trade's time (a field, not an argument: no double to box) */
  private inFundingBlackout(): boolean {
    const t = this.evTime;
    const w = this.p.fundingBlackoutMs;
    const a = t - this.nextFundingMs;
    const b = t - this.prevFundingMs;
    // NaN (no funding time seen) compares false: no blackout
    return (a <= w && a >= -w) || (b <= w && b >= -w);
  }

  private obiSide(ctx: StrategyContext): number {
    if (!this.vol5of20.ready) return 0;
    const imb = this.obiN;
    // copied levels, not per-level reads (see compositeSide)
    const book = ctx.book(this.symbolId);
    const bids = this.bidLv;
    const asks = this.askLv;
    imb.updateFromLevels(bids, book.fillBids(bids, imb.levels), asks, book.fillAsks(asks, imb.levels));
    if (!imb.ready) return 0;
    const obi = imb.value;
    this.obi = obi;
    // Σ vol(5) / mean vol(20) (a sum against a mean, as the original compares)
    this.volRatio = this.vol5of20.value;
    if (!(this.volRatio >= this.p.volumeRatio)) return 0;
    if (obi >= this.p.obiThreshold) return Side.Buy;
    if (obi <= -this.p.obiThreshold) return Side.Sell;
    return 0;
  }

  private maSide(): number {
    const diff = this.maDiff;
    const prev = this.prevMaDiff;
    const th = this.p.maThreshold;
    const cross = this.p.maCross;
    // cross confirmation: the previous tick's diff had not already passed the threshold (NaN: no previous
    // tick, which does not confirm a cross either)
    if (diff >= th && (!cross || prev < th)) return Side.Buy;
    if (diff <= -th && (!cross || prev > -th)) return Side.Sell;
    return 0;
  }

  /** at the current trade's time (`evTime`: a field, not a boxed argument) */
  private enter(side: number, ctx: StrategyContext): void {
    const eventTime = this.evTime;
    const sym = this.symbolId;
    const book = ctx.book(sym);
    const inst = ctx.instrument(sym);
    const tick = inst.tickSize;
    const buy = side === Side.Buy;
    const touch = buy ? book.askPrice(0) : book.bidPrice(0);
    if (!(touch > 0)) return;
    const prem = this.p.entryPremium;
    const px = buy ? Math.floor((touch * (1 + prem)) / tick + 1e-9) * tick : Math.ceil((touch * (1 - prem)) / tick - 1e-9) * tick;
    const qty = this.sizer.size(inst, this.p.equity, touch, NaN, this.absReturns.ready ? this.absReturns.sum / this.absReturns.window : NaN);
    if (!(qty > 0)) return;
    const req = this.req;
    req.symbolId = sym;
    req.side = buy ? Side.Buy : Side.Sell;
    req.type = OrderType.Limit;
    req.tif = TimeInForce.Ioc;
    req.price = px;
    req.qty = qty;
    req.reduceOnly = false;
    const id = ctx.submit(req);
    if (id < 0) {
      this.refused++;
      return;
    }
    this.submitted++;
    this.inFlight = id;
    this.lastEntryMs = eventTime;
  }

  private checkExit(ctx: StrategyContext): void {
    const ex = this.exits;
    // onPrice(price, time) through its fields: no double arguments to box if the call is not inlined
    ex.nextPrice = this.evPrice;
    ex.nextTimeMs = this.evTime;
    const reason = ex.evaluate();
    if (reason === ExitReason.None) return;
    const sym = this.symbolId;
    const qty = ex.exitQty(ctx.instrument(sym).stepSize);
    if (!(qty > 0)) {
      // a partial smaller than one step: skip it (partialTaken stays set) rather than latch the manager
      ex.pending = false;
      return;
    }
    const req = this.req;
    req.market(sym, ex.exitSide() === Side.Sell ? Side.Sell : Side.Buy, qty, true);
    const id = ctx.submit(req);
    if (id < 0) {
      this.refused++;
      // refused: evaluate again on the next trade
      ex.exitFinished();
      return;
    }
    this.submitted++;
    this.inFlight = id;
    this.exitId = id;
  }
}
