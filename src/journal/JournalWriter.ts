import Database from 'better-sqlite3';
import { AU, ExecFlag, ExecType, IN, OrderOrigin, RecordType, RejectReason, RP, W } from '../ring/layout.js';
import type { SpscRing } from '../ring/SpscRing.js';
import { OrderStateMachine, ReportEffect, SlotKind } from '../orders/OrderStateMachine.js';
import { clientOrderId, orderStateName } from '../orders/OrderState.js';
import { JG, JournalRecordType, JRR } from './feedLayout.js';
import { PositionBook } from './PositionBook.js';
import { JournalReader } from './JournalReader.js';
import { configureConnection, migrate, type SyncMode } from './schema.js';

export interface JournalSessionInfo {
  /** the session's client order id prefix (unique per engine run: names the session) */
  clientIdPrefix: string;
  venue: string;
  /** symbol names by id */
  symbols: readonly string[];
  /** Instrument.stepSize / tickSize by symbol id: order quantities and prices in base and quote units */
  stepSizes?: readonly number[];
  tickSizes?: readonly number[];
  /** wall-clock ms at the process epoch (ns timestamps of records count from it) */
  epochWallMs: number;
  /** the run's configuration, stored as JSON (credentials must not be in it) */
  config?: unknown;
}

export interface JournalWriterOptions {
  dbPath: string;
  /** consumer ends of the journal feeds (each an SPSC ring with one producer) */
  feeds: readonly SpscRing[];
  session: JournalSessionInfo;
  /** default 'full': every commit survives a power cut */
  synchronous?: SyncMode;
  /** records per transaction at most. Default 4096. */
  maxBatch?: number;
  /** position snapshots and PnL points at most this often, when something changed. Default 5000. */
  snapshotIntervalMs?: number;
  /** orders pending-new longer than this become Unknown (0 = off: the execution worker reports Unknown itself) */
  pendingTimeoutMs?: number;
  /** ns since the process epoch (for the pending timeout) */
  nowNs?: () => number;
  wallMs?: () => number;
  /** order table slots (power of two). Default 65536. */
  orderCapacity?: number;
}

export interface CommitInfo {
  batch: number;
  firstSeq: number;
  lastSeq: number;
  records: number;
  rows: number;
  fills: number;
  /** fills journaled by this writer so far, this one included */
  totalFills: number;
  /** the largest intent id among this batch's fills of our orders (-1 if none) */
  maxFillIntentId: number;
}

export interface JournalCounters {
  records: number;
  batches: number;
  fills: number;
  intents: number;
  reports: number;
  accountUpdates: number;
  riskRejects: number;
  /** records the producers announced lost (Gap records) */
  lostByProducers: number;
  /** records of a type the journal does not know */
  unknownRecords: number;
  /** transactions that failed (their records are lost; a gap row says how many) */
  failedBatches: number;
  failedRecords: number;
  snapshots: number;
}

/** Execution-side refusals that are limits, not venue answers: also journaled as risk rejects. */
const LOCAL_LIMIT_REASONS = new Set<number>([
  RejectReason.RingFull, RejectReason.MaxOrderQty, RejectReason.MaxPosition, RejectReason.PriceFilter, RejectReason.LotSize,
  RejectReason.MinNotional, RejectReason.PercentPrice, RejectReason.RateLimited, RejectReason.Halted, RejectReason.NotReady,
]);

export const REJECT_REASON_NAMES: Readonly<Record<number, string>> = {
  [RejectReason.None]: 'none', [RejectReason.Venue]: 'venue', [RejectReason.RingFull]: 'ring_full', [RejectReason.Transport]: 'transport',
  [RejectReason.Timeout]: 'timeout', [RejectReason.MaxOrderQty]: 'max_order_qty', [RejectReason.MaxPosition]: 'max_position',
  [RejectReason.PriceFilter]: 'price_filter', [RejectReason.LotSize]: 'lot_size', [RejectReason.MinNotional]: 'min_notional',
  [RejectReason.PercentPrice]: 'percent_price', [RejectReason.RateLimited]: 'rate_limited', [RejectReason.Halted]: 'halted',
  [RejectReason.NotReady]: 'not_ready', [RejectReason.Unknown]: 'unknown',
};
const ORIGIN_NAMES: Readonly<Record<number, string>> = {
  [OrderOrigin.Manual]: 'manual', [OrderOrigin.Liquidation]: 'liquidation', [OrderOrigin.Adl]: 'adl', [OrderOrigin.Settlement]: 'settlement',
};

const UTF8 = new TextDecoder();
/** NaN (an absent value in a record) is stored as NULL. */
function num(x: number): number | null {
  return x === x ? x : null;
}
/** INTEGER columns: a whole number, or NULL. */
function int(x: number): number | null {
  return Number.isFinite(x) ? Math.trunc(x) : null;
}

type Stmt = Database.Statement;

/**
 * The journal worker's core (thread-free: tests and benches run it in-process): drains the journal feeds,
 * runs the order state machine over the intent and report copies, and writes everything in one SQLite
 * transaction per drained batch (WAL). A batch's records are released from the rings only after its
 * commit. Rows per record: see schema.ts. Fills are the machine's new quantities, so a fill reported by
 * both the response and the stream is journaled once; foreign fills (liquidation, manual) by their last
 * quantity unless flagged Dup.
 */
export class JournalWriter {
  readonly db: Database.Database;
  readonly sessionId: number;
  readonly machine: OrderStateMachine;
  readonly positions: PositionBook;
  readonly counters: JournalCounters = {
    records: 0, batches: 0, fills: 0, intents: 0, reports: 0, accountUpdates: 0, riskRejects: 0, lostByProducers: 0,
    unknownRecords: 0, failedBatches: 0, failedRecords: 0, snapshots: 0,
  };
  lastError = '';
  /** called after each committed batch (the info object is reused) */
  onCommit: ((info: CommitInfo) => void) | undefined;

  private readonly feeds: readonly SpscRing[];
  private readonly taken: Int32Array;
  private readonly maxBatch: number;
  private readonly symbols: readonly string[];
  private readonly prefix: string;
  private readonly snapshotIntervalMs: number;
  private readonly pendingTimeoutNs: number;
  private readonly nowNs: () => number;
  private readonly wallMs: () => number;
  /** orders.id per order-table slot (0 = none), whether its row exists yet, whether it was adopted */
  private readonly orderRow: Float64Array;
  private readonly orderWritten: Uint8Array;
  private readonly orderAdopted: Uint8Array;
  private nextOrderId: number;
  private readonly info: CommitInfo = { batch: 0, firstSeq: 0, lastSeq: 0, records: 0, rows: 0, fills: 0, totalFills: 0, maxFillIntentId: -1 };
  private nextSeq: number;
  private lastFillId: number;
  private lastSnapshotWall = 0;
  private batchRows = 0;
  private batchFills = 0;
  private batchMaxFillIntent = -1;
  private readonly runBatch: () => number;
  private closed = false;

  private readonly s: {
    intent: Stmt; order: Stmt; updateOrder: Stmt; foreignOrder: Stmt; event: Stmt; fill: Stmt; venueSnapshot: Stmt;
    journalSnapshot: Stmt; pnl: Stmt; risk: Stmt; gap: Stmt; batch: Stmt;
  };

  constructor(opts: JournalWriterOptions) {
    this.feeds = opts.feeds;
    this.taken = new Int32Array(opts.feeds.length);
    this.maxBatch = opts.maxBatch ?? 4096;
    this.symbols = opts.session.symbols;
    this.prefix = opts.session.clientIdPrefix;
    this.snapshotIntervalMs = opts.snapshotIntervalMs ?? 5000;
    this.nowNs = opts.nowNs ?? (() => 0);
    this.wallMs = opts.wallMs ?? Date.now;
    this.pendingTimeoutNs = (opts.pendingTimeoutMs ?? 0) * 1e6;
    const db = new Database(opts.dbPath);
    this.db = db;
    configureConnection(db, opts.synchronous ?? 'full');
    migrate(db);
    const sess = opts.session;
    const wall = this.wallMs();
    // A prefix names one engine run: journaling it twice would mix two order tables under one name.
    if (db.prepare('SELECT 1 FROM sessions WHERE client_id_prefix = ?').get(sess.clientIdPrefix) !== undefined) {
      db.close();
      throw new Error(`journal: session ${sess.clientIdPrefix} is already in ${opts.dbPath}`);
    }
    this.sessionId = (db.prepare(`INSERT INTO sessions (client_id_prefix, venue, symbols_json, config_json, epoch_wall_ms, started_wall_ms) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`)
      .get(sess.clientIdPrefix, sess.venue, JSON.stringify(sess.symbols), sess.config === undefined ? null : JSON.stringify(sess.config), Math.round(sess.epochWallMs), wall) as { id: number }).id;
    this.nextSeq = (db.prepare('SELECT COALESCE(MAX(last_seq), 0) AS s FROM journal_batches').get() as { s: number }).s + 1;
    this.lastFillId = (db.prepare('SELECT COALESCE(MAX(id), 0) AS f FROM fills').get() as { f: number }).f;
    this.nextOrderId = this.maxOrderId() + 1;
    this.machine = new OrderStateMachine({ capacity: opts.orderCapacity ?? 65536, stepSizes: sess.stepSizes, tickSizes: sess.tickSizes, trackChanges: true });
    this.orderRow = new Float64Array(this.machine.capacity);
    this.orderWritten = new Uint8Array(this.machine.capacity);
    this.orderAdopted = new Uint8Array(this.machine.capacity);
    // positions carry over from earlier sessions: last snapshot + later fills
    this.positions = new PositionBook(sess.symbols);
    for (const p of new JournalReader(db).positions()) {
      const i = this.positions.index(p.symbol);
      if (i >= 0) this.positions.seed(i, p);
    }
    this.lastSnapshotWall = wall;
    this.s = {
      intent: db.prepare(`INSERT OR IGNORE INTO intents (seq, session_id, intent_id, kind, symbol, side, order_type, tif, price_ticks, qty_steps, flags, decision_price, target_intent_id, recv_ts_ns, pub_ts_ns, event_time_ms)
        VALUES (?, ${this.sessionId}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      order: db.prepare(`INSERT INTO orders (id, session_id, client_order_id, intent_id, origin, symbol, side, order_type, tif, price, qty, reduce_only, state, cum_qty, avg_price,
          venue_order_id, reject_reason, error_code, created_ts_ns, updated_ts_ns, reports)
        VALUES (?, ${this.sessionId}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      updateOrder: db.prepare('UPDATE orders SET state = ?, cum_qty = ?, avg_price = ?, venue_order_id = ?, reject_reason = ?, error_code = ?, updated_ts_ns = ?, reports = ? WHERE id = ?'),
      foreignOrder: db.prepare(`INSERT INTO orders (id, session_id, client_order_id, intent_id, origin, symbol, side, state, cum_qty, avg_price, venue_order_id, created_ts_ns, updated_ts_ns, reports)
        VALUES (?, ${this.sessionId}, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
        ON CONFLICT (session_id, client_order_id) DO UPDATE SET state = excluded.state, cum_qty = MAX(cum_qty, excluded.cum_qty),
          avg_price = CASE WHEN excluded.cum_qty >= cum_qty THEN excluded.avg_price ELSE avg_price END, updated_ts_ns = excluded.updated_ts_ns, reports = reports + 1
        RETURNING id`),
      event: db.prepare(`INSERT INTO order_events (seq, session_id, order_ref, intent_id, exec_type, status, state_after, flags, last_qty, last_price, cum_qty, avg_price, fee, venue_order_id, error_code, reason, message, is_maker, venue_time_ms, recv_ts_ns, sent_ts_ns, ack_ts_ns)
        VALUES (?, ${this.sessionId}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      fill: db.prepare(`INSERT INTO fills (session_id, order_ref, event_seq, symbol, side, qty, price, fee, is_maker, foreign_order, venue_time_ms, ts_ns, wall_ms)
        VALUES (${this.sessionId}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      venueSnapshot: db.prepare(`INSERT INTO position_snapshots (seq, session_id, source, symbol, position, avg_cost, realized_pnl, fees, unrealized_pnl, wallet_balance, reason, last_fill_id, venue_time_ms, wall_ms)
        VALUES (?, ${this.sessionId}, 'venue', ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)`),
      journalSnapshot: db.prepare(`INSERT INTO position_snapshots (seq, session_id, source, symbol, position, avg_cost, realized_pnl, fees, unrealized_pnl, wallet_balance, reason, last_fill_id, venue_time_ms, wall_ms)
        VALUES (NULL, ${this.sessionId}, 'journal', ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, NULL, ?)`),
      pnl: db.prepare(`INSERT INTO pnl_series (session_id, symbol, wall_ms, position, avg_cost, realized_pnl, fees, unrealized_pnl, last_fill_id) VALUES (${this.sessionId}, ?, ?, ?, ?, ?, ?, ?, ?)`),
      risk: db.prepare(`INSERT INTO risk_rejects (seq, event_seq, session_id, source, intent_id, symbol, side, qty, price, reason, reason_name, limit_value, value, message, ts_ns)
        VALUES (?, ?, ${this.sessionId}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      gap: db.prepare(`INSERT INTO journal_gaps (seq, session_id, lost, pub_ts_ns) VALUES (?, ${this.sessionId}, ?, ?)`),
      batch: db.prepare(`INSERT INTO journal_batches (session_id, first_seq, last_seq, records, rows, fills, committed_wall_ms) VALUES (${this.sessionId}, ?, ?, ?, ?, ?, ?)`),
    };
    this.runBatch = db.transaction(() => this.batchBody());
  }

  /** Sequence number of the last record written (0 before any). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** True if a feed has records waiting. */
  hasWork(): boolean {
    for (let f = 0; f < this.feeds.length; f++) if (this.feeds[f]!.hasData()) return true;
    return false;
  }

  /**
   * Takes what the feeds hold (at most maxBatch records) and writes it in one transaction; releases the
   * records after the commit. Returns the number of records (0: nothing to do). A failed transaction is
   * rolled back, its records counted lost and recorded as a gap, and the writer goes on.
   */
  drainBatch(): number {
    if (this.closed) return 0;
    const firstSeq = this.nextSeq;
    let records: number;
    try {
      records = this.runBatch();
    } catch (e) {
      this.nextSeq = firstSeq;
      this.machine.clearDirty();
      // the rolled-back orders rows are gone: stop writing the orders of the table (their events still are)
      this.orderRow.fill(0);
      this.nextOrderId = this.maxOrderId() + 1;
      records = 0;
      for (let f = 0; f < this.feeds.length; f++) records += this.taken[f]!;
      this.release();
      this.counters.failedBatches++;
      this.counters.failedRecords += records;
      this.lastError = (e as Error).message;
      if (records > 0) this.recordFailure(records);
      return records;
    }
    this.release();
    if (records > 0) {
      const info = this.info;
      info.batch = this.counters.batches;
      info.firstSeq = firstSeq;
      info.lastSeq = this.nextSeq - 1;
      info.records = records;
      info.rows = this.batchRows;
      info.fills = this.batchFills;
      info.totalFills = this.counters.fills;
      info.maxFillIntentId = this.batchMaxFillIntent;
      this.onCommit?.(info);
    }
    return records;
  }

  private release(): void {
    for (let f = 0; f < this.feeds.length; f++) {
      const n = this.taken[f]!;
      if (n > 0) this.feeds[f]!.release(n);
      this.taken[f] = 0;
    }
  }

  /** One transaction's work: every record the feeds hold (up to maxBatch), the changed orders, snapshots. */
  private batchBody(): number {
    this.batchRows = 0;
    this.batchFills = 0;
    this.batchMaxFillIntent = -1;
    const firstSeq = this.nextSeq;
    let left = this.maxBatch;
    let records = 0;
    for (let f = 0; f < this.feeds.length && left > 0; f++) {
      const ring = this.feeds[f]!;
      const n = ring.poll(left);
      for (let i = 0; i < n; i++) this.record(ring, ring.readBase(i));
      this.taken[f] = n;
      records += n;
      left -= n;
    }
    const wall = this.wallMs();
    if (this.pendingTimeoutNs > 0 && this.machine.openOrders > 0) this.machine.sweepTimeouts(this.nowNs(), this.pendingTimeoutNs);
    this.writeChangedOrders();
    if (records > 0) {
      this.s.batch.run(firstSeq, this.nextSeq - 1, records, this.batchRows, this.batchFills, wall);
      this.counters.batches++;
      this.counters.records += records;
    }
    if (wall - this.lastSnapshotWall >= this.snapshotIntervalMs) this.writeSnapshots(wall, false);
    return records;
  }

  private record(ring: SpscRing, base: number): void {
    const i32 = ring.i32;
    const type = i32[base * 2]! & 0xff;
    switch (type) {
      case RecordType.OrderNew:
      case RecordType.OrderCancel:
        this.intent(ring.f64, i32, base, type);
        break;
      case RecordType.ExecReport:
        this.report(ring.f64, i32, ring.u8, base);
        break;
      case RecordType.AccountUpdate:
        this.accountUpdate(ring.f64, i32, base);
        break;
      case JournalRecordType.RiskReject:
        this.riskReject(ring.f64, i32, ring.u8, base);
        break;
      case JournalRecordType.Gap:
        this.counters.lostByProducers += ring.f64[base + JG.LOST]!;
        this.s.gap.run(this.nextSeq++, ring.f64[base + JG.LOST]!, num(ring.f64[base + JG.PUB_TS]!));
        this.batchRows++;
        break;
      default:
        // no row: counted, and the batch's row count tells the reader this record left nothing
        this.counters.unknownRecords++;
        this.nextSeq++;
    }
  }

  private symbolName(id: number): string {
    return this.symbols[id] ?? `#${id}`;
  }

  private intent(f64: Float64Array, i32: Int32Array, base: number, type: number): void {
    const seq = this.nextSeq++;
    const sym = i32[base * 2 + 1]!;
    const id = f64[base + IN.INTENT_ID]!;
    const isCancel = type === RecordType.OrderCancel;
    this.counters.intents++;
    const r = this.s.intent.run(seq, id, isCancel ? 'cancel' : 'new', this.symbolName(sym), f64[base + IN.SIDE]!, f64[base + IN.ORDER_TYPE]!, f64[base + IN.TIF]!,
      f64[base + IN.PRICE_TICKS]!, f64[base + IN.QTY_STEPS]!, f64[base + IN.FLAGS]!, num(f64[base + IN.DECISION_PRICE]!), isCancel ? f64[base + IN.TARGET_ID]! : null,
      f64[base + W.RECV_TS]!, f64[base + W.PUB_TS]!, int(f64[base + IN.EVENT_TIME]!));
    this.batchRows += r.changes;
    const m = this.machine;
    const effect = m.onIntentRecord(f64, i32, base);
    if (!isCancel && (effect & ReportEffect.Created) !== 0) this.assignOrder(m.slot, false);
  }

  /** Gives the new (or adopted) order in slot `s` its orders.id; the row is written at the batch's end. */
  private assignOrder(s: number, adopted: boolean): void {
    this.orderRow[s] = this.nextOrderId++;
    this.orderWritten[s] = 0;
    this.orderAdopted[s] = adopted ? 1 : 0;
  }

  private maxOrderId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM orders').get() as { m: number }).m;
  }

  private report(f64: Float64Array, i32: Int32Array, u8: Uint8Array, base: number): void {
    const seq = this.nextSeq++;
    this.counters.reports++;
    const h = i32[base * 2]!;
    const flags = (h >>> 8) & 0xff;
    const sym = i32[base * 2 + 1]!;
    const m = this.machine;
    const effect = m.onReportRecord(f64, i32, base);
    const msgLen = f64[base + RP.MSG_LEN]!;
    const message = msgLen > 0 ? UTF8.decode(u8.subarray((base + RP.MSG) * 8, (base + RP.MSG) * 8 + msgLen)) : null;
    let orderRef: number | null = null;
    let stateAfter: string;
    let fillSide = 0;
    let fillQty = 0;
    let fillPrice = 0;
    let foreign = false;
    if ((effect & ReportEffect.Foreign) !== 0) {
      foreign = true;
      const status = f64[base + RP.STATUS]!;
      stateAfter = orderStateName(status);
      const orderId = f64[base + RP.ORDER_ID]!;
      const clid = message !== null && message.length > 0 ? message : `venue-${orderId}`;
      const origin = ORIGIN_NAMES[(h >>> 16) & 0xffff] ?? 'manual';
      const cum = f64[base + RP.CUM_QTY]!;
      const row = this.s.foreignOrder.get(this.nextOrderId, clid, origin, this.symbolName(sym), f64[base + RP.SIDE]!, stateAfter, cum === cum ? cum : 0, num(f64[base + RP.AVG_PRICE]!) ?? 0,
        int(orderId), f64[base + RP.ACK_TS]!, f64[base + RP.ACK_TS]!) as { id: number };
      orderRef = row.id;
      if (row.id === this.nextOrderId) this.nextOrderId++;
      const last = f64[base + RP.LAST_QTY]!;
      if (f64[base + RP.EXEC_TYPE]! === ExecType.Fill && (flags & ExecFlag.Dup) === 0 && last > 0) {
        fillSide = f64[base + RP.SIDE]!;
        fillQty = last;
        fillPrice = f64[base + RP.LAST_PRICE]!;
      }
    } else if (m.slot >= 0) {
      const s = m.slot;
      if ((effect & ReportEffect.Adopted) !== 0) this.assignOrder(s, true);
      let target = s;
      if (m.slotKind(s) === SlotKind.Cancel) target = m.find(m.slotTarget(s));
      if (target >= 0 && m.slotKind(target) === SlotKind.Order) {
        orderRef = this.orderRow[target]! || null;
        stateAfter = orderStateName(m.slotState(target));
      } else {
        stateAfter = 'cancel_unmatched';
      }
      if ((effect & ReportEffect.Fill) !== 0) {
        fillSide = m.fillSide;
        fillQty = m.fillQty;
        fillPrice = m.fillPrice;
      }
    } else {
      stateAfter = 'unmatched';
    }
    const intentId = f64[base + RP.INTENT_ID]!;
    const reason = f64[base + RP.REASON]!;
    const fee = f64[base + RP.FEE]!;
    this.s.event.run(seq, orderRef, intentId >= 0 ? intentId : null, f64[base + RP.EXEC_TYPE]!, f64[base + RP.STATUS]!, stateAfter, flags,
      num(f64[base + RP.LAST_QTY]!), num(f64[base + RP.LAST_PRICE]!), num(f64[base + RP.CUM_QTY]!), num(f64[base + RP.AVG_PRICE]!), num(fee),
      int(f64[base + RP.ORDER_ID]!), int(f64[base + RP.ERROR_CODE]!) ?? 0, int(reason) ?? 0, message, f64[base + RP.IS_MAKER]! > 0 ? 1 : 0,
      int(f64[base + RP.VENUE_TIME]!), num(f64[base + W.RECV_TS]!), num(f64[base + RP.SENT_TS]!), num(f64[base + RP.ACK_TS]!));
    this.batchRows++;
    if (fillQty > 0 && orderRef !== null) {
      // the fee belongs to the execution the record describes: kept when the new quantity is that execution
      const last = f64[base + RP.LAST_QTY]!;
      const feeOfFill = fee === fee && Math.abs(last - fillQty) <= 1e-9 ? fee : 0;
      const r = this.s.fill.run(orderRef, seq, this.symbolName(sym), fillSide, fillQty, fillPrice === fillPrice ? fillPrice : 0, feeOfFill,
        f64[base + RP.IS_MAKER]! > 0 ? 1 : 0, foreign ? 1 : 0, int(f64[base + RP.VENUE_TIME]!), f64[base + RP.ACK_TS]!, this.wallMs());
      this.lastFillId = Number(r.lastInsertRowid);
      this.positions.applyFill(sym, fillSide, fillQty, fillPrice, feeOfFill);
      this.counters.fills++;
      this.batchFills++;
      if (!foreign && intentId > this.batchMaxFillIntent) this.batchMaxFillIntent = intentId;
    }
    if (f64[base + RP.EXEC_TYPE]! === ExecType.Reject && LOCAL_LIMIT_REASONS.has(reason)) {
      this.counters.riskRejects++;
      this.s.risk.run(null, seq, 'execution', intentId >= 0 ? intentId : null, this.symbolName(sym), f64[base + RP.SIDE]!, null, null, int(reason) ?? 0,
        REJECT_REASON_NAMES[reason] ?? `reason_${reason}`, null, null, message, num(f64[base + RP.ACK_TS]!));
    }
  }

  private accountUpdate(f64: Float64Array, i32: Int32Array, base: number): void {
    this.counters.accountUpdates++;
    const sym = i32[base * 2 + 1]!;
    const hasPos = f64[base + AU.HAS_POSITION]! === 1;
    const hasBal = f64[base + AU.HAS_BALANCE]! === 1;
    this.s.venueSnapshot.run(this.nextSeq++, sym >= 0 ? this.symbolName(sym) : null, hasPos ? num(f64[base + AU.POSITION_AMT]!) : null,
      hasPos ? num(f64[base + AU.ENTRY_PRICE]!) : null, hasPos ? num(f64[base + AU.REALIZED_PNL]!) : null, hasPos ? num(f64[base + AU.UNREALIZED_PNL]!) : null,
      hasBal ? num(f64[base + AU.WALLET_BALANCE]!) : null, int(f64[base + AU.REASON]!), this.lastFillId, int(f64[base + AU.EVENT_TIME]!), this.wallMs());
    this.batchRows++;
  }

  private riskReject(f64: Float64Array, i32: Int32Array, u8: Uint8Array, base: number): void {
    this.counters.riskRejects++;
    const len = f64[base + JRR.MSG_LEN]!;
    const m0 = (base + JRR.MSG) * 8;
    const reason = f64[base + JRR.REASON]!;
    this.s.risk.run(this.nextSeq++, null, 'strategy', null, this.symbolName(i32[base * 2 + 1]!), f64[base + JRR.SIDE]!, num(f64[base + JRR.QTY]!), num(f64[base + JRR.PRICE]!),
      int(reason) ?? 0, REJECT_REASON_NAMES[reason] ?? `reason_${reason}`, num(f64[base + JRR.LIMIT]!), num(f64[base + JRR.VALUE]!),
      len > 0 ? UTF8.decode(u8.subarray(m0, m0 + len)) : null, num(f64[base + JRR.PUB_TS]!));
    this.batchRows++;
  }

  /** The rows of the orders this batch touched: inserted with their state now if new, else updated. */
  private writeChangedOrders(): void {
    const m = this.machine;
    for (let i = 0; i < m.dirtyLength; i++) {
      const s = m.dirtySlot(i);
      const id = this.orderRow[s]!;
      if (m.slotKind(s) !== SlotKind.Order || id === 0) continue;
      const state = orderStateName(m.slotState(s));
      const venueId = int(m.slotVenueOrderId(s)) || null;
      if (this.orderWritten[s] === 1) {
        this.s.updateOrder.run(state, m.slotCumQty(s), m.slotAvgPrice(s), venueId, m.slotRejectReason(s), m.slotErrorCode(s), m.slotUpdatedTs(s), m.slotReports(s), id);
        continue;
      }
      const o = m.snapshotSlot(s);
      this.s.order.run(id, clientOrderId(this.prefix, o.intentId), o.intentId, this.orderAdopted[s] === 1 ? 'adopted' : 'ours', this.symbolName(o.symbolId), o.side,
        o.orderType, o.tif, num(o.price), num(o.qty), o.reduceOnly ? 1 : 0, state, o.cumQty, o.avgPrice, venueId, o.rejectReason, o.errorCode,
        o.createdTs, o.updatedTs, o.reports);
      this.orderWritten[s] = 1;
    }
    m.clearDirty();
  }

  /** Journal position snapshots and PnL points for the symbols that changed (all active ones when `all`). */
  private writeSnapshots(wall: number, all: boolean): void {
    const p = this.positions;
    for (let i = 0; i < p.symbols.length; i++) {
      if (!(all ? p.active[i] === 1 : p.changed[i] === 1)) continue;
      const sym = p.symbols[i]!;
      this.s.journalSnapshot.run(sym, p.position[i]!, p.avgCost[i]!, p.realized[i]!, p.fees[i]!, this.lastFillId, wall);
      this.s.pnl.run(sym, wall, p.position[i]!, p.avgCost[i]!, p.realized[i]!, p.fees[i]!, null, this.lastFillId);
      this.counters.snapshots++;
    }
    p.clearChanged();
    this.lastSnapshotWall = wall;
  }

  private recordFailure(records: number): void {
    try {
      const seq = this.nextSeq;
      this.db.transaction(() => {
        this.s.gap.run(seq, records, null);
        this.s.batch.run(seq, seq, 1, 1, 0, this.wallMs());
      })();
      this.nextSeq = seq + 1;
    } catch {
      // the database itself is failing: nothing more can be recorded
    }
  }

  /** Drains what is left, writes final snapshots, closes the session row and the database. */
  close(endReason = 'stop'): void {
    if (this.closed) return;
    while (this.drainBatch() > 0) {
      // keep going until the feeds are empty
    }
    const wall = this.wallMs();
    this.db.transaction(() => {
      this.writeSnapshots(wall, true);
      this.db.prepare('UPDATE sessions SET ended_wall_ms = ?, end_reason = ? WHERE id = ?').run(wall, endReason, this.sessionId);
    })();
    this.closed = true;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
