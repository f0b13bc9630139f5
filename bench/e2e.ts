import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { formatPinOutcomes, pinEngineThreads } from '../src/ops/launch.js';
/**
 * End-to-end tick-to-order profile: the venue simulator in its own process paces ticks on loopback; the
 * engine (feed -> ring A -> strategy -> ring B -> execution) fires a ping-pong market order every N ticks.
 * Then, in the same run and against the same venue, the naive baseline (postMessage between workers,
 * JSON.parse in the feed, fetch for orders) does the same. Histograms cover the measured window only.
 */
import { join } from 'node:path';
import { DEFAULT_CONFIG, loadConfig, validateConfig, type EngineConfig } from '../src/config/Config.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { Engine, type EngineEndpoints } from '../src/engine/Engine.js';
import { VenueProcess } from '../src/engine/VenueProcess.js';
import { createLogger } from '../src/util/log.js';
import type { StageName, StageSummary } from '../src/metrics/StageHistograms.js';
import { runBaseline } from './baseline/runBaseline.js';

export interface E2eOptions {
  rate: number;
  warmupS: number;
  durationS: number;
  orderEvery: number;
}

/** The tuning of a dedicated box (config/low-latency.json): what `engine` runs with in the bench. */
export const LOW_LATENCY_PROFILE = join(PROJECT_ROOT, 'config', 'low-latency.json');

export interface EngineE2e {
  ticksPerSec: number;
  orders: number;
  acks: number;
  rejects: number;
  minorGcsStrategyWorker: number;
  /** strategy worker heap growth over the measured window (bytes/s; meaningful when no GC ran in it) */
  heapGrowthBytesPerSecStrategyWorker: number;
  stages: Record<StageName, StageSummary>;
}

export interface BaselineE2e {
  ticksPerSec: number;
  orders: number;
  acks: number;
  rejects: number;
  stages: { tickToOrder: StageSummary; venueRtt: StageSummary };
}

const SYMBOL = 'BTCUSDT';
const QTY = 0.01;

export interface E2eResult {
  /** the engine tuned for a dedicated box: config/low-latency.json (spinning strategy worker, HttpConnection) */
  engine: EngineE2e;
  /** the same profile with orders over the WebSocket API (execution.transport 'wsapi') */
  engineWsApi: EngineE2e;
  /** the engine on its embedded defaults (spin-then-park strategy worker, orders over undici) */
  engineDefault: EngineE2e;
  /** config/low-latency.json with the strategy worker parked instead of spinning (spin vs park, same run) */
  engineParked: EngineE2e;
  /** config/low-latency.json with each worker thread pinned (threads.cpus; pinned vs unpinned, same run) */
  enginePinned: EngineE2e & { pinned: string };
  /** the same defaults with the SQLite journal on: the hot-path stages next to engineDefault's */
  engineJournal: EngineE2e & { journalFills: number };
  baseline: BaselineE2e;
}

export async function runE2e(o: E2eOptions, progress: (msg: string) => void): Promise<E2eResult> {
  const venue = new VenueProcess({ rate: o.rate, seed: 7, port: 0, symbols: [SYMBOL] });
  const ep = await venue.start();
  try {
    const endpoints = { restUrl: ep.rest, wsUrl: ep.ws, wsApiUrl: ep.wsApi, apiKey: ep.apiKey, apiSecret: ep.apiSecret };
    const profile = loadConfig(LOW_LATENCY_PROFILE, {});
    progress(`venue at ${ep.rest} pacing ${o.rate} ticks/s; engine (config/low-latency.json): ${o.warmupS}s warm-up + ${o.durationS}s measured`);
    const engine = await runEngine(o, endpoints, profile);
    progress(`engine over the WebSocket API (config/low-latency.json, execution.transport wsapi): ${o.warmupS}s warm-up + ${o.durationS}s measured`);
    const engineWsApi = await runEngine(o, endpoints, { ...profile, execution: { ...profile.execution, transport: 'wsapi' } });
    progress(`engine parked (config/low-latency.json, threads.strategyWait park): ${o.warmupS}s warm-up + ${o.durationS}s measured`);
    const engineParked = await runEngine(o, endpoints, { ...profile, threads: { ...profile.threads, strategyWait: 'park' } });
    // two cores here: the strategy worker alone on the last core, feed and execution on the first
    const last = Math.max(0, cpus().length - 1);
    const pins = { feed: [0], strategy: [last], execution: [0] };
    progress(`engine pinned (config/low-latency.json, threads.cpus ${JSON.stringify(pins)}): ${o.warmupS}s warm-up + ${o.durationS}s measured`);
    let pinned = '';
    const enginePinned = await runEngine(o, endpoints, { ...profile, threads: { ...profile.threads, cpus: pins } }, (e) => {
      pinned = formatPinOutcomes(pinEngineThreads(pins)).replace(/\n/g, '; ');
      void e;
    });
    progress(`engine (embedded defaults): ${o.warmupS}s warm-up + ${o.durationS}s measured`);
    const engineDefault = await runEngine(o, endpoints, DEFAULT_CONFIG);
    const dir = mkdtempSync(join(tmpdir(), 'hft-bench-journal-'));
    progress(`engine (embedded defaults) with the journal at ${dir}: ${o.warmupS}s warm-up + ${o.durationS}s measured`);
    let engineJournal: EngineE2e & { journalFills: number };
    try {
      const j = await runEngine(o, endpoints, { ...DEFAULT_CONFIG, journal: { ...DEFAULT_CONFIG.journal, path: join(dir, 'journal.sqlite') } });
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(join(dir, 'journal.sqlite'), { readonly: true });
      const journalFills = (db.prepare('SELECT COUNT(*) AS n FROM fills').get() as { n: number }).n;
      db.close();
      engineJournal = { ...j, journalFills };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    progress(`baseline: ${o.warmupS}s warm-up + ${o.durationS}s measured`);
    const b = await runBaseline({
      wsUrl: ep.ws,
      restUrl: ep.rest,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      streams: [`${SYMBOL.toLowerCase()}@bookTicker`, `${SYMBOL.toLowerCase()}@aggTrade`],
      durationMs: o.durationS * 1000,
      warmupMs: o.warmupS * 1000,
      orderEvery: o.orderEvery,
      symbol: SYMBOL,
      quantity: String(QTY),
    });
    return {
      engine,
      engineWsApi,
      engineDefault,
      engineParked,
      enginePinned: { ...enginePinned, pinned },
      engineJournal,
      baseline: { ticksPerSec: b.ticksPerSec, orders: b.orders, acks: b.acks, rejects: b.rejects, stages: { tickToOrder: b.stages.tickToOrder, venueRtt: b.stages.venueRtt } },
    };
  } finally {
    await venue.stop();
  }
}

async function runEngine(o: E2eOptions, ep: EngineEndpoints, base: EngineConfig, afterStart?: (e: Engine) => void): Promise<EngineE2e> {
  const cfg = validateConfig({
    ...base,
    symbols: [SYMBOL],
    feed: { ...DEFAULT_CONFIG.feed, streams: ['bookTicker', 'aggTrade'] },
    strategy: { name: 'ping-pong', params: { symbol: SYMBOL, quantity: QTY, cooldownMs: 0, triggerPrice: 0, everyNTicks: o.orderEvery } },
    risk: { preset: 'off', maxOrderQty: 1, maxPositionQty: 1 },
    stats: { intervalMs: 3_600_000 },
    log: { level: 'warn' },
  });
  const engine = new Engine(cfg, createLogger('warn'), ep);
  await engine.start();
  afterStart?.(engine);
  try {
    await sleep(o.warmupS * 1000);
    await engine.resetMeasurements();
    const beforeReport = engine.report();
    const before = beforeReport.counters;
    const heapBefore = beforeReport.workers.strategy.heapUsed ?? 0;
    await sleep(o.durationS * 1000);
    await engine.flushStats();
    const r = engine.report();
    const secs = r.durationS;
    return {
      ticksPerSec: (r.counters.frames - before.frames) / secs,
      orders: r.counters.ordersSent - before.ordersSent,
      acks: r.counters.acks - before.acks,
      rejects: r.counters.rejects - before.rejects,
      minorGcsStrategyWorker: r.gc.strategy.minor,
      heapGrowthBytesPerSecStrategyWorker: ((r.workers.strategy.heapUsed ?? 0) - heapBefore) / secs,
      stages: r.stages,
    };
  } finally {
    await engine.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
