// Feed worker: venue WebSocket -> byte decoder -> ring A. Event-driven (no spinning).
import { parentPort, workerData } from 'node:worker_threads';
import { WORKER_THREAD_NAMES, nameCurrentThread } from '../src/ops/launch.js';
import { setClockEpoch } from '../src/util/clock.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { StageHistograms, initHistograms } from '../src/metrics/StageHistograms.js';
import { GcCounter } from '../src/metrics/GcCounter.js';
import { FeedHandler } from '../src/feed/FeedHandler.js';
import type { FeedInit, MainMessage, WorkerMessage } from '../src/engine/messages.js';

// named, so the supervisor can pin this thread to its CPUs (threads.cpus)
nameCurrentThread(WORKER_THREAD_NAMES.feed);
const init = workerData as FeedInit;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
setClockEpoch(init.epoch);
await initHistograms();
const hists = new StageHistograms(['decode']);
const gc = new GcCounter();
const feed = new FeedHandler(new SymbolRegistry(init.symbols), SpscRing.attach(init.ringA), {
  ...init.feed,
  decodeHist: hists.get('decode'),
  onStatus: (level, msg) => post({ type: 'log', worker: 'feed', level, msg }),
});
const sendStats = (final: boolean): void =>
  post({ type: 'stats', worker: 'feed', final, hist: hists.snapshot(), counters: { ...feed.counters(), ...bookCounters() }, gc: gc.take() });
const timer = setInterval(() => sendStats(false), init.statsIntervalMs);
port.on('message', (m: MainMessage) => {
  if (m.type === 'flushStats') sendStats(false);
  else if (m.type === 'stop') {
    clearInterval(timer);
    feed.stop();
    sendStats(true);
    gc.close();
    port.close();
  }
});
feed.start();
post({ type: 'ready', worker: 'feed' });

/** Per symbol: the book state, and the best bid/ask of the feed's own book (stats: dashboard, terminal view). */
function bookCounters(): Record<string, number> {
  const out: Record<string, number> = {};
  init.symbols.forEach((sym, i) => {
    out[`book_${sym}`] = feed.bookState(i);
    const b = feed.book(i);
    if (b.bidLevels > 0) out[`bid_${sym}`] = b.bestBid;
    if (b.askLevels > 0) out[`ask_${sym}`] = b.bestAsk;
  });
  return out;
}
