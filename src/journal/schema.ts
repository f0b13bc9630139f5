import type Database from 'better-sqlite3';

/**
 * The journal's SQLite schema. Every feed record the journal takes in gets a sequence number (`seq`,
 * increasing across sessions) and lands as exactly one row in one of intents, order_events,
 * position_snapshots (source 'venue'), risk_rejects (source 'strategy') or journal_gaps; journal_batches
 * records each transaction's seq range and row count, so a reader can prove that no batch is partial.
 * Orders rows are written once per batch with the order's state at the batch's end (ids assigned by the
 * writer, so events and fills of the same batch can name them first: those references are checked at
 * commit). Times: `*_ts_ns` are ns since the session's process epoch (sessions.epoch_wall_ms turns them into wall
 * time), `venue_time_ms` the venue's clock, `*_wall_ms` the journal worker's wall clock.
 */
export const SCHEMA_VERSION = 2;

const DDL_V1 = `
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  client_id_prefix TEXT NOT NULL UNIQUE,
  venue TEXT NOT NULL,
  symbols_json TEXT NOT NULL,
  config_json TEXT,
  epoch_wall_ms INTEGER NOT NULL,
  started_wall_ms INTEGER NOT NULL,
  ended_wall_ms INTEGER,
  end_reason TEXT
) STRICT;

CREATE TABLE intents (
  seq INTEGER NOT NULL,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  intent_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('new', 'cancel')),
  symbol TEXT NOT NULL,
  side INTEGER NOT NULL,
  order_type INTEGER NOT NULL,
  tif INTEGER NOT NULL,
  price_ticks INTEGER NOT NULL,
  qty_steps INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  decision_price REAL,
  target_intent_id INTEGER,
  recv_ts_ns REAL NOT NULL,
  pub_ts_ns REAL NOT NULL,
  event_time_ms INTEGER,
  PRIMARY KEY (session_id, intent_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  client_order_id TEXT NOT NULL,
  intent_id INTEGER,
  origin TEXT NOT NULL CHECK (origin IN ('ours', 'adopted', 'manual', 'liquidation', 'adl', 'settlement')),
  symbol TEXT NOT NULL,
  side INTEGER NOT NULL,
  order_type INTEGER,
  tif INTEGER,
  price REAL,
  qty REAL,
  reduce_only INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  cum_qty REAL NOT NULL DEFAULT 0,
  avg_price REAL NOT NULL DEFAULT 0,
  venue_order_id INTEGER,
  reject_reason INTEGER NOT NULL DEFAULT 0,
  error_code INTEGER NOT NULL DEFAULT 0,
  created_ts_ns REAL NOT NULL,
  updated_ts_ns REAL NOT NULL,
  reports INTEGER NOT NULL DEFAULT 0,
  UNIQUE (session_id, client_order_id)
) STRICT;
CREATE INDEX orders_open ON orders(state) WHERE state IN ('pending_new', 'new', 'partially_filled', 'unknown', 'pending_cancel');

CREATE TABLE order_events (
  seq INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  order_ref INTEGER REFERENCES orders(id) DEFERRABLE INITIALLY DEFERRED,
  intent_id INTEGER,
  exec_type INTEGER NOT NULL,
  status INTEGER NOT NULL,
  state_after TEXT,
  flags INTEGER NOT NULL,
  last_qty REAL,
  last_price REAL,
  cum_qty REAL,
  avg_price REAL,
  fee REAL,
  venue_order_id INTEGER,
  error_code INTEGER NOT NULL,
  reason INTEGER NOT NULL,
  message TEXT,
  is_maker INTEGER NOT NULL,
  venue_time_ms INTEGER,
  recv_ts_ns REAL,
  sent_ts_ns REAL,
  ack_ts_ns REAL
) STRICT;
CREATE INDEX order_events_order ON order_events(order_ref);

CREATE TABLE fills (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  order_ref INTEGER NOT NULL REFERENCES orders(id) DEFERRABLE INITIALLY DEFERRED,
  event_seq INTEGER NOT NULL REFERENCES order_events(seq),
  symbol TEXT NOT NULL,
  side INTEGER NOT NULL,
  qty REAL NOT NULL CHECK (qty > 0),
  price REAL NOT NULL,
  fee REAL NOT NULL,
  is_maker INTEGER NOT NULL,
  foreign_order INTEGER NOT NULL,
  venue_time_ms INTEGER,
  ts_ns REAL NOT NULL,
  wall_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX fills_symbol ON fills(symbol, id);
-- also what lets SQLite settle a deferred reference when the order row arrives later in the batch
CREATE INDEX fills_order ON fills(order_ref);

CREATE TABLE position_snapshots (
  id INTEGER PRIMARY KEY,
  seq INTEGER UNIQUE,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  source TEXT NOT NULL CHECK (source IN ('journal', 'venue')),
  symbol TEXT,
  position REAL,
  avg_cost REAL,
  realized_pnl REAL,
  fees REAL,
  unrealized_pnl REAL,
  wallet_balance REAL,
  reason INTEGER,
  last_fill_id INTEGER NOT NULL,
  venue_time_ms INTEGER,
  wall_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX position_snapshots_symbol ON position_snapshots(source, symbol, id);

CREATE TABLE risk_rejects (
  id INTEGER PRIMARY KEY,
  seq INTEGER UNIQUE,
  event_seq INTEGER REFERENCES order_events(seq),
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  source TEXT NOT NULL CHECK (source IN ('strategy', 'execution')),
  intent_id INTEGER,
  symbol TEXT,
  side INTEGER,
  qty REAL,
  price REAL,
  reason INTEGER NOT NULL,
  reason_name TEXT NOT NULL,
  limit_value REAL,
  value REAL,
  message TEXT,
  ts_ns REAL
) STRICT;

CREATE TABLE pnl_series (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  symbol TEXT NOT NULL,
  wall_ms INTEGER NOT NULL,
  position REAL NOT NULL,
  avg_cost REAL NOT NULL,
  realized_pnl REAL NOT NULL,
  fees REAL NOT NULL,
  unrealized_pnl REAL,
  last_fill_id INTEGER NOT NULL
) STRICT;

CREATE TABLE journal_gaps (
  seq INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  lost INTEGER NOT NULL,
  pub_ts_ns REAL
) STRICT;

CREATE TABLE journal_batches (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  records INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  fills INTEGER NOT NULL,
  committed_wall_ms INTEGER NOT NULL
) STRICT;
`;

const DDL_V2 = `
ALTER TABLE fills ADD COLUMN venue_trade_id INTEGER;
CREATE UNIQUE INDEX fills_venue_trade ON fills(symbol, venue_trade_id) WHERE venue_trade_id IS NOT NULL;

-- run_id groups the rows of one reconcile (one engine start); session_id is the session the difference
-- was attributed to (NULL when the journal has none); journal_value / venue_value say what each side had
CREATE TABLE reconciliations (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  wall_ms INTEGER NOT NULL,
  session_id INTEGER REFERENCES sessions(id),
  kind TEXT NOT NULL CHECK (kind IN ('fill_added', 'order_added', 'order_closed', 'order_adopted', 'order_cancelled', 'order_cancel_failed', 'position_corrected', 'session_closed')),
  symbol TEXT,
  client_order_id TEXT,
  venue_order_id INTEGER,
  venue_trade_id INTEGER,
  order_ref INTEGER REFERENCES orders(id),
  fill_ref INTEGER REFERENCES fills(id),
  journal_value TEXT,
  venue_value TEXT,
  detail TEXT
) STRICT;
CREATE INDEX reconciliations_run ON reconciliations(run_id, id);
`;

const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  { version: 1, sql: DDL_V1 },
  { version: 2, sql: DDL_V2 },
];

export type SyncMode = 'normal' | 'full';

/**
 * Pragmas of a journal connection. WAL: readers never block the writer, and a crash leaves the last
 * committed transaction intact (the WAL is replayed on the next open). `synchronous=FULL` syncs the WAL
 * at every commit (a power cut loses nothing committed); NORMAL syncs only at checkpoints (a process
 * crash loses nothing, a power cut may lose the last transactions, never consistency).
 */
export function configureConnection(db: Database.Database, sync: SyncMode): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
}

/** Creates or upgrades the schema; returns the version in place. Refuses a journal newer than this build. */
export function migrate(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_wall_ms INTEGER NOT NULL) STRICT');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  const current = row.v ?? 0;
  if (current > SCHEMA_VERSION) throw new Error(`journal schema version ${current} is newer than this build (${SCHEMA_VERSION})`);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, applied_wall_ms) VALUES (?, ?)').run(m.version, Date.now());
    })();
  }
  return SCHEMA_VERSION;
}
