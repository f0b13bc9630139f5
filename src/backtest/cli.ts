import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { UsageError, flag, only, parseArgs, str } from '../cli/args.js';
import { ConfigError } from '../config/ConfigError.js';
import { BacktestJournal } from './journal.js';
import { COMMON_HELP, COMMON_OPTIONS, configFromArgs } from './options.js';
import { writeReport } from './report.js';
import { runBacktest, SENSITIVITY_SCALES } from './runBacktest.js';
import { resolveInstrumentRules } from './Backtester.js';
import { makeInstrument } from '../core/Instrument.js';

export const BACKTEST_HELP = `  backtest  Replay recordings through the engine's feed, strategy runner and risk against a simulated
           exchange (fills on the replayed book, queue model, latency, fees, conditional orders)
${COMMON_HELP.replace(/^/gm, '         ').trimEnd()}
             --json               print the metrics as one JSON object on stdout
             --no-sensitivity     skip the 0.5x / 2x latency runs
           With --out: report.html (self-contained), fills.csv, metrics.json and journal.sqlite
`;

/** `hft backtest ...`: exit code 0 on success, 2 on a usage error. */
export async function runBacktestCli(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv, ['json', 'no-sensitivity']);
    only(args, [...COMMON_OPTIONS, 'json', 'no-sensitivity'], 'backtest');
    if (args.positional.length > 0) throw new UsageError(`hft backtest: unexpected argument ${JSON.stringify(args.positional[0])}`);
    const config = configFromArgs(args, 'backtest');
    const out = str(args, 'out');
    let journal: BacktestJournal | null = null;
    if (out !== undefined) {
      mkdirSync(out, { recursive: true });
      const rules = resolveInstrumentRules(config.files, config.instruments);
      journal = new BacktestJournal(join(out, 'journal.sqlite'), rules.map((r) => r.symbol), rules.map((r) => makeInstrument(r.symbol, r.tickSize, r.stepSize, r.minQty, r.minNotional)), { strategy: config.strategy, params: config.params, seed: config.seed }, Date.now());
      config.onIntent = journal.intent;
      config.onReport = journal.report;
    }
    const result = runBacktest(config, { sensitivity: flag(args, 'no-sensitivity') ? [] : SENSITIVITY_SCALES });
    journal?.close();
    const m = result.metrics;
    if (out !== undefined) {
      const paths = writeReport(out, result);
      process.stderr.write(`hft backtest: wrote ${paths.html}, ${paths.csv}, ${paths.metrics}, ${join(out, 'journal.sqlite')}\n`);
    }
    if (flag(args, 'json')) process.stdout.write(JSON.stringify(m) + '\n');
    else {
      process.stdout.write(
        `${m.strategy} on ${m.symbol}: net PnL ${m.netPnl} (gross ${m.grossPnl}, fees ${m.fees}), ${m.trades} fills, ${m.roundTrips} round trips, win rate ${m.winRate}, ` +
          `Sharpe/day ${m.sharpePerDay}, max drawdown ${m.maxDrawdown}, maker share ${m.makerShare}, slippage ${m.avgSlippageBps} bps\n`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`hft backtest: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
