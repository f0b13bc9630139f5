import { BookState, OrderType, RecordType, Side, TimeInForce } from '../ring/layout.js';
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
  private readonly buf: Float64Array;
  private head = 0;
  private held = 0;
  private bucket = NaN;
  private close = NaN;

  constructor(
    readonly periodMs: number,
    readonly count: number,
  ) {
    this.buf = new Float64Array(count);
  }

  get ready(): boolean {
    return this.held === this.count;
  }

  /** Returns true when at least one bar closed. */
  update(timeMs: number, price: number): boolean {
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
    for (let k = 0; k < gaps; k++) this.push(this.close);
    this.bucket = b;
    this.close = price;
    return true;
  }

  /** (newest − oldest)/oldest over the held closes */
  ret(): number {
    const n = this.count;
    const newest = this.buf[this.head === 0 ? n - 1 : this.head - 1]!;
    const oldest = this.buf[this.head]!;
    return (newest - oldest) / oldest;
  }

  private push(x: number): void {
    this.buf[this.head] = x;
    this.head = this.head + 1 === this.count ? 0 : this.head + 1;
    if (this.held < this.count) this.held++;
  }
}

function clip1(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

function sign(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
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
  /** the last 4 trade prices, oldest first */
  private readonly last4 = new Float64Array(4);
  private ticks = 0;
  private lastPrice = NaN;
  private lastEntryMs = -Infinity;
  private readonly req = new OrderRequest();
  private inFlight = -1;
  private exitId = -1;

  constructor(
    private readonly symbolId: number,
    private readonly p: GateScalperParams,
  ) {
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
    this.series = SERIES.map(([ms, count]) => new BarCloses(ms, count));
    this.weights = Float64Array.from(SERIES, (s) => s[2]);
  }

  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.symbolId !== this.symbolId) return;
    const t = ev.type;
    if (t === RecordType.MarkPrice) {
      const nf = ev.nextFundingTime;
      // a new next-funding time means the previous one has passed: keep it for the "after" half of the blackout
      if (nf > 0 && nf !== this.nextFundingMs) {
        if (this.nextFundingMs === this.nextFundingMs) this.prevFundingMs = this.nextFundingMs;
        this.nextFundingMs = nf;
      }
      return;
    }
    if (t !== RecordType.AggTrade && t !== RecordType.Trade) return;
    this.updateFeatures(ev);
    const sym = this.symbolId;
    if (ctx.bookState(sym) !== BookState.Live) return;
    if (this.inFlight >= 0) return;
    const pos = ctx.position(sym);
    if (pos > FLAT_EPS || pos < -FLAT_EPS) {
      this.checkExit(ev, ctx);
      return;
    }
    if (ev.eventTime - this.lastEntryMs < this.p.cooldownMs) return;
    const side = this.mode === MODE_COMPOSITE ? this.compositeSide(ev, ctx) : this.mode === MODE_OBI ? this.obiSide(ctx) : this.maSide();
    if (side !== 0) this.enter(side, ev.eventTime, ctx);
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

  private updateFeatures(ev: MarketEvent): void {
    const px = ev.price;
    const prev = this.lastPrice;
    if (prev > 0) {
      const r = px / prev - 1;
      this.lastR = r;
      this.momentum.update(r);
      this.absReturns.update(r < 0 ? -r : r);
    }
    this.lastPrice = px;
    this.volSurge.update(ev.qty);
    this.vol5of20.update(ev.qty);
    this.tradeImb.onTrade(ev);
    this.tq5.onTrade(ev);
    this.ema.update(px);
    this.vwap.onTrade(ev);
    this.fast.update(px);
    this.slow.update(px);
    const l4 = this.last4;
    l4[0] = l4[1]!;
    l4[1] = l4[2]!;
    l4[2] = l4[3]!;
    l4[3] = px;
    this.ticks++;
    if (this.mode === MODE_COMPOSITE) this.updateTrend(ev.eventTime, px);
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
  private updateTrend(timeMs: number, px: number): void {
    let closed = false;
    const s = this.series;
    for (let i = 0; i < s.length; i++) if (s[i]!.update(timeMs, px)) closed = true;
    if (!closed) return;
    let num = 0;
    let den = 0;
    for (let i = 0; i < s.length; i++) {
      const b = s[i]!;
      if (!b.ready) continue;
      const w = this.weights[i]!;
      num += w * clip1(b.ret() / this.p.trendScale);
      den += w;
    }
    if (den > 0) this.trendBias += this.p.trendSmoothing * (num / den - this.trendBias);
  }

  /** The composite signal and its gates: the side to enter (Side.Buy / Side.Sell) or 0; `refusal` says why not. */
  private compositeSide(ev: MarketEvent, ctx: StrategyContext): number {
    const p = this.p;
    this.refusal = GateRefusal.None;
    if (!this.momentum.ready || !this.volSurge.ready || !this.tradeImb.ready || !this.tq5.ready) return 0;
    const book = ctx.book(this.symbolId);
    const ob3 = this.ob3;
    ob3.update(book);
    if (!ob3.ready) return 0;
    const n = this.momentum.window;
    const m = this.momentum.value;
    const sumR = this.momentum.sum;
    const meanAbs = this.absReturns.sum / n;
    const surge = this.volSurge.value;
    const imb = this.tradeImb.value;
    const ob = ob3.value;
    const liq = ob3.bidDepth + ob3.askDepth;
    const spread = book.askPrice(0) - book.bidPrice(0);
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
    const T = trending ? p.entryThreshold : 1.5 * p.entryThreshold;
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
    const tEff = dir > 0 ? T : 0.9 * T;
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
    const px = ev.price;
    let cast = 0;
    let agree = 0;
    const v1 = sign(m);
    const v2 = sign(imb);
    const v3 = sign(ob);
    const v4 = this.vwap.ready ? sign(px - this.vwap.value) : 0;
    const v5 = this.ema.ready ? sign(px - this.ema.value) : 0;
    const v6 = sign(bias);
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
    if (this.inFundingBlackout(ev.eventTime)) {
      this.refusal = GateRefusal.Funding;
      return 0;
    }
    return dir > 0 ? Side.Buy : Side.Sell;
  }

  private inFundingBlackout(t: number): boolean {
    const w = this.p.fundingBlackoutMs;
    const a = t - this.nextFundingMs;
    const b = t - this.prevFundingMs;
    // NaN (no funding time seen) compares false: no blackout
    return (a <= w && a >= -w) || (b <= w && b >= -w);
  }

  private obiSide(ctx: StrategyContext): number {
    if (!this.vol5of20.ready) return 0;
    const imb = this.obiN;
    imb.update(ctx.book(this.symbolId));
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

  private enter(side: number, eventTime: number, ctx: StrategyContext): void {
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

  private checkExit(ev: MarketEvent, ctx: StrategyContext): void {
    const ex = this.exits;
    const reason = ex.onPrice(ev.price, ev.eventTime);
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
