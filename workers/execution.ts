// Execution worker: ring B -> sign -> warm undici keep-alive connection -> responses -> ring C.
// Event-driven: parks on ring B's doorbell with Atomics.waitAsync so sockets keep running.
import { parentPort, workerData } from 'node:worker_threads';
import { nowNs, setClockEpoch } from '../src/util/clock.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { AsyncRingConsumer } from '../src/ring/WaitStrategy.js';
import { StageHistograms, initHistograms } from '../src/metrics/StageHistograms.js';
import { GcCounter } from '../src/metrics/GcCounter.js';
import { OrderGateway } from '../src/exec/OrderGateway.js';
import { BinanceOrderEncoder } from '../src/venues/binance/OrderEncoder.js';
import type { ExecutionInit, MainMessage, WorkerMessage } from '../src/engine/messages.js';
import { RateBudget } from '../src/venues/binance/RateBudget.js';

const init = workerData as ExecutionInit;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
setClockEpoch(init.epoch);
await initHistograms();
const hists = new StageHistograms(['hopB', 'send', 'tickToOrder', 'venueRtt']);
const gc = new GcCounter();
const ringB = SpscRing.attach(init.ringB);
const ringC = SpscRing.attach(init.ringC);
let offsetMs = init.timeOffsetMs;
const budget = new RateBudget({
  onAlarm: (reason, until) =>
    post({ type: 'log', worker: 'execution', level: 'error', msg: `ALARM: order entry halted: ${reason}${Number.isFinite(until) ? ` until ${new Date(until).toISOString()}` : ' until an operator clears it'}` }),
  onResume: () => post({ type: 'log', worker: 'execution', level: 'warn', msg: 'order entry resumed' }),
});
if (init.transport === 'wsapi') throw new Error('execution.transport "wsapi" is not wired into the execution worker yet');
const gateway = new OrderGateway(ringB, ringC, new BinanceOrderEncoder(init.instruments, init.apiSecret, init.clientIdPrefix, init.recvWindow), {
  restUrl: init.restUrl,
  transport: init.transport,
  filters: init.filters,
  budget,
  apiKey: init.apiKey,
  requestTimeoutMs: init.requestTimeoutMs,
  now: nowNs,
  venueTimeMs: () => Date.now() + offsetMs,
  hists: { hopB: hists.get('hopB'), send: hists.get('send'), tickToOrder: hists.get('tickToOrder'), venueRtt: hists.get('venueRtt') },
  onReject: (symbolId, intentId, code, message, unknown) => {
    // Rejects are rare and operators need their reasons: log them, at most 20 per stats interval.
    if (rejectLogBudget-- > 0) {
      post({ type: 'log', worker: 'execution', level: 'warn', msg: `order ${init.clientIdPrefix}${intentId} ${init.symbols[symbolId]} ${unknown ? 'outcome unknown' : 'rejected'}: code ${code} ${message}` });
    }
  },
});
let rejectLogBudget = 20;
const warm = async (): Promise<void> => {
  try {
    const t0 = Date.now();
    const serverTime = await gateway.warm();
    const t1 = Date.now();
    if (serverTime > 0) offsetMs = serverTime - (t0 + t1) / 2;
  } catch (e) {
    post({ type: 'log', worker: 'execution', level: 'warn', msg: `keep-alive request failed: ${(e as Error).message}` });
  }
};
await warm();
// Keep the connection warm (servers close idle keep-alive sockets) and the clock offset fresh.
const warmTimer = setInterval(() => void warm(), Math.min(init.keepAliveMs, 5000));
const warmCodeTimer = init.warmIntervalMs > 0 ? setInterval(() => gateway.keepWarm(), init.warmIntervalMs) : undefined;
const consumer = new AsyncRingConsumer(ringB.doorbell, gateway, 100);
consumer.start();
const sendStats = (final: boolean): void => {
  rejectLogBudget = 20;
  const byCode: Record<string, number> = {};
  for (const [code, n] of gateway.rejectsByCode) byCode[`reject_${code}`] = n;
  post({ type: 'stats', worker: 'execution', final, hist: hists.snapshot(), counters: { ...gateway.counters, inFlight: gateway.inFlightCount(), halted: budget.halted ? 1 : 0, ...budget.counters, ...byCode }, gc: gc.take() });
};
const statsTimer = setInterval(() => sendStats(false), init.statsIntervalMs);
port.on('message', (m: MainMessage) => {
  if (m.type === 'flushStats') sendStats(false);
  else if (m.type === 'stop') void stop();
});
async function stop(): Promise<void> {
  clearInterval(warmTimer);
  if (warmCodeTimer) clearInterval(warmCodeTimer);
  clearInterval(statsTimer);
  // Drain what the strategy already sent and wait (bounded) for responses in flight: nothing untracked.
  gateway.drain();
  const deadline = Date.now() + init.requestTimeoutMs;
  while (gateway.inFlightCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await consumer.stop();
  await gateway.close();
  sendStats(true);
  gc.close();
  port.close();
}
post({ type: 'ready', worker: 'execution' });
