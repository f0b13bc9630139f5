// Sweep worker (piscina): runs one backtest combination per task and returns its metrics.
import { runSweepTask } from '../src/backtest/sweepTask.js';

export default runSweepTask;
