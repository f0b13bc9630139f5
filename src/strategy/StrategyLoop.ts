import { performance } from 'node:perf_hooks';
import type { SpscRing } from '../ring/SpscRing.js';
import { WaitStrategy, type WorkProbe } from '../ring/WaitStrategy.js';
import type { StageHistograms } from '../metrics/StageHistograms.js';
import { RiskEngine, TRADING_STATE_NAMES, TradingState } from '../risk/RiskEngine.js';
import { nowNs } from '../util/clock.js';
import type { StrategyInit, TradingAction } from '../engine/messages.js';
import { StrategyRunner } from './StrategyRunner.js';
import { createStrategy } from './registry.js';
import { StrategyController, type StrategyControl, type StrategyControlResult } from './control.js';

/**
 * The strategy worker's loop: drains ring C (reports first, so positions are current) and ring A in
 * batches, one clock read per batch, and waits with the configured strategy when both are empty. Both
 * rings ring the same doorbell, so a parked loop wakes for either.
 */
export class StrategyLoop implements WorkProbe {
  readonly runner: StrategyRunner;
  readonly wait: WaitStrategy;
  private readonly control: Int32Array;
  private stop = false;
  private readonly yieldUs: number;
  private readonly symbols: readonly string[];
  readonly controller: StrategyController;

  constructor(
    init: StrategyInit,
    private readonly ringA: SpscRing,
    ringB: SpscRing,
    private readonly ringC: SpscRing,
    hists: StageHistograms,
  ) {
    this.control = new Int32Array(init.control);
    this.yieldUs = init.yieldAfterIntentUs;
    this.symbols = init.symbols;
    const risk = new RiskEngine(init.risk);
    const { name, params } = init.strategy;
    this.runner = new StrategyRunner(createStrategy(name, params, init.symbols), init.instruments, ringB, risk, { now: nowNs }, { hopA: hists.get('hopA'), strategy: hists.get('strategy') }, { disconnectHaltMs: init.disconnectHaltMs });
    this.controller = new StrategyController(this.runner, { name, params, active: true }, init.symbols);
    this.wait = new WaitStrategy(init.wait, ringA.doorbell, { spinBudgetUs: init.spinBudgetUs, parkTimeoutMs: 20 });
  }

  /** The control plane's trading state (between slices). */
  applyTrading(action: TradingAction): void {
    const r = this.runner;
    if (action === 'flatten') r.flatten();
    else r.setTradingState(action === 'halt' ? TradingState.Halted : action === 'reduce-only' ? TradingState.ReduceOnly : TradingState.Active);
  }

  tradingStateName(): string {
    return TRADING_STATE_NAMES[this.runner.tradingState] ?? 'UNKNOWN';
  }

  /** A runtime control message (call between slices, never inside one). */
  applyControl(c: StrategyControl): StrategyControlResult {
    return this.controller.apply(c);
  }

  private get symIndex(): number {
    return Math.max(0, this.symbols.indexOf(this.controller.state.params.symbol));
  }

  hasWork(): boolean {
    return this.ringA.hasData() || this.ringC.hasData() || Atomics.load(this.control, 0) !== 0;
  }

  requestStop(): void {
    this.stop = true;
  }

  stopped(): boolean {
    return this.stop || Atomics.load(this.control, 0) !== 0;
  }

  /** Handles everything available once; returns the number of records handled. */
  drainOnce(): number {
    const a = this.ringA;
    const c = this.ringC;
    const nC = c.poll(64);
    const nA = a.poll(256);
    if (nA + nC === 0) return 0;
    const r = this.runner;
    r.beginBatch(nowNs());
    if (nC > 0) {
      for (let i = 0; i < nC; i++) r.onReportRecord(c.f64, c.i32, c.u8, c.readBase(i));
      c.release(nC);
    }
    if (nA > 0) {
      const before = r.counters.intents;
      for (let i = 0; i < nA; i++) r.onMarketRecord(a.f64, a.i32, a.readBase(i));
      a.release(nA);
      // No spare core: step aside so the execution worker can send the order now, not after our slice.
      if (this.yieldUs > 0 && r.counters.intents !== before) this.wait.sleep(this.yieldUs);
    }
    return nA + nC;
  }

  /** Runs for about `maxMs` (or until stopped), then returns so the worker can do its housekeeping. */
  runSlice(maxMs: number): void {
    const end = performance.now() + maxMs;
    const wait = this.wait;
    let iter = 0;
    let parks = wait.parks;
    for (;;) {
      if (this.drainOnce() > 0) wait.busy();
      else wait.idle(this);
      if ((++iter & 65535) === 0 || wait.parks !== parks) {
        parks = wait.parks;
        if (this.stopped() || performance.now() >= end) return;
      }
    }
  }

  counters(): Record<string, number> {
    const c = this.runner.counters;
    return {
      ...c,
      ...prefixed('risk_', this.runner.risk.rejectCounts()),
      tradingState: this.runner.tradingState,
      ...Object.fromEntries(this.symbols.map((sym, i) => [`position_${sym}`, this.runner.position(i)])),
      flattenState: this.runner.flattenState,
      equity: this.runner.portfolio.equityNow,
      realizedPnl: this.runner.portfolio.netRealizedPnl(),
      fees: this.runner.portfolio.feesTotal,
      parks: this.wait.parks,
      inflight: this.runner.inflightCount(),
      position: this.runner.position(this.symIndex),
      // the venue's view (user data stream / reconcile), when it has spoken
      ...(this.runner.venuePosition(this.symIndex) === this.runner.venuePosition(this.symIndex) ? { venuePosition: this.runner.venuePosition(this.symIndex) } : {}),
    };
  }
}

function prefixed(prefix: string, o: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (v !== 0) out[prefix + k] = v;
  return out;
}
