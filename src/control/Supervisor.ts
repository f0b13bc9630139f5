import type { Logger } from 'pino';
import type { EngineConfig } from '../config/Config.js';
import { Engine, type EngineReport } from '../engine/Engine.js';
import { JournalReader, openJournalDb, queryJournal } from '../journal/JournalReader.js';
import { TRADING_STATE_NAMES } from '../risk/RiskEngine.js';
import { listStrategies } from '../strategy/registry.js';
import type { StrategyControl, StrategyControlResult } from '../strategy/control.js';
import type { StageName } from '../metrics/StageHistograms.js';
import { ControlRequestError, type ControlTarget, type LogLine, type PnlPoint, type PnlRange, type TradingAction } from './ControlTarget.js';
import { EngineMetrics } from './metrics.js';
import { AlarmNotifier, AlarmWatcher, watchCounters } from '../ops/Alarms.js';
import { formatPinOutcomes, pinEngineThreads } from '../ops/launch.js';
import type { LogTail } from './LogTail.js';

const PNL_POINTS = 20_000;
const DAY_MS = 86_400_000;

/**
 * The main thread's owner of the engine for the control plane: starts and stops it, answers the control
 * API (ControlTarget) from the engine's merged stats, the strategy worker's portfolio counters and the
 * journal, keeps the session's PnL series (one point per stats interval), and exports the metrics.
 */
export class Supervisor implements ControlTarget {
  readonly metricsExporter: EngineMetrics;
  private eng: Engine | undefined;
  private starting: Promise<void> | undefined;
  private startedAt = 0;
  private lastReport: EngineReport | undefined;
  private readonly pnlSeries: PnlPoint[] = [];
  private sessionStartMs = 0;
  private pnlTimer: NodeJS.Timeout | undefined;
  private journal: JournalReader | undefined;
  /** webhook alarms, fed the engine's counters once a second (config alarms) */
  readonly alarms: AlarmNotifier;
  private readonly watcher: AlarmWatcher;
  private stopAlarms: (() => void) | undefined;

  constructor(
    private readonly cfg: EngineConfig,
    private readonly log: Logger,
    private readonly tail: LogTail,
  ) {
    this.alarms = new AlarmNotifier({ ...cfg.alarms, onError: (m) => log.warn(m) });
    this.watcher = new AlarmWatcher(this.alarms, {
      bookStuckMs: cfg.alarms.bookStuckMs,
      onAlarm: (a) => log.error({ alarm: a.kind, details: a.details }, a.message),
      onError: (m) => log.warn(m),
    });
    const self = this;
    this.metricsExporter = new EngineMetrics({
      counters: () => self.workerCounters(),
      stageHistogram: (s: StageName) => self.eng?.merger.histogram(s),
      gc: () => self.report()?.gc ?? {},
      rings: () => (self.report()?.rings ?? []).map((r) => ({ name: r.name, depth: r.depth, capacity: r.capacity })),
      tradingState: () => self.tradingStateValue(),
    });
  }

  get running(): boolean {
    return this.eng !== undefined;
  }

  get currentEngine(): Engine | undefined {
    return this.eng;
  }

  /** Starts the engine (idempotent while it runs). */
  async start(): Promise<void> {
    if (this.eng) return;
    if (this.starting) return this.starting;
    this.starting = (async () => {
      const e = new Engine(this.cfg, this.log);
      try {
        await e.start();
      } catch (err) {
        await e.stop().catch(() => undefined);
        throw err;
      }
      this.eng = e;
      this.stopAlarms = watchCounters(this.watcher, () => this.eng?.report());
      if (Object.keys(this.cfg.threads.cpus).length > 0) this.log.info(formatPinOutcomes(pinEngineThreads(this.cfg.threads.cpus)));
      this.startedAt = Date.now();
      this.sessionStartMs = this.startedAt;
      this.pnlTimer = setInterval(() => this.samplePnl(), Math.min(1000, this.cfg.stats.intervalMs));
    })();
    try {
      await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  /** Stops the engine and returns its final report (undefined when it was not running). */
  async stop(): Promise<EngineReport | undefined> {
    const e = this.eng;
    if (!e) return undefined;
    if (this.pnlTimer) clearInterval(this.pnlTimer);
    this.stopAlarms?.();
    this.stopAlarms = undefined;
    this.eng = undefined;
    const r = await e.stop();
    await this.alarms.flush();
    this.lastReport = r;
    this.journal?.close();
    this.journal = undefined;
    return r;
  }

  private report(): EngineReport | undefined {
    return this.eng ? this.eng.report() : this.lastReport;
  }

  private workerCounters(): Record<string, Record<string, number>> {
    const r = this.report();
    return r ? { feed: r.workers.feed, strategy: r.workers.strategy, execution: r.workers.execution } : {};
  }

  private tradingStateValue(): number {
    const v = this.report()?.workers.strategy['tradingState'];
    return typeof v === 'number' ? v : 0;
  }

  private tradingStateName(): string {
    return TRADING_STATE_NAMES[this.tradingStateValue()] ?? 'UNKNOWN';
  }

  private samplePnl(): void {
    const s = this.report()?.workers.strategy;
    if (!s || typeof s['equity'] !== 'number' || !Number.isFinite(s['equity'])) return;
    const equity = s['equity'];
    const realized = s['realizedPnl'] ?? 0;
    const fees = s['fees'] ?? 0;
    // equity = capital + realized (net of fees) + unrealized: the unrealized part is what the rest leaves
    const first = this.pnlSeries.find((p) => p.t >= this.sessionStartMs);
    const capital = first ? first.equity - first.realized - first.unrealized : equity - realized;
    this.pnlSeries.push({ t: Date.now(), equity, realized, unrealized: equity - capital - realized, fees });
    if (this.pnlSeries.length > PNL_POINTS) this.pnlSeries.splice(0, this.pnlSeries.length - PNL_POINTS);
  }

  private journalReader(): JournalReader | undefined {
    if (this.journal) return this.journal;
    if (this.cfg.journal.path === '' || !this.eng) return undefined;
    try {
      this.journal = new JournalReader(openJournalDb(this.cfg.journal.path, { readonly: true }));
    } catch {
      return undefined;
    }
    return this.journal;
  }

  // ------------------------------------------------------------------ ControlTarget

  health(): { status: 'ok' | 'starting' | 'stopped'; mode: string; uptimeS: number; tradingState: string } {
    return {
      status: this.eng ? 'ok' : this.starting ? 'starting' : 'stopped',
      mode: this.cfg.mode,
      uptimeS: this.eng ? (Date.now() - this.startedAt) / 1000 : 0,
      tradingState: this.tradingStateName(),
    };
  }

  stats(): Record<string, unknown> {
    const r = this.report();
    const strategy = r?.workers.strategy ?? {};
    const feed = r?.workers.feed ?? {};
    const exec = r?.workers.execution ?? {};
    const pick = (o: Record<string, number>, prefix: string): Record<string, number> =>
      Object.fromEntries(Object.entries(o).filter(([k]) => k.startsWith(prefix)));
    return {
      running: this.eng !== undefined,
      mode: this.cfg.mode,
      tradingState: this.tradingStateName(),
      flatten: ['idle', 'closing', 'flat'][strategy['flattenState'] ?? 0] ?? 'idle',
      strategy: this.eng?.strategy ?? { name: this.cfg.strategy.name, params: this.cfg.strategy.params, active: false },
      durationS: r?.durationS ?? 0,
      stages: r?.stages ?? {},
      counters: r?.counters ?? {},
      rings: r?.rings ?? [],
      books: pick(feed, 'book_'),
      rateBudget: pick(exec, 'budget'),
      riskRejects: pick(strategy, 'risk_'),
      pnl: { equity: strategy['equity'] ?? null, realized: strategy['realizedPnl'] ?? null, fees: strategy['fees'] ?? null },
      gc: r?.gc ?? {},
      alarms: { ...this.alarms.counters },
      workers: r?.workers ?? {},
    };
  }

  positions(): unknown[] {
    const j = this.journalReader();
    if (j) return j.positions();
    const s = this.report()?.workers.strategy ?? {};
    return this.cfg.symbols.map((symbol) => ({ symbol, position: s[`position_${symbol}`] ?? 0 }));
  }

  orders(): { open: unknown[]; recent: unknown[] } {
    const j = this.journalReader();
    if (!j) return { open: [], recent: [] };
    const session = j.lastSession()?.id;
    return { open: j.openOrders(session), recent: queryJournal(j.db, { view: 'orders', ...(session !== undefined ? { session } : {}), limit: 50 }) };
  }

  fills(limit: number): unknown[] {
    return this.journalReader()?.recentFills(limit) ?? [];
  }

  pnl(range: PnlRange, fromMs?: number, toMs?: number): PnlPoint[] {
    const now = Date.now();
    const lo = range === 'session' ? this.sessionStartMs : range === 'today' ? Math.floor(now / DAY_MS) * DAY_MS : 0;
    const from = Math.max(lo, fromMs ?? 0);
    const to = toMs ?? Number.POSITIVE_INFINITY;
    return this.pnlSeries.filter((p) => p.t >= from && p.t <= to);
  }

  strategies(): { registry: ReturnType<typeof listStrategies>; current: { name: string; params: EngineConfig['strategy']['params']; active: boolean } } {
    return { registry: listStrategies(), current: this.eng?.strategy ?? { name: this.cfg.strategy.name, params: this.cfg.strategy.params, active: false } };
  }

  controlStrategy(c: StrategyControl): StrategyControlResult {
    if (!this.eng) throw new ControlRequestError(409, 'the engine is not running (POST /engine/start)');
    return this.eng.controlStrategy(c);
  }

  async trading(action: TradingAction, reason: string): Promise<{ ok: boolean; state: string; error?: string }> {
    if (!this.eng) return { ok: false, state: this.tradingStateName(), error: 'the engine is not running (POST /engine/start)' };
    this.log.warn({ action, reason }, 'trading state change requested');
    this.watcher.requested(action, reason);
    const r = await this.eng.trading(action);
    return r.ok ? { ok: true, state: r.state } : { ok: false, state: r.state, error: r.error ?? 'refused' };
  }

  async engine(action: 'start' | 'stop'): Promise<{ ok: boolean; running: boolean; error?: string }> {
    try {
      if (action === 'start') await this.start();
      else await this.stop();
      return { ok: true, running: this.eng !== undefined };
    } catch (e) {
      return { ok: false, running: this.eng !== undefined, error: (e as Error).message };
    }
  }

  /** Clears the in-memory history (PnL series, log tail). The journal is the audit record and stays. */
  clearHistory(beforeMs?: number): Promise<{ ok: boolean; cleared: number }> {
    const before = beforeMs ?? Number.POSITIVE_INFINITY;
    const n0 = this.pnlSeries.length;
    const keep = this.pnlSeries.filter((p) => p.t >= before);
    this.pnlSeries.length = 0;
    this.pnlSeries.push(...keep);
    const cleared = n0 - keep.length + (beforeMs === undefined ? this.tail.clear() : 0);
    return Promise.resolve({ ok: true, cleared });
  }

  metrics(): Promise<string> {
    return this.metricsExporter.text();
  }

  logs(limit: number): LogLine[] {
    return this.tail.recent(limit);
  }
}
