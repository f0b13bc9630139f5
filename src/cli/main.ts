import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/Config.js';
import { Engine, type EngineReport } from '../engine/Engine.js';
import { STAGES, formatStageTable } from '../metrics/StageHistograms.js';
import { createLogger, createTeeLogger } from '../util/log.js';
import { renderTui, tuiViewFrom } from '../control/Tui.js';
import { PROJECT_ROOT } from '../util/paths.js';
import { VERSION } from '../util/version.js';
import { UsageError, flag, num, only, parseArgs, str } from './args.js';
import { SIM_MIRROR_OPTIONS, SIM_SOURCE_FLAGS, SIM_SOURCE_HELP, SIM_SOURCE_OPTIONS, simSourceOptions, simSourceSummary } from './simSource.js';
import { RECORD_HELP } from './record.js';
import { BACKTEST_HELP } from '../backtest/cli.js';
import { PROBE_HELP } from '../ops/probe.js';
import { DOCTOR_HELP } from '../ops/doctor.js';
import { SWEEP_HELP } from '../backtest/sweep.js';
import { JOURNAL_VIEWS } from '../journal/JournalReader.js';
import { ControlServer } from '../control/ControlServer.js';
import { LogTail } from '../control/LogTail.js';
import { Supervisor } from '../control/Supervisor.js';
import { loadOrCreateToken } from '../control/token.js';

const JOURNAL_VIEWS_TEXT = JOURNAL_VIEWS.join(', ');

const HELP = `hft ${VERSION} — low-latency crypto-futures trading engine (Node 20)

Usage: hft <command> [options]

Commands:
  run      Run the engine (paper trading against the built-in venue simulator by default)
             --venue binance|gate  gate: Gate.io USDT futures on its simulator (config/gate.json)
             --real             confirm a mode that sends real orders (testnet, live); the config file
                                must set its own risk limits and credentials come from the environment
             --tui              a live terminal view (prices, positions, PnL, latency per stage, orders, logs)
                                in place of the JSON log lines
             --config FILE      configuration file (default: $HFT_CONFIG, else the embedded defaults;
                                npm start uses config/default.json)
             --duration S       stop after S seconds
             --summary FILE     write the final report as JSON when stopping
             --latency-out FILE write the stage histograms (venueRtt, tickToOrder, ...) as a latency
                                histogram file (src/metrics/latencyFile.ts), replayable by hft sim --latency
  sim      Run the venue simulator standalone; prints one JSON line with its URLs and test keys
             --venue binance|gate  venue dialect (default binance; gate: contracts such as BTC_USDT)
             --port N           port (default 0 = any free port)
             --rate N           market messages per second, 1..200000 (default 2000)
             --seed N           random seed (default 42)
             --symbols A,B      symbols (default BTCUSDT,ETHUSDT)
             --strict-paths     serve streams only under their 2026 base path (/public, /market)
             --enforce-rate-limits  answer 429 past the weight/order limits, 418 after repeated 429s
             --listen-key-validity-ms N  listen key lifetime without keep-alive (default 3600000)
             --initial-balance D        starting wallet balance per account (default 100000)
             --liquidation-probability P  synthetic liquidations per second and symbol (default 0.05)
             --latency SPEC     delays (repeatable): [feed=|user=|order=|ack=|rtt=]SPEC with SPEC const:2ms,
                                normal:2ms:0.5ms, lognormal:1ms:0.4, uniform:1ms:3ms or file:F[#STAGE]; a bare
                                FILE (hft run --latency-out) is the round trip, a bare spec feed+order+ack.
                                Faults: POST /_sim/faults on the REST port (see src/sim/faults/Faults.ts)
${SIM_SOURCE_HELP.trimEnd()}
  bench    Micro benchmarks and the end-to-end tick-to-order profile against a naive baseline
             --quick            shorter run (finishes in under 90 s)
             --out FILE         write the results as JSON
             --rate N           paced ticks per second (default 20000)
             --duration S       measured seconds per pipeline (default 20; --quick: 8)
             --only micro|e2e   run one part
             --order-every N    the strategy fires an order every N ticks (default 200)
${RECORD_HELP}${BACKTEST_HELP}${SWEEP_HELP}  journal  Query the SQLite journal
             --file F           the journal (default data/journal.sqlite)
             --view V           ${JOURNAL_VIEWS_TEXT}
             --session N|last  --symbol S  --order CLIENT_ID  --since MS  --limit N  --json
  verify-book FILE  Replay a recording (fixtures/recordings format) through the feed decoder,
             the book sync and the L2 book; prints one JSON line
             {"symbols":{SYMBOL:{applied,gaps,resyncs,checks,mismatches}}} (a check: best bid/ask price
             and qty equal a bookTicker whose update id is that of the last applied depth event).
             Exit 0 when no symbol has a gap or a mismatch and each has checks > 0, else 1
${PROBE_HELP}${DOCTOR_HELP}  strategies  List the registered strategies and their parameters (type, default, range, allowed values)
             --json             as JSON
  help     Show this help

Environment: HFT_<KEY>__<SUBKEY>=value overrides a config key (e.g. HFT_VENUE__SIM__RATE=5000).
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return 0;
      case '--version':
        process.stdout.write(`${VERSION}\n`);
        return 0;
      case 'run':
        return await runCommand(rest);
      case 'sim':
        return await simCommand(rest);
      case 'record': {
        const { recordCommand } = await import('./record.js');
        return await recordCommand(rest);
      }
      case 'strategies': {
        const args = parseArgs(rest, ['json']);
        only(args, ['json'], 'strategies');
        const { listStrategies, formatStrategies } = await import('../strategy/registry.js');
        process.stdout.write(flag(args, 'json') ? JSON.stringify(listStrategies(), null, 2) + '\n' : formatStrategies());
        return 0;
      }
      case 'verify-book': {
        const { verifyBookCommand } = await import('./verifyBook.js');
        return verifyBookCommand(rest);
      }
      case 'backtest': {
        const { runBacktestCli } = await import('../backtest/cli.js');
        return await runBacktestCli(rest);
      }
      case 'sweep': {
        const { runSweepCli } = await import('../backtest/sweep.js');
        return await runSweepCli(rest);
      }
      case 'journal':
        return await journalCommand(rest);
      case 'probe': {
        const { probeCommand } = await import('../ops/probe.js');
        return await probeCommand(rest);
      }
      case 'doctor': {
        const { doctorCommand } = await import('../ops/doctor.js');
        return await doctorCommand(rest);
      }
      case 'bench': {
        const { benchCommand } = await import('../../bench/index.js');
        return await benchCommand(rest);
      }
      default:
        process.stderr.write(`hft: unknown command "${cmd}"\n\n${HELP}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`hft: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`hft: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

/**
 * Orders that reach a real venue (testnet or live) need the operator's explicit `--real` and a risk section
 * written in the config file itself (not the embedded defaults); credentials are checked at start.
 */
function checkRealVenue(mode: string, configPath: string | undefined, real: boolean): void {
  if (mode !== 'testnet' && mode !== 'live') return;
  if (!real) throw new UsageError(`hft run: mode "${mode}" sends real orders to the venue; add --real to confirm`);
  let file: Record<string, unknown> = {};
  try {
    file = configPath ? (JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>) : {};
  } catch {
    // loadConfig has already reported a broken file
  }
  const risk = file.risk;
  if (typeof risk !== 'object' || risk === null || Object.keys(risk).length === 0) {
    throw new UsageError(`hft run: mode "${mode}" needs risk limits set in the config file (${configPath ?? 'no file'}): a "risk" section with a preset and limits`);
  }
}

async function journalCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  only(args, ['file', 'view', 'session', 'symbol', 'order', 'since', 'limit', 'json'], 'journal');
  const { openJournalDb, queryJournal, formatJournalRows, JOURNAL_VIEWS } = await import('../journal/JournalReader.js');
  const file = str(args, 'file') ?? 'data/journal.sqlite';
  const view = str(args, 'view') ?? 'fills';
  if (!(JOURNAL_VIEWS as readonly string[]).includes(view)) throw new UsageError(`--view must be one of ${JOURNAL_VIEWS.join(', ')}; got ${JSON.stringify(view)}`);
  const sessionArg = str(args, 'session');
  const session = sessionArg === undefined ? undefined : sessionArg === 'last' ? ('last' as const) : Number(sessionArg);
  if (typeof session === 'number' && !(Number.isInteger(session) && session > 0)) throw new UsageError(`--session must be a session id or "last"; got ${JSON.stringify(sessionArg)}`);
  const db = openJournalDb(file, { readonly: true });
  try {
    const symbol = str(args, 'symbol');
    const order = str(args, 'order');
    const since = num(args, 'since', { min: 0, max: 1e15 });
    const rows = queryJournal(db, {
      view: view as (typeof JOURNAL_VIEWS)[number],
      ...(session !== undefined ? { session } : {}),
      ...(symbol !== undefined ? { symbol } : {}),
      ...(order !== undefined ? { order } : {}),
      ...(since !== undefined ? { sinceMs: since } : {}),
      limit: num(args, 'limit', { min: 1, max: 1e6, int: true }) ?? 100,
    });
    process.stdout.write(formatJournalRows(rows, flag(args, 'json') ? 'json' : 'table') + '\n');
    return 0;
  } finally {
    db.close();
  }
}

async function runCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['tui', 'real']);
  only(args, ['config', 'duration', 'summary', 'latency-out', 'venue', 'tui', 'real'], 'run');
  const tui = flag(args, 'tui');
  const venue = str(args, 'venue');
  if (venue !== undefined && venue !== 'binance' && venue !== 'gate') throw new UsageError(`hft run: --venue must be binance or gate; got ${JSON.stringify(venue)}`);
  let configPath = str(args, 'config') ?? process.env.HFT_CONFIG;
  // `npm start -- --venue gate`: the Gate paper-trading profile in place of the Binance default
  if (venue === 'gate' && (configPath === undefined || configPath.replace(/^\.\//, '') === 'config/default.json')) configPath = join(PROJECT_ROOT, 'config/gate.json');
  const cfg = loadConfig(configPath);
  if (venue !== undefined && (cfg.venue.name === 'gate-futures') !== (venue === 'gate')) {
    throw new UsageError(`hft run: --venue ${venue} does not match the config's venue.name ${cfg.venue.name}`);
  }
  checkRealVenue(cfg.mode, configPath, flag(args, 'real'));
  const duration = num(args, 'duration', { min: 0.1, max: 1e7 });
  const summary = str(args, 'summary');
  const latencyOut = str(args, 'latency-out');
  const tail = new LogTail(500);
  // the terminal view owns the screen: logs go to its tail only (and to the dashboard), not to stdout
  const log = tui ? createLogger(cfg.log.level, tail) : createTeeLogger(cfg.log.level, tail);
  let tuiTimer: NodeJS.Timeout | undefined;
  const sup = new Supervisor(cfg, log, tail);
  let server: ControlServer | undefined;
  let stopping = false;
  const finished = new Promise<EngineReport | undefined>((resolve, reject) => {
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ why }, 'stopping');
      // graceful: HALT first (no new orders; every open order cancelled at the venue), then the control
      // plane (no new requests), then the engine (workers in pipeline order, the journal flushed and closed
      // after the execution worker)
      if (tuiTimer) clearInterval(tuiTimer);
      const halted = sup.running ? Promise.race([sup.trading('halt', `shutdown (${why})`).catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]) : Promise.resolve();
      halted
        .then(() => server?.close())
        .then(() => sup.stop())
        .then(resolve, reject);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    sup.start().then(
      async () => {
        engineRef = sup.currentEngine;
        if (cfg.control.enabled) {
          const { token, created } = loadOrCreateToken(cfg.control.token, cfg.control.tokenFile);
          // printed once, at first start, outside the logs (no secret ever reaches a log line)
          if (created) process.stderr.write(`control API token (saved to ${cfg.control.tokenFile}, shown once): ${token}\n`);
          server = new ControlServer(sup, { host: cfg.control.host, port: cfg.control.port, token, staticDir: join(PROJECT_ROOT, 'dashboard'), pushHz: cfg.control.pushHz });
          await server.start();
          log.info({ url: `${server.url}/` }, 'control API and dashboard');
        }
        if (tui) {
          const draw = (): void => {
            const view = tuiViewFrom(sup.stats(), sup.orders(), sup.logs(20), cfg.symbols, cfg.venue.name);
            process.stdout.write('\x1b[H\x1b[2J' + renderTui(view, process.stdout.columns || 100, process.stdout.isTTY === true) + '\n');
          };
          draw();
          tuiTimer = setInterval(draw, 1000);
        }
        if (duration !== undefined) setTimeout(() => stop(`duration ${duration}s reached`), duration * 1000);
      },
      (err: Error) => {
        log.error({ err: err.message }, 'engine failed to start');
        stopping = true;
        sup.stop().then(() => reject(err), () => reject(err));
      },
    );
  });
  let engineRef: Engine | undefined;
  const report = await finished;
  if (!report) return 0;
  log.info({ counters: report.counters, gc: report.gc }, `final latency report (${report.durationS.toFixed(1)} s)\n${formatStageTable(report.stages)}`);
  if (summary) {
    writeFileSync(summary, JSON.stringify(report, null, 2) + '\n');
    log.info({ file: summary }, 'summary written');
  }
  if (latencyOut) {
    const { latencyFileFrom, writeLatencyFile } = await import('../metrics/latencyFile.js');
    const merger = engineRef?.merger;
    if (merger) writeLatencyFile(latencyOut, latencyFileFrom(Object.fromEntries(STAGES.map((s) => [s, merger.histogram(s)])), report.durationS));
    log.info({ file: latencyOut }, 'latency histograms written');
  }
  return 0;
}

async function simCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['strict-paths', 'enforce-rate-limits', ...SIM_SOURCE_FLAGS]);
  only(args, ['venue', 'port', 'rate', 'seed', 'symbols', 'strict-paths', 'enforce-rate-limits', 'listen-key-validity-ms', 'initial-balance', 'liquidation-probability', 'latency', ...SIM_SOURCE_OPTIONS, ...SIM_MIRROR_OPTIONS], 'sim');
  const venue = str(args, 'venue') ?? 'binance';
  if (venue !== 'binance' && venue !== 'gate') throw new UsageError(`hft sim: --venue must be binance or gate; got ${JSON.stringify(venue)}`);
  const sourceOpts = venue === 'binance' ? simSourceOptions(args) : {};
  const gateSourceOpts = venue === 'gate' ? simSourceOptions(args, 'gate') : {};
  const port = num(args, 'port', { min: 0, max: 65535, int: true }) ?? 0;
  const rate = num(args, 'rate', { min: 1, max: 200_000, int: true }) ?? 2000;
  const seed = num(args, 'seed', { min: 0, max: 2 ** 31 - 1, int: true }) ?? 42;
  const symbolsArg = str(args, 'symbols');
  const symbols = symbolsArg ? symbolsArg.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const latencyArgs = args.options.get('latency');
  let latency;
  if (latencyArgs) {
    const { latencyOptionsFromArgs, LatencyModel, LatencySpecError } = await import('../sim/latency/Latency.js');
    const { LatencyFileError } = await import('../metrics/latencyFile.js');
    try {
      latency = latencyOptionsFromArgs(latencyArgs);
      new LatencyModel(latency, seed); // reads and checks the files now: a usage error, not a crash later
    } catch (e) {
      if (e instanceof LatencySpecError || e instanceof LatencyFileError) throw new UsageError(`hft sim: --latency: ${e.message}`);
      throw e;
    }
  }
  if (venue === 'gate') {
    const { startGateVenue, describeGateVenue } = await import('../sim/gate/GateVenue.js');
    const g = await startGateVenue({ port, rate, seed, ...(symbols ? { contracts: symbols } : {}), enforceRateLimits: flag(args, 'enforce-rate-limits'), ...(latency !== undefined ? { latency } : {}), ...gateSourceOpts });
    process.stdout.write(JSON.stringify({ ...describeGateVenue(g), faults: `${g.origin}/_sim/faults`, ...simSourceSummary(g) }) + '\n');
    await waitForSignal();
    await g.close();
    return 0;
  }
  const { startBinanceVenue } = await import('../sim/binance/BinanceVenue.js');
  const listenKeyValidityMs = num(args, 'listen-key-validity-ms', { min: 100, max: 86_400_000, int: true });
  const liquidationProbability = num(args, 'liquidation-probability', { min: 0, max: 1 });
  const initialBalance = str(args, 'initial-balance');
  if (initialBalance !== undefined && !/^\d+(\.\d+)?$/.test(initialBalance)) throw new UsageError(`hft sim: --initial-balance must be a positive decimal; got ${JSON.stringify(initialBalance)}`);
  const v = await startBinanceVenue({
    port,
    rate,
    seed,
    ...(symbols ? { symbols } : {}),
    strictPaths: flag(args, 'strict-paths'),
    enforceRateLimits: flag(args, 'enforce-rate-limits'),
    ...(listenKeyValidityMs !== undefined ? { listenKeyValidityMs } : {}),
    ...(liquidationProbability !== undefined ? { liquidationProbability } : {}),
    ...(initialBalance !== undefined ? { initialBalance } : {}),
    ...(latency !== undefined ? { latency } : {}),
    ...sourceOpts,
  });
  process.stdout.write(JSON.stringify({ venue: v.venue, rest: v.restUrl, ws: v.wsUrl, wsApi: v.wsApiUrl, apiKey: v.apiKey, apiSecret: v.apiSecret, faults: `${v.restUrl}/_sim/faults`, ...simSourceSummary(v) }) + '\n');
  await waitForSignal();
  await v.close();
  return 0;
}

function waitForSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
