import { parseScaled } from '../../core/decimal.js';
import type { Side } from '../market/types.js';
import type { SimAccount, TradeInfo, VenueCore } from '../Venue.js';
import type { GateContract } from './contracts.js';
import { dec8, money, num, sec, trim, type Json } from './json.js';
import { gateOrderId, type GateOrderBook } from './orders.js';

/**
 * Gate's account-side numbers that the core does not split out: per position the realized PnL and fees
 * since it opened, the history of closed positions, update ids; per account the totals; the displayed
 * leverage (Gate shows "0" for cross with a `cross_leverage_limit`). Fed from the core's fills.
 */

interface PosLedger {
  /** Realized PnL before fees and fees paid, since the position opened (10^-8 USDT). */
  pnl: bigint;
  fee: bigint;
  history: bigint;
  lastClose: bigint;
  updateId: number;
  /** Displayed leverage ("0" = cross) and the cross limit. */
  leverage: string;
  crossLimit: string;
}

interface AccLedger {
  readonly uid: number;
  realized: bigint;
  fees: bigint;
  readonly pos: PosLedger[];
}

export class GateLedger {
  private readonly byAcc = new Map<string, AccLedger>();

  constructor(
    private readonly core: VenueCore,
    private readonly contracts: readonly GateContract[],
    private readonly defaultLeverage: number,
    /** Starting balance (10^-8 USDT): the deposit history shows it. */
    readonly initialBalance: bigint,
  ) {}

  addAccount(acc: SimAccount, uid: number): void {
    this.byAcc.set(acc.id, {
      uid,
      realized: 0n,
      fees: 0n,
      pos: this.contracts.map(() => ({ pnl: 0n, fee: 0n, history: 0n, lastClose: 0n, updateId: 0, leverage: String(this.defaultLeverage), crossLimit: '0' })),
    });
  }

  uid(acc: SimAccount): number {
    return this.get(acc).uid;
  }

  /** One fill of the account, after the core applied it (the position is the one after the fill). */
  onFill(acc: SimAccount, sym: number, side: Side, trade: TradeInfo): void {
    const a = this.get(acc);
    const p = a.pos[sym]!;
    const inst = this.contracts[sym]!.inst;
    const units = parseScaled(trade.fill.qty, inst.qtyDecimals);
    const steps = typeof units === 'number' ? units / inst.stepUnits : 0;
    const after = acc.positions.get(sym)?.qty ?? 0;
    const before = after - (side === 'BUY' ? steps : -steps);
    a.realized += trade.realized;
    a.fees += trade.fee;
    p.pnl += trade.realized;
    p.fee += trade.fee;
    // Closed (or flipped through zero): the position's result goes to history.
    if (before !== 0 && (after === 0 || Math.sign(after) !== Math.sign(before))) {
      const closed = p.pnl - p.fee;
      p.history += closed;
      p.lastClose = closed;
      p.pnl = 0n;
      p.fee = 0n;
    }
    p.updateId++;
  }

  setLeverage(acc: SimAccount, sym: number, leverage: string, crossLimit: string): void {
    const p = this.get(acc).pos[sym]!;
    p.leverage = leverage;
    p.crossLimit = crossLimit;
    p.updateId++;
  }

  /** REST position (fixtures rest_responses.jsonl line 7 key order). */
  position(acc: SimAccount, c: GateContract, orders: GateOrderBook): Json {
    const a = this.get(acc);
    const p = a.pos[c.idx]!;
    const v = this.core.positionView(acc, c.idx);
    const mmr = dec8(this.core.maintMarginPpm * 100);
    let pending = 0;
    let closeOrder: Json = null;
    for (const o of acc.open.values()) {
      if (o.inst.idx !== c.idx) continue;
      pending++;
      if (closeOrder === null && orders.of(o).isClose) closeOrder = { id: num(gateOrderId(o)), price: c.px(o.price), is_liq: false };
    }
    const absNotional = v.notional < 0n ? -v.notional : v.notional;
    return {
      user: a.uid,
      contract: c.name,
      size: v.qty,
      leverage: p.leverage,
      risk_limit: '1000000',
      leverage_max: String(c.spec.leverageMax),
      maintenance_rate: mmr,
      value: money(absNotional),
      margin: money(v.initialMargin),
      entry_price: trim(v.entryPrice),
      liq_price: trim(v.liquidationPrice),
      mark_price: dec8(v.mark8),
      unrealised_pnl: money(v.unrealized),
      realised_pnl: money(p.pnl - p.fee),
      pnl_pnl: money(p.pnl),
      pnl_fund: '0',
      pnl_fee: money(-p.fee),
      history_pnl: money(p.history),
      last_close_pnl: money(p.lastClose),
      realised_point: '0',
      history_point: '0',
      adl_ranking: 5,
      pending_orders: pending,
      close_order: closeOrder,
      mode: 'single',
      update_time: sec(v.updateTime),
      update_id: p.updateId,
      cross_leverage_limit: p.crossLimit,
      risk_limit_table: 'SIM_RISK_LIMIT',
      average_maintenance_rate: mmr,
    };
  }

  /** `futures.positions` item: numbers, `user` a string (private_ws.jsonl line 4 key order). */
  wsPosition(acc: SimAccount, c: GateContract, now: number): Json {
    const a = this.get(acc);
    const p = a.pos[c.idx]!;
    const v = this.core.positionView(acc, c.idx);
    return {
      contract: c.name,
      cross_leverage_limit: num(p.crossLimit),
      entry_price: num(trim(v.entryPrice)),
      history_pnl: num(money(p.history)),
      history_point: 0,
      last_close_pnl: num(money(p.lastClose)),
      leverage: num(p.leverage),
      leverage_max: c.spec.leverageMax,
      liq_price: num(trim(v.liquidationPrice)),
      maintenance_rate: num(dec8(this.core.maintMarginPpm * 100)),
      margin: num(money(v.initialMargin)),
      mode: 'single',
      realised_pnl: num(money(p.pnl - p.fee)),
      realised_point: 0,
      risk_limit: 1000000,
      size: v.qty,
      time: sec(now),
      time_ms: now,
      user: String(a.uid),
      update_id: p.updateId,
    };
  }

  /** `GET /futures/usdt/accounts` (rest_responses.jsonl line 8 key order). */
  account(acc: SimAccount): Json {
    const a = this.get(acc);
    const v = this.core.assetView(acc, 'USDT');
    const ratio = (n: bigint, d: bigint): string => (d === 0n ? '0' : money((n * 100_000_000n) / d));
    return {
      user: a.uid,
      currency: 'USDT',
      total: money(v.wallet),
      unrealised_pnl: money(v.unrealized),
      position_margin: money(v.positionInitialMargin),
      order_margin: money(v.openOrderInitialMargin),
      available: money(v.available),
      point: '0',
      bonus: '0',
      in_dual_mode: false,
      enable_evolved_classic: false,
      cross_initial_margin: money(v.initialMargin),
      cross_maintenance_margin: money(v.maintMargin),
      cross_order_margin: money(v.openOrderInitialMargin),
      cross_unrealised_pnl: money(v.unrealized),
      cross_available: money(v.available),
      cross_margin_balance: money(v.marginBalance),
      cross_mmr: ratio(v.marginBalance, v.maintMargin),
      cross_imr: ratio(v.marginBalance, v.initialMargin),
      isolated_position_margin: '0',
      history: {
        dnw: money(this.initialBalance),
        pnl: money(a.realized),
        fee: money(-a.fees),
        refr: '0',
        fund: '0',
        point_dnw: '0',
        point_fee: '0',
        point_refr: '0',
        bonus_dnw: '0',
        bonus_offset: '0',
      },
      enable_tiered_mm: true,
    };
  }

  private get(acc: SimAccount): AccLedger {
    const a = this.byAcc.get(acc.id);
    if (!a) throw new Error(`gate ledger: unknown account ${acc.id}`);
    return a;
  }
}
