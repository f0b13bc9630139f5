/**
 * Journal throughput: fills written through the journal feed ring into SQLite by the journal worker, as
 * the execution worker would publish them (one intent copy and one fill report per order). The main
 * thread produces as fast as the ring takes records; the figure is fills committed per second, end to end,
 * for each synchronous mode. Goal: >= 20k fills/s.
 *
 * Run alone after `npx tsc -p .`: `node dist/bench/journal.js [fills]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ExecType, OrderStatus, Side } from '../src/ring/layout.js';
import { JournalChannel } from '../src/journal/JournalChannel.js';
import { JournalFeedWriter } from '../src/journal/JournalFeed.js';
import { JournalStat } from '../src/journal/JournalControl.js';
import { writeIntent, writeReport, type IntentSpec, type ReportSpec } from '../src/journal/syntheticRecords.js';
import type { SyncMode } from '../src/journal/schema.js';

export interface JournalBenchResult {
  synchronous: SyncMode;
  fills: number;
  seconds: number;
  fillsPerSec: number;
  batches: number;
  recordsPerBatch: number;
  /** records the producer had to hold back (ring full) */
  producerWaits: number;
  dbBytes: number;
}

export interface JournalBenchOptions {
  fills?: number;
  modes?: SyncMode[];
  /** print the table (default true) */
  print?: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function measure(fills: number, synchronous: SyncMode): Promise<JournalBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'journal-bench-'));
  const dbPath = join(dir, 'journal.sqlite');
  try {
    const ch = new JournalChannel({
      dbPath, synchronous, idleParkMs: 5, maxBatch: 4096, feedCapacity: 1 << 14,
      session: { clientIdPrefix: 'hbench-', venue: 'bench', symbols: ['BTCUSDT', 'ETHUSDT'], stepSizes: [0.001, 0.01], tickSizes: [0.1, 0.01], epochWallMs: Date.now() },
    });
    await ch.ready();
    const feed = ch.feeds[0]!;
    const out = new JournalFeedWriter(feed, 0);
    const rec = new Float64Array(32);
    const i32 = new Int32Array(rec.buffer);
    const u8 = new Uint8Array(rec.buffer);
    const intent: IntentSpec = { kind: 'new', intentId: 0, symbolId: 0, side: Side.Buy, qtySteps: 1, priceTicks: 1_000_000, pubTs: 0 };
    const report: ReportSpec = { intentId: 0, symbolId: 0, side: Side.Buy, status: OrderStatus.Filled, execType: ExecType.Fill, lastQty: 0.001, lastPrice: 100, cumQty: 0.001, avgPrice: 100, orderId: 0, ackTs: 0 };
    let waits = 0;
    const t0 = performance.now();
    for (let id = 1; id <= fills; id++) {
      while (feed.freeSlots() < 2) {
        waits++;
        await sleep(1);
      }
      const sym = id & 1;
      const side = id % 3 === 0 ? Side.Sell : Side.Buy;
      intent.intentId = id;
      intent.symbolId = sym;
      intent.side = side;
      writeIntent(rec, i32, 0, intent);
      out.intent(i32, 0);
      report.intentId = id;
      report.symbolId = sym;
      report.side = side;
      report.orderId = 1_000_000 + id;
      report.lastPrice = report.avgPrice = 100 + (id % 50) / 10;
      writeReport(rec, i32, u8, 0, report);
      out.report(i32, 0);
    }
    while (ch.control.get(JournalStat.Fills) < fills) await sleep(1);
    const seconds = (performance.now() - t0) / 1000;
    const batches = ch.control.get(JournalStat.Batches);
    const records = ch.control.get(JournalStat.Records);
    await ch.stop();
    const { statSync } = await import('node:fs');
    return {
      synchronous, fills, seconds, fillsPerSec: fills / seconds, batches, recordsPerBatch: batches > 0 ? records / batches : 0,
      producerWaits: waits, dbBytes: statSync(dbPath).size,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatJournalBench(rows: readonly JournalBenchResult[]): string {
  const head = ['synchronous', 'fills', 'seconds', 'fills/s', 'batches', 'records/batch', 'producer waits', 'db MiB'];
  const body = rows.map((r) => [r.synchronous, String(r.fills), r.seconds.toFixed(2), Math.round(r.fillsPerSec).toLocaleString('en-US'), String(r.batches), r.recordsPerBatch.toFixed(0), String(r.producerWaits), (r.dbBytes / 1048576).toFixed(1)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (c: string[]): string => c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  return ['journal: fills through the feed ring into SQLite (WAL), goal >= 20,000 fills/s', line(head), ...body.map(line)].join('\n');
}

/** Measures each synchronous mode in turn (one journal worker at a time) and prints the table. */
export async function runJournalBench(opts: JournalBenchOptions = {}): Promise<JournalBenchResult[]> {
  const fills = opts.fills ?? 200_000;
  const out: JournalBenchResult[] = [];
  for (const mode of opts.modes ?? (['full', 'normal'] as SyncMode[])) out.push(await measure(fills, mode));
  if (opts.print ?? true) console.log(formatJournalBench(out));
  return out;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = Number(process.argv[2] ?? 200_000);
  await runJournalBench({ fills: Number.isFinite(n) && n > 0 ? n : 200_000 });
}
