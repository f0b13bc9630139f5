import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from './helpers/fixtures.js';

const BIN = join(PROJECT_ROOT, 'bin/hft.js');
const BUILT = existsSync(join(PROJECT_ROOT, 'dist/workers/execution.js'));

describe.skipIf(!BUILT)('the whole engine on Gate.io (hft run --venue gate)', () => {
  it('feed, strategy and execution against the Gate simulator: orders placed, filled on the private channels, journaled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hft-gate-'));
    try {
      const summary = join(dir, 'summary.json');
      const env = {
        ...process.env,
        HFT_JOURNAL__PATH: join(dir, 'journal.sqlite'),
        HFT_CONTROL__PORT: '0',
        HFT_CONTROL__TOKENFILE: join(dir, 'token'),
        HFT_STRATEGY__PARAMS__COOLDOWNMS: '300',
      };
      const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(process.execPath, [BIN, 'run', '--config', 'config/default.json', '--venue', 'gate', '--duration', '4', '--summary', summary], { cwd: PROJECT_ROOT, env });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (out += d.toString()));
        p.on('exit', (code) => resolve({ code, out }));
      });
      expect(r.code, r.out.slice(-2000)).toBe(0);
      const s = JSON.parse(readFileSync(summary, 'utf8')) as { counters: Record<string, number>; workers: Record<string, Record<string, number>> };
      expect(s.counters.frames).toBeGreaterThan(100);
      expect(s.counters.decodeErrors).toBe(0);
      expect(s.counters.ordersSent).toBeGreaterThan(2);
      expect(s.counters.fills).toBe(s.counters.ordersSent);
      expect(s.counters.rejects).toBe(0);
      // the private channels reported the fills too, and the runner counted each once
      expect(s.workers.execution!['userStreamTrades']).toBeGreaterThan(0);
      expect(s.workers.strategy!['fills']).toBeGreaterThanOrEqual(s.counters.ordersSent);
      expect(r.out).toContain('market stream root open: ws://127.0.0.1');
      expect(r.out).toMatch(/\/v4\/ws\/usdt/);
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(join(dir, 'journal.sqlite'), { readonly: true });
      const fills = (db.prepare('SELECT COUNT(*) AS n FROM fills').get() as { n: number }).n;
      db.close();
      expect(fills).toBe(s.counters.ordersSent);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
