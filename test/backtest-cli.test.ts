import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runBacktestCli } from '../src/backtest/cli.js';
import { PROJECT_ROOT } from './helpers/fixtures.js';

const TINY = join(PROJECT_ROOT, 'test/fixtures/backtest/tiny.jsonl');
/** the known-answer run (see backtest-known-answer.test.ts for the hand computation) */
const ARGS = ['--data', TINY, '--strategy', 'ping-pong', '--param', 'quantity=0.8', '--param', 'everyNTicks=2', '--risk', 'off', '--sample-ms', '100'];

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await runBacktestCli(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('hft backtest CLI', () => {
  it('--json prints the metrics as one JSON object, with the latency sensitivity runs', async () => {
    const r = await cli([...ARGS, '--json']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const m = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(m['netPnl']).toBeCloseTo(0.209745, 9);
    expect(m['fees']).toBeCloseTo(0.080255, 9);
    expect(m['trades']).toBe(3);
    // no latency configured: 0.5x and 2x of nothing are the same run
    expect((m['latencySensitivity'] as Array<{ scale: number; netPnl: number }>).map((x) => [x.scale, x.netPnl])).toEqual([
      [0.5, 0.209745],
      [1, 0.209745],
      [2, 0.209745],
    ]);
  });

  it('--out writes a self-contained report with the data embedded, fills.csv and a journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bt-cli-'));
    dirs.push(dir);
    const r = await cli([...ARGS, '--latency', 'order=150ms', '--out', dir, '--no-sensitivity']);
    expect(r.code).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain('<svg');
    const json = /<script type="application\/json" id="backtest-data">(.*?)<\/script>/s.exec(html);
    expect(json).not.toBeNull();
    const data = JSON.parse(json![1]!) as { metrics: { trades: number; latency: Record<string, string> }; fills: Array<{ price: number; side: string }>; series: { equity: number[] } };
    // the buy meets the book after the depth update (150 ms order path): 0.8 @ 100.6, then the sell at 100.5
    expect(data.fills.map((f) => [f.side, f.price])).toEqual([
      ['BUY', 100.6],
      ['SELL', 100.5],
    ]);
    expect(data.metrics.latency['order']).toBe('const 150ms');
    expect(html).toContain('const 150ms');
    expect(data.series.equity.length).toBeGreaterThan(3);
    const csv = readFileSync(join(dir, 'fills.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[1]).toContain(',BUY,MARKET,0.8,100.6,');
    expect(existsSync(join(dir, 'journal.sqlite'))).toBe(true);
    const db = new Database(join(dir, 'journal.sqlite'), { readonly: true });
    try {
      expect((db.prepare('SELECT COUNT(*) AS n FROM fills').get() as { n: number }).n).toBe(2);
    } finally {
      db.close();
    }
  });

  it('usage errors exit 2 with a message', async () => {
    const r = await cli(['--data', TINY, '--strategy', 'no-such-strategy']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--strategy must be one of');
    const q = await cli([...ARGS, '--queue', 'fifo']);
    expect(q.code).toBe(2);
    expect(q.err).toContain('--queue must be one of risk-averse, probabilistic, none');
  });
});
