import type { TradeInput } from './inputs.js';
import { TwoSumWindow, checkCount, type WindowSpec } from './rings.js';

/**
 * Volume-weighted average price since the session start. Sums are Neumaier-compensated: a session adds
 * millions of trades and never removes one, so plain summation would be the only error source.
 * `sessionMs` > 0 starts a new session when event time enters a new period [k·sessionMs + offsetMs, ...)
 * (86,400,000 = the UTC day); 0 = one session until `reset`.
 */
export class SessionVwap {
  readonly sessionMs: number;
  readonly offsetMs: number;
  value = NaN;
  /** index of the current session period (NaN before the first trade) */
  session = NaN;
  private tradeTime = 0;
  private tradePrice = 0;
  private tradeQty = 0;
  private pq = 0;
  private pqComp = 0;
  private q = 0;
  private qComp = 0;

  constructor(sessionMs = 0, offsetMs = 0) {
    this.sessionMs = checkCount('sessionMs', sessionMs, 0);
    this.offsetMs = offsetMs;
  }

  get ready(): boolean {
    return this.volume > 0;
  }

  get volume(): number {
    return this.q + this.qComp;
  }

  update(timeMs: number, price: number, qty: number): void {
    this.tradeTime = timeMs;
    this.tradePrice = price;
    this.tradeQty = qty;
    this.addTrade();
  }

  /** The same from a trade event (no boxed arguments: see inputs.ts). */
  onTrade(tr: TradeInput): void {
    this.tradeTime = tr.eventTime;
    this.tradePrice = tr.price;
    this.tradeQty = tr.qty;
    this.addTrade();
  }

  /** no double arguments: values travel in fields (a call V8 does not inline boxes doubles) */
  private addTrade(): void {
    const timeMs = this.tradeTime;
    const qty = this.tradeQty;
    if (this.sessionMs > 0) {
      const s = Math.floor((timeMs - this.offsetMs) / this.sessionMs);
      if (s > this.session || this.session !== this.session) {
        this.clearSums();
        this.session = s;
      }
    }
    const x = this.tradePrice * qty;
    let t = this.pq + x;
    this.pqComp += Math.abs(this.pq) >= Math.abs(x) ? this.pq - t + x : x - t + this.pq;
    this.pq = t;
    t = this.q + qty;
    this.qComp += Math.abs(this.q) >= Math.abs(qty) ? this.q - t + qty : qty - t + this.q;
    this.q = t;
    const vol = this.q + this.qComp;
    // statements, not `c ? x : NaN`, which boxes the double (see index.ts on V8 and allocation)
    if (vol > 0) this.value = (this.pq + this.pqComp) / vol;
    else this.value = NaN;
  }

  private clearSums(): void {
    this.pq = 0;
    this.pqComp = 0;
    this.q = 0;
    this.qComp = 0;
    this.value = NaN;
  }

  reset(): void {
    this.clearSums();
    this.session = NaN;
  }
}

/**
 * VWAP over a rolling window: the last N trades (`{ ticks }`) or the trades of the last windowMs of event
 * time (`{ windowMs, capacity }`; overflow policy in TwoSumWindow: the oldest trade leaves early, counted).
 * `ready` once the window is covered and holds volume; call `advanceTo` on other events to age a time window.
 */
export class RollingVwap {
  readonly window: TwoSumWindow;
  value = NaN;
  /** the trade `pushNext` adds: fields, so no call passes a double */
  nextTime = 0;
  nextPrice = 0;
  nextQty = 0;

  constructor(spec: WindowSpec) {
    this.window = new TwoSumWindow(spec);
  }

  get ready(): boolean {
    return this.window.covered && this.window.sumB > 0;
  }

  get volume(): number {
    return this.window.sumB;
  }

  update(timeMs: number, price: number, qty: number): void {
    // through the fields, not add(t, a, b): no double arguments to box if the call is not inlined
    const w = this.window;
    w.nextTime = timeMs;
    w.nextA = price * qty;
    w.nextB = qty;
    w.addNext();
    this.refresh();
  }

  /** The same from a trade event (no boxed arguments: see inputs.ts). */
  onTrade(tr: TradeInput): void {
    const w = this.window;
    w.nextTime = tr.eventTime;
    w.nextA = tr.price * tr.qty;
    w.nextB = tr.qty;
    w.addNext();
    this.refresh();
  }

  /**
   * The trade in `nextTime` / `nextPrice` / `nextQty`: nothing passed, nothing read through getters (see
   * TradeImbalance.pushNext), so nothing boxed whether or not the call is inlined.
   */
  pushNext(): void {
    const w = this.window;
    const qty = this.nextQty;
    w.nextTime = this.nextTime;
    w.nextA = this.nextPrice * qty;
    w.nextB = qty;
    w.addNext();
    this.refresh();
  }

  advanceTo(timeMs: number): void {
    this.window.advanceTo(timeMs);
    this.refresh();
  }

  private refresh(): void {
    const w = this.window;
    if (w.sumB > 0) this.value = w.sumA / w.sumB;
    else this.value = NaN;
  }

  reset(): void {
    this.window.reset();
    this.value = NaN;
  }
}
