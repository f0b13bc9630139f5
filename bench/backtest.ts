import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { RISK_OFF } from '../src/risk/RiskConfig.js';
import { Backtester, resolveInstrumentRules, type BacktestConfig } from '../src/backtest/Backtester.js';
import { sweepWorkerFile } from '../src/backtest/sweep.js';
import type { SweepTask } from '../src/backtest/sweepTask.js';
import type { BacktestMetrics } from '../src/backtest/metrics.js';
import { RecordingReader, RecordingSource } from '../src/venues/binance/recording.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { join } from 'node:path';

/**
 * Backtest throughput. (1) One core: the shared recording replayed `loops` times back to back through the
 * whole backtest (feed core, runner with a simple strategy, simulated exchange with latency and a queue
 * model), in market events (ws frames and REST snapshots) per second, next to merely JSON.parse-ing the
 * same lines (the payload of each ws line) in the same process. (2) A sweep of `combos` combinations on
 * 1 and on 2 piscina workers (combinations per second).
 */
export interface BacktestBenchOptions {
  file?: string;
  /** laps of the file in the one-core run (default 20) */
  loops?: number;
  /** sweep combinations (default 8), each `lapsPerCombo` laps of the file */
  combos?: number;
  workers?: readonly number[];
  /** laps of the file per sweep combination (default 4) */
  lapsPerCombo?: number;
}

export interface BacktestBenchResult {
  file: string;
  lines: number;
  backtest: { events: number; seconds: number; eventsPerSec: number; recordsPerSec: number; fills: number };
  jsonParse: { lines: number; seconds: number; linesPerSec: number };
  /** backtest events/s over JSON.parse lines/s */
  ratioToJsonParse: number;
  sweep: Array<{ workers: number; combos: number; seconds: number; combosPerSec: number }>;
}

const DEFAULT_FILE = join(PROJECT_ROOT, '../shared/fixtures/recordings/binance-usdm/2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl');

function baseConfig(file: string): BacktestConfig {
  return {
    files: [file],
    strategy: 'ping-pong',
    params: { symbol: 'NEOUSDT', quantity: 1, everyNTicks: 50 },
    seed: 1,
    latency: { feed: 'const:1ms', rtt: 'lognormal:2ms:0.3' },
    queue: 'probabilistic',
    fees: { maker: 0.0002, taker: 0.0005 },
    risk: { ...RISK_OFF },
    capital: 10_000,
    sampleMs: 1000,
  };
}

/** Lines/s of JSON.parse over the recording's ws payloads (what a naive replay would do per line). */
function jsonParseRate(file: string, loops: number): { lines: number; seconds: number; linesPerSec: number } {
  const bytes = readFileSync(file);
  let lines = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let lap = 0; lap < loops; lap++) {
    const reader = RecordingReader.fromBytes(bytes);
    for (let l = reader.next(); l !== null; l = reader.next()) {
      if (l.src !== RecordingSource.Ws && l.src !== RecordingSource.Rest) continue;
      if (l.msgEnd <= l.msgStart) continue;
      const o = JSON.parse(bytes.toString('utf8', l.msgStart, l.msgEnd)) as object;
      sink += Object.keys(o).length;
      lines++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink < 0) throw new Error('unreachable');
  return { lines, seconds, linesPerSec: lines / seconds };
}

export async function runBacktestBench(opts: BacktestBenchOptions = {}): Promise<BacktestBenchResult> {
  const file = opts.file ?? DEFAULT_FILE;
  const loops = opts.loops ?? 20;
  const cfg = baseConfig(file);
  cfg.instruments = resolveInstrumentRules(cfg.files);
  // warm-up lap (JIT), then the measured run
  new Backtester({ ...cfg, loops: 1 }).run();
  const t0 = process.hrtime.bigint();
  const run = new Backtester({ ...cfg, loops }).run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  jsonParseRate(file, 1);
  const jp = jsonParseRate(file, loops);
  const events = run.marketLines;

  const combos = opts.combos ?? 8;
  const sweep: BacktestBenchResult['sweep'] = [];
  // several laps per combination: a combination should outweigh the per-task overhead of the pool
  const base: SweepTask['config'] = { ...cfg, loops: opts.lapsPerCombo ?? 4 };
  for (const workers of opts.workers ?? [1, Math.min(2, availableParallelism())]) {
    const pool = new Piscina<SweepTask, BacktestMetrics>({ filename: sweepWorkerFile(), minThreads: workers, maxThreads: workers });
    try {
      // one task per thread first: thread start and module load stay out of the timing
      await Promise.all(Array.from({ length: workers }, () => pool.run({ config: base, params: { everyNTicks: 1000 } })));
      const s0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: combos }, (_, i) => pool.run({ config: base, params: { everyNTicks: 10 + i } })));
      const s = Number(process.hrtime.bigint() - s0) / 1e9;
      sweep.push({ workers, combos, seconds: s, combosPerSec: combos / s });
    } finally {
      await pool.destroy();
    }
  }
  return {
    file,
    lines: events / loops,
    backtest: { events, seconds, eventsPerSec: events / seconds, recordsPerSec: run.marketRecords / seconds, fills: run.ledger.fills.length },
    jsonParse: jp,
    ratioToJsonParse: events / seconds / jp.linesPerSec,
    sweep,
  };
}

export function formatBacktestBench(r: BacktestBenchResult): string {
  const k = (x: number): string => `${(x / 1000).toFixed(1)}k`;
  return [
    `backtest (${r.lines} market lines x ${r.backtest.events / r.lines} laps): ${k(r.backtest.eventsPerSec)} events/s (${k(r.backtest.recordsPerSec)} ring-A records/s, ${r.backtest.fills} fills) on one core`,
    `JSON.parse of the same lines:            ${k(r.jsonParse.linesPerSec)} lines/s (backtest / JSON.parse = ${r.ratioToJsonParse.toFixed(2)})`,
    ...r.sweep.map((s) => `sweep on ${s.workers} worker${s.workers > 1 ? 's' : ''}: ${s.combos} combinations in ${s.seconds.toFixed(2)} s = ${s.combosPerSec.toFixed(2)} combinations/s`),
  ].join('\n');
}
