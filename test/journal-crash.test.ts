/**
 * Crash safety of the journal: a child process streams orders and fills through the feed ring into the
 * journal worker (built code in dist/: `npx tsc -p .` first) and prints what each transaction committed;
 * the test SIGKILLs it mid-stream, reopens the database, and checks that it is sound (integrity_check,
 * no fill without its order, no partial batch) and that every fill reported committed is there, in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { JournalReader } from '../src/journal/JournalReader.js';
import { JournalWriter } from '../src/journal/JournalWriter.js';
import { JournalChannel } from '../src/journal/JournalChannel.js';
import { JournalFeedWriter } from '../src/journal/JournalFeed.js';
import { JournalStat } from '../src/journal/JournalControl.js';
import { writeIntent, writeReport } from '../src/journal/syntheticRecords.js';
import { createJournalFeed } from '../src/journal/JournalFeed.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER = join(ROOT, 'dist/workers/journal.js');
const built = existsSync(WORKER);
if (!built) console.warn('journal-crash: dist/workers/journal.js missing; run `npx tsc -p .` first (skipped)');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Committed { lastSeq: number; totalFills: number; maxFillIntentId: number }

/** Runs the child until it has printed `commits` transactions, then SIGKILLs it. */
function runAndKill(dbPath: string, prefix: string, sync: string, commits: number): Promise<{ committed: Committed[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'test/journal/crash-child.mjs'), dbPath, prefix, sync], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed: Committed[] = [];
    let buf = '';
    let err = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^committed (\d+) (\d+) (-?\d+)$/.exec(line);
        if (m) committed.push({ lastSeq: Number(m[1]), totalFills: Number(m[2]), maxFillIntentId: Number(m[3]) });
      }
      if (!killed && committed.length >= commits) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!killed) reject(new Error(`child exited by itself (code ${code}): ${err}`));
      else resolve({ committed, signal });
    });
  });
}

describe.skipIf(!built)('journal crash safety', () => {
  for (const sync of ['full', 'normal'] as const) {
    it(`SIGKILL mid-stream (synchronous=${sync}): the reopened journal is sound and holds every reported commit`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'journal-crash-'));
      dirs.push(dir);
      const dbPath = join(dir, 'journal.sqlite');
      const { committed, signal } = await runAndKill(dbPath, 'hK-', sync, 40);
      expect(signal).toBe('SIGKILL');
      const last = committed[committed.length - 1]!;
      expect(last.totalFills).toBeGreaterThan(0);

      // reopen (WAL recovery happens here) and check
      const db = new Database(dbPath);
      const reader = new JournalReader(db);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(reader.verify()).toEqual([]);
      const fills = db.prepare('SELECT o.intent_id, f.qty, f.price, f.event_seq FROM fills f JOIN orders o ON o.id = f.order_ref ORDER BY f.id').all() as Array<{ intent_id: number; qty: number; price: number; event_seq: number }>;
      // every fill the child saw committed is there
      expect(fills.length).toBeGreaterThanOrEqual(last.totalFills);
      // and they are exactly the first N fills of the stream: per order 0.001 @ p, then 0.001 @ p + 1 (from 0.002 @ p + 0.5)
      fills.forEach((f, k) => {
        const id = (k >> 1) + 1;
        const p = 100 + (id % 7);
        expect([f.intent_id, f.qty, f.price]).toEqual([id, 0.001, k % 2 === 0 ? p : p + 1]);
      });
      expect(fills[last.totalFills - 1]!.intent_id).toBe(last.maxFillIntentId);
      // the last batch ends where the rows end: nothing half-written after it
      const lastBatch = db.prepare('SELECT MAX(last_seq) AS s FROM journal_batches').get() as { s: number };
      expect(lastBatch.s).toBeGreaterThanOrEqual(last.lastSeq);
      const maxEvent = db.prepare('SELECT MAX(seq) AS s FROM order_events').get() as { s: number };
      expect(maxEvent.s).toBeLessThanOrEqual(lastBatch.s);
      // every order row's state matches its fills (a batch never splits an order's row from its fills)
      const mismatched = db.prepare(`SELECT COUNT(*) AS n FROM orders o WHERE ABS(o.cum_qty - (SELECT COALESCE(SUM(qty), 0) FROM fills f WHERE f.order_ref = o.id)) > 1e-9`).get() as { n: number };
      expect(mismatched.n).toBe(0);
      expect((db.prepare('SELECT ended_wall_ms FROM sessions').get() as { ended_wall_ms: number | null }).ended_wall_ms).toBeNull();
      db.close();

      // a restart writes on: a new session, positions from the fills before the crash
      const feed = createJournalFeed('restart', 64);
      const w = new JournalWriter({ dbPath, feeds: [feed], session: { clientIdPrefix: 'hR-', venue: 'crash-test', symbols: ['BTCUSDT'], epochWallMs: 0 } });
      expect(w.positions.position[0]).toBeCloseTo(fills.length * 0.001, 9);
      w.close('stop');
    });
  }

  it('a clean stop through JournalChannel drains the feed, closes the session and publishes counters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-channel-'));
    dirs.push(dir);
    const dbPath = join(dir, 'journal.sqlite');
    const ch = new JournalChannel({ dbPath, workerFile: WORKER, idleParkMs: 50, session: { clientIdPrefix: 'hC-', venue: 'test', symbols: ['BTCUSDT'], stepSizes: [0.001], epochWallMs: 0 } });
    await ch.ready();
    const out = new JournalFeedWriter(ch.feeds[0]!);
    const rec = new Float64Array(32);
    const i32 = new Int32Array(rec.buffer);
    const u8 = new Uint8Array(rec.buffer);
    for (let id = 1; id <= 1000; id++) {
      writeIntent(rec, i32, 0, { kind: 'new', intentId: id, symbolId: 0, side: 1, qtySteps: 1 });
      out.intent(i32, 0);
      writeReport(rec, i32, u8, 0, { intentId: id, symbolId: 0, side: 1, status: 3, execType: 2, lastQty: 0.001, lastPrice: 50, cumQty: 0.001, avgPrice: 50 });
      out.report(i32, 0);
    }
    expect(out.counters.lost).toBe(0);
    expect(await ch.stop()).toBe(0);
    expect(ch.control.get(JournalStat.Fills)).toBe(1000);
    expect(ch.control.get(JournalStat.Records)).toBe(2000);
    expect(ch.control.alive()).toBe(false);
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n, SUM(qty) AS q FROM fills').get()).toEqual({ n: 1000, q: expect.closeTo(1, 9) as unknown as number });
    expect(db.prepare('SELECT end_reason FROM sessions').get()).toEqual({ end_reason: 'stop' });
    expect(db.prepare("SELECT position FROM position_snapshots WHERE source = 'journal' ORDER BY id DESC LIMIT 1").get()).toEqual({ position: 1 });
    db.close();
  });
});
