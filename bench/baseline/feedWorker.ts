/**
 * Baseline feed worker: what a typical Node bot does. undici WebSocket on the combined stream,
 * `JSON.parse` of every frame, one plain tick object per frame with `parseFloat`, `postMessage` to the
 * strategy worker. Deliberately naive: this is the yardstick, not the engine.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'undici';
import { nowNs, setClockEpoch } from '../../src/util/clock.js';
import type { Control, FeedStats, FeedToStrategy, FeedWorkerData, Tick, WorkerReport } from './messages.js';

/** A combined-stream frame, as far as this feed reads it. */
interface CombinedFrame {
  stream?: string;
  data?: {
    e?: string;
    s?: string;
    E?: number;
    T?: number;
    b?: string;
    B?: string;
    a?: string;
    A?: string;
    p?: string;
    q?: string;
  };
}

const data = workerData as FeedWorkerData;
setClockEpoch(data.epoch);
const port = parentPort;
if (!port) throw new Error('feedWorker must run as a worker thread');
const out = data.downstream;

const stats: FeedStats = { frames: 0, ticks: 0, ignored: 0, parseErrors: 0 };
const lastBook = new Map<string, { bid: number; ask: number; bidQty: number; askQty: number }>();
let stopped = false;

function report(m: WorkerReport): void {
  port!.postMessage(m);
}

function send(m: FeedToStrategy): void {
  out.postMessage(m);
}

const base = data.wsUrl.replace(/\/+$/, '');
const url = `${base}/stream?streams=${data.streams.join('/')}`;
const ws = new WebSocket(url);
ws.binaryType = 'arraybuffer';
let opened = false;

ws.addEventListener('open', () => {
  opened = true;
  report({ kind: 'ready', role: 'feed' });
});

ws.addEventListener('error', (ev) => {
  if (stopped) return;
  const err = (ev as { error?: unknown }).error;
  const message = err instanceof Error ? err.message : 'WebSocket error';
  report({ kind: 'error', role: 'feed', message: `${opened ? '' : 'connect '}${url}: ${message}` });
});

ws.addEventListener('close', (ev) => {
  if (!stopped) report({ kind: 'error', role: 'feed', message: `WebSocket closed by the venue (code ${ev.code})` });
});

ws.addEventListener('message', (ev) => {
  const recvTs = nowNs();
  if (stopped) return;
  stats.frames++;
  const raw: unknown = ev.data;
  const text = typeof raw === 'string' ? raw : Buffer.from(raw as ArrayBuffer).toString('utf8');
  let frame: CombinedFrame;
  try {
    frame = JSON.parse(text) as CombinedFrame;
  } catch {
    stats.parseErrors++;
    return;
  }
  const d = frame.data;
  if (!d || typeof d.s !== 'string') {
    stats.ignored++;
    return;
  }
  let tick: Tick;
  if (d.e === 'bookTicker') {
    const bid = parseFloat(d.b ?? '');
    const ask = parseFloat(d.a ?? '');
    const bidQty = parseFloat(d.B ?? '');
    const askQty = parseFloat(d.A ?? '');
    lastBook.set(d.s, { bid, ask, bidQty, askQty });
    tick = { kind: 'tick', event: d.e, stream: frame.stream ?? '', symbol: d.s, bid, ask, bidQty, askQty, price: (bid + ask) / 2, qty: 0, eventTime: d.E ?? 0, recvTs };
  } else if (d.e === 'aggTrade' || d.e === 'trade') {
    const book = lastBook.get(d.s);
    tick = {
      kind: 'tick',
      event: d.e,
      stream: frame.stream ?? '',
      symbol: d.s,
      bid: book ? book.bid : NaN,
      ask: book ? book.ask : NaN,
      bidQty: book ? book.bidQty : NaN,
      askQty: book ? book.askQty : NaN,
      price: parseFloat(d.p ?? ''),
      qty: parseFloat(d.q ?? ''),
      eventTime: d.E ?? 0,
      recvTs,
    };
  } else {
    stats.ignored++;
    return;
  }
  stats.ticks++;
  send(tick);
});

port.on('message', (m: Control) => {
  if (m.kind !== 'stop' || stopped) return;
  stopped = true;
  // eof travels on the same port as the ticks, so it arrives after every tick already posted.
  send({ kind: 'eof' });
  let reported = false;
  const done = (): void => {
    if (reported) return;
    reported = true;
    clearTimeout(timer);
    report({ kind: 'done', role: 'feed', stats });
  };
  const timer = setTimeout(done, 1000);
  if (ws.readyState === WebSocket.CLOSED) {
    done();
  } else {
    ws.addEventListener('close', done);
    ws.close(1000);
  }
});
