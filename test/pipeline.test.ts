import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import uWS from 'uWebSockets.js';
import { startBinanceVenue } from '../src/sim/binance/BinanceVenue.js';
import { DEFAULT_CONFIG, validateConfig } from '../src/config/Config.js';
import { Engine, fetchVenueSymbols } from '../src/engine/Engine.js';
import { RateBudget } from '../src/venues/binance/RateBudget.js';
import { createLogger } from '../src/util/log.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { FeedHandler } from '../src/feed/FeedHandler.js';
import { OrderGateway } from '../src/exec/OrderGateway.js';
import { BinanceOrderEncoder } from '../src/venues/binance/OrderEncoder.js';
import { ExecReportView } from '../src/strategy/views.js';
import { AT, BT, ExecType, IN, IntentFlag, OrderStatus, OrderType, RecordType, Side, W, headerType, packHeader, MARKET_SLOT_BYTES, INTENT_SLOT_BYTES, REPORT_SLOT_BYTES } from '../src/ring/layout.js';
import { nowNs } from '../src/util/clock.js';
import { PROJECT_ROOT } from './helpers/fixtures.js';
import { sleep, until } from './helpers/wait.js';

type Venue = Awaited<ReturnType<typeof startBinanceVenue>>;
const quietLog = () => createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

describe('feed worker core against a scripted WebSocket server', () => {
  let listen: uWS.us_listen_socket | false = false;
  let port = 0;
  const sockets = new Set<uWS.WebSocket<unknown>>();
  const script = [
    '{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"100.10","B":"1.5","a":"100.20","A":"2","T":1,"E":2}}',
    '{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":2,"s":"BTCUSDT","b":"100.1', // truncated
    'this is not json at all',
    '{"result":null,"id":1}', // subscription reply: ignored
    '{"stream":"xyzusdt@aggTrade","data":{"e":"aggTrade","E":3,"a":5,"s":"XYZUSDT","p":"1","q":"1","f":1,"l":1,"T":3,"m":true}}',
    '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":3,"a":5,"s":"BTCUSDT","p":"100.15","q":"0.25","f":1,"l":1,"T":3,"m":true}}',
  ];

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      uWS.App()
        .ws('/*', {
          open: (ws) => {
            sockets.add(ws);
            for (const m of script) ws.send(m, false);
          },
          close: (ws) => void sockets.delete(ws),
        })
        .listen('127.0.0.1', 0, (s) => {
          listen = s;
          port = uWS.us_socket_local_port(s);
          resolve();
        });
    });
  });
  afterAll(() => {
    if (listen) uWS.us_listen_socket_close(listen);
    for (const s of sockets) s.close();
  });

  it('decodes good frames, counts and skips bad ones, never crashes, and reconnects after the venue drops the socket', async () => {
    const ring = SpscRing.create('A', 1024, MARKET_SLOT_BYTES);
    const feed = new FeedHandler(new SymbolRegistry(['BTCUSDT']), ring, {
      ...DEFAULT_CONFIG.feed,
      wsBase: `ws://127.0.0.1:${port}`,
      restUrl: `http://127.0.0.1:${port}`,
      symbols: ['BTCUSDT'],
      streams: ['bookTicker'],
      routing: 'legacy',
      reconnect: { initialMs: 20, maxMs: 200, jitter: 0.3 },
      book: DEFAULT_CONFIG.book,
    });
    feed.start();
    const dataFrames = script.length - 1; // the subscription reply goes to the subscription manager
    try {
      await until(() => feed.counters().frames >= dataFrames, 5000, 'first batch of frames');
      let c = feed.counters();
      expect(c).toMatchObject({ frames: 5, records: 2, decodeErrors: 2, ignored: 0, unknownSymbol: 1, connects: 1, controlReplies: 1 });
      const n = ring.poll();
      expect(n).toBe(2);
      const b0 = ring.readBase(0);
      expect(headerType(ring.i32[b0 * 2]!)).toBe(RecordType.BookTicker);
      expect(ring.f64[b0 + BT.BID]).toBe(100.1);
      expect(ring.f64[b0 + W.PUB_TS]).toBeGreaterThanOrEqual(ring.f64[b0 + W.RECV_TS]!);
      const b1 = ring.readBase(1);
      expect(headerType(ring.i32[b1 * 2]!)).toBe(RecordType.AggTrade);
      expect(ring.f64[b1 + AT.QTY]).toBe(0.25);
      ring.release(n);
      // The venue kills the connection: the feed reconnects with backoff and the frames flow again.
      for (const s of [...sockets]) s.end(1001, 'going away');
      await until(() => feed.counters().connects >= 2 && feed.counters().frames >= 2 * dataFrames, 5000, 'reconnect');
      c = feed.counters();
      expect(c.reconnects).toBeGreaterThanOrEqual(1);
      expect(c.disconnects).toBeGreaterThanOrEqual(1);
      expect(c.records).toBe(4);
    } finally {
      feed.stop();
    }
  });
});

describe('against the venue simulator', () => {
  let venue: Venue;
  beforeAll(async () => {
    venue = await startBinanceVenue({ port: 0, rate: 2000, seed: 11, symbols: ['BTCUSDT', 'ETHUSDT'] });
  });
  afterAll(async () => {
    await venue.close();
  });

  async function gatewayRun(secret: string, intents: Array<{ side: Side; qtySteps: number; type?: OrderType; stopTicks?: number; flags?: number }>, reportCapacity = 64, extra: { filters?: boolean; budget?: RateBudget } = {}) {
    const { instruments, filters } = await fetchVenueSymbols(venue.restUrl, ['BTCUSDT', 'ETHUSDT']);
    const ringB = SpscRing.create('B', 64, INTENT_SLOT_BYTES);
    const ringC = SpscRing.create('C', reportCapacity, REPORT_SLOT_BYTES);
    const gw = new OrderGateway(ringB, ringC, new BinanceOrderEncoder(instruments, secret, 'htest-', 5000), {
      restUrl: venue.restUrl,
      apiKey: venue.apiKey,
      requestTimeoutMs: 3000,
      now: nowNs,
      venueTimeMs: () => Date.now(),
      hists: {},
      ...(extra.filters ? { filters } : {}),
      ...(extra.budget ? { budget: extra.budget } : {}),
    });
    await gw.warm();
    intents.forEach((it, i) => {
      const b = ringB.claim();
      ringB.i32[b * 2] = packHeader(RecordType.OrderNew, 0, 0);
      ringB.i32[b * 2 + 1] = 0;
      ringB.f64[b + IN.INTENT_ID] = i + 1;
      ringB.f64[b + IN.SIDE] = it.side;
      ringB.f64[b + IN.ORDER_TYPE] = it.type ?? OrderType.Market;
      ringB.f64[b + IN.QTY_STEPS] = it.qtySteps;
      ringB.f64[b + IN.STOP_PRICE_TICKS] = it.stopTicks ?? 0;
      ringB.f64[b + IN.FLAGS] = it.flags ?? 0;
      ringB.f64[b + W.RECV_TS] = nowNs();
      ringB.f64[b + W.PUB_TS] = nowNs();
      ringB.commit();
    });
    while (gw.drain() > 0);
    await until(() => gw.inFlightCount() === 0, 5000, 'responses');
    const view = new ExecReportView();
    const out: Array<{ intentId: number; execType: number; status: number; lastQty: number; price: number; code: number; msg: string; sentTs: number; ackTs: number }> = [];
    // Read ring C as the strategy would; a full ring C keeps reports in the gateway's overflow queue,
    // flushed in order on the next drain.
    for (let rounds = 0; out.length < intents.length && rounds < 100; rounds++) {
      const n = ringC.poll();
      for (let i = 0; i < n; i++) {
        const r = view.wrap(ringC.f64, ringC.i32, ringC.u8, ringC.readBase(i));
        out.push({ intentId: r.intentId, execType: r.execType, status: r.status, lastQty: r.lastQty, price: r.avgPrice, code: r.errorCode, msg: r.message(), sentTs: r.sentTs, ackTs: r.ackTs });
      }
      ringC.release(n);
      gw.drain();
    }
    await gw.close();
    return { out, counters: gw.counters };
  }

  it('execution gateway: signed market orders fill and come back as fill records with price and quantity', async () => {
    const { out, counters } = await gatewayRun(venue.apiSecret, [{ side: Side.Buy, qtySteps: 10 }, { side: Side.Sell, qtySteps: 10 }]);
    expect(out.map((r) => r.intentId).sort()).toEqual([1, 2]);
    for (const r of out) {
      expect(r).toMatchObject({ execType: ExecType.Fill, status: OrderStatus.Filled, code: 0 });
      expect(r.lastQty).toBeCloseTo(0.01, 12);
      expect(r.price).toBeGreaterThan(0);
      expect(r.ackTs).toBeGreaterThan(r.sentTs);
      expect(r.sentTs).toBeGreaterThan(0);
    }
    expect(counters).toMatchObject({ sent: 2, fills: 2, rejects: 0 });
    const fills = venue.fills();
    expect(fills.filter((f) => f.clientOrderId.startsWith('htest-')).length).toBeGreaterThanOrEqual(2);
  });

  it('execution gateway: a venue reject becomes a reject record carrying the venue code and message', async () => {
    const { out, counters } = await gatewayRun('wrong-secret', [{ side: Side.Buy, qtySteps: 10 }]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ intentId: 1, execType: ExecType.Reject, status: OrderStatus.Rejected, code: -1022 });
    expect(out[0]!.msg).toMatch(/Signature/i);
    expect(counters.rejects).toBe(1);
  });

  it('execution gateway: a full report ring loses nothing; reports wait in order and arrive later', async () => {
    const intents = Array.from({ length: 7 }, (_, i) => ({ side: i % 2 === 0 ? Side.Buy : Side.Sell, qtySteps: 10 }));
    const { out, counters } = await gatewayRun(venue.apiSecret, intents, 2);
    expect(counters.reportOverflow).toBeGreaterThanOrEqual(5);
    expect(out.map((r) => r.intentId)).toEqual([1, 2, 3, 4, 5, 6, 7]); // one connection, one in flight: venue order = intent order
    expect(out.every((r) => r.execType === ExecType.Fill)).toBe(true);
  });

  it('execution gateway: an order that breaks an exchangeInfo filter is rejected locally, before sending', async () => {
    const sentBefore = venue.stats().ordersAccepted;
    // BTCUSDT: 10^9 steps of 0.001 is above MARKET_LOT_SIZE maxQty; 0 steps is no quantity at all
    const { out, counters } = await gatewayRun(venue.apiSecret, [{ side: Side.Buy, qtySteps: 1e9 }, { side: Side.Buy, qtySteps: 0 }], 64, { filters: true });
    expect(out.map((r) => r.execType)).toEqual([ExecType.Reject, ExecType.Reject]);
    expect(out.every((r) => r.sentTs === 0 && r.code === 0)).toBe(true);
    expect(out[0]!.msg).toMatch(/max/i);
    expect(out[1]!.msg).toMatch(/quantity/);
    expect(counters).toMatchObject({ sent: 0, filterRejects: 2 });
    expect(venue.stats().ordersAccepted).toBe(sentBefore);
  });

  it('execution gateway: conditional orders go to /fapi/v1/algoOrder; a broken one is refused before sending', async () => {
    const sentBefore = venue.stats().orderRequests;
    const mark = Number(venue.markPrice('BTCUSDT'));
    const trigger = Math.round(mark * 0.9 * 10); // ticks of 0.1
    const { out, counters } = await gatewayRun(venue.apiSecret, [
      { side: Side.Sell, qtySteps: 10, type: OrderType.StopMarket, stopTicks: trigger, flags: IntentFlag.ReduceOnly },
      // no trigger price: PRICE_FILTER, locally
      { side: Side.Sell, qtySteps: 10, type: OrderType.StopMarket },
      // a trigger price off the tick grid: PRICE_FILTER, locally
      { side: Side.Sell, qtySteps: 10, type: OrderType.TakeProfitMarket, stopTicks: 0.5, flags: IntentFlag.ReduceOnly },
    ], 64, { filters: true });
    expect(out).toHaveLength(3);
    const byId = new Map(out.map((r) => [r.intentId, r]));
    expect(byId.get(1)).toMatchObject({ execType: ExecType.Ack, status: OrderStatus.New, code: 0 });
    expect(byId.get(1)!.sentTs).toBeGreaterThan(0);
    expect(byId.get(2)).toMatchObject({ execType: ExecType.Reject, sentTs: 0 });
    expect(byId.get(2)!.msg).toMatch(/price must be a positive/);
    expect(byId.get(3)).toMatchObject({ execType: ExecType.Reject, sentTs: 0 });
    expect(counters).toMatchObject({ conditionals: 1, filterRejects: 2, encodeErrors: 0 });
    // only the algo order reached the venue's order endpoints
    expect(venue.stats().orderRequests - sentBefore).toBeLessThanOrEqual(1);
  });

  it('execution gateway: the local order budget refuses orders past its limit, and a halt refuses all', async () => {
    const budget = new RateBudget({ orderLimit10s: 3, headroom: 0 });
    const intents = Array.from({ length: 5 }, (_, i) => ({ side: i % 2 === 0 ? Side.Buy : Side.Sell, qtySteps: 10 }));
    const { out, counters } = await gatewayRun(venue.apiSecret, intents, 64, { budget });
    expect(out.filter((r) => r.execType === ExecType.Fill)).toHaveLength(3);
    const refused = out.filter((r) => r.execType === ExecType.Reject);
    expect(refused).toHaveLength(2);
    expect(refused[0]!.msg).toMatch(/10 s/);
    expect(counters.budgetRejects).toBe(2);
    expect(budget.counters.headerUpdates).toBeGreaterThanOrEqual(3); // the venue's X-MBX-ORDER-COUNT headers were read
    budget.halt(Date.now(), 'operator test');
    const second = await gatewayRun(venue.apiSecret, [{ side: Side.Buy, qtySteps: 10 }], 64, { budget });
    expect(second.out[0]!.msg).toMatch(/halted: operator test/);
    expect(second.counters.sent).toBe(0);
  });

  it('three workers end to end: ticks in, orders out, fills back; survives a dropped market-data socket', async () => {
    const cfg = validateConfig({
      ...DEFAULT_CONFIG,
      strategy: { name: 'ping-pong', params: { symbol: 'BTCUSDT', quantity: 0.01, cooldownMs: 0, triggerPrice: 0, everyNTicks: 50 } },
      risk: { preset: 'off', maxOrderQty: 1, maxPositionQty: 1 },
      feed: { ...DEFAULT_CONFIG.feed, reconnect: { initialMs: 20, maxMs: 500, jitter: 0.3 } },
      stats: { intervalMs: 3_600_000 },
    });
    // The gateway tests above left a position: with the user data stream on (the default) the engine adopts
    // it from the venue's reconcile at start, and trades on top of it.
    const venuePos = (): number => Number(venue.positions().find((p) => p.symbol === 'BTCUSDT')?.positionAmt ?? 0);
    const startPos = venuePos();
    const engine = new Engine(cfg, quietLog(), { restUrl: venue.restUrl, wsUrl: venue.wsUrl, apiKey: venue.apiKey, apiSecret: venue.apiSecret });
    await engine.start();
    let report;
    try {
      await sleep(1500);
      expect(venue.dropStreams()).toBeGreaterThanOrEqual(1);
      await sleep(1500);
      await engine.flushStats();
    } finally {
      report = await engine.stop();
    }
    const c = report.counters;
    expect(c.frames).toBeGreaterThan(1000);
    expect(c.decodeErrors).toBe(0);
    expect(c.reconnects).toBeGreaterThanOrEqual(1);
    expect(c.intents).toBeGreaterThan(5);
    expect(c.ordersSent).toBe(c.intents);
    expect(c.fills).toBe(c.ordersSent);
    expect(c.rejects).toBe(0);
    expect(c.ringDrops).toEqual({ A: 0, B: 0, C: 0 });
    for (const s of ['decode', 'hopA', 'strategy', 'hopB', 'send', 'tickToOrder', 'venueRtt'] as const) {
      expect(report.stages[s].count, s).toBeGreaterThan(0);
      expect(report.stages[s].p50, s).toBeGreaterThan(0);
    }
    // tick-to-order covers decode, both hops, strategy and send
    expect(report.stages.tickToOrder.p50).toBeGreaterThan(report.stages.send.p50);
    // the position the strategy holds equals the venue's own record of our fills
    const venueNet = venue.fills().filter((f) => f.clientOrderId.startsWith('h') && !f.clientOrderId.startsWith('htest-')).reduce((s, f) => s + (f.side === 'BUY' ? 1 : -1) * Number(f.qty), 0);
    expect(report.position).toBeCloseTo(startPos + venueNet, 9);
    expect(report.position).toBeCloseTo(venuePos(), 9);
  }, 30_000);
});

describe('hft command', () => {
  const bin = join(PROJECT_ROOT, 'bin/hft.js');
  const run = (args: string[], env: Record<string, string> = {}, killAfterMs = 0): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, cwd: PROJECT_ROOT });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (killAfterMs > 0 && stdout.includes('engine running')) {
          setTimeout(() => p.kill('SIGINT'), killAfterMs);
          killAfterMs = 0;
        }
      });
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  it('--help lists the commands', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+run\s+Run the engine/m);
    expect(r.stdout).toMatch(/^\s+bench\s+Micro benchmarks/m);
    expect(r.stdout).toMatch(/^\s+sim\s+Run the venue simulator/m);
  });

  it('a config error names the key and the allowed values and exits 2', async () => {
    const r = await run(['run'], { HFT_THREADS__STRATEGYWAIT: 'nap' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('threads.strategyWait must be one of spin, spin-then-park, park; got "nap"');
  });

  it('run --duration --summary writes the final report; paper trading on the embedded simulator', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hft-run-'));
    const file = join(dir, 'summary.json');
    const r = await run(['run', '--config', 'config/default.json', '--duration', '3', '--summary', file], {
      HFT_STRATEGY__PARAMS__COOLDOWNMS: '100',
      HFT_VENUE__SIM__RATE: '3000',
      // the test's own journal, token and a free port: nothing written into the project, nothing bound on 8787
      HFT_JOURNAL__PATH: join(dir, 'journal.sqlite'),
      HFT_CONTROL__PORT: '0',
      HFT_CONTROL__TOKENFILE: join(dir, 'token'),
    });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(file, 'utf8')) as { counters: Record<string, unknown>; stages: Record<string, { count: number }> };
    expect(s.counters.frames as number).toBeGreaterThan(100);
    expect(s.counters.ordersSent as number).toBeGreaterThan(0);
    expect(s.counters).toHaveProperty('ringDrops');
    expect(s.counters).toHaveProperty('decodeErrors');
    expect(Object.keys(s.stages)).toEqual(['decode', 'hopA', 'strategy', 'hopB', 'send', 'tickToOrder', 'venueRtt']);
    expect(r.stdout).toMatch(/final latency report/);
  }, 30_000);

  it('testnet mode runs against a venue given by URL, with credentials only from the environment', async () => {
    // The simulator stands in for Binance's testnet: the same profile, pointed at its URLs.
    const venue = await startBinanceVenue({ port: 0, rate: 2000, seed: 3, symbols: ['BTCUSDT', 'ETHUSDT'] });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'hft-testnet-'));
      const cfgFile = join(dir, 'testnet-sim.json');
      const testnet = JSON.parse(readFileSync(join(PROJECT_ROOT, 'config/testnet.json'), 'utf8')) as { venue: Record<string, unknown>; strategy: { params: Record<string, unknown> } };
      testnet.venue.restUrl = venue.restUrl;
      testnet.venue.wsUrl = venue.wsUrl;
      testnet.venue.wsApiUrl = venue.wsApiUrl;
      testnet.strategy.params.cooldownMs = 100;
      (testnet as unknown as { journal: unknown; control: unknown }).journal = { path: join(dir, 'journal.sqlite'), synchronous: 'full' };
      (testnet as unknown as { control: unknown }).control = { enabled: false, host: '127.0.0.1', port: 0, token: '', tokenFile: join(dir, 'token'), pushHz: 2 };
      writeFileSync(cfgFile, JSON.stringify(testnet));
      // real orders need the operator's --real, and risk limits written in the file
      const unconfirmed = await run(['run', '--config', cfgFile, '--duration', '1'], { HFT_API_KEY: venue.apiKey, HFT_API_SECRET: venue.apiSecret });
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toContain('mode "testnet" sends real orders to the venue; add --real to confirm');
      const noRisk = join(dir, 'no-risk.json');
      writeFileSync(noRisk, JSON.stringify({ ...testnet, risk: undefined }));
      const r0 = await run(['run', '--config', noRisk, '--real', '--duration', '1'], { HFT_API_KEY: venue.apiKey, HFT_API_SECRET: venue.apiSecret });
      expect(r0.code).toBe(2);
      expect(r0.stderr).toMatch(/needs risk limits set in the config file/);
      const noKeys = await run(['run', '--config', cfgFile, '--real', '--duration', '1'], { HFT_API_KEY: '', HFT_API_SECRET: '', HFT_KEY_FILE: '' });
      expect(noKeys.code).toBe(2);
      expect(noKeys.stderr).toMatch(/needs API credentials: set HFT_API_KEY and HFT_API_SECRET/);
      const file = join(dir, 'summary.json');
      const r = await run(['run', '--config', cfgFile, '--real', '--duration', '3', '--summary', file], { HFT_API_KEY: venue.apiKey, HFT_API_SECRET: venue.apiSecret });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(venue.apiSecret); // never logged
      const s = JSON.parse(readFileSync(file, 'utf8')) as { counters: Record<string, number> };
      expect(s.counters.frames).toBeGreaterThan(100);
      expect(s.counters.ordersSent).toBeGreaterThan(0);
      expect(venue.fills().length).toBeGreaterThan(0);
    } finally {
      await venue.close();
    }
  }, 40_000);

  it('stops cleanly on SIGINT with exit code 0 and a final report', async () => {
    const r = await run(['run'], {}, 1000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/final latency report/);
    expect(r.stdout).not.toMatch(/worker did not exit/);
  }, 30_000);
});
