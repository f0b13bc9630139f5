// Execution worker: ring B -> checks -> REST or WebSocket API order transport -> responses -> ring C; the
// user data stream writes fills and account updates into ring C too (this thread is its only producer).
// Event-driven: parks on ring B's doorbell with Atomics.waitAsync so sockets keep running.
import { parentPort, workerData } from 'node:worker_threads';
import { WORKER_THREAD_NAMES, nameCurrentThread } from '../src/ops/launch.js';
import { nowNs, setClockEpoch } from '../src/util/clock.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { StageHistograms, initHistograms } from '../src/metrics/StageHistograms.js';
import { GcCounter } from '../src/metrics/GcCounter.js';
import { ExecutionService } from '../src/exec/ExecutionService.js';
import { GateExecutionService } from '../src/exec/GateExecutionService.js';
import type { ExecutionInit, MainMessage, WorkerMessage } from '../src/engine/messages.js';
import { JournalFeedWriter } from '../src/journal/JournalFeed.js';

// named, so the supervisor can pin this thread to its CPUs (threads.cpus)
nameCurrentThread(WORKER_THREAD_NAMES.execution);
const init = workerData as ExecutionInit;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
setClockEpoch(init.epoch);
await initHistograms();
const hists = new StageHistograms(['hopB', 'send', 'tickToOrder', 'venueRtt']);
const gc = new GcCounter();
// the journal sees every intent (copied after it was sent) and every report (a tee over ring C)
const journal = init.journalFeed ? new JournalFeedWriter(SpscRing.attach(init.journalFeed), 4096, nowNs) : undefined;
const ringC = SpscRing.attach(init.ringC);
const hist = { hopB: hists.get('hopB'), send: hists.get('send'), tickToOrder: hists.get('tickToOrder'), venueRtt: hists.get('venueRtt') };
const log = (level: 'info' | 'warn' | 'error', msg: string): void => post({ type: 'log', worker: 'execution', level, msg });
const service =
  init.venue === 'gate' && init.gate
    ? new GateExecutionService({
        ringB: SpscRing.attach(init.ringB),
        ringC: journal ? journal.tee(ringC) : ringC,
        ...(journal ? { journal } : {}),
        symbols: init.symbols,
        instruments: init.instruments,
        contracts: init.gate.contracts,
        restUrl: init.restUrl,
        wsUrl: init.gate.wsUrl,
        apiKey: init.apiKey,
        apiSecret: init.apiSecret,
        userId: init.gate.userId,
        clientIdPrefix: init.clientIdPrefix,
        requestTimeoutMs: init.requestTimeoutMs,
        now: nowNs,
        hists: hist,
        log,
      })
    : new ExecutionService({
        ringB: SpscRing.attach(init.ringB),
        ringC: journal ? journal.tee(ringC) : ringC,
        ...(journal ? { journal } : {}),
        symbols: init.symbols,
        instruments: init.instruments,
        filters: init.filters,
        restUrl: init.restUrl,
        transport: init.transport,
        wsApiUrl: init.wsApiUrl,
        userStream: init.userStream,
        userStreamWsUrl: init.userStreamWsUrl,
        userStreamUrlStyle: init.userStreamUrlStyle,
        listenKeyKeepAliveMs: init.listenKeyKeepAliveMs,
        apiKey: init.apiKey,
        apiSecret: init.apiSecret,
        recvWindow: init.recvWindow,
        requestTimeoutMs: init.requestTimeoutMs,
        keepAliveMs: init.keepAliveMs,
        deadManMs: init.deadManMs,
        warmIntervalMs: init.warmIntervalMs,
        clientIdPrefix: init.clientIdPrefix,
        timeOffsetMs: init.timeOffsetMs,
        now: nowNs,
        hists: hist,
        log,
      });
await service.start();
const sendStats = (final: boolean): void => {
  journal?.flush();
  const jc: Record<string, number> = journal ? { journalPublished: journal.counters.published, journalSpilled: journal.counters.spilled, journalLost: journal.counters.lost } : {};
  post({ type: 'stats', worker: 'execution', final, hist: hists.snapshot(), counters: { ...service.counters(), ...jc }, gc: gc.take() });
};
const statsTimer = setInterval(() => sendStats(false), init.statsIntervalMs);
port.on('message', (m: MainMessage) => {
  if (m.type === 'flushStats') sendStats(false);
  else if (m.type === 'stop') void stop();
});
async function stop(): Promise<void> {
  clearInterval(statsTimer);
  await service.stop();
  sendStats(true);
  gc.close();
  port.close();
}
post({ type: 'ready', worker: 'execution' });
