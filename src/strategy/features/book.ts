import type { QuoteInput } from './inputs.js';
import { checkCount } from './rings.js';

/**
 * What the book features read: level i from the top (0 = best) of each side. `L2Book` satisfies it; so can
 * a test double or a replay's book, without the features depending on the class. Past the last level a
 * price reads NaN and a quantity 0.
 */
export interface BookLevels {
  readonly bidLevels: number;
  readonly askLevels: number;
  bidPrice(i: number): number;
  bidQty(i: number): number;
  askPrice(i: number): number;
  askQty(i: number): number;
}

/**
 * Microprice: the size-weighted mid of the best bid and ask, (bid·askQty + ask·bidQty)/(bidQty + askQty),
 * which leans toward the side with less size (the side likely to be taken out). Falls back to the mid when
 * both sizes are 0. `ready` while both prices are finite.
 */
export class Microprice {
  value = NaN;
  /** the inputs of the last update */
  bid = NaN;
  bidQty = 0;
  ask = NaN;
  askQty = 0;
  mid = NaN;
  spread = NaN;
  /** top-of-book size imbalance (bidQty − askQty)/(bidQty + askQty), 0 with no size */
  imbalance = 0;

  get ready(): boolean {
    return this.value === this.value;
  }

  update(bid: number, bidQty: number, ask: number, askQty: number): void {
    this.bid = bid;
    this.bidQty = bidQty;
    this.ask = ask;
    this.askQty = askQty;
    this.compute();
  }

  /** From a bookTicker event (no boxed arguments: see inputs.ts). */
  onQuote(q: QuoteInput): void {
    this.bid = q.bid;
    this.bidQty = q.bidQty;
    this.ask = q.ask;
    this.askQty = q.askQty;
    this.compute();
  }

  updateFromBook(book: BookLevels): void {
    this.bid = book.bidPrice(0);
    this.bidQty = book.bidQty(0);
    this.ask = book.askPrice(0);
    this.askQty = book.askQty(0);
    this.compute();
  }

  /** from the input fields: no double arguments, which a call V8 does not inline would box */
  private compute(): void {
    const bid = this.bid;
    const ask = this.ask;
    // x − x is 0 only for finite x (Number.isFinite costs a boxed argument in optimized code here)
    if (bid - bid !== 0 || ask - ask !== 0) {
      this.value = NaN;
      this.mid = NaN;
      this.spread = NaN;
      this.imbalance = 0;
      return;
    }
    const size = this.bidQty + this.askQty;
    this.mid = (bid + ask) / 2;
    this.spread = ask - bid;
    if (size > 0) {
      this.value = (bid * this.askQty + ask * this.bidQty) / size;
      this.imbalance = (this.bidQty - this.askQty) / size;
    } else {
      this.value = this.mid;
      this.imbalance = 0;
    }
  }

  reset(): void {
    this.value = NaN;
    this.mid = NaN;
    this.spread = NaN;
    this.imbalance = 0;
    this.bid = NaN;
    this.bidQty = 0;
    this.ask = NaN;
    this.askQty = 0;
  }
}

/**
 * Order-book imbalance over the top `levels` levels of each side: (Σ bidQty − Σ askQty)/(Σ bidQty + Σ askQty),
 * in [−1, 1] (the market maker's OBI(5), the Gate scalper's ob over 3 levels). A side with fewer levels
 * contributes what it has. 0 and not `ready` unless both sides have a level.
 */
export class BookImbalance {
  readonly levels: number;
  value = 0;
  bidDepth = 0;
  askDepth = 0;
  private bothSides = false;

  constructor(levels = 5) {
    this.levels = checkCount('levels', levels);
  }

  get ready(): boolean {
    return this.bothSides;
  }

  update(book: BookLevels): void {
    const nb = Math.min(this.levels, book.bidLevels);
    const na = Math.min(this.levels, book.askLevels);
    let b = 0;
    for (let i = 0; i < nb; i++) b += book.bidQty(i);
    let a = 0;
    for (let i = 0; i < na; i++) a += book.askQty(i);
    this.bidDepth = b;
    this.askDepth = a;
    this.refresh(nb > 0 && na > 0);
  }

  /**
   * From levels already copied out of the book (`L2Book.fillBids` / `fillAsks`: price, qty pairs, best
   * first; nb / na pairs held). The same sums as `update(book)`, but `update` calls the book's `bidQty(i)`
   * per level, and a caller whose inlining budget is spent gets each quantity back boxed; here only
   * typed-array reads.
   */
  updateFromLevels(bids: Float64Array, nb: number, asks: Float64Array, na: number): void {
    if (nb > this.levels) nb = this.levels;
    if (na > this.levels) na = this.levels;
    let b = 0;
    for (let i = 0; i < nb; i++) b += bids[2 * i + 1]!;
    let a = 0;
    for (let i = 0; i < na; i++) a += asks[2 * i + 1]!;
    this.bidDepth = b;
    this.askDepth = a;
    this.refresh(nb > 0 && na > 0);
  }

  /** From the best level only (a bookTicker). */
  updateTop(bidQty: number, askQty: number): void {
    this.bidDepth = bidQty;
    this.askDepth = askQty;
    this.refresh(bidQty > 0 && askQty > 0);
  }

  /** From a bookTicker event: best level only (no boxed arguments: see inputs.ts). */
  onQuote(q: QuoteInput): void {
    const b = q.bidQty;
    const a = q.askQty;
    this.bidDepth = b;
    this.askDepth = a;
    this.refresh(b > 0 && a > 0);
  }

  /** from the depth fields: no double arguments, which a call V8 does not inline would box */
  private refresh(bothSides: boolean): void {
    this.bothSides = bothSides;
    const b = this.bidDepth;
    const a = this.askDepth;
    const total = b + a;
    this.value = bothSides && total > 0 ? (b - a) / total : 0;
  }

  reset(): void {
    this.value = 0;
    this.bidDepth = 0;
    this.askDepth = 0;
    this.bothSides = false;
  }
}
