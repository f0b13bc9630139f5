import Database from 'better-sqlite3';
import { PositionBook, type PositionState } from './PositionBook.js';
import { OPEN_STATE_NAMES } from '../orders/OrderState.js';

/**
 * Reading the journal: what a restart needs (the last session, orders the venue may still hold, positions,
 * recent fills) and the `hft journal` query. Readers never write; WAL lets them run beside the writer.
 */
export interface SessionRow {
  id: number;
  client_id_prefix: string;
  venue: string;
  symbols_json: string;
  config_json: string | null;
  epoch_wall_ms: number;
  started_wall_ms: number;
  ended_wall_ms: number | null;
  end_reason: string | null;
}

export interface OrderRow {
  id: number;
  session_id: number;
  client_order_id: string;
  intent_id: number | null;
  origin: string;
  symbol: string;
  side: number;
  order_type: number | null;
  tif: number | null;
  price: number | null;
  qty: number | null;
  reduce_only: number;
  state: string;
  cum_qty: number;
  avg_price: number;
  venue_order_id: number | null;
  reject_reason: number;
  error_code: number;
  created_ts_ns: number;
  updated_ts_ns: number;
  reports: number;
}

export interface FillRow {
  id: number;
  session_id: number;
  order_ref: number;
  client_order_id: string;
  intent_id: number | null;
  event_seq: number;
  symbol: string;
  side: number;
  qty: number;
  price: number;
  fee: number;
  is_maker: number;
  foreign_order: number;
  venue_time_ms: number | null;
  ts_ns: number;
  wall_ms: number;
  /** the venue's trade id, on fills the restart reconciler took from the venue's trade list (schema 2) */
  venue_trade_id: number | null;
}

export interface PositionRow extends PositionState {
  /** the journal snapshot this started from (0 = none: all fills replayed) */
  snapshotId: number;
  /** fills applied after it */
  fillsAfterSnapshot: number;
  /** the newest fill included */
  lastFillId: number;
  /** the venue's last reported position for the symbol (AccountUpdate), if any */
  venuePosition: number | null;
}

export interface OpenJournalOptions {
  readonly?: boolean;
}

/** Opens a journal database file (read-write by default: a WAL database left by a crash needs recovery). */
export function openJournalDb(path: string, opts: OpenJournalOptions = {}): Database.Database {
  const db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

export class JournalReader {
  private readonly owned: boolean;
  readonly db: Database.Database;

  constructor(dbOrPath: Database.Database | string) {
    this.owned = typeof dbOrPath === 'string';
    this.db = typeof dbOrPath === 'string' ? openJournalDb(dbOrPath) : dbOrPath;
  }

  close(): void {
    if (this.owned) this.db.close();
  }

  lastSession(): SessionRow | undefined {
    return this.db.prepare('SELECT * FROM sessions ORDER BY id DESC LIMIT 1').get() as SessionRow | undefined;
  }

  /** Orders the venue may still hold (open or unknown), every session unless one is named; newest first. */
  openOrders(sessionId?: number): OrderRow[] {
    const states = OPEN_STATE_NAMES.map((s) => `'${s}'`).join(', ');
    const where = `state IN (${states})${sessionId !== undefined ? ' AND session_id = ?' : ''}`;
    const stmt = this.db.prepare(`SELECT * FROM orders WHERE ${where} ORDER BY id DESC`);
    return (sessionId !== undefined ? stmt.all(sessionId) : stmt.all()) as OrderRow[];
  }

  /** The newest fills (newest first), optionally of one symbol or session. */
  recentFills(limit = 100, filter: { symbol?: string; sessionId?: number } = {}): FillRow[] {
    const cond: string[] = [];
    const args: Array<string | number> = [];
    if (filter.symbol !== undefined) {
      cond.push('f.symbol = ?');
      args.push(filter.symbol);
    }
    if (filter.sessionId !== undefined) {
      cond.push('f.session_id = ?');
      args.push(filter.sessionId);
    }
    args.push(limit);
    const sql = `SELECT f.*, o.client_order_id, o.intent_id FROM fills f JOIN orders o ON o.id = f.order_ref ${cond.length ? `WHERE ${cond.join(' AND ')}` : ''} ORDER BY f.id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...args) as FillRow[];
  }

  /**
   * Positions per symbol: the last journal snapshot, then every fill journaled after it (across sessions).
   * A symbol never snapshotted is rebuilt from all its fills.
   */
  positions(): PositionRow[] {
    const db = this.db;
    const symbols = (db.prepare(`SELECT symbol FROM fills GROUP BY symbol UNION SELECT symbol FROM position_snapshots WHERE source = 'journal' AND symbol IS NOT NULL GROUP BY symbol`).all() as Array<{ symbol: string }>).map((r) => r.symbol).sort();
    const book = new PositionBook(symbols);
    const snapStmt = db.prepare(`SELECT id, position, avg_cost, realized_pnl, fees, last_fill_id FROM position_snapshots WHERE source = 'journal' AND symbol = ? ORDER BY id DESC LIMIT 1`);
    const fillsStmt = db.prepare('SELECT id, side, qty, price, fee FROM fills WHERE symbol = ? AND id > ? ORDER BY id');
    const venueStmt = db.prepare(`SELECT position FROM position_snapshots WHERE source = 'venue' AND symbol = ? AND position IS NOT NULL ORDER BY id DESC LIMIT 1`);
    const out: PositionRow[] = [];
    for (let i = 0; i < symbols.length; i++) {
      const sym = symbols[i]!;
      const snap = snapStmt.get(sym) as { id: number; position: number; avg_cost: number; realized_pnl: number; fees: number; last_fill_id: number } | undefined;
      let lastFillId = 0;
      if (snap) {
        book.seed(i, { position: snap.position, avgCost: snap.avg_cost, realizedPnl: snap.realized_pnl, fees: snap.fees });
        lastFillId = snap.last_fill_id;
      }
      let n = 0;
      for (const f of fillsStmt.iterate(sym, lastFillId) as Iterable<{ id: number; side: number; qty: number; price: number; fee: number }>) {
        book.applyFill(i, f.side, f.qty, f.price, f.fee);
        lastFillId = f.id;
        n++;
      }
      const venue = venueStmt.get(sym) as { position: number } | undefined;
      out.push({ ...book.state(i), snapshotId: snap?.id ?? 0, fillsAfterSnapshot: n, lastFillId, venuePosition: venue?.position ?? null });
    }
    return out;
  }

  /** `PRAGMA integrity_check` plus the journal's own invariants; an empty list means sound. */
  verify(): string[] {
    const db = this.db;
    const problems: string[] = [];
    const ic = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    if (ic.length !== 1 || ic[0]!.integrity_check !== 'ok') problems.push(`integrity_check: ${ic.map((r) => r.integrity_check).join('; ')}`);
    const fk = db.pragma('foreign_key_check') as unknown[];
    if (fk.length > 0) problems.push(`foreign_key_check: ${fk.length} rows reference missing rows`);
    const orphanFills = (db.prepare('SELECT COUNT(*) AS n FROM fills f LEFT JOIN orders o ON o.id = f.order_ref WHERE o.id IS NULL').get() as { n: number }).n;
    if (orphanFills > 0) problems.push(`${orphanFills} fills without their order`);
    // every batch complete: its rows are all there, and nothing exists outside a batch
    const bad = db.prepare(`
      SELECT b.id, b.rows, (
        (SELECT COUNT(*) FROM intents WHERE seq BETWEEN b.first_seq AND b.last_seq) +
        (SELECT COUNT(*) FROM order_events WHERE seq BETWEEN b.first_seq AND b.last_seq) +
        (SELECT COUNT(*) FROM position_snapshots WHERE seq BETWEEN b.first_seq AND b.last_seq) +
        (SELECT COUNT(*) FROM risk_rejects WHERE seq BETWEEN b.first_seq AND b.last_seq) +
        (SELECT COUNT(*) FROM journal_gaps WHERE seq BETWEEN b.first_seq AND b.last_seq)) AS found
      FROM journal_batches b`).all() as Array<{ id: number; rows: number; found: number }>;
    for (const b of bad) if (b.rows !== b.found) problems.push(`batch ${b.id}: ${b.found} rows of ${b.rows}`);
    const maxSeq = (db.prepare('SELECT COALESCE(MAX(last_seq), 0) AS s FROM journal_batches').get() as { s: number }).s;
    const outside = (db.prepare(`SELECT
        (SELECT COUNT(*) FROM intents WHERE seq > ?) + (SELECT COUNT(*) FROM order_events WHERE seq > ?) +
        (SELECT COUNT(*) FROM position_snapshots WHERE seq > ?) + (SELECT COUNT(*) FROM risk_rejects WHERE seq > ?) +
        (SELECT COUNT(*) FROM journal_gaps WHERE seq > ?) AS n`).get(maxSeq, maxSeq, maxSeq, maxSeq, maxSeq) as { n: number }).n;
    if (outside > 0) problems.push(`${outside} rows after the last batch`);
    return problems;
  }
}

// ---------------------------------------------------------------- `hft journal`

export type JournalView = 'sessions' | 'orders' | 'open' | 'events' | 'fills' | 'positions' | 'rejects' | 'pnl' | 'batches';
export const JOURNAL_VIEWS: readonly JournalView[] = ['sessions', 'orders', 'open', 'events', 'fills', 'positions', 'rejects', 'pnl', 'batches'];

export interface JournalQuery {
  view: JournalView;
  /** a session id, or 'last' */
  session?: number | 'last';
  symbol?: string;
  /** client order id (orders, events, fills) */
  order?: string;
  /** wall-clock ms lower bound where the view has one (fills, pnl, sessions, batches) */
  sinceMs?: number;
  /** newest N rows (default 100) */
  limit?: number;
}

const VIEW_SQL: Record<Exclude<JournalView, 'positions'>, { sql: string; session: string; symbol?: string; order?: string; since?: string; orderBy: string }> = {
  sessions: { sql: 'SELECT * FROM sessions s', session: 's.id', since: 's.started_wall_ms', orderBy: 's.id DESC' },
  orders: { sql: 'SELECT o.* FROM orders o', session: 'o.session_id', symbol: 'o.symbol', order: 'o.client_order_id', orderBy: 'o.id DESC' },
  open: { sql: `SELECT o.* FROM orders o WHERE o.state IN (${OPEN_STATE_NAMES.map((s) => `'${s}'`).join(', ')})`, session: 'o.session_id', symbol: 'o.symbol', order: 'o.client_order_id', orderBy: 'o.id DESC' },
  events: { sql: 'SELECT e.*, o.client_order_id, o.symbol FROM order_events e LEFT JOIN orders o ON o.id = e.order_ref', session: 'e.session_id', symbol: 'o.symbol', order: 'o.client_order_id', orderBy: 'e.seq DESC' },
  fills: { sql: 'SELECT f.*, o.client_order_id FROM fills f JOIN orders o ON o.id = f.order_ref', session: 'f.session_id', symbol: 'f.symbol', order: 'o.client_order_id', since: 'f.wall_ms', orderBy: 'f.id DESC' },
  rejects: { sql: 'SELECT r.* FROM risk_rejects r', session: 'r.session_id', symbol: 'r.symbol', orderBy: 'r.id DESC' },
  pnl: { sql: 'SELECT p.* FROM pnl_series p', session: 'p.session_id', symbol: 'p.symbol', since: 'p.wall_ms', orderBy: 'p.id DESC' },
  batches: { sql: 'SELECT b.* FROM journal_batches b', session: 'b.session_id', since: 'b.committed_wall_ms', orderBy: 'b.id DESC' },
};

/**
 * The `hft journal` query: one view of the journal, filtered, newest first. Read-only; the journal is
 * append-only (orders rows are the one thing updated in place: their current state).
 */
export function queryJournal(db: Database.Database, q: JournalQuery): Array<Record<string, unknown>> {
  if (!JOURNAL_VIEWS.includes(q.view)) throw new Error(`journal view must be one of ${JOURNAL_VIEWS.join(', ')}; got ${String(q.view)}`);
  const limit = q.limit ?? 100;
  if (q.view === 'positions') {
    const rows = new JournalReader(db).positions();
    return (q.symbol !== undefined ? rows.filter((r) => r.symbol === q.symbol) : rows).slice(0, limit) as unknown as Array<Record<string, unknown>>;
  }
  const v = VIEW_SQL[q.view];
  const cond: string[] = [];
  const args: Array<string | number> = [];
  if (q.session !== undefined) {
    if (q.session === 'last') cond.push(`${v.session} = (SELECT MAX(id) FROM sessions)`);
    else {
      cond.push(`${v.session} = ?`);
      args.push(q.session);
    }
  }
  const filters: Array<[string | undefined, string | number | undefined, string]> = [
    [v.symbol, q.symbol, 'symbol'],
    [v.order, q.order, 'order'],
    [v.since, q.sinceMs, 'since'],
  ];
  for (const [col, value, name] of filters) {
    if (value === undefined) continue;
    if (col === undefined) throw new Error(`journal view ${q.view} has no ${name} filter`);
    cond.push(name === 'since' ? `${col} >= ?` : `${col} = ?`);
    args.push(value);
  }
  const joiner = v.sql.includes(' WHERE ') ? ' AND ' : ' WHERE ';
  const sql = `${v.sql}${cond.length ? joiner + cond.join(' AND ') : ''} ORDER BY ${v.orderBy} LIMIT ?`;
  args.push(limit);
  return db.prepare(sql).all(...args) as Array<Record<string, unknown>>;
}

/** Rows as JSON lines, or as an aligned text table with the columns of the first row. */
export function formatJournalRows(rows: ReadonlyArray<Record<string, unknown>>, format: 'table' | 'json' = 'table'): string {
  if (format === 'json') return rows.map((r) => JSON.stringify(r)).join('\n');
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'number' && !Number.isInteger(v) ? String(Math.round(v * 1e8) / 1e8) : String(v));
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(width[i]!)).join('  ').trimEnd();
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
