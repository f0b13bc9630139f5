/**
 * Baseline strategy worker: a ping-pong that counts ticks and, every `orderEvery`-th tick, posts a
 * MARKET order (sides alternating BUY/SELL) to the exec worker. It owns the measurement window: a
 * tick, and the order it triggers, is measured when its recvTs lies in [fromNs, toNs), so the tick
 * count and the order count come from one decision.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setClockEpoch } from '../../src/util/clock.js';
import type {
  Control,
  ExecToStrategy,
  FeedToStrategy,
  OrderIntent,
  StrategyStats,
  StrategyToExec,
  StrategyWorkerData,
  WorkerReport,
} from './messages.js';

const data = workerData as StrategyWorkerData;
setClockEpoch(data.epoch);
const port = parentPort;
if (!port) throw new Error('strategyWorker must run as a worker thread');
const input = data.upstream;
const exec = data.downstream;

const stats: StrategyStats = { ticksTotal: 0, ticksMeasured: 0, ordersTotal: 0, ordersMeasured: 0, acksSeen: 0, rejectsSeen: 0 };
// Until main sends the window nothing is measured.
let fromNs = Infinity;
let toNs = Infinity;
let nextSide: 'BUY' | 'SELL' = 'BUY';

function report(m: WorkerReport): void {
  port!.postMessage(m);
}

function send(m: StrategyToExec): void {
  exec.postMessage(m);
}

input.on('message', (m: FeedToStrategy) => {
  if (m.kind === 'eof') {
    send(m);
    report({ kind: 'done', role: 'strategy', stats });
    return;
  }
  const measured = m.recvTs >= fromNs && m.recvTs < toNs;
  stats.ticksTotal++;
  if (measured) stats.ticksMeasured++;
  if (stats.ticksTotal % data.orderEvery !== 0) return;
  const order: OrderIntent = {
    kind: 'order',
    id: ++stats.ordersTotal,
    side: nextSide,
    symbol: data.symbol,
    quantity: data.quantity,
    type: 'MARKET',
    recvTs: m.recvTs,
    measured,
  };
  nextSide = nextSide === 'BUY' ? 'SELL' : 'BUY';
  if (measured) stats.ordersMeasured++;
  send(order);
});

exec.on('message', (m: ExecToStrategy) => {
  if (m.kind === 'ack') stats.acksSeen++;
  else stats.rejectsSeen++;
});

port.on('message', (m: Control) => {
  if (m.kind === 'window') {
    fromNs = m.fromNs;
    toNs = m.toNs;
  }
});

report({ kind: 'ready', role: 'strategy' });
