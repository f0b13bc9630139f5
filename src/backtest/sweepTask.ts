import type { BacktestConfig } from './Backtester.js';
import type { BacktestMetrics } from './metrics.js';
import { runBacktest } from './runBacktest.js';
import type { ParamValue } from '../strategy/registry.js';

/** One sweep combination as it crosses to a worker (structured-clone safe: no functions). */
export interface SweepTask {
  config: Omit<BacktestConfig, 'onIntent' | 'onReport'>;
  params: Record<string, ParamValue>;
}

/** Runs one combination: the strategy parameters over the sweep's base parameters. */
export function runSweepTask(task: SweepTask): BacktestMetrics {
  return runBacktest({ ...task.config, params: { ...task.config.params, ...task.params } }).metrics;
}
