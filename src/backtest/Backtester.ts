import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeInstrument, type Instrument } from '../core/Instrument.js';
import { SymbolRegistry } from '../core/SymbolRegistry.js';
import { FeedHandler } from '../feed/FeedHandler.js';
import { BookMirror } from '../book/BookSync.js';
import { BookState, INTENT_SLOT_BYTES, MARKET_SLOT_BYTES, RecordFlag, RecordType } from '../ring/layout.js';
import { ArraySlotWriter } from '../ring/SlotWriter.js';
import { SpscRing } from '../ring/SpscRing.js';
import type { RiskConfig } from '../risk/RiskConfig.js';
import { RiskEngine } from '../risk/RiskEngine.js';
import type { LatencyOptions } from '../sim/latency/Latency.js';
import { ReplaySource } from '../sim/market/ReplaySource.js';
import { createQueueModel, type QueueModelSpec } from '../sim/matching/QueueModel.js';
import { Rng } from '../sim/rng.js';
import { createStrategy, strategyDefaults, validateStrategyParams, type ParamValue, type StrategyParams } from '../strategy/registry.js';
import { StrategyRunner, type RunnerCounters } from '../strategy/StrategyRunner.js';
import { RecordingReader, RecordingSource, parseDepthSnapshot, restSymbol } from '../venues/binance/recording.js';
import { BacktestDelays } from './latency.js';
import { Column, Ledger } from './Ledger.js';
import { ReportQueue } from './ReportQueue.js';
import { SimExchange, type ExchangeCounters, type FeeRates } from './SimExchange.js';

/** An instrument's rules as the venue prints them (what the recording implies when not given). */
export interface InstrumentRules {
  symbol: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  minNotional: string;
}

export interface BacktestConfig {
  /** recordings (shared recordings format / `hft record` output), replayed in this order */
  files: readonly string[];
  strategy: string;
  /** strategy parameters over its defaults (validated against its schema) */
  params: Readonly<Record<string, ParamValue>>;
  seed: number;
  latency: LatencyOptions;
  /** every delay draw times this (latency sensitivity). Default 1. */
  latencyScale?: number;
  queue: QueueModelSpec;
  fees: FeeRates;
  /** pre-trade risk of the runner (src/risk), as validated by validateRiskConfig */
  risk: RiskConfig;
  /** account capital (quote) the returns are relative to */
  capital: number;
  /** equity sampling interval, event time (ms) */
  sampleMs: number;
  /** replay the files this many times back to back (benchmarks), event time shifted per lap. Default 1. */
  /**
   * Replay later laps of a file from the records its first lap decoded (default true): the same records at
   * the same times, without decoding again. false decodes every lap.
   */
  tape?: boolean;
  loops?: number;
  /** instrument rules per symbol (default: derived from each recording as the simulator's replay does) */
  instruments?: readonly InstrumentRules[];
  /** called with each intent (ring B) and each report as the runner gets it (ring C): the journal */
  onIntent?: (i32: Int32Array, base: number) => void;
  onReport?: (i32: Int32Array, base: number) => void;
}

/** The equity curve and what goes with it, sampled on event time. */
export interface Series {
  timeMs: Column;
  equity: Column;
  /** position and mid of the strategy's symbol */
  position: Column;
  mid: Column;
}

export interface BacktestRun {
  config: BacktestConfig;
  params: StrategyParams;
  symbols: string[];
  instruments: Instrument[];
  /** index of the strategy's symbol */
  symbolId: number;
  ledger: Ledger;
  series: Series;
  exchange: ExchangeCounters;
  runner: RunnerCounters;
  latency: Record<string, string>;
  startMs: number;
  endMs: number;
  /** market-data lines replayed (ws frames and REST snapshots) */
  marketLines: number;
  /** ring-A records the strategy got */
  marketRecords: number;
  malformedLines: number;
  decodeErrors: number;
  ringDrops: number;
  openOrdersAtEnd: number;
}

/** Recording files of a path: the file itself, or the .jsonl files of a folder (sorted by name). */
export function recordingFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => join(path, f));
}

const rulesCache = new Map<string, InstrumentRules[]>();

/**
 * Instrument rules a recording implies (tick = gcd of the prices printed, step = one unit of the quantities
 * printed), the way the simulator derives them for a replay; cached per file for sweeps.
 */
export function recordingInstruments(file: string): InstrumentRules[] {
  let r = rulesCache.get(file);
  if (r === undefined) {
    r = ReplaySource.load(file).instruments.map((i) => ({ symbol: i.symbol, tickSize: i.spec.tickSize, stepSize: i.spec.stepSize, minQty: i.spec.minQty, minNotional: i.spec.minNotional }));
    rulesCache.set(file, r);
  }
  return r;
}

/** Every symbol of the files with its rules (the first file naming a symbol gives them), unless given. */
export function resolveInstrumentRules(files: readonly string[], given?: readonly InstrumentRules[]): InstrumentRules[] {
  const out = new Map<string, InstrumentRules>();
  for (const r of given ?? []) out.set(r.symbol, r);
  if (given === undefined || given.length === 0) for (const f of files) for (const r of recordingInstruments(f)) if (!out.has(r.symbol)) out.set(r.symbol, r);
  return [...out.values()];
}

/** The strategy's parameters: `params` over its defaults; `symbol` defaults to the recording's first symbol. */
export function resolveParams(strategy: string, params: Readonly<Record<string, ParamValue>>, symbols: readonly string[]): StrategyParams {
  const raw: Record<string, ParamValue> = { ...params };
  if (raw['symbol'] === undefined && !symbols.includes(strategyDefaults(strategy).symbol) && symbols.length > 0) raw['symbol'] = symbols[0]!;
  return validateStrategyParams(strategy, raw, 'params');
}

const RING_A_CAPACITY = 1 << 16;
const SNAPSHOT_PATH = '/depth';

/**
 * One backtest: the recordings go, line by line, through the engine's own feed core (FeedHandler: Binance
 * decoder, BookSync, L2Book, ring-A records), a StrategyRunner with the strategy and PreTradeLimits, and the
 * SimExchange; everything runs on the recording's clock (its receive times, ms), so the run is a pure
 * function of the files, the parameters and the seed.
 *
 * Event order at one instant: the exchange acts on requests first, then reports reach the strategy, then
 * market data does; a recording line is applied to the exchange's view (the feed's books) when it was
 * received, and reaches the strategy `feed` latency later (never overtaking an earlier frame).
 */
/**
 * Decoded ring-A records of one recording, grouped by the market line (ws frame or snapshot) they came from,
 * with the clock each line ran at (before the lap offset): a later lap replays the same lines at the same
 * times, so it gives exactly what decoding again would.
 */
class RecordTape {
  f64: Float64Array;
  records = 0;
  /** per market line: its clock (ms, before the lap offset) and how many records it produced */
  lineMs: Float64Array;
  lineRecords: Int32Array;
  lines = 0;
  firstMs = NaN;
  /** the clock after the file's last line */
  endMs = NaN;
  /** the clock at the file's first timed line (where a run starting with this file starts) */
  startMs = NaN;

  constructor(readonly slotWords: number) {
    this.f64 = new Float64Array(slotWords * 4096);
    this.lineMs = new Float64Array(4096);
    this.lineRecords = new Int32Array(4096);
  }

  addRecord(src: Float64Array, base: number): void {
    const w = this.slotWords;
    if ((this.records + 1) * w > this.f64.length) {
      const f = new Float64Array(this.f64.length * 2);
      f.set(this.f64);
      this.f64 = f;
    }
    this.f64.set(src.subarray(base, base + w), this.records * w);
    this.records++;
  }

  endLine(clockMs: number, records: number): void {
    if (this.lines === this.lineMs.length) {
      const t = new Float64Array(this.lines * 2);
      t.set(this.lineMs);
      this.lineMs = t;
      const r = new Int32Array(this.lines * 2);
      r.set(this.lineRecords);
      this.lineRecords = r;
    }
    this.lineMs[this.lines] = clockMs;
    this.lineRecords[this.lines] = records;
    this.lines++;
  }
}

/** Tapes kept per process (file and symbols), oldest dropped first. */
const TAPES = new Map<string, RecordTape>();
const MAX_TAPES = 8;

export class Backtester {
  readonly symbols: string[];
  readonly instruments: Instrument[];
  readonly params: StrategyParams;
  readonly symbolId: number;
  readonly ledger: Ledger;
  readonly exchange: SimExchange;
  readonly runner: StrategyRunner;
  readonly delays: BacktestDelays;
  readonly series: Series = { timeMs: new Column(), equity: new Column(), position: new Column(), mid: new Column() };
  private readonly registry: SymbolRegistry;
  private readonly ringA = SpscRing.create('A', RING_A_CAPACITY, MARKET_SLOT_BYTES);
  private readonly ringB = new ArraySlotWriter(INTENT_SLOT_BYTES, 256);
  private readonly reports = new ReportQueue();
  private feed: FeedHandler | null = null;
  /**
   * The exchange's view of the books, kept from the ring-A records (as the strategy's mirror is), so the
   * exchange does not depend on the feed handler: a lap replayed from a tape has none.
   */
  private readonly exchangeBooks: BookMirror;
  /**
   * Decoded ring-A records per file, kept from the first lap: later laps (and later backtests of the same
   * file and symbols in this process: a sweep's worker runs many) replay them without decoding.
   */
  private readonly tapes = TAPES;
  private recording: RecordTape | null = null;

  /** ring-A records: seen by the exchange (absolute count), delivered to the strategy, and each one's due time */
  private seenSeq = 0;
  private deliveredSeq = 0;
  private readonly dueMs = new Float64Array(RING_A_CAPACITY);
  private lastFeedDue = -Infinity;
  private nowMs = 0;
  private nextSampleMs = NaN;
  private startMs = NaN;
  private lastLineMs = NaN;
  private marketLines = 0;
  private malformedLines = 0;
  private decodeErrors = 0;
  private ringDrops = 0;

  constructor(readonly config: BacktestConfig) {
    if (config.files.length === 0) throw new Error('backtest: no recording files');
    const rules = resolveInstrumentRules(config.files, config.instruments);
    if (rules.length === 0) throw new Error('backtest: the recordings name no symbol');
    this.symbols = rules.map((r) => r.symbol);
    this.instruments = rules.map((r) => makeInstrument(r.symbol, r.tickSize, r.stepSize, r.minQty, r.minNotional));
    this.registry = new SymbolRegistry(this.symbols);
    this.params = resolveParams(config.strategy, config.params, this.symbols);
    this.symbolId = this.symbols.indexOf(this.params.symbol);
    if (this.symbolId < 0) throw new Error(`backtest: symbol ${this.params.symbol} is not in the recordings (${this.symbols.join(', ')})`);
    this.ledger = new Ledger(this.instruments);
    this.delays = new BacktestDelays(config.latency, config.seed, config.latencyScale ?? 1);
    const rng = new Rng(config.seed ^ 0x5eed0b7);
    this.exchangeBooks = new BookMirror(this.symbols.length);
    const books = this.exchangeBooks;
    const feedView = {
      depthLive: (sym: number): boolean => books.state(sym) === BookState.Live,
      book: (sym: number) => books.books[sym]!,
    };
    this.exchange = new SimExchange(this.instruments, feedView, this.ledger, this.reports, this.delays, config.fees, createQueueModel(config.queue), rng);
    const strategy = createStrategy(config.strategy, this.params, this.symbols);
    this.runner = new StrategyRunner(strategy, this.instruments, this.ringB, new RiskEngine(config.risk), { now: () => this.nowMs * 1e6 });
  }

  run(): BacktestRun {
    const loops = this.config.loops ?? 1;
    let lapOffset = 0;
    for (let lap = 0; lap < loops; lap++) {
      let lapStart = NaN;
      for (const file of this.config.files) {
        const r = this.replayFile(file, lapOffset);
        if (lapStart !== lapStart) lapStart = r.first;
      }
      // the next lap starts a second after this one ended, on the same clock
      if (lapStart === lapStart) lapOffset += this.lastLineMs - (lapStart + lapOffset) + 1000;
    }
    this.drain(Infinity);
    const end = Math.max(this.lastLineMs, this.nowMs);
    this.sampleUntil(end);
    this.sample(end);
    const c = this.feed?.counters();
    return {
      config: this.config,
      params: this.params,
      symbols: this.symbols,
      instruments: this.instruments,
      symbolId: this.symbolId,
      ledger: this.ledger,
      series: this.series,
      exchange: this.exchange.counters,
      runner: this.runner.counters,
      latency: this.delays.describe(),
      startMs: this.startMs,
      endMs: end,
      marketLines: this.marketLines,
      marketRecords: this.runner.counters.marketRecords,
      malformedLines: this.malformedLines,
      decodeErrors: this.decodeErrors + (c?.decodeErrors ?? 0),
      ringDrops: this.ringDrops + (c?.ringDrops ?? 0),
      openOrdersAtEnd: this.exchange.openOrders(),
    };
  }

  /** Replays one file (from its tape after the first lap); returns the time (ms, before the lap offset) of its first line. */
  private replayFile(file: string, offsetMs: number): { first: number } {
    const key = `${file}|${this.symbols.join(',')}`;
    const tape = this.tapes.get(key);
    if (tape !== undefined && this.config.tape !== false) return this.replayTape(tape, offsetMs);
    if (this.config.tape !== false) this.recording = new RecordTape(MARKET_SLOT_BYTES / 8);
    try {
      return this.decodeFile(file, offsetMs);
    } finally {
      if (this.recording !== null) {
        this.recording.endMs = this.lastLineMs - offsetMs;
        if (this.tapes.size >= MAX_TAPES) this.tapes.delete(this.tapes.keys().next().value as string);
        this.tapes.set(key, this.recording);
        this.recording = null;
      }
    }
  }

  /**
   * A lap from the tape: the same records at the same times, put into ring A as the feed would have put them
   * (market lines are counted as lines of the recording: one per decoded line).
   */
  private replayTape(tape: RecordTape, offsetMs: number): { first: number } {
    const ring = this.ringA;
    const words = tape.slotWords;
    const f64 = tape.f64;
    let r = 0;
    for (let l = 0; l < tape.lines; l++) {
      const now = tape.lineMs[l]! + offsetMs;
      this.lastLineMs = now;
      // the run starts where a decoding run would: at the file's first timed line, not its first market line
      if (this.startMs !== this.startMs) this.start(tape.startMs === tape.startMs ? tape.startMs + offsetMs : now);
      this.drain(now);
      this.sampleUntil(now);
      this.marketLines++;
      const n = tape.lineRecords[l]!;
      for (let k = 0; k < n; k++, r++) {
        const base = ring.claim();
        if (base < 0) {
          this.ringDrops++;
          continue;
        }
        ring.f64.set(f64.subarray(r * words, (r + 1) * words), base);
        ring.commit();
      }
      this.exchangeSees(now);
      this.drain(now);
    }
    if (!(tape.endMs + offsetMs <= this.lastLineMs)) this.lastLineMs = tape.endMs + offsetMs;
    return { first: tape.firstMs };
  }

  /** Replays one file through the decoder; returns the time (ms, before the lap offset) of its first line. */
  private decodeFile(file: string, offsetMs: number): { first: number } {
    this.retireFeed();
    const feed = new FeedHandler(this.registry, this.ringA, {
      wsBase: 'ws://replay.invalid',
      restUrl: 'http://replay.invalid',
      symbols: this.symbols,
      streams: ['bookTicker', 'aggTrade', 'depth@100ms'],
      routing: 'legacy',
      subscribe: 'url',
      controlPerSecond: 5,
      rotateAfterMs: 0,
      reconnect: { initialMs: 1000, maxMs: 1000, jitter: 0 },
      book: { snapshotLimit: 1000, maxResyncsPerMinute: 6, resyncBackoffMs: 250, staleAfterMs: 0 },
    });
    // Never started: no sockets, no timers; stopped, so a wanted snapshot is not fetched: the recording's
    // REST lines deliver them.
    feed.stop();
    this.feed = feed;
    const reader = RecordingReader.open(file);
    let first = NaN;
    let bufSrc: Uint8Array | null = null;
    let buf: Buffer = Buffer.alloc(0);
    try {
      for (let line = reader.next(); line !== null; line = reader.next()) {
        if (line.ts === line.ts) {
          if (first !== first) {
            first = line.ts * 1000;
            if (this.recording) this.recording.firstMs = first;
          }
          const t = line.ts * 1000 + offsetMs;
          // receive times of a recording may step back a little (several connections): the clock does not
          if (!(t <= this.lastLineMs)) this.lastLineMs = t;
        }
        if (this.lastLineMs !== this.lastLineMs || line.msgEnd <= line.msgStart || line.msgIsString) continue;
        const now = this.lastLineMs;
        if (this.startMs !== this.startMs) this.start(now);
        if (this.recording !== null && this.recording.startMs !== this.recording.startMs) this.recording.startMs = now - offsetMs;
        if (line.src === RecordingSource.Ws) {
          this.drain(now);
          this.sampleUntil(now);
          if (line.buf !== bufSrc) {
            bufSrc = line.buf;
            buf = Buffer.from(bufSrc.buffer, bufSrc.byteOffset, bufSrc.byteLength);
          }
          this.marketLines++;
          feed.frame(buf, line.msgStart, line.msgEnd, now * 1e6, false);
          const before = this.recording?.records ?? 0;
          this.exchangeSees(now);
          this.recording?.endLine(now - offsetMs, this.recording.records - before);
          this.drain(now);
        } else if (line.src === RecordingSource.Rest && line.url.includes(SNAPSHOT_PATH)) {
          const sym = this.registry.id(restSymbol(line.url));
          if (sym < 0 || feed.sync === null) continue;
          this.drain(now);
          this.sampleUntil(now);
          this.marketLines++;
          const snap = parseDepthSnapshot(line.buf.subarray(line.msgStart, line.msgEnd));
          feed.sync.onSnapshot(sym, snap.lastUpdateId, snap.bids, snap.asks, now * 1e6);
          const before = this.recording?.records ?? 0;
          this.exchangeSees(now);
          this.recording?.endLine(now - offsetMs, this.recording.records - before);
          this.drain(now);
        }
      }
    } finally {
      this.malformedLines += reader.malformedLines;
      reader.close();
    }
    return { first };
  }

  /** Keeps the counters of the feed of the previous file. */
  private retireFeed(): void {
    if (this.feed === null) return;
    const c = this.feed.counters();
    this.decodeErrors += c.decodeErrors;
    this.ringDrops += c.ringDrops;
  }

  private start(now: number): void {
    this.startMs = now;
    this.nextSampleMs = now;
    this.ledger.start(now);
  }

  /** The records the last line put into ring A, as the exchange sees them now; due at the strategy after the feed delay. */
  private exchangeSees(now: number): void {
    const ring = this.ringA;
    const avail = ring.poll();
    const seen = this.seenSeq - this.deliveredSeq;
    if (avail <= seen) return;
    let due = now + this.delays.feed();
    if (due < this.lastFeedDue) due = this.lastFeedDue;
    this.lastFeedDue = due;
    const mask = RING_A_CAPACITY - 1;
    const tape = this.recording;
    const books = this.exchangeBooks;
    for (let i = seen; i < avail; i++) {
      const base = ring.readBase(i);
      const h = ring.i32[base * 2]!;
      const type = h & 0xff;
      if (type === RecordType.FeedStatus || (type === RecordType.Depth && ((h >>> 8) & RecordFlag.Snapshot) === 0)) books.onRecord(ring.f64, ring.i32, base);
      if (tape !== null) tape.addRecord(ring.f64, base);
      this.exchange.onMarketRecord(ring.f64, ring.i32, base, now);
      this.dueMs[this.seenSeq & mask] = due;
      this.seenSeq++;
    }
  }

  /** Everything due at or before `until`, in time order: requests at the exchange, reports, market data. */
  private drain(until: number): void {
    const ex = this.exchange;
    const reports = this.reports;
    const ring = this.ringA;
    const mask = RING_A_CAPACITY - 1;
    for (;;) {
      const ta = ex.nextArrival();
      const tr = reports.nextDue();
      const tm = this.deliveredSeq < this.seenSeq ? this.dueMs[this.deliveredSeq & mask]! : Infinity;
      let t = ta < tr ? ta : tr;
      if (tm < t) t = tm;
      if (t > until || t === Infinity) return;
      if (t > this.nowMs) this.nowMs = t;
      if (ta === t) {
        ex.processNext();
      } else if (tr === t) {
        const b = reports.headBase();
        this.config.onReport?.(reports.i32, b);
        this.runner.onReportRecord(reports.f64, reports.i32, reports.u8, b);
        reports.pop();
        this.takeIntents();
      } else {
        // the records due now, as one batch; an intent ends it, so that a zero-latency order and its
        // report come before the next record
        let n = 0;
        const pending = this.seenSeq - this.deliveredSeq;
        this.runner.beginBatch(this.nowMs * 1e6);
        while (n < pending && this.dueMs[(this.deliveredSeq + n) & mask]! <= t) {
          this.runner.onMarketRecord(ring.f64, ring.i32, ring.readBase(n));
          n++;
          if (this.ringB.count > 0) {
            this.takeIntents();
            break;
          }
        }
        ring.release(n);
        this.deliveredSeq += n;
      }
    }
  }

  /** Intents the strategy just wrote go to the exchange (after the order latency). */
  private takeIntents(): void {
    const w = this.ringB;
    if (w.count === 0) return;
    for (let i = 0; i < w.count; i++) {
      const b = w.base(i);
      this.config.onIntent?.(w.i32, b);
      this.exchange.submit(w.f64, w.i32, b, this.nowMs);
    }
    w.reset();
  }

  private sampleUntil(now: number): void {
    const step = this.config.sampleMs;
    while (this.nextSampleMs <= now) {
      this.sample(this.nextSampleMs);
      this.nextSampleMs += step;
    }
  }

  private sample(t: number): void {
    const l = this.ledger;
    const ex = this.exchange;
    let equity = 0;
    for (let s = 0; s < this.instruments.length; s++) {
      equity += l.realized[s]! - l.fees[s]!;
      if (l.posSteps[s] !== 0) equity += l.unrealized(s, ex.mid(s));
    }
    const se = this.series;
    se.timeMs.push(t);
    se.equity.push(equity);
    se.position.push(l.position(this.symbolId));
    se.mid.push(ex.mid(this.symbolId));
  }
}
