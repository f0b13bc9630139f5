import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BacktestResult } from './runBacktest.js';
import { clean, type BacktestMetrics } from './metrics.js';

const W = 900;
const H = 220;
const PAD = { l: 64, r: 12, t: 12, b: 26 };
/** points per chart at most (the embedded data keeps up to MAX_DATA) */
const MAX_PLOT = 2000;
const MAX_DATA = 50_000;

const ORDER_TYPE_NAMES = ['', 'MARKET', 'LIMIT', 'STOP_MARKET', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'];

/** fills.csv: one row per fill. */
export function fillsCsv(r: BacktestResult): string {
  const f = r.run.ledger.fills;
  const rows = ['time_ms,time_iso,symbol,intent_id,side,order_type,qty,price,fee,liquidity,decision_price,position_after,realized_pnl'];
  for (let i = 0; i < f.length; i++) {
    const t = f.timeMs.at(i);
    const dp = f.decisionPrice.at(i);
    rows.push([
      Math.round(t * 1000) / 1000, new Date(t).toISOString(), r.run.symbols[f.sym.at(i)]!, f.intentId.at(i), f.side.at(i) > 0 ? 'BUY' : 'SELL', ORDER_TYPE_NAMES[f.orderType.at(i)] ?? String(f.orderType.at(i)),
      clean(f.qty.at(i)), clean(f.price.at(i)), clean(f.fee.at(i)), f.isMaker.at(i) === 1 ? 'maker' : 'taker', dp === dp ? clean(dp) : '', clean(f.positionAfter.at(i)), clean(f.realized.at(i)),
    ].join(','));
  }
  return rows.join('\n') + '\n';
}

/** Indices spread evenly over [0, n) (all when n <= max). */
function pick(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)));
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return x.toExponential(3);
  return String(Number(x.toPrecision(6)));
}

interface Scale {
  x(t: number): number;
  y(v: number): number;
  lo: number;
  hi: number;
  t0: number;
  t1: number;
}

function scale(ts: number[], vs: number[], extra: number[] = []): Scale {
  const t0 = ts.length > 0 ? ts[0]! : 0;
  const t1 = ts.length > 1 ? ts[ts.length - 1]! : t0 + 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...vs, ...extra]) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  return {
    x: (t) => PAD.l + ((t - t0) / (t1 - t0 || 1)) * (W - PAD.l - PAD.r),
    y: (v) => PAD.t + (1 - (v - lo) / (hi - lo)) * (H - PAD.t - PAD.b),
    lo, hi, t0, t1,
  };
}

function axes(s: Scale, title: string): string {
  const ticks = [s.lo, (s.lo + s.hi) / 2, s.hi];
  const yl = ticks.map((v) => `<text x="${PAD.l - 6}" y="${s.y(v) + 4}" text-anchor="end">${fmt(v)}</text><line x1="${PAD.l}" x2="${W - PAD.r}" y1="${s.y(v)}" y2="${s.y(v)}" class="grid"/>`).join('');
  const xt = [s.t0, (s.t0 + s.t1) / 2, s.t1]
    .map((t, i) => `<text x="${s.x(t)}" y="${H - 8}" text-anchor="${['start', 'middle', 'end'][i]}">${esc(new Date(t).toISOString().slice(11, 19))}</text>`)
    .join('');
  return `<text x="${PAD.l}" y="10" class="title">${esc(title)}</text>${yl}${xt}`;
}

function polyline(s: Scale, ts: number[], vs: number[], cls: string, step = false): string {
  const pts: string[] = [];
  for (let i = 0; i < ts.length; i++) {
    if (!Number.isFinite(vs[i]!)) continue;
    const x = s.x(ts[i]!).toFixed(1);
    if (step && pts.length > 0) pts.push(`${x},${s.y(vs[i - 1]!).toFixed(1)}`);
    pts.push(`${x},${s.y(vs[i]!).toFixed(1)}`);
  }
  return `<polyline class="${cls}" points="${pts.join(' ')}"/>`;
}

function svg(body: string): string {
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
}

/** The self-contained HTML report: every chart is inline SVG, the data is embedded as JSON. */
export function reportHtml(r: BacktestResult): string {
  const m = r.metrics;
  const se = r.run.series;
  const idx = pick(se.timeMs.length, MAX_PLOT);
  const ts = idx.map((i) => se.timeMs.at(i));
  const eq = idx.map((i) => se.equity.at(i));
  let peak = -Infinity;
  const dd = eq.map((e) => {
    peak = Math.max(peak, e, 0);
    return e - peak;
  });
  const pos = idx.map((i) => se.position.at(i));
  const mid = idx.map((i) => se.mid.at(i));
  const f = r.run.ledger.fills;
  const sym = r.run.symbolId;
  const fills: Array<{ t: number; p: number; side: number; q: number; maker: number }> = [];
  for (let i = 0; i < f.length; i++) if (f.sym.at(i) === sym) fills.push({ t: f.timeMs.at(i), p: f.price.at(i), side: f.side.at(i), q: f.qty.at(i), maker: f.isMaker.at(i) });

  const sEq = scale(ts, eq, dd);
  const equityChart = svg(axes(sEq, 'equity (net of fees) and drawdown') + polyline(sEq, ts, dd, 'dd') + polyline(sEq, ts, eq, 'eq'));
  const sPos = scale(ts, pos);
  const positionChart = svg(axes(sPos, `position (${m.symbol})`) + polyline(sPos, ts, pos, 'pos', true));
  const sPx = scale(ts, mid, fills.map((x) => x.p));
  const marks = fills
    .map((x) => {
      const cx = sPx.x(x.t).toFixed(1);
      const cy = sPx.y(x.p);
      const d = x.side > 0 ? `M${cx},${(cy - 5).toFixed(1)} l5,9 h-10 z` : `M${cx},${(cy + 5).toFixed(1)} l5,-9 h-10 z`;
      return `<path class="${x.side > 0 ? 'buy' : 'sell'}${x.maker ? ' maker' : ''}" d="${d}"><title>${x.side > 0 ? 'BUY' : 'SELL'} ${fmt(x.q)} @ ${fmt(x.p)}</title></path>`;
    })
    .join('');
  const priceChart = svg(axes(sPx, `mid price and fills (${m.symbol}): ▲ buy, ▼ sell, hollow = maker`) + polyline(sPx, ts, mid, 'px') + marks);
  const hours = m.pnlByHour;
  const maxAbs = Math.max(1e-12, ...hours.map((h) => Math.abs(h.pnl)));
  const bw = (W - PAD.l - PAD.r) / Math.max(1, hours.length);
  const zero = PAD.t + (H - PAD.t - PAD.b) / 2;
  const bars = hours
    .map((h, i) => {
      const hgt = (Math.abs(h.pnl) / maxAbs) * ((H - PAD.t - PAD.b) / 2);
      const x = PAD.l + i * bw + bw * 0.1;
      return `<rect class="${h.pnl >= 0 ? 'up' : 'down'}" x="${x.toFixed(1)}" y="${(h.pnl >= 0 ? zero - hgt : zero).toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" height="${hgt.toFixed(1)}"><title>${esc(new Date(h.hourStartMs).toISOString().slice(0, 13))}:00 ${fmt(h.pnl)}</title></rect>` +
        (hours.length <= 48 ? `<text x="${(x + bw * 0.4).toFixed(1)}" y="${H - 8}" text-anchor="middle">${esc(new Date(h.hourStartMs).toISOString().slice(11, 13))}h</text>` : '');
    })
    .join('');
  const hourChart = svg(`<text x="${PAD.l}" y="10" class="title">PnL by hour (UTC), max |bar| ${fmt(maxAbs)}</text><line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${zero}" y2="${zero}"/>${bars}`);

  const skip = new Set(['pnlByHour', 'latency', 'latencySensitivity']);
  const metricRows = Object.entries(m)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'number' ? fmt(v) : String(v))}</td></tr>`)
    .join('');
  const latencyRows = Object.entries(m.latency).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('') || '<tr><td colspan="2">no latency (every delay 0)</td></tr>';
  const sens = (m.latencySensitivity ?? [])
    .map((x) => `<tr><td>${x.scale}x</td><td>${fmt(x.netPnl)}</td><td>${x.fills}</td><td>${fmt(x.sharpePerDay)}</td><td>${fmt(x.avgSlippageBps)}</td><td>${fmt(x.fillRatio)}</td></tr>`)
    .join('');
  const di = pick(se.timeMs.length, MAX_DATA);
  const data = {
    metrics: m,
    params: r.run.params,
    series: { timeMs: di.map((i) => se.timeMs.at(i)), equity: di.map((i) => clean(se.equity.at(i))), position: di.map((i) => clean(se.position.at(i))), mid: di.map((i) => clean(se.mid.at(i))) },
    fills: fills.slice(0, MAX_DATA).map((x) => ({ t: x.t, price: x.p, side: x.side > 0 ? 'BUY' : 'SELL', qty: clean(x.q), maker: x.maker === 1 })),
  };
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>backtest: ${esc(m.strategy)} on ${esc(m.symbol)}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:20px;color:#222;max-width:940px}
h1{font-size:18px}h2{font-size:15px;margin-top:24px}
table{border-collapse:collapse}th,td{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}
svg text{font-size:10px;fill:#555}svg .title{font-size:11px;fill:#222}
.grid{stroke:#eee}.eq{fill:none;stroke:#1565c0;stroke-width:1.5}.dd{fill:none;stroke:#c62828;stroke-width:1}
.pos{fill:none;stroke:#6a1b9a;stroke-width:1.2}.px{fill:none;stroke:#555;stroke-width:1}
.buy{fill:#2e7d32}.sell{fill:#c62828}.maker{fill:#fff;stroke-width:1.2}.buy.maker{stroke:#2e7d32}.sell.maker{stroke:#c62828}
.up{fill:#2e7d32}.down{fill:#c62828}
</style></head><body>
<h1>Backtest: ${esc(m.strategy)} on ${esc(m.symbol)}</h1>
<p>${esc(new Date(m.startMs).toISOString())} to ${esc(new Date(m.endMs).toISOString())} (event time), seed ${m.seed}, queue model ${esc(m.queue)}.
Net PnL <b>${fmt(m.netPnl)}</b> after fees ${fmt(m.fees)}; ${m.trades} fills, ${m.roundTrips} round trips.</p>
<h2>Equity and drawdown</h2>${equityChart}
<h2>Position</h2>${positionChart}
<h2>Fills on the price</h2>${priceChart}
<h2>PnL by hour</h2>${hourChart}
<h2>Latency used</h2><table>${latencyRows}</table>
${sens ? `<h2>Latency sensitivity</h2><table><tr><th>latency</th><th>net PnL</th><th>fills</th><th>Sharpe/day</th><th>slippage bps</th><th>fill ratio</th></tr>${sens}</table>` : ''}
<h2>Metrics</h2><table>${metricRows}</table>
<h2>Parameters</h2><table>${Object.entries(r.run.params).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join('')}</table>
<script type="application/json" id="backtest-data">${json}</script>
</body></html>
`;
}

/** Writes report.html, fills.csv and metrics.json into `dir`; returns their paths. */
export function writeReport(dir: string, r: BacktestResult): { html: string; csv: string; metrics: string } {
  mkdirSync(dir, { recursive: true });
  const html = join(dir, 'report.html');
  const csv = join(dir, 'fills.csv');
  const metrics = join(dir, 'metrics.json');
  writeFileSync(html, reportHtml(r));
  writeFileSync(csv, fillsCsv(r));
  writeFileSync(metrics, JSON.stringify(r.metrics satisfies BacktestMetrics, null, 2) + '\n');
  return { html, csv, metrics };
}
