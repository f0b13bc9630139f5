import type { TradeInput } from './inputs.js';
import { TwoSumWindow, type WindowSpec } from './rings.js';

/**
 * Trade imbalance (buyVol − sellVol)/(buyVol + sellVol) over the last N trades (`{ ticks }`) or the last
 * windowMs of event time (`{ windowMs, capacity }`), by aggressor side: in [−1, 1], 0 with no volume.
 * `ready` once the window is covered; call `advanceTo` on other events to age a time window.
 */
export class TradeImbalance {
  readonly window: TwoSumWindow;
  value = 0;
  /** the trade `pushNext` adds (time ms, qty, aggressor sold): fields, so no call passes a double */
  nextTime = 0;
  nextQty = 0;
  nextBuyerMaker = false;

  constructor(spec: WindowSpec) {
    this.window = new TwoSumWindow(spec);
  }

  get ready(): boolean {
    return this.window.covered;
  }
  get buyVolume(): number {
    return this.window.sumA;
  }
  get sellVolume(): number {
    return this.window.sumB;
  }

  /** `buyerMaker` true means the aggressor sold (Binance's `m`). */
  update(timeMs: number, qty: number, buyerMaker: boolean): void {
    // through the fields, not add(t, a, b): no double arguments to box if the call is not inlined
    const w = this.window;
    w.nextTime = timeMs;
    w.nextA = buyerMaker ? 0 : qty;
    w.nextB = buyerMaker ? qty : 0;
    w.addNext();
    this.refresh();
  }

  /** The same from a trade event (no boxed arguments: see inputs.ts). */
  onTrade(tr: TradeInput): void {
    const w = this.window;
    const qty = tr.qty;
    const sold = tr.buyerMaker;
    w.nextTime = tr.eventTime;
    w.nextA = sold ? 0 : qty;
    w.nextB = sold ? qty : 0;
    w.addNext();
    this.refresh();
  }

  /**
   * The trade in `nextTime` / `nextQty` / `nextBuyerMaker`. For a caller whose own inlining budget is spent:
   * `onTrade` then reads the event's getters in a call that may not inline them, and a getter not inlined
   * returns its double boxed; this takes nothing and returns nothing.
   */
  pushNext(): void {
    const w = this.window;
    const qty = this.nextQty;
    const sold = this.nextBuyerMaker;
    w.nextTime = this.nextTime;
    w.nextA = sold ? 0 : qty;
    w.nextB = sold ? qty : 0;
    w.addNext();
    this.refresh();
  }

  advanceTo(timeMs: number): void {
    this.window.advanceTo(timeMs);
    this.refresh();
  }

  private refresh(): void {
    const buy = this.window.sumA;
    const sell = this.window.sumB;
    const total = buy + sell;
    this.value = total > 0 ? (buy - sell) / total : 0;
  }

  reset(): void {
    this.window.reset();
    this.value = 0;
  }
}
