// Journal worker: drains the journal feed rings into SQLite (WAL), one transaction per drained batch.
// Off the hot path; parks on its doorbell when idle (never spins). Stops through shared control words.
import { parentPort, workerData } from 'node:worker_threads';
import { setClockEpoch, nowNs } from '../src/util/clock.js';
import { Doorbell } from '../src/ring/Doorbell.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { JournalControl } from '../src/journal/JournalControl.js';
import type { JournalWorkerInit } from '../src/journal/JournalChannel.js';
import { JournalWriter } from '../src/journal/JournalWriter.js';
import { runJournalLoop } from '../src/journal/runJournalLoop.js';

const init = workerData as JournalWorkerInit;
const port = parentPort!;
if (init.epoch !== undefined) setClockEpoch(init.epoch);
const writer = new JournalWriter({
  dbPath: init.dbPath,
  feeds: init.feeds.map((d) => SpscRing.attach(d)),
  session: init.session,
  synchronous: init.synchronous,
  maxBatch: init.maxBatch,
  snapshotIntervalMs: init.snapshotIntervalMs,
  pendingTimeoutMs: init.pendingTimeoutMs,
  nowNs,
});
if (init.reportCommits) writer.onCommit = (c) => port.postMessage({ type: 'committed', ...c });
port.postMessage({ type: 'ready', sessionId: writer.sessionId });
runJournalLoop(writer, new Doorbell(init.doorbell), new JournalControl(init.control), { idleParkMs: init.idleParkMs });
port.postMessage({ type: 'closed', counters: writer.counters, lastError: writer.lastError });
