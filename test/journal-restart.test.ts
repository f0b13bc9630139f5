/**
 * Restart reconciliation (src/journal/Reconciler.ts) against the Binance simulator started here:
 *  - an earlier session journaled in-process left a resting limit order, a position and an order whose
 *    fill the journal never saw; a manual order rests beside them and the venue holds an ETH position the
 *    journal never had. Reconciling with 'cancel' and with 'adopt' must write the expected rows, keep the
 *    journal sound, and change nothing when run again.
 *  - crash safety of the whole engine: `hft run` (built code in dist/: `npx tsc -p .` first) trades
 *    ping-pong against the simulator, is SIGKILLed mid-session, and runs again for 3 s; then every venue
 *    fill of ours is in the journal exactly once and the journal's position is the venue's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { BinanceRestClient, type OrderResponse } from '../src/venues/binance/RestClient.js';
import { fetchInstruments } from '../src/engine/Engine.js';
import type { Instrument } from '../src/core/Instrument.js';
import { createJournalFeed, JournalFeedWriter } from '../src/journal/JournalFeed.js';
import { JournalWriter } from '../src/journal/JournalWriter.js';
import { JournalReader } from '../src/journal/JournalReader.js';
import { writeIntent, writeReport } from '../src/journal/syntheticRecords.js';
import { reconcileOnStart, type ReconcileReport, type UnknownOrderPolicy } from '../src/journal/Reconciler.js';
import { SCHEMA_VERSION } from '../src/journal/schema.js';
import { ExecType, OrderStatus, OrderType, Side, TimeInForce } from '../src/ring/layout.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const PREFIX = 'hold1-';

const dirs: string[] = [];
let venue: BinanceVenueHandle | undefined;
let rest: BinanceRestClient | undefined;
afterEach(async () => {
  await rest?.close();
  rest = undefined;
  await venue?.close();
  venue = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'journal-restart-'));
  dirs.push(d);
  return d;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ok<T>(r: { ok: true; data: T } | { ok: false; code: number; msg: string }): T {
  if (!r.ok) throw new Error(`venue error ${r.code} ${r.msg}`);
  return r.data;
}

/** Venue fills of the default account, by venue order id: summed quantity. */
function venueQtyByOrder(v: BinanceVenueHandle, symbol?: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const f of v.fills()) {
    if (f.accountId !== 'default' || (symbol !== undefined && f.symbol !== symbol)) continue;
    out.set(f.orderId, round((out.get(f.orderId) ?? 0) + Number(f.qty)));
  }
  return out;
}

function venuePosition(v: BinanceVenueHandle, symbol: string): number {
  const p = v.positions().find((x) => x.accountId === 'default' && x.symbol === symbol);
  return p === undefined ? 0 : Number(p.positionAmt);
}

const round = (x: number): number => Math.round(x * 1e9) / 1e9;

interface Scene {
  dbPath: string;
  instruments: Instrument[];
  resting: OrderResponse;
  manual: OrderResponse;
  unseen: OrderResponse;
  /** the venue's trades of the order whose fill the journal never saw */
  unseenTrades: number;
}

/**
 * Session `hold1-` journaled in-process: a market BUY 0.003 (filled, journaled), a SELL limit 0.002 resting
 * above the market (acked, journaled), a market BUY 0.002 whose intent was journaled but not its fill; then
 * the process "dies" (the database is closed without closing the session). Beside it, a manual BUY limit
 * rests below the market and a manual market SELL of 0.05 ETH (made before the session) holds a short.
 */
async function buildScene(): Promise<Scene> {
  const v = (venue = await startBinanceVenue({ port: 0, symbols: SYMBOLS, seed: 7, rate: 1000 }));
  const r = (rest = new BinanceRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret }));
  await r.init();
  const instruments = await fetchInstruments(v.restUrl, SYMBOLS);
  ok(await r.newOrder({ symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.05', newClientOrderId: 'web_eth_short' }));
  // the ETH trade must lie before the session's start, outside the trade window of the reconcile
  await sleep(20);

  const dbPath = join(tempDir(), 'journal.sqlite');
  const feed = createJournalFeed('journal-restart', 256);
  const out = new JournalFeedWriter(feed, 16);
  const writer = new JournalWriter({
    dbPath, feeds: [feed], synchronous: 'normal',
    session: { clientIdPrefix: PREFIX, venue: 'binance-usdm', symbols: SYMBOLS, stepSizes: instruments.map((i) => i.stepSize), tickSizes: instruments.map((i) => i.tickSize), epochWallMs: Date.now() },
  });
  const rec = new Float64Array(32);
  const i32 = new Int32Array(rec.buffer);
  const u8 = new Uint8Array(rec.buffer);
  const intent = (intentId: number, side: Side, orderType: number, priceTicks: number, qtySteps: number): void => {
    rec.fill(0);
    writeIntent(rec, i32, 0, { kind: 'new', intentId, symbolId: 0, side, orderType, tif: orderType === OrderType.Limit ? TimeInForce.Gtc : TimeInForce.None, priceTicks, qtySteps, pubTs: 1e9 });
    out.intent(i32, 0);
  };
  const report = (intentId: number, side: Side, o: OrderResponse, execType: number, status: number): void => {
    rec.fill(0);
    const filled = Number(o.executedQty);
    writeReport(rec, i32, u8, 0, {
      intentId, symbolId: 0, side, status, execType, lastQty: filled, lastPrice: Number(o.avgPrice), cumQty: filled, avgPrice: Number(o.avgPrice), orderId: Number(o.orderId),
      venueTime: Number(o.updateTime), ackTs: 2e9,
    });
    out.report(i32, 0);
  };
  const top = v.top('BTCUSDT');
  const tick = instruments[0]!.tickSize;

  intent(1, Side.Buy, OrderType.Market, 0, 3);
  const bought = ok(await r.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.003', newClientOrderId: `${PREFIX}1`, newOrderRespType: 'RESULT' }));
  expect(bought.status).toBe('FILLED');
  report(1, Side.Buy, bought, ExecType.Fill, OrderStatus.Filled);

  const sellTicks = Math.round((Number(top.ask) * 1.02) / tick);
  intent(2, Side.Sell, OrderType.Limit, sellTicks, 2);
  const resting = ok(await r.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price: (sellTicks * tick).toFixed(1), newClientOrderId: `${PREFIX}2` }));
  expect(resting.status).toBe('NEW');
  report(2, Side.Sell, resting, ExecType.Ack, OrderStatus.New);

  intent(3, Side.Buy, OrderType.Market, 0, 2);
  writer.drainBatch();
  // sent after the last commit: the venue fills it, the journal never hears of it
  const unseen = ok(await r.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: `${PREFIX}3`, newOrderRespType: 'RESULT' }));
  expect(unseen.status).toBe('FILLED');
  writer.db.close();

  const manual = ok(await r.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price: (Math.round((Number(top.bid) * 0.98) / tick) * tick).toFixed(1), newClientOrderId: 'web_manual_1' }));
  expect(manual.status).toBe('NEW');
  const unseenTrades = v.fills().filter((f) => f.orderId === Number(unseen.orderId)).length;
  return { dbPath, instruments, resting, manual, unseen, unseenTrades };
}

async function reconcile(s: Scene, policy: UnknownOrderPolicy, logs: string[] = []): Promise<ReconcileReport> {
  return reconcileOnStart({ dbPath: s.dbPath, rest: rest!, symbols: SYMBOLS, instruments: s.instruments, unknownOrders: policy, log: (msg) => logs.push(msg) });
}

interface OrderState { client_order_id: string; session_id: number; origin: string; state: string; cum_qty: number; venue_order_id: number | null }

function orders(db: Database.Database): Map<string, OrderState> {
  const rows = db.prepare('SELECT client_order_id, session_id, origin, state, cum_qty, venue_order_id FROM orders ORDER BY id').all() as OrderState[];
  return new Map(rows.map((r) => [r.client_order_id, { ...r, cum_qty: round(r.cum_qty) }]));
}

function kinds(db: Database.Database, runId: number): string[] {
  return (db.prepare('SELECT kind FROM reconciliations WHERE run_id = ? ORDER BY kind, client_order_id').all(runId) as Array<{ kind: string }>).map((r) => r.kind);
}

/** Journal fills by venue order id: summed quantity. */
function journalQtyByOrder(db: Database.Database, symbol?: string): Map<number, number> {
  const rows = db.prepare(`SELECT o.venue_order_id AS id, SUM(f.qty) AS q FROM fills f JOIN orders o ON o.id = f.order_ref ${symbol ? 'WHERE f.symbol = ?' : ''} GROUP BY o.venue_order_id`)
    .all(...(symbol ? [symbol] : [])) as Array<{ id: number | null; q: number }>;
  return new Map(rows.map((r) => [r.id ?? -1, round(r.q)]));
}

describe('restart reconciliation against the simulator', () => {
  let s: Scene;
  beforeEach(async () => {
    s = await buildScene();
  });

  it("'cancel': cancels what rests at the venue, closes the journal's open order with the venue's fill, corrects the position", async () => {
    const logs: string[] = [];
    const rep = await reconcile(s, 'cancel', logs);
    expect({ ...rep, differences: rep.differences.length }).toEqual({
      runId: 1, fillsAdded: s.unseenTrades, ordersClosed: 1, ordersAdopted: 0, ordersCancelled: 2, positionsCorrected: 1,
      // session closed, resting cancelled, manual added + cancelled, unseen closed, its fills, ETH position
      differences: 6 + s.unseenTrades,
    });
    expect(logs.length).toBe(rep.differences.length);
    expect(ok(await rest!.openOrders())).toEqual([]);

    const db = new Database(s.dbPath);
    try {
      const o = orders(db);
      expect(o.get(`${PREFIX}1`)).toMatchObject({ session_id: 1, origin: 'ours', state: 'filled', cum_qty: 0.003 });
      expect(o.get(`${PREFIX}2`)).toMatchObject({ session_id: 1, origin: 'ours', state: 'canceled', cum_qty: 0, venue_order_id: Number(s.resting.orderId) });
      expect(o.get(`${PREFIX}3`)).toMatchObject({ session_id: 1, origin: 'ours', state: 'filled', cum_qty: 0.002, venue_order_id: Number(s.unseen.orderId) });
      expect(o.get('web_manual_1')).toMatchObject({ session_id: 1, origin: 'manual', state: 'canceled', cum_qty: 0, venue_order_id: Number(s.manual.orderId) });
      expect(o.size).toBe(4);
      expect(kinds(db, 1)).toEqual([
        ...Array<string>(s.unseenTrades).fill('fill_added'), 'order_added', 'order_cancelled', 'order_cancelled', 'order_closed', 'position_corrected', 'session_closed',
      ]);
      // the added fills are the venue's trades of the unseen order, with their trade ids
      const added = db.prepare('SELECT venue_trade_id AS t, qty, foreign_order FROM fills WHERE venue_trade_id IS NOT NULL ORDER BY venue_trade_id').all();
      expect(added).toEqual(venue!.fills().filter((f) => f.orderId === Number(s.unseen.orderId)).map((f) => ({ t: f.tradeId, qty: Number(f.qty), foreign_order: 0 })));
      expect(journalQtyByOrder(db, 'BTCUSDT')).toEqual(venueQtyByOrder(venue!, 'BTCUSDT'));
      const session = db.prepare('SELECT end_reason FROM sessions WHERE id = 1').get();
      expect(session).toEqual({ end_reason: 'crashed' });
      const reader = new JournalReader(db);
      expect(reader.verify()).toEqual([]);
      const pos = new Map(reader.positions().map((p) => [p.symbol, round(p.position)]));
      expect(pos).toEqual(new Map([['BTCUSDT', 0.005], ['ETHUSDT', -0.05]]));
      expect(pos.get('BTCUSDT')).toBe(venuePosition(venue!, 'BTCUSDT'));
      expect(pos.get('ETHUSDT')).toBe(venuePosition(venue!, 'ETHUSDT'));
      expect(db.prepare(`SELECT source, position, reason FROM position_snapshots WHERE symbol = 'ETHUSDT' ORDER BY id`).all()).toEqual([
        { source: 'venue', position: -0.05, reason: 5 },
        { source: 'journal', position: -0.05, reason: 5 },
      ]);
    } finally {
      db.close();
    }

    // nothing left to do: a second run finds no difference
    const again = await reconcile(s, 'cancel');
    expect(again).toEqual({ runId: 2, fillsAdded: 0, ordersClosed: 0, ordersAdopted: 0, ordersCancelled: 0, positionsCorrected: 0, differences: [] });
  });

  it("'adopt': keeps the resting orders, records them as open orders of the session their id names (foreign ones: the last)", async () => {
    const rep = await reconcile(s, 'adopt');
    expect({ ...rep, differences: rep.differences.length }).toEqual({
      runId: 1, fillsAdded: s.unseenTrades, ordersClosed: 1, ordersAdopted: 2, ordersCancelled: 0, positionsCorrected: 1, differences: 6 + s.unseenTrades,
    });
    const open = ok(await rest!.openOrders()).map((o) => o.clientOrderId).sort();
    expect(open).toEqual([`${PREFIX}2`, 'web_manual_1']);

    const db = new Database(s.dbPath);
    try {
      const o = orders(db);
      expect(o.get(`${PREFIX}2`)).toMatchObject({ session_id: 1, origin: 'ours', state: 'new', cum_qty: 0 });
      expect(o.get('web_manual_1')).toMatchObject({ session_id: 1, origin: 'adopted', state: 'new', cum_qty: 0, venue_order_id: Number(s.manual.orderId) });
      expect(o.get(`${PREFIX}3`)).toMatchObject({ state: 'filled', cum_qty: 0.002 });
      expect(kinds(db, 1)).toEqual([
        ...Array<string>(s.unseenTrades).fill('fill_added'), 'order_added', 'order_adopted', 'order_adopted', 'order_closed', 'position_corrected', 'session_closed',
      ]);
      const reader = new JournalReader(db);
      expect(reader.openOrders().map((r) => r.client_order_id).sort()).toEqual([`${PREFIX}2`, 'web_manual_1']);
      expect(reader.verify()).toEqual([]);
      expect(round(reader.positions().find((p) => p.symbol === 'BTCUSDT')!.position)).toBe(0.005);
    } finally {
      db.close();
    }
    // adopted orders stay adopted: the next run finds them open at the venue and in the journal alike
    const again = await reconcile(s, 'adopt');
    expect({ ...again, differences: again.differences.map((d) => d.kind) }).toEqual({
      runId: 2, fillsAdded: 0, ordersClosed: 0, ordersAdopted: 2, ordersCancelled: 0, positionsCorrected: 0, differences: ['order_adopted', 'order_adopted'],
    });
  });

  it('upgrades a version-1 journal file (no reconciliations table, no trade ids) before reconciling', async () => {
    // make the scene's file what a version-1 build left
    const db = new Database(s.dbPath);
    db.exec('DROP TABLE reconciliations; DROP INDEX fills_venue_trade; ALTER TABLE fills DROP COLUMN venue_trade_id; DELETE FROM schema_version WHERE version > 1');
    db.close();
    const rep = await reconcile(s, 'cancel');
    expect(rep.fillsAdded).toBe(s.unseenTrades);
    const after = new Database(s.dbPath);
    try {
      expect(after.prepare('SELECT MAX(version) AS v FROM schema_version').get()).toEqual({ v: SCHEMA_VERSION });
      expect(SCHEMA_VERSION).toBe(2);
      expect((after.prepare('SELECT COUNT(*) AS n FROM reconciliations').get() as { n: number }).n).toBe(rep.differences.length);
      expect(new JournalReader(after).verify()).toEqual([]);
    } finally {
      after.close();
    }
  });
});

describe('GET /fapi/v1/userTrades (simulator) through BinanceRestClient.userTrades', () => {
  it('pages by trade id, filters by time, refuses fromId with a time and a range over 7 days', async () => {
    const v = (venue = await startBinanceVenue({ port: 0, symbols: ['BTCUSDT'], seed: 3, rate: 1000 }));
    const r = (rest = new BinanceRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret }));
    await r.init();
    for (const side of ['BUY', 'SELL', 'BUY'] as const) ok(await r.newOrder({ symbol: 'BTCUSDT', side, type: 'MARKET', quantity: '0.002' }));
    const all = v.fills().filter((f) => f.accountId === 'default');
    expect(all.length).toBeGreaterThanOrEqual(3);

    const listed = ok(await r.userTrades('BTCUSDT'));
    expect(listed.map((t) => t.id)).toEqual(all.map((f) => f.tradeId));
    const first = all[0]!;
    expect(listed[0]).toEqual({
      id: first.tradeId, orderId: first.orderId, symbol: 'BTCUSDT', side: 'BUY', price: first.price, qty: first.qty, realizedPnl: first.realizedPnl, quoteQty: first.quoteQty,
      commission: first.commission, commissionAsset: first.commissionAsset, time: first.time, positionSide: 'BOTH', buyer: true, maker: false,
    });
    expect(ok(await r.userTrades('BTCUSDT', { fromId: all[1]!.tradeId, limit: 1 })).map((t) => t.id)).toEqual([all[1]!.tradeId]);
    expect(ok(await r.userTrades('BTCUSDT', { fromId: all[1]!.tradeId })).map((t) => t.id)).toEqual(all.slice(1).map((f) => f.tradeId));
    const last = all[all.length - 1]!;
    expect(ok(await r.userTrades('BTCUSDT', { startTime: last.time, endTime: last.time })).map((t) => t.id)).toEqual(all.filter((f) => f.time === last.time).map((f) => f.tradeId));
    expect(ok(await r.userTrades('BTCUSDT', { startTime: last.time + 1 }))).toEqual([]);

    const both = await r.userTrades('BTCUSDT', { fromId: 1, startTime: first.time });
    expect(both.ok ? 0 : both.code).toBe(-1128);
    const wide = await r.userTrades('BTCUSDT', { startTime: first.time - 8 * 86_400_000, endTime: first.time });
    expect(wide.ok ? 0 : wide.code).toBe(-1127);
  });
});

// ---------------------------------------------------------------------------- crash of the whole engine

const CLI = join(ROOT, 'dist/src/cli/main.js');
const built = existsSync(CLI) && existsSync(join(ROOT, 'dist/src/journal/Reconciler.js'));
if (!built) console.warn('journal-restart: dist/ is missing or predates the reconciler; run `npx tsc -p .` first (engine crash test skipped)');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runEngine(configPath: string, v: BinanceVenueHandle, opts: { durationS?: number; killWhen?: () => boolean }): Promise<Run> {
  const args = [join(ROOT, 'bin/hft.js'), 'run', '--config', configPath, ...(opts.durationS !== undefined ? ['--duration', String(opts.durationS)] : [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, HFT_API_KEY: v.apiKey, HFT_API_SECRET: v.apiSecret }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  let poll: NodeJS.Timeout | undefined;
  const killWhen = opts.killWhen;
  if (killWhen) {
    poll = setInterval(() => {
      if (killWhen()) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 20);
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stderr });
    });
  });
}

describe.skipIf(!built)('crash safety of the whole engine', () => {
  it('SIGKILL mid-session, run again: every venue fill is journaled once, the journal is sound, its position is the venue\'s', async () => {
    const v = (venue = await startBinanceVenue({ port: 0, symbols: ['BTCUSDT'], seed: 11, rate: 2000 }));
    const dir = tempDir();
    const dbPath = join(dir, 'journal.sqlite');
    const configPath = join(dir, 'engine.json');
    writeFileSync(configPath, JSON.stringify({
      mode: 'paper',
      venue: { name: 'binance-usdm', embedded: false, restUrl: v.restUrl, wsUrl: v.wsUrl, wsApiUrl: v.wsApiUrl },
      symbols: ['BTCUSDT'],
      strategy: { name: 'ping-pong', params: { symbol: 'BTCUSDT', quantity: 0.002, cooldownMs: 20, triggerPrice: 0, everyNTicks: 0 } },
      risk: { preset: 'off', maxOrderQty: 0.01, maxPositionQty: 0.01 },
      journal: { path: dbPath, synchronous: 'normal', unknownOrders: 'cancel' },
      // no operator API: the child then touches nothing outside the temp folder (no token file, no port)
      control: { enabled: false },
      stats: { intervalMs: 60_000 },
      log: { level: 'warn' },
    }));
    const ourFills = (): number => v.fills().filter((f) => f.accountId === 'default').length;

    const crashed = await runEngine(configPath, v, { killWhen: () => ourFills() >= 12 });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const fillsAtCrash = ourFills();
    expect(fillsAtCrash).toBeGreaterThanOrEqual(12);

    const second = await runEngine(configPath, v, { durationS: 3 });
    expect(second.code, second.stderr).toBe(0);

    const db = new Database(dbPath);
    try {
      const reader = new JournalReader(db);
      expect(reader.verify()).toEqual([]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const sessions = db.prepare('SELECT id, end_reason FROM sessions ORDER BY id').all() as Array<{ id: number; end_reason: string | null }>;
      expect(sessions.length).toBe(2);
      expect(sessions[0]!.end_reason).toBe('crashed');
      expect(sessions[1]!.end_reason).not.toBeNull();
      // the second start reconciled: the crashed session is closed in its run
      expect(db.prepare(`SELECT kind, session_id FROM reconciliations WHERE kind = 'session_closed'`).all()).toEqual([{ kind: 'session_closed', session_id: 1 }]);

      // every venue fill of ours once: per venue order, the journal's filled quantity is the venue's
      const venueQty = venueQtyByOrder(v);
      expect(venueQty.size).toBeGreaterThanOrEqual(12);
      expect(journalQtyByOrder(db)).toEqual(venueQty);
      // fills the reconciler took from the venue carry trade ids the venue has, each once
      const tradeIds = (db.prepare('SELECT venue_trade_id AS t FROM fills WHERE venue_trade_id IS NOT NULL').all() as Array<{ t: number }>).map((r) => r.t);
      const venueTradeIds = new Set(v.fills().map((f) => f.tradeId));
      expect(new Set(tradeIds).size).toBe(tradeIds.length);
      for (const t of tradeIds) expect(venueTradeIds.has(t)).toBe(true);

      const position = round(reader.positions().find((p) => p.symbol === 'BTCUSDT')?.position ?? 0);
      expect(position).toBe(venuePosition(v, 'BTCUSDT'));
    } finally {
      db.close();
    }
  }, 90_000);
});
