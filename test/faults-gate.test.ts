import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config/Config.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { fetchGateContracts } from '../src/engine/Engine.js';
import { GateExecutionService, type GateExecutionOptions } from '../src/exec/GateExecutionService.js';
import { GateOrderTransport, GateWsOrderTransport } from '../src/exec/GateOrderTransport.js';
import { GateUnknownResolver } from '../src/exec/GateUnknownResolver.js';
import type { ExecReportSink } from '../src/exec/OrderTransport.js';
import { FeedHandler, type FeedOptions } from '../src/feed/FeedHandler.js';
import { BookMirror } from '../src/book/BookSync.js';
import type { L2Book } from '../src/book/L2Book.js';
import {
  BookState, ExecType, IN, INTENT_SLOT_BYTES, MARKET_SLOT_BYTES, OrderStatus, OrderType, REPORT_SLOT_BYTES, RP, RecordType, RejectReason, Side, TimeInForce, W, headerType,
} from '../src/ring/layout.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { PreTradeLimits } from '../src/risk/PreTradeLimits.js';
import { TradingState } from '../src/risk/RiskEngine.js';
import { startGateVenue, type GateVenueHandle, type GateVenueOptions } from '../src/sim/gate/GateVenue.js';
import { parseFaultSpec, FaultSpecError } from '../src/sim/faults/Faults.js';
import { gateApiKind, gateChannelNeedle, gateFrameMatches, gateRestKind } from '../src/sim/faults/GateWire.js';
import { OrderRequest, type Strategy } from '../src/strategy/Strategy.js';
import { StrategyRunner } from '../src/strategy/StrategyRunner.js';
import { nowNs } from '../src/util/clock.js';
import { GateRestClient } from '../src/venues/gate/RestClient.js';
import type { GateContractRules } from '../src/venues/gate/contracts.js';
import { sleep, useCleanups, waitFor } from './helpers/wait.js';

/**
 * Fault injection and the latency model on the Gate simulator (src/sim/faults/GateWire.ts), each fault
 * driven against the engine's Gate path: the feed's books resync and end equal to the venue's book; lost,
 * late or failed order answers are resolved by the order's text exactly once, never resent, and the
 * engine's position equals the venue's; 429 backs off, a ban halts with an alarm; a skewed venue clock is
 * re-estimated from the venue's own stamps.
 */

const CONTRACTS = ['BTC_USDT', 'ETH_USDT'];
const cleanups = useCleanups();

async function venue(o: GateVenueOptions = {}): Promise<GateVenueHandle> {
  const v = await startGateVenue({ host: '127.0.0.1', port: 0, contracts: CONTRACTS, ...o });
  cleanups.push(() => v.close());
  return v;
}

// ---------------------------------------------------------------------------------------------------------
describe('GateWire units', () => {
  it('classifies Gate requests and frames; Gate specs (labels) validate', () => {
    expect(gateRestKind('post', '/api/v4/futures/usdt/orders')).toBe('place');
    expect(gateRestKind('post', '/api/v4/futures/usdt/batch_orders')).toBe('place');
    expect(gateRestKind('delete', '/api/v4/futures/usdt/orders/t-x1')).toBe('cancel');
    expect(gateRestKind('delete', '/api/v4/futures/usdt/orders')).toBe('cancel');
    expect(gateRestKind('get', '/api/v4/futures/usdt/orders/t-x1')).toBe('other');
    expect(gateRestKind('post', '/api/v4/futures/usdt/price_orders')).toBe('order');
    expect(gateRestKind('post', '/api/v4/futures/usdt/positions/BTC_USDT/leverage')).toBe('other');
    expect(gateApiKind('futures.order_place')).toBe('place');
    expect(gateApiKind('futures.order_cancel')).toBe('cancel');
    expect(gateApiKind('futures.order_status')).toBe('other');
    expect(gateChannelNeedle('depth')).toBe('"channel":"futures.order_book_update"');
    expect(gateChannelNeedle('futures.trades')).toBe('"channel":"futures.trades"');
    const obu = '{"time":1,"time_ms":1000,"channel":"futures.order_book_update","event":"update","result":{"U":5,"a":[],"b":[],"s":"BTC_USDT","t":1000,"u":6}}';
    expect(gateFrameMatches(obu, { stream: 'order_book_update', symbol: 'btc_usdt' })).toBe(true);
    expect(gateFrameMatches(obu, { stream: 'depth' })).toBe(true);
    expect(gateFrameMatches(obu, { symbol: 'ETH_USDT' })).toBe(false);
    expect(gateFrameMatches('{"channel":"futures.trades","event":"update","result":[{"contract":"ETH_USDT"}]}', { stream: 'trades', symbol: 'ETH_USDT' })).toBe(true);
    expect(parseFaultSpec({ kind: 'reject', label: ['INSUFFICIENT_AVAILABLE', 'ORDER_POC_IMMEDIATE'] })).toMatchObject({ kind: 'reject' });
    expect(() => parseFaultSpec({ kind: 'reject' })).toThrow(/code.*label/);
    expect(() => parseFaultSpec({ kind: 'reject', label: 'lower' })).toThrow(FaultSpecError);
    expect(() => parseFaultSpec({ kind: 'http', status: 500, label: 7 })).toThrow(/label/);
    expect(parseFaultSpec({ kind: 'http', status: 500, label: 'SERVER_ERROR' })).toMatchObject({ label: 'SERVER_ERROR' });
  });

  it('/_sim/faults on the Gate REST port arms, lists and clears; Gate error bodies; a text lookup expires 60 s after the order finished', async () => {
    let skew = 0;
    const v = await venue({ paused: true, clock: () => Date.now() + skew, faults: [{ kind: 'reject', label: 'INSUFFICIENT_AVAILABLE' }] });
    const post = await request(`${v.origin}/_sim/faults`, { method: 'POST', body: JSON.stringify([{ kind: 'http', status: 429, retryAfter: 2 }, { kind: 'depthGap', probability: 0.5, seed: 3 }]) });
    expect(post.statusCode).toBe(200);
    expect(await post.body.json()).toEqual({ ids: [2, 3] });
    const bad = await request(`${v.origin}/_sim/faults`, { method: 'POST', body: '{"kind":"teleport"}' });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { error: string }).error).toMatch(/unknown fault kind/);
    const list = (await (await request(`${v.origin}/_sim/faults`)).body.json()) as { active: Array<{ id: number }>; stats: { injected: number; armed: number } };
    expect(list.active.map((a) => a.id).sort()).toEqual([1, 2, 3]);
    expect(list.stats).toMatchObject({ injected: 3, armed: 3 });
    const rc = new GateRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret, clock: () => Date.now() + skew });
    cleanups.push(() => rc.close());
    const r1 = await rc.placeOrder({ contract: 'BTC_USDT', size: 1, price: '0', tif: 'ioc', text: 't-u1' });
    expect(r1).toMatchObject({ ok: false, status: 400, label: 'INSUFFICIENT_AVAILABLE' });
    const r2 = await rc.placeOrder({ contract: 'BTC_USDT', size: 1, price: '0', tif: 'ioc', text: 't-u2' });
    expect(r2).toMatchObject({ ok: false, status: 429, label: 'TOO_MANY_REQUESTS' });
    expect(r2.rate!.resetMs).toBeGreaterThan(Date.now() + 1000);
    const r3 = await rc.placeOrder({ contract: 'BTC_USDT', size: 1, price: '0', tif: 'ioc', text: 't-u3' });
    expect(r3).toMatchObject({ ok: true });
    expect((await rc.getOrder('t-u3')).ok).toBe(true);
    skew = 61_000; // both clocks move on: past 60 s the text no longer finds the finished order, its id does
    expect(await rc.getOrder('t-u3')).toMatchObject({ ok: false, label: 'ORDER_NOT_FOUND' });
    expect((await rc.getOrder((r3 as { value: { id: string } }).value.id)).ok).toBe(true);
    const fin = await rc.listOrders('BTC_USDT', 'finished');
    expect(fin.ok && fin.value.some((o) => o.text === 't-u3')).toBe(true);
    const del = await request(`${v.origin}/_sim/faults`, { method: 'DELETE' });
    expect(await del.body.json()).toEqual({ cleared: 1 });
    expect(v.stats().faults).toMatchObject({ rejects: 1, http429: 1, armed: 0 });
  });

  it('latency: order and ack delays on REST orders, feed delay keeps frame order', async () => {
    const v = await venue({ paused: true, latency: { order: 60, ack: 40 } });
    const rc = new GateRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret });
    cleanups.push(() => rc.close());
    const t0 = Date.now();
    const r = await rc.placeOrder({ contract: 'BTC_USDT', size: 1, price: '0', tif: 'ioc', text: 't-lat1' });
    expect(r.ok).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(99);
    expect(Math.round(Number((r as { value: { create_time: number } }).value.create_time) * 1000) - t0).toBeGreaterThanOrEqual(59);
    const t1 = Date.now();
    expect((await rc.getOrder('t-lat1')).ok).toBe(true); // not an order request: not delayed
    expect(Date.now() - t1).toBeLessThan(60);
    expect(v.stats().faults).toMatchObject({ latencyOrders: 1, latencyAcks: 1 });

    const w = await venue({ rate: 3000, seed: 4, latency: { feed: { kind: 'normal', meanMs: 20, sdMs: 10 }, seed: 9 } });
    const { feed } = startFeed(w);
    await waitFor(() => feed.counters().booksLive === 2, 'books live with a delayed feed');
    await sleep(300);
    expect(feed.counters()).toMatchObject({ bookGaps: 0, decodeErrors: 0 });
    expect(w.stats().faults.latencyFeedFrames).toBeGreaterThan(50);
  });
});

// ---------------------------------------------------------------------------------------------------------

function startFeed(v: GateVenueHandle, over: Partial<FeedOptions> = {}) {
  const ring = SpscRing.create('A', 1 << 15, MARKET_SLOT_BYTES);
  const mirror = new BookMirror(CONTRACTS.length);
  const feed = new FeedHandler(new SymbolRegistry(CONTRACTS), ring, {
    ...DEFAULT_CONFIG.feed,
    venue: 'gate',
    wsBase: v.origin.replace('http', 'ws'),
    restUrl: v.restUrl,
    symbols: CONTRACTS,
    streams: ['book_ticker', 'trades', 'order_book_update@100ms@100'],
    reconnect: { initialMs: 20, maxMs: 200, jitter: 0.3 },
    book: { ...DEFAULT_CONFIG.book, resyncBackoffMs: 20 },
    ...over,
  });
  feed.start();
  cleanups.push(() => feed.stop());
  const drain = (): void => {
    for (;;) {
      const n = ring.poll(4096);
      if (n === 0) return;
      for (let i = 0; i < n; i++) mirror.onRecord(ring.f64, ring.i32, ring.readBase(i));
      ring.release(n);
    }
  };
  return { feed, mirror, drain };
}

function levels(book: L2Book): string {
  const out: string[] = [];
  for (let i = 0; i < book.bidLevels; i++) out.push(`b ${book.bidPrice(i)} ${book.bidQty(i)}`);
  for (let i = 0; i < book.askLevels; i++) out.push(`a ${book.askPrice(i)} ${book.askQty(i)}`);
  return out.join('\n');
}

/** The venue's whole book as the feed's L2Book prints it (REST snapshot, limit 100). */
async function venueLevels(v: GateVenueHandle, contract: string): Promise<{ id: number; text: string }> {
  const res = await request(`${v.restUrl}/futures/usdt/order_book?contract=${contract}&limit=100&with_id=true`);
  const b = (await res.body.json()) as { id: number; bids: Array<{ p: string; s: number }>; asks: Array<{ p: string; s: number }> };
  const out = [...b.bids.map((l) => `b ${Number(l.p)} ${l.s}`), ...b.asks.map((l) => `a ${Number(l.p)} ${l.s}`)];
  return { id: b.id, text: out.join('\n') };
}

describe('market-data faults on Gate: the feed resyncs and its books end equal to the venue book', () => {
  let v: GateVenueHandle;
  beforeAll(async () => {
    v = await startGateVenue({ port: 0, rate: 3000, seed: 5, contracts: CONTRACTS, pingIntervalMs: 200 });
  });
  afterAll(async () => {
    await v.close();
  });
  afterEach(() => {
    v.faults.clear();
    v.resume();
  });

  /** Books Live, the venue paused, then the feed's book, the strategy-side mirror and the venue's book are one. */
  async function healthy(f: ReturnType<typeof startFeed>): Promise<void> {
    await waitFor(() => (f.drain(), f.feed.counters().booksLive === 2), 'books live');
    await sleep(200);
    v.pause();
    await sleep(250); // the last pushes (100 ms streams) arrive
    for (let s = 0; s < CONTRACTS.length; s++) {
      const want = await venueLevels(v, CONTRACTS[s]!);
      await waitFor(() => (f.drain(), f.feed.book(s).lastUpdateId === want.id), `${CONTRACTS[s]} caught up with the venue`);
      expect(f.feed.bookState(s)).toBe(BookState.Live);
      expect(levels(f.feed.book(s))).toBe(want.text);
      expect(levels(f.mirror.books[s]!)).toBe(want.text);
    }
  }

  it('order_book_update gap: skipped pushes break U = prev u + 1; the book resyncs from a new snapshot', async () => {
    const f = startFeed(v);
    await waitFor(() => f.feed.counters().booksLive === 2, 'books live');
    const snaps = f.feed.counters().bookSnapshots;
    v.faults.inject({ kind: 'depthGap', symbol: 'BTC_USDT', events: 2 });
    await waitFor(() => f.feed.counters().bookGaps >= 1, 'gap seen');
    await healthy(f);
    expect(v.stats().faults.depthEventsSkipped).toBe(2);
    expect(f.feed.counters()).toMatchObject({ bookGaps: 1, bookResyncs: 1, bookSnapshots: snaps + 1 });
  });

  it('duplicated and reordered pushes: a repeat is dropped as stale, an overtaken push is a gap and a resync', async () => {
    const f = startFeed(v);
    await waitFor(() => f.feed.counters().booksLive === 2, 'books live');
    v.faults.inject({ kind: 'duplicate', stream: 'order_book_update', count: 4 });
    v.faults.inject({ kind: 'duplicate', stream: 'book_ticker', probability: 0.05, seed: 1, forMs: 400 });
    await waitFor(() => v.stats().faults.duplicates >= 4, 'duplicates sent');
    expect(f.feed.counters().bookGaps).toBe(0);
    v.faults.inject({ kind: 'reorder', stream: 'order_book_update', symbol: 'ETH_USDT' });
    await waitFor(() => f.feed.counters().bookGaps >= 1, 'gap seen');
    await healthy(f);
    expect(v.stats().faults.reorders).toBe(1);
    expect(f.feed.counters().bookResyncs).toBeGreaterThanOrEqual(1);
  });

  it('malformed frames: decode errors; a truncated order_book_update is a gap and a resync', async () => {
    const f = startFeed(v);
    await waitFor(() => f.feed.counters().booksLive === 2, 'books live');
    v.faults.inject({ kind: 'malformed', mode: 'truncate', stream: 'order_book_update', symbol: 'BTC_USDT' });
    v.faults.inject({ kind: 'malformed', mode: 'garbage', probability: 0.05, seed: 2, count: 4 });
    await waitFor(() => f.feed.counters().decodeErrors >= 5, 'decode errors');
    await healthy(f);
    expect(v.stats().faults.malformed).toBe(5);
    expect(f.feed.counters().bookGaps).toBeGreaterThanOrEqual(1);
  });

  it('dropped market connection: reconnect, resubscribe, resync', async () => {
    const f = startFeed(v);
    await waitFor(() => f.feed.counters().booksLive === 2, 'books live');
    const reconnects = f.feed.counters().reconnects;
    const snaps = f.feed.counters().bookSnapshots;
    v.faults.inject({ kind: 'drop', target: 'market' });
    await waitFor(() => f.feed.counters().reconnects >= reconnects + 1, 'reconnect after the drop');
    await healthy(f);
    expect(v.stats().faults.drops).toBe(1);
    expect(f.feed.counters().bookSnapshots).toBeGreaterThanOrEqual(snaps + 2);
  });

  it('stalled market connection: pushes held then released in order (no gap); with pings stalled too, the idle timeout reconnects', async () => {
    const f = startFeed(v);
    await waitFor(() => f.feed.counters().booksLive === 2, 'books live');
    const gaps = f.feed.counters().bookGaps;
    v.faults.inject({ kind: 'stall', target: 'market', ms: 500 });
    await sleep(700);
    await healthy(f);
    expect(f.feed.counters().bookGaps).toBe(gaps);
    expect(v.stats().faults.stalls).toBe(1);
    // a venue whose protocol pings are rare: a stall silences the connection and the feed's idle timeout acts
    const quiet = await venue({ rate: 3000, seed: 6, pingIntervalMs: 60_000 });
    const q = startFeed(quiet, { idleTimeoutMs: 300 });
    await waitFor(() => q.feed.counters().booksLive === 2, 'books live');
    const rc = q.feed.counters().reconnects;
    quiet.faults.inject({ kind: 'stall', target: 'market', ms: 1500 });
    await waitFor(() => q.feed.counters().reconnects > rc, 'reconnect after the stall');
    await waitFor(() => q.feed.counters().booksLive === 2 && q.feed.counters().bookSnapshots >= 4, 'books live again');
  });

  it('a discarding stall (pushes lost, connection kept) is a gap and a resync', async () => {
    const f = startFeed(v);
    await waitFor(() => f.feed.counters().booksLive === 2, 'books live');
    v.faults.inject({ kind: 'stall', target: 'market', ms: 250, discard: true });
    await waitFor(() => f.feed.counters().bookGaps >= 1, 'gap');
    await healthy(f);
    expect(v.stats().faults.stallDiscards).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------

const idle: Strategy = { name: 'test', onMarket: () => undefined, onReport: () => undefined, onTimer: () => undefined };
const venuePos = (v: GateVenueHandle, contract = 'BTC_USDT'): number => Number(v.positions().find((p) => p.symbol === contract)?.positionAmt ?? 0);

interface Rec {
  intentId: number;
  status: number;
  execType: number;
  cumQty: number;
  reason: number;
  code: number;
  stream: boolean;
}

/** The Gate execution side in-process: a StrategyRunner submitting into ring B, the GateExecutionService draining it. */
async function rig(v: GateVenueHandle, o: Partial<GateExecutionOptions> = {}) {
  const { instruments, contracts } = await fetchGateContracts(v.restUrl, CONTRACTS);
  const ringB = SpscRing.create('B', 64, INTENT_SLOT_BYTES);
  const ringC = SpscRing.create('C', 256, REPORT_SLOT_BYTES);
  const runner = new StrategyRunner(idle, instruments, ringB, new PreTradeLimits({ maxOrderQty: 100, maxPosition: 100 }), { now: nowNs });
  const logs: string[] = [];
  const service = new GateExecutionService({
    ringB, ringC, symbols: CONTRACTS, instruments, contracts,
    restUrl: v.restUrl, wsUrl: v.wsUrl, apiKey: v.apiKey, apiSecret: v.apiSecret, userId: v.userId,
    clientIdPrefix: `g${Date.now().toString(36)}_`,
    requestTimeoutMs: 300,
    orderExpiryMs: 500,
    now: nowNs,
    hists: {},
    log: (level, msg) => logs.push(`${level} ${msg}`),
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
      if (headerType(h) === RecordType.ExecReport) {
        records.push({ intentId: f[b + RP.INTENT_ID]!, status: f[b + RP.STATUS]!, execType: f[b + RP.EXEC_TYPE]!, cumQty: f[b + RP.CUM_QTY]!, reason: f[b + RP.REASON]!, code: f[b + RP.ERROR_CODE]!, stream: ((h >>> 8) & 0x80) !== 0 });
      }
      runner.onReportRecord(f, ringC.i32, ringC.u8, b);
    }
    ringC.release(n);
  };
  const until = (cond: () => boolean, what: string, ms?: number): Promise<void> => waitFor(() => (pump(), cond()), what, ms);
  const req = new OrderRequest();
  const market = (side: Side, qty = 1): number => {
    req.symbolId = 0;
    req.side = side;
    req.type = OrderType.Market;
    req.tif = TimeInForce.None;
    req.price = 0;
    req.qty = qty;
    req.reduceOnly = false;
    return runner.submit(req);
  };
  /** transport and resolver reports of an intent (not the private channels') */
  const of = (id: number): Rec[] => records.filter((r) => r.intentId === id && !r.stream);
  await until(() => service.userStream.subscribed, 'private channels');
  const settled = (): Promise<void> => until(() => runner.position(0) === venuePos(v) && runner.inflightCount() === 0, 'position = venue');
  return { service, runner, records, until, market, of, logs, settled };
}

describe('order-path faults on Gate: every order resolved exactly once, none sent twice, position = venue', () => {
  it('REST, ack lost (hang and close): Unknown, resolved Filled by text; the venue got one order each', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'loseAck' });
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length >= 1, 'unknown');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Unknown, reason: RejectReason.Timeout });
    v.faults.inject({ kind: 'loseAck', mode: 'close' });
    const b = r.market(Side.Buy, 2);
    await r.until(() => r.of(a).length === 2 && r.of(b).length === 2, 'resolutions');
    expect(r.of(a)[1]).toMatchObject({ status: OrderStatus.Filled, execType: ExecType.Fill, cumQty: 1 });
    expect(r.of(b).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Filled]);
    await sleep(100);
    expect(r.of(a)).toHaveLength(2);
    expect(r.of(b)).toHaveLength(2);
    expect(v.stats().ordersAccepted).toBe(accepted + 2);
    expect(v.stats().faults.acksLost).toBe(2);
    expect(r.service.counters()).toMatchObject({ unknown: 2, unknownResolved: 2, resolvedFilled: 2 });
    await r.settled();
    expect(r.runner.position(0)).toBe(3);
  });

  it('REST, ack delayed: within the timeout just slow; past it Unknown then resolved, never resent', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'delayAck', ms: 120 });
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1, 'slow fill');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Filled });
    // well past the timeout (undici's timers are coarse)
    v.faults.inject({ kind: 'delayAck', ms: 1500 });
    const b = r.market(Side.Sell, 3);
    await r.until(() => r.of(b).length === 2, 'timeout + resolution');
    expect(r.of(b).map((x) => [x.status, x.cumQty])).toEqual([[OrderStatus.Unknown, 0], [OrderStatus.Filled, 3]]);
    expect(v.stats().ordersAccepted).toBe(accepted + 2);
    expect(v.stats().faults.acksDelayed).toBe(2);
    await r.settled();
    expect(r.runner.position(0)).toBe(-2);
  });

  it('5xx in Gate error JSON: INTERNAL not acted on -> never arrived after x-gate-exptime; TOO_BUSY acted on -> Filled', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'http', status: 500 });
    const a = r.market(Side.Buy);
    v.faults.inject({ kind: 'http', status: 503, executed: true });
    const b = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 2 && r.of(b).length === 2, 'resolutions');
    expect(r.of(a).map((x) => [x.status, x.code])).toEqual([[OrderStatus.Unknown, 500], [OrderStatus.Rejected, 404]]);
    expect(r.of(b).map((x) => [x.status, x.code])).toEqual([[OrderStatus.Unknown, 503], [OrderStatus.Filled, 0]]);
    expect(r.service.counters()).toMatchObject({ unknownSeen: 2, unknownResolved: 2, resolvedFilled: 1, resolvedNeverArrived: 1 });
    expect(v.stats().ordersAccepted).toBe(accepted + 1);
    expect(v.stats().faults).toMatchObject({ http500: 1, http503: 1, httpExecuted: 1 });
    await r.settled();
    expect(r.runner.position(0)).toBe(1);
  });

  it('rejects by label: typed reasons, pending quantity released, nothing placed', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'reject', label: ['INSUFFICIENT_AVAILABLE', 'SIZE_TOO_LARGE', 'ORDER_POC_IMMEDIATE'], count: 3 });
    const ids = [r.market(Side.Buy, 5), r.market(Side.Buy, 3), r.market(Side.Sell, 2)];
    await r.until(() => ids.every((id) => r.of(id).length === 1), 'rejects');
    expect(ids.map((id) => [r.of(id)[0]!.status, r.of(id)[0]!.code, r.of(id)[0]!.reason])).toEqual([
      [OrderStatus.Rejected, 400, RejectReason.Venue],
      [OrderStatus.Rejected, 400, RejectReason.LotSize],
      [OrderStatus.Rejected, 400, RejectReason.Venue],
    ]);
    expect(r.runner.pendingQty(0, Side.Buy)).toBe(0);
    expect(r.runner.inflightCount()).toBe(0);
    expect(v.stats().ordersAccepted).toBe(accepted);
    expect(v.stats().faults.rejects).toBe(3);
    const d = r.market(Side.Buy, 4);
    await r.until(() => r.of(d).length === 1, 'fill');
    expect(r.of(d)[0]).toMatchObject({ status: OrderStatus.Filled, cumQty: 4 });
    await r.settled();
  });

  it('429 TOO_MANY_REQUESTS: no new order leaves until the venue reset time, then orders flow', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    v.faults.inject({ kind: 'http', status: 429, retryAfter: 1 });
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1, '429');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Rejected, code: 429, reason: RejectReason.RateLimited });
    const backoff = r.service.guard.backoffUntilMs - r.service.clock.now();
    expect(backoff).toBeGreaterThan(500);
    expect(backoff).toBeLessThanOrEqual(1000);
    const sent = v.stats().orderRequests;
    const b = r.market(Side.Buy);
    await r.until(() => r.of(b).length === 1, 'local refusal');
    expect(r.of(b)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.RateLimited, code: 0 });
    expect(v.stats().orderRequests).toBe(sent);
    await waitFor(() => r.service.clock.now() >= r.service.guard.backoffUntilMs, 'reset time');
    const c = r.market(Side.Buy);
    await r.until(() => r.of(c).length === 1, 'after the reset');
    expect(r.of(c)[0]).toMatchObject({ status: OrderStatus.Filled });
    expect(r.service.counters()).toMatchObject({ rateLimited: 1, refusedBackoff: 1 });
    await r.settled();
  });

  it('418 (a ban: 403 IP_FORBIDDEN on Gate): order entry halts with an alarm until cleared', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    v.faults.inject({ kind: 'http', status: 418 });
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1, '403');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.Halted, code: 403 });
    expect(r.service.guard.halted).toBe(true);
    expect(r.logs.some((l) => l.startsWith('error ALARM: order entry halted: IP_FORBIDDEN'))).toBe(true);
    expect(r.runner.tradingState).toBe(TradingState.Halted);
    const sent = v.stats().orderRequests;
    r.runner.setTradingState(TradingState.Active);
    const b = r.market(Side.Sell);
    await r.until(() => r.of(b).length === 1, 'refused');
    expect(r.of(b)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.Halted });
    expect(v.stats().orderRequests).toBe(sent);
    r.service.guard.clearHalt();
    r.runner.setTradingState(TradingState.Active);
    const c = r.market(Side.Sell);
    await r.until(() => r.of(c).length === 1, 'after clear');
    expect(r.of(c)[0]).toMatchObject({ status: OrderStatus.Filled });
    expect(v.stats().faults.http418).toBe(1);
  });

  it('venue clock skew past Gate\'s 60 s window: REQUEST_EXPIRED, the clock re-estimated from X-In-Time, then orders pass', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    v.faults.inject({ kind: 'clockSkew', ms: 90_000 });
    const late = r.market(Side.Buy);
    await r.until(() => r.of(late).length === 1, 'REQUEST_EXPIRED');
    expect(r.of(late)[0]).toMatchObject({ status: OrderStatus.Rejected, code: 401 });
    expect(Math.abs(r.service.clock.offsetMs - 90_000)).toBeLessThan(200);
    const again = r.market(Side.Buy);
    await r.until(() => r.of(again).length === 1, 'fill after the resync');
    expect(r.of(again)[0]).toMatchObject({ status: OrderStatus.Filled });
    expect(r.service.counters()).toMatchObject({ clockResyncs: 1 });
    expect(v.stats().faults.clockSkewMs).toBe(90_000);
    await r.settled();
  });

  it('dropped private connection: the private channels reconnect and resubscribe; later fills still reach the position', async () => {
    const v = await venue({ paused: true });
    const r = await rig(v);
    const connects = r.service.userStream.ws.connects;
    v.faults.inject({ kind: 'drop', target: 'user' });
    await waitFor(() => r.service.userStream.ws.connects > connects && r.service.userStream.subscribed, 'private channels back');
    const a = r.market(Side.Buy, 2);
    await r.until(() => r.of(a).length === 1 && r.records.some((x) => x.stream && x.intentId === a), 'fill and its stream report');
    await r.settled();
    expect(r.runner.position(0)).toBe(2);
    expect(v.stats().faults.drops).toBeGreaterThanOrEqual(1);
  });
});

// ---------------------------------------------------------------------------------------------------------

/** Reports of the transports and the resolver (no ring in between). */
class Sink implements ExecReportSink {
  readonly rows: Array<{ intentId: number; status: number; cumQty: number; reason: number }> = [];
  execReport(_s: number, intentId: number, _side: number, _r: number, _st: number, _a: number, status: OrderStatus, _x: ExecType, _lq: number, _lp: number, cumQty: number, _ap: number, _oid: number, _code: number, _vt: number, reason: RejectReason): void {
    this.rows.push({ intentId, status, cumQty, reason });
  }
  of(id: number) {
    return this.rows.filter((r) => r.intentId === id);
  }
}

function intent(id: number, side: number, qty: number, type = OrderType.Market, target = 0): Float64Array {
  const f = new Float64Array(INTENT_SLOT_BYTES / 8);
  f[IN.INTENT_ID] = id;
  f[IN.TARGET_ID] = target;
  f[IN.SIDE] = side;
  f[IN.ORDER_TYPE] = type;
  f[IN.QTY_STEPS] = qty;
  f[IN.TIF] = TimeInForce.None;
  f[W.RECV_TS] = 0;
  return f;
}

describe('WS API faults on Gate: lost / late answers resolved once, a dropped or stalled API connection', () => {
  let rules: GateContractRules[];
  async function ws(v: GateVenueHandle) {
    if (!rules) rules = (await fetchGateContracts(v.restUrl, CONTRACTS)).contracts;
    const sink = new Sink();
    const q = new GateRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret });
    const resolver = new GateUnknownResolver({ query: q, sink, venueTimeMs: Date.now, now: nowNs, pollMs: 50 });
    const opts = { restUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret, contracts: rules, clientIdPrefix: `w${Date.now().toString(36)}_`, requestTimeoutMs: 250, now: nowNs, venueTimeMs: Date.now, resolver, wsTimeWindowMs: 400 };
    const rest = new GateOrderTransport(sink, opts);
    const t = new GateWsOrderTransport(sink, { ...opts, wsUrl: v.wsUrl, ws: { backoff: { initialMs: 20, maxMs: 100, jitter: 0 } } }, rest);
    t.start();
    cleanups.push(async () => {
      resolver.stop();
      await t.close();
      await rest.close();
      await q.close();
    });
    await waitFor(() => t.isReady(), 'ws api logged in');
    return { sink, t, resolver };
  }

  it('ack lost, ack late, INTERNAL over the WS API: one resolution each; the late answer and the resolver never both count', async () => {
    const v = await venue({ paused: true });
    const { sink, t, resolver } = await ws(v);
    const accepted = v.stats().ordersAccepted;
    v.faults.inject({ kind: 'loseAck', transport: 'wsapi' });
    t.place(intent(1, 1, 1), 0, 0, 0);
    await waitFor(() => sink.of(1).length === 2, 'lost ack resolved');
    expect(sink.of(1).map((x) => [x.status, x.reason])).toEqual([[OrderStatus.Unknown, RejectReason.Timeout], [OrderStatus.Filled, RejectReason.None]]);
    // late past the timeout but before the resolver could act: the late answer is the one outcome
    v.faults.inject({ kind: 'delayAck', ms: 400, transport: 'wsapi' });
    t.place(intent(2, 1, 2), 0, 0, 0);
    await waitFor(() => sink.of(2).length === 2, 'late or resolved');
    await sleep(600);
    expect(sink.of(2).map((x) => [x.status, x.cumQty])).toEqual([[OrderStatus.Unknown, 0], [OrderStatus.Filled, 2]]);
    expect(t.wsCounters.lateAnswers + t.wsCounters.lateAnswersDropped).toBe(1);
    // INTERNAL, not acted on: never arrived once its time window has passed
    v.faults.inject({ kind: 'http', status: 500, transport: 'wsapi' });
    t.place(intent(3, 1, 1), 0, 0, 0);
    await waitFor(() => sink.of(3).length === 2, 'never arrived');
    expect(sink.of(3).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Rejected]);
    expect(resolver.counters).toMatchObject({ resolvedNeverArrived: 1 });
    expect(v.stats().ordersAccepted).toBe(accepted + 2);
    expect(venuePos(v)).toBe(3);
  });

  it('a malformed answer, a dropped and a stalled API connection: Unknown, resolved; the transport logs in again', async () => {
    const v = await venue({ paused: true });
    const { sink, t } = await ws(v);
    // an order_place has two answers (the ack echo, then the result): both damaged
    v.faults.inject({ kind: 'malformed', target: 'api', mode: 'truncate', count: 2 });
    t.place(intent(10, -1, 1), 0, 0, 0);
    await waitFor(() => sink.of(10).length === 2, 'malformed resolved');
    expect(sink.of(10).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Filled]);
    v.faults.inject({ kind: 'stall', target: 'api', ms: 800 });
    t.place(intent(11, -1, 1), 0, 0, 0);
    await waitFor(() => sink.of(11).length >= 2, 'stalled answer resolved');
    expect(sink.of(11).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Filled]);
    v.faults.inject({ kind: 'drop', target: 'api' });
    await waitFor(() => !t.isReady(), 'api down');
    await waitFor(() => t.isReady(), 'logged in again');
    t.place(intent(12, -1, 1), 0, 0, 0);
    await waitFor(() => sink.of(12).length === 1, 'order after the reconnect');
    expect(sink.of(12)[0]).toMatchObject({ status: OrderStatus.Filled });
    await sleep(1000); // the stalled answer arrives after all: counted at most once
    expect(sink.of(11)).toHaveLength(2);
    expect(venuePos(v)).toBe(-3);
  });
});
