import { checkCount } from './rings.js';

/**
 * Volume surge over per-trade (or per-bar) volumes: Σ vol(last `recent`) / mean vol(baseline window).
 * By default the baseline is the `baseline` values before the recent ones (the Gate scalper's "Σ vol(last 3) /
 * mean(vol before)"); `overlap: true` makes it the last `baseline` values, recent ones included (the Rust
 * liquidation cascade's burst = Σ qty(5) against avgVol = mean qty(50)).
 *
 * `value` = recentSum / baselineMean (a sum against a mean, as the originals compare); `meanRatio` =
 * recentMean / baselineMean (the normalized mean-vs-mean mode). A zero baseline gives Infinity when there
 * is recent volume, else 0. Sums are recomputed exactly once per window length of updates.
 */
export class VolumeSurge {
  readonly recent: number;
  readonly baseline: number;
  readonly overlap: boolean;
  /** values the two windows span */
  readonly span: number;
  value = NaN;
  meanRatio = NaN;
  recentSum = 0;
  baselineSum = 0;
  /** NaN while its window is empty */
  recentMean = NaN;
  baselineMean = NaN;
  /** the last span + 1 volumes (the value leaving a window is still readable after the write) */
  private readonly buf: Float64Array;
  /** slot of the newest volume */
  private newest = -1;
  /** volumes held (at most span + 1) */
  private held = 0;
  /** age of the newest value of the baseline window */
  private readonly baselineOffset: number;
  private sinceRecompute = 0;
  /** the volume `pushNext` adds: a caller that may not inline `update` passes it in this field, not as a boxed double */
  next = 0;

  constructor(recent = 3, baseline = 20, opts: { overlap?: boolean } = {}) {
    this.recent = checkCount('recent', recent);
    this.baseline = checkCount('baseline', baseline);
    this.overlap = opts.overlap ?? false;
    this.baselineOffset = this.overlap ? 0 : recent;
    this.span = this.overlap ? Math.max(recent, baseline) : recent + baseline;
    this.buf = new Float64Array(this.span + 1);
  }

  get ready(): boolean {
    return this.held >= this.span;
  }

  update(volume: number): void {
    this.next = volume;
    this.pushNext();
  }

  /** `update(next)`, no argument: nothing to box when V8 does not inline the call (see index.ts) */
  pushNext(): void {
    const volume = this.next;
    const buf = this.buf;
    const cap = buf.length;
    const newest = this.newest + 1 === cap ? 0 : this.newest + 1;
    this.newest = newest;
    buf[newest] = volume;
    if (this.held < cap) this.held++;
    const count = this.held;
    const off = this.baselineOffset;
    // the value `age` updates back sits at newest − age (mod cap); indexed here, not through a helper
    // returning a double, which would be boxed if not inlined
    this.recentSum += volume;
    let i: number;
    if (count > this.recent) {
      i = newest - this.recent;
      this.recentSum -= buf[i < 0 ? i + cap : i]!;
    }
    if (count > off) {
      i = newest - off;
      this.baselineSum += buf[i < 0 ? i + cap : i]!;
    }
    if (count > off + this.baseline) {
      i = newest - off - this.baseline;
      this.baselineSum -= buf[i < 0 ? i + cap : i]!;
    }
    if (++this.sinceRecompute >= this.span) this.recompute();
    this.refresh();
  }

  /** outputs from the sums (kept out of update so it stays small enough for V8 to inline) */
  private refresh(): void {
    const count = this.held;
    const off = this.baselineOffset;
    // outputs are assigned by statements: a double merged with the global NaN / Infinity in an expression
    // is boxed by TurboFan (see index.ts on V8 and allocation)
    this.recentMean = this.recentSum / Math.min(count, this.recent);
    const nBase = Math.min(count - off, this.baseline);
    if (nBase <= 0) {
      this.baselineMean = NaN;
      this.value = NaN;
      this.meanRatio = NaN;
      return;
    }
    const base = this.baselineSum / nBase;
    this.baselineMean = base;
    if (base > 0) {
      this.value = this.recentSum / base;
      this.meanRatio = this.recentMean / base;
    } else if (this.recentSum > 0) {
      this.value = Infinity;
      this.meanRatio = Infinity;
    } else {
      this.value = 0;
      this.meanRatio = 0;
    }
  }

  private recompute(): void {
    const buf = this.buf;
    const cap = buf.length;
    const count = this.held;
    let r = 0;
    for (let age = 0; age < this.recent && age < count; age++) {
      const i = this.newest - age;
      r += buf[i < 0 ? i + cap : i]!;
    }
    let b = 0;
    const end = this.baselineOffset + this.baseline;
    for (let age = this.baselineOffset; age < end && age < count; age++) {
      const i = this.newest - age;
      b += buf[i < 0 ? i + cap : i]!;
    }
    this.recentSum = r;
    this.baselineSum = b;
    this.sinceRecompute = 0;
  }

  reset(): void {
    this.newest = -1;
    this.held = 0;
    this.value = NaN;
    this.meanRatio = NaN;
    this.recentSum = 0;
    this.baselineSum = 0;
    this.recentMean = NaN;
    this.baselineMean = NaN;
    this.sinceRecompute = 0;
  }
}
