import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { UsageError, flag, num, only, parseArgs, str } from '../cli/args.js';
import { ConfigError } from '../config/ConfigError.js';
import { Rng } from '../sim/rng.js';
import { listStrategies, type ParamValue } from '../strategy/registry.js';
import { PROJECT_ROOT } from '../util/paths.js';
import { resolveInstrumentRules } from './Backtester.js';
import { SORTABLE_METRICS, type BacktestMetrics } from './metrics.js';
import { COMMON_HELP, COMMON_OPTIONS, configFromArgs, paramValue } from './options.js';
import type { SweepTask } from './sweepTask.js';

export const SWEEP_HELP = `  sweep    Run a strategy's backtest over a parameter grid or random draws on a worker pool
${COMMON_HELP.replace(/^/gm, '         ').trimEnd()}
             --grid k=a,b,c       values of one parameter (repeatable: the cartesian product)
             --random N --range k=lo:hi   N seeded draws, uniform in each range (integers rounded)
             --workers N          worker threads (default: one per core)
             --sort METRIC        results order (default netPnl; ${Object.keys(SORTABLE_METRICS).join(', ')})
             --resume             skip the combinations already in --out/results.jsonl
             --json               print the sorted results as JSON instead of a table
           With --out: results.jsonl (appended per combination), results.csv, results.json
`;

export interface SweepRow {
  key: string;
  params: Record<string, ParamValue>;
  metrics: BacktestMetrics;
}

/** Stable key of a combination (sorted parameter names). */
export function comboKey(params: Record<string, ParamValue>): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
}

/** The cartesian product of `--grid k=a,b,c` values. */
export function gridCombos(strategy: string, grids: readonly string[]): Array<Record<string, ParamValue>> {
  let combos: Array<Record<string, ParamValue>> = [{}];
  for (const g of grids) {
    const eq = g.indexOf('=');
    if (eq <= 0) throw new UsageError(`--grid needs k=a,b,c; got ${JSON.stringify(g)}`);
    const k = g.slice(0, eq);
    const values = g.slice(eq + 1).split(',').filter((v) => v !== '').map((v) => paramValue(strategy, k, v));
    if (values.length === 0) throw new UsageError(`--grid ${k}: no values`);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  }
  return combos;
}

/** `n` seeded draws of `--range k=lo:hi` (integer parameters rounded; duplicates dropped). */
export function randomCombos(strategy: string, ranges: readonly string[], n: number, seed: number): Array<Record<string, ParamValue>> {
  const def = listStrategies().find((s) => s.name === strategy);
  const specs = ranges.map((r) => {
    const m = /^([^=]+)=([^:]+):(.+)$/.exec(r);
    if (!m) throw new UsageError(`--range needs k=lo:hi; got ${JSON.stringify(r)}`);
    const lo = Number(m[2]);
    const hi = Number(m[3]);
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) throw new UsageError(`--range ${m[1]}: lo and hi must be numbers with lo <= hi`);
    const type = def?.params.find((p) => p.name === m[1])?.type;
    if (type !== 'number' && type !== 'integer') throw new UsageError(`--range ${m[1]}: not a numeric parameter of ${strategy}`);
    return { k: m[1]!, lo, hi, int: type === 'integer' };
  });
  if (specs.length === 0) throw new UsageError('--random needs at least one --range k=lo:hi');
  const rng = new Rng(seed ^ 0x5a5a);
  const seen = new Set<string>();
  const out: Array<Record<string, ParamValue>> = [];
  for (let i = 0; i < n; i++) {
    const c: Record<string, ParamValue> = {};
    for (const s of specs) {
      const v = rng.range(s.lo, s.hi);
      c[s.k] = s.int ? Math.round(v) : Number(v.toPrecision(6));
    }
    const key = comboKey(c);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

/** Results best first by `metric`. */
export function sortRows(rows: SweepRow[], metric: string): SweepRow[] {
  const dir = SORTABLE_METRICS[metric] === 'min' ? 1 : -1;
  const val = (r: SweepRow): number => {
    const v = (r.metrics as unknown as Record<string, unknown>)[metric];
    return typeof v === 'number' && Number.isFinite(v) ? v : dir > 0 ? Infinity : -Infinity;
  };
  return [...rows].sort((a, b) => dir * (val(a) - val(b)) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const TABLE_METRICS = ['netPnl', 'fees', 'sharpePerDay', 'maxDrawdown', 'winRate', 'trades', 'fillRatio', 'makerShare'] as const;

function csvCell(v: unknown): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function rowsCsv(rows: SweepRow[], paramNames: string[]): string {
  const metricNames = Object.keys(rows[0]?.metrics ?? {}).filter((k) => typeof (rows[0]!.metrics as unknown as Record<string, unknown>)[k] !== 'object');
  const lines = [[...paramNames, ...metricNames].join(',')];
  for (const r of rows) lines.push([...paramNames.map((p) => csvCell(r.params[p])), ...metricNames.map((m) => csvCell((r.metrics as unknown as Record<string, unknown>)[m]))].join(','));
  return lines.join('\n') + '\n';
}

function table(rows: SweepRow[], paramNames: string[]): string {
  const head = ['#', ...paramNames, ...TABLE_METRICS];
  const body = rows.map((r, i) => [String(i + 1), ...paramNames.map((p) => String(r.params[p])), ...TABLE_METRICS.map((m) => String(r.metrics[m]))]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]): string => cells.map((x, c) => x.padStart(widths[c]!)).join('  ');
  return [line(head), ...body.map(line)].join('\n') + '\n';
}

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The compiled worker entry (workers run from dist/, like the engine's). */
export function sweepWorkerFile(): string {
  const f = join(PROJECT_ROOT, 'dist', 'workers', 'backtest.js');
  if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
  return f;
}

/** `hft sweep ...`: exit code 0 on success, 2 on a usage error. */
export async function runSweepCli(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv, ['resume', 'json']);
    only(args, [...COMMON_OPTIONS, 'grid', 'random', 'range', 'workers', 'sort', 'resume', 'json'], 'sweep');
    const config = configFromArgs(args, 'sweep');
    const grids = args.options.get('grid') ?? [];
    const random = num(args, 'random', { min: 1, max: 1e6, int: true });
    if ((grids.length > 0) === (random !== undefined)) throw new UsageError('hft sweep: give either --grid k=a,b,c ... or --random N --range k=lo:hi ...');
    const combos = random !== undefined ? randomCombos(config.strategy, args.options.get('range') ?? [], random, config.seed) : gridCombos(config.strategy, grids);
    const sort = str(args, 'sort') ?? 'netPnl';
    if (!(sort in SORTABLE_METRICS)) throw new UsageError(`--sort must be one of ${Object.keys(SORTABLE_METRICS).join(', ')}; got ${JSON.stringify(sort)}`);
    const workers = num(args, 'workers', { min: 1, max: 256, int: true }) ?? availableParallelism();
    const out = str(args, 'out');
    const resume = flag(args, 'resume');
    if (resume && out === undefined) throw new UsageError('hft sweep: --resume needs --out DIR');
    const paramNames = [...new Set(combos.flatMap((c) => Object.keys(c)))];

    // derived once here, not per combination in every worker
    config.instruments = resolveInstrumentRules(config.files, config.instruments);
    const rows: SweepRow[] = [];
    const done = new Set<string>();
    const log = out !== undefined ? join(out, 'results.jsonl') : null;
    if (out !== undefined) mkdirSync(out, { recursive: true });
    if (log !== null && resume && existsSync(log)) {
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          const r = JSON.parse(line) as SweepRow;
          if (!done.has(r.key)) rows.push(r);
          done.add(r.key);
        } catch {
          // a line cut short by the interruption: that combination runs again
        }
      }
      // rewritten without the cut line, so the next appended result starts on a line of its own
      writeFileSync(log, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    } else if (log !== null) writeFileSync(log, '');
    const todo = combos.filter((c) => !done.has(comboKey(c)));
    const total = todo.length;
    process.stderr.write(`hft sweep: ${combos.length} combinations, ${combos.length - total} already done, ${total} to run on ${workers} worker${workers > 1 ? 's' : ''}\n`);
    const started = Date.now();
    let finished = 0;
    const progress = (): void => {
      const el = Date.now() - started;
      const eta = finished > 0 ? (el / finished) * (total - finished) : NaN;
      process.stderr.write(`\rhft sweep: ${finished}/${total} done, elapsed ${duration(el)}, ETA ${duration(eta)}   `);
    };
    if (total > 0) {
      const pool = new Piscina<SweepTask, BacktestMetrics>({ filename: sweepWorkerFile(), minThreads: workers, maxThreads: workers, idleTimeout: 1000 });
      const base: SweepTask['config'] = { ...config };
      delete (base as { onIntent?: unknown }).onIntent;
      delete (base as { onReport?: unknown }).onReport;
      try {
        progress();
        await Promise.all(
          todo.map(async (params) => {
            const metrics = await pool.run({ config: base, params });
            const row: SweepRow = { key: comboKey(params), params, metrics };
            rows.push(row);
            // one line per finished combination: an interrupted sweep resumes from here
            if (log !== null) appendFileSync(log, JSON.stringify(row) + '\n');
            finished++;
            progress();
          }),
        );
      } finally {
        await pool.destroy();
        process.stderr.write('\n');
      }
    }
    const sorted = sortRows(rows, sort);
    if (out !== undefined) {
      writeFileSync(join(out, 'results.csv'), rowsCsv(sorted, paramNames));
      writeFileSync(join(out, 'results.json'), JSON.stringify({ strategy: config.strategy, sort, results: sorted.map((r) => ({ params: r.params, metrics: r.metrics })) }, null, 2) + '\n');
    }
    if (flag(args, 'json')) process.stdout.write(JSON.stringify(sorted.map((r) => ({ params: r.params, metrics: r.metrics }))) + '\n');
    else process.stdout.write(table(sorted, paramNames));
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`\nhft sweep: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
