// Strategy worker: ring A + ring C -> features, strategy, pre-trade risk -> ring B. Runs a tight loop on
// its own thread with the configured wait strategy; yields to its event loop only between slices
// (stats, GC accounting, control messages).
import { parentPort, workerData } from 'node:worker_threads';
import { WORKER_THREAD_NAMES, nameCurrentThread } from '../src/ops/launch.js';
import { getHeapStatistics } from 'node:v8';
import { setClockEpoch } from '../src/util/clock.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { StageHistograms, initHistograms } from '../src/metrics/StageHistograms.js';
import { GcCounter } from '../src/metrics/GcCounter.js';
import { StrategyLoop } from '../src/strategy/StrategyLoop.js';
import type { MainMessage, StrategyInit, TradingAction, WorkerMessage } from '../src/engine/messages.js';
import type { StrategyControl } from '../src/strategy/control.js';

// named, so the supervisor can pin this thread to its CPUs (threads.cpus)
nameCurrentThread(WORKER_THREAD_NAMES.strategy);
const init = workerData as StrategyInit;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
setClockEpoch(init.epoch);
await initHistograms();
const hists = new StageHistograms(['hopA', 'strategy']);
const gc = new GcCounter();
const loop = new StrategyLoop(init, SpscRing.attach(init.ringA), SpscRing.attach(init.ringB), SpscRing.attach(init.ringC), hists);
let flush = false;
// control messages wait for the slice boundary: the strategy never changes under a running slice
const controls: StrategyControl[] = [];
const trading: TradingAction[] = [];
port.on('message', (m: MainMessage) => {
  if (m.type === 'flushStats') flush = true;
  else if (m.type === 'strategyControl') controls.push(m.control);
  else if (m.type === 'trading') trading.push(m.action);
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
  while (controls.length > 0) {
    const c = controls.shift()!;
    try {
      const r = loop.applyControl(c);
      if (r.ok) post({ type: 'log', worker: 'strategy', level: 'info', msg: `strategy control ${c.action}: ${r.name} ${r.active ? 'active' : 'inactive'} ${JSON.stringify(r.params)}` });
      else post({ type: 'log', worker: 'strategy', level: 'warn', msg: `strategy control ${c.action} refused: ${r.error}` });
    } catch (e) {
      post({ type: 'log', worker: 'strategy', level: 'error', msg: `strategy control ${c.action} failed: ${(e as Error).message}` });
    }
  }
  while (trading.length > 0) {
    const a = trading.shift()!;
    loop.applyTrading(a);
    post({ type: 'log', worker: 'strategy', level: a === 'resume' ? 'info' : 'warn', msg: `trading ${a}: state ${loop.tradingStateName()}` });
    flush = true;
  }
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
