/** One symbol's position as the journal derives it from fills (average-cost accounting). */
export interface PositionState {
  symbol: string;
  /** signed base quantity */
  position: number;
  /** average entry price of the open position (0 when flat) */
  avgCost: number;
  /** realised PnL before fees, in quote units */
  realizedPnl: number;
  fees: number;
}

function qtyRound(q: number): number {
  return Math.round(q * 1e10) / 1e10;
}

/**
 * Positions per symbol index from a stream of fills: a fill in the position's direction moves the average
 * cost; against it, it realises (price - cost) on the closed part, and any excess opens the other way at
 * the fill price. Indexed by the session's symbol ids; the reader uses it keyed by name through `index`.
 */
export class PositionBook {
  readonly position: Float64Array;
  readonly avgCost: Float64Array;
  readonly realized: Float64Array;
  readonly fees: Float64Array;
  /** 1 = changed since the last `clearChanged()` */
  readonly changed: Uint8Array;
  /** 1 = has ever had a fill or a seeded state (snapshots cover these) */
  readonly active: Uint8Array;

  constructor(readonly symbols: readonly string[]) {
    const n = symbols.length;
    this.position = new Float64Array(n);
    this.avgCost = new Float64Array(n);
    this.realized = new Float64Array(n);
    this.fees = new Float64Array(n);
    this.changed = new Uint8Array(n);
    this.active = new Uint8Array(n);
  }

  index(symbol: string): number {
    return this.symbols.indexOf(symbol);
  }

  seed(i: number, s: Omit<PositionState, 'symbol'>): void {
    this.position[i] = s.position;
    this.avgCost[i] = s.avgCost;
    this.realized[i] = s.realizedPnl;
    this.fees[i] = s.fees;
    this.active[i] = 1;
  }

  /** side 1 buy / -1 sell, qty > 0. */
  applyFill(i: number, side: number, qty: number, price: number, fee: number): void {
    if (i < 0 || i >= this.position.length || !(qty > 0)) return;
    const pos = this.position[i]!;
    const signed = side >= 0 ? qty : -qty;
    if (pos === 0 || (pos > 0) === (signed > 0)) {
      const size = Math.abs(pos);
      this.avgCost[i] = (this.avgCost[i]! * size + price * qty) / (size + qty);
    } else {
      const closing = Math.min(qty, Math.abs(pos));
      this.realized[i]! += closing * (price - this.avgCost[i]!) * (pos > 0 ? 1 : -1);
      if (qty > Math.abs(pos) + 1e-12) this.avgCost[i] = price;
    }
    const next = qtyRound(pos + signed);
    this.position[i] = next;
    if (next === 0) this.avgCost[i] = 0;
    if (fee === fee) this.fees[i]! += fee;
    this.changed[i] = 1;
    this.active[i] = 1;
  }

  state(i: number): PositionState {
    return { symbol: this.symbols[i]!, position: this.position[i]!, avgCost: this.avgCost[i]!, realizedPnl: this.realized[i]!, fees: this.fees[i]! };
  }

  clearChanged(): void {
    this.changed.fill(0);
  }
}
