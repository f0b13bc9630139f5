/**
 * `npm run bench` (= `hft bench`): (a) tinybench micro benches of the hot-path pieces next to the obvious
 * alternatives, (b) ring throughput between two workers, (c) the end-to-end tick-to-order profile of the
 * engine and of a naive baseline, in one run. Prints tables; `--out FILE` writes the JSON results.
 */
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import vm from 'node:vm';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import { UsageError, flag, num, only, parseArgs, str } from '../src/cli/args.js';
import { STAGES, type StageSummary } from '../src/metrics/StageHistograms.js';
import { prepareDecodeBenches, registerDecodeBenches, runDecodeBench } from './micro/decode.js';
import { registerCoreBenches } from './micro/core.js';
import { measureRingThroughput } from './ringThroughput.js';
import { runE2e } from './e2e.js';
import { runHttpTransportBench } from './httpTransport.js';
import { runBookBench, type BookBenchRow } from './micro/book.js';
import { runReplayBench } from './replay.js';
import { formatMatchingBench, runMatchingBench } from './matching.js';
import { runFeatureBench } from './micro/features.js';
import { formatStrategyBench, runStrategyBench } from './strategies.js';
import { runRiskBench } from './risk.js';
import { formatJournalBench, runJournalBench } from './journal.js';
import { formatBacktestBench, runBacktestBench } from './backtest.js';
import { benchGateDecode } from './gateDecode.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/util/paths.js';

interface MicroResult {
  opsPerSec: number;
  meanNs: number;
}

/**
 * A full GC and a breath between benches: each one then starts on a clean heap instead of paying for the
 * garbage of the one before (ccxt and JSON.parse in the decode bench leave hundreds of MB behind).
 */
async function settle(): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  await new Promise((r) => setTimeout(r, 50));
}

/** `name(arg)` of the bench module at `url` (a sibling of this file), run in its own worker thread. */
function runIsolated<T>(url: URL, name: string, arg: unknown): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const w = new Worker(new URL('./isolatedWorker.js', import.meta.url), { workerData: { url: url.href, name, arg } });
    w.once('message', (m: T) => {
      resolvePromise(m);
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => (code !== 0 ? reject(new Error(`isolated bench ${name} exited with ${code}`)) : undefined));
  });
}

export async function benchCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['quick']);
  only(args, ['quick', 'out', 'rate', 'duration', 'only', 'order-every'], 'bench');
  const quick = flag(args, 'quick');
  const part = str(args, 'only');
  if (part !== undefined && part !== 'micro' && part !== 'e2e') throw new UsageError(`--only must be micro or e2e; got ${JSON.stringify(part)}`);
  const rate = num(args, 'rate', { min: 1000, max: 200_000, int: true }) ?? 20_000;
  const durationS = num(args, 'duration', { min: 1, max: 3600 }) ?? (quick ? 8 : 20);
  // 10 orders/s (20k ticks/s / 2000): the execution worker's order budget (the venue's 300 per 10 s and
  // 1200 per minute, minus 10% headroom, counted by the venue per account across the back-to-back runs)
  // would refuse a faster flow locally, and the bench would measure rejects instead of orders.
  const orderEvery = num(args, 'order-every', { min: 1, max: 1e6, int: true }) ?? Math.max(200, Math.ceil(rate / 10));
  const out = str(args, 'out');
  const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);

  const result: {
    machine: { cpus: number; node: string; cpuModel: string };
    micro: Record<string, MicroResult>;
    /** decode of the recorded frames: ns per frame and the two target ratios (vs JSON.parse, vs ccxt's full path) */
    decode?: Record<string, unknown>;
    ring?: { recordsPerSec: number; records: number; errors: number };
    /** order transport: request call -> bytes written (send) and -> response (rtt), µs, same run */
    transport?: Awaited<ReturnType<typeof runHttpTransportBench>>;
    /** every registered strategy: per-event step p50/p99, minor GCs and heap growth over 1 M events */
    strategies?: Awaited<ReturnType<typeof runStrategyBench>>;
    /** strategy features: ns per incremental update */
    features?: Array<{ name: string; nsPerUpdate: number }>;
    /** depth events applied per second on one thread: BookSync + L2Book next to simpler books */
    book?: BookBenchRow[];
    /** simulator matching core in-process: market events per second with resting participant orders */
    matching?: Awaited<ReturnType<typeof runMatchingBench>>;
    /** simulator replay to a connected client on loopback, messages/s */
    replay?: Awaited<ReturnType<typeof runReplayBench>>;
    e2e?: Awaited<ReturnType<typeof runE2e>>;
    /** pre-trade risk: ns per check with every rule on */
    risk?: Awaited<ReturnType<typeof runRiskBench>>;
    /** the journal: fills/s through its ring into SQLite */
    journal?: Awaited<ReturnType<typeof runJournalBench>>;
    /** backtest market events/s on one core next to JSON.parse of the same lines; sweep 1 vs 2 workers */
    backtest?: Awaited<ReturnType<typeof runBacktestBench>>;
    /** Gate decoder on the recorded frames vs JSON.parse */
    gateDecode?: ReturnType<typeof benchGateDecode>;
  } = { machine: { cpus: cpus().length, node: process.version, cpuModel: cpus()[0]?.model ?? '' }, micro: {} };

  if (part !== 'e2e') {
    log('micro benches (tinybench)');
    const bench = new Bench({ time: quick ? 300 : 1000, warmupTime: quick ? 100 : 300 });
    await prepareDecodeBenches(); // loads ccxt (devDependency) for the decode.*.ccxt tasks, if installed
    registerDecodeBenches(bench);
    registerCoreBenches(bench);
    await bench.run();
    for (const t of bench.tasks) {
      const r = t.result;
      if (r.state !== 'completed') {
        log(`${t.name}: ${r.state}`);
        continue;
      }
      result.micro[t.name] = { opsPerSec: r.throughput.mean, meanNs: r.latency.mean * 1e6 };
    }
    printMicro(result.micro);
    log('decoder on the recorded frames: ours vs JSON.parse vs ccxt (same run)');
    const decode = await runDecodeBench({ samples: false, passes: quick ? 7 : 15, failOnMiss: false, log });
    result.decode = { targets: decode.targets, overall: decode.recorded.overall, kinds: decode.recorded.kinds, ccxt: decode.recorded.ccxt, ccxtCheck: decode.recorded.ccxtCheck };
    await settle();
    log('ring throughput between two workers');
    const rt = await measureRingThroughput(quick ? 10_000_000 : 30_000_000);
    result.ring = { recordsPerSec: rt.recordsPerSec, records: rt.records, errors: rt.errors };
    process.stdout.write(`\nring A-style hop between two workers: ${(rt.recordsPerSec / 1e6).toFixed(1)} M records/s (${rt.records.toLocaleString('en')} records, ${rt.errors} out of order)\n`);
    log('order transport: undici Client vs HttpConnection (signed POST /fapi/v1/order, interleaved)');
    result.transport = await runHttpTransportBench({ requests: quick ? 400 : 1000 });
    log('strategy features: ns per incremental update');
    result.features = await runFeatureBench(quick ? { updates: 200_000, passes: 3 } : {});
    process.stdout.write('\nstrategy feature          ns/update\n' + result.features.map((f) => `${f.name.padEnd(26)} ${f.nsPerUpdate.toFixed(1).padStart(8)}`).join('\n') + '\n');
    await settle();
    log('strategies: per-event step over 1 M synthetic events each, in-process');
    result.strategies = await runStrategyBench();
    process.stdout.write('\n' + formatStrategyBench(result.strategies) + '\n');
    await settle();
    log('order book: depth events applied per second (BookSync + L2Book vs sorted array vs Map)');
    result.book = await runIsolated<Awaited<ReturnType<typeof runBookBench>>>(new URL('./micro/book.js', import.meta.url), 'runBookBench', { quick });
    printBook(result.book);
    await settle();
    log('simulator matching core (in-process): market events/s per queue model and resting-order count');
    result.matching = await runIsolated<Awaited<ReturnType<typeof runMatchingBench>>>(new URL('./matching.js', import.meta.url), 'runMatchingBench', { quick });
    process.stdout.write('\n' + formatMatchingBench(result.matching) + '\n');
    await settle();
    log('pre-trade risk: ns per check, every rule on');
    result.risk = await runRiskBench();
    const rk = result.risk;
    process.stdout.write(`\nrisk check (every rule on): p50 ${rk.p50NsPerCheck.toFixed(0)} ns, p99 ${rk.p99NsPerCheck.toFixed(0)} ns per intent, ${rk.minorGcs} minor GCs over ${rk.checks.toLocaleString('en')} checks (target p50 <= 500 ns: ${rk.p50NsPerCheck <= 500 ? 'PASS' : 'MISS'})\n`);
    await settle();
    log('journal: fills/s through the journal ring into SQLite');
    result.journal = await runJournalBench({ fills: quick ? 50_000 : 200_000, print: false });
    process.stdout.write('\n' + formatJournalBench(result.journal) + '\n');
    const sharedRecording = join(PROJECT_ROOT, '../shared/fixtures/recordings/binance-usdm/2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl');
    const gateRecording = join(PROJECT_ROOT, '../shared/fixtures/recordings/gateio-futures/2023-05-24_10-contracts.jsonl');
    if (existsSync(sharedRecording)) {
      log('backtest: market events/s on one core vs JSON.parse of the same lines; sweep on 1 and 2 workers');
      result.backtest = await runBacktestBench(quick ? { loops: 5, combos: 4, lapsPerCombo: 2 } : {});
      process.stdout.write('\n' + formatBacktestBench(result.backtest) + '\n');
    } else log('backtest bench skipped: ../shared/fixtures/recordings is not here');
    if (existsSync(gateRecording)) {
      result.gateDecode = benchGateDecode(gateRecording, quick ? 10 : 30);
      const g = result.gateDecode;
      process.stdout.write(`\nGate decoder on ${g.frames} recorded frames: ${g.oursNs.toFixed(0)} ns/frame vs JSON.parse ${g.jsonParseNs.toFixed(0)} ns (${g.ratio.toFixed(2)}x)\n`);
    }
    await settle();
    log('simulator replay of a recording to a connected client (loopback)');
    result.replay = await runReplayBench({ messages: quick ? 300_000 : 1_000_000, log });
    process.stdout.write(
      `\nreplay to a connected client: ${(result.replay.messagesPerSec / 1e3).toFixed(0)}k msg/s decoded (WsClient + decoder), ${(result.replay.feedMessagesPerSec / 1e3).toFixed(0)}k msg/s through the whole FeedHandler (target >= 200k)\n`,
    );
  }

  if (part !== 'micro') {
    const warmupS = quick ? 2 : 3;
    const e2e = await runE2e({ rate, warmupS, durationS, orderEvery }, log);
    result.e2e = e2e;
    printE2e(e2e);
  }

  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    log(`results written to ${out}`);
  }
  return 0;
}

function printMicro(m: Record<string, MicroResult>): void {
  const lines = ['', 'micro bench                         ops/s        mean ns'];
  for (const [k, v] of Object.entries(m)) lines.push(`${k.padEnd(32)} ${v.opsPerSec.toExponential(3).padStart(12)} ${v.meanNs.toFixed(1).padStart(12)}`);
  const ratio = (a: string, b: string): string => {
    const x = m[a];
    const y = m[b];
    return x && y ? `${(y.meanNs / x.meanNs).toFixed(1)}x` : 'n/a';
  };
  lines.push('', 'decoder speed-up over JSON.parse+parseFloat on the same bytes:');
  for (const k of ['bookTicker', 'aggTrade', 'depth20']) lines.push(`  ${k.padEnd(12)} ${ratio(`decode.${k}.scanner`, `decode.${k}.jsonParse`)}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function printBook(rows: BookBenchRow[]): void {
  const lines = ['', 'order book (one thread)                 events/s   best pass    ns/event  levels/event'];
  for (const r of rows) lines.push(`${r.name.padEnd(36)} ${(r.eventsPerSec / 1e6).toFixed(2).padStart(8)} M ${(r.bestPassEventsPerSec / 1e6).toFixed(2).padStart(8)} M ${r.nsPerEvent.toFixed(0).padStart(10)} ${r.levelsPerEvent.toFixed(1).padStart(12)}`);
  const main = rows.find((r) => r.name === 'book.recorded.l2book') ?? rows.find((r) => r.name === 'book.synthetic.l2book');
  if (main) lines.push(`depth events applied (${main.name}): ${(main.eventsPerSec / 1e6).toFixed(2)} M/s, target >= 1 M/s: ${main.eventsPerSec >= 1e6 ? 'PASS' : 'MISS'}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function us(ns: number): string {
  return (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);
}

function row(name: string, s: StageSummary | undefined): string {
  if (!s) return `${name.padEnd(26)} (not measured)`;
  return `${name.padEnd(26)} ${String(s.count).padStart(8)} ${us(s.p50).padStart(9)} ${us(s.p90).padStart(9)} ${us(s.p99).padStart(9)} ${us(s.p999).padStart(9)} ${us(s.max).padStart(9)}`;
}

type EngineStages = Awaited<ReturnType<typeof runE2e>>['engine']['stages'];

function printE2e(r: Awaited<ReturnType<typeof runE2e>>): void {
  const head = `${'stage (us)'.padEnd(26)} ${'count'.padStart(8)} ${'p50'.padStart(9)} ${'p90'.padStart(9)} ${'p99'.padStart(9)} ${'p99.9'.padStart(9)} ${'max'.padStart(9)}`;
  const lines = [''];
  lines.push('engine = config/low-latency.json (spinning strategy worker, yield after intent, HttpConnection, warm encoder); engineWsApi = the same with orders over the WebSocket API; engineDefault = embedded defaults (spin-then-park, undici); engineParked = engine with the strategy worker parked; enginePinned = engine with threads pinned; engineJournal = engineDefault with the SQLite journal on', '');
  for (const [label, e] of [['engine', r.engine], ['engineWsApi', r.engineWsApi], ['engineParked', r.engineParked], ['enginePinned', r.enginePinned], ['engineDefault', r.engineDefault], ['engineJournal', r.engineJournal]] as const) {
    lines.push(`${label}: ${e.ticksPerSec.toFixed(0)} ticks/s, ${e.orders} orders, ${e.acks} acks, ${e.rejects} rejects, strategy-worker minor GCs ${e.minorGcsStrategyWorker}, heap growth ${(e.heapGrowthBytesPerSecStrategyWorker / 1024).toFixed(1)} KiB/s`, head);
    for (const s of STAGES) lines.push(row(`${label} ${s}`, e.stages[s]));
    lines.push('');
  }
  lines.push(`baseline: ${r.baseline.ticksPerSec.toFixed(0)} ticks/s, ${r.baseline.orders} orders, ${r.baseline.acks} acks, ${r.baseline.rejects} rejects`);
  lines.push(row('baseline tickToOrder', r.baseline.stages.tickToOrder));
  lines.push(row('baseline venueRtt', r.baseline.stages.venueRtt));
  const ratio = (a: number, b: number): string => (a > 0 ? `${(b / a).toFixed(2)}x` : 'n/a');
  const b = r.baseline.stages.tickToOrder;
  for (const [label, e] of [['engine', r.engine.stages.tickToOrder], ['engineWsApi', r.engineWsApi.stages.tickToOrder], ['engineDefault', r.engineDefault.stages.tickToOrder]] as const) {
    lines.push(`tick-to-order baseline/${label}: p50 ${ratio(e.p50, b.p50)}, p99 ${ratio(e.p99, b.p99)}, p99.9 ${ratio(e.p999, b.p999)}`);
  }
  // the two order transports, same profile, same run
  const side = (name: 'tickToOrder' | 'venueRtt'): string => {
    const a = r.engine.stages[name];
    const w = r.engineWsApi.stages[name];
    return a && w ? `${name} REST (HttpConnection) vs WebSocket API: p50 ${us(a.p50)} vs ${us(w.p50)} us, p99 ${us(a.p99)} vs ${us(w.p99)} us` : `${name}: not measured`;
  };
  lines.push(side('tickToOrder'), side('venueRtt'));
  const cmp = (label: string, x: EngineStages, y: EngineStages): string =>
    `${label}: tickToOrder p50 ${us(x.tickToOrder.p50)} vs ${us(y.tickToOrder.p50)} us, p99 ${us(x.tickToOrder.p99)} vs ${us(y.tickToOrder.p99)} us; hopA p50 ${us(x.hopA.p50)} vs ${us(y.hopA.p50)} us`;
  lines.push(cmp('spin vs park (low-latency profile, same run)', r.engine.stages, r.engineParked.stages));
  lines.push(cmp('pinned vs unpinned (low-latency profile, same run)', r.enginePinned.stages, r.engine.stages) + ` [${r.enginePinned.pinned}]`);
  // the journal is off the hot path: the same stages with and without it, same run
  const j = r.engineJournal;
  const d = r.engineDefault;
  lines.push(`journal on vs off (embedded defaults, same run): ${j.journalFills} fills journaled; tickToOrder p50 ${us(j.stages.tickToOrder.p50)} vs ${us(d.stages.tickToOrder.p50)} us, p99 ${us(j.stages.tickToOrder.p99)} vs ${us(d.stages.tickToOrder.p99)} us; strategy p50 ${us(j.stages.strategy.p50)} vs ${us(d.stages.strategy.p50)} us; send p50 ${us(j.stages.send.p50)} vs ${us(d.stages.send.p50)} us`);
  process.stdout.write(lines.join('\n') + '\n');
}
