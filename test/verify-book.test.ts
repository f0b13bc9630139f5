import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HAVE_SHARED_FIXTURES, NO_FIXTURES_MESSAGE, PROJECT_ROOT, fixturePath } from './helpers/fixtures.js';

interface SymbolResult {
  applied: number;
  gaps: number;
  resyncs: number;
  checks: number;
  mismatches: number;
}

const BIN = join(PROJECT_ROOT, 'bin/hft.js');
const BUILT = join(PROJECT_ROOT, 'dist/src/cli/verifyBook.js');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs verify-book and parses its one JSON line. */
async function verify(file: string): Promise<{ code: number | null; symbols: Record<string, SymbolResult>; stderr: string }> {
  expect(existsSync(BUILT), `${BUILT} is missing: build first (npm test runs tsc before vitest)`).toBe(true);
  const r = await run(['verify-book', file]);
  const lines = r.stdout.trim().split('\n');
  expect(lines.length, r.stdout + r.stderr).toBe(1);
  const out = JSON.parse(lines[0]!) as { symbols: Record<string, SymbolResult> };
  expect(Object.keys(out)).toEqual(['symbols']);
  for (const s of Object.values(out.symbols)) expect(Object.keys(s)).toEqual(['applied', 'gaps', 'resyncs', 'checks', 'mismatches']);
  return { code: r.code, symbols: out.symbols, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'hft-verify-book-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------ a small recording of our own

const URL = 'wss://fstream.binance.com/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms';
const ws = (ts: number, data: string, stream: string): string => `{"ts":${ts},"src":"ws","url":"${URL}","msg":{"stream":"${stream}","data":${data}}}`;
const depth = (ts: number, U: number, u: number, pu: number, b: string, a: string): string =>
  ws(ts, `{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":${U},"u":${u},"pu":${pu},"b":${b},"a":${a}}`, 'btcusdt@depth@100ms');
const ticker = (ts: number, u: number, b: string, B: string, a: string, A: string): string =>
  ws(ts, `{"e":"bookTicker","u":${u},"s":"BTCUSDT","b":"${b}","B":"${B}","a":"${a}","A":"${A}","T":1,"E":1}`, 'btcusdt@bookTicker');

function ownRecording(askQtyAt40 = '2.000'): string {
  return [
    `{"ts":1.0,"src":"connect","url":"${URL}","msg":null}`,
    depth(1.1, 1, 9, 0, '[["100.0","1"]]', '[]'), // older than the snapshot: dropped
    depth(1.2, 10, 20, 9, '[["100.0","3"]]', '[["100.5","0"]]'), // straddles lastUpdateId 15
    `{"ts":1.25,"src":"rest","url":"https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000","msg":{"lastUpdateId":15,"E":1,"T":1,"bids":[["100.0","2"],["99.9","5"]],"asks":[["100.5","1"],["100.6","4"]]}}`,
    ticker(1.3, 30, '100.0', '3', '100.6', '4'), // arrives before the depth event with u 30, as on the venue
    depth(1.35, 21, 30, 20, '[]', '[]'),
    ticker(1.36, 30, '100.0', '3', '100.6', '4'), // and one after it
    ticker(1.37, 35, '100.1', '1', '100.6', '4'), // no depth event ends at 35: not a check
    ticker(1.4, 40, '100.1', '7', '100.2', askQtyAt40),
    depth(1.45, 31, 40, 30, '[["100.1","7"]]', '[["100.2","2.0"]]'),
  ].join('\n') + '\n';
}

describe('hft verify-book', () => {
  it('on a small recording: buffers until the snapshot, checks bookTickers with the same u, exit 0', async () => {
    const file = join(tmp, 'own.jsonl');
    writeFileSync(file, ownRecording());
    const r = await verify(file);
    expect(r.symbols).toEqual({ BTCUSDT: { applied: 3, gaps: 0, resyncs: 0, checks: 3, mismatches: 0 } });
    expect(r.code).toBe(0);
  });

  it('a bookTicker that disagrees with the book is a mismatch: exit 1', async () => {
    const file = join(tmp, 'own-mismatch.jsonl');
    writeFileSync(file, ownRecording('2.001'));
    const r = await verify(file);
    expect(r.symbols.BTCUSDT).toEqual({ applied: 3, gaps: 0, resyncs: 0, checks: 3, mismatches: 1 });
    expect(r.code).toBe(1);
  });

  it('is listed in --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+verify-book FILE\s+Replay a recording/m);
  });

  it('no FILE is a usage error (exit 2)', async () => {
    const r = await run(['verify-book']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/verify-book/);
  });
});

// ------------------------------------------------------------------ the shared recordings

const RECORDINGS = {
  '2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl': { BATUSDT: 887, CHRUSDT: 777, CTKUSDT: 927, NEOUSDT: 944, SANDUSDT: 888 },
  '2021-07-22_SUSHI-AKRO-KEEP-CTK.jsonl': null, // counted from the file below
} as const;

/**
 * The slow obvious way, from JSON.parse of every line: depth events per symbol, and the checks to expect:
 * bookTickers whose u equals the u of a depth event that the book applies (u >= the symbol's snapshot id).
 */
function expectations(file: string): { counts: Record<string, number>; checks: Record<string, number> } {
  const counts: Record<string, number> = {};
  const snapId: Record<string, number> = {};
  const depthU: Record<string, Set<number>> = {};
  const tickerU: Record<string, number[]> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const o = JSON.parse(line) as { src: string; url: string; msg: { lastUpdateId?: number; data?: { e: string; s: string; u: number } } };
    if (o.src === 'rest') snapId[/symbol=([A-Z0-9]+)/.exec(o.url)![1]!] = o.msg.lastUpdateId!;
    const d = o.src === 'ws' ? o.msg.data : undefined;
    if (d?.e === 'depthUpdate') {
      counts[d.s] = (counts[d.s] ?? 0) + 1;
      (depthU[d.s] ??= new Set()).add(d.u);
    } else if (d?.e === 'bookTicker') (tickerU[d.s] ??= []).push(d.u);
  }
  const checks: Record<string, number> = {};
  for (const sym of Object.keys(counts)) {
    checks[sym] = (tickerU[sym] ?? []).filter((u) => u >= snapId[sym]! && depthU[sym]!.has(u)).length;
  }
  return { counts, checks };
}

describe.skipIf(!HAVE_SHARED_FIXTURES)('hft verify-book on the shared Binance recordings', () => {
  for (const [name, manifestCounts] of Object.entries(RECORDINGS)) {
    it(`${name}: no gap, no mismatch, checks on every symbol`, async () => {
      const file = fixturePath(`recordings/binance-usdm/${name}`);
      const { counts, checks } = expectations(file);
      if (manifestCounts !== null) expect(counts).toEqual(manifestCounts);
      const r = await verify(file);
      expect(Object.keys(r.symbols).sort()).toEqual(Object.keys(counts).sort());
      for (const [sym, s] of Object.entries(r.symbols)) {
        expect(s.gaps, sym).toBe(0);
        expect(s.resyncs, sym).toBe(0);
        expect(s.mismatches, sym).toBe(0);
        expect(s.checks, sym).toBeGreaterThan(0);
        expect(s.checks, sym).toBe(checks[sym]);
        // every depth event but the 1..9 that predate the symbol's snapshot
        expect(s.applied, sym).toBeLessThanOrEqual(counts[sym]! - 1);
        expect(s.applied, sym).toBeGreaterThanOrEqual(counts[sym]! - 9);
      }
      expect(r.code).toBe(0);
    });
  }

  it('a recording with one depth line deleted shows the gap and a resync, and fails', async () => {
    const src = fixturePath('recordings/binance-usdm/2021-07-22_SUSHI-AKRO-KEEP-CTK.jsonl');
    const lines = readFileSync(src, 'utf8').split('\n');
    const sushiDepth = lines.map((l, i) => (l.includes('"stream":"sushiusdt@depth') ? i : -1)).filter((i) => i >= 0);
    lines.splice(sushiDepth[100]!, 1); // well after the snapshot
    const file = join(tmp, 'corrupt.jsonl');
    writeFileSync(file, lines.join('\n'));
    const r = await verify(file);
    expect(r.code).toBe(1);
    const s = r.symbols.SUSHIUSDT!;
    expect(s.gaps).toBeGreaterThanOrEqual(1);
    expect(s.resyncs).toBeGreaterThanOrEqual(1);
    expect(s.mismatches).toBe(0);
    expect(s.applied).toBeLessThan(sushiDepth.length - 9); // the book stops at the gap (no second snapshot)
    for (const sym of ['AKROUSDT', 'KEEPUSDT', 'CTKUSDT']) expect(r.symbols[sym]!.gaps, sym).toBe(0);
  });
});

if (!HAVE_SHARED_FIXTURES) {
  describe('verify-book on recorded fixtures', () => {
    it.skip(NO_FIXTURES_MESSAGE, () => {});
  });
}
