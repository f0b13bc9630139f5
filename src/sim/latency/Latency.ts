import { existsSync } from 'node:fs';
import { readLatencyFile, stageQuantilesMs, type LatencyFile } from '../../metrics/latencyFile.js';
import { Rng } from '../rng.js';

/**
 * Latency model of the simulator: how long the venue holds
 *
 * - `feed`:  each market-data frame (from the moment the venue produced it to the moment it is written),
 * - `user`:  each user-data frame (same, on user-data sockets; default none),
 * - `order`: each order request (from arrival to the matching engine acting on it),
 * - `ack`:   each order response (from the matching engine acting to the response being written),
 * - `rtt`:   a whole round trip split between `order` (share `rttOrderShare`, default 0.5) and `ack`: one
 *            draw per request, so a replayed round-trip distribution (the engine's venueRtt) keeps its shape.
 *
 * A delay is a constant, a seeded distribution, or a distribution replayed from a latency histogram file
 * (src/metrics/latencyFile.ts). Delays never reorder frames on one connection: a frame waits for the ones
 * before it (see DelayLanes). With no channel configured the venue takes its direct path: nothing is drawn,
 * nothing is queued.
 */

export type LatencyDist =
  | { kind: 'const'; ms: number }
  /** normal, truncated below at `minMs` (default 0) */
  | { kind: 'normal'; meanMs: number; sdMs: number; minMs?: number }
  /** log-normal with the given median and sigma (of the underlying normal), plus `minMs` (default 0) */
  | { kind: 'lognormal'; medianMs: number; sigma: number; minMs?: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** replayed from a latency histogram file's stage (default venueRtt), values times `scale` (default 1) */
  | { kind: 'file'; file: string; stage?: string; scale?: number }
  /** replayed from an already parsed file (tests, tools) */
  | { kind: 'histogram'; histogram: LatencyFile; stage?: string; scale?: number };

/** A delay: a number (constant ms), a spec string (`parseLatencySpec`), or a distribution. */
export type LatencyInput = number | string | LatencyDist;

export interface LatencyOptions {
  /** Seed of the draws (default: the venue's seed). */
  seed?: number;
  feed?: LatencyInput;
  user?: LatencyInput;
  order?: LatencyInput;
  ack?: LatencyInput;
  /** A round trip split between order and ack (replaces them). */
  rtt?: LatencyInput;
  /** Share of an `rtt` draw spent before matching. Default 0.5. */
  rttOrderShare?: number;
  /** Shorthand for `rtt: { kind: 'file', file }` (the engine's venueRtt). */
  file?: string;
}

export type LatencyChannel = 'feed' | 'user' | 'order' | 'ack';

/** Draws one delay in ms (>= 0). */
export interface Sampler {
  next(): number;
  describe(): string;
}

class ConstSampler implements Sampler {
  constructor(private readonly ms: number) {}
  next(): number {
    return this.ms;
  }
  describe(): string {
    return `const ${this.ms}ms`;
  }
}

class NormalSampler implements Sampler {
  constructor(
    private readonly rng: Rng,
    private readonly mean: number,
    private readonly sd: number,
    private readonly min: number,
  ) {}
  next(): number {
    const v = this.rng.normal(this.mean, this.sd);
    return v < this.min ? this.min : v;
  }
  describe(): string {
    return `normal mean ${this.mean}ms sd ${this.sd}ms`;
  }
}

class LogNormalSampler implements Sampler {
  private readonly mu: number;
  constructor(
    private readonly rng: Rng,
    private readonly median: number,
    private readonly sigma: number,
    private readonly min: number,
  ) {
    this.mu = Math.log(median);
  }
  next(): number {
    return this.min + this.rng.logNormal(this.mu, this.sigma);
  }
  describe(): string {
    return `lognormal median ${this.median}ms sigma ${this.sigma}`;
  }
}

class UniformSampler implements Sampler {
  constructor(
    private readonly rng: Rng,
    private readonly lo: number,
    private readonly hi: number,
  ) {}
  next(): number {
    return this.rng.range(this.lo, this.hi);
  }
  describe(): string {
    return `uniform ${this.lo}..${this.hi}ms`;
  }
}

/** Inverse-transform sampling over [percentile, ms] points, linear between neighbours. */
export class EmpiricalSampler implements Sampler {
  private readonly p: Float64Array;
  private readonly v: Float64Array;
  constructor(
    private readonly rng: Rng,
    points: ReadonlyArray<readonly [number, number]>,
    private readonly scale: number,
    private readonly label: string,
  ) {
    if (points.length === 0) throw new RangeError(`latency ${label}: no points`);
    this.p = Float64Array.from(points, (x) => x[0]);
    this.v = Float64Array.from(points, (x) => x[1] * scale);
  }
  /** The value at percentile `q` (0..100). */
  at(q: number): number {
    const p = this.p;
    const v = this.v;
    const n = p.length;
    if (q <= p[0]!) return v[0]!;
    if (q >= p[n - 1]!) return v[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (p[mid]! <= q) lo = mid;
      else hi = mid;
    }
    const span = p[hi]! - p[lo]!;
    return span <= 0 ? v[hi]! : v[lo]! + ((v[hi]! - v[lo]!) * (q - p[lo]!)) / span;
  }
  next(): number {
    return this.at(this.rng.uniform() * 100);
  }
  describe(): string {
    return `replay of ${this.label}${this.scale !== 1 ? ` x${this.scale}` : ''} (p50 ${this.at(50).toFixed(3)}ms, p99 ${this.at(99).toFixed(3)}ms)`;
  }
}

export class LatencySpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LatencySpecError';
  }
}

/** "2ms", "250us", "1.5s", "3" (ms) -> ms. */
export function parseDuration(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ns|us|µs|ms|s)?\s*$/.exec(s);
  if (!m) throw new LatencySpecError(`not a duration: ${JSON.stringify(s)} (e.g. 2ms, 250us, 1.5s)`);
  const n = Number(m[1]);
  switch (m[2]) {
    case 'ns':
      return n / 1e6;
    case 'us':
    case 'µs':
      return n / 1e3;
    case 's':
      return n * 1e3;
    default:
      return n;
  }
}

/**
 * A delay spec string:
 * `const:2ms` (or just `2ms`), `normal:MEAN:SD[:MIN]` (e.g. `normal:2ms:0.5ms`), `lognormal:MEDIAN:SIGMA[:MIN]`
 * (e.g. `lognormal:1ms:0.4`), `uniform:MIN:MAX`, `file:PATH[#STAGE]` (a latency histogram file; stage default venueRtt).
 */
export function parseLatencySpec(s: string): LatencyDist {
  const t = s.trim();
  if (t.startsWith('file:')) {
    const rest = t.slice(5);
    const hash = rest.lastIndexOf('#');
    return hash > 0 ? { kind: 'file', file: rest.slice(0, hash), stage: rest.slice(hash + 1) } : { kind: 'file', file: rest };
  }
  const parts = t.split(':');
  const kind = parts[0]!;
  const arg = (i: number, what: string): string => {
    const a = parts[i];
    if (a === undefined || a === '') throw new LatencySpecError(`latency ${JSON.stringify(s)}: missing ${what}`);
    return a;
  };
  switch (kind) {
    case 'const':
      return { kind: 'const', ms: parseDuration(arg(1, 'the delay')) };
    case 'normal':
      return { kind: 'normal', meanMs: parseDuration(arg(1, 'the mean')), sdMs: parseDuration(arg(2, 'the standard deviation')), ...(parts[3] ? { minMs: parseDuration(parts[3]) } : {}) };
    case 'lognormal': {
      const sigma = Number(arg(2, 'sigma'));
      if (!Number.isFinite(sigma)) throw new LatencySpecError(`latency ${JSON.stringify(s)}: sigma must be a number`);
      return { kind: 'lognormal', medianMs: parseDuration(arg(1, 'the median')), sigma, ...(parts[3] ? { minMs: parseDuration(parts[3]) } : {}) };
    }
    case 'uniform':
      return { kind: 'uniform', minMs: parseDuration(arg(1, 'the minimum')), maxMs: parseDuration(arg(2, 'the maximum')) };
    default:
      if (parts.length === 1) return { kind: 'const', ms: parseDuration(t) };
      throw new LatencySpecError(`latency ${JSON.stringify(s)}: unknown kind "${kind}" (const, normal, lognormal, uniform, file)`);
  }
}

function nonNeg(x: number, what: string): number {
  if (!Number.isFinite(x) || x < 0) throw new LatencySpecError(`latency: ${what} must be a finite number >= 0 (got ${x})`);
  return x;
}

/** A sampler for one channel; `rng` is that channel's own generator (so channels do not shift each other's draws). */
export function makeSampler(input: LatencyInput, rng: Rng): Sampler {
  const d: LatencyDist = typeof input === 'number' ? { kind: 'const', ms: input } : typeof input === 'string' ? parseLatencySpec(input) : input;
  switch (d.kind) {
    case 'const':
      return new ConstSampler(nonNeg(d.ms, 'const ms'));
    case 'normal':
      return new NormalSampler(rng, nonNeg(d.meanMs, 'meanMs'), nonNeg(d.sdMs, 'sdMs'), nonNeg(d.minMs ?? 0, 'minMs'));
    case 'lognormal':
      if (!(d.medianMs > 0)) throw new LatencySpecError('latency: lognormal medianMs must be > 0');
      return new LogNormalSampler(rng, d.medianMs, nonNeg(d.sigma, 'sigma'), nonNeg(d.minMs ?? 0, 'minMs'));
    case 'uniform':
      if (!(nonNeg(d.maxMs, 'maxMs') >= nonNeg(d.minMs, 'minMs'))) throw new LatencySpecError('latency: uniform maxMs must be >= minMs');
      return new UniformSampler(rng, d.minMs, d.maxMs);
    case 'file': {
      const stage = d.stage ?? 'venueRtt';
      return new EmpiricalSampler(rng, stageQuantilesMs(readLatencyFile(d.file), stage), nonNeg(d.scale ?? 1, 'scale'), `${d.file}#${stage}`);
    }
    case 'histogram': {
      const stage = d.stage ?? 'venueRtt';
      return new EmpiricalSampler(rng, stageQuantilesMs(d.histogram, stage), nonNeg(d.scale ?? 1, 'scale'), `histogram#${stage}`);
    }
  }
}

/**
 * The venue's configured delays: `feed` / `user` samplers (null when off) and `request()` for the order path.
 */
export class LatencyModel {
  readonly feed: Sampler | null;
  readonly user: Sampler | null;
  private readonly orderS: Sampler | null;
  private readonly ackS: Sampler | null;
  private readonly rttS: Sampler | null;
  private readonly share: number;
  /** Delays applied (frames / requests / responses). */
  readonly counters = { feedDelayed: 0, userDelayed: 0, ordersDelayed: 0, acksDelayed: 0 };

  constructor(opts: LatencyOptions, seed: number) {
    const root = new Rng((opts.seed ?? seed) ^ 0x1a7e2c5);
    // One generator per channel, forked in a fixed order: a channel's draws do not depend on the others' traffic.
    const rngs = { feed: root.fork(), user: root.fork(), order: root.fork(), ack: root.fork(), rtt: root.fork() };
    this.feed = opts.feed !== undefined ? makeSampler(opts.feed, rngs.feed) : null;
    this.user = opts.user !== undefined ? makeSampler(opts.user, rngs.user) : null;
    const rtt = opts.rtt ?? (opts.file !== undefined ? { kind: 'file' as const, file: opts.file } : undefined);
    if (rtt !== undefined && (opts.order !== undefined || opts.ack !== undefined)) throw new LatencySpecError('latency: give either rtt (or file) or order/ack, not both');
    this.rttS = rtt !== undefined ? makeSampler(rtt, rngs.rtt) : null;
    this.orderS = opts.order !== undefined ? makeSampler(opts.order, rngs.order) : null;
    this.ackS = opts.ack !== undefined ? makeSampler(opts.ack, rngs.ack) : null;
    this.share = opts.rttOrderShare ?? 0.5;
    if (!(this.share >= 0 && this.share <= 1)) throw new LatencySpecError('latency: rttOrderShare must be within 0..1');
  }

  /** Whether requests get delays (order path). */
  get requests(): boolean {
    return this.orderS !== null || this.ackS !== null || this.rttS !== null;
  }

  /**
   * Delays of one request: before the matching engine acts on it, and from then until its response is
   * written (ms). Both come from one call so that an `rtt` draw is split within the same request.
   */
  request(): { orderMs: number; ackMs: number } {
    const c = this.counters;
    if (this.rttS !== null) {
      const d = this.rttS.next();
      c.ordersDelayed++;
      c.acksDelayed++;
      return { orderMs: d * this.share, ackMs: d * (1 - this.share) };
    }
    let orderMs = 0;
    let ackMs = 0;
    if (this.orderS !== null) {
      orderMs = this.orderS.next();
      c.ordersDelayed++;
    }
    if (this.ackS !== null) {
      ackMs = this.ackS.next();
      c.acksDelayed++;
    }
    return { orderMs, ackMs };
  }

  describe(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.feed) out['feed'] = this.feed.describe();
    if (this.user) out['user'] = this.user.describe();
    if (this.rttS) out['rtt'] = `${this.rttS.describe()} split ${this.share}/${1 - this.share}`;
    if (this.orderS) out['order'] = this.orderS.describe();
    if (this.ackS) out['ack'] = this.ackS.describe();
    return out;
  }
}

/**
 * `hft sim --latency ARG` (repeatable) into LatencyOptions. ARG is `[channel=]SPEC` with channel feed, user,
 * order, ack or rtt. Without a channel: an existing file path (or `file:...`) is the round trip (`rtt`,
 * the file's venueRtt stage); any other spec applies to feed, order and ack.
 */
export function latencyOptionsFromArgs(args: readonly string[]): LatencyOptions {
  const out: LatencyOptions = {};
  for (const a of args) {
    const m = /^(feed|user|order|ack|rtt)=(.*)$/.exec(a);
    if (m) {
      out[m[1] as 'feed' | 'user' | 'order' | 'ack' | 'rtt'] = parseLatencySpec(m[2]!);
      continue;
    }
    if (a.startsWith('file:') || (!/^[a-z]+:/.test(a) && existsSync(a))) {
      out.rtt = a.startsWith('file:') ? parseLatencySpec(a) : { kind: 'file', file: a };
      continue;
    }
    const d = parseLatencySpec(a);
    out.feed = d;
    out.order = d;
    out.ack = d;
  }
  return out;
}
