import type { StrategyListing } from '../strategy/registry.js';
import type { StrategyControl, StrategyControlResult, StrategyState } from '../strategy/control.js';

/** What the control API reads and drives: the supervisor implements it over the engine (tests use fakes). */
export type TradingAction = 'halt' | 'resume' | 'reduce-only' | 'flatten';
export type PnlRange = 'session' | 'today' | 'all';

export interface PnlPoint {
  /** ms since the epoch */
  t: number;
  equity: number;
  realized: number;
  unrealized: number;
  fees: number;
}

export interface LogLine {
  t: number;
  level: string;
  msg: string;
}

export interface ControlTarget {
  health(): { status: 'ok' | 'starting' | 'stopped'; mode: string; uptimeS: number; tradingState: string };
  /** counters, per-stage latency percentiles, ring depths and drops, rate budgets, book states, trading state */
  stats(): Record<string, unknown>;
  positions(): unknown[];
  orders(): { open: unknown[]; recent: unknown[] };
  fills(limit: number): unknown[];
  pnl(range: PnlRange, fromMs?: number, toMs?: number): PnlPoint[];
  strategies(): { registry: StrategyListing[]; current: StrategyState };
  controlStrategy(c: StrategyControl): StrategyControlResult;
  trading(action: TradingAction, reason: string): Promise<{ ok: boolean; state: string; error?: string }>;
  engine(action: 'start' | 'stop'): Promise<{ ok: boolean; running: boolean; error?: string }>;
  clearHistory(beforeMs?: number): Promise<{ ok: boolean; cleared: number }>;
  /** Prometheus text exposition */
  metrics(): Promise<string>;
  logs(limit: number): LogLine[];
}

/** A request the target refuses with a given HTTP status (400 for a bad value, 409 for a bad state). */
export class ControlRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
