// Strategy worker: ring A + ring C -> features, strategy, pre-trade risk -> ring B. Runs a tight loop on
// its own thread with the configured wait strategy; yields to its event loop only between slices
// (stats, GC accounting, control messages).
import { parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { setClockEpoch } from '../src/util/clock.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { StageHistograms, initHistograms } from '../src/metrics/StageHistograms.js';
import { GcCounter } from '../src/metrics/GcCounter.js';
import { StrategyLoop } from '../src/strategy/StrategyLoop.js';
import type { MainMessage, StrategyInit, WorkerMessage } from '../src/engine/messages.js';

const init = workerData as StrategyInit;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
setClockEpoch(init.epoch);
await initHistograms();
const hists = new StageHistograms(['hopA', 'strategy']);
const gc = new GcCounter();
const loop = new StrategyLoop(init, SpscRing.attach(init.ringA), SpscRing.attach(init.ringB), SpscRing.attach(init.ringC), hists);
let flush = false;
port.on('message', (m: MainMessage) => {
  if (m.type === 'flushStats') flush = true;
  // stop arrives through the shared control word too; this covers a stop sent before the loop started
  else if (m.type === 'stop') loop.requestStop();
});
// Heap in use, read at each stats post: between collections its growth is what the loop allocated.
const sendStats = (final: boolean): void =>
  post({ type: 'stats', worker: 'strategy', final, hist: hists.snapshot(), counters: { ...loop.counters(), heapUsed: getHeapStatistics().used_heap_size }, gc: gc.take() });
post({ type: 'ready', worker: 'strategy' });
let lastStats = performance.now();
while (!loop.stopped()) {
  loop.runSlice(100);
  // Yield: lets GC entries, control messages and timers through.
  await new Promise<void>((r) => setImmediate(r));
  const now = performance.now();
  if (flush || now - lastStats >= init.statsIntervalMs) {
    flush = false;
    lastStats = now;
    sendStats(false);
  }
}
await new Promise<void>((r) => setImmediate(r));
sendStats(true);
gc.close();
port.close();
