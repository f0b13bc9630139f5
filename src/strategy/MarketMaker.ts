import { BookState, ExecType, OrderStatus, OrderType, Side, TimeInForce } from '../ring/layout.js';
import { BookImbalance } from './features/book.js';
import { OrderRequest, type Strategy, type StrategyContext } from './Strategy.js';
import type { ExecReportView, MarketEvent } from './views.js';

export type MarketMakerParams = {
  symbol: string;
  /** full quoted spread at level 0 before the imbalance widening, bps */
  spreadBps: number;
  levels: number;
  levelSpacingBps: number;
  refreshMs: number;
  skewFactor: number;
  /** 'half-spread': skew = skewFactor·half·inv; 'legacy': skew = skewFactor·inv/1e4 (the original's unit) */
  skewUnit: string;
  /** |inventory| bound, quote units */
  maxInventory: number;
  /** level-0 order size, quote units */
  orderSize: number;
  /** size of level k = orderSize·(1 + sizeStep·k) */
  sizeStep: number;
  obiLevels: number;
  /** vol_adj = 1 + volAdjFactor·|OBI| */
  volAdjFactor: number;
  /** re-quote between timer refreshes when |Δmid|/mid exceeds this, bps */
  requoteBps: number;
  /** places + cancels + amends per second of event time */
  maxOrdersPerSec: number;
  /** re-price a resting quote with one amend instead of cancel + place (half the order budget) */
  amendQuotes: boolean;
};

/**
 * A fast-properties copy of the params (one object literal: one fixed shape). The registry builds params with
 * keyed stores, and past a dozen of those V8 turns the object into a dictionary: every `p.x` was a hash lookup.
 */
function fastParams(p: MarketMakerParams): MarketMakerParams {
  return {
    symbol: p.symbol,
    spreadBps: p.spreadBps,
    levels: p.levels,
    levelSpacingBps: p.levelSpacingBps,
    refreshMs: p.refreshMs,
    skewFactor: p.skewFactor,
    skewUnit: p.skewUnit,
    maxInventory: p.maxInventory,
    orderSize: p.orderSize,
    sizeStep: p.sizeStep,
    obiLevels: p.obiLevels,
    volAdjFactor: p.volAdjFactor,
    requoteBps: p.requoteBps,
    maxOrdersPerSec: p.maxOrdersPerSec,
    amendQuotes: p.amendQuotes,
  };
}

const BID = 0;
const ASK = 1;
/** slot states */
const EMPTY = 0;
const SENT = 1;
const RESTING = 2;
/** a float price or size within this many ticks/steps of a whole number is that number (float noise) */
const ROUND_EPS = 1e-6;
const WINDOW_MS = 1000;

/**
 * Multi-level market maker (the Python event-bus system's), quoting post-only (LIMIT GTX) around the mid:
 *
 *   inv = clip(position·mid / maxInventory, ±1), half = spreadBps/2 (as a fraction),
 *   skew = skewFactor·half·inv ('half-spread', default) or skewFactor·inv/1e4 ('legacy': the original's
 *   unit, at most 0.3 bps by default, which barely moves quotes),
 *   volAdj = 1 + volAdjFactor·|OBI over obiLevels|,
 *   level k: bid = mid·(1 − half·volAdj − skew − k·spacing), ask = mid·(1 + half·volAdj − skew + k·spacing),
 *   size_k = orderSize·(1 + sizeStep·k) / mid base units.
 *
 * Rounding: prices away from the touch (bids down, asks up) to the tick, so rounding never tightens the
 * spread; sizes to the nearest step, raised to the instrument's minimum quantity and minimum notional
 * (at the quote's price) so the venue does not refuse a quote for being a hair too small.
 * A quote is skipped when it would not rest (bid ≥ best ask, ask ≤ best bid: GTX would reject it) and when
 * filling it would take |inventory| beyond maxInventory (bid: (pos + q)·mid > max; ask: (pos − q)·mid < −max).
 *
 * Refresh (recompute the desired quotes) on the event-time timer every refreshMs, when the mid has moved
 * more than requoteBps since the last refresh, and on any fill of ours. Quotes are diffed per side and
 * level against the resting ones:
 * - keep: an order with the desired price and size stays (its queue priority with it);
 * - amend (amendQuotes, default): a resting, acknowledged, unfilled order at another price or size is
 *   amended in place: one request instead of two, though the venue re-queues it at the back of its new level.
 *   A refused amend leaves the order as it was; it is then replaced like a partially filled one;
 * - cancel + place: the rest (not yet acknowledged, partially filled, or amendQuotes off). The cancelled order
 *   retires (tracked until its final report) and the level is free at once, so the replacement goes out in the
 *   same pass. A partially filled order never matches (its size changed): it is replaced at full size;
 * - cancel: a level no longer wanted.
 *
 * Order rate: places, amends and cancels share a sliding budget of maxOrdersPerSec per 1000 ms of event time;
 * cancels go first (a stale quote is the risk), then places from level 0 out, bid before ask. What does not
 * fit waits for the budget (the timer is armed for when it frees). Pulling every quote because the book is
 * not Live bypasses the budget (quoting blind is worse than a brief burst) but is counted in it.
 *
 * Own orders are tracked from execution reports: Ack → resting, a final fill / cancel / reject / expiry →
 * gone. A GTX reject (-5022, the quote would have taken) only frees the level: it is quoted again at the next
 * refresh. Allocation-free per event: all quote state lives in typed arrays sized at construction.
 */
export class MarketMaker implements Strategy {
  readonly name = 'market-maker';
  submitted = 0;
  cancelled = 0;
  amended = 0;
  refused = 0;
  /** actions that waited for the rate budget */
  deferred = 0;
  refreshes = 0;
  /** inputs of the last refresh (observability, tests) */
  mid = NaN;
  inv = 0;
  skew = 0;
  volAdj = 1;

  private readonly L: number;
  private readonly half: number;
  private readonly spacing: number;
  private readonly legacySkew: boolean;
  private readonly imb: BookImbalance;
  private readonly req = new OrderRequest();
  private readonly p: MarketMakerParams;
  /**
   * The top `obiLevels` levels of each side copied out of the book (`fillBids` / `fillAsks`: price, qty pairs,
   * best first). Reading them through `bidPrice(0)` / `bidQty(i)` allocated: those getters return a double
   * (a merge of a level's price and NaN) that V8 boxed, on every market event in onMarket and per level in
   * refresh. Only integers cross the fill calls.
   */
  private readonly bidLv: Float64Array;
  private readonly askLv: Float64Array;
  /** the event time of the current apply / pullAll: a field, so no double crosses retire / budgetOk / spend */
  private nowMs = NaN;

  /** desired quote per slot (slot = side·L + level): ticks and steps, 0 steps = no quote */
  readonly desTicks: Float64Array;
  readonly desSteps: Float64Array;
  /** own order per slot: intent id (−1 none), ticks, steps (−1 = partially filled: never matches), state */
  readonly slotId: Float64Array;
  readonly slotTicks: Float64Array;
  readonly slotSteps: Float64Array;
  readonly slotState: Uint8Array;
  /** the amend in flight for the slot's order (−1 none) */
  readonly slotAmend: Float64Array;
  /** cancelled orders awaiting their final report: intent id, cancel intent id (−1 = cancel to (re)send) */
  private readonly retId: Float64Array;
  private readonly retCancel: Float64Array;
  private retCount = 0;

  /** event times of the last maxOrdersPerSec actions (a ring; oldest at budgetHead) */
  private readonly budget: Float64Array;
  private budgetHead = 0;

  private refMid = NaN;
  private nextRefreshAt = NaN;
  /** desired quotes not all applied yet (waiting for the budget) */
  private pending = false;
  private quoting = false;

  constructor(
    private readonly symbolId: number,
    params: MarketMakerParams,
  ) {
    const p = fastParams(params);
    this.p = p;
    const L = p.levels;
    this.L = L;
    this.half = p.spreadBps / 2 / 1e4;
    this.spacing = p.levelSpacingBps / 1e4;
    this.legacySkew = p.skewUnit === 'legacy';
    this.imb = new BookImbalance(p.obiLevels);
    this.bidLv = new Float64Array(2 * this.imb.levels);
    this.askLv = new Float64Array(2 * this.imb.levels);
    this.desTicks = new Float64Array(2 * L);
    this.desSteps = new Float64Array(2 * L);
    this.slotId = new Float64Array(2 * L).fill(-1);
    this.slotTicks = new Float64Array(2 * L);
    this.slotSteps = new Float64Array(2 * L);
    this.slotState = new Uint8Array(2 * L);
    this.slotAmend = new Float64Array(2 * L).fill(-1);
    // each slot can retire an order per refresh before the previous one's cancel confirms: 4 per slot is ample
    this.retId = new Float64Array(8 * L);
    this.retCancel = new Float64Array(8 * L);
    this.budget = new Float64Array(p.maxOrdersPerSec).fill(-Infinity);
  }

  /** own orders live or sent (not counting retiring ones) */
  get openQuotes(): number {
    let n = 0;
    for (let i = 0; i < 2 * this.L; i++) if (this.slotState[i] !== EMPTY) n++;
    return n;
  }

  get retiring(): number {
    return this.retCount;
  }

  onMarket(ev: MarketEvent, ctx: StrategyContext): void {
    if (ev.symbolId !== this.symbolId) return;
    const sym = this.symbolId;
    if (ctx.bookState(sym) !== BookState.Live) {
      if (this.quoting || this.retCount > 0) this.pullAll(ctx);
      return;
    }
    // the best levels copied out (see bidLv): the same prices bidPrice(0) / askPrice(0) read, NaN for an empty side
    const book = ctx.book(sym);
    const bids = this.bidLv;
    const asks = this.askLv;
    if (book.fillBids(bids, 1) === 0) bids[0] = NaN;
    if (book.fillAsks(asks, 1) === 0) asks[0] = NaN;
    const mid = (bids[0]! + asks[0]!) / 2;
    const ref = this.refMid;
    // NaN ref (never quoted, or pulled): quote as soon as the book allows
    if (ref !== ref || mid !== mid) {
      this.refresh(ctx);
      return;
    }
    const d = mid > ref ? mid - ref : ref - mid;
    if (d / ref > this.p.requoteBps / 1e4) this.refresh(ctx);
  }

  onTimer(nowMs: number, ctx: StrategyContext): void {
    if (ctx.bookState(this.symbolId) !== BookState.Live) {
      this.pullAll(ctx);
      return;
    }
    if (!(nowMs < this.nextRefreshAt)) this.refresh(ctx);
    else {
      // woken early for the rate budget: finish the last refresh's quotes, not new ones
      this.apply(ctx);
      this.armTimer(ctx);
    }
  }

  onReport(r: ExecReportView, ctx: StrategyContext): void {
    const id = r.intentId;
    const x = r.execType;
    const finished = x === ExecType.Fill ? r.status === OrderStatus.Filled : x !== ExecType.Ack;
    const n = 2 * this.L;
    let ours = false;
    for (let i = 0; i < n; i++) {
      if (this.slotAmend[i] === id) {
        // the amend was refused; the order rests as it was: replace it at the next pass
        if (x === ExecType.Reject) this.slotSteps[i] = -1;
        this.slotAmend[i] = -1;
        return;
      }
      if (this.slotId[i] !== id) continue;
      ours = true;
      if (finished) this.clearSlot(i);
      else if (x === ExecType.Ack) {
        if (this.slotState[i] === SENT) this.slotState[i] = RESTING;
        // an amend's answer comes as an Ack of the order: it now rests at the new price and size
        this.slotAmend[i] = -1;
      } else {
        // partial fill: still resting, but no longer the desired size
        this.slotState[i] = RESTING;
        this.slotSteps[i] = -1;
      }
      break;
    }
    if (!ours) {
      for (let j = 0; j < this.retCount; j++) {
        if (this.retId[j] === id) {
          ours = true;
          if (finished) this.removeRetired(j);
          break;
        }
        if (this.retCancel[j] === id) {
          // our cancel was refused (the target's own final report removes it if it is already gone): resend
          if (x === ExecType.Reject) this.retCancel[j] = -1;
          return;
        }
      }
    }
    if (ours && x === ExecType.Fill) {
      // inventory changed: re-price now (the skew moves)
      if (ctx.bookState(this.symbolId) === BookState.Live) this.refresh(ctx);
      else this.pullAll(ctx);
    }
    // a reject (e.g. -5022, GTX would have taken) or an expiry only frees the level: re-quoted at the next refresh
  }

  /** Recompute the desired quotes from the book and position, then diff them against ours. */
  private refresh(ctx: StrategyContext): void {
    const sym = this.symbolId;
    const now = ctx.eventTimeMs();
    this.refreshes++;
    this.nextRefreshAt = now + this.p.refreshMs;
    const book = ctx.book(sym);
    // the top obiLevels of each side copied out once (see bidLv): the imbalance's sums and the touch from them,
    // the same values and order of summation as imb.update(book) and bidPrice(0) / askPrice(0)
    const bids = this.bidLv;
    const asks = this.askLv;
    const imb = this.imb;
    const nb = book.fillBids(bids, imb.levels);
    const na = book.fillAsks(asks, imb.levels);
    imb.updateFromLevels(bids, nb, asks, na);
    if (nb === 0) bids[0] = NaN;
    if (na === 0) asks[0] = NaN;
    const bb = bids[0]!;
    const ba = asks[0]!;
    const mid = (bb + ba) / 2;
    if (mid !== mid || !imb.ready) {
      // one side empty: nothing to price against
      this.pullAll(ctx);
      return;
    }
    this.refMid = mid;
    this.mid = mid;
    const p = this.p;
    const inst = ctx.instrument(sym);
    const tick = inst.tickSize;
    const step = inst.stepSize;
    const pos = ctx.position(sym);
    let inv = (pos * mid) / p.maxInventory;
    inv = inv > 1 ? 1 : inv < -1 ? -1 : inv;
    const half = this.half;
    const skew = this.legacySkew ? (p.skewFactor * inv) / 1e4 : p.skewFactor * half * inv;
    const obi = imb.value;
    const volAdj = 1 + p.volAdjFactor * (obi < 0 ? -obi : obi);
    this.inv = inv;
    this.skew = skew;
    this.volAdj = volAdj;
    const bestBidTicks = Math.round(bb / tick);
    const bestAskTicks = Math.round(ba / tick);
    const maxInv = p.maxInventory * (1 + 1e-9);
    const L = this.L;
    for (let k = 0; k < L; k++) {
      const bidTicks = Math.floor((mid * (1 - half * volAdj - skew - k * this.spacing)) / tick + ROUND_EPS);
      const askTicks = Math.ceil((mid * (1 + half * volAdj - skew + k * this.spacing)) / tick - ROUND_EPS);
      const notional = p.orderSize * (1 + p.sizeStep * k);
      const bidSteps = sizeSteps(notional / mid, bidTicks * tick, step, inst.minQtySteps, inst.minNotional);
      const askSteps = sizeSteps(notional / mid, askTicks * tick, step, inst.minQtySteps, inst.minNotional);
      const ok = bidTicks > 0 && bidTicks < bestAskTicks && (pos + bidSteps * step) * mid <= maxInv;
      this.desTicks[BID * L + k] = ok ? bidTicks : 0;
      this.desSteps[BID * L + k] = ok ? bidSteps : 0;
      const okA = askTicks > bestBidTicks && (pos - askSteps * step) * mid >= -maxInv;
      this.desTicks[ASK * L + k] = okA ? askTicks : 0;
      this.desSteps[ASK * L + k] = okA ? askSteps : 0;
    }
    this.quoting = true;
    this.apply(ctx);
    this.armTimer(ctx);
  }

  /** Diff desired against ours within the rate budget: cancels first, then places from level 0 out. */
  private apply(ctx: StrategyContext): void {
    this.nowMs = ctx.eventTimeMs();
    const L = this.L;
    let left = false;
    // resend refused cancels of retiring orders
    for (let j = 0; j < this.retCount; j++) {
      if (this.retCancel[j] >= 0) continue;
      if (!this.budgetOk()) {
        left = true;
        break;
      }
      const c = ctx.cancel(this.retId[j]!);
      if (c >= 0) {
        this.spend();
        this.retCancel[j] = c;
        this.cancelled++;
      } else left = true;
    }
    for (let k = 0; k < L; k++) {
      for (let s = 0; s < 2; s++) {
        const i = s * L + k;
        if (this.slotState[i] === EMPTY) continue;
        if (this.desSteps[i] !== 0 && this.slotTicks[i] === this.desTicks[i] && this.slotSteps[i] === this.desSteps[i]) continue;
        if (!this.budgetOk()) {
          left = true;
          continue;
        }
        if (this.p.amendQuotes && this.desSteps[i] !== 0 && this.slotState[i] === RESTING && this.slotSteps[i]! > 0 && this.slotAmend[i]! < 0) {
          const inst = ctx.instrument(this.symbolId);
          const a = ctx.amend(this.slotId[i]!, this.desTicks[i]! * inst.tickSize, this.desSteps[i]! * inst.stepSize);
          if (a >= 0) {
            this.spend();
            this.amended++;
            this.slotAmend[i] = a;
            this.slotTicks[i] = this.desTicks[i]!;
            this.slotSteps[i] = this.desSteps[i]!;
            continue;
          }
        }
        if (this.retCount === this.retId.length) {
          left = true;
          continue;
        }
        this.retire(i, ctx);
      }
    }
    const inst = ctx.instrument(this.symbolId);
    for (let k = 0; k < L; k++) {
      for (let s = 0; s < 2; s++) {
        const i = s * L + k;
        if (this.slotState[i] !== EMPTY || this.desSteps[i] === 0) continue;
        if (!this.budgetOk()) {
          left = true;
          continue;
        }
        const req = this.req;
        req.symbolId = this.symbolId;
        req.side = s === BID ? Side.Buy : Side.Sell;
        req.type = OrderType.Limit;
        req.tif = TimeInForce.Gtx;
        req.price = this.desTicks[i]! * inst.tickSize;
        req.qty = this.desSteps[i]! * inst.stepSize;
        req.reduceOnly = false;
        const id = ctx.submit(req);
        if (id < 0) {
          // risk or a full ring: tried again at the next refresh
          this.refused++;
          continue;
        }
        this.spend();
        this.submitted++;
        this.slotId[i] = id;
        this.slotTicks[i] = this.desTicks[i]!;
        this.slotSteps[i] = this.desSteps[i]!;
        this.slotState[i] = SENT;
      }
    }
    if (left) this.deferred++;
    this.pending = left;
  }

  /** Cancel every quote (book not Live, or nothing to price against); re-quote when the book is back. */
  private pullAll(ctx: StrategyContext): void {
    this.nowMs = ctx.eventTimeMs();
    const n = 2 * this.L;
    for (let i = 0; i < n; i++) {
      this.desSteps[i] = 0;
      if (this.slotState[i] !== EMPTY && this.retCount < this.retId.length) this.retire(i, ctx);
    }
    for (let j = 0; j < this.retCount; j++) {
      if (this.retCancel[j] >= 0) continue;
      const c = ctx.cancel(this.retId[j]!);
      if (c >= 0) {
        this.spend();
        this.retCancel[j] = c;
        this.cancelled++;
      }
    }
    this.refMid = NaN;
    this.quoting = false;
    this.pending = false;
    this.nextRefreshAt = NaN;
    ctx.setTimer(NaN);
  }

  /** Sends the slot's cancel (budget already checked by the caller) and frees the slot, at `nowMs`. */
  private retire(i: number, ctx: StrategyContext): void {
    const id = this.slotId[i]!;
    const c = ctx.cancel(id);
    const j = this.retCount++;
    this.retId[j] = id;
    this.retCancel[j] = c;
    if (c >= 0) {
      this.spend();
      this.cancelled++;
    }
    this.clearSlot(i);
  }

  private clearSlot(i: number): void {
    this.slotId[i] = -1;
    this.slotAmend[i] = -1;
    this.slotTicks[i] = 0;
    this.slotSteps[i] = 0;
    this.slotState[i] = EMPTY;
  }

  private removeRetired(j: number): void {
    const last = --this.retCount;
    this.retId[j] = this.retId[last]!;
    this.retCancel[j] = this.retCancel[last]!;
  }

  /** at `nowMs` (a field: a double argument is boxed when V8 does not inline the call, as on rare paths) */
  private budgetOk(): boolean {
    return this.nowMs - this.budget[this.budgetHead]! >= WINDOW_MS;
  }

  private spend(): void {
    this.budget[this.budgetHead] = this.nowMs;
    this.budgetHead = (this.budgetHead + 1) % this.budget.length;
  }

  /** The next refresh, or sooner when quotes wait for the budget (when its oldest action leaves the window). */
  private armTimer(ctx: StrategyContext): void {
    let at = this.nextRefreshAt;
    if (this.pending) {
      const free = this.budget[this.budgetHead]! + WINDOW_MS;
      if (free < at) at = free;
    }
    // StrategyRunner.setTimer stores `atMs === atMs ? atMs : Infinity`; inlined here, V8 kept that merge tagged
    // and boxed `at` (a HeapNumber per refresh: event times are past the small-integer range). `r` is `at`
    // rebuilt from two int32 halves, a value V8 types as never NaN, so the merge folds away and `r` is stored
    // unboxed. Same value whenever `at` is a whole number of ms (event times are); otherwise `at` as it is.
    const hi = Math.floor(at / 4294967296) | 0;
    const r = hi * 4294967296 + ((at - hi * 4294967296) >>> 0);
    if (r === at) ctx.setTimer(r);
    else ctx.setTimer(at);
  }
}

/** Base quantity → steps: nearest step, raised to the minimum quantity and to the minimum notional at `price`. */
function sizeSteps(qty: number, price: number, step: number, minSteps: number, minNotional: number): number {
  let steps = Math.round(qty / step);
  if (steps < minSteps) steps = minSteps;
  if (minNotional > 0 && steps * step * price < minNotional) steps = Math.ceil(minNotional / (price * step) - ROUND_EPS);
  return steps;
}
