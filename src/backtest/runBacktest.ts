import { Backtester, type BacktestConfig, type BacktestRun } from './Backtester.js';
import { computeMetrics, sensitivityRow, type BacktestMetrics } from './metrics.js';

export interface BacktestResult {
  metrics: BacktestMetrics;
  run: BacktestRun;
}

/** Latency scales of the sensitivity runs (the 1x run is the main one). */
export const SENSITIVITY_SCALES: readonly number[] = [0.5, 2];

/**
 * One backtest and its metrics; with `sensitivity`, the same run (same seed, so the same draws) again at
 * each scale of the latency, summarised in `metrics.latencySensitivity` next to the 1x run.
 */
export function runBacktest(config: BacktestConfig, opts: { sensitivity?: readonly number[] } = {}): BacktestResult {
  const run = new Backtester(config).run();
  const metrics = computeMetrics(run);
  const scales = opts.sensitivity ?? [];
  if (scales.length > 0) {
    const base = config.latencyScale ?? 1;
    const rows = [sensitivityRow(1, metrics)];
    for (const s of scales) {
      const other = new Backtester({ ...config, latencyScale: base * s, onIntent: undefined, onReport: undefined }).run();
      rows.push(sensitivityRow(s, computeMetrics(other)));
    }
    rows.sort((a, b) => a.scale - b.scale);
    metrics.latencySensitivity = rows;
  }
  return { metrics, run };
}
