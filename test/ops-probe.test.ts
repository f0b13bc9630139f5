import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../src/cli/args.js';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { startGateVenue, type GateVenueHandle } from '../src/sim/gate/GateVenue.js';
import { formatProbeTable, isBookTickerFrame, parseTargets, percentile, probeCommand, rankResults, summarize, type ProbeResult } from '../src/ops/probe.js';

describe('probe: pure parts', () => {
  it('nearest-rank percentiles', () => {
    const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(s, 50)).toBe(5);
    expect(percentile(s, 90)).toBe(9);
    expect(percentile(s, 99)).toBe(10);
    expect(percentile([7], 50)).toBe(7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
    expect(summarize([3, 1, 2])).toEqual({ n: 3, p50: 2, p90: 3, p99: 3, min: 1, max: 3 });
    expect(summarize([], 'boom')).toEqual({ n: 0, error: 'boom' });
  });

  it('reads a targets file, inferring the venue from the REST base', () => {
    const t = parseTargets(JSON.stringify([
      { name: 'a', rest: 'https://fapi.example/', ws: 'wss://fstream.example' },
      { name: 'b', rest: 'http://127.0.0.1:9/api/v4', ws: 'ws://127.0.0.1:9/v4/ws/usdt', symbol: 'ETH_USDT' },
      { name: 'c', rest: 'http://h', ws: 'ws://h', venue: 'gate' },
    ]));
    expect(t).toEqual([
      { name: 'a', venue: 'binance', rest: 'https://fapi.example', ws: 'wss://fstream.example' },
      { name: 'b', venue: 'gate', rest: 'http://127.0.0.1:9/api/v4', ws: 'ws://127.0.0.1:9/v4/ws/usdt', symbol: 'ETH_USDT' },
      { name: 'c', venue: 'gate', rest: 'http://h', ws: 'ws://h' },
    ]);
    expect(parseTargets('[{"name":"x","rest":"http://h","ws":"ws://h"}]', 'gate')[0]!.venue).toBe('gate');
  });

  it('rejects malformed targets with the entry and field named', () => {
    expect(() => parseTargets('{}')).toThrow(UsageError);
    expect(() => parseTargets('[{"name":"x","rest":"ftp://h","ws":"ws://h"}]')).toThrow(/targets\[0\]\.rest/);
    expect(() => parseTargets('[{"name":"x","rest":"http://h","ws":"http://h"}]')).toThrow(/targets\[0\]\.ws/);
    expect(() => parseTargets('[{"name":"x","rest":"http://h","ws":"ws://h","venue":"okx"}]')).toThrow(/venue/);
    expect(() => parseTargets('not json')).toThrow(/not JSON/);
  });

  it('tells book-ticker frames from subscribe acknowledgements', () => {
    expect(isBookTickerFrame('binance', '{"result":null,"id":1}')).toBe(false);
    expect(isBookTickerFrame('binance', '{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}')).toBe(true);
    expect(isBookTickerFrame('gate', '{"time":1,"channel":"futures.book_ticker","event":"subscribe","result":{"status":"success"}}')).toBe(false);
    expect(isBookTickerFrame('gate', '{"time":1,"channel":"futures.book_ticker","event":"update","result":{"s":"BTC_USDT"}}')).toBe(true);
  });

  it('ranks by REST p50, unreachable last in input order', () => {
    const r = (name: string, p50?: number): ProbeResult => ({
      name,
      venue: 'binance',
      rest: 'http://h',
      ws: 'ws://h',
      restPath: '/fapi/v1/time',
      stages: { dns: { n: 0 }, tcp: { n: 0 }, tls: { n: 0 }, rest: p50 === undefined ? { n: 0, error: 'x' } : { n: 1, p50, p90: p50, p99: p50 }, wsOpen: { n: 0 }, wsFirst: { n: 0 } },
    });
    const ranked = rankResults([r('down1'), r('slow', 9), r('fast', 1), r('down2')]);
    expect(ranked.map((x) => x.name)).toEqual(['fast', 'slow', 'down1', 'down2']);
    const table = formatProbeTable(ranked, 1);
    expect(table.split('\n')[2]).toMatch(/^1\s+fast/);
  });
});

describe('probe against the simulators on 127.0.0.1', () => {
  let binance: BinanceVenueHandle;
  let gate: GateVenueHandle;
  let refused: Server;
  let refusedPort = 0;
  let dir: string;

  beforeAll(async () => {
    binance = await startBinanceVenue({ host: '127.0.0.1', port: 0, rate: 2000 });
    gate = await startGateVenue({ host: '127.0.0.1', port: 0, tickIntervalMs: 2 });
    // a port known to be closed: bind one, note it, close it
    refused = createServer();
    await new Promise<void>((r) => refused.listen(0, '127.0.0.1', () => r()));
    refusedPort = (refused.address() as { port: number }).port;
    await new Promise<void>((r) => refused.close(() => r()));
    dir = mkdtempSync(join(tmpdir(), 'ops-probe-'));
  });

  afterAll(async () => {
    await binance?.close();
    await gate?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function runProbe(args: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    });
    try {
      const code = await probeCommand(args);
      return { code, out };
    } finally {
      spy.mockRestore();
    }
  }

  it('measures every stage on both dialects and reports the dead endpoint with its error', async () => {
    const file = join(dir, 'targets.json');
    writeFileSync(
      file,
      JSON.stringify([
        { name: 'dead', rest: `http://127.0.0.1:${refusedPort}`, ws: `ws://127.0.0.1:${refusedPort}` },
        { name: 'sim-binance', rest: binance.restUrl, ws: binance.wsUrl },
        { name: 'sim-gate', venue: 'gate', rest: gate.restUrl, ws: gate.wsUrl },
      ]),
    );
    const { code, out } = await runProbe(['--targets', file, '--samples', '3', '--timeout', '3000', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { samples: number; unit: string; results: ProbeResult[] };
    expect(report.samples).toBe(3);
    expect(report.unit).toBe('ms');
    expect(report.results).toHaveLength(3);
    expect(report.results[2]!.name).toBe('dead');

    const byName = new Map(report.results.map((r) => [r.name, r]));
    for (const name of ['sim-binance', 'sim-gate']) {
      const r = byName.get(name)!;
      expect(r.error, name).toBeUndefined();
      for (const stage of ['dns', 'tcp', 'rest', 'wsOpen', 'wsFirst'] as const) {
        const s = r.stages[stage];
        expect(s.n, `${name} ${stage}`).toBe(3);
        expect(s.p50!).toBeGreaterThanOrEqual(0);
        expect(s.p50!).toBeLessThanOrEqual(s.p90!);
        expect(s.p90!).toBeLessThanOrEqual(s.p99!);
        expect(s.min!).toBeLessThanOrEqual(s.p50!);
        expect(s.max!).toBe(s.p99!);
      }
      expect(r.stages.tls).toEqual({ n: 0, error: 'n/a (http)' });
    }
    expect(byName.get('sim-binance')!.restPath).toBe('/fapi/v1/time');
    // the simulator has no spot API: the probe falls back to the futures contracts list
    expect(byName.get('sim-gate')!.restPath).toBe('/api/v4/futures/usdt/contracts');

    const dead = byName.get('dead')!;
    expect(dead.error).toMatch(/ECONNREFUSED/);
    expect(dead.stages.rest.n).toBe(0);
    expect(dead.stages.rest.error).toMatch(/^skipped: tcp/);
    expect(dead.stages.wsOpen.n).toBe(0);
    expect(dead.stages.wsOpen.error).toBeTruthy();
    // ranking: the reachable ones come first, ordered by REST p50
    expect(report.results[0]!.stages.rest.p50!).toBeLessThanOrEqual(report.results[1]!.stages.rest.p50!);
  });

  it('prints the ranked table, and exits 1 when nothing answered', async () => {
    const ok = join(dir, 'one.json');
    writeFileSync(ok, JSON.stringify([{ name: 'sim-binance', rest: binance.restUrl, ws: binance.wsUrl }]));
    const table = await runProbe(['--targets', ok, '--samples', '2']);
    expect(table.code).toBe(0);
    const lines = table.out.trim().split('\n');
    expect(lines[1]).toMatch(/^#\s+endpoint\s+venue\s+REST p50\s+p90\s+p99/);
    expect(lines[2]).toMatch(/^1\s+sim-binance\s+binance\s+\d+\.\d+/);

    const none = join(dir, 'none.json');
    writeFileSync(none, JSON.stringify([{ name: 'dead', rest: `http://127.0.0.1:${refusedPort}`, ws: `ws://127.0.0.1:${refusedPort}` }]));
    const down = await runProbe(['--targets', none, '--samples', '1']);
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/dead .*ECONNREFUSED/);
  });

  it('refuses bad options as usage errors', async () => {
    await expect(probeCommand(['--venue', 'okx'])).rejects.toThrow(UsageError);
    await expect(probeCommand(['--samples', '0'])).rejects.toThrow(/--samples/);
    await expect(probeCommand(['--targets', join(dir, 'missing.json')])).rejects.toThrow(/cannot read/);
    await expect(probeCommand(['--bogus', '1'])).rejects.toThrow(/unknown option --bogus/);
  });
});
