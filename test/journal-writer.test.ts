/**
 * The journal (src/journal/) in-process: records copied into a feed ring, drained by JournalWriter into
 * SQLite; the rows checked against hand-computed values. Also the feed's full-ring policy (spill, loss,
 * Gap), the ring-C tee, restart reads (positions carried across sessions, open orders, recent fills)
 * and the `hft journal` query.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AccountUpdateReason, AU, ExecFlag, ExecType, OrderOrigin, OrderStatus, packHeader, RecordType, RejectReason, REPORT_SLOT_BYTES, Side } from '../src/ring/layout.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { createJournalFeed, JournalFeedWriter } from '../src/journal/JournalFeed.js';
import { JournalWriter, type JournalSessionInfo } from '../src/journal/JournalWriter.js';
import { formatJournalRows, JournalReader, queryJournal } from '../src/journal/JournalReader.js';
import { writeIntent, writeReport, type IntentSpec, type ReportSpec } from '../src/journal/syntheticRecords.js';
import { SCHEMA_VERSION } from '../src/journal/schema.js';

const dirs: string[] = [];
function tempDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'journal-test-'));
  dirs.push(d);
  return join(d, 'journal.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const rec = new Float64Array(32);
const recI32 = new Int32Array(rec.buffer);
const recU8 = new Uint8Array(rec.buffer);
const session = (prefix: string): JournalSessionInfo => ({
  clientIdPrefix: prefix, venue: 'binance-sim', symbols: ['BTCUSDT', 'ETHUSDT'], stepSizes: [0.001, 0.01], tickSizes: [0.1, 0.01], epochWallMs: 1_700_000_000_000,
});

class Rig {
  readonly feed = createJournalFeed('journal-test', 1024);
  readonly out = new JournalFeedWriter(this.feed, 16);
  intent(s: Partial<IntentSpec> & { intentId: number }): void {
    rec.fill(0);
    writeIntent(rec, recI32, 0, { kind: 'new', symbolId: 0, side: Side.Buy, qtySteps: 3, priceTicks: 1_000_000, pubTs: 5e9, ...s });
    this.out.intent(recI32, 0);
  }
  report(s: Partial<ReportSpec> & { intentId: number; status: number; execType: number }): void {
    rec.fill(0);
    writeReport(rec, recI32, recU8, 0, { symbolId: 0, side: Side.Buy, ackTs: 6e9, ...s });
    this.out.report(recI32, 0);
  }
  account(symbolId: number, position: number, entry: number): void {
    rec.fill(0);
    recI32[0] = packHeader(RecordType.AccountUpdate, 0, 0);
    recI32[1] = symbolId;
    rec[AU.POSITION_AMT] = position;
    rec[AU.ENTRY_PRICE] = entry;
    rec[AU.UNREALIZED_PNL] = 0.5;
    rec[AU.REALIZED_PNL] = Number.NaN;
    rec[AU.WALLET_BALANCE] = 1000;
    rec[AU.HAS_POSITION] = 1;
    rec[AU.HAS_BALANCE] = 1;
    rec[AU.REASON] = AccountUpdateReason.Order;
    rec[AU.EVENT_TIME] = 1_700_000_000_500;
    this.out.report(recI32, 0);
  }
}

const fill = (id: number, last: number, price: number, cum: number, avg: number, done: boolean, flags = 0, extra: Partial<ReportSpec> = {}): Partial<ReportSpec> & { intentId: number; status: number; execType: number } =>
  ({ intentId: id, status: done ? OrderStatus.Filled : OrderStatus.PartiallyFilled, execType: ExecType.Fill, lastQty: last, lastPrice: price, cumQty: cum, avgPrice: avg, orderId: 500 + id, flags, ...extra });

/** One session's worth of traffic: hand-computed outcomes below. */
function scriptedSession(r: Rig): void {
  // order 1: buy 0.003 BTC; response partial 0.001 @ 100, the stream repeats it, then the stream fills 0.002 @ 103
  r.intent({ intentId: 1 });
  r.report(fill(1, 0.001, 100, 0.001, 100, false));
  r.report(fill(1, 0.001, 100, 0.001, 100, false, ExecFlag.Stream, { fee: 0.01 }));
  r.report(fill(1, 0.002, 103, 0.003, 102, true, ExecFlag.Stream, { fee: 0.02, isMaker: 1 }));
  // order 2: sell 0.002 BTC, answer lost (Unknown), resolved filled 0.002 @ 110
  r.intent({ intentId: 2, side: Side.Sell, qtySteps: 2 });
  r.report({ intentId: 2, side: Side.Sell, status: OrderStatus.Unknown, execType: ExecType.Reject, reason: RejectReason.Timeout, message: 'no response within 2000 ms' });
  r.report(fill(2, 0.002, 110, 0.002, 110, true, 0, { side: Side.Sell }));
  // order 3: rests; cancel intent 4; canceled
  r.intent({ intentId: 3, qtySteps: 5 });
  r.report({ intentId: 3, status: OrderStatus.New, execType: ExecType.Ack, orderId: 503 });
  r.intent({ intentId: 4, kind: 'cancel', targetId: 3, qtySteps: 0 });
  r.report({ intentId: 3, status: OrderStatus.Canceled, execType: ExecType.Canceled, orderId: 503 });
  // order 5: refused before sending (max position)
  r.intent({ intentId: 5, qtySteps: 1000 });
  r.report({ intentId: 5, status: OrderStatus.Rejected, execType: ExecType.Reject, reason: RejectReason.MaxPosition, message: 'position limit' });
  // order 6: rests open (ETH)
  r.intent({ intentId: 6, symbolId: 1, qtySteps: 10, priceTicks: 200_000 });
  r.report({ intentId: 6, symbolId: 1, status: OrderStatus.New, execType: ExecType.Ack, orderId: 506 });
  // a liquidation fill of a foreign order: sell 0.001 BTC @ 90
  r.report({ intentId: -1, side: Side.Sell, status: OrderStatus.Filled, execType: ExecType.Fill, lastQty: 0.001, lastPrice: 90, cumQty: 0.001, avgPrice: 90, orderId: 999, flags: ExecFlag.Stream | ExecFlag.Foreign, origin: OrderOrigin.Liquidation, message: 'autoclose-123' });
  // the venue's position and a strategy-side risk refusal
  r.account(0, 0, 0);
  r.out.riskReject(1, Side.Buy, 5, 2000, RejectReason.MaxOrderQty, 1, 5, 4e9, 'max order qty 1');
}

describe('journal writer', () => {
  it('writes intents, orders, events, fills (each once), snapshots and rejects in one transaction per batch', () => {
    const path = tempDb();
    const r = new Rig();
    const w = new JournalWriter({ dbPath: path, feeds: [r.feed], session: session('hA-'), snapshotIntervalMs: 1e12 });
    const commits: number[][] = [];
    w.onCommit = (c) => commits.push([c.firstSeq, c.lastSeq, c.records, c.rows, c.fills, c.totalFills, c.maxFillIntentId]);
    scriptedSession(r);
    // 6 intents + 10 reports + 1 account update + 1 risk reject
    expect(w.drainBatch()).toBe(18);
    expect(w.drainBatch()).toBe(0);
    // fills: 1: 0.001 + 0.002, 2: 0.002, foreign 0.001
    expect(commits).toEqual([[1, 18, 18, 18, 4, 4, 2]]);
    const db = w.db;
    const orders = db.prepare('SELECT client_order_id, origin, symbol, side, qty, price, state, cum_qty, avg_price, venue_order_id, reject_reason FROM orders ORDER BY id').all();
    expect(orders).toEqual([
      { client_order_id: 'hA-1', origin: 'ours', symbol: 'BTCUSDT', side: 1, qty: 0.003, price: 100_000, state: 'filled', cum_qty: 0.003, avg_price: 102, venue_order_id: 501, reject_reason: 0 },
      { client_order_id: 'hA-2', origin: 'ours', symbol: 'BTCUSDT', side: -1, qty: 0.002, price: 100_000, state: 'filled', cum_qty: 0.002, avg_price: 110, venue_order_id: 502, reject_reason: 0 },
      { client_order_id: 'hA-3', origin: 'ours', symbol: 'BTCUSDT', side: 1, qty: 0.005, price: 100_000, state: 'canceled', cum_qty: 0, avg_price: 0, venue_order_id: 503, reject_reason: 0 },
      { client_order_id: 'hA-5', origin: 'ours', symbol: 'BTCUSDT', side: 1, qty: 1, price: 100_000, state: 'rejected', cum_qty: 0, avg_price: 0, venue_order_id: null, reject_reason: RejectReason.MaxPosition },
      { client_order_id: 'hA-6', origin: 'ours', symbol: 'ETHUSDT', side: 1, qty: 0.1, price: 2000, state: 'new', cum_qty: 0, avg_price: 0, venue_order_id: 506, reject_reason: 0 },
      { client_order_id: 'autoclose-123', origin: 'liquidation', symbol: 'BTCUSDT', side: -1, qty: null, price: null, state: 'filled', cum_qty: 0.001, avg_price: 90, venue_order_id: 999, reject_reason: 0 },
    ]);
    const fills = db.prepare('SELECT o.client_order_id AS clid, f.side, f.qty, f.price, f.fee, f.is_maker, f.foreign_order FROM fills f JOIN orders o ON o.id = f.order_ref ORDER BY f.id').all();
    expect(fills).toEqual([
      { clid: 'hA-1', side: 1, qty: 0.001, price: 100, fee: 0, is_maker: 0, foreign_order: 0 },
      { clid: 'hA-1', side: 1, qty: 0.002, price: 103, fee: 0.02, is_maker: 1, foreign_order: 0 },
      { clid: 'hA-2', side: -1, qty: 0.002, price: 110, fee: 0, is_maker: 0, foreign_order: 0 },
      { clid: 'autoclose-123', side: -1, qty: 0.001, price: 90, fee: 0, is_maker: 0, foreign_order: 1 },
    ]);
    // the duplicate stream fill and the Unknown are events, not fills
    const events = db.prepare('SELECT intent_id, exec_type, status, state_after, message FROM order_events ORDER BY seq').all() as Array<{ intent_id: number | null; state_after: string; message: string | null }>;
    expect(events).toHaveLength(10);
    expect(events.filter((e) => e.intent_id === 2).map((e) => e.state_after)).toEqual(['unknown', 'filled']);
    expect(events[3]!.message).toBe('no response within 2000 ms');
    expect(events.filter((e) => e.intent_id === 3).map((e) => e.state_after)).toEqual(['new', 'canceled']);
    expect(db.prepare("SELECT kind, target_intent_id FROM intents WHERE intent_id = 4").get()).toEqual({ kind: 'cancel', target_intent_id: 3 });
    const rejects = db.prepare('SELECT source, intent_id, symbol, reason_name, qty, limit_value, message FROM risk_rejects ORDER BY id').all();
    expect(rejects).toEqual([
      { source: 'execution', intent_id: 5, symbol: 'BTCUSDT', reason_name: 'max_position', qty: null, limit_value: null, message: 'position limit' },
      { source: 'strategy', intent_id: null, symbol: 'ETHUSDT', reason_name: 'max_order_qty', qty: 5, limit_value: 1, message: 'max order qty 1' },
    ]);
    expect(db.prepare("SELECT symbol, position, avg_cost, unrealized_pnl, wallet_balance, realized_pnl FROM position_snapshots WHERE source = 'venue'").all()).toEqual([
      { symbol: 'BTCUSDT', position: 0, avg_cost: 0, unrealized_pnl: 0.5, wallet_balance: 1000, realized_pnl: null },
    ]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT MAX(version) AS v FROM schema_version').get()).toEqual({ v: SCHEMA_VERSION });
    expect(new JournalReader(db).verify()).toEqual([]);
    w.close();
  });

  it('restart: positions carry over (snapshot + later fills), open orders, last session, recent fills, queries', () => {
    const path = tempDb();
    const r1 = new Rig();
    const w1 = new JournalWriter({ dbPath: path, feeds: [r1.feed], session: session('hA-'), snapshotIntervalMs: 1e12 });
    scriptedSession(r1);
    w1.drainBatch();
    w1.close('stop');
    // BTC: +0.001@100, +0.002@103 -> 0.003 @ 102; -0.002@110 -> realise 0.002*(110-102)=0.016; -0.001@90 -> 0.016 + 0.001*(90-102) = 0.004, flat
    const r2 = new Rig();
    const w2 = new JournalWriter({ dbPath: path, feeds: [r2.feed], session: session('hB-'), snapshotIntervalMs: 1e12 });
    r2.intent({ intentId: 1, side: Side.Sell, qtySteps: 4 });
    r2.report(fill(1, 0.004, 120, 0.004, 120, true, 0, { side: Side.Sell }));
    w2.drainBatch();
    // session B's fill lands after session A's final snapshot
    const reader = new JournalReader(w2.db);
    const pos = reader.positions();
    const btc = pos.find((p) => p.symbol === 'BTCUSDT')!;
    expect(btc.position).toBe(-0.004);
    expect(btc.avgCost).toBe(120);
    expect(btc.realizedPnl).toBeCloseTo(0.004, 9);
    expect(btc.fillsAfterSnapshot).toBe(1);
    expect(btc.snapshotId).toBeGreaterThan(0);
    expect(btc.venuePosition).toBe(0);
    expect(w2.positions.position[0]).toBe(-0.004);
    expect(reader.lastSession()!.client_id_prefix).toBe('hB-');
    expect(reader.openOrders().map((o) => [o.client_order_id, o.state])).toEqual([['hA-6', 'new']]);
    expect(reader.recentFills(2).map((f) => [f.client_order_id, f.qty])).toEqual([['hB-1', 0.004], ['autoclose-123', 0.001]]);
    const sessions = queryJournal(w2.db, { view: 'sessions' });
    expect(sessions.map((s) => [s['client_id_prefix'], s['end_reason']])).toEqual([['hB-', null], ['hA-', 'stop']]);
    const lastFills = queryJournal(w2.db, { view: 'fills', session: 'last' });
    expect(lastFills).toHaveLength(1);
    expect(queryJournal(w2.db, { view: 'orders', order: 'hA-3' })[0]!['state']).toBe('canceled');
    expect(queryJournal(w2.db, { view: 'rejects', symbol: 'ETHUSDT' })).toHaveLength(1);
    expect(() => queryJournal(w2.db, { view: 'rejects', order: 'x' })).toThrow(/no order filter/);
    const table = formatJournalRows(queryJournal(w2.db, { view: 'open' }).map((o) => ({ clid: o['client_order_id'], state: o['state'] })));
    expect(table).toBe('clid  state\n----  -----\nhA-6  new');
    expect(reader.verify()).toEqual([]);
    w2.close();
  });
});

describe('journal feed', () => {
  it('a full ring spills in order, then loses and says how many with a Gap in the right place', () => {
    const path = tempDb();
    const feed = createJournalFeed('tiny', 4);
    const out = new JournalFeedWriter(feed, 2);
    const w = new JournalWriter({ dbPath: path, feeds: [feed], session: session('hG-'), snapshotIntervalMs: 1e12 });
    for (let id = 1; id <= 10; id++) {
      rec.fill(0);
      writeIntent(rec, recI32, 0, { kind: 'new', intentId: id, symbolId: 0, side: 1, qtySteps: 1 });
      out.intent(recI32, 0);
    }
    // ring holds 1..4, the spill 5..6, 7..10 lost
    expect(out.counters).toEqual({ published: 4, spilled: 2, lost: 4 });
    expect(w.drainBatch()).toBe(4);
    expect(out.flush()).toBe(0); // 5, 6, then the Gap
    rec.fill(0);
    writeIntent(rec, recI32, 0, { kind: 'new', intentId: 11, symbolId: 0, side: 1, qtySteps: 1 });
    out.intent(recI32, 0);
    expect(w.drainBatch()).toBe(4);
    const ids = (w.db.prepare('SELECT intent_id, seq FROM intents ORDER BY seq').all() as Array<{ intent_id: number; seq: number }>).map((x) => [x.intent_id, x.seq]);
    expect(ids).toEqual([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6], [11, 8]]);
    expect(w.db.prepare('SELECT seq, lost FROM journal_gaps').all()).toEqual([{ seq: 7, lost: 4 }]);
    expect(w.counters.lostByProducers).toBe(4);
    expect(new JournalReader(w.db).verify()).toEqual([]);
    w.close();
  });

  it('the ring-C tee publishes to ring C first and copies each committed record, nothing of an abort', () => {
    const ringC = SpscRing.create('C', 8, REPORT_SLOT_BYTES);
    const feed = createJournalFeed('tee', 8);
    const tee = new JournalFeedWriter(feed, 0).tee(ringC);
    const b1 = tee.claim();
    writeReport(tee.f64, tee.i32, tee.u8, b1, { intentId: 7, symbolId: 1, side: -1, status: OrderStatus.New, execType: ExecType.Ack, message: 'ok' });
    const b2 = tee.claim();
    writeReport(tee.f64, tee.i32, tee.u8, b2, { intentId: 8, symbolId: -1, side: 1, status: OrderStatus.Filled, execType: ExecType.Fill, cumQty: Number.NaN, lastQty: 1 });
    tee.commit();
    const b3 = tee.claim();
    tee.f64[b3 + 3] = 99;
    tee.abort();
    expect(ringC.poll()).toBe(2);
    expect(feed.poll()).toBe(2);
    // byte-identical copies (a NaN and a header with symbol -1 included)
    for (let i = 0; i < 2; i++) {
      const a = new Uint8Array(ringC.u8.buffer, ringC.u8.byteOffset + ringC.readBase(i) * 8, 256);
      const c = new Uint8Array(feed.u8.buffer, feed.u8.byteOffset + feed.readBase(i) * 8, 256);
      expect(Buffer.from(c).equals(Buffer.from(a))).toBe(true);
    }
    expect(feed.f64[feed.readBase(1) + 3]).toBe(8);
  });
});

describe('journal schema', () => {
  it('refuses to journal the same session (client id prefix) twice', () => {
    const path = tempDb();
    const r = new Rig();
    new JournalWriter({ dbPath: path, feeds: [r.feed], session: session('hP-') }).close();
    expect(() => new JournalWriter({ dbPath: path, feeds: [r.feed], session: session('hP-') })).toThrow(/session hP- is already in/);
  });

  it('refuses a journal written by a newer schema', () => {
    const path = tempDb();
    const r = new Rig();
    new JournalWriter({ dbPath: path, feeds: [r.feed], session: session('hS-') }).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_version (version, applied_wall_ms) VALUES (?, ?)').run(SCHEMA_VERSION + 1, 0);
    db.close();
    expect(() => new JournalWriter({ dbPath: path, feeds: [r.feed], session: session('hT-') })).toThrow(/newer than this build/);
  });
});
