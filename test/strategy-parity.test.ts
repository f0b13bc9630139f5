import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DEFAULT_CONFIG, validateConfig, type EngineConfig } from '../src/config/Config.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { Engine, fetchVenueSymbols } from '../src/engine/Engine.js';
import { FeedHandler } from '../src/feed/FeedHandler.js';
import { ExecType, IN, INTENT_SLOT_BYTES, MARKET_SLOT_BYTES, OrderStatus, RecordType, REPORT_SLOT_BYTES, RP, packHeader } from '../src/ring/layout.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { validateRiskConfig } from '../src/risk/RiskConfig.js';
import { RiskEngine } from '../src/risk/RiskEngine.js';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { createStrategy } from '../src/strategy/registry.js';
import { StrategyRunner } from '../src/strategy/StrategyRunner.js';
import { createLogger } from '../src/util/log.js';
import { HAVE_SHARED_FIXTURES, NO_FIXTURES_MESSAGE, PROJECT_ROOT, fixturePath } from './helpers/fixtures.js';
import { sleep, until } from './helpers/wait.js';

/**
 * Strategy parity: one recorded session gives the same intents through the in-process strategy loop and
 * through the three-worker engine.
 *
 * Strategy: ping-pong with everyNTicks. Its decision is "the Nth tick (trade / bookTicker) of the symbol,
 * if no order is in flight": no prices, positions or clocks, so it depends on fills only through the
 * in-flight gate. The reference feeds each intent's final fill back at once (the ideal: the report is in
 * before the next event), so the engine matches it exactly iff every order's round trip finishes within N
 * ticks of the symbol; a late report shows up as a missing intent (the engine skips to the next multiple of
 * N), never as a different price. fee-momentum was not chosen: its state is the position from fills, so a
 * late fill changes the side and quantity of what follows, not just whether an order is sent.
 *
 * Both sides read the recording through the same feed path (FeedHandler core, legacy routing: one
 * connection, so the recorded interleaving of streams is kept; depth goes through BookSync) from a venue
 * simulator replaying it (the reference at speed 0; the engine at SPEED, see there). The engine's intents are read from its ring B after the run (its
 * slots keep the records; fewer intents than the ring's capacity, so slot i = intent i+1).
 */

const FILE = 'recordings/binance-usdm/2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl';
const SYMBOLS = ['SANDUSDT', 'CHRUSDT', 'NEOUSDT', 'CTKUSDT', 'BATUSDT'];
const SYMBOL = 'NEOUSDT'; // the busiest: 1,277 bookTicker + 180 aggTrade frames
const EVERY_N = 50;
/**
 * The engine's replay speed. At speed 0 (as fast as the feed reads) the whole ~119 s session goes through in
 * a few ms, faster than an order's round trip, so the engine sees the in-flight gate still closed at most
 * decision ticks: measured 5 of the reference's 29 intents (the first, then only those whose gate happened
 * to be open; each of the 5 matched the reference intent at the same event time). That is fill timing, not
 * a strategy or feed divergence. At 20x the 50-tick gaps are far longer than the round trip: exact parity.
 * PARITY_SPEED=0 reproduces the speed-0 run.
 */
const SPEED = Number(process.env['PARITY_SPEED'] ?? '20');

const quietLog = () => createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

interface Intent {
  symbol: number;
  side: number;
  type: number;
  priceTicks: number;
  qtySteps: number;
  eventTime: number;
}

function readIntent(f64: Float64Array, i32: Int32Array, b: number): Intent {
  return { symbol: i32[b * 2 + 1]!, side: f64[b + IN.SIDE]!, type: f64[b + IN.ORDER_TYPE]!, priceTicks: f64[b + IN.PRICE_TICKS]!, qtySteps: f64[b + IN.QTY_STEPS]!, eventTime: f64[b + IN.EVENT_TIME]! };
}

function config(): EngineConfig {
  return validateConfig({
    ...DEFAULT_CONFIG,
    symbols: SYMBOLS,
    feed: { ...DEFAULT_CONFIG.feed, routing: 'legacy', reconnect: { initialMs: 20, maxMs: 500, jitter: 0.3 } },
    strategy: { name: 'ping-pong', params: { symbol: SYMBOL, quantity: 1, cooldownMs: 0, triggerPrice: 0, everyNTicks: EVERY_N } },
    risk: { preset: 'off', maxOrderQty: 1e6, maxPositionQty: 1e6 },
    stats: { intervalMs: 3_600_000 },
  });
}

const venues: BinanceVenueHandle[] = [];
afterAll(async () => {
  for (const v of venues.splice(0)) await v.close();
});

async function replayVenue(speed: number): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, source: { kind: 'replay', file: fixturePath(FILE), speed, manualStart: true } });
  venues.push(v);
  return v;
}

/** (a) The feed core and a StrategyRunner in this thread; each intent's final report fed back at once. */
async function inProcess(cfg: EngineConfig, speed: number): Promise<{ intents: Intent[]; frames: number }> {
  const v = await replayVenue(speed);
  const { instruments } = await fetchVenueSymbols(v.restUrl, cfg.symbols);
  const ringA = SpscRing.create('A', cfg.rings.marketCapacity, MARKET_SLOT_BYTES);
  const feed = new FeedHandler(new SymbolRegistry(cfg.symbols), ringA, { ...cfg.feed, wsBase: v.wsUrl, restUrl: v.restUrl, symbols: cfg.symbols, book: cfg.book });
  const ringB = new ArraySlotWriter(INTENT_SLOT_BYTES, 16);
  const rep = new ArraySlotWriter(REPORT_SLOT_BYTES, 1);
  const runner = new StrategyRunner(createStrategy(cfg.strategy.name, cfg.strategy.params, cfg.symbols), instruments, ringB, new RiskEngine(validateRiskConfig(cfg.risk)), { now: () => 0 });
  const intents: Intent[] = [];
  const drain = (): void => {
    const n = ringA.poll();
    if (n === 0) return;
    runner.beginBatch(0);
    for (let i = 0; i < n; i++) {
      runner.onMarketRecord(ringA.f64, ringA.i32, ringA.readBase(i));
      for (let k = 0; k < ringB.count; k++) {
        const b = ringB.base(k);
        intents.push(readIntent(ringB.f64, ringB.i32, b));
        rep.reset();
        const r = rep.claim();
        rep.i32[r * 2] = packHeader(RecordType.ExecReport, 0, 0);
        rep.i32[r * 2 + 1] = ringB.i32[b * 2 + 1]!;
        rep.f64[r + RP.INTENT_ID] = ringB.f64[b + IN.INTENT_ID]!;
        rep.f64[r + RP.EXEC_TYPE] = ExecType.Fill;
        rep.f64[r + RP.STATUS] = OrderStatus.Filled;
        rep.f64[r + RP.SIDE] = ringB.f64[b + IN.SIDE]!;
        rep.commit();
        runner.onReportRecord(rep.f64, rep.i32, rep.u8, r);
      }
      ringB.reset();
    }
    ringA.release(n);
  };
  feed.start();
  const timer = setInterval(drain, 1);
  try {
    await until(() => feed.counters().connects >= 1, 5000, 'feed connected');
    v.replay!.start();
    await v.replay!.whenDone();
    const sent = v.replay!.stats().framesSent;
    await until(() => feed.counters().frames >= sent, 10_000, `${sent} frames at the feed`);
    await sleep(50);
    drain();
    expect(feed.counters().ringDrops).toBe(0);
    return { intents, frames: sent };
  } finally {
    clearInterval(timer);
    feed.stop();
  }
}

/** (b) The engine's three workers against the same replay. */
async function pipeline(cfg: EngineConfig, speed: number): Promise<{ intents: Intent[]; frames: number; report: Awaited<ReturnType<Engine['stop']>> }> {
  const v = await replayVenue(speed);
  const engine = new Engine(cfg, quietLog(), { restUrl: v.restUrl, wsUrl: v.wsUrl, apiKey: v.apiKey, apiSecret: v.apiSecret });
  await engine.start();
  let report;
  let sent = 0;
  try {
    // the feed's connection is up once the venue has a market-data subscriber: then replay
    await until(() => v.stats().connections > 0, 5000, 'engine feed connected');
    await sleep(200);
    v.replay!.start();
    await v.replay!.whenDone();
    sent = v.replay!.stats().framesSent;
    await until(() => {
      void engine.flushStats();
      return engine.report().counters.frames >= sent;
    }, 10_000, `${sent} frames at the engine's feed`);
    await sleep(300);
    await engine.flushStats();
  } finally {
    report = await engine.stop();
  }
  const ringB = engine.ringForInspection('B')!;
  const n = report.counters.intents;
  expect(n).toBeLessThan(ringB.capacity);
  const intents: Intent[] = [];
  for (let i = 0; i < n; i++) intents.push(readIntent(ringB.f64, ringB.i32, i * ringB.slotWords));
  return { intents, frames: sent, report };
}

describe.skipIf(!HAVE_SHARED_FIXTURES)('strategy parity: in-process loop vs worker pipeline on a recording', () => {
  it.skipIf(!existsSync(join(PROJECT_ROOT, 'dist/src/engine/Engine.js')))('ping-pong (everyNTicks): the same intents, in order, with the same triggering event times', async () => {
    const cfg = config();
    const a = await inProcess(cfg, 0);
    const b = await pipeline(cfg, SPEED);
    expect(b.frames).toBe(a.frames);
    expect(venues.map((v) => v.stats().slowConsumerDrops)).toEqual([0, 0]);
    expect(b.report.counters.ringDrops.A).toBe(0);
    expect(b.report.counters.decodeErrors).toBe(0);
    expect(a.intents.length).toBeGreaterThan(10);
    expect(b.intents).toEqual(a.intents);
  }, 60_000);
});

if (!HAVE_SHARED_FIXTURES) it.skip(NO_FIXTURES_MESSAGE, () => {});
