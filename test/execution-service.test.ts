import * as net from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, validateConfig } from '../src/config/Config.js';
import { Engine, fetchVenueSymbols } from '../src/engine/Engine.js';
import { ExecutionService, type ExecutionServiceOptions } from '../src/exec/ExecutionService.js';
import { GatedReportWriter, RingReportSink } from '../src/exec/OrderTransport.js';
import { UnknownResolver, type OrderQuery } from '../src/exec/UnknownResolver.js';
import { BinanceRestClient, type OrderResolution, type OrderResponse } from '../src/venues/binance/RestClient.js';
import { ExecType, IN, INTENT_SLOT_BYTES, OrderStatus, OrderType, REPORT_SLOT_BYTES, RP, RecordType, RejectReason, Side, TimeInForce, W, headerType, packHeader } from '../src/ring/layout.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { PreTradeLimits } from '../src/risk/PreTradeLimits.js';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { OrderRequest, type Strategy } from '../src/strategy/Strategy.js';
import { StrategyRunner } from '../src/strategy/StrategyRunner.js';
import { createLogger } from '../src/util/log.js';
import { nowNs } from '../src/util/clock.js';
import { sleep, useCleanups, waitFor } from './helpers/wait.js';

const cleanups = useCleanups();

async function venue(): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, paused: true, symbols: ['BTCUSDT', 'ETHUSDT'] });
  cleanups.push(() => v.close());
  return v;
}

const venuePos = (v: BinanceVenueHandle, symbol = 'BTCUSDT'): number => Number(v.positions().find((p) => p.symbol === symbol)?.positionAmt ?? 0);

/**
 * A TCP relay in front of the venue that can lose the answer to the next order: `hold` (the venue gets the
 * request, its reply never comes back), `swallow` (the request itself never reaches the venue) or `cut`
 * (the venue answers, the connection dies before the answer is delivered). REST requests are matched by
 * their request line; `holdAll` holds every reply on every connection (WebSocket frames are masked).
 */
async function relay(targetPort: number) {
  type Mode = 'pass' | 'hold' | 'swallow' | 'cut';
  let next: Mode = 'pass';
  let holdAll = false;
  const pairs: Array<[net.Socket, net.Socket]> = [];
  const held: Array<[net.Socket, Buffer]> = [];
  const server = net.createServer((c) => {
    const u = net.connect(targetPort, '127.0.0.1');
    pairs.push([c, u]);
    let lost: Mode = 'pass';
    c.on('data', (d) => {
      if (next !== 'pass' && d.includes('POST /fapi/v1/order ')) {
        lost = next;
        next = 'pass';
        if (lost === 'swallow') return;
      }
      u.write(d);
    });
    u.on('data', (d) => {
      if (lost === 'hold' || lost === 'swallow') return;
      if (lost === 'cut') {
        c.destroy();
        u.destroy();
        return;
      }
      if (holdAll) held.push([c, Buffer.from(d)]);
      else c.write(d);
    });
    const end = (): void => {
      c.destroy();
      u.destroy();
    };
    for (const s of [c, u]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const r = {
    port,
    loseNextOrder(m: Mode): void {
      next = m;
    },
    holdAll(): void {
      holdAll = true;
    },
    release(): void {
      holdAll = false;
      for (const [c, d] of held.splice(0)) if (!c.destroyed) c.write(d);
    },
    cut(): void {
      for (const [c, u] of pairs.splice(0)) {
        c.destroy();
        u.destroy();
      }
    },
  };
  cleanups.push(() => new Promise<void>((res) => { held.length = 0; r.cut(); server.close(() => res()); }));
  return r;
}

const idle: Strategy = { name: 'test', onMarket: () => undefined, onReport: () => undefined, onTimer: () => undefined };

/**
 * The execution side in-process: a StrategyRunner (positions from ring C) submitting into ring B, and an
 * ExecutionService draining it, as the strategy and execution workers do.
 */
async function rig(v: BinanceVenueHandle, o: Partial<ExecutionServiceOptions>) {
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
    recvWindow: 1000,
    requestTimeoutMs: 300,
    keepAliveMs: 60_000,
    warmIntervalMs: 0,
    clientIdPrefix: `t${Date.now().toString(36)}-`,
    timeOffsetMs: 0,
    now: nowNs,
    hists: {},
    log: (level, msg) => logs.push(`${level} ${msg}`),
    backoff: { initialMs: 20, maxMs: 200 },
    ...o,
  });
  cleanups.push(() => service.stop());
  await service.start();
  const records: Array<{ type: number; intentId: number; status: number; execType: number; cumQty: number; reason: number; code: number; stream: boolean }> = [];
  /** Reads ring C as the strategy worker does. */
  const pump = (): void => {
    const n = ringC.poll();
    for (let i = 0; i < n; i++) {
      const b = ringC.readBase(i);
      const h = ringC.i32[b * 2]!;
      records.push({
        type: headerType(h), intentId: ringC.f64[b + RP.INTENT_ID]!, status: ringC.f64[b + RP.STATUS]!, execType: ringC.f64[b + RP.EXEC_TYPE]!,
        cumQty: ringC.f64[b + RP.CUM_QTY]!, reason: ringC.f64[b + RP.REASON]!, code: ringC.f64[b + RP.ERROR_CODE]!, stream: ((h >>> 8) & 0x80) !== 0,
      });
      runner.onReportRecord(ringC.f64, ringC.i32, ringC.u8, b);
    }
    ringC.release(n);
  };
  const until = async (cond: () => boolean, what: string, ms?: number): Promise<void> => waitFor(() => (pump(), cond()), what, ms);
  const req = new OrderRequest();
  const market = (side: Side, qty = 0.002): number => {
    req.symbolId = 0;
    req.side = side;
    req.type = OrderType.Market;
    req.tif = TimeInForce.None;
    req.price = 0;
    req.qty = qty;
    return runner.submit(req);
  };
  const of = (id: number) => records.filter((r) => r.type === RecordType.ExecReport && r.intentId === id && !r.stream);
  // the stream is up (its start reconcile: our position is the venue's)
  if (service.userStream) await until(() => service.userStream!.connected, 'user stream');
  /** OrderCancel of intent `target` (the strategy API has no cancel yet: written as a strategy would) */
  const cancel = (cancelId: number, target: number): void => {
    const b = ringB.claim();
    ringB.i32[b * 2] = packHeader(RecordType.OrderCancel, 0, 0);
    ringB.i32[b * 2 + 1] = 0;
    ringB.f64[b + W.RECV_TS] = nowNs();
    ringB.f64[b + W.PUB_TS] = nowNs();
    ringB.f64[b + IN.INTENT_ID] = cancelId;
    ringB.f64[b + IN.SIDE] = Side.Buy;
    ringB.f64[b + IN.TARGET_ID] = target;
    ringB.commit();
  };
  return { service, runner, records, pump, until, market, cancel, of, logs };
}

describe('ring C with two writers on the execution thread', () => {
  it('the user stream waits behind transport reports held in the overflow queue: ring order = write order', () => {
    const ring = SpscRing.create('C', 4, REPORT_SLOT_BYTES);
    const sink = new RingReportSink(ring, () => 1);
    const gate = new GatedReportWriter(ring, sink);
    const report = (id: number): void => sink.execReport(0, id, 1, 0, 0, 0, OrderStatus.New, ExecType.Ack, 0, 0, 0, 0, 0, 0, 0, RejectReason.None, '');
    const stream = (id: number): boolean => {
      const b = gate.claim();
      if (b < 0) return false;
      ring.i32[b * 2] = packHeader(RecordType.ExecReport, 0x80, 0);
      ring.f64[b + RP.INTENT_ID] = id;
      gate.commit();
      return true;
    };
    for (let id = 1; id <= 6; id++) report(id); // 4 in the ring, 5 and 6 in the overflow queue
    expect(sink.pending).toBe(2);
    expect(stream(100)).toBe(false); // would overtake 5 and 6
    expect(gate.refused).toBe(1);
    const read = (): number[] => {
      const out: number[] = [];
      const n = ring.poll();
      for (let i = 0; i < n; i++) out.push(ring.f64[ring.readBase(i) + RP.INTENT_ID]!);
      ring.release(n);
      return out;
    };
    expect(read()).toEqual([1, 2, 3, 4]);
    expect(stream(100)).toBe(true); // flushes 5 and 6 first, then goes in
    report(7);
    expect(read()).toEqual([5, 6, 100, 7]);
  });
});

describe('unknown resolver', () => {
  const order = (status: string, executedQty: string): OrderResponse => ({ orderId: 77, symbol: 'BTCUSDT', status, clientOrderId: 'x-5', side: 'BUY', executedQty, avgPrice: '100.5', updateTime: 1700 }) as unknown as OrderResponse;
  function setup(answers: Array<OrderResolution | Error>) {
    const ring = SpscRing.create('C', 16, REPORT_SLOT_BYTES);
    const asked: string[] = [];
    const query: OrderQuery = {
      resolveOrder: async (symbol, clid) => {
        asked.push(`${symbol} ${clid}`);
        const a = answers.shift()!;
        if (a instanceof Error) throw a;
        return a;
      },
    };
    let venueMs = 1_000_000;
    const res = new UnknownResolver({ query, sink: new RingReportSink(ring, () => 1), symbols: ['BTCUSDT'], clientIdPrefix: 'x-', venueTimeMs: () => venueMs, recvWindowMs: 30, marginMs: 0, now: () => 1, retryMs: 5 });
    const read = () => {
      const n = ring.poll();
      const out = [];
      for (let i = 0; i < n; i++) {
        const b = ring.readBase(i);
        out.push({ intentId: ring.f64[b + RP.INTENT_ID], status: ring.f64[b + RP.STATUS], execType: ring.f64[b + RP.EXEC_TYPE], cumQty: ring.f64[b + RP.CUM_QTY], side: ring.f64[b + RP.SIDE], code: ring.f64[b + RP.ERROR_CODE] });
      }
      ring.release(n);
      return out;
    };
    return { res, asked, read, advance: (ms: number) => (venueMs += ms) };
  }

  it('waits out the recvWindow on the venue clock, then writes the real state; failed queries are retried', async () => {
    const t = setup([new Error('socket hang up'), { state: 'found', order: order('FILLED', '0.002') }]);
    t.res.enqueue(0, 5, 1, 0, 0);
    t.res.enqueue(0, 5, 1, 0, 0); // a second Unknown for the same order: one resolution
    await sleep(40);
    expect(t.asked).toEqual([]); // the venue clock has not moved past the recvWindow
    t.advance(31);
    await waitFor(() => t.res.size === 0, 'resolution');
    expect(t.asked).toEqual(['BTCUSDT x-5', 'BTCUSDT x-5']);
    expect(t.read()).toEqual([{ intentId: 5, status: OrderStatus.Filled, execType: ExecType.Fill, cumQty: 0.002, side: 1, code: 0 }]);
    expect(t.res.counters).toMatchObject({ unknownSeen: 1, unknownResolved: 1, resolvedFilled: 1, resolveErrors: 1, resolvePending: 0 });
  });

  it('-2013 is "never arrived"; a late response first means no follow-up', async () => {
    const t = setup([{ state: 'notFound' }, { state: 'found', order: order('NEW', '0') }]);
    t.res.enqueue(0, 6, -1, 0, 0);
    t.advance(1000);
    await waitFor(() => t.res.size === 0, 'resolution');
    expect(t.read()).toEqual([{ intentId: 6, status: OrderStatus.Rejected, execType: ExecType.Reject, cumQty: 0, side: -1, code: -2013 }]);
    t.res.enqueue(0, 8, 1, 0, 0);
    t.res.settle(8);
    t.advance(1000);
    await waitFor(() => t.res.size === 0, 'resolution');
    expect(t.read()).toEqual([]);
    expect(t.res.counters).toMatchObject({ resolvedNeverArrived: 1, resolvedByLateResponse: 1, unknownResolved: 1 });
  });
});

describe('execution service: lost responses are resolved by client order id, never resent', () => {
  it('REST: reply lost (held), connection cut after the venue acted, request lost: Unknown, then the real state', async () => {
    const v = await venue();
    const px = await relay(v.port);
    const r = await rig(v, { restUrl: `http://127.0.0.1:${px.port}` });
    const start = venuePos(v);
    const accepted0 = v.stats().ordersAccepted;

    // 1. the venue fills it, the answer never comes: Unknown (timeout), then Filled from GET /fapi/v1/order
    px.loseNextOrder('hold');
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1, 'unknown report');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Unknown, reason: RejectReason.Transport });
    await r.until(() => r.of(a).length === 2, 'resolution');
    expect(r.of(a)[1]).toMatchObject({ status: OrderStatus.Filled, execType: ExecType.Fill, cumQty: 0.002 });
    expect(v.stats().ordersAccepted).toBe(accepted0 + 1); // nothing was resent

    // 2. the venue answers, the connection dies before the answer reaches us
    px.loseNextOrder('cut');
    const b = r.market(Side.Buy);
    await r.until(() => r.of(b).length === 2, 'cut + resolution');
    expect(r.of(b).map((x) => x.status)).toEqual([OrderStatus.Unknown, OrderStatus.Filled]);
    expect(v.stats().ordersAccepted).toBe(accepted0 + 2);

    // 3. the request never reaches the venue: after its recvWindow the venue does not know it (-2013)
    px.loseNextOrder('swallow');
    const c = r.market(Side.Sell);
    await r.until(() => r.of(c).length === 2, 'swallow + resolution');
    expect(r.of(c)[1]).toMatchObject({ status: OrderStatus.Rejected, execType: ExecType.Reject, code: -2013, reason: RejectReason.Transport });
    expect(v.stats().ordersAccepted).toBe(accepted0 + 2);

    // 4. and an order after all that goes through normally
    const d = r.market(Side.Sell);
    await r.until(() => r.of(d).length === 1 && r.runner.inflightCount() === 0, 'normal order');
    expect(r.of(d)[0]).toMatchObject({ status: OrderStatus.Filled, cumQty: 0.002 });

    const k = r.service.counters();
    expect(k).toMatchObject({ unknown: 2 + 1, unknownSeen: 3, unknownResolved: 3, resolvedFilled: 2, resolvedNeverArrived: 1, resolvePending: 0 });
    // Fills came from the stream as well as from the responses and resolutions: each counted once.
    await r.until(() => Math.abs(r.runner.position(0) - venuePos(v)) < 1e-9 && r.runner.counters.streamReports >= 6, 'stream caught up');
    expect(r.runner.position(0)).toBeCloseTo(start + 0.002, 12);
    expect(r.runner.position(0)).toBeCloseTo(venuePos(v), 12);
    expect(r.runner.counters.duplicateQty).toBeGreaterThan(0);
    expect(r.runner.inflightCount()).toBe(0);
  }, 30_000);

  it('WS API: a timed-out request is resolved over REST; the late answer does not count twice; a dead socket falls back to REST', async () => {
    const v = await venue();
    const px = await relay(v.port);
    const r = await rig(v, { transport: 'wsapi', wsApiUrl: `ws://127.0.0.1:${px.port}/ws-fapi/v1` });
    const start = venuePos(v);
    const wsBefore = v.stats().wsApiRequests;
    // a normal order over the WS API
    const a = r.market(Side.Buy);
    await r.until(() => r.of(a).length === 1, 'ws order');
    expect(r.of(a)[0]).toMatchObject({ status: OrderStatus.Filled, cumQty: 0.002 });
    expect(v.stats().wsApiRequests).toBe(wsBefore + 1);

    // the answer is held past the timeout: Unknown, resolved Filled; then the late answer arrives
    px.holdAll();
    const b = r.market(Side.Buy);
    await r.until(() => r.of(b).length === 2, 'timeout + resolution');
    expect(r.of(b).map((x) => [x.status, x.reason])).toEqual([[OrderStatus.Unknown, RejectReason.Timeout], [OrderStatus.Filled, RejectReason.None]]);
    px.release();
    await r.until(() => r.of(b).length === 3, 'late response');
    expect(r.of(b)[2]).toMatchObject({ status: OrderStatus.Filled, cumQty: 0.002 });

    // the socket dies (and its reconnect hangs): orders go over REST meanwhile, counted
    px.holdAll();
    px.cut();
    await waitFor(() => !r.service.wsApi!.isReady(), 'ws-api down');
    const c = r.market(Side.Sell);
    await r.until(() => r.of(c).length === 1, 'fallback order');
    expect(r.of(c)[0]).toMatchObject({ status: OrderStatus.Filled, cumQty: 0.002 });
    px.release();
    await waitFor(() => r.service.wsApi!.isReady(), 'ws-api back');

    const k = r.service.counters();
    expect(k).toMatchObject({ transportFallbacks: 1, viaRest: 1, viaPreferred: 2, wsApiTimeouts: 1, wsApiLateResponses: 1, unknownResolved: 1, resolvedFilled: 1 });
    await r.until(() => Math.abs(r.runner.position(0) - venuePos(v)) < 1e-9, 'positions agree');
    expect(r.runner.position(0)).toBeCloseTo(start + 0.002, 12);
    expect(r.runner.position(0)).toBeCloseTo(venuePos(v), 12);
  }, 30_000);

  it('cancels go by client order id on both transports', async () => {
    const v = await venue();
    for (const transport of ['http', 'wsapi'] as const) {
      const r = await rig(v, { transport, userStream: false });
      const bid = Number(v.top('BTCUSDT').bid);
      const req = new OrderRequest();
      req.symbolId = 0;
      req.side = Side.Buy;
      req.type = OrderType.Limit;
      req.tif = TimeInForce.Gtc;
      req.price = Math.round(bid * 0.9 * 10) / 10;
      req.qty = 0.002;
      const id = r.runner.submit(req);
      await r.until(() => r.of(id).length === 1, 'ack');
      expect(r.of(id)[0]).toMatchObject({ status: OrderStatus.New, execType: ExecType.Ack });
      r.cancel(9001, id);
      r.cancel(9002, 424242);
      await r.until(() => r.of(id).length === 2 && r.of(9002).length === 1, 'cancel answers');
      expect(r.of(id)[1]).toMatchObject({ status: OrderStatus.Canceled, execType: ExecType.Canceled });
      expect(r.of(9002)[0]).toMatchObject({ status: OrderStatus.Rejected, code: -2011 });
      expect(r.runner.inflightCount()).toBe(0);
      expect(r.service.counters()).toMatchObject({ cancels: 2, ...(transport === 'wsapi' ? { viaPreferred: 3 } : { viaRest: 3 }) });
      await r.service.stop();
    }
  }, 30_000);
});

describe('conditional orders on the algo-order service', () => {
  it('a protective stop (close-position, on the mark price) rests at the venue, triggers there, and its fill comes back under its intent; stops are cancelled on the algo endpoint', async () => {
    const v = await venue();
    const r = await rig(v, { transport: 'http' });
    const rest = new BinanceRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret });
    cleanups.push(() => rest.close());
    await rest.init();
    const entry = r.market(Side.Buy, 0.002);
    await r.until(() => Math.abs(r.runner.position(0) - 0.002) < 1e-12 && r.runner.inflightCount() === 0, 'entry filled');
    const mark = Number(v.markPrice('BTCUSDT'));
    expect(entry).toBeGreaterThan(0);

    const req = new OrderRequest();
    // a stop 2% under the mark on the mark price, closing whatever the position is; a take-profit 5% over
    // it for 0.001 on the contract price; a 1.5% trailing stop
    const stopPx = Math.round(mark * 0.98 * 10) / 10;
    req.conditional(0, OrderType.StopMarket, Side.Sell, stopPx, 0.002, true);
    req.triggerOnMark = true;
    const stop = r.runner.submit(req);
    const tpPx = Math.round(mark * 1.05 * 10) / 10;
    const tp = r.runner.submit(req.conditional(0, OrderType.TakeProfitMarket, Side.Sell, tpPx, 0.001, false));
    const trail = r.runner.submit(req.trailingStop(0, Side.Sell, 0.001, 1.5, 0));
    expect([stop, tp, trail].every((id) => id > 0)).toBe(true);
    // refused before the ring: a stop without a trigger price, a trailing stop outside 0.1..10 %
    expect(r.runner.submit(req.conditional(0, OrderType.StopMarket, Side.Sell, 0, 0.002, true))).toBe(-1);
    expect(r.runner.submit(req.trailingStop(0, Side.Sell, 0.001, 12, 0))).toBe(-1);
    await r.until(() => [stop, tp, trail].every((id) => r.of(id).length >= 1), 'algo acks');
    for (const id of [stop, tp, trail]) expect(r.of(id)[0]).toMatchObject({ status: OrderStatus.New, execType: ExecType.Ack });
    const open = await rest.openAlgoOrders('BTCUSDT');
    if (!open.ok) throw new Error(open.msg);
    const byType = Object.fromEntries(open.data.map((a) => [a.orderType, a]));
    expect(byType.STOP_MARKET).toMatchObject({ side: 'SELL', closePosition: true, triggerPrice: stopPx.toFixed(2), workingType: 'MARK_PRICE' });
    expect(byType.TAKE_PROFIT_MARKET).toMatchObject({ side: 'SELL', reduceOnly: true, quantity: '0.001', triggerPrice: tpPx.toFixed(2), workingType: 'CONTRACT_PRICE' });
    expect(byType.TRAILING_STOP_MARKET).toMatchObject({ side: 'SELL', reduceOnly: true, quantity: '0.001', callbackRate: '1.5' });
    expect(r.service.counters()).toMatchObject({ conditionals: 3 });
    // reduce-only by construction: conditional orders are not counted as pending exposure
    expect(Math.abs(r.runner.pendingQty(0, Side.Sell))).toBe(0);

    // cancel the trailing stop and the take-profit: their targets report Canceled (algo endpoint, by clientAlgoId)
    expect(r.runner.cancel(trail)).toBeGreaterThan(0);
    expect(r.runner.cancel(tp)).toBeGreaterThan(0);
    await r.until(() => r.of(trail).some((x) => x.status === OrderStatus.Canceled) && r.of(tp).some((x) => x.status === OrderStatus.Canceled), 'algo cancels');

    // the mark falls through the stop: the venue triggers it, its market order closes the position, and the
    // fill reaches the runner on the user stream under the stop's intent (clientAlgoId = our client id)
    v.setMarkPrice('BTCUSDT', (stopPx * 0.99).toFixed(1));
    await r.until(() => venuePos(v) === 0, 'the venue closed the position');
    await r.until(() => Math.abs(r.runner.position(0)) < 1e-12 && r.runner.inflightCount() === 0, 'the runner saw the stop fill and its end');
    expect(r.records.some((x) => x.stream && x.intentId === stop && x.execType === ExecType.Fill)).toBe(true);
    const after = await rest.openAlgoOrders('BTCUSDT');
    expect(after.ok && after.data.length).toBe(0);
  }, 30_000);
});

describe('amend', () => {
  it('ctx.amend moves a resting limit order (PUT /fapi/v1/order): the target reports the new state; a refused amend leaves the order and the runner\'s pending quantity as they were', async () => {
    const v = await venue();
    const r = await rig(v, { transport: 'http' });
    const bid = Number(v.top('BTCUSDT').bid);
    const req = new OrderRequest();
    const px = Math.round(bid * 0.9 * 10) / 10;
    const id = r.runner.submit(req.limit(0, Side.Buy, px, 0.002, TimeInForce.Gtc, false));
    await r.until(() => r.of(id).length === 1, 'ack');
    expect(r.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0.002, 12);
    const px2 = Math.round(bid * 0.91 * 10) / 10;
    const a = r.runner.amend(id, px2, 0.003);
    expect(a).toBeGreaterThan(id);
    // the new size counts at once
    expect(r.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0.003, 12);
    await r.until(() => r.of(id).length === 2, 'amend answer');
    expect(r.of(id)[1]).toMatchObject({ status: OrderStatus.New, execType: ExecType.Ack });
    const rest = new BinanceRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret });
    cleanups.push(() => rest.close());
    await rest.init();
    const open = await rest.openOrders('BTCUSDT');
    if (!open.ok) throw new Error(open.msg);
    expect(open.data).toHaveLength(1);
    expect(open.data[0]).toMatchObject({ price: px2.toFixed(2), origQty: '0.003', status: 'NEW' });

    // nothing to change: -5027, the order stays, the runner's pending quantity is restored
    const same = r.runner.amend(id, px2, 0.003);
    await r.until(() => r.of(same).length === 1, 'refused amend');
    expect(r.of(same)[0]).toMatchObject({ status: OrderStatus.Rejected, code: -5027 });
    expect(r.runner.counters.amendRejects).toBe(1);
    expect(r.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0.003, 12);
    // a smaller amend refused by the venue would undo its change too: amend below the minimum quantity
    const tooSmall = r.runner.amend(id, px2, 0.0001);
    expect(r.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0.0001, 12);
    await r.until(() => r.of(tooSmall).length === 1, 'refused small amend');
    expect(r.of(tooSmall)[0]!.status).toBe(OrderStatus.Rejected);
    expect(r.runner.pendingQty(0, Side.Buy)).toBeCloseTo(0.003, 12);
    // only limit orders in flight can be amended
    expect(r.runner.amend(424242, px2, 0.003)).toBe(-1);
    expect(r.service.counters()).toMatchObject({ amends: 3 });
    r.runner.cancel(id);
    await r.until(() => r.runner.inflightCount() === 0, 'cancelled');
    expect(Math.abs(r.runner.pendingQty(0, Side.Buy))).toBe(0);
  }, 30_000);
});

describe('dead-man switch', () => {
  it('keeps the venue\'s countdown cancel-all armed; when renewals stop (a dead process) the venue cancels our resting orders', async () => {
    const v = await venue();
    const r = await rig(v, { transport: 'http', deadManMs: 1200 });
    expect(r.service.deadMan).toMatchObject({ arms: 2, failures: 0 });
    const bid = Number(v.top('BTCUSDT').bid);
    const id = r.runner.submit(new OrderRequest().limit(0, Side.Buy, Math.round(bid * 0.9 * 10) / 10, 0.002, TimeInForce.Gtc, false));
    await r.until(() => r.of(id).length === 1, 'ack');
    // the process "dies": no more renewals; the venue's countdown runs out and it cancels everything
    clearInterval((r.service as unknown as { deadManTimer: NodeJS.Timeout }).deadManTimer);
    await r.until(() => r.records.some((x) => x.stream && x.intentId === id && x.status === OrderStatus.Canceled), 'the venue cancelled the order', 6_000);
    expect(r.runner.inflightCount()).toBe(0);
  }, 20_000);
});

describe('engine over the WebSocket API with the user data stream', () => {
  it('three workers: orders go out over the WS API, fills arrive once, the position equals the venue\'s', async () => {
    const v = await startBinanceVenue({ port: 0, rate: 2000, seed: 5, symbols: ['BTCUSDT', 'ETHUSDT'] });
    cleanups.push(() => v.close());
    const cfg = validateConfig({
      ...DEFAULT_CONFIG,
      strategy: { name: 'ping-pong', params: { symbol: 'BTCUSDT', quantity: 0.01, cooldownMs: 0, triggerPrice: 0, everyNTicks: 40 } },
      risk: { preset: 'off', maxOrderQty: 1, maxPositionQty: 1 },
      execution: { ...DEFAULT_CONFIG.execution, transport: 'wsapi', userStream: true },
      stats: { intervalMs: 3_600_000 },
    });
    const engine = new Engine(cfg, createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })), { restUrl: v.restUrl, wsUrl: v.wsUrl, wsApiUrl: v.wsApiUrl, apiKey: v.apiKey, apiSecret: v.apiSecret });
    const wsBefore = v.stats().wsApiRequests;
    const restOrdersBefore = v.stats().orderRequests;
    await engine.start();
    let report;
    try {
      await sleep(2500);
      await engine.flushStats();
    } finally {
      report = await engine.stop();
    }
    const c = report.counters;
    const e = report.workers.execution;
    const s = report.workers.strategy;
    expect(c.intents).toBeGreaterThan(5);
    expect(c.ordersSent).toBe(c.intents);
    expect(c.fills).toBe(c.ordersSent);
    expect(c.rejects).toBe(0);
    expect(c.transportFallbacks).toBe(0);
    // over the WS API, not REST
    expect(e['wsApiSent']).toBe(c.ordersSent);
    expect(e['viaPreferred']).toBe(c.ordersSent);
    expect(v.stats().wsApiRequests - wsBefore).toBeGreaterThanOrEqual(c.ordersSent);
    expect(v.stats().orderRequests - restOrdersBefore).toBe(0);
    // the stream reported the same fills: each applied once
    expect(c.userStreamEvents).toBeGreaterThan(c.ordersSent);
    expect(s['streamReports']).toBeGreaterThan(0);
    expect(s['duplicateQty']).toBeGreaterThan(0);
    expect(c.reconcileCorrections).toBe(0);
    expect(report.position).toBeCloseTo(venuePos(v), 9);
    for (const st of ['send', 'tickToOrder', 'venueRtt'] as const) expect(report.stages[st].count, st).toBeGreaterThan(0);
  }, 30_000);
});

describe('venue clock', () => {
  it('signs with the venue clock measured at start, and a -1021 triggers a resync after which orders pass again', async () => {
    let skew = 30_000; // the venue's clock runs 30 s ahead of ours
    const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, paused: true, symbols: ['BTCUSDT', 'ETHUSDT'], clock: () => Date.now() + skew });
    cleanups.push(() => v.close());
    const r = await rig(v, { userStream: false });
    expect(Math.abs(r.service.timeSync.offsetMs - 30_000)).toBeLessThan(500);
    const first = r.market(Side.Buy);
    await r.until(() => r.of(first).some((x) => x.execType === ExecType.Fill), 'first fill');
    await sleep(300); // past the minimum gap between two syncs
    skew = 90_000; // the venue clock jumps: our timestamps are now a minute late
    const late = r.market(Side.Sell);
    await r.until(() => r.of(late).some((x) => x.execType === ExecType.Reject), 'the -1021 reject');
    expect(r.of(late).find((x) => x.execType === ExecType.Reject)!.code).toBe(-1021);
    await waitFor(() => r.service.timeSync.counters.triggeredResyncs >= 1 && Math.abs(r.service.timeSync.offsetMs - 90_000) < 500, 'resync');
    const again = r.market(Side.Sell);
    await r.until(() => r.of(again).some((x) => x.execType === ExecType.Fill), 'fill after the resync');
  });
});
