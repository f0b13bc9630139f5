import { STAGES } from '../metrics/StageHistograms.js';
import type { LogLine } from './ControlTarget.js';

/** What the terminal view shows: a plain snapshot, so rendering is a pure function (tested as text). */
export interface TuiView {
  nowMs: number;
  mode: string;
  venue: string;
  strategy: string;
  tradingState: string;
  running: boolean;
  symbols: Array<{ symbol: string; bid: number; ask: number; position: number; book: string }>;
  equity: number;
  realized: number;
  fees: number;
  /** ns */
  stages: Record<string, { count: number; p50: number; p99: number; max: number }>;
  counters: { intents: number; ordersSent: number; fills: number; rejects: number; riskRejects: number; decodeErrors: number };
  orders: Array<{ id: string; symbol: string; side: string; qty: number; price: number; state: string }>;
  logs: LogLine[];
}

const BOOK_STATE = ['-', 'syncing', 'live', 'stale'];
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';
const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';

function num(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function us(ns: number): string {
  return ns > 0 ? (ns / 1000).toFixed(ns < 10_000 ? 2 : 1) : '-';
}

function clip(s: string, width: number): string {
  return s.length > width ? s.slice(0, width - 1) + '…' : s;
}

/**
 * The terminal view as text (ANSI colours when `color`): header with mode, strategy and trading state; prices,
 * positions and book state per symbol; PnL; latency per stage; recent orders; the last log lines. Fits
 * `width` columns; the caller clears the screen and writes it in place once a second.
 */
export function renderTui(v: TuiView, width = 100, color = true): string {
  const c = (code: string, s: string): string => (color ? code + s + RESET : s);
  const stateColor = v.tradingState === 'ACTIVE' ? GREEN : v.tradingState === 'HALTED' ? RED : YELLOW;
  const lines: string[] = [];
  const time = new Date(v.nowMs).toISOString().slice(11, 19);
  lines.push(clip(`${c(BOLD, 'hft')}  ${time} UTC  ${v.mode} on ${v.venue}  strategy ${v.strategy}  trading ${c(stateColor, v.tradingState)}${v.running ? '' : c(RED, '  (engine stopped)')}`, width + (color ? 24 : 0)));
  lines.push('');
  lines.push(c(DIM, `${'symbol'.padEnd(12)} ${'bid'.padStart(12)} ${'ask'.padStart(12)} ${'position'.padStart(12)}  book`));
  for (const s of v.symbols) {
    const bookColor = s.book === 'live' ? GREEN : s.book === '-' ? DIM : YELLOW;
    lines.push(`${s.symbol.padEnd(12)} ${num(s.bid).padStart(12)} ${num(s.ask).padStart(12)} ${num(s.position, 4).padStart(12)}  ${c(bookColor, s.book)}`);
  }
  lines.push('');
  const pnlColor = v.realized >= 0 ? GREEN : RED;
  lines.push(`equity ${num(v.equity)}   realized ${c(pnlColor, num(v.realized, 4))}   fees ${num(v.fees, 4)}`);
  const k = v.counters;
  lines.push(c(DIM, `intents ${k.intents}  sent ${k.ordersSent}  fills ${k.fills}  rejects ${k.rejects}  risk rejects ${k.riskRejects}  decode errors ${k.decodeErrors}`));
  lines.push('');
  lines.push(c(DIM, `${'stage (µs)'.padEnd(12)} ${'count'.padStart(9)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}`));
  for (const s of STAGES) {
    const st = v.stages[s];
    if (!st) continue;
    lines.push(`${s.padEnd(12)} ${String(st.count).padStart(9)} ${us(st.p50).padStart(9)} ${us(st.p99).padStart(9)} ${us(st.max).padStart(9)}`);
  }
  lines.push('');
  lines.push(c(DIM, 'recent orders'));
  if (v.orders.length === 0) lines.push(c(DIM, '  (none)'));
  for (const o of v.orders.slice(0, 6)) lines.push(clip(`  ${o.id.padEnd(18)} ${o.symbol.padEnd(10)} ${o.side.padEnd(4)} ${num(o.qty, 4).padStart(10)} @ ${num(o.price).padStart(10)}  ${o.state}`, width));
  lines.push('');
  lines.push(c(DIM, 'log'));
  for (const l of v.logs.slice(-8)) {
    const lc = l.level === 'error' || l.level === 'fatal' ? RED : l.level === 'warn' ? YELLOW : '';
    const first = l.msg.split('\n')[0] ?? '';
    const text = clip(`  ${new Date(l.t).toISOString().slice(11, 19)} ${l.level.padEnd(5)} ${first}`, width);
    lines.push(lc ? c(lc, text) : text);
  }
  return lines.join('\n');
}

/** Reads a TuiView from the control target's JSON views (the same data the API serves). */
export function tuiViewFrom(
  stats: Record<string, unknown>,
  orders: { recent: unknown[] },
  logs: LogLine[],
  symbols: readonly string[],
  venue: string,
): TuiView {
  const workers = (stats.workers ?? {}) as Record<string, Record<string, number>>;
  const feed = workers.feed ?? {};
  const strat = workers.strategy ?? {};
  const counters = (stats.counters ?? {}) as Record<string, number>;
  const pnl = (stats.pnl ?? {}) as { equity?: number | null; realized?: number | null; fees?: number | null };
  const strategy = (stats.strategy ?? {}) as { name?: string };
  const n = (v: unknown): number => (typeof v === 'number' ? v : NaN);
  return {
    nowMs: Date.now(),
    mode: String(stats.mode ?? ''),
    venue,
    strategy: strategy.name ?? '',
    tradingState: String(stats.tradingState ?? ''),
    running: stats.running === true,
    symbols: symbols.map((symbol) => ({
      symbol,
      bid: n(feed[`bid_${symbol}`]),
      ask: n(feed[`ask_${symbol}`]),
      position: n(strat[`position_${symbol}`]),
      book: BOOK_STATE[feed[`book_${symbol}`] ?? 0] ?? '-',
    })),
    equity: n(pnl.equity),
    realized: n(pnl.realized),
    fees: n(pnl.fees),
    stages: (stats.stages ?? {}) as TuiView['stages'],
    counters: {
      intents: counters.intents ?? 0,
      ordersSent: counters.ordersSent ?? 0,
      fills: counters.fills ?? 0,
      rejects: counters.rejects ?? 0,
      riskRejects: counters.riskRejects ?? 0,
      decodeErrors: counters.decodeErrors ?? 0,
    },
    orders: (orders.recent as Array<Record<string, unknown>>).map((o) => ({
      id: String(o.client_order_id ?? o.id ?? ''),
      symbol: String(o.symbol ?? ''),
      side: o.side === 1 ? 'BUY' : o.side === -1 ? 'SELL' : String(o.side ?? ''),
      qty: n(o.qty),
      price: n(o.avg_price ?? o.price),
      state: String(o.state ?? ''),
    })),
    logs,
  };
}
