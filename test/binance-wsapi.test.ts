import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeInstrument } from '../src/core/Instrument.js';
import { RingReportSink } from '../src/exec/OrderTransport.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { ExecType, IN, INTENT_SLOT_BYTES, IntentFlag, OrderStatus, OrderType, REPORT_SLOT_BYTES, RP, RejectReason, Side, TimeInForce, W } from '../src/ring/layout.js';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { signHex, wsApiPayload } from '../src/venues/binance/sign.js';
import { WsApiClient, WsApiRequestEncoder, WsApiResponseDecoder, type WsApiClientOptions } from '../src/venues/binance/WsApiClient.js';
import { HAVE_SHARED_FIXTURES, fixtureLines } from './helpers/fixtures.js';
import { sleep, waitFor } from './helpers/wait.js';

// ------------------------------------------------------------------ helpers

const INSTRUMENTS = [makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '100'), makeInstrument('ETHUSDT', '0.01', '0.001', '0.001', '20')];
const PREFIX = 'tw1-';
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function venue(): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, paused: true, symbols: ['BTCUSDT', 'ETHUSDT'] });
  cleanups.push(() => v.close());
  return v;
}

/** A TCP relay that can hold the venue's replies (a request "without response") or cut every connection. */
async function relay(targetPort: number) {
  const pairs: Array<[net.Socket, net.Socket]> = [];
  let hold = false;
  const held: Array<[net.Socket, Buffer]> = [];
  const server = net.createServer((c) => {
    const u = net.connect(targetPort, '127.0.0.1');
    pairs.push([c, u]);
    c.on('data', (d) => u.write(d));
    u.on('data', (d) => (hold ? held.push([c, Buffer.from(d)]) : c.write(d)));
    const end = (): void => {
      c.destroy();
      u.destroy();
    };
    c.on('close', end);
    u.on('close', end);
    c.on('error', end);
    u.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const r = {
    port,
    hold(): void {
      hold = true;
    },
    release(): void {
      hold = false;
      for (const [c, d] of held.splice(0)) if (!c.destroyed) c.write(d);
    },
    cut(): void {
      held.length = 0;
      for (const [c, u] of pairs.splice(0)) {
        c.destroy();
        u.destroy();
      }
    },
  };
  cleanups.push(
    () =>
      new Promise<void>((res) => {
        r.cut();
        server.close(() => res());
      }),
  );
  return r;
}

interface Report {
  sym: number;
  intentId: number;
  status: number;
  execType: number;
  side: number;
  lastQty: number;
  lastPrice: number;
  cumQty: number;
  avgPrice: number;
  orderId: number;
  code: number;
  reason: number;
  sentTs: number;
  venueTime: number;
  msg: string;
}

function reports(w: ArraySlotWriter): Report[] {
  const out: Report[] = [];
  for (let k = 0; k < w.count; k++) {
    const b = w.base(k);
    const f = w.f64;
    const len = f[b + RP.MSG_LEN]!;
    out.push({
      sym: w.i32[b * 2 + 1]!,
      intentId: f[b + RP.INTENT_ID]!,
      status: f[b + RP.STATUS]!,
      execType: f[b + RP.EXEC_TYPE]!,
      side: f[b + RP.SIDE]!,
      lastQty: f[b + RP.LAST_QTY]!,
      lastPrice: f[b + RP.LAST_PRICE]!,
      cumQty: f[b + RP.CUM_QTY]!,
      avgPrice: f[b + RP.AVG_PRICE]!,
      orderId: f[b + RP.ORDER_ID]!,
      code: f[b + RP.ERROR_CODE]!,
      reason: f[b + RP.REASON]!,
      sentTs: f[b + RP.SENT_TS]!,
      venueTime: f[b + RP.VENUE_TIME]!,
      msg: Buffer.from(w.u8.subarray((b + RP.MSG) * 8, (b + RP.MSG) * 8 + len)).toString('utf8'),
    });
  }
  return out;
}

/** A ring-B intent record. */
function intent(o: { id: number; side?: number; type?: number; tif?: number; priceTicks?: number; qtySteps: number; reduceOnly?: boolean; target?: number }): Float64Array {
  const f = new Float64Array(INTENT_SLOT_BYTES / 8);
  f[W.RECV_TS] = 1;
  f[IN.INTENT_ID] = o.id;
  f[IN.SIDE] = o.side ?? Side.Buy;
  f[IN.ORDER_TYPE] = o.type ?? OrderType.Limit;
  f[IN.TIF] = o.tif ?? TimeInForce.Gtc;
  f[IN.PRICE_TICKS] = o.priceTicks ?? 0;
  f[IN.QTY_STEPS] = o.qtySteps;
  f[IN.FLAGS] = o.reduceOnly === true ? IntentFlag.ReduceOnly : 0;
  f[IN.TARGET_ID] = o.target ?? 0;
  return f;
}

interface Rig {
  client: WsApiClient;
  ring: ArraySlotWriter;
  rates: number[][];
}

function rig(url: string, v: BinanceVenueHandle, o: Partial<WsApiClientOptions> = {}): Rig {
  const ring = new ArraySlotWriter(REPORT_SLOT_BYTES, 256);
  const rates: number[][] = [];
  const client = new WsApiClient({
    url,
    apiKey: v.apiKey,
    apiSecret: v.apiSecret,
    instruments: INSTRUMENTS,
    clientIdPrefix: PREFIX,
    recvWindow: 5000,
    sink: new RingReportSink(ring, () => 1),
    now: () => performance.now() * 1e6,
    venueTimeMs: () => Date.now(),
    requestTimeoutMs: 2_000,
    onRateLimits: (...a) => rates.push(a),
    ws: { backoff: { initialMs: 20, maxMs: 100, jitter: 0 } },
    ...o,
  });
  cleanups.push(() => client.close());
  return { client, ring, rates };
}

// ------------------------------------------------------------------ encoder / decoder (no network)

describe('WsApiRequestEncoder', () => {
  const enc = new WsApiRequestEncoder(INSTRUMENTS, 'key123', 'secret456', PREFIX, 5000);
  const buf = Buffer.alloc(2048);

  it('order.place: JSON params, payload sorted by key, HMAC over it', () => {
    const n = enc.encodePlace(17, intent({ id: 42, priceTicks: 500001, qtySteps: 15, reduceOnly: true, tif: TimeInForce.Gtx }), 0, 0, 1700000000123.9, buf);
    const req = JSON.parse(buf.toString('utf8', 0, n)) as { id: number; method: string; params: Record<string, unknown> };
    expect(req.id).toBe(17);
    expect(req.method).toBe('order.place');
    expect(req.params).toEqual({
      apiKey: 'key123',
      newClientOrderId: 'tw1-42',
      newOrderRespType: 'RESULT',
      price: '50000.1',
      quantity: '0.015',
      recvWindow: 5000,
      reduceOnly: 'true',
      side: 'BUY',
      symbol: 'BTCUSDT',
      timeInForce: 'GTX',
      timestamp: 1700000000123,
      type: 'LIMIT',
      signature: signHex('secret456', wsApiPayload(req.params)),
    });
    expect(enc.lastPayload()).toBe(wsApiPayload(req.params));
  });

  it('MARKET has no price/timeInForce; cancel goes by client order id; other types refused', () => {
    let n = enc.encodePlace(1, intent({ id: 7, side: Side.Sell, type: OrderType.Market, qtySteps: 3 }), 1, 0, 5, buf);
    let req = JSON.parse(buf.toString('utf8', 0, n)) as { params: Record<string, unknown> };
    expect(Object.keys(req.params)).toEqual(['apiKey', 'newClientOrderId', 'newOrderRespType', 'quantity', 'recvWindow', 'side', 'symbol', 'timestamp', 'type', 'signature']);
    expect(req.params['side']).toBe('SELL');
    expect(req.params['symbol']).toBe('ETHUSDT');
    n = enc.encodeCancel(2, 0, 42, 6, buf);
    req = JSON.parse(buf.toString('utf8', 0, n)) as { params: Record<string, unknown> };
    expect(req).toMatchObject({ id: 2, method: 'order.cancel', params: { apiKey: 'key123', origClientOrderId: 'tw1-42', recvWindow: 5000, symbol: 'BTCUSDT', timestamp: 6 } });
    expect(req.params['signature']).toBe(signHex('secret456', wsApiPayload(req.params)));
    expect(() => enc.encodePlace(3, intent({ id: 8, type: OrderType.StopMarket, qtySteps: 1 }), 0, 0, 5, buf)).toThrow(/unsupported/);
  });
});

describe('WsApiResponseDecoder', () => {
  const d = new WsApiResponseDecoder();
  const read = (s: string): boolean => {
    const b = Buffer.from(s);
    return d.read(b, 0, b.length);
  };

  it('result, error, rateLimits and id:null pushes', () => {
    expect(read('{"id":5,"status":200,"result":{"orderId":99,"symbol":"BTCUSDT","status":"FILLED","clientOrderId":"x","price":"0","avgPrice":"100.5","origQty":"0.002","executedQty":"0.002","updateTime":1700},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400,"count":7},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":300,"count":3},{"rateLimitType":"ORDERS","interval":"MINUTE","intervalNum":1,"limit":1200,"count":4}]}')).toBe(true);
    expect(d).toMatchObject({ id: 5, status: 200, hasResult: true, orderId: 99, orderStatus: OrderStatus.Filled, executedQty: 0.002, avgPrice: 100.5, updateTime: 1700, weight1m: 7, orders10s: 3, orders1m: 4, hasError: false });
    expect(read('{ "id" : 6 , "status" : 400 , "error" : { "code" : -1022 , "msg" : "Signature for this request is not valid." } }')).toBe(true);
    expect(d).toMatchObject({ id: 6, status: 400, hasError: true, code: -1022, hasResult: false, orders10s: -1 });
    expect(d.message()).toBe('Signature for this request is not valid.');
    expect(read('{"id":null,"status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}}')).toBe(true);
    expect(d.id).toBe(-1);
    expect(read('{"id":"abc","status":200,"result":[]}')).toBe(true);
    expect(d.id).toBe(-1);
    expect(read('{"id":5,"status":200,"result":{"status":"MAYBE"}}')).toBe(true);
    expect(d.orderStatus).toBe(-2);
    expect(read('{"id":5,"status":200')).toBe(false);
    expect(read('nope')).toBe(false);
  });

  it.skipIf(!HAVE_SHARED_FIXTURES)('the documented order.place response (wsapi.jsonl line 2) decodes to its JSON.parse values', () => {
    const line = fixtureLines('binance-usdm/wsapi.jsonl')[1]!;
    const j = JSON.parse(line) as { status: number; result: Record<string, string | number>; rateLimits: Array<{ rateLimitType: string; interval: string; intervalNum: number; count: number }> };
    expect(read(line)).toBe(true);
    const rl = (t: string, iv: string, n: number): number => j.rateLimits.find((r) => r.rateLimitType === t && r.interval === iv && r.intervalNum === n)!.count;
    expect(d).toMatchObject({
      id: -1, // a string id (not one of ours)
      status: j.status,
      orderId: j.result['orderId'],
      orderStatus: OrderStatus.New,
      executedQty: Number(j.result['executedQty']),
      avgPrice: Number(j.result['avgPrice']),
      updateTime: j.result['updateTime'],
      weight1m: rl('REQUEST_WEIGHT', 'MINUTE', 1),
      orders10s: rl('ORDERS', 'SECOND', 10),
      orders1m: rl('ORDERS', 'MINUTE', 1),
    });
  });
});

// ------------------------------------------------------------------ against the simulator

describe('WsApiClient against the simulated venue', () => {
  it('places LIMIT and MARKET orders, cancels, reports rate limits', async () => {
    const v = await venue();
    const { client, ring, rates } = rig(v.wsApiUrl, v);
    await client.start();
    expect(client.isReady()).toBe(true);
    const bid = Number(v.top('BTCUSDT').bid);
    const farTicks = Math.round((bid * 0.9) / 0.1);
    client.place(intent({ id: 1, priceTicks: farTicks, qtySteps: 2 }), 0, 0, 0);
    client.place(intent({ id: 2, type: OrderType.Market, qtySteps: 2 }), 0, 0, 0);
    await waitFor(() => ring.count === 2, 'two responses');
    let r = reports(ring);
    const limit = r.find((x) => x.intentId === 1)!;
    expect(limit).toMatchObject({ status: OrderStatus.New, execType: ExecType.Ack, side: Side.Buy, lastQty: 0, code: 0, reason: RejectReason.None, sym: 0 });
    expect(limit.orderId).toBeGreaterThan(0);
    expect(limit.venueTime).toBeGreaterThan(1.6e12);
    expect(limit.sentTs).toBeGreaterThan(0);
    const mkt = r.find((x) => x.intentId === 2)!;
    expect(mkt).toMatchObject({ status: OrderStatus.Filled, execType: ExecType.Fill, lastQty: 0.002, cumQty: 0.002 });
    expect(mkt.lastPrice).toBeGreaterThan(bid * 0.99);
    expect(mkt.avgPrice).toBe(mkt.lastPrice);
    // the venue's own record agrees
    expect(v.fills().length).toBeGreaterThan(0);
    expect(rates.length).toBe(2);
    expect(rates[1]![1]).toBe(2); // two orders in the 10 s window
    expect(rates[1]![2]).toBe(2);

    client.cancel(intent({ id: 3, target: 1, qtySteps: 0 }), 0, 0, 0);
    client.cancel(intent({ id: 4, target: 999, qtySteps: 0 }), 0, 0, 0);
    await waitFor(() => ring.count === 4, 'cancel responses');
    r = reports(ring);
    expect(r[2]).toMatchObject({ intentId: 1, status: OrderStatus.Canceled, execType: ExecType.Canceled, orderId: limit.orderId, lastQty: 0 });
    expect(r[3]).toMatchObject({ intentId: 4, status: OrderStatus.Rejected, execType: ExecType.Reject, code: -2011, reason: RejectReason.Venue });
    expect(client.counters).toMatchObject({ sent: 4, responses: 4, acks: 1, fills: 1, canceled: 1, rejects: 1, unknown: 0 });
    expect(client.inFlightCount()).toBe(0);
  });

  it('a bad signature is a venue reject (-1022)', async () => {
    const v = await venue();
    const { client, ring } = rig(v.wsApiUrl, v, { apiSecret: 'not-the-secret' });
    await client.start();
    client.place(intent({ id: 5, type: OrderType.Market, qtySteps: 2 }), 0, 0, 0);
    await waitFor(() => ring.count === 1, 'reject');
    expect(reports(ring)[0]).toMatchObject({ intentId: 5, status: OrderStatus.Rejected, execType: ExecType.Reject, code: -1022, reason: RejectReason.Venue });
    expect(reports(ring)[0]!.msg).toMatch(/signature/i);
    expect(v.stats().ordersAccepted).toBe(0);
  });

  it('no response: Unknown after the timeout, the late response still reports the real outcome', async () => {
    const v = await venue();
    const px = await relay(v.port);
    const { client, ring } = rig(`ws://127.0.0.1:${px.port}/ws-fapi/v1`, v, { requestTimeoutMs: 150 });
    await client.start();
    px.hold();
    client.place(intent({ id: 6, type: OrderType.Market, qtySteps: 2 }), 0, 0, 0);
    await waitFor(() => ring.count === 1, 'timeout report');
    expect(reports(ring)[0]).toMatchObject({ intentId: 6, status: OrderStatus.Unknown, execType: ExecType.Reject, reason: RejectReason.Timeout });
    expect(v.stats().ordersAccepted).toBe(1); // the venue did take it: never resend blindly
    expect(client.inFlightCount()).toBe(0);
    px.release();
    await waitFor(() => ring.count === 2, 'late response');
    expect(reports(ring)[1]).toMatchObject({ intentId: 6, status: OrderStatus.Filled, execType: ExecType.Fill, lastQty: 0.002 });
    expect(client.counters).toMatchObject({ timeouts: 1, lateResponses: 1, unknown: 1 });
  });

  it('a dropped connection marks requests in flight Unknown, reconnects, and refuses orders while down', async () => {
    const v = await venue();
    const px = await relay(v.port);
    let disconnects = 0;
    const { client, ring } = rig(`ws://127.0.0.1:${px.port}/ws-fapi/v1`, v, { requestTimeoutMs: 5_000, onDisconnect: () => disconnects++ });
    await client.start();
    px.hold();
    client.place(intent({ id: 7, type: OrderType.Market, qtySteps: 2 }), 0, 0, 0);
    client.place(intent({ id: 8, type: OrderType.Market, qtySteps: 10, side: Side.Sell }), 1, 0, 0);
    await waitFor(() => v.stats().ordersAccepted === 2, 'orders at the venue');
    px.cut();
    await waitFor(() => ring.count === 2, 'unknown reports');
    for (const r of reports(ring)) expect(r).toMatchObject({ status: OrderStatus.Unknown, reason: RejectReason.Transport });
    expect(reports(ring).map((r) => r.intentId).sort()).toEqual([7, 8]);
    expect(client.counters.lostInFlight).toBe(2);
    expect(disconnects).toBe(1);
    // while down (the relay holds the reconnect's handshake reply): a definite local reject, nothing sent
    await sleep(50);
    expect(client.isReady()).toBe(false);
    client.place(intent({ id: 9, type: OrderType.Market, qtySteps: 2 }), 0, 0, 0);
    expect(reports(ring)[2]).toMatchObject({ intentId: 9, status: OrderStatus.Rejected, reason: RejectReason.Transport, sentTs: 0 });
    expect(client.counters.notConnected).toBe(1);
    px.release();
    await waitFor(() => client.isReady(), 'reconnect');
    const before = ring.count;
    client.place(intent({ id: 10, type: OrderType.Market, qtySteps: 2 }), 0, 0, 0);
    await waitFor(() => ring.count === before + 1, 'order after reconnect');
    expect(reports(ring)[before]).toMatchObject({ intentId: 10, status: OrderStatus.Filled });
  });
});
