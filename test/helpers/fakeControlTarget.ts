import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { ControlTarget, LogLine, PnlPoint, PnlRange, TradingAction } from '../../src/control/ControlTarget.js';
import { EngineMetrics } from '../../src/control/metrics.js';
import { TRADING_STATE_NAMES } from '../../src/risk/RiskEngine.js';
import { resolveControl, type StrategyControl, type StrategyControlResult, type StrategyState } from '../../src/strategy/control.js';
import { listStrategies, strategyNames, validateStrategyParams, type StrategyListing } from '../../src/strategy/registry.js';

/**
 * A ControlTarget whose data moves on every read, for the control API, dashboard and Prometheus tests:
 * - equity rises by a fixed step on every `pnl()` call (one new point per call);
 * - every `stats()` call adds a latency sample per stage (p50/p99 change with the call count);
 * - `trading()` changes the trading state ('ACTIVE', 'HALTED', 'REDUCE_ONLY'; flatten closes the position);
 * - `controlStrategy()` applies the real registry's validation (`resolveControl`);
 * - `metrics()` is the real exporter (`EngineMetrics`) over the fake's counters and a fixed tickToOrder histogram.
 * The shapes follow the Supervisor's: `stats()` keys, journal rows (snake_case, side 1/-1) for orders and fills.
 * Every mutating call is recorded in `calls` so a test can check what reached the target.
 */
export const FAKE_SYMBOLS = ['BTCUSDT', 'ETHUSDT'] as const;
const STAGES = ['decode', 'hopA', 'strategy', 'hopB', 'send', 'tickToOrder', 'venueRtt'] as const;
const DAY_MS = 86_400_000;
/** equity added per pnl() call */
export const EQUITY_STEP = 1.25;
export const START_EQUITY = 10_000;

export interface FakeCall {
  kind: 'trading' | 'engine' | 'clearHistory' | 'strategy';
  detail: unknown;
}

/** tickToOrder samples (ns) behind /metrics: 3 × 0.7 µs, 37 × 4 µs, 50 × 40 µs, 9 × 400 µs, 1 × 4 ms */
export const TICK_TO_ORDER_SAMPLES: ReadonlyArray<readonly [number, number]> = [
  [700, 3],
  [4_000, 37],
  [40_000, 50],
  [400_000, 9],
  [4_000_000, 1],
];

export class FakeControlTarget implements ControlTarget {
  tradingState = 'ACTIVE';
  running = true;
  readonly calls: FakeCall[] = [];
  readonly pnlRequests: Array<{ range: PnlRange; from: number | undefined; to: number | undefined }> = [];
  statsCalls = 0;
  metricsCalls = 0;
  /** orders sent by the execution worker (exported as hft_worker_events_total{worker="execution",counter="sent"}) */
  ordersSent = 42;
  strategy: StrategyState;
  readonly exporter: EngineMetrics;
  private readonly tickToOrder: Histogram;
  private readonly startedMs: number;
  private readonly points: PnlPoint[] = [];
  private readonly logLines: LogLine[] = [];
  private fillList: Array<Record<string, unknown>> = [];
  private fillSeq = 0;
  private position = 0.02;
  private equity = START_EQUITY;

  constructor(now = Date.now()) {
    this.startedMs = now;
    const name = strategyNames()[0]!;
    this.strategy = { name, params: validateStrategyParams(name, { symbol: FAKE_SYMBOLS[0] }), active: true };
    // history: two points from earlier days (only in range=all), then a minute of this session
    this.points.push(this.point(now - 2 * DAY_MS, START_EQUITY - 300), this.point(now - 1.5 * DAY_MS, START_EQUITY - 120));
    for (let i = 60; i >= 1; i--) this.points.push(this.point(now - i * 1000, START_EQUITY - i * 0.5 + Math.sin(i / 5) * 3));
    for (let i = 0; i < 5; i++) this.addFill(now - (5 - i) * 2000, FAKE_SYMBOLS[i % 2]!, i % 2 === 0 ? 1 : -1);
    this.tickToOrder = hdr.build({ numberOfSignificantValueDigits: 3, highestTrackableValue: 60e9 });
    for (const [v, n] of TICK_TO_ORDER_SAMPLES) this.tickToOrder.recordValueWithCount(v, n);
    this.exporter = new EngineMetrics({
      counters: () => ({
        feed: { frames: this.statsCalls * 1000, decodeErrors: 0, reconnects: 0 },
        strategy: { fills: this.fillSeq, intents: this.ordersSent, equity: this.equity, position: this.position },
        execution: { sent: this.ordersSent, acks: this.ordersSent, rejects: 1 },
      }),
      stageHistogram: (st) => (st === 'tickToOrder' ? this.tickToOrder : undefined),
      gc: () => ({ feed: { minor: 3, major: 0, pauseMs: 1.5 } }),
      rings: () => [
        { name: 'A', depth: 7, capacity: 4096 },
        { name: 'B', depth: 0, capacity: 1024 },
      ],
      tradingState: () => Math.max(0, TRADING_STATE_NAMES.indexOf(this.tradingState)),
    });
    this.log('info', 'fake engine started');
  }

  private point(t: number, equity: number): PnlPoint {
    return { t, equity, realized: equity - START_EQUITY, unrealized: 0, fees: 0 };
  }

  /** a journal fill row (FillRow's columns) */
  private addFill(t: number, symbol: string, side: 1 | -1): void {
    const id = ++this.fillSeq;
    const btc = symbol === 'BTCUSDT';
    this.fillList.push({
      id,
      session_id: 1,
      order_ref: id,
      client_order_id: `hft-${id}`,
      intent_id: id,
      event_seq: id * 3,
      symbol,
      side,
      qty: btc ? 0.001 : 0.01,
      price: btc ? 60_000 + (id % 10) / 10 : 3_000 + (id % 5) / 100,
      fee: btc ? 0.024 : 0.012,
      is_maker: id % 2,
      foreign_order: 0,
      venue_time_ms: t,
      ts_ns: 1_000_000 + id,
      wall_ms: t,
    });
    if (this.fillList.length > 200) this.fillList.shift();
  }

  private log(level: string, msg: string): void {
    this.logLines.push({ t: Date.now(), level, msg });
    if (this.logLines.length > 500) this.logLines.shift();
  }

  health(): { status: 'ok' | 'starting' | 'stopped'; mode: string; uptimeS: number; tradingState: string } {
    return { status: this.running ? 'ok' : 'stopped', mode: 'paper', uptimeS: Math.floor((Date.now() - this.startedMs) / 1000), tradingState: this.tradingState };
  }

  /** The Supervisor's stats() keys, with moving values. */
  stats(): Record<string, unknown> {
    const n = ++this.statsCalls;
    const stages: Record<string, unknown> = {};
    STAGES.forEach((s, i) => {
      const base = (i + 1) * 1_000 + (n % 7) * 150;
      const p99 = base * 4 + (n % 5) * 900;
      stages[s] = { count: n * 100, p50: base, p90: base * 2, p99, p999: p99 * 2, max: p99 * 3 };
    });
    if (n % 10 === 0) this.log('debug', `stats read ${n}`);
    // trading goes on while active: a fill every 4th read
    if (n % 4 === 0 && this.running && this.tradingState === 'ACTIVE') this.addFill(Date.now(), FAKE_SYMBOLS[(n / 4) % 2]!, n % 8 === 0 ? 1 : -1);
    return {
      running: this.running,
      mode: 'paper',
      tradingState: this.tradingState,
      flatten: 'idle',
      strategy: { ...this.strategy },
      durationS: (Date.now() - this.startedMs) / 1000,
      stages,
      counters: { frames: n * 1000, records: n * 1200, decodeErrors: 0, reconnects: 0, ringDrops: { A: 0, B: 0, C: 0 }, intents: this.ordersSent, ordersSent: this.ordersSent, acks: this.ordersSent, rejects: 1, fills: this.fillSeq },
      rings: [
        { name: 'A', capacity: 4096, depth: (n * 37) % 4096, published: n * 1000, consumed: n * 1000 - ((n * 37) % 4096), fullEvents: 0 },
        { name: 'B', capacity: 1024, depth: n % 3, published: n * 4, consumed: n * 4 - (n % 3), fullEvents: 0 },
        { name: 'C', capacity: 1024, depth: 0, published: n * 4, consumed: n * 4, fullEvents: 2 },
      ],
      // feed worker counters named book_<SYMBOL>[_<field>]; a bare one is the BookState (1 Syncing, 2 Live, 3 Stale)
      books: {
        book_BTCUSDT: 2,
        book_BTCUSDT_gaps: 0,
        book_BTCUSDT_resyncs: 0,
        book_ETHUSDT: n % 20 < 2 ? 1 : 2,
        book_ETHUSDT_gaps: 1,
        book_ETHUSDT_resyncs: 1,
      },
      // execution worker counters named budget*: a value and its <name>Limit make a meter
      rateBudget: {
        budgetOrders10s: (n * 3) % 270,
        budgetOrders10sLimit: 300,
        budgetOrders1m: (n * 5) % 1080,
        budgetOrders1mLimit: 1200,
        budgetWeight1m: 2000 + (n % 100),
        budgetWeight1mLimit: 2400,
        budgetRejects: 0,
      },
      riskRejects: { risk_maxPosition: 0 },
      pnl: { equity: this.equity, realized: this.equity - START_EQUITY, fees: 0.5 },
    };
  }

  /** journal PositionRow shape */
  positions(): unknown[] {
    return [
      { symbol: 'BTCUSDT', position: this.position, avgCost: this.position === 0 ? 0 : 59_950, realizedPnl: 12.5, fees: 0.5, snapshotId: 0, fillsAfterSnapshot: this.fillSeq, lastFillId: this.fillSeq, venuePosition: this.position },
      { symbol: 'ETHUSDT', position: 0, avgCost: 0, realizedPnl: -1.25, fees: 0.1, snapshotId: 0, fillsAfterSnapshot: 0, lastFillId: 0, venuePosition: null },
    ];
  }

  /** journal OrderRow shape */
  orders(): { open: unknown[]; recent: unknown[] } {
    const row = (id: number, side: 1 | -1, price: number, state: string, cum: number): Record<string, unknown> => ({
      id,
      session_id: 1,
      client_order_id: `hft-o${id}`,
      intent_id: id,
      origin: 'ours',
      symbol: 'BTCUSDT',
      side,
      order_type: 2,
      tif: 1,
      price,
      qty: 0.01,
      reduce_only: 0,
      state,
      cum_qty: cum,
      avg_price: cum > 0 ? price : 0,
      venue_order_id: 9000 + id,
      reject_reason: 0,
      error_code: 0,
      created_ts_ns: 5_000_000 + id,
      updated_ts_ns: 5_000_100 + id,
      reports: 1,
    });
    const open = this.tradingState === 'HALTED' || this.position === 0 ? [] : [row(2, -1, 60_100, 'partially_filled', 0.004), row(1, 1, 59_900, 'new', 0)];
    return { open, recent: [row(0, 1, 3_000, 'filled', 0.01)] };
  }

  fills(limit: number): unknown[] {
    return this.fillList.slice(-limit).reverse();
  }

  pnl(range: PnlRange, fromMs?: number, toMs?: number): PnlPoint[] {
    this.pnlRequests.push({ range, from: fromMs, to: toMs });
    const last = this.points[this.points.length - 1]!;
    this.equity += EQUITY_STEP;
    this.points.push({ t: Math.max(Date.now(), last.t + 1), equity: this.equity, realized: this.equity - START_EQUITY, unrealized: this.position * 50, fees: 0.5 });
    const now = Date.now();
    const midnight = new Date(now).setHours(0, 0, 0, 0);
    const lo = range === 'all' ? 0 : range === 'today' ? Math.min(midnight, this.startedMs - 60_000) : this.startedMs - 60_000;
    return this.points.filter((p) => p.t >= lo && (fromMs === undefined || p.t >= fromMs) && (toMs === undefined || p.t <= toMs));
  }

  strategies(): { registry: StrategyListing[]; current: StrategyState } {
    return { registry: listStrategies(), current: { ...this.strategy } };
  }

  controlStrategy(c: StrategyControl): StrategyControlResult {
    this.calls.push({ kind: 'strategy', detail: c });
    const r = resolveControl(this.strategy, c, FAKE_SYMBOLS);
    if (r.ok) this.strategy = { name: r.name, params: r.params, active: r.active };
    return r;
  }

  async trading(action: TradingAction, reason: string): Promise<{ ok: boolean; state: string; error?: string }> {
    this.calls.push({ kind: 'trading', detail: { action, reason } });
    if (action === 'halt') this.tradingState = 'HALTED';
    else if (action === 'resume') this.tradingState = 'ACTIVE';
    else if (action === 'reduce-only') this.tradingState = 'REDUCE_ONLY';
    else {
      if (this.position === 0) return { ok: false, state: this.tradingState, error: 'nothing to flatten: no open position' };
      this.addFill(Date.now(), 'BTCUSDT', this.position > 0 ? -1 : 1);
      this.position = 0;
      this.tradingState = 'REDUCE_ONLY';
    }
    this.log('warn', `trading ${action} (${reason})`);
    return { ok: true, state: this.tradingState };
  }

  async engine(action: 'start' | 'stop'): Promise<{ ok: boolean; running: boolean; error?: string }> {
    this.calls.push({ kind: 'engine', detail: action });
    if ((action === 'start') === this.running) return { ok: false, running: this.running, error: `engine is already ${this.running ? 'running' : 'stopped'}` };
    this.running = action === 'start';
    this.log('info', `engine ${action}`);
    return { ok: true, running: this.running };
  }

  /** Like the Supervisor: clears the in-memory PnL series (the newest point stays) and the log tail. */
  async clearHistory(beforeMs?: number): Promise<{ ok: boolean; cleared: number }> {
    this.calls.push({ kind: 'clearHistory', detail: beforeMs ?? null });
    const cut = beforeMs ?? Number.POSITIVE_INFINITY;
    const keepLast = this.points[this.points.length - 1]!;
    const n0 = this.points.length;
    const kept = this.points.filter((p) => p.t >= cut);
    this.points.length = 0;
    this.points.push(...(kept.length > 0 ? kept : [keepLast]));
    let cleared = n0 - this.points.length;
    if (beforeMs === undefined) {
      cleared += this.logLines.length;
      this.logLines.length = 0;
    }
    return { ok: true, cleared };
  }

  metrics(): Promise<string> {
    this.metricsCalls++;
    return this.exporter.text();
  }

  logs(limit: number): LogLine[] {
    return this.logLines.slice(-limit);
  }
}
