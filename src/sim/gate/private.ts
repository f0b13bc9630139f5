import { parseScaled } from '../../core/decimal.js';
import type { AlgoOrder, CoreListener, ExecType, SimAccount, SimOrder, TradeInfo } from '../Venue.js';
import type { GateLedger } from './account.js';
import type { GateContract } from './contracts.js';
import { money, num, sec, trim, type Json } from './json.js';
import { gateOrderId, wsOrder, type FeeRates, type GateOrderBook } from './orders.js';
import { updateFrame, type GateSocket, type PrivateChannel, type PrivateSub } from './socket.js';

export interface PrivateCounters {
  frames: number;
}

/**
 * The core's account-side changes in Gate terms: keeps the ledger and order fields current for every
 * account (so REST replies are right whoever listens), and pushes `futures.orders`,
 * `futures.usertrades`, `futures.positions` and `futures.balances` to the subscribed sockets. Fills
 * and balance changes go out as they happen; order and position states are coalesced per loop turn
 * (one push with the state as of the flush, as the venue's pushes show the order as it then stands).
 */
export class GatePrivate implements CoreListener {
  private readonly subs = new Map<string, PrivateSub[]>();
  private readonly dirtyOrders = new Set<SimOrder>();
  private readonly dirtyPositions = new Map<SimAccount, Set<number>>();
  readonly counters: PrivateCounters = { frames: 0 };

  constructor(
    private readonly contracts: readonly GateContract[],
    private readonly ledger: GateLedger,
    private readonly orders: GateOrderBook,
    private readonly fees: FeeRates,
    /** Queues a frame on a socket (the venue flushes). */
    private readonly enqueue: (s: GateSocket, frame: string) => void,
    private readonly accountById: (id: string) => SimAccount | undefined,
    /** Asks the venue for a flush (order and position states are formatted then). */
    private readonly wake: () => void,
  ) {}

  subscribe(sub: PrivateSub): void {
    this.unsubscribe(sub.sock, sub.channel, sub.contract);
    let l = this.subs.get(sub.acc.id);
    if (!l) this.subs.set(sub.acc.id, (l = []));
    l.push(sub);
    sub.sock.priv.push(sub);
  }

  /** Drops a socket's subscription of a channel (one contract, or every one with `contract` undefined). */
  unsubscribe(sock: GateSocket, channel: PrivateChannel, contract: string | null | undefined): void {
    for (let i = sock.priv.length - 1; i >= 0; i--) {
      const s = sock.priv[i]!;
      if (s.channel !== channel || (contract !== undefined && s.contract !== contract)) continue;
      sock.priv.splice(i, 1);
      const l = this.subs.get(s.acc.id);
      if (l) l.splice(l.indexOf(s), 1);
    }
  }

  removeSocket(sock: GateSocket): void {
    for (const s of sock.priv) {
      const l = this.subs.get(s.acc.id);
      if (l) l.splice(l.indexOf(s), 1);
    }
    sock.priv.length = 0;
  }

  private has(acc: SimAccount, channel: PrivateChannel): boolean {
    const l = this.subs.get(acc.id);
    if (!l) return false;
    for (const s of l) if (s.channel === channel) return true;
    return false;
  }

  private send(acc: SimAccount, channel: PrivateChannel, contract: string, now: number, items: Json[]): void {
    const l = this.subs.get(acc.id);
    if (!l) return;
    let frame: string | null = null;
    for (const s of l) {
      if (s.channel !== channel || s.sock.closed || (s.contract !== null && s.contract !== contract)) continue;
      frame ??= updateFrame(channel, now, items);
      this.counters.frames++;
      this.enqueue(s.sock, frame);
    }
  }

  // ---- CoreListener ---------------------------------------------------------------------------------

  /** Every account: the ledger needs every fill. */
  wants(): boolean {
    return true;
  }

  order(acc: SimAccount, o: SimOrder, exec: ExecType, trade: TradeInfo | null, now: number): void {
    const m = this.orders.of(o);
    if (exec !== 'NEW') m.updateId++;
    if (trade) {
      m.realized += trade.realized;
      this.ledger.onFill(acc, o.inst.idx, o.side, trade);
      const c = this.contracts[o.inst.idx]!;
      const units = parseScaled(trade.fill.qty, o.inst.qtyDecimals);
      const steps = typeof units === 'number' ? units / o.inst.stepUnits : 0;
      if (this.has(acc, 'futures.usertrades')) {
        this.send(acc, 'futures.usertrades', c.name, now, [
          {
            id: String(trade.fill.tradeId),
            create_time: sec(now),
            create_time_ms: now,
            contract: c.name,
            order_id: gateOrderId(o),
            size: o.side === 'BUY' ? steps : -steps,
            price: trim(trade.fill.price),
            role: trade.fill.maker ? 'maker' : 'taker',
            text: m.text,
            fee: num(money(trade.fee)),
            point_fee: 0,
          },
        ]);
      }
      if (this.has(acc, 'futures.balances')) {
        const wallet = acc.wallet.get('USDT') ?? 0n;
        const uid = String(this.ledger.uid(acc));
        const text = `${c.name}:${gateOrderId(o)}`;
        const items: Json[] = [];
        const item = (balance: bigint, change: bigint, type: string): Json => ({
          balance: num(money(balance)),
          change: num(money(change)),
          text,
          time: sec(now),
          time_ms: now,
          type,
          user: uid,
          currency: 'usdt',
        });
        if (trade.realized !== 0n) items.push(item(wallet + trade.fee, trade.realized, 'pnl'));
        if (trade.fee !== 0n) items.push(item(wallet, -trade.fee, 'fee'));
        if (items.length > 0) this.send(acc, 'futures.balances', '', now, items);
      }
    }
    if (this.has(acc, 'futures.orders')) {
      this.dirtyOrders.add(o);
      this.wake();
    }
  }

  account(acc: SimAccount, sym: number): void {
    this.markPosition(acc, sym);
  }

  algo(_acc: SimAccount, _a: AlgoOrder): void {
    // No conditional orders on the Gate dialect.
  }

  leverage(acc: SimAccount, sym: number): void {
    this.markPosition(acc, sym);
  }

  markPosition(acc: SimAccount, sym: number): void {
    if (!this.has(acc, 'futures.positions')) return;
    let s = this.dirtyPositions.get(acc);
    if (!s) this.dirtyPositions.set(acc, (s = new Set()));
    s.add(sym);
    this.wake();
  }

  /** Formats the coalesced order and position states (called right before the venue writes frames). */
  flush(now: number): void {
    if (this.dirtyOrders.size > 0) {
      const byAcc = new Map<string, SimOrder[]>();
      for (const o of this.dirtyOrders) {
        let l = byAcc.get(o.accountId);
        if (!l) byAcc.set(o.accountId, (l = []));
        l.push(o);
      }
      this.dirtyOrders.clear();
      for (const [id, list] of byAcc) {
        const acc = this.accountById(id);
        if (!acc) continue;
        const uid = this.ledger.uid(acc);
        // One frame per contract, so per-contract subscriptions get only theirs.
        for (const c of this.contracts) {
          const mine = list.filter((o) => o.inst.idx === c.idx);
          if (mine.length > 0) this.send(acc, 'futures.orders', c.name, now, mine.map((o) => wsOrder(o, this.orders.of(o), c, uid, this.fees)));
        }
      }
    }
    if (this.dirtyPositions.size > 0) {
      for (const [acc, syms] of this.dirtyPositions) {
        for (const sym of syms) {
          const c = this.contracts[sym]!;
          this.send(acc, 'futures.positions', c.name, now, [this.ledger.wsPosition(acc, c, now)]);
        }
      }
      this.dirtyPositions.clear();
    }
  }
}
