import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { ConfigError, DEFAULT_CONFIG, validateConfig, type EngineConfig } from '../src/config/Config.js';
import { Engine, type EngineReport } from '../src/engine/Engine.js';
import { WsClient } from '../src/net/WsClient.js';
import { BT, BookState, RecordType, headerType } from '../src/ring/layout.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { createLogger } from '../src/util/log.js';
import { parseArgs } from '../src/cli/args.js';
import { SIM_SOURCE_FLAGS, simSourceOptions } from '../src/cli/simSource.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quietLog = () => createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
/** The engine runs its workers and the simulator child from dist/. */
const BUILT = existsSync(join(PROJECT_ROOT, 'dist/src/sim/market/MirrorSource.js'));

function shadowConfig(real: BinanceVenueHandle, over: Record<string, unknown> = {}): EngineConfig {
  return validateConfig({
    ...DEFAULT_CONFIG,
    mode: 'shadow',
    venue: { ...DEFAULT_CONFIG.venue, embedded: true, restUrl: real.restUrl, wsUrl: real.wsUrl },
    symbols: SYMBOLS,
    strategy: { name: 'ping-pong', params: { symbol: 'BTCUSDT', quantity: 0.002, cooldownMs: 100, triggerPrice: 0, everyNTicks: 0 } },
    journal: { ...DEFAULT_CONFIG.journal, path: '' },
    control: { ...DEFAULT_CONFIG.control, enabled: false },
    stats: { intervalMs: 3_600_000 },
    ...over,
  });
}

describe('shadow mode config', () => {
  const real = { restUrl: 'https://fapi.example', wsUrl: 'wss://fstream.example' } as BinanceVenueHandle;

  it('takes the real venue URLs with the embedded simulator, and no credentials', () => {
    const cfg = shadowConfig(real);
    expect(cfg.mode).toBe('shadow');
    expect(cfg.venue.embedded).toBe(true);
  });

  it('refuses shadow without the embedded simulator, without the venue URLs, or with a WebSocket API URL', () => {
    expect(() => shadowConfig(real, { venue: { ...DEFAULT_CONFIG.venue, embedded: false, restUrl: real.restUrl, wsUrl: real.wsUrl } })).toThrow(/venue\.embedded.*shadow/);
    expect(() => shadowConfig(real, { venue: { ...DEFAULT_CONFIG.venue, embedded: true, restUrl: '', wsUrl: real.wsUrl } })).toThrow(ConfigError);
    expect(() => shadowConfig(real, { venue: { ...DEFAULT_CONFIG.venue, embedded: true, restUrl: real.restUrl, wsUrl: real.wsUrl, wsApiUrl: 'wss://ws-fapi.example/ws-fapi/v1' } })).toThrow(/wsApiUrl/);
  });
});

describe('hft sim --mirror REST WS: the venue options', () => {
  const parse = (argv: string[]): ReturnType<typeof parseArgs> => parseArgs(argv, [...SIM_SOURCE_FLAGS]);

  it('reads the two bases, the stream kinds and the routing', () => {
    expect(simSourceOptions(parse(['--mirror', 'https://fapi.example', 'wss://fstream.example']))).toEqual({
      source: { kind: 'mirror', restUrl: 'https://fapi.example', wsUrl: 'wss://fstream.example' },
    });
    expect(simSourceOptions(parse(['--symbols', 'BTCUSDT', '--mirror', 'http://127.0.0.1:1', 'ws://127.0.0.1:1', '--mirror-streams', 'bookTicker,depth@100ms', '--mirror-routing', 'legacy']))).toEqual({
      source: { kind: 'mirror', restUrl: 'http://127.0.0.1:1', wsUrl: 'ws://127.0.0.1:1', streams: ['bookTicker', 'depth@100ms'], routing: 'legacy' },
    });
  });

  it('refuses a missing or misplaced base, stray mirror options, a second source, and the gate dialect', () => {
    expect(() => simSourceOptions(parse(['--mirror', 'https://fapi.example']))).toThrow(/two values/);
    expect(() => simSourceOptions(parse(['--mirror', 'wss://fstream.example', 'https://fapi.example']))).toThrow(/REST base/);
    expect(() => simSourceOptions(parse(['--mirror', 'https://fapi.example', 'https://fstream.example']))).toThrow(/WebSocket base/);
    expect(() => simSourceOptions(parse(['--mirror-streams', 'bookTicker']))).toThrow(/go with --mirror/);
    expect(() => simSourceOptions(parse(['--mirror', 'https://fapi.example', 'wss://fstream.example', '--mirror-routing', 'sideways']))).toThrow(/split or legacy/);
    expect(() => simSourceOptions(parse(['--mirror', 'https://fapi.example', 'wss://fstream.example', '--mirror-streams', 'book ticker']))).toThrow(/stream kinds/);
    expect(() => simSourceOptions(parse(['--mirror', 'https://fapi.example', 'wss://fstream.example', '--source', 'x.jsonl']))).toThrow(/give one/);
    expect(() => simSourceOptions(parse(['--mirror', 'https://fapi.example', 'wss://fstream.example']), 'gate')).toThrow(/--venue binance/);
  });
});

describe.skipIf(!BUILT)('shadow mode: the engine trades on a mirror of a real venue', () => {
  let real: BinanceVenueHandle;
  /** Every bookTicker the real venue published while the engine ran: `SYMBOL:u` -> [bid, ask]. */
  const published = new Map<string, [number, number]>();
  let watcher: WsClient;

  beforeAll(async () => {
    real = await startBinanceVenue({ host: '127.0.0.1', port: 0, seed: 11, rate: 1000, symbols: SYMBOLS });
    // Our own subscriber at the real venue, connected before the engine: it sees whatever the mirror sees.
    const url = `${real.wsUrl}/stream?streams=${SYMBOLS.map((s) => `${s.toLowerCase()}@bookTicker`).join('/')}`;
    watcher = new WsClient(url, {
      onOpen: () => undefined,
      onMessage: (buf, start, end) => {
        const m = JSON.parse(buf.toString('utf8', start, end)) as { data?: { e?: string; s: string; u: number; b: string; a: string } };
        const d = m.data;
        if (d?.e === 'bookTicker') published.set(`${d.s}:${d.u}`, [Number(d.b), Number(d.a)]);
      },
      onClose: () => undefined,
    });
    watcher.connect();
    const end = Date.now() + 10_000;
    while (published.size === 0 && Date.now() < end) await sleep(10);
    expect(published.size).toBeGreaterThan(0);
  });

  afterAll(async () => {
    watcher?.close();
    await real?.close();
  });

  it('sees the venue prices, fills orders locally, and sends the venue nothing', async () => {
    const engine = new Engine(shadowConfig(real), quietLog());
    let report: EngineReport;
    try {
      await engine.start();
      const end = Date.now() + 25_000;
      for (;;) {
        await engine.flushStats();
        const r = engine.report();
        if (r.counters.fills >= 3 || Date.now() > end) break;
      }
      // Let the venue stand still so that the watcher has every frame the engine got.
      real.pause();
      await sleep(300);
    } finally {
      report = await engine.stop();
    }
    const c = report.counters;
    expect(c.fills).toBeGreaterThanOrEqual(3);
    expect(c.rejects).toBe(0);
    expect(c.decodeErrors).toBe(0);
    // the engine's book synced through the mirror (snapshot from the simulator, diffs the venue's)
    expect(report.workers.feed['book_BTCUSDT']).toBe(BookState.Live);
    expect(report.workers.feed['bid_BTCUSDT']).toBeLessThan(report.workers.feed['ask_BTCUSDT']!);

    // Every bookTicker the engine's feed put into ring A is one the real venue published, to the price.
    const ring = engine.ringForInspection('A')!;
    let matched = 0;
    const wrong: string[] = [];
    for (let slot = 0; slot < ring.capacity; slot++) {
      const base = slot * ring.slotWords;
      if (headerType(ring.i32[base * 2]!) !== RecordType.BookTicker) continue;
      const sym = SYMBOLS[ring.i32[base * 2 + 1]!]!;
      const u = ring.f64[base + BT.UPDATE_ID]!;
      const bid = ring.f64[base + BT.BID]!;
      const ask = ring.f64[base + BT.ASK]!;
      const p = published.get(`${sym}:${u}`);
      if (p === undefined || p[0] !== bid || p[1] !== ask) wrong.push(`${sym} u=${u} ${bid}/${ask} published ${p ? p.join('/') : 'never'}`);
      else matched++;
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(matched).toBeGreaterThan(10);

    // Orders never reached the real venue: its matching saw none, its account holds no fill.
    const rs = real.stats();
    expect(rs.orderRequests).toBe(0);
    expect(rs.wsApiRequests).toBe(0);
    expect(rs.ordersAccepted).toBe(0);
    expect(real.fills()).toHaveLength(0);
    // It did serve the mirror: exchangeInfo and depth snapshots over REST, streams over WebSocket.
    expect(rs.restRequests).toBeGreaterThanOrEqual(1 + SYMBOLS.length);
  }, 60_000);
});
