import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweepCli } from '../src/backtest/sweep.js';
import { PROJECT_ROOT } from './helpers/fixtures.js';

const TINY = join(PROJECT_ROOT, 'test/fixtures/backtest/tiny.jsonl');
const WORKER = join(PROJECT_ROOT, 'dist/workers/backtest.js');
const ARGS = ['--data', TINY, '--strategy', 'ping-pong', '--risk', 'off', '--sample-ms', '100', '--grid', 'quantity=0.8,0.5', '--grid', 'everyNTicks=2,3', '--workers', '2', '--sort', 'netPnl'];

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await runSweepCli(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Hand-computed (see backtest-known-answer.test.ts for the book): everyNTicks 2 buys at t=.4 walking the asks
 * and sells at 100.5 at t=.7; everyNTicks 3 buys at 100.6 at t=.6 and is left open, marked at mid 100.55.
 *   q 0.8, n 2: 0.29 - 0.080255 = 0.209745
 *   q 0.5, n 2: buy 0.5 @ 100.1 (fee 0.025025), sell @ 100.5 (fee 0.025125): 0.2 - 0.05015 = 0.14985
 *   q 0.5, n 3: -0.05 x 0.5 - 0.5 x 100.6 x 0.0005 = -0.025 - 0.02515 = -0.05015
 *   q 0.8, n 3: -0.04 - 0.04024 = -0.08024
 */
const EXPECTED = [
  [0.8, 2, 0.209745],
  [0.5, 2, 0.14985],
  [0.5, 3, -0.05015],
  [0.8, 3, -0.08024],
];

describe.skipIf(!existsSync(WORKER))('hft sweep (2 workers)', () => {
  it('runs the grid, sorts by the metric, writes CSV/JSON, and resumes after an interruption', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bt-sweep-'));
    dirs.push(dir);
    const first = await cli([...ARGS, '--out', dir, '--json']);
    expect(first.code).toBe(0);
    const rows = JSON.parse(first.out) as Array<{ params: { quantity: number; everyNTicks: number }; metrics: { netPnl: number } }>;
    expect(rows.map((r) => [r.params.quantity, r.params.everyNTicks, r.metrics.netPnl])).toEqual(EXPECTED);
    expect(first.err).toMatch(/4\/4 done, elapsed \d+s, ETA \d+s/);
    const csv = readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0]!.startsWith('quantity,everyNTicks,')).toBe(true);
    expect(csv[1]!.startsWith('0.8,2,')).toBe(true);
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { sort: string; results: unknown[] };
    expect(json.sort).toBe('netPnl');
    expect(json.results).toHaveLength(4);

    // interrupted after two combinations, the third line half written
    const log = join(dir, 'results.jsonl');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    writeFileSync(log, lines[0] + '\n' + lines[1] + '\n' + lines[2]!.slice(0, 40));
    const again = await cli([...ARGS, '--out', dir, '--json', '--resume']);
    expect(again.code).toBe(0);
    expect(again.err).toContain('4 combinations, 2 already done, 2 to run');
    const rows2 = JSON.parse(again.out) as Array<{ params: { quantity: number; everyNTicks: number }; metrics: { netPnl: number } }>;
    expect(rows2.map((r) => [r.params.quantity, r.params.everyNTicks, r.metrics.netPnl])).toEqual(EXPECTED);
    // nothing left: a second resume runs nothing
    const third = await cli([...ARGS, '--out', dir, '--resume']);
    expect(third.err).toContain('4 combinations, 4 already done, 0 to run');
    expect(third.out.split('\n')[1]).toMatch(/^\s*1\s+0.8\s+2\s+0.209745/);
  }, 60_000);
});

if (!existsSync(WORKER)) it.skip(`${WORKER} is missing (npm run build): skipping the sweep test`, () => {});
