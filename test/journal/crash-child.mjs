// Child of test/journal-crash.test.ts: streams orders and fills through a journal feed ring into the
// journal worker (both from dist/), and prints `committed <lastSeq> <totalFills> <maxFillIntentId>`
// after each transaction the worker reports. It never stops by itself: the test kills it.
// Each order i: intent (buy 2 steps), a stream partial fill 0.001 @ 100+i%7, the response's Filled
// snapshot 0.002, and the stream's repeat of the last fill (a duplicate: journaled as an event only).
import { fileURLToPath } from 'node:url';
import { JournalChannel } from '../../dist/src/journal/JournalChannel.js';
import { JournalFeedWriter } from '../../dist/src/journal/JournalFeed.js';
import { writeIntent, writeReport } from '../../dist/src/journal/syntheticRecords.js';

const [dbPath, prefix, syncMode] = process.argv.slice(2);
const channel = new JournalChannel({
  dbPath,
  session: { clientIdPrefix: prefix, venue: 'crash-test', symbols: ['BTCUSDT'], stepSizes: [0.001], tickSizes: [0.1], epochWallMs: Date.now() },
  synchronous: syncMode === 'normal' ? 'normal' : 'full',
  maxBatch: 512,
  idleParkMs: 2,
  reportCommits: true,
  feedCapacity: 4096,
  workerFile: fileURLToPath(new URL('../../dist/workers/journal.js', import.meta.url)),
});
channel.worker.on('message', (m) => {
  if (m.type === 'committed') process.stdout.write(`committed ${m.lastSeq} ${m.totalFills} ${m.maxFillIntentId}\n`);
});
channel.worker.on('error', (e) => {
  process.stderr.write(`journal worker error: ${e.message}\n`);
  process.exit(2);
});
await channel.ready();
process.stdout.write('ready\n');
const feed = channel.feeds[0];
const out = new JournalFeedWriter(feed, 0);
const rec = new Float64Array(32);
const i32 = new Int32Array(rec.buffer);
const u8 = new Uint8Array(rec.buffer);
const report = { intentId: 0, symbolId: 0, side: 1, status: 2, execType: 2, lastQty: 0, lastPrice: 0, cumQty: 0, avgPrice: 0, orderId: 0, flags: 0 };
const intent = { kind: 'new', intentId: 0, symbolId: 0, side: 1, qtySteps: 2, priceTicks: 1000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let id = 1; ; id++) {
  // never lose a record: wait for room (4 records per order)
  while (feed.freeSlots() < 8) await sleep(1);
  const p = 100 + (id % 7);
  intent.intentId = id;
  writeIntent(rec, i32, 0, intent);
  out.intent(i32, 0);
  Object.assign(report, { intentId: id, orderId: 10_000 + id, status: 2, execType: 2, lastQty: 0.001, lastPrice: p, cumQty: 0.001, avgPrice: p, flags: 128 });
  writeReport(rec, i32, u8, 0, report);
  out.report(i32, 0);
  Object.assign(report, { status: 3, lastQty: 0.002, lastPrice: p + 0.5, cumQty: 0.002, avgPrice: p + 0.5, flags: 0 });
  writeReport(rec, i32, u8, 0, report);
  out.report(i32, 0);
  Object.assign(report, { lastQty: 0.001, lastPrice: p + 1, flags: 128 });
  writeReport(rec, i32, u8, 0, report);
  out.report(i32, 0);
  if (id % 50 === 0) await sleep(1);
}
