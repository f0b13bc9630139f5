import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { request } from 'undici';
import type { Logger } from 'pino';
import { ConfigError, credentialsFromEnv, type EngineConfig } from '../config/Config.js';
import { validateRiskConfig } from '../risk/RiskConfig.js';
import type { Instrument } from '../core/Instrument.js';
import { instrumentOf, parseExchangeInfoFilters, type SymbolFilters, type ExchangeInfo } from '../venues/binance/filters.js';
import { SymbolRegistry } from '../core/SymbolRegistry.js';
import { SpscRing, type RingStats } from '../ring/SpscRing.js';
import { Doorbell } from '../ring/Doorbell.js';
import { MARKET_SLOT_BYTES, INTENT_SLOT_BYTES, REPORT_SLOT_BYTES } from '../ring/layout.js';
import { StageMerger, initHistograms, formatStageTable, type StageName, type StageSummary } from '../metrics/StageHistograms.js';
import { clockEpoch, nowNs } from '../util/clock.js';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { JournalChannel } from '../journal/JournalChannel.js';
import { reconcileOnStart } from '../journal/Reconciler.js';
import { GateRestClient } from '../venues/gate/RestClient.js';
import { gateInstrument, type GateContractRules } from '../venues/gate/contracts.js';
import { BinanceRestClient } from '../venues/binance/RestClient.js';
import { workerFile } from '../util/paths.js';
import { VenueProcess, type VenueEndpoints } from './VenueProcess.js';
import { resolveControl, type StrategyControl, type StrategyControlResult, type StrategyState } from '../strategy/control.js';
import type { ExecutionInit, FeedInit, GcCounts, MainMessage, StrategyInit, TradingAction, WorkerMessage, WorkerName } from './messages.js';
import { TRADING_STATE_NAMES } from '../risk/RiskEngine.js';

export interface EngineReport {
  durationS: number;
  stages: Record<StageName, StageSummary>;
  counters: {
    frames: number;
    records: number;
    decodeErrors: number;
    ignoredFrames: number;
    unknownSymbol: number;
    reconnects: number;
    ringDrops: { A: number; B: number; C: number };
    intents: number;
    riskRejects: number;
    ordersSent: number;
    acks: number;
    rejects: number;
    fills: number;
    expired: number;
    unknown: number;
    transportErrors: number;
    /** intents that went over REST because the WebSocket API was not ready */
    transportFallbacks: number;
    /** Unknown outcomes resolved by client order id (follow-up reports written) */
    unknownResolved: number;
    /** user data stream frames received */
    userStreamEvents: number;
    /** positions the strategy took over from a venue reconcile because they differed */
    reconcileCorrections: number;
  };
  position: number;
  rings: RingStats[];
  gc: Record<WorkerName, GcCounts>;
  workers: Record<WorkerName, Record<string, number>>;
}

export interface EngineEndpoints {
  restUrl: string;
  wsUrl: string;
  /** WebSocket API (order entry); default: venue.wsApiUrl, else `<wsUrl>/ws-fapi/v1` (the simulator's path) */
  wsApiUrl?: string;
  apiKey: string;
  apiSecret: string;
  /** Gate: the account's user id (private channel payloads) */
  userId?: number;
}

const WORKERS: readonly WorkerName[] = ['feed', 'strategy', 'execution'];

/**
 * The supervisor in the main thread: starts the venue simulator (paper mode), reads the venue's
 * instrument rules, creates rings A, B, C, starts the feed, strategy and execution workers, merges their
 * per-stage histograms and counters, logs a latency table every few seconds, and stops everything
 * cleanly with a final report. Never on the hot path.
 */
export class Engine {
  readonly merger: StageMerger;
  private venue: VenueProcess | undefined;
  private endpoints: EngineEndpoints | undefined;
  private readonly workers = new Map<WorkerName, Worker>();
  /** resolves when the worker thread has exited (registered at spawn, so an early exit is never missed) */
  private readonly exited = new Map<WorkerName, Promise<void>>();
  private readonly counters = new Map<WorkerName, Record<string, number>>();
  private readonly gc: Record<WorkerName, GcCounts> = { feed: zeroGc(), strategy: zeroGc(), execution: zeroGc() };
  private rings: SpscRing[] = [];
  /** the SQLite journal's worker and feed (config journal.path) */
  private journal: JournalChannel | undefined;
  private control: Int32Array | undefined;
  private startedAt = 0;
  private statsTimer: NodeJS.Timeout | undefined;
  private finals = new Set<WorkerName>();
  private finalWaiters: Array<() => void> = [];
  private stopping: Promise<EngineReport> | undefined;
  instruments: Instrument[] = [];
  /** the strategy as main last set it (mirrors the worker's StrategyController) */
  private strategyState: StrategyState;

  constructor(
    private readonly cfg: EngineConfig,
    private readonly log: Logger,
    /** connect to these instead of starting the embedded simulator (tests, bench) */
    private readonly external?: EngineEndpoints,
  ) {
    this.merger = new StageMerger();
    this.strategyState = { name: cfg.strategy.name, params: cfg.strategy.params, active: true };
  }

  async start(): Promise<void> {
    // V8's memory reducer runs full mark-compacts (4-5 ms pauses measured here) whenever a thread looks
    // idle, to give memory back: never wanted in a trading session. Process-wide; set before any worker.
    setFlagsFromString('--no-memory-reducer');
    await initHistograms();
    const cfg = this.cfg;
    const gate = cfg.venue.name === 'gate-futures';
    let ep: EngineEndpoints;
    if (this.external) ep = this.external;
    else if (cfg.venue.embedded) {
      // Shadow: the simulator mirrors the real venue's market data (the feed reads its streams) and fills our orders.
      const shadow = cfg.mode === 'shadow';
      const mirror = shadow ? { mirror: { restUrl: cfg.venue.restUrl, wsUrl: cfg.venue.wsUrl, streams: cfg.feed.streams, routing: cfg.feed.routing } } : {};
      this.venue = new VenueProcess({ rate: cfg.venue.sim.rate, seed: cfg.venue.sim.seed, port: cfg.venue.sim.port, symbols: cfg.symbols, venue: gate ? 'gate' : 'binance', ...mirror });
      const v: VenueEndpoints = await this.venue.start();
      ep = { restUrl: v.rest, wsUrl: v.ws, wsApiUrl: v.wsApi, apiKey: v.apiKey, apiSecret: v.apiSecret, ...(v.userId !== undefined ? { userId: v.userId } : {}) };
      this.log.info({ venue: v.venue, rest: v.rest, ws: v.ws, ...(shadow ? { mirrors: cfg.venue.wsUrl } : {}) }, shadow ? 'venue simulator started (shadow: mirroring the venue, orders stay local)' : 'venue simulator started (paper trading)');
    } else {
      // A real venue (testnet): URLs from the config, credentials only from the environment or a key file.
      const creds = credentialsFromEnv();
      if (!creds) throw new ConfigError('(credentials)', `mode "${cfg.mode}" needs API credentials: set HFT_API_KEY and HFT_API_SECRET, or HFT_KEY_FILE (a JSON file {apiKey, apiSecret} outside the repository)`);
      ep = { restUrl: cfg.venue.restUrl, wsUrl: cfg.venue.wsUrl, ...(cfg.venue.wsApiUrl ? { wsApiUrl: cfg.venue.wsApiUrl } : {}), apiKey: creds.apiKey, apiSecret: creds.apiSecret };
      this.log.info({ mode: cfg.mode, rest: ep.restUrl, ws: ep.wsUrl }, 'connecting to the venue');
    }
    this.endpoints = ep;
    const gateSymbols = gate ? await fetchGateContracts(ep.restUrl, cfg.symbols) : undefined;
    const venueSymbols = gateSymbols ?? (await fetchVenueSymbols(ep.restUrl, cfg.symbols));
    this.instruments = venueSymbols.instruments;
    new SymbolRegistry(cfg.symbols); // validates the names

    const strategyBell = Doorbell.create();
    const ringA = SpscRing.create('A', cfg.rings.marketCapacity, MARKET_SLOT_BYTES, strategyBell);
    const ringB = SpscRing.create('B', cfg.rings.intentCapacity, INTENT_SLOT_BYTES);
    const ringC = SpscRing.create('C', cfg.rings.reportCapacity, REPORT_SLOT_BYTES, strategyBell);
    this.rings = [ringA, ringB, ringC];
    const controlSab = new SharedArrayBuffer(64);
    this.control = new Int32Array(controlSab);
    const common = { epoch: clockEpoch(), symbols: cfg.symbols, statsIntervalMs: 1000 };
    // Gate's client ids (`t-<prefix><id>`) take only [0-9A-Za-z_.] in the prefix
    const clientIdPrefix = `h${Date.now().toString(36)}${gate ? '_' : '-'}`;
    // A journal left by an earlier run (maybe a crash) first learns what the venue did meanwhile.
    if (cfg.journal.path !== '' && existsSync(cfg.journal.path) && !gate) {
      const rest = new BinanceRestClient({ baseUrl: ep.restUrl, apiKey: ep.apiKey, apiSecret: ep.apiSecret, recvWindow: cfg.execution.recvWindow });
      try {
        await rest.init();
        const r = await reconcileOnStart({
          dbPath: cfg.journal.path, rest, symbols: cfg.symbols, instruments: this.instruments, unknownOrders: cfg.journal.unknownOrders,
          log: (msg, fields) => this.log.warn(fields, msg),
        });
        this.log.info({ fillsAdded: r.fillsAdded, ordersClosed: r.ordersClosed, ordersAdopted: r.ordersAdopted, ordersCancelled: r.ordersCancelled, positionsCorrected: r.positionsCorrected }, 'journal reconciled with the venue');
      } finally {
        await rest.close();
      }
    }
    if (cfg.journal.path !== '') {
      mkdirSync(dirname(resolve(cfg.journal.path)), { recursive: true });
      this.journal = new JournalChannel({
        dbPath: cfg.journal.path,
        synchronous: cfg.journal.synchronous,
        epoch: clockEpoch(),
        session: {
          clientIdPrefix,
          venue: cfg.venue.name,
          symbols: cfg.symbols,
          stepSizes: this.instruments.map((i) => i.stepSize),
          tickSizes: this.instruments.map((i) => i.tickSize),
          epochWallMs: Date.now() - nowNs() / 1e6,
          // the config holds no credentials (they come from the environment)
          config: cfg,
        },
      });
      await this.journal.ready();
      this.log.info({ path: cfg.journal.path }, 'journal open');
    }

    const execInit: ExecutionInit = {
      ...common,
      ringB: ringB.descriptor(),
      ringC: ringC.descriptor(),
      instruments: this.instruments,
      filters: venueSymbols.filters,
      venue: gate ? 'gate' : 'binance',
      ...(gateSymbols ? { gate: { contracts: gateSymbols.contracts, wsUrl: ep.wsUrl, userId: ep.userId ?? 0 } } : {}),
      restUrl: ep.restUrl,
      transport: cfg.execution.transport,
      wsApiUrl: cfg.venue.wsApiUrl || ep.wsApiUrl || `${ep.wsUrl.replace(/\/+$/, '')}/ws-fapi/v1`,
      userStream: cfg.execution.userStream,
      userStreamWsUrl: ep.wsUrl,
      // the venue's 2026 split serves user data under /private; the legacy root (testnet) under /ws/<key>
      userStreamUrlStyle: cfg.feed.routing === 'legacy' ? 'legacy' : 'private',
      listenKeyKeepAliveMs: cfg.execution.listenKeyKeepAliveMs,
      warmIntervalMs: cfg.execution.warmIntervalMs,
      apiKey: ep.apiKey,
      apiSecret: ep.apiSecret,
      recvWindow: cfg.execution.recvWindow,
      requestTimeoutMs: cfg.execution.requestTimeoutMs,
      keepAliveMs: cfg.execution.keepAliveMs,
      deadManMs: cfg.execution.deadManMs,
      clientIdPrefix,
      timeOffsetMs: 0,
      ...(this.journal ? { journalFeed: this.journal.feeds[0]!.descriptor() } : {}),
    };
    const stratInit: StrategyInit = {
      ...common,
      ringA: ringA.descriptor(),
      ringB: ringB.descriptor(),
      ringC: ringC.descriptor(),
      control: controlSab,
      instruments: this.instruments,
      strategy: cfg.strategy,
      risk: validateRiskConfig(cfg.risk),
      disconnectHaltMs: cfg.killSwitch.disconnectHaltMs,
      wait: cfg.threads.strategyWait,
      spinBudgetUs: cfg.threads.spinBudgetUs,
      yieldAfterIntentUs: cfg.threads.yieldAfterIntentUs,
    };
    const feedInit: FeedInit = {
      ...common,
      ringA: ringA.descriptor(),
      feed: {
        wsBase: ep.wsUrl,
        restUrl: ep.restUrl,
        symbols: cfg.symbols,
        streams: cfg.feed.streams,
        routing: cfg.feed.routing,
        subscribe: cfg.feed.subscribe,
        controlPerSecond: cfg.feed.controlPerSecond,
        rotateAfterMs: cfg.feed.rotateAfterMs,
        idleTimeoutMs: cfg.feed.idleTimeoutMs,
        reconnect: cfg.feed.reconnect,
        book: cfg.book,
        venue: gate ? 'gate' : 'binance',
      },
    };
    // Downstream first: execution, then strategy, then the feed that drives them.
    await this.spawn('execution', execInit);
    const young = cfg.threads.strategyYoungGenMb;
    if (young > 0) {
      // V8 starts a heap's semi-space at 1 MB and grows it one scavenge at a time; start the strategy
      // worker's at full size so its steady state sees no scavenge. The flag is process-wide, so it is set
      // only while that heap is created: a large young generation elsewhere means long scavenge pauses.
      setFlagsFromString(`--min-semi-space-size=${Math.max(1, Math.floor(young / 3))}`);
    }
    try {
      await this.spawn('strategy', stratInit, young > 0 ? { maxYoungGenerationSizeMb: young } : undefined);
    } finally {
      if (young > 0) setFlagsFromString('--min-semi-space-size=0');
    }
    await this.spawn('feed', feedInit);
    this.startedAt = performance.now();
    this.statsTimer = setInterval(() => this.logInterval(), cfg.stats.intervalMs);
    this.log.info({ symbols: cfg.symbols, strategy: cfg.strategy.name, wait: cfg.threads.strategyWait }, 'engine running');
  }

  private spawn(name: WorkerName, data: unknown, resourceLimits?: { maxYoungGenerationSizeMb: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = new Worker(workerFile(name), { workerData: data, ...(resourceLimits ? { resourceLimits } : {}) });
      this.workers.set(name, w);
      this.exited.set(name, new Promise<void>((r) => w.once('exit', () => r())));
      let ready = false;
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          ready = true;
          resolve();
        } else this.onWorkerMessage(m);
      });
      w.on('error', (err) => {
        this.log.error({ worker: name, err: err.message }, 'worker failed');
        if (!ready) reject(err);
        this.markFinal(name);
      });
      w.on('exit', (code) => {
        if (code !== 0 && !this.stopping) this.log.error({ worker: name, code }, 'worker exited unexpectedly');
        this.markFinal(name);
        if (!ready) reject(new Error(`${name} worker exited with code ${code} before it was ready`));
      });
    });
  }

  /**
   * Runtime strategy control (activate / deactivate / switch / params): validated here against the registry,
   * then sent to the strategy worker, which applies it at its next slice boundary. Returns the resulting
   * strategy state, or the validation error (naming the parameter and what is allowed); nothing is sent then.
   */
  controlStrategy(c: StrategyControl): StrategyControlResult {
    const w = this.workers.get('strategy');
    if (w === undefined || this.stopping) return { ok: false, error: 'the strategy worker is not running' };
    const r = resolveControl(this.strategyState, c, this.cfg.symbols);
    if (!r.ok) return r;
    this.strategyState = { name: r.name, params: r.params, active: r.active };
    w.postMessage({ type: 'strategyControl', control: c } satisfies MainMessage);
    return r;
  }

  /** The strategy as main last set it. */
  get strategy(): StrategyState {
    return { ...this.strategyState };
  }

  /**
   * The control plane's trading state, applied by the strategy worker at its next slice boundary (halt
   * cancels every open order there). FLATTEN resolves when the worker reports the positions flat and
   * nothing in flight (the venue's own position too, where it has reported one), or after `timeoutMs`.
   */
  async trading(action: TradingAction, timeoutMs = 30_000): Promise<{ ok: boolean; state: string; error?: string }> {
    const w = this.workers.get('strategy');
    const name = (): string => TRADING_STATE_NAMES[this.counters.get('strategy')?.['tradingState'] ?? 0] ?? 'UNKNOWN';
    if (w === undefined || this.stopping) return { ok: false, state: name(), error: 'the strategy worker is not running' };
    w.postMessage({ type: 'trading', action } satisfies MainMessage);
    const want = action === 'resume' ? 0 : action === 'reduce-only' ? 1 : 2;
    const end = Date.now() + timeoutMs;
    for (;;) {
      await this.flushStats();
      const s = this.counters.get('strategy') ?? {};
      const done = s['tradingState'] === want && (action !== 'flatten' || s['flattenState'] === 2);
      if (done) return { ok: true, state: action === 'flatten' ? 'FLAT' : name() };
      if (Date.now() > end) return { ok: false, state: name(), error: action === 'flatten' ? 'not flat yet: positions or orders still open at the venue' : 'the strategy worker did not confirm the change' };
    }
  }

  private onWorkerMessage(m: WorkerMessage): void {
    if (m.type === 'stats') {
      this.merger.add(m.hist);
      this.counters.set(m.worker, m.counters);
      const g = this.gc[m.worker];
      g.minor += m.gc.minor;
      g.major += m.gc.major;
      g.pauseMs += m.gc.pauseMs;
      if (m.final) this.markFinal(m.worker);
    } else if (m.type === 'log') {
      this.log[m.level]({ worker: m.worker }, m.msg);
    } else if (m.type === 'fatal') {
      this.log.error({ worker: m.worker, err: m.error }, 'worker fatal error');
    }
  }

  private markFinal(name: WorkerName): void {
    this.finals.add(name);
    const waiters = this.finalWaiters;
    this.finalWaiters = [];
    for (const f of waiters) f();
  }

  private async waitFinal(name: WorkerName, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.finals.has(name)) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.finalWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  /** Asks every worker for its stats now and waits for them to arrive. */
  async flushStats(): Promise<void> {
    for (const w of this.workers.values()) w.postMessage({ type: 'flushStats' } satisfies MainMessage);
    // The strategy worker answers at its next slice boundary (<= 100 ms).
    await new Promise((r) => setTimeout(r, 250));
  }

  /**
   * Diagnostics / tests: ring A, B or C of the running (or stopped) engine. A ring's slots keep their last
   * records after being consumed, so ring B read from slot 0 is the intent log of a run that wrote fewer
   * intents than its capacity (test/strategy-parity.test.ts). Read-only use: the workers own the cursors.
   */
  ringForInspection(name: 'A' | 'B' | 'C'): SpscRing | undefined {
    return this.rings['ABC'.indexOf(name)];
  }

  /** Forget what was measured so far (end of a warm-up): histograms, GC counts. */
  async resetMeasurements(): Promise<void> {
    await this.flushStats();
    this.merger.resetTotals();
    for (const k of WORKERS) this.gc[k] = zeroGc();
    this.startedAt = performance.now();
  }

  report(): EngineReport {
    const f = this.counters.get('feed') ?? {};
    const s = this.counters.get('strategy') ?? {};
    const e = this.counters.get('execution') ?? {};
    const rings = this.rings.map((r) => r.snapshot());
    const v = (o: Record<string, number>, k: string): number => o[k] ?? 0;
    return {
      durationS: (performance.now() - this.startedAt) / 1000,
      stages: this.merger.totals(),
      counters: {
        frames: v(f, 'frames'),
        records: v(f, 'records'),
        decodeErrors: v(f, 'decodeErrors'),
        ignoredFrames: v(f, 'ignored'),
        unknownSymbol: v(f, 'unknownSymbol'),
        reconnects: v(f, 'reconnects'),
        ringDrops: { A: v(f, 'ringDrops'), B: v(s, 'ringFullRejects'), C: v(e, 'reportOverflow') },
        intents: v(s, 'intents'),
        riskRejects: v(s, 'riskRejects'),
        ordersSent: v(e, 'sent'),
        acks: v(e, 'acks') + v(e, 'fills') + v(e, 'expired'),
        rejects: v(e, 'rejects'),
        fills: v(e, 'fills'),
        expired: v(e, 'expired'),
        unknown: v(e, 'unknown'),
        transportErrors: v(e, 'transportErrors'),
        transportFallbacks: v(e, 'transportFallbacks'),
        unknownResolved: v(e, 'unknownResolved'),
        userStreamEvents: v(e, 'userStreamEvents'),
        reconcileCorrections: v(s, 'positionCorrections'),
      },
      position: v(s, 'position'),
      rings,
      gc: { feed: { ...this.gc.feed }, strategy: { ...this.gc.strategy }, execution: { ...this.gc.execution } },
      workers: { feed: { ...f }, strategy: { ...s }, execution: { ...e } },
    };
  }

  private logInterval(): void {
    const stages = this.merger.takeInterval();
    const r = this.report();
    this.log.info({ counters: r.counters, position: r.position, ringDepth: Object.fromEntries(r.rings.map((x) => [x.name, x.depth])) }, `latency (last ${this.cfg.stats.intervalMs / 1000}s)\n${formatStageTable(stages)}`);
  }

  /** Stops the workers in pipeline order, the venue last, and returns the final report. Idempotent. */
  stop(): Promise<EngineReport> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<EngineReport> {
    if (this.statsTimer) clearInterval(this.statsTimer);
    const stopOne = async (name: WorkerName): Promise<void> => {
      const w = this.workers.get(name);
      if (!w) return;
      if (name === 'strategy' && this.control) {
        Atomics.store(this.control, 0, 1);
        this.rings[0]?.doorbell.wake();
      }
      w.postMessage({ type: 'stop' } satisfies MainMessage);
      const ok = await this.waitFinal(name, this.cfg.execution.requestTimeoutMs + 3000);
      if (!ok) this.log.warn({ worker: name }, 'worker did not report its final stats in time');
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        this.exited.get(name)!.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 3000))),
      ]);
      clearTimeout(timer);
      if (!exited) {
        this.log.warn({ worker: name }, 'worker did not exit; terminating it');
        await w.terminate();
      }
    };
    // Feed first (no new ticks), then strategy (no new intents), then execution (answers what is in flight).
    for (const name of ['feed', 'strategy', 'execution'] as const) await stopOne(name);
    // The strategy may not have read the last reports; drain ring C's counters into the report as they are.
    const report = this.report();
    // after the execution worker: everything it copied to the journal is drained and committed first
    if (this.journal) {
      const code = await this.journal.stop();
      if (code !== 0) this.log.error({ code }, 'journal worker exited with an error');
    }
    if (this.venue) await this.venue.stop();
    return report;
  }

  get venueEndpoints(): EngineEndpoints | undefined {
    return this.endpoints;
  }
}

function zeroGc(): GcCounts {
  return { minor: 0, major: 0, pauseMs: 0 };
}

export interface VenueSymbols {
  instruments: Instrument[];
  filters: SymbolFilters[];
}

/**
 * Gate contracts as instruments (price round, one contract per step, minimum size) and their full rules:
 * no exchangeInfo filters on Gate (the transport checks sizes against the contract limits).
 */
export async function fetchGateContracts(restUrl: string, symbols: readonly string[]): Promise<VenueSymbols & { contracts: GateContractRules[] }> {
  const client = new GateRestClient({ baseUrl: restUrl });
  try {
    const r = await client.contracts();
    if (!r.ok) throw new Error(`gate contracts: ${JSON.stringify(r)}`);
    const byName = new Map(r.value.map((c) => [c.name, c]));
    const contracts = symbols.map((name) => {
      const c = byName.get(name);
      if (!c) throw new Error(`contract ${name} is not listed by the venue`);
      return c;
    });
    return { instruments: contracts.map(gateInstrument), filters: [], contracts };
  } finally {
    await client.close();
  }
}

/** Instruments (tick/step grid) and the full exchangeInfo filters for the configured symbols. */
export async function fetchVenueSymbols(restUrl: string, symbols: readonly string[]): Promise<VenueSymbols> {
  const res = await request(`${restUrl.replace(/\/$/, '')}/fapi/v1/exchangeInfo`);
  if (res.statusCode !== 200) throw new Error(`exchangeInfo: HTTP ${res.statusCode}`);
  const byName = parseExchangeInfoFilters((await res.body.json()) as ExchangeInfo);
  const filters = symbols.map((name) => {
    const f = byName.get(name);
    if (!f) throw new Error(`symbol ${name} is not listed by the venue's exchangeInfo`);
    if (!f.trading) throw new Error(`symbol ${name} is not trading (status ${f.status})`);
    return f;
  });
  return { instruments: filters.map(instrumentOf), filters };
}

/** Instrument rules (tick, step, min qty, min notional) for the configured symbols from exchangeInfo. */
export async function fetchInstruments(restUrl: string, symbols: readonly string[]): Promise<Instrument[]> {
  return (await fetchVenueSymbols(restUrl, symbols)).instruments;
}
