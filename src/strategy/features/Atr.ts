import { checkCount } from './rings.js';

/**
 * Average True Range with Wilder's smoothing (default period 14), on bars. True range = max(high − low,
 * |high − previous close|, |low − previous close|); the first bar, with no previous close, counts high − low
 * (Wilder's own convention). The first ATR is the mean of the first `period` true ranges, then
 * atr = (atr·(period − 1) + tr)/period. `ready` after `period` bars.
 */
export class Atr {
  readonly period: number;
  value = NaN;
  trueRange = NaN;
  bars = 0;
  private prevClose = NaN;

  constructor(period = 14) {
    this.period = checkCount('period', period);
  }

  get ready(): boolean {
    return this.bars >= this.period;
  }

  update(high: number, low: number, close: number): void {
    let tr = high - low;
    const pc = this.prevClose;
    if (pc === pc) {
      const up = high - pc;
      const down = pc - low;
      if (up > tr) tr = up;
      if (down > tr) tr = down;
    }
    this.prevClose = close;
    this.trueRange = tr;
    const n = ++this.bars;
    const p = this.period;
    if (n === 1) this.value = tr;
    else if (n <= p) this.value += (tr - this.value) / n;
    else this.value = (this.value * (p - 1) + tr) / p;
  }

  reset(): void {
    this.value = NaN;
    this.trueRange = NaN;
    this.bars = 0;
    this.prevClose = NaN;
  }
}
