/**
 * Queue-position models for participants' resting orders (see PassiveBook for how they are used).
 *
 * The synthetic (or replayed) book is market-by-price: it shows how much rests at a level, not in which
 * order. A participant's order that joins a level is estimated to sit behind the `ahead` quantity the
 * level held when it arrived. Trades at the level always consume the queue from the front, so they move
 * `ahead` down by the traded quantity (PassiveBook does that for every model). What the models disagree
 * on is a net DECREASE of the level that was not a trade (cancellations): was it in front of us or
 * behind us? That is `afterDecrease`.
 *
 * - `risk-averse`: never in front. Only trades move the order forward (a level that shrinks below the
 *   estimate still caps it: nothing can be ahead in a level that holds less).
 * - `probabilistic`: the decrease `d` is in front with probability p = f(ahead) / (f(ahead) + f(behind)),
 *   f(x) = x^n (`power`, default n = 2) or f(x) = ln(1 + x) (`log`); the model of Rigtorp's estimator
 *   as hftbacktest describes it. With `sampling: 'expected'` (default) the front shrinks by its expected
 *   share d·p, deterministically; with `'draw'` a seeded uniform decides, per level change, whether the
 *   whole decrease was in front (same mean, with variance). Either way a decrease larger than what was
 *   behind must have taken the excess from the front.
 * - `none`: optimistic, no queue: the order is always at the front of the level (joins with nothing
 *   ahead), so the first trade at its price fills it. The old "cross" rule as a bound to compare with.
 */

export type QueueModelName = 'risk-averse' | 'probabilistic' | 'none';

export interface ProbabilisticQueueOptions {
  kind: 'probabilistic';
  /** Weight function of the two parts of the queue. Default 'power'. */
  fn?: 'power' | 'log';
  /** Exponent of the power function (> 0). Default 2. */
  n?: number;
  /** 'expected' (deterministic share, default) or 'draw' (seeded all-or-nothing attribution). */
  sampling?: 'expected' | 'draw';
}

/** What a venue option names: a model, or the probabilistic model with its parameters. */
export type QueueModelSpec = QueueModelName | ProbabilisticQueueOptions;

/** Uniform [0, 1) source (the simulator's seeded Rng). */
export interface UniformSource {
  uniform(): number;
}

export interface QueueModel {
  readonly name: QueueModelName;
  /** false when decreases never move an order (lets the book skip the work). */
  readonly usesDecreases: boolean;
  /** true when `afterDecrease` needs a uniform draw. */
  readonly random: boolean;
  /** Market quantity ahead of an order joining a level that holds `levelQty` (others' quantity). */
  joinAhead(levelQty: number): number;
  /**
   * Quantity ahead after the level lost `d` (> 0, trades excluded) while `ahead` was in front of the
   * order and `behind` after it; `u` is a uniform draw in [0, 1) (0 when the model is not random).
   * The caller clamps the result to [0, new level quantity].
   */
  afterDecrease(ahead: number, behind: number, d: number, u: number): number;
  /** Probability that a decrease was in front of the order (for tests and docs). */
  frontShare(ahead: number, behind: number): number;
}

class RiskAverseQueue implements QueueModel {
  readonly name = 'risk-averse';
  readonly usesDecreases = false;
  readonly random = false;
  joinAhead(levelQty: number): number {
    return levelQty;
  }
  afterDecrease(ahead: number): number {
    return ahead;
  }
  frontShare(): number {
    return 0;
  }
}

class NoQueue implements QueueModel {
  readonly name = 'none';
  readonly usesDecreases = false;
  readonly random = false;
  joinAhead(): number {
    return 0;
  }
  afterDecrease(): number {
    return 0;
  }
  frontShare(): number {
    return 1;
  }
}

class ProbabilisticQueue implements QueueModel {
  readonly name = 'probabilistic';
  readonly usesDecreases = true;
  readonly random: boolean;
  private readonly log: boolean;
  private readonly n: number;

  constructor(opts: ProbabilisticQueueOptions) {
    this.log = opts.fn === 'log';
    this.n = opts.n ?? 2;
    if (!(this.n > 0) || !Number.isFinite(this.n)) throw new Error('probabilistic queue model: n must be a positive number');
    this.random = opts.sampling === 'draw';
  }

  joinAhead(levelQty: number): number {
    return levelQty;
  }

  private f(x: number): number {
    return this.log ? Math.log1p(x) : this.n === 1 ? x : this.n === 2 ? x * x : Math.pow(x, this.n);
  }

  frontShare(ahead: number, behind: number): number {
    if (ahead <= 0) return 0;
    if (behind <= 0) return 1;
    const fa = this.f(ahead);
    return fa / (fa + this.f(behind));
  }

  afterDecrease(ahead: number, behind: number, d: number, u: number): number {
    const p = this.frontShare(ahead, behind);
    // Whatever the attribution says, the back can only have lost what it held.
    if (this.random) return u < p ? ahead - d : ahead - Math.max(0, d - behind);
    const back = d * (1 - p);
    return ahead - d * p - (back > behind ? back - behind : 0);
  }
}

/** Builds a model from a venue option (default risk-averse). */
export function createQueueModel(spec: QueueModelSpec | undefined): QueueModel {
  if (spec === undefined || spec === 'risk-averse') return new RiskAverseQueue();
  if (spec === 'none') return new NoQueue();
  if (spec === 'probabilistic') return new ProbabilisticQueue({ kind: 'probabilistic' });
  if (typeof spec === 'object' && spec.kind === 'probabilistic') return new ProbabilisticQueue(spec);
  throw new Error(`unknown queue model ${JSON.stringify(spec)}`);
}
