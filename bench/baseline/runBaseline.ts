/**
 * The naive baseline pipeline the end-to-end bench compares the engine against: three worker threads
 * (feed -> strategy -> exec) connected by MessageChannels handed out by the main thread, `JSON.parse`
 * in the feed, `fetch` for orders. Same venue, same stage definitions (design.md §4) as the engine.
 *
 * Workers are started from the compiled files under `<project>/dist/bench/baseline/`, whether this
 * module runs compiled or as TypeScript source (vitest): run `npx tsc -p .` first.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { StageSummary } from '../../src/metrics/StageHistograms.js';
import { clockEpoch, nowNs } from '../../src/util/clock.js';
import type {
  Control,
  ExecStats,
  ExecWorkerData,
  FeedStats,
  FeedWorkerData,
  Role,
  StrategyStats,
  StrategyWorkerData,
  WorkerReport,
} from './messages.js';

export interface BaselineOptions {
  /** Venue WebSocket base, e.g. ws://127.0.0.1:1234 (the feed appends /stream?streams=...). */
  wsUrl: string;
  /** Venue REST base, e.g. http://127.0.0.1:1234 (exec appends /fapi/v1/order). */
  restUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Combined-stream names, e.g. ['btcusdt@bookTicker', 'btcusdt@aggTrade']. */
  streams: string[];
  /** Measured time, after the warm-up. */
  durationMs: number;
  /** Time before measuring starts (ticks and orders flow, nothing is recorded). */
  warmupMs: number;
  /** Fire an order every N ticks. */
  orderEvery: number;
  /** Order symbol, upper case (BTCUSDT). */
  symbol: string;
  /** Order quantity as sent, e.g. '0.001'. */
  quantity: string;
}

export interface BaselineResult {
  /** Ticks whose receive time fell inside the measurement window. */
  ticks: number;
  ticksPerSec: number;
  /** Orders triggered by measured ticks. */
  orders: number;
  /** Replies to measured orders. */
  acks: number;
  rejects: number;
  stages: { tickToOrder: StageSummary; venueRtt: StageSummary };
  /**
   * Raw counters of each worker (beyond the headline shape): e.g. `exec.sendTsFallbacks` tells whether
   * the send time came from undici's diagnostics channel, `exec.*Encoded` are mergeable histograms.
   */
  detail: { feed: FeedStats; strategy: StrategyStats; exec: ExecStats };
}

/** How long exec waits for in-flight orders after the feed stops. */
const DRAIN_MS = 2000;
/** How long to wait for the workers to start (and the feed to connect). */
const START_TIMEOUT_MS = 10_000;

/** The folder holding package.json, walking up from this module (source or compiled). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`runBaseline: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

function workerFile(name: string): string {
  const file = join(projectRoot(), 'dist', 'bench', 'baseline', name);
  if (!existsSync(file)) throw new Error(`runBaseline: ${file} not found; compile first (npx tsc -p .)`);
  return file;
}

function validate(o: BaselineOptions): void {
  if (!Number.isInteger(o.orderEvery) || o.orderEvery < 1) throw new Error(`runBaseline: orderEvery must be an integer >= 1, got ${o.orderEvery}`);
  if (!(o.durationMs > 0)) throw new Error(`runBaseline: durationMs must be > 0, got ${o.durationMs}`);
  if (!(o.warmupMs >= 0)) throw new Error(`runBaseline: warmupMs must be >= 0, got ${o.warmupMs}`);
  if (o.streams.length === 0) throw new Error('runBaseline: streams is empty');
}

export async function runBaseline(opts: BaselineOptions): Promise<BaselineResult> {
  validate(opts);
  const files = { feed: workerFile('feedWorker.js'), strategy: workerFile('strategyWorker.js'), exec: workerFile('execWorker.js') };
  const epoch = clockEpoch();

  // feed -> strategy, and strategy <-> exec (orders one way, acks back), wired through main.
  const a = new MessageChannel();
  const b = new MessageChannel();
  const feedData: FeedWorkerData = { epoch, wsUrl: opts.wsUrl, streams: opts.streams, downstream: a.port1 };
  const strategyData: StrategyWorkerData = { epoch, orderEvery: opts.orderEvery, symbol: opts.symbol, quantity: opts.quantity, upstream: a.port2, downstream: b.port1 };
  const execData: ExecWorkerData = { epoch, restUrl: opts.restUrl, apiKey: opts.apiKey, apiSecret: opts.apiSecret, drainMs: DRAIN_MS, upstream: b.port2 };

  // Downstream first, so each hop has a listener by the time traffic starts (ports buffer anyway).
  const workers: Record<Role, Worker> = {
    exec: new Worker(files.exec, { workerData: execData, transferList: [b.port2] }),
    strategy: new Worker(files.strategy, { workerData: strategyData, transferList: [a.port2, b.port1] }),
    feed: new Worker(files.feed, { workerData: feedData, transferList: [a.port1] }),
  };
  const roles: Role[] = ['feed', 'strategy', 'exec'];

  let feedStats: FeedStats | undefined;
  let strategyStats: StrategyStats | undefined;
  let execStats: ExecStats | undefined;
  const ready = new Set<Role>();
  let finished = false;
  const timers: NodeJS.Timeout[] = [];

  const terminateAll = async (): Promise<void> => {
    for (const t of timers) clearTimeout(t);
    await Promise.all(roles.map((r) => workers[r].terminate()));
  };

  try {
    await new Promise<void>((resolve, reject) => {
      let measuring = false;
      const fail = (e: Error): void => {
        if (finished) return;
        finished = true;
        reject(e);
      };
      const control = (role: Role, m: Control): void => workers[role].postMessage(m);

      const startMeasuring = (): void => {
        measuring = true;
        const fromNs = nowNs() + opts.warmupMs * 1e6;
        const toNs = fromNs + opts.durationMs * 1e6;
        for (const r of roles) control(r, { kind: 'window', fromNs, toNs });
        timers.push(setTimeout(() => control('feed', { kind: 'stop' }), opts.warmupMs + opts.durationMs));
        // Stop (1 s) + drain + margin: beyond that something is stuck.
        timers.push(setTimeout(() => fail(new Error('runBaseline: workers did not report after stop')), opts.warmupMs + opts.durationMs + DRAIN_MS + 5000));
      };

      timers.push(
        setTimeout(() => {
          if (!measuring) fail(new Error(`runBaseline: workers not ready after ${START_TIMEOUT_MS} ms (ready: ${[...ready].join(', ') || 'none'})`));
        }, START_TIMEOUT_MS),
      );

      for (const role of roles) {
        const w = workers[role];
        w.on('message', (m: WorkerReport) => {
          switch (m.kind) {
            case 'ready':
              ready.add(m.role);
              if (ready.size === roles.length && !measuring) startMeasuring();
              break;
            case 'error':
              fail(new Error(`runBaseline: ${m.role} worker: ${m.message}`));
              break;
            case 'done':
              if (m.role === 'feed') feedStats = m.stats;
              else if (m.role === 'strategy') strategyStats = m.stats;
              else execStats = m.stats;
              if (feedStats && strategyStats && execStats && !finished) {
                finished = true;
                resolve();
              }
              break;
          }
        });
        w.on('error', (e) => fail(new Error(`runBaseline: ${role} worker crashed: ${e.message}`)));
        w.on('exit', (code) => {
          if (!finished) fail(new Error(`runBaseline: ${role} worker exited early (code ${code})`));
        });
      }
    });
  } finally {
    finished = true;
    await terminateAll();
  }

  const s = strategyStats!;
  const x = execStats!;
  return {
    ticks: s.ticksMeasured,
    ticksPerSec: s.ticksMeasured / (opts.durationMs / 1000),
    orders: s.ordersMeasured,
    acks: x.acks,
    rejects: x.rejects,
    stages: { tickToOrder: x.tickToOrder, venueRtt: x.venueRtt },
    detail: { feed: feedStats!, strategy: s, exec: x },
  };
}
