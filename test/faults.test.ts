import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, validateConfig } from '../src/config/Config.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { Engine, fetchVenueSymbols } from '../src/engine/Engine.js';
import { ExecutionService, type ExecutionServiceOptions } from '../src/exec/ExecutionService.js';
import { FeedHandler, type FeedOptions } from '../src/feed/FeedHandler.js';
import { BookMirror } from '../src/book/BookSync.js';
import type { L2Book } from '../src/book/L2Book.js';
import { latencyFileFrom, readLatencyFile, stageQuantilesMs, writeLatencyFile, type LatencyFile } from '../src/metrics/latencyFile.js';
import { STAGES, newHistogram } from '../src/metrics/StageHistograms.js';
import { WsClient } from '../src/net/WsClient.js';
import {
  AT, BT, BookState, DEPTH, ExecType, INTENT_SLOT_BYTES, MARKET_SLOT_BYTES, OrderStatus, OrderType, REPORT_SLOT_BYTES, RP, RecordFlag, RecordType, RejectReason, Side, TimeInForce,
  headerFlags, headerType,
} from '../src/ring/layout.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { PreTradeLimits } from '../src/risk/PreTradeLimits.js';
import { TradingState } from '../src/risk/RiskEngine.js';
import { startBinanceVenue, type BinanceVenueHandle, type BinanceVenueOptions } from '../src/sim/binance/BinanceVenue.js';
import { parseFaultSpec, FaultSpecError } from '../src/sim/faults/Faults.js';
import { LatencyModel, latencyOptionsFromArgs, parseLatencySpec } from '../src/sim/latency/Latency.js';
import { Rng } from '../src/sim/rng.js';
import { OrderRequest, type Strategy } from '../src/strategy/Strategy.js';
import { StrategyRunner } from '../src/strategy/StrategyRunner.js';
import { nowNs } from '../src/util/clock.js';
import { createLogger } from '../src/util/log.js';
import { signHex } from '../src/venues/binance/sign.js';
import { sleep, useCleanups, waitFor } from './helpers/wait.js';

/**
 * The venue simulator's latency model and fault injection, and the engine's real components surviving
 * each fault: books resynced and equal to what the venue's bookTickers say, lost or delayed answers
 * resolved by client order id without a resend, positions equal to the venue's.
 */

const cleanups = useCleanups();

async function venue(o: BinanceVenueOptions = {}): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, symbols: ['BTCUSDT', 'ETHUSDT'], ...o });
  cleanups.push(() => v.close());
  return v;
}

/** A signed REST request to the venue (as a second client of the same account would send it). */
async function signed(v: BinanceVenueHandle, method: 'GET' | 'POST', path: string, params: string): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const qs = `${params}&recvWindow=5000&timestamp=${Date.now()}`;
  const t0 = performance.now();
  const res = await request(`${v.restUrl}${path}?${qs}&signature=${signHex(v.apiSecret, qs)}`, { method, headers: { 'x-mbx-apikey': v.apiKey } });
  const body = (await res.body.json()) as Record<string, unknown>;
  return { status: res.statusCode, body, ms: performance.now() - t0 };
}

/** Frames of a raw market-data connection, with their receive times. */
function rawStream(url: string) {
  const frames: Array<{ text: string; at: number }> = [];
  const ws = new WsClient(url, {
    onOpen: () => undefined,
    onMessage: (buf, start, end) => frames.push({ text: buf.toString('utf8', start, end), at: Date.now() }),
    onClose: () => undefined,
  }, { reconnect: false });
  ws.connect();
  cleanups.push(() => ws.close());
  return { ws, frames };
}

// ---------------------------------------------------------------------------------------------------------
describe('latency model', () => {
  it('parses specs, draws deterministically from a seed, and replays a histogram by its percentiles', () => {
    expect(parseLatencySpec('const:2ms')).toEqual({ kind: 'const', ms: 2 });
    expect(parseLatencySpec('250us')).toEqual({ kind: 'const', ms: 0.25 });
    expect(parseLatencySpec('normal:2ms:0.5ms')).toEqual({ kind: 'normal', meanMs: 2, sdMs: 0.5 });
    expect(parseLatencySpec('lognormal:1ms:0.4')).toEqual({ kind: 'lognormal', medianMs: 1, sigma: 0.4 });
    expect(parseLatencySpec('file:/tmp/x.json#tickToOrder')).toEqual({ kind: 'file', file: '/tmp/x.json', stage: 'tickToOrder' });
    expect(() => parseLatencySpec('pareto:1')).toThrow(/unknown kind/);
    expect(latencyOptionsFromArgs(['feed=const:1ms', 'order=2ms'])).toEqual({ feed: { kind: 'const', ms: 1 }, order: { kind: 'const', ms: 2 } });

    const draws = (seed: number) => {
      const m = new LatencyModel({ feed: 'lognormal:1ms:0.5', order: 'normal:3ms:1ms', ack: 'uniform:1ms:2ms' }, seed);
      return [...Array(5)].map(() => [m.feed!.next(), m.request().orderMs, m.request().ackMs]);
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));

    // a histogram recorded in ns, replayed in ms: the percentiles come back
    const h = newHistogram(false);
    const rng = new Rng(3);
    for (let i = 0; i < 20_000; i++) h.recordValue(Math.round(200_000 * rng.logNormal(0, 0.6))); // median 0.2 ms
    const file = latencyFileFrom({ venueRtt: h, tickToOrder: h }, 1);
    const m = new LatencyModel({ rtt: { kind: 'histogram', histogram: file }, rttOrderShare: 0.25 }, 1);
    const xs = [...Array(20_000)].map(() => {
      const d = m.request();
      expect(d.orderMs).toBeCloseTo(d.ackMs / 3, 9); // one draw split 25/75
      return d.orderMs + d.ackMs;
    }).sort((a, b) => a - b);
    expect(xs[10_000]! / (h.getValueAtPercentile(50) / 1e6)).toBeGreaterThan(0.95);
    expect(xs[10_000]! / (h.getValueAtPercentile(50) / 1e6)).toBeLessThan(1.05);
    expect(xs[19_800]! / (h.getValueAtPercentile(99) / 1e6)).toBeGreaterThan(0.9);
    expect(xs[19_800]! / (h.getValueAtPercentile(99) / 1e6)).toBeLessThan(1.1);
    h.destroy();
  });

  it('reads the bucket form of the file too, and rejects a broken one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hft-lat-'));
    const f = join(dir, 'b.json');
    writeFileSync(f, JSON.stringify({ format: 'hft-latency-histogram', version: 1, unit: 'ms', stages: { venueRtt: { count: 4, buckets: [[1, 0], [2, 2], [4, 2]] } } }));
    expect(stageQuantilesMs(readLatencyFile(f), 'venueRtt')).toEqual([[0, 1], [50, 2], [100, 4]]);
    writeFileSync(f, JSON.stringify({ format: 'hft-latency-histogram', version: 1, unit: 'ns', stages: { venueRtt: { count: 1, percentiles: [[50, 10], [10, 20]] } } }));
    expect(() => readLatencyFile(f)).toThrow(/non-decreasing/);
  });

  it('feed delay: every frame is late by the drawn delay, and frames on one connection never overtake each other', async () => {
    // sd 15 ms at 3000 events/s: independent delays would reorder most neighbours
    const v = await venue({ rate: 3000, seed: 4, latency: { feed: { kind: 'normal', meanMs: 25, sdMs: 15 }, seed: 9 } });
    const { frames } = rawStream(`${v.wsUrl}/ws/btcusdt@bookTicker`);
    await waitFor(() => frames.length >= 300, 'frames');
    const evs = frames.slice(0, 300).map((f) => ({ ...(JSON.parse(f.text) as { u: number; E: number }), at: f.at }));
    for (let i = 1; i < evs.length; i++) expect(evs[i]!.u).toBeGreaterThan(evs[i - 1]!.u);
    const lag = evs.map((e) => e.at - e.E).sort((a, b) => a - b);
    expect(lag[150]!).toBeGreaterThanOrEqual(20); // the median frame waited at least its mean-ish delay
    expect(lag[0]!).toBeGreaterThanOrEqual(0);
    expect(v.stats().faults.latencyFeedFrames).toBeGreaterThanOrEqual(300);
  });

  it('order and ack delays: matched after the order delay, answered after the ack delay; a file replays the round trip', async () => {
    const v = await venue({ paused: true, latency: { order: 80, ack: 60 } });
    const t0 = Date.now();
    const r = await signed(v, 'POST', '/fapi/v1/order', 'symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.002&newOrderRespType=RESULT');
    expect(r.status).toBe(200);
    expect(r.body['status']).toBe('FILLED');
    expect(Number(r.body['updateTime']) - t0).toBeGreaterThanOrEqual(79); // matched 80 ms after arrival
    expect(r.ms).toBeGreaterThanOrEqual(139);
    // non-order requests are not delayed
    const t = await signed(v, 'GET', '/fapi/v2/balance', '');
    expect(t.ms).toBeLessThan(60);

    // the engine's venueRtt histogram as a file: the simulator replays it as its round trip
    const h = newHistogram(false);
    for (let i = 0; i < 1000; i++) h.recordValue(60_000_000 + i * 10_000); // 60..70 ms
    const dir = mkdtempSync(join(tmpdir(), 'hft-lat-'));
    const file = join(dir, 'lat.json');
    writeLatencyFile(file, latencyFileFrom({ venueRtt: h }));
    h.destroy();
    const w = await venue({ paused: true, latency: { file } });
    const rtts: number[] = [];
    for (let i = 0; i < 3; i++) rtts.push((await signed(w, 'POST', '/fapi/v1/order', `symbol=BTCUSDT&side=${i % 2 ? 'SELL' : 'BUY'}&type=MARKET&quantity=0.002`)).ms);
    for (const ms of rtts) {
      expect(ms).toBeGreaterThanOrEqual(59);
      expect(ms).toBeLessThan(150);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];

/** Drains ring A into a mirror (as the strategy worker does) and checks it against the venue's bookTickers. */
class RingReader {
  readonly mirror = new BookMirror(SYMBOLS.length);
  readonly lastU = SYMBOLS.map(() => -1);
  /** bookTickers whose u equals the mirror's last applied u while Live: the top of book must match them */
  checks = 0;
  mismatches: string[] = [];
  resets = 0;
  readonly tradeIds: number[][] = SYMBOLS.map(() => []);
  private pending: Array<Array<[number, string]>> = SYMBOLS.map(() => []);
  constructor(private readonly ring: SpscRing) {}
  drain(): void {
    for (;;) {
      const n = this.ring.poll(4096);
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const b = this.ring.readBase(i);
        const h = this.ring.i32[b * 2]!;
        const sym = this.ring.i32[b * 2 + 1]!;
        const t = headerType(h);
        const f = this.ring.f64;
        if (t === RecordType.AggTrade) this.tradeIds[sym]!.push(f[b + AT.TRADE_ID]!);
        if (t === RecordType.Depth && (headerFlags(h) & (RecordFlag.Reset | RecordFlag.First)) === (RecordFlag.Reset | RecordFlag.First)) this.resets++;
        if (t === RecordType.BookTicker) this.pending[sym]!.push([f[b + BT.UPDATE_ID]!, `${f[b + BT.BID]} ${f[b + BT.BID_QTY]} ${f[b + BT.ASK]} ${f[b + BT.ASK_QTY]}`]);
        if (this.mirror.onRecord(f, this.ring.i32, b) >= 0) {
          const u = f[b + DEPTH.FINAL_UPDATE_ID]!;
          this.lastU[sym] = u;
          for (const [tu, want] of this.pending[sym]!) {
            if (tu !== u || this.mirror.state(sym) !== BookState.Live) continue;
            this.checks++;
            const book = this.mirror.books[sym]!;
            const got = `${book.bestBid} ${book.bestBidQty} ${book.bestAsk} ${book.bestAskQty}`;
            if (got !== want) this.mismatches.push(`${SYMBOLS[sym]} u=${u}: book ${got} vs bookTicker ${want}`);
          }
          this.pending[sym] = this.pending[sym]!.filter(([tu]) => tu > u);
        }
      }
      this.ring.release(n);
    }
  }
}

function levels(book: L2Book): string {
  const out: string[] = [];
  for (let i = 0; i < book.bidLevels; i++) out.push(`b ${book.bidPrice(i)} ${book.bidQty(i)}`);
  for (let i = 0; i < book.askLevels; i++) out.push(`a ${book.askPrice(i)} ${book.askQty(i)}`);
  return out.join('\n');
}

describe('market-data faults: the feed counts them, resyncs, and its books equal what the venue says', () => {
  let v: BinanceVenueHandle;
  beforeAll(async () => {
    v = await startBinanceVenue({ port: 0, rate: 3000, seed: 5, symbols: SYMBOLS, strictPaths: true });
  });
  afterAll(async () => {
    await v.close();
  });
  afterEach(() => {
    v.faults.clear();
    v.resume();
  });

  function startFeed(over: Partial<FeedOptions> = {}) {
    const ring = SpscRing.create('A', 1 << 15, MARKET_SLOT_BYTES);
    const reader = new RingReader(ring);
    const feed = new FeedHandler(new SymbolRegistry(SYMBOLS), ring, {
      ...DEFAULT_CONFIG.feed,
      wsBase: v.wsUrl,
      restUrl: v.restUrl,
      symbols: SYMBOLS,
      streams: ['bookTicker', 'aggTrade', 'depth@100ms'],
      reconnect: { initialMs: 20, maxMs: 200, jitter: 0.3 },
      book: { ...DEFAULT_CONFIG.book, resyncBackoffMs: 20 },
      ...over,
    });
    feed.start();
    cleanups.push(() => feed.stop());
    const live = (): boolean => {
      reader.drain();
      return SYMBOLS.every((_, s) => feed.bookState(s) === BookState.Live && reader.mirror.state(s) === BookState.Live);
    };
    /** Books Live, then `n` more bookTicker checks; then the venue stops and the books are compared level by level. */
    const healthy = async (n = 15): Promise<void> => {
      await waitFor(live, 'books live');
      const c0 = reader.checks;
      await waitFor(() => (reader.drain(), reader.checks >= c0 + n && live()), 'bookTicker checks');
      v.pause();
      await sleep(150);
      reader.drain();
      expect(reader.mismatches).toEqual([]);
      for (let s = 0; s < SYMBOLS.length; s++) {
        expect(feed.bookState(s)).toBe(BookState.Live);
        expect(levels(reader.mirror.books[s]!)).toBe(levels(feed.book(s)));
        expect(reader.lastU[s]).toBe(feed.book(s).lastUpdateId);
      }
    };
    return { feed, reader, live, healthy };
  }

  it('depth gap: skipped events break pu, the book resyncs from a new snapshot', async () => {
    const { feed, live, healthy } = startFeed();
    await waitFor(live, 'books live');
    const snaps = feed.counters().bookSnapshots;
    v.faults.inject({ kind: 'depthGap', symbol: 'BTCUSDT', events: 2 });
    await waitFor(() => feed.counters().bookGaps >= 1, 'gap seen');
    await healthy();
    expect(v.stats().faults.depthEventsSkipped).toBe(2);
    const c = feed.counters();
    expect(c.bookGaps).toBe(1);
    expect(c.bookResyncs).toBe(1);
    expect(c.bookSnapshots).toBe(snaps + 1);
  });

  it('duplicated depth frames are dropped as stale (no gap); other duplicates do not hurt the book', async () => {
    const { feed, live, healthy } = startFeed();
    await waitFor(live, 'books live');
    const stale0 = feed.counters().bookDroppedStale;
    v.faults.inject({ kind: 'duplicate', stream: 'depth', count: 6 });
    v.faults.inject({ kind: 'duplicate', stream: 'bookTicker', probability: 0.05, seed: 1, forMs: 400 });
    await waitFor(() => v.stats().faults.duplicates >= 6 + 5, 'duplicates sent');
    await healthy();
    expect(feed.counters().bookDroppedStale).toBe(stale0 + 6); // each repeat seen and dropped
    expect(feed.counters().bookGaps).toBe(0);
  });

  it('reordered depth frames: the gap is seen, the book resyncs', async () => {
    const { feed, live, healthy } = startFeed();
    await waitFor(live, 'books live');
    v.faults.inject({ kind: 'reorder', stream: 'depth', symbol: 'ETHUSDT' });
    await waitFor(() => feed.counters().bookGaps >= 1, 'gap seen');
    await healthy();
    expect(v.stats().faults.reorders).toBe(1);
    expect(feed.counters().bookResyncs).toBeGreaterThanOrEqual(1);
  });

  it('malformed frames: counted as decode errors; a truncated depth event is a gap and a resync', async () => {
    const { feed, live, healthy } = startFeed();
    await waitFor(live, 'books live');
    v.faults.inject({ kind: 'malformed', mode: 'truncate', stream: 'depth', symbol: 'BTCUSDT' });
    v.faults.inject({ kind: 'malformed', mode: 'garbage', probability: 0.05, seed: 2, count: 5 });
    await waitFor(() => feed.counters().decodeErrors >= 6, 'decode errors');
    await healthy();
    expect(v.stats().faults.malformed).toBe(6);
    expect(feed.counters().bookGaps).toBeGreaterThanOrEqual(1);
  });

  it('dropped market connections: reconnect and resync', async () => {
    const { feed, live, healthy } = startFeed();
    await waitFor(live, 'books live');
    const connects = feed.counters().connects;
    v.faults.inject({ kind: 'drop', target: 'market' });
    await waitFor(() => feed.counters().connects >= connects + 2, 'reconnects');
    await healthy();
    expect(v.stats().faults.drops).toBeGreaterThanOrEqual(2);
    expect(feed.counters().bookResyncs + feed.counters().bookApplied).toBeGreaterThan(0);
  });

  it('stalled market connection: the idle timeout reconnects it and the books resync; a discarding stall is a gap', async () => {
    const { feed, live, healthy } = startFeed({ idleTimeoutMs: 250 });
    await waitFor(live, 'books live');
    const reconnects = feed.counters().reconnects;
    v.faults.inject({ kind: 'stall', target: 'market', ms: 1500 });
    await waitFor(() => feed.counters().reconnects >= reconnects + 2, 'reconnect after the stall', 3000);
    await healthy();
    expect(v.stats().faults.stalls).toBeGreaterThanOrEqual(2);
  });

  it('a discarding stall (frames lost, connection kept) is seen as a gap and resynced', async () => {
    const { feed, live, healthy } = startFeed();
    await waitFor(live, 'books live');
    v.faults.inject({ kind: 'stall', target: 'market', ms: 200, discard: true });
    await waitFor(() => feed.counters().bookGaps >= 2, 'gaps', 3000);
    await healthy();
    expect(v.stats().faults.stallDiscards).toBeGreaterThan(0);
    expect(feed.counters().bookResyncs).toBeGreaterThanOrEqual(2);
  });
});

// ---------------------------------------------------------------------------------------------------------

const idle: Strategy = { name: 'test', onMarket: () => undefined, onReport: () => undefined, onTimer: () => undefined };
const venuePos = (v: BinanceVenueHandle, symbol = 'BTCUSDT'): number => Number(v.positions().find((p) => p.symbol === symbol)?.positionAmt ?? 0);

interface Rec {
  type: number;
  intentId: number;
  status: number;
  execType: number;
  cumQty: number;
  reason: number;
  code: number;
  stream: boolean;
  rttMs: number;
}

/**
 * The execution side in-process: a StrategyRunner (positions from ring C) submitting into ring B, and an
 * ExecutionService draining it, as the strategy and execution workers do.
 */
async function rig(v: BinanceVenueHandle, o: Partial<ExecutionServiceOptions> = {}) {
  const symbols = ['BTCUSDT', 'ETHUSDT'];
  const { instruments, filters } = await fetchVenueSymbols(v.restUrl, symbols);
  const ringB = SpscRing.create('B', 64, INTENT_SLOT_BYTES);
  const ringC = SpscRing.create('C', 256, REPORT_SLOT_BYTES);
  const runner = new StrategyRunner(idle, instruments, ringB, new PreTradeLimits({ maxOrderQty: 1, maxPosition: 1 }), { now: nowNs });
  const logs: string[] = [];
  const service = new ExecutionService({
    ringB, ringC, symbols, instruments, filters,
    restUrl: v.restUrl,
    transport: 'http',
    wsApiUrl: v.wsApiUrl,
    userStream: true,
    userStreamWsUrl: v.wsUrl,
    userStreamUrlStyle: 'private',
    listenKeyKeepAliveMs: 60_000,
    apiKey: v.apiKey,
    apiSecret: v.apiSecret,
    recvWindow: 600,
    requestTimeoutMs: 300,
    keepAliveMs: 60_000,
    warmIntervalMs: 0,
    clientIdPrefix: `f${Date.now().toString(36)}-`,
    timeOffsetMs: 0,
    now: nowNs,
    hists: {},
    log: (level, msg) => logs.push(`${level} ${msg}`),
    backoff: { initialMs: 20, maxMs: 200 },
    ...o,
  });
  cleanups.push(() => service.stop());
  await service.start();
  const records: Rec[] = [];
  const pump = (): void => {
    const n = ringC.poll();
    for (let i = 0; i < n; i++) {
      const b = ringC.readBase(i);
      const h = ringC.i32[b * 2]!;
      const f = ringC.f64;
      records.push({
        type: headerType(h), intentId: f[b + RP.INTENT_ID]!, status: f[b + RP.STATUS]!, execType: f[b + RP.EXEC_TYPE]!, cumQty: f[b + RP.CUM_QTY]!,
        reason: f[b + RP.REASON]!, code: f[b + RP.ERROR_CODE]!, stream: ((h >>> 8) & 0x80) !== 0, rttMs: (f[b + RP.ACK_TS]! - f[b + RP.SENT_TS]!) / 1e6,
      });
      runner.onReportRecord(f, ringC.i32, ringC.u8, b);
    }
    ringC.release(n);
  };
  const until = (cond: () => boolean, what: string, ms?: number): Promise<void> => waitFor(() => (pump(), cond()), what, ms);
  const req = new OrderRequest();
  const market = (side: Side, qty = 0.002): number => {
    req.symbolId = 0;
    req.side = side;
    req.type = OrderType.Market;
    req.tif = TimeInForce.None;
    req.price = 0;
    req.qty = qty;
    req.reduceOnly = false;
    return runner.submit(req);
  };
  /** transport and resolver reports of an intent (not the user stream's) */
  const of = (id: number): Rec[] => records.filter((r) => r.type === RecordType.ExecReport && r.intentId === id && !r.stream);
  if (service.userStream) await until(() => service.userStream!.connected, 'user stream');
  /** the runner's position equals the venue's */
  const settled = (): Promise<void> => until(() => Math.abs(runner.position(0) - venuePos(v)) < 1e-9 && runner.inflightCount() === 0, 'position = venue');
  return { service, runner, records, pump, until, market, of, logs, settled };
}

describe('order-path faults: nothing lost, nothing sent twice', () => {
  it('REST, ack lost (hang and close): Unknown, resolved Filled by client order id; the venue got exactly one order each', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'loseAck' });
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1, 'unknown');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Unknown });
    v.faults.inject({ kind: 'loseAck', mode: 'close' });
    const b = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 2 && r.of(b).length === 2, 'resolutions');
    expect(r.of(a)[1]).toMatchObject({ status: OrderStatus.Filled, execType: ExecType.Fill, cumQty: 0.002 });
    expect(r.of(b).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Filled]);
    expect(v.stats().ordersAccepted).toBe(accepted + 2);
    expect(v.stats().faults.acksLost).toBe(2);
    expect(r.service.counters()).toMatchObject({ unknown: 2, unknownResolved: 2, resolvedFilled: 2 });
    await r.settled();
    expect(r.runner.position(0)).toBeCloseTo(0.004, 12);
  });

  it('REST, ack delayed: within the timeout it is just slow; past it the order is Unknown, then resolved, never resent', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'delayAck', ms: 120 });
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1, 'slow fill');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Filled });
    expect(r.of(a)[0]!.rttMs).toBeGreaterThanOrEqual(119);
    v.faults.inject({ kind: 'delayAck', ms: 600 });
    const b = r.market(Side.Sell);
    await r.until(() => r.of(b).length === 2, 'timeout + resolution');
    expect(r.of(b).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Filled]);
    expect(v.stats().ordersAccepted).toBe(accepted + 2);
    expect(v.stats().faults.acksDelayed).toBe(2);
    await r.settled();
    expect(r.runner.position(0)).toBeCloseTo(0, 12);
  });

  it('WS API, ack lost and ack delayed past the timeout: Unknown, resolved over REST; the late answer counts once', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v, { transport: 'wsapi' });
    await waitFor(() => r.service.wsApi!.isReady(), 'ws-api');
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'loseAck', transport: 'wsapi' });
    const a = r.market(Side.Buy);
    // longer than the timeout and the resolution (recvWindow 600 ms + margin)
    v.faults.inject({ kind: 'delayAck', ms: 1300, transport: 'wsapi' });
    const b = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 2 && r.of(b).length >= 2, 'resolutions');
    expect(r.of(a).map((x) => [x.status, x.reason])).toEqual([[OrderStatus.Unknown, RejectReason.Timeout], [OrderStatus.Filled, RejectReason.None]]);
    await r.until(() => r.of(b).length === 3, 'late answer');
    expect(r.of(b).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Filled, OrderStatus.Filled]);
    expect(v.stats().ordersAccepted).toBe(accepted + 2);
    expect(r.service.counters()).toMatchObject({ wsApiTimeouts: 2, wsApiLateResponses: 1, viaPreferred: 2 });
    await r.settled();
    expect(r.runner.position(0)).toBeCloseTo(0.004, 12);
  });

  it('WS API, a malformed response and a dropped connection: Unknown then resolved; orders fall back to REST until it is back', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v, { transport: 'wsapi' });
    await waitFor(() => r.service.wsApi!.isReady(), 'ws-api');
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'malformed', target: 'api', mode: 'truncate' });
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 2, 'timeout + resolution');
    expect(r.of(a).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Filled]);
    v.faults.inject({ kind: 'drop', target: 'api' });
    await waitFor(() => !r.service.wsApi!.isReady(), 'ws-api down');
    const b = r.market(Side.Sell);
    await r.until(() => r.of(b).length === 1, 'fallback order');
    expect(r.of(b)[0]).toMatchObject({ status: OrderStatus.Filled });
    await waitFor(() => r.service.wsApi!.isReady(), 'ws-api back');
    const c = r.market(Side.Sell);
    await r.until(() => r.of(c).length === 1, 'ws-api order');
    expect(r.of(c)[0]).toMatchObject({ status: OrderStatus.Filled });
    expect(r.service.counters()).toMatchObject({ wsApiMalformed: 1, wsApiTimeouts: 1, transportFallbacks: 1, viaPreferred: 2, unknownResolved: 1 });
    expect(v.stats().ordersAccepted).toBe(accepted + 3);
    expect(v.stats().faults).toMatchObject({ malformed: 1, drops: 1 });
    await r.settled();
    expect(r.runner.position(0)).toBeCloseTo(-0.002, 12);
  });

  it('5xx: 503 "Unknown error" and 500 are Unknown and resolved; 503 "Service Unavailable." and -1008 are definite rejects', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'http', status: 503, message: 'unknown', executed: true });
    const a = r.market(Side.Buy); // the venue filled it, then answered 503
    await r.until(() => r.of(a).length === 1, 'a');
    v.faults.inject({ kind: 'http', status: 500 });
    const b = r.market(Side.Buy); // never reached the matching engine
    await r.until(() => r.of(b).length === 1, 'b');
    v.faults.inject({ kind: 'http', status: 503, message: 'unavailable' });
    const c = r.market(Side.Buy);
    await r.until(() => r.of(c).length === 1, 'c');
    v.faults.inject({ kind: 'http', status: 503, message: 'throttled' });
    const d = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 2 && r.of(b).length === 2 && r.of(d).length === 1, 'resolutions');
    expect(r.of(a).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Filled]);
    expect(r.of(b).map((x) => [x.status, x.code])).toEqual([[OrderStatus.Unknown, -1000], [OrderStatus.Rejected, -2013]]);
    expect(r.of(c)).toEqual([expect.objectContaining({ status: OrderStatus.Rejected, reason: RejectReason.Venue, code: 0 })]);
    expect(r.of(d)).toEqual([expect.objectContaining({ status: OrderStatus.Rejected, reason: RejectReason.RateLimited, code: -1008 })]);
    await sleep(50);
    expect(r.of(c)).toHaveLength(1); // definite: no resolution follows
    expect(r.service.counters()).toMatchObject({ unknownSeen: 2, unknownResolved: 2, resolvedFilled: 1, resolvedNeverArrived: 1 });
    expect(v.stats().ordersAccepted).toBe(accepted + 1);
    expect(v.stats().faults).toMatchObject({ http503: 3, http500: 1, httpExecuted: 1 });
    await r.settled();
    expect(r.runner.position(0)).toBeCloseTo(0.002, 12);
  });

  it('429 with Retry-After: no order goes out until it has passed, then orders flow again', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    v.faults.inject({ kind: 'http', status: 429, retryAfter: 1 });
    const t0 = Date.now();
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1, '429');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Rejected, code: -1003, reason: RejectReason.RateLimited });
    const backoff = r.service.budget.backoffUntil - (Date.now() + r.service.timeSync.offsetMs);
    expect(backoff).toBeGreaterThan(700);
    expect(backoff).toBeLessThanOrEqual(1000); // Retry-After, not the end of the minute
    const sent = v.stats().orderRequests;
    const b = r.market(Side.Buy);
    await r.until(() => r.of(b).length === 1, 'local refusal');
    expect(r.of(b)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.RateLimited, code: 0 });
    expect(v.stats().orderRequests).toBe(sent); // not sent
    await sleep(Math.max(0, 1050 - (Date.now() - t0)));
    const c = r.market(Side.Buy);
    await r.until(() => r.of(c).length === 1, 'after Retry-After');
    expect(r.of(c)[0]).toMatchObject({ status: OrderStatus.Filled });
    expect(r.service.counters()).toMatchObject({ rateLimited429: 1, refusedBackoff: 1, budgetRejects: 1 });
    await r.settled();
  });

  it('418: order entry halts with an alarm; nothing is sent until the halt is cleared', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    v.faults.inject({ kind: 'http', status: 418, retryAfter: 120 });
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1, '418');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.Halted, code: -1003 });
    expect(r.service.budget.halted).toBe(true);
    expect(r.service.budget.haltUntil - (Date.now() + r.service.timeSync.offsetMs)).toBeGreaterThan(110_000);
    expect(r.logs.some((l) => l.startsWith('error ALARM: order entry halted'))).toBe(true);
    // the strategy side pulled its kill switch on the Halted report: nothing more leaves the runner
    expect(r.runner.tradingState).toBe(TradingState.Halted);
    expect(r.runner.counters.killSwitches).toBe(1);
    const sent = v.stats().orderRequests;
    expect(r.market(Side.Sell)).toBe(-1);
    // the operator resumes the strategy side only: the execution side still refuses, and the runner halts again
    r.runner.setTradingState(TradingState.Active);
    const b = r.market(Side.Sell);
    await r.until(() => r.of(b).length === 1, 'refused');
    expect(r.of(b)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.Halted });
    expect(v.stats().orderRequests).toBe(sent);
    expect(r.runner.tradingState).toBe(TradingState.Halted);
    r.service.budget.clearHalt(); // the operator clears both
    r.runner.setTradingState(TradingState.Active);
    const c = r.market(Side.Sell);
    await r.until(() => r.of(c).length === 1, 'after clear');
    expect(r.of(c)[0]).toMatchObject({ status: OrderStatus.Filled });
    expect(v.stats().faults.http418).toBe(1);
  });

  it('rejected orders: reject records carry the code and a typed reason; the pending quantity is released', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'reject', code: [-2019, -1008, -5022], count: 3 });
    const ids = [r.market(Side.Buy, 0.5), r.market(Side.Buy, 0.3), r.market(Side.Sell, 0.2)];
    expect(r.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0.8, 12);
    await r.until(() => ids.every((id) => r.of(id).length === 1), 'rejects');
    expect(ids.map((id) => [r.of(id)[0]!.status, r.of(id)[0]!.code, r.of(id)[0]!.reason])).toEqual([
      [OrderStatus.Rejected, -2019, RejectReason.Venue],
      [OrderStatus.Rejected, -1008, RejectReason.RateLimited],
      [OrderStatus.Rejected, -5022, RejectReason.Venue],
    ]);
    expect(r.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0, 12);
    expect(r.runner.pendingQty(0, Side.Sell)).toBeCloseTo(0, 12);
    expect(r.runner.inflightCount()).toBe(0);
    expect(r.service.counters()).toMatchObject({ 'reject_-2019': 1, 'reject_-1008': 1, 'reject_-5022': 1 });
    expect(v.stats().ordersAccepted).toBe(accepted);
    expect(v.stats().faults.rejects).toBe(3);
    // and the next order, with the full risk budget again, goes through
    const d = r.market(Side.Buy, 0.9);
    await r.until(() => r.of(d).length === 1, 'fill');
    expect(r.of(d)[0]).toMatchObject({ status: OrderStatus.Filled, cumQty: 0.9 });
    await r.settled();
  });

  it('venue clock skew: -1021, a resync, then orders pass', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v, { userStream: false });
    expect(Math.abs(r.service.timeSync.offsetMs)).toBeLessThan(100);
    await sleep(300); // past the minimum gap between two syncs
    v.faults.inject({ kind: 'clockSkew', ms: 60_000 });
    const late = r.market(Side.Buy);
    await r.until(() => r.of(late).length === 1, '-1021');
    expect(r.of(late)[0]).toMatchObject({ status: OrderStatus.Rejected, code: -1021 });
    await waitFor(() => r.service.timeSync.counters.triggeredResyncs >= 1 && Math.abs(r.service.timeSync.offsetMs - 60_000) < 200, 'resync');
    const again = r.market(Side.Buy);
    await r.until(() => r.of(again).length === 1, 'fill after the resync');
    expect(r.of(again)[0]).toMatchObject({ status: OrderStatus.Filled });
    expect(v.stats().faults.clockSkewMs).toBe(60_000);
  });

  it('dropped user stream: reconnect and reconcile; a fill it missed (another client of the account) is in the position', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1 && r.runner.counters.streamReports > 0, 'fill and its stream report');
    const reconciles = r.service.userStream!.counters.reconciles;
    // the stream loses frames (its connection stays up), then the connection drops
    v.faults.inject({ kind: 'stall', target: 'user', ms: 5000, discard: true });
    const foreign = await signed(v, 'POST', '/fapi/v1/order', 'symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.003&newOrderRespType=RESULT');
    expect(foreign.body['status']).toBe('FILLED');
    await sleep(50);
    expect(r.runner.position(0)).toBeCloseTo(0.002, 12); // the stream missed it
    v.faults.inject({ kind: 'drop', target: 'user' });
    await r.until(() => r.service.userStream!.counters.reconciles > reconciles, 'reconcile');
    await r.settled();
    expect(r.runner.position(0)).toBeCloseTo(0.005, 12);
    expect(r.runner.counters.positionCorrections).toBe(1);
    expect(v.stats().faults.stallDiscards).toBeGreaterThan(0);
    expect(r.service.userStream!.counters.disconnects).toBeGreaterThanOrEqual(1);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('the three-worker engine under faults', () => {
  it('depth gap, duplicates, garbage, a dropped market connection, a lost ack and a 503 in one run: books resynced, every order resolved once, position = venue; its latency export replays', async () => {
    const v = await venue({ rate: 2000, seed: 7 });
    const cfg = validateConfig({
      ...DEFAULT_CONFIG,
      strategy: { name: 'ping-pong', params: { symbol: 'BTCUSDT', quantity: 0.002, cooldownMs: 0, triggerPrice: 0, everyNTicks: 30 } },
      risk: { preset: 'off', maxOrderQty: 1, maxPositionQty: 1 },
      feed: { ...DEFAULT_CONFIG.feed, reconnect: { initialMs: 20, maxMs: 200, jitter: 0.3 } },
      book: { ...DEFAULT_CONFIG.book, resyncBackoffMs: 20 },
      execution: { ...DEFAULT_CONFIG.execution, transport: 'http', userStream: true, recvWindow: 600, requestTimeoutMs: 300 },
      stats: { intervalMs: 3_600_000 },
    });
    const logLines: string[] = [];
    const engine = new Engine(cfg, createLogger('warn', new Writable({ write: (c, _e, cb) => { logLines.push(String(c)); cb(); } })), { restUrl: v.restUrl, wsUrl: v.wsUrl, wsApiUrl: v.wsApiUrl, apiKey: v.apiKey, apiSecret: v.apiSecret });
    const accepted = v.stats().ordersAccepted;
    await engine.start();
    let report;
    try {
      await sleep(400);
      v.faults.inject({ kind: 'depthGap', symbol: 'BTCUSDT' });
      v.faults.inject({ kind: 'duplicate', stream: 'depth', count: 3 });
      v.faults.inject({ kind: 'malformed', mode: 'garbage', count: 2 });
      v.faults.inject({ kind: 'loseAck' });
      await sleep(300);
      v.faults.inject({ kind: 'drop', target: 'market' });
      v.faults.inject({ kind: 'http', status: 503, message: 'unknown', executed: true });
      await sleep(1700);
      await engine.flushStats();
    } finally {
      report = await engine.stop();
    }
    const c = report.counters;
    const f = report.workers.feed;
    const e = report.workers.execution;
    expect(v.stats().faults).toMatchObject({ depthEventsSkipped: 1, duplicates: 3, malformed: 2, acksLost: 1, http503: 1, httpExecuted: 1 });
    expect(v.stats().faults.drops).toBeGreaterThanOrEqual(2);
    expect(c.decodeErrors).toBe(2);
    expect(f['bookGaps']).toBeGreaterThanOrEqual(1);
    expect(f['bookResyncs']).toBeGreaterThanOrEqual(1);
    expect(f['booksLive']).toBe(2);
    expect(c.reconnects).toBeGreaterThanOrEqual(2);
    // two answers lost; both resolved by client order id, none resent
    expect(c.unknown).toBe(2);
    expect(e['unknownResolved']).toBe(2);
    expect(e['resolvedFilled']).toBe(2);
    // The stream reports the lost-ack order Filled, so the strategy sends its next order, which queues on the
    // REST connection behind the hung request and fails with it unsent: a definite reject, never at the venue.
    expect(c.rejects).toBeLessThanOrEqual(1);
    expect(logLines.filter((l) => l.includes(' rejected: ')).every((l) => l.includes('not sent'))).toBe(true);
    expect(c.intents).toBe(c.fills + c.unknown + c.rejects);
    expect(v.stats().ordersAccepted - accepted).toBe(c.ordersSent);
    expect(report.position).toBeCloseTo(venuePos(v), 9);

    // the engine's stage histograms as a latency file, replayed by the simulator's model
    const dir = mkdtempSync(join(tmpdir(), 'hft-lat-'));
    const file = join(dir, 'engine.json');
    writeLatencyFile(file, latencyFileFrom(Object.fromEntries(STAGES.map((s) => [s, engine.merger.histogram(s)])), report.durationS));
    const lf: LatencyFile = readLatencyFile(file);
    expect(lf.stages['venueRtt']!.count).toBe(report.stages.venueRtt.count);
    expect(lf.stages['tickToOrder']!.count).toBeGreaterThan(0);
    const model = new LatencyModel({ file }, 1);
    const lo = lf.stages['venueRtt']!.min! / 1e6;
    const hi = lf.stages['venueRtt']!.max! / 1e6;
    for (let i = 0; i < 100; i++) {
      const d = model.request();
      expect(d.orderMs + d.ackMs).toBeGreaterThanOrEqual(lo - 1e-9);
      expect(d.orderMs + d.ackMs).toBeLessThanOrEqual(hi + 1e-9);
    }
  }, 20_000);
});

describe('fault specs and the control endpoint', () => {
  it('validates specs; POST/GET/DELETE /_sim/faults arm, list and clear them', async () => {
    expect(() => parseFaultSpec({ kind: 'stall' })).toThrow(FaultSpecError);
    expect(() => parseFaultSpec({ kind: 'http', status: 502 })).toThrow(/status/);
    expect(() => parseFaultSpec({ kind: 'reject', code: 2019 })).toThrow(/negative/);
    expect(() => parseFaultSpec({ kind: 'duplicate', probability: 2 })).toThrow(/probability/);
    const v = await venue({ paused: true, faults: [{ kind: 'reject', code: -2019 }] });
    const post = await request(`${v.restUrl}/_sim/faults`, { method: 'POST', body: JSON.stringify([{ kind: 'delayAck', ms: 5 }, { kind: 'depthGap', probability: 0.5, seed: 3 }]) });
    expect(post.statusCode).toBe(200);
    expect(await post.body.json()).toEqual({ ids: [2, 3] });
    const bad = await request(`${v.restUrl}/_sim/faults`, { method: 'POST', body: '{"kind":"teleport"}' });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { error: string }).error).toMatch(/unknown fault kind/);
    const list = (await (await request(`${v.restUrl}/_sim/faults`)).body.json()) as { active: Array<{ id: number }>; stats: { injected: number; armed: number } };
    expect(list.active.map((a) => a.id)).toEqual([3, 1, 2]);
    expect(list.stats).toMatchObject({ injected: 3, armed: 3 });
    // the armed reject answers the next order
    const r = await signed(v, 'POST', '/fapi/v1/order', 'symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.002');
    expect(r).toMatchObject({ status: 400, body: { code: -2019, msg: 'Margin is insufficient.' } });
    const del = await request(`${v.restUrl}/_sim/faults`, { method: 'DELETE' });
    expect(await del.body.json()).toEqual({ cleared: 2 });
    expect(v.faults.active()).toEqual([]);
    expect(v.stats().faults).toMatchObject({ rejects: 1, armed: 0 });
  });

  it('hft sim --latency: a bad spec or a missing file is a usage error', async () => {
    const { main } = await import('../src/cli/main.js');
    const err = process.stderr.write;
    const said: string[] = [];
    process.stderr.write = ((c: string) => (said.push(String(c)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['sim', '--latency', 'pareto:1ms'])).toBe(2);
      expect(await main(['sim', '--latency', 'file:/nonexistent/lat.json'])).toBe(2);
      // the Gate dialect reads --latency through the same checks
      expect(await main(['sim', '--venue', 'gate', '--latency', 'weibull:1ms'])).toBe(2);
    } finally {
      process.stderr.write = err;
    }
    expect(said.join('')).toMatch(/unknown kind "pareto"/);
    expect(said.join('')).toMatch(/unknown kind "weibull"/);
    expect(said.join('')).toMatch(/cannot read latency file/);
  });
});
