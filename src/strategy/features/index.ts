/**
 * Incremental market features for strategies. Conventions shared by all of them:
 *
 * - `update(...)` is O(1) (amortised where a window's sums are recomputed exactly, once per window length,
 *   to stop rounding drift) and allocates nothing: windows are Float64Array rings sized at construction.
 * - `value` (or named outputs) is the current estimate from what has been seen; `ready` says when it is
 *   valid by the feature's definition (e.g. an EMA of n after n samples). Before the first input outputs
 *   are NaN (0 for imbalances, which have a neutral value).
 * - `reset()` returns the feature to its just-constructed state, keeping its storage.
 * - Time is event time in ms, from the events themselves (strategies read no clock). Time windows keep
 *   (now − windowMs, now], age on `advanceTo(now)`, and hold at most `capacity` samples: when full, the
 *   oldest leaves early and `overflowEvictions` counts it.
 * - Variances use Welford's updates (add / remove / replace) on values shifted by a recent sample, plus
 *   exact two-pass recomputation once per window length (see WindowMoments in RollingStats.ts), never
 *   Σx² − n·mean², which cancels catastrophically at price scale.
 *
 * V8 and allocation (measured on Node 20; the reasons behind some odd-looking code here):
 * - A call TurboFan does not inline passes its arguments tagged: every non-integer double argument (a
 *   price, a ms timestamp above 2^31) is boxed, i.e. allocated, and so is a double returned. Inside this
 *   module values therefore travel between objects in fields (`next`, `nextTime`, ... then a no-argument
 *   call), rare paths (recomputation, overflow, bar close) take no doubles, and `update` bodies are kept
 *   small so the caller inlines them. A strategy that drives many features from one big handler can still
 *   exhaust the caller's inlining budget: then its own calls box their arguments. The object inputs
 *   (`onTrade(TradeInput)`, `onQuote(QuoteInput)`; inputs.ts) take a pointer instead.
 * - `c ? x : NaN` (or `Infinity`) boxes x: the globals are heap constants to TurboFan. Outputs are set by
 *   statements, or through a module-local `NAN` constant, which is folded to a number.
 * - `Number.isFinite(x)` cost a boxed argument in optimized code here; `x - x === 0` tests finiteness.
 */
export { TwoSumWindow, type WindowSpec } from './rings.js';
export { Ema, type EmaSeed } from './Ema.js';
export { Sma } from './Sma.js';
export { RollingStats, TimeWindowStats } from './RollingStats.js';
export { Macd } from './Macd.js';
export { Rsi } from './Rsi.js';
export { Atr } from './Atr.js';
export { Bollinger } from './Bollinger.js';
export { TimeBars, Bar, type BarListener, type TimeBarsOptions } from './TimeBars.js';
export { SessionVwap, RollingVwap } from './Vwap.js';
export { Microprice, BookImbalance, type BookLevels } from './book.js';
export type { TradeInput, QuoteInput } from './inputs.js';
export { TradeImbalance } from './TradeImbalance.js';
export { VolumeSurge } from './VolumeSurge.js';
export { PriceVelocity } from './PriceVelocity.js';
export { RealizedVol } from './RealizedVol.js';
export { LinearWeightedMean } from './WeightedMean.js';
