import Database from 'better-sqlite3';
import type { Instrument } from '../core/Instrument.js';
import { OPEN_STATE_NAMES } from '../orders/OrderState.js';
import { AccountUpdateReason, ExecFlag, ExecType, OrderOrigin, OrderStatus, OrderType, TimeInForce } from '../ring/layout.js';
import type { BinanceRestClient, OrderResponse, RestResult, UserTrade } from '../venues/binance/RestClient.js';
import { parseClientOrderId } from '../venues/binance/UserDataDecoder.js';
import { JournalReader, type OrderRow } from './JournalReader.js';
import { configureConnection, migrate } from './schema.js';

/**
 * Restart reconciliation: before a new engine session opens the journal, compare what the journal holds
 * (earlier sessions' open orders, fills, positions) with what the venue holds, and make the journal agree
 * with the venue. Run by Engine.start() when the journal file exists; its own connection, closed after.
 *
 * What it does, in this order (venue actions first, so the reads after them see their effect):
 *  1. orders open at the venue: every one of them was left by an earlier session or is foreign, since the
 *     new session has sent nothing yet. `unknownOrders: 'cancel'` cancels each at the venue; 'adopt'
 *     keeps it and records it as open in the journal. An adopted order stays with the session whose client
 *     order id prefix it carries (its id keeps naming that session); a foreign one (no known prefix) goes
 *     to the last session, origin 'adopted'.
 *  2. orders the journal has open but the venue has not: queried and closed with the venue's state
 *     (-2013, never reached the venue: closed as 'rejected' with that code).
 *  3. the venue's trades since the earliest of (last journaled fill of the symbol − `fillMarginMs`, start
 *     of the last session): per venue order, the journal's filled quantity is compared with the venue's
 *     executed quantity and the missing part is inserted from the order's newest trades, as fills carrying
 *     their venue trade id (so a later reconcile never adds them twice). Fills of orders with our prefix go
 *     to that session's order (a row is added when the journal never saw the order); other fills are
 *     foreign (`foreign_order` = 1), in the last session.
 *  4. positions: where the journal's position (after step 3) differs from the venue's, a 'venue' snapshot
 *     records what the venue said and a 'journal' snapshot sets the position (and the venue's entry price);
 *     JournalReader.positions() and the next JournalWriter start from it.
 *  5. sessions never closed (a crash) are closed with end_reason 'crashed' at their last commit.
 * Every difference is logged and written to `reconciliations` (one run_id per reconcile); the journal
 * writes happen in one transaction, after the venue was read. Rows that need a seq (order events, the
 * venue snapshots) form one journal batch of the last session, so JournalReader.verify() still holds.
 *
 * Not covered: a trade that happens between the trade query and the position query is in the corrected
 * position but not journaled as a fill (the engine is not trading yet, so only an adopted order can do
 * this); conditional (algo) orders are not reconciled; an adopted order that fills later, while the new
 * session runs, reaches that session's journal as a foreign order (its client id has another prefix), so
 * the fill is counted once but not on the adopted row.
 */

/** The venue calls the reconciler needs (BinanceRestClient has them). */
export type ReconcileVenue = Pick<BinanceRestClient, 'openOrders' | 'positionRisk' | 'queryOrder' | 'cancelOrder' | 'userTrades'>;

export type UnknownOrderPolicy = 'adopt' | 'cancel';

export type DifferenceKind =
  | 'fill_added'
  | 'order_added'
  | 'order_closed'
  | 'order_adopted'
  | 'order_cancelled'
  | 'order_cancel_failed'
  | 'position_corrected'
  | 'session_closed';

export interface ReconcileDifference {
  kind: DifferenceKind;
  /** the journal session the difference was attributed to (null: the journal has no session) */
  sessionId: number | null;
  symbol?: string;
  clientOrderId?: string;
  venueOrderId?: number;
  tradeId?: number;
  /** what the journal had, and what the venue said */
  journal?: string;
  venue?: string;
  detail: string;
}

export interface ReconcileReport {
  /** groups this run's rows in `reconciliations` */
  runId: number;
  fillsAdded: number;
  ordersClosed: number;
  ordersAdopted: number;
  ordersCancelled: number;
  positionsCorrected: number;
  differences: ReconcileDifference[];
}

export interface ReconcileOptions {
  dbPath: string;
  rest: ReconcileVenue;
  /** the symbols the engine trades; symbols the journal has open orders or positions in are added */
  symbols: readonly string[];
  /** step sizes for quantity comparisons (half a step is equal) */
  instruments: readonly Instrument[];
  unknownOrders: UnknownOrderPolicy;
  log: (msg: string, fields: Record<string, unknown>) => void;
  /** how far before the last journaled fill the trade query starts. Default 60 000. */
  fillMarginMs?: number;
  wallMs?: () => number;
}

interface SessionInfo {
  id: number;
  prefix: string;
  epochWallMs: number;
  startedWallMs: number;
  endedWallMs: number | null;
}

/** A venue order as the reconciler learned it (open list, cancel answer or query). */
interface VenueOrderState {
  order: OrderResponse;
  /** what the reconciler did to it */
  action: 'adopted' | 'cancelled' | 'cancel_failed' | 'none';
}

type QueryOutcome = { found: OrderResponse } | { notFound: true } | { failed: string };

interface PositionSide {
  amount: number;
  entryPrice: number;
  unrealized: number;
  updateTime: number;
}

const DAY_MS = 86_400_000;
/** the widest time range of one trade query (the venue's limit) */
const TRADES_WINDOW_MS = 7 * DAY_MS;
const TRADES_PAGE = 1000;
const OPEN_STATES = new Set(OPEN_STATE_NAMES);

const STATE_OF_STATUS: Readonly<Record<string, { state: string; status: number; exec: number }>> = {
  NEW: { state: 'new', status: OrderStatus.New, exec: ExecType.Ack },
  PARTIALLY_FILLED: { state: 'partially_filled', status: OrderStatus.PartiallyFilled, exec: ExecType.Fill },
  FILLED: { state: 'filled', status: OrderStatus.Filled, exec: ExecType.Fill },
  CANCELED: { state: 'canceled', status: OrderStatus.Canceled, exec: ExecType.Canceled },
  REJECTED: { state: 'rejected', status: OrderStatus.Rejected, exec: ExecType.Reject },
  EXPIRED: { state: 'expired', status: OrderStatus.Expired, exec: ExecType.Expired },
  EXPIRED_IN_MATCH: { state: 'expired', status: OrderStatus.Expired, exec: ExecType.Expired },
};
const ORDER_TYPES: Readonly<Record<string, number>> = {
  MARKET: OrderType.Market, LIMIT: OrderType.Limit, STOP_MARKET: OrderType.StopMarket, TAKE_PROFIT_MARKET: OrderType.TakeProfitMarket,
  TRAILING_STOP_MARKET: OrderType.TrailingStopMarket,
};
const TIFS: Readonly<Record<string, number>> = { GTC: TimeInForce.Gtc, IOC: TimeInForce.Ioc, FOK: TimeInForce.Fok, GTX: TimeInForce.Gtx };
const ORIGIN_NAMES: Readonly<Record<number, string>> = {
  [OrderOrigin.Ours]: 'ours', [OrderOrigin.Manual]: 'manual', [OrderOrigin.Liquidation]: 'liquidation', [OrderOrigin.Adl]: 'adl', [OrderOrigin.Settlement]: 'settlement',
};

function statusInfo(status: string): { state: string; status: number; exec: number } {
  return STATE_OF_STATUS[status] ?? { state: status.toLowerCase(), status: OrderStatus.Unknown, exec: ExecType.Ack };
}

function fmt(x: number): string {
  return String(Math.round(x * 1e10) / 1e10);
}

/** Reconciles the journal at `dbPath` with the venue (see the module comment). Throws if the venue cannot be read. */
export async function reconcileOnStart(o: ReconcileOptions): Promise<ReconcileReport> {
  const db = new Database(o.dbPath, { fileMustExist: true });
  try {
    configureConnection(db, 'full');
    migrate(db);
    const r = new Reconciliation(db, o);
    await r.readVenue();
    return r.write();
  } finally {
    db.close();
  }
}

class Reconciliation {
  private readonly sessions: SessionInfo[];
  private readonly last: SessionInfo | undefined;
  private readonly symbols: string[];
  private readonly wallMs: () => number;
  private readonly startedAt: number;
  /** venue orders learned so far, by `symbol:orderId` */
  private readonly venueOrders = new Map<string, VenueOrderState>();
  /** journal open orders the venue does not list as open, with what a query said */
  private readonly closedAtVenue: Array<{ row: OrderRow; outcome: QueryOutcome }> = [];
  /** venue trades of orders the journal may lack fills of, per order, oldest first */
  private readonly tradeGroups: Array<{ symbol: string; orderId: number; trades: UserTrade[] }> = [];
  private readonly filledQty: Database.Statement;
  private readonly positions = new Map<string, PositionSide>();
  private readonly differences: ReconcileDifference[] = [];
  private readonly report: ReconcileReport = { runId: 0, fillsAdded: 0, ordersClosed: 0, ordersAdopted: 0, ordersCancelled: 0, positionsCorrected: 0, differences: this.differences };
  private nextSeq = 0;
  private firstSeq = 0;
  private seqRows = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly o: ReconcileOptions,
  ) {
    this.wallMs = o.wallMs ?? Date.now;
    this.startedAt = this.wallMs();
    this.sessions = db.prepare('SELECT id, client_id_prefix AS prefix, epoch_wall_ms AS epochWallMs, started_wall_ms AS startedWallMs, ended_wall_ms AS endedWallMs FROM sessions ORDER BY id').all() as SessionInfo[];
    this.last = this.sessions[this.sessions.length - 1];
    const syms = new Set(o.symbols);
    for (const r of db.prepare(`SELECT DISTINCT symbol FROM orders WHERE state IN (${[...OPEN_STATES].map((s) => `'${s}'`).join(', ')})`).all() as Array<{ symbol: string }>) syms.add(r.symbol);
    for (const p of new JournalReader(db).positions()) if (p.position !== 0) syms.add(p.symbol);
    this.symbols = [...syms].sort();
    this.filledQty = db.prepare('SELECT COALESCE(SUM(qty), 0) AS q FROM fills WHERE order_ref = ?');
  }

  // ------------------------------------------------------------------------------------------ venue side

  async readVenue(): Promise<void> {
    const open = must(await this.o.rest.openOrders(), 'openOrders');
    for (const v of open) {
      if (!this.symbols.includes(v.symbol)) this.symbols.push(v.symbol);
      if (this.o.unknownOrders === 'adopt') {
        this.venueOrders.set(key(v.symbol, v.orderId), { order: v, action: 'adopted' });
        continue;
      }
      const c = await this.o.rest.cancelOrder(v.symbol, { orderId: v.orderId });
      if (c.ok) {
        this.venueOrders.set(key(v.symbol, v.orderId), { order: c.data, action: 'cancelled' });
        continue;
      }
      // -2011: it finished meanwhile; otherwise it may still be open: ask
      const q = await this.query(v.symbol, { orderId: v.orderId });
      const now = 'found' in q ? q.found : v;
      const stillOpen = OPEN_STATES.has(statusInfo(now.status).state);
      this.venueOrders.set(key(v.symbol, v.orderId), { order: now, action: stillOpen ? 'cancel_failed' : 'none' });
      if (stillOpen) this.o.log('reconcile: cancel refused, order stays open', { symbol: v.symbol, clientOrderId: v.clientOrderId, code: c.code, msg: c.msg });
    }
    const openAtVenue = new Set(open.map((v) => key(v.symbol, v.orderId)));
    const openClids = new Set(open.map((v) => v.clientOrderId));
    for (const row of new JournalReader(this.db).openOrders()) {
      if (row.venue_order_id !== null ? openAtVenue.has(key(row.symbol, row.venue_order_id)) : openClids.has(row.client_order_id)) continue;
      const outcome = await this.query(row.symbol, row.venue_order_id !== null ? { orderId: row.venue_order_id } : { origClientOrderId: row.client_order_id });
      this.closedAtVenue.push({ row, outcome });
    }
    if (this.last !== undefined) {
      const lastFill = new Map((this.db.prepare('SELECT symbol, MAX(COALESCE(venue_time_ms, wall_ms)) AS t FROM fills GROUP BY symbol').all() as Array<{ symbol: string; t: number }>).map((r) => [r.symbol, r.t]));
      const margin = this.o.fillMarginMs ?? 60_000;
      for (const sym of this.symbols) {
        const lastFillMs = lastFill.get(sym);
        const since = Math.min(lastFillMs === undefined ? Infinity : lastFillMs - margin, this.last.startedWallMs);
        const byOrder = new Map<number, UserTrade[]>();
        for (const t of await this.tradesSince(sym, since)) {
          const list = byOrder.get(t.orderId);
          if (list) list.push(t);
          else byOrder.set(t.orderId, [t]);
        }
        for (const [orderId, trades] of byOrder) {
          if (this.completeInJournal(this.journalRows(sym, orderId, null), sym)) continue;
          if (!this.venueOrders.has(key(sym, orderId))) await this.query(sym, { orderId });
          this.tradeGroups.push({ symbol: sym, orderId, trades });
        }
      }
    }
    // after the trades: a position may then hold a trade the list lacks, never the reverse (see the module comment)
    for (const p of must(await this.o.rest.positionRisk(), 'positionRisk')) {
      const cur = this.positions.get(p.symbol) ?? { amount: 0, entryPrice: 0, unrealized: 0, updateTime: 0 };
      const amt = Number(p.positionAmt);
      cur.amount += amt;
      if (amt !== 0) cur.entryPrice = Number(p.entryPrice);
      cur.unrealized += Number(p.unRealizedProfit);
      cur.updateTime = Math.max(cur.updateTime, Number(p.updateTime));
      this.positions.set(p.symbol, cur);
    }
  }

  private async query(symbol: string, ref: { orderId: number | string } | { origClientOrderId: string }): Promise<QueryOutcome> {
    const r = await this.o.rest.queryOrder(symbol, ref);
    if (r.ok) {
      this.venueOrders.set(key(symbol, r.data.orderId), { order: r.data, action: 'none' });
      return { found: r.data };
    }
    if (r.code === -2013) return { notFound: true };
    return { failed: `${r.code} ${r.msg}` };
  }

  /** Venue trades of `symbol` from `since` (ms) to now, oldest first. */
  private async tradesSince(symbol: string, since: number): Promise<UserTrade[]> {
    const out: UserTrade[] = [];
    const now = this.startedAt;
    let start = Math.max(0, Math.floor(since));
    for (;;) {
      const page = must(await this.o.rest.userTrades(symbol, { startTime: start, endTime: start + TRADES_WINDOW_MS - 1, limit: TRADES_PAGE }), `userTrades ${symbol}`);
      out.push(...page);
      if (page.length === TRADES_PAGE) break;
      start += TRADES_WINDOW_MS;
      if (start > now) return out;
    }
    // a full page: go on by trade id, which has no time limit
    for (;;) {
      const page = must(await this.o.rest.userTrades(symbol, { fromId: out[out.length - 1]!.id + 1, limit: TRADES_PAGE }), `userTrades ${symbol}`);
      out.push(...page);
      if (page.length < TRADES_PAGE) return out;
    }
  }

  // ------------------------------------------------------------------------------------------ journal side

  write(): ReconcileReport {
    const db = this.db;
    db.transaction(() => {
      this.report.runId = (db.prepare('SELECT COALESCE(MAX(run_id), 0) + 1 AS r FROM reconciliations').get() as { r: number }).r;
      this.nextSeq = this.firstSeq = (db.prepare('SELECT COALESCE(MAX(last_seq), 0) + 1 AS s FROM journal_batches').get() as { s: number }).s;
      this.closeCrashedSessions();
      this.reconcileOpenAtVenue();
      this.reconcileClosedAtVenue();
      this.addMissingFills();
      this.correctPositions();
      if (this.seqRows > 0 && this.last !== undefined) {
        db.prepare('INSERT INTO journal_batches (session_id, first_seq, last_seq, records, rows, fills, committed_wall_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(this.last.id, this.firstSeq, this.nextSeq - 1, this.seqRows, this.seqRows, this.report.fillsAdded, this.wallMs());
      }
    })();
    return this.report;
  }

  private closeCrashedSessions(): void {
    const lastCommit = this.db.prepare('SELECT MAX(committed_wall_ms) AS t FROM journal_batches WHERE session_id = ?');
    const close = this.db.prepare(`UPDATE sessions SET ended_wall_ms = ?, end_reason = 'crashed' WHERE id = ?`);
    for (const s of this.sessions) {
      if (s.endedWallMs !== null) continue;
      const t = (lastCommit.get(s.id) as { t: number | null }).t ?? s.startedWallMs;
      close.run(t, s.id);
      s.endedWallMs = t;
      this.difference({ kind: 'session_closed', sessionId: s.id, detail: `session ${s.prefix} was never closed (the engine stopped without closing it); closed at its last commit` });
    }
  }

  /** Orders open at the venue: cancelled or adopted (readVenue acted), the journal made to agree. */
  private reconcileOpenAtVenue(): void {
    for (const v of this.venueOrders.values()) {
      if (v.action === 'none') continue;
      const o = v.order;
      const owner = this.ownerOf(o.clientOrderId);
      const rows = this.journalRows(o.symbol, Number(o.orderId), o.clientOrderId);
      let row: OrderRow | undefined = rows.find((r) => r.session_id === owner.session?.id) ?? rows[0];
      const info = statusInfo(o.status);
      const wasState = row?.state;
      if (row === undefined) {
        const session = owner.session ?? this.last;
        if (session === undefined) {
          this.difference({ kind: v.action === 'cancelled' ? 'order_cancelled' : v.action === 'adopted' ? 'order_adopted' : 'order_cancel_failed', sessionId: null, symbol: o.symbol,
            clientOrderId: o.clientOrderId, venueOrderId: Number(o.orderId), venue: o.status, detail: 'the journal has no session to record the order in' });
          this.count(v.action);
          continue;
        }
        row = this.insertOrder(o, session, v.action === 'cancelled' ? owner.origin : 'adopted');
      }
      const session = this.sessionOf(row.session_id);
      if (wasState !== info.state || row.cum_qty !== Number(o.executedQty)) this.updateOrder(row, o, session, info);
      const kind: DifferenceKind = v.action === 'cancelled' ? 'order_cancelled' : v.action === 'adopted' ? 'order_adopted' : 'order_cancel_failed';
      const detail = v.action === 'cancelled'
        ? `cancelled at the venue (${wasState === undefined ? 'unknown to the journal' : `left open by session ${session.prefix}`})`
        : v.action === 'adopted'
          ? `open at the venue, adopted as an open order of session ${session.prefix}${wasState === undefined ? ' (unknown to the journal: row added)' : ''}`
          : 'the venue refused the cancel; the order stays open';
      this.difference({ kind, sessionId: row.session_id, symbol: o.symbol, clientOrderId: o.clientOrderId, venueOrderId: Number(o.orderId), orderRef: row.id,
        journal: wasState ?? 'absent', venue: `${o.status} ${o.executedQty}/${o.origQty}`, detail });
      this.count(v.action);
    }
  }

  private count(action: VenueOrderState['action']): void {
    if (action === 'cancelled') this.report.ordersCancelled++;
    else this.report.ordersAdopted++;
  }

  /** Journal orders still open that the venue has finished: closed with the venue's state. */
  private reconcileClosedAtVenue(): void {
    for (const { row, outcome } of this.closedAtVenue) {
      const session = this.sessionOf(row.session_id);
      if ('failed' in outcome) {
        this.o.log('reconcile: could not query an open journal order; left as it is', { symbol: row.symbol, clientOrderId: row.client_order_id, error: outcome.failed });
        continue;
      }
      if ('notFound' in outcome) {
        this.updateRow(row, session, { state: 'rejected', status: OrderStatus.Rejected, exec: ExecType.Reject }, row.cum_qty, row.avg_price, row.venue_order_id, -2013, 'not found at the venue');
        this.difference({ kind: 'order_closed', sessionId: row.session_id, symbol: row.symbol, clientOrderId: row.client_order_id, orderRef: row.id, journal: row.state, venue: 'not found (-2013)',
          detail: 'open in the journal, unknown to the venue: it never reached it; closed as rejected' });
        this.report.ordersClosed++;
        continue;
      }
      const o = outcome.found;
      const info = statusInfo(o.status);
      this.updateOrder(row, o, session, info);
      this.difference({ kind: 'order_closed', sessionId: row.session_id, symbol: row.symbol, clientOrderId: row.client_order_id, venueOrderId: Number(o.orderId), orderRef: row.id,
        journal: `${row.state} ${fmt(row.cum_qty)}`, venue: `${o.status} ${o.executedQty}/${o.origQty}`, detail: `closed with the venue's state (${info.state})` });
      this.report.ordersClosed++;
    }
  }

  /** Venue trades the journal lacks, per order: the missing quantity from the order's newest trades. */
  private addMissingFills(): void {
    const knownTrade = this.db.prepare('SELECT 1 FROM fills WHERE symbol = ? AND venue_trade_id = ?');
    for (const { symbol, orderId, trades } of this.tradeGroups) {
      const eps = this.halfStep(symbol);
      const venue = this.venueOrders.get(key(symbol, orderId))?.order;
      const clid = venue?.clientOrderId ?? null;
      const rows = this.journalRows(symbol, orderId, clid);
      const have = this.sumFilled(rows);
      // the order could not be queried: the window's trades are all there is to go by
      let missing = (venue !== undefined ? Number(venue.executedQty) : trades.reduce((a, t) => a + Number(t.qty), 0)) - have;
      if (missing <= eps) continue;
      const fresh = trades.filter((t) => knownTrade.get(symbol, t.id) === undefined);
      const take: Array<{ t: UserTrade; qty: number }> = [];
      for (let i = fresh.length - 1; i >= 0 && missing > eps; i--) {
        const q = Math.min(Number(fresh[i]!.qty), missing);
        take.push({ t: fresh[i]!, qty: q });
        missing -= q;
      }
      if (take.length === 0) continue;
      take.reverse();
      const owner = this.ownerOf(clid);
      const session = owner.session ?? this.last;
      if (session === undefined) continue;
      const row = rows.find((r) => r.session_id === session.id) ?? rows[rows.length - 1] ?? this.insertOrder(venue ?? orderFromTrade(trades[trades.length - 1]!), session, owner.origin);
      let cum = have;
      for (const { t, qty } of take) {
        cum += qty;
        this.insertFill(row, t, qty, cum, owner.session === undefined, venue);
      }
      if (venue !== undefined) {
        const info = statusInfo(venue.status);
        if (row.state !== info.state || Math.abs(row.cum_qty - Number(venue.executedQty)) > eps) {
          this.db.prepare('UPDATE orders SET state = ?, cum_qty = ?, avg_price = ?, venue_order_id = ? WHERE id = ?').run(info.state, Number(venue.executedQty), Number(venue.avgPrice), orderId, row.id);
        }
      }
    }
  }

  /** The quantity the journal has as filled over these order rows. */
  private sumFilled(rows: readonly OrderRow[]): number {
    let q = 0;
    for (const r of rows) q += (this.filledQty.get(r.id) as { q: number }).q;
    return q;
  }

  /** True when the journal has these rows filled in full: nothing can be missing, no need to ask the venue. */
  private completeInJournal(rows: readonly OrderRow[], symbol: string): boolean {
    const eps = this.halfStep(symbol);
    const qty = rows[0]?.qty;
    if (qty === undefined || qty === null) return false;
    return rows.every((r) => r.state === 'filled') && this.sumFilled(rows) >= qty - eps;
  }

  /** Where the journal's position differs from the venue's: snapshots that set it to the venue's. */
  private correctPositions(): void {
    const last = this.last;
    const journal = new Map(new JournalReader(this.db).positions().map((p) => [p.symbol, p]));
    const syms = new Set([...this.symbols, ...this.positions.keys()]);
    const lastFillId = (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS f FROM fills').get() as { f: number }).f;
    const wall = this.wallMs();
    for (const sym of [...syms].sort()) {
      const v = this.positions.get(sym) ?? { amount: 0, entryPrice: 0, unrealized: 0, updateTime: 0 };
      const j = journal.get(sym);
      const have = j?.position ?? 0;
      if (Math.abs(have - v.amount) <= this.halfStep(sym)) continue;
      if (last !== undefined) {
        this.db.prepare(`INSERT INTO position_snapshots (seq, session_id, source, symbol, position, avg_cost, realized_pnl, fees, unrealized_pnl, wallet_balance, reason, last_fill_id, venue_time_ms, wall_ms)
          VALUES (?, ?, 'venue', ?, ?, ?, NULL, NULL, ?, NULL, ?, ?, ?, ?)`).run(this.seq(), last.id, sym, v.amount, v.entryPrice, v.unrealized, AccountUpdateReason.Reconcile, lastFillId, v.updateTime || null, wall);
        this.db.prepare(`INSERT INTO position_snapshots (seq, session_id, source, symbol, position, avg_cost, realized_pnl, fees, unrealized_pnl, wallet_balance, reason, last_fill_id, venue_time_ms, wall_ms)
          VALUES (NULL, ?, 'journal', ?, ?, ?, ?, ?, NULL, NULL, ?, ?, NULL, ?)`).run(last.id, sym, v.amount, v.amount === 0 ? 0 : v.entryPrice, j?.realizedPnl ?? 0, j?.fees ?? 0, AccountUpdateReason.Reconcile, lastFillId, wall);
      }
      this.difference({ kind: 'position_corrected', sessionId: last?.id ?? null, symbol: sym, journal: fmt(have), venue: fmt(v.amount),
        detail: last === undefined ? 'the journal has no session to record the position in' : "the journal's position set to the venue's" });
      this.report.positionsCorrected++;
    }
  }

  // ------------------------------------------------------------------------------------------ rows

  private seq(): number {
    this.seqRows++;
    return this.nextSeq++;
  }

  private sessionOf(id: number): SessionInfo {
    return this.sessions.find((s) => s.id === id)!;
  }

  /** The session whose prefix the client order id carries (undefined: foreign) and the origin to record. */
  private ownerOf(clid: string | null): { session: SessionInfo | undefined; origin: string } {
    if (clid === null) return { session: undefined, origin: 'manual' };
    let origin = OrderOrigin.Manual as number;
    for (const s of this.sessions) {
      const p = parseClientOrderId(clid, s.prefix);
      if (p.origin === OrderOrigin.Ours) return { session: s, origin: 'ours' };
      origin = p.origin;
    }
    return { session: undefined, origin: ORIGIN_NAMES[origin] ?? 'manual' };
  }

  /** Journal order rows of one venue order: by venue id, or by client order id where the venue id was never learned. */
  private journalRows(symbol: string, orderId: number, clid: string | null): OrderRow[] {
    return this.db.prepare('SELECT * FROM orders WHERE symbol = ? AND (venue_order_id = ? OR (venue_order_id IS NULL AND client_order_id = ?)) ORDER BY id')
      .all(symbol, orderId, clid) as OrderRow[];
  }

  private nsOf(session: SessionInfo, wallMs: number): number {
    return (wallMs - session.epochWallMs) * 1e6;
  }

  private insertOrder(o: OrderResponse, session: SessionInfo, origin: string): OrderRow {
    const ours = origin === 'ours' || (origin === 'adopted' && parseClientOrderId(o.clientOrderId, session.prefix).origin === OrderOrigin.Ours);
    const intentId = ours ? parseClientOrderId(o.clientOrderId, session.prefix).intentId : null;
    const t = this.nsOf(session, Number(o.time ?? o.updateTime) || this.wallMs());
    // cum_qty starts at 0: the fills added next (or updateOrder) bring it to the venue's
    const row = this.db.prepare(`INSERT INTO orders (session_id, client_order_id, intent_id, origin, symbol, side, order_type, tif, price, qty, reduce_only, state, cum_qty, avg_price,
        venue_order_id, reject_reason, error_code, created_ts_ns, updated_ts_ns, reports) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending_new', 0, 0, ?, 0, 0, ?, ?, 0) RETURNING *`)
      .get(session.id, o.clientOrderId, intentId, origin, o.symbol, o.side === 'SELL' ? -1 : 1, ORDER_TYPES[o.type] ?? null, TIFS[o.timeInForce] ?? null, Number(o.price) || null,
        Number(o.origQty) || null, o.reduceOnly ? 1 : 0, Number(o.orderId), t, t) as OrderRow;
    this.difference({ kind: 'order_added', sessionId: session.id, symbol: o.symbol, clientOrderId: o.clientOrderId, venueOrderId: Number(o.orderId), orderRef: row.id, journal: 'absent',
      venue: `${o.status} ${o.executedQty}/${o.origQty}`, detail: `order unknown to the journal, recorded in session ${session.prefix} (origin ${origin})` });
    return row;
  }

  private updateOrder(row: OrderRow, o: OrderResponse, session: SessionInfo, info: { state: string; status: number; exec: number }): void {
    this.updateRow(row, session, info, Number(o.executedQty), Number(o.avgPrice), Number(o.orderId), 0, `reconcile: venue ${o.status}`);
  }

  /** Sets an order row's state and writes the order event that says so (flag Reconcile). */
  private updateRow(row: OrderRow, session: SessionInfo, info: { state: string; status: number; exec: number }, cum: number, avg: number, venueId: number | null, errorCode: number, message: string): void {
    const wall = this.wallMs();
    this.db.prepare('UPDATE orders SET state = ?, cum_qty = ?, avg_price = ?, venue_order_id = ?, error_code = ?, updated_ts_ns = ?, reports = reports + 1 WHERE id = ?')
      .run(info.state, cum, avg, venueId, errorCode, this.nsOf(session, wall), row.id);
    this.db.prepare(`INSERT INTO order_events (seq, session_id, order_ref, intent_id, exec_type, status, state_after, flags, last_qty, last_price, cum_qty, avg_price, fee, venue_order_id, error_code, reason, message, is_maker, venue_time_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, NULL, ?, ?, 0, ?, 0, NULL)`)
      .run(this.seq(), row.session_id, row.id, row.intent_id, info.exec, info.status, info.state, ExecFlag.Reconcile, cum, avg, venueId, errorCode, message);
    row.state = info.state;
    row.cum_qty = cum;
  }

  private insertFill(row: OrderRow, t: UserTrade, qty: number, cum: number, foreign: boolean, venue: OrderResponse | undefined): void {
    const session = this.sessionOf(row.session_id);
    const seq = this.seq();
    const info = venue !== undefined ? statusInfo(venue.status) : { state: row.state, status: OrderStatus.Unknown };
    // the part of a trade the journal lacked carries its share of the commission
    const fee = (Number(t.commission) * qty) / Number(t.qty);
    const side = t.side === 'SELL' ? -1 : 1;
    this.db.prepare(`INSERT INTO order_events (seq, session_id, order_ref, intent_id, exec_type, status, state_after, flags, last_qty, last_price, cum_qty, avg_price, fee, venue_order_id, error_code, reason, message, is_maker, venue_time_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 0, 0, ?, ?, ?)`)
      .run(seq, row.session_id, row.id, row.intent_id, ExecType.Fill, info.status, info.state, ExecFlag.Reconcile | (foreign ? ExecFlag.Foreign : 0), qty, Number(t.price), cum, fee, t.orderId,
        `reconcile: venue trade ${t.id}`, t.maker ? 1 : 0, t.time);
    const fill = this.db.prepare(`INSERT INTO fills (session_id, order_ref, event_seq, symbol, side, qty, price, fee, is_maker, foreign_order, venue_time_ms, ts_ns, wall_ms, venue_trade_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(row.session_id, row.id, seq, t.symbol, side, qty, Number(t.price), fee, t.maker ? 1 : 0, foreign ? 1 : 0, t.time, this.nsOf(session, t.time), this.wallMs(), t.id);
    this.report.fillsAdded++;
    this.difference({ kind: 'fill_added', sessionId: row.session_id, symbol: t.symbol, clientOrderId: row.client_order_id, venueOrderId: t.orderId, tradeId: t.id, orderRef: row.id,
      fillRef: Number(fill.lastInsertRowid), journal: 'absent', venue: `${t.side} ${t.qty} @ ${t.price}`,
      detail: `${foreign ? 'foreign ' : ''}fill the journal never saw${qty < Number(t.qty) ? ` (the missing ${fmt(qty)} of it)` : ''}` });
  }

  private difference(d: ReconcileDifference & { orderRef?: number; fillRef?: number }): void {
    const { orderRef, fillRef, ...diff } = d;
    this.differences.push(diff);
    this.db.prepare(`INSERT INTO reconciliations (run_id, wall_ms, session_id, kind, symbol, client_order_id, venue_order_id, venue_trade_id, order_ref, fill_ref, journal_value, venue_value, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(this.report.runId, this.wallMs(), diff.sessionId, diff.kind, diff.symbol ?? null, diff.clientOrderId ?? null, diff.venueOrderId ?? null, diff.tradeId ?? null,
        orderRef ?? null, fillRef ?? null, diff.journal ?? null, diff.venue ?? null, diff.detail);
    this.o.log(`reconcile: ${diff.kind}`, { ...diff });
  }

  private halfStep(symbol: string): number {
    const inst = this.o.instruments.find((i) => i.symbol === symbol);
    return inst !== undefined ? inst.stepSize / 2 : 1e-9;
  }
}

function key(symbol: string, orderId: number | string): string {
  return `${symbol}:${String(orderId)}`;
}

function must<T>(r: RestResult<T>, what: string): T {
  if (!r.ok) throw new Error(`reconcile: ${what} failed at the venue: ${r.code} ${r.msg}`);
  return r.data;
}

/** The order fields a trade gives, for an order the venue could not be asked about. */
function orderFromTrade(t: UserTrade): OrderResponse {
  return {
    orderId: t.orderId, symbol: t.symbol, status: 'FILLED', clientOrderId: `venue-${t.orderId}`, price: '0', avgPrice: t.price, origQty: '0', executedQty: t.qty, cumQuote: t.quoteQty,
    timeInForce: '', type: '', reduceOnly: false, closePosition: false, side: t.side, positionSide: t.positionSide, stopPrice: '0', workingType: '', priceProtect: false, origType: '',
    updateTime: t.time,
  };
}
