import type { BacktestRun } from './Backtester.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface LatencySensitivityRow {
  scale: number;
  netPnl: number;
  fills: number;
  sharpePerDay: number;
  avgSlippageBps: number;
  fillRatio: number;
}

/** The metrics of one run, as `hft backtest --json` prints them (money in quote currency). */
export interface BacktestMetrics {
  strategy: string;
  symbol: string;
  seed: number;
  queue: string;
  latency: Record<string, string>;
  startMs: number;
  endMs: number;
  durationMs: number;
  marketLines: number;
  marketRecords: number;
  netPnl: number;
  grossPnl: number;
  fees: number;
  realizedPnl: number;
  unrealizedPnl: number;
  returnOnCapital: number;
  sharpePerHour: number;
  sharpePerDay: number;
  sortinoPerHour: number;
  sortinoPerDay: number;
  maxDrawdown: number;
  maxDrawdownFraction: number;
  roundTrips: number;
  winRate: number;
  /** gross won / gross lost over round trips (net of fees); null with no losing round trip */
  profitFactor: number | null;
  trades: number;
  orders: number;
  turnover: number;
  turnoverPerCapital: number;
  fillRatio: number;
  orderFillRatio: number;
  makerShare: number;
  takerShare: number;
  avgSlippageBps: number;
  meanAbsPosition: number;
  maxAbsPosition: number;
  timeInMarket: number;
  finalPosition: number;
  cancels: number;
  amends: number;
  rejects: number;
  riskRejects: number;
  triggered: number;
  openOrdersAtEnd: number;
  pnlByHour: Array<{ hourStartMs: number; pnl: number }>;
  latencySensitivity?: LatencySensitivityRow[];
}

/** Metric names a sweep can sort by, and whether larger is better. */
export const SORTABLE_METRICS: Readonly<Record<string, 'max' | 'min'>> = {
  netPnl: 'max', grossPnl: 'max', fees: 'min', returnOnCapital: 'max', sharpePerHour: 'max', sharpePerDay: 'max',
  sortinoPerHour: 'max', sortinoPerDay: 'max', maxDrawdown: 'min', winRate: 'max', profitFactor: 'max', trades: 'max',
  turnover: 'max', fillRatio: 'max', makerShare: 'max', avgSlippageBps: 'min', timeInMarket: 'min',
};

/** Rounds away float noise for output (12 significant digits). */
export function clean(x: number): number {
  if (!Number.isFinite(x)) return x;
  return Number(x.toPrecision(12));
}

/**
 * Ratios from the equity series: returns are equity changes per sampling interval over the capital; the
 * mean over the standard deviation (Sharpe) or over the downside deviation (Sortino, root mean square of
 * the negative returns), scaled by the square root of the intervals per hour / day. 0 when undefined.
 */
function ratios(equity: Float64Array, n: number, capital: number): { sharpe: number; sortino: number } {
  if (n < 3) return { sharpe: 0, sortino: 0 };
  const m = n - 1;
  let sum = 0;
  for (let i = 1; i < n; i++) sum += (equity[i]! - equity[i - 1]!) / capital;
  const mean = sum / m;
  let sq = 0;
  let down = 0;
  for (let i = 1; i < n; i++) {
    const r = (equity[i]! - equity[i - 1]!) / capital;
    sq += (r - mean) * (r - mean);
    if (r < 0) down += r * r;
  }
  const sd = Math.sqrt(sq / (m - 1));
  const dd = Math.sqrt(down / m);
  return { sharpe: sd > 1e-15 ? mean / sd : 0, sortino: dd > 1e-15 ? mean / dd : 0 };
}

export function computeMetrics(run: BacktestRun): BacktestMetrics {
  const cfg = run.config;
  const l = run.ledger;
  const se = run.series;
  const eq = se.equity.data;
  const n = se.equity.length;
  const capital = cfg.capital;
  const realized = l.totalRealized();
  const fees = l.totalFees();
  const net = n > 0 ? eq[n - 1]! : 0;
  const unrealized = net - (realized - fees);
  const { sharpe, sortino } = ratios(eq, n, capital);
  const perHour = Math.sqrt(HOUR_MS / cfg.sampleMs);
  const perDay = Math.sqrt(DAY_MS / cfg.sampleMs);
  let peak = 0;
  let maxDd = 0;
  let maxDdFrac = 0;
  for (let i = 0; i < n; i++) {
    const e = eq[i]!;
    if (e > peak) peak = e;
    const dd = peak - e;
    if (dd > maxDd) maxDd = dd;
    const frac = dd / (capital + peak);
    if (frac > maxDdFrac) maxDdFrac = frac;
  }
  // PnL by UTC hour: the change of equity from the last sample before the hour to its last sample
  const pnlByHour: Array<{ hourStartMs: number; pnl: number }> = [];
  let prevEq = 0;
  for (let i = 0; i < n; i++) {
    const h = Math.floor(se.timeMs.at(i) / HOUR_MS) * HOUR_MS;
    const last = pnlByHour[pnlByHour.length - 1];
    if (last === undefined || last.hourStartMs !== h) pnlByHour.push({ hourStartMs: h, pnl: 0 });
    const cur = pnlByHour[pnlByHour.length - 1]!;
    cur.pnl += eq[i]! - prevEq;
    prevEq = eq[i]!;
  }
  const ex = run.exchange;
  const inv = l.inventory(run.symbolId, run.startMs, run.endMs);
  const turnover = l.turnover;
  const trips = l.trips;
  return {
    strategy: cfg.strategy,
    symbol: run.symbols[run.symbolId]!,
    seed: cfg.seed,
    queue: typeof cfg.queue === 'string' ? cfg.queue : cfg.queue.kind,
    latency: run.latency,
    startMs: run.startMs,
    endMs: run.endMs,
    durationMs: run.endMs - run.startMs,
    marketLines: run.marketLines,
    marketRecords: run.marketRecords,
    netPnl: clean(net),
    grossPnl: clean(net + fees),
    fees: clean(fees),
    realizedPnl: clean(realized),
    unrealizedPnl: clean(unrealized),
    returnOnCapital: clean(net / capital),
    sharpePerHour: clean(sharpe * perHour),
    sharpePerDay: clean(sharpe * perDay),
    sortinoPerHour: clean(sortino * perHour),
    sortinoPerDay: clean(sortino * perDay),
    maxDrawdown: clean(maxDd),
    maxDrawdownFraction: clean(maxDdFrac),
    roundTrips: trips.count,
    winRate: trips.count > 0 ? clean(trips.wins / trips.count) : 0,
    profitFactor: trips.grossLoss > 0 ? clean(trips.grossWin / trips.grossLoss) : null,
    trades: l.fills.length,
    orders: ex.orders,
    turnover: clean(turnover),
    turnoverPerCapital: clean(turnover / capital),
    fillRatio: ex.qtyOrdered > 0 ? clean(ex.qtyFilled / ex.qtyOrdered) : 0,
    orderFillRatio: ex.orders > 0 ? clean(ex.ordersWithFill / ex.orders) : 0,
    makerShare: turnover > 0 ? clean(l.makerNotional / turnover) : 0,
    takerShare: turnover > 0 ? clean(l.takerNotional / turnover) : 0,
    avgSlippageBps: l.slipNotional > 0 ? clean(l.slipBpsNotional / l.slipNotional) : 0,
    meanAbsPosition: clean(inv.meanAbs),
    maxAbsPosition: clean(inv.maxAbs),
    timeInMarket: clean(inv.timeInMarket),
    finalPosition: clean(l.position(run.symbolId)),
    cancels: ex.cancels,
    amends: ex.amends,
    rejects: ex.rejects,
    riskRejects: run.runner.riskRejects,
    triggered: ex.triggered,
    openOrdersAtEnd: run.openOrdersAtEnd,
    pnlByHour: pnlByHour.map((h) => ({ hourStartMs: h.hourStartMs, pnl: clean(h.pnl) })),
  };
}

/** The short form of a run at another latency scale. */
export function sensitivityRow(scale: number, m: BacktestMetrics): LatencySensitivityRow {
  return { scale, netPnl: m.netPnl, fills: m.trades, sharpePerDay: m.sharpePerDay, avgSlippageBps: m.avgSlippageBps, fillRatio: m.fillRatio };
}
