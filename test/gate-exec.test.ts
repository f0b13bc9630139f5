import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateVenue, type GateVenueHandle } from '../src/sim/gate/GateVenue.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { AU, ExecFlag, ExecType, IN, IntentFlag, OrderStatus, OrderType, RP, RecordType, RejectReason, REPORT_SLOT_BYTES, TimeInForce, W, headerFlags, headerType } from '../src/ring/layout.js';
import type { ExecReportSink } from '../src/exec/OrderTransport.js';
import { GATE_IOC_FALLBACK, GateOrderTransport, GateWsOrderTransport, type GateTransportOptions } from '../src/exec/GateOrderTransport.js';
import { GateRestClient } from '../src/venues/gate/RestClient.js';
import { GateUserStream } from '../src/venues/gate/UserStream.js';
import type { GateContractRules } from '../src/venues/gate/contracts.js';
import { parseGateClientId, gateClientId, GateLeg } from '../src/venues/gate/clientId.js';
import { sleep, until } from './helpers/wait.js';

const CONTRACTS = ['BTC_USDT', 'ETH_USDT'];
const PREFIX = 'T7x';

interface Report {
  sym: number; intentId: number; status: OrderStatus; execType: ExecType; lastQty: number; lastPrice: number;
  cumQty: number; avgPrice: number; orderId: number; reason: RejectReason; message: string; code: number;
}
class Sink implements ExecReportSink {
  readonly all: Report[] = [];
  execReport(sym: number, intentId: number, _side: number, _r: number, _s: number, _a: number, status: OrderStatus, execType: ExecType, lastQty: number, lastPrice: number, cumQty: number, avgPrice: number, orderId: number, code: number, _vt: number, reason: RejectReason, message: string): void {
    this.all.push({ sym, intentId, status, execType, lastQty, lastPrice, cumQty, avgPrice, orderId, reason, message, code });
  }
  of(intentId: number): Report[] {
    return this.all.filter((r) => r.intentId === intentId);
  }
}

function intent(id: number, side: 1 | -1, type: OrderType, qty: number, over: { price?: number; tif?: TimeInForce; flags?: number; stop?: number; decision?: number; target?: number } = {}): Float64Array {
  const f = new Float64Array(16);
  f[W.RECV_TS] = 1;
  f[IN.INTENT_ID] = id;
  f[IN.SIDE] = side;
  f[IN.ORDER_TYPE] = type;
  f[IN.TIF] = over.tif ?? TimeInForce.Gtc;
  f[IN.PRICE_TICKS] = over.price ?? 0;
  f[IN.QTY_STEPS] = qty;
  f[IN.FLAGS] = over.flags ?? 0;
  f[IN.STOP_PRICE_TICKS] = over.stop ?? 0;
  f[IN.DECISION_PRICE] = over.decision ?? 0;
  f[IN.TARGET_ID] = over.target ?? 0;
  return f;
}

/** Ring C as records (the stream's output). */
function streamRecords(w: ArraySlotWriter): Array<{ type: number; flags: number; sym: number; f: Float64Array; msg: string }> {
  const out = [];
  for (let r = 0; r < w.count; r++) {
    const b = w.base(r);
    const h = w.i32[b * 2]!;
    const len = w.f64[b + RP.MSG_LEN]!;
    const m0 = (b + RP.MSG) * 8;
    out.push({ type: headerType(h), flags: headerFlags(h), sym: w.i32[b * 2 + 1]!, f: w.f64.slice(b, b + w.slotWords), msg: headerType(h) === RecordType.ExecReport ? Buffer.from(w.u8.subarray(m0, m0 + len)).toString('utf8') : '' });
  }
  return out;
}

describe('Gate client ids', () => {
  it('round-trips intent ids and fallback legs; other texts are foreign', () => {
    expect(gateClientId(PREFIX, 42)).toBe('t-T7x42');
    expect(parseGateClientId('t-T7x42', PREFIX)).toEqual({ intentId: 42, leg: GateLeg.Single });
    expect(parseGateClientId(gateClientId(PREFIX, 42, GateLeg.Ioc), PREFIX)).toEqual({ intentId: 42, leg: GateLeg.Ioc });
    expect(parseGateClientId(gateClientId(PREFIX, 42, GateLeg.Market), PREFIX)).toEqual({ intentId: 42, leg: GateLeg.Market });
    expect(parseGateClientId('t-other42', PREFIX).intentId).toBe(-1);
    expect(parseGateClientId('web', PREFIX).intentId).toBe(-1);
  });
});

describe('Gate order entry and private channels on the simulator', () => {
  let v: GateVenueHandle;
  let rules: GateContractRules[];
  let opts: GateTransportOptions;
  const ring = new ArraySlotWriter(REPORT_SLOT_BYTES, 4096);
  let stream: GateUserStream;
  beforeAll(async () => {
    v = await startGateVenue({ contracts: CONTRACTS, rate: 500, seed: 11 });
    const rc = new GateRestClient({ baseUrl: v.restUrl });
    const r = await rc.contracts();
    await rc.close();
    if (!r.ok) throw new Error(r.message);
    rules = CONTRACTS.map((n) => r.value.find((c) => c.name === n)!);
    opts = { restUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret, contracts: rules, clientIdPrefix: PREFIX, requestTimeoutMs: 2000, now: () => performance.now() * 1e6, venueTimeMs: Date.now };
    stream = new GateUserStream(new SymbolRegistry(CONTRACTS), ring, { wsUrl: v.wsUrl, apiKey: v.apiKey, apiSecret: v.apiSecret, userId: v.userId, clientIdPrefix: PREFIX, now: () => performance.now() * 1e6 });
    stream.start();
    await until(() => stream.subscribed, 5000, 'private channels subscribed');
  });
  afterAll(async () => {
    stream.stop();
    await v.close();
  });

  it('REST: rests a limit order, cancels it by text, takes with a market order, maps rejects by label', async () => {
    const sink = new Sink();
    const t = new GateOrderTransport(sink, opts);
    const top = v.top('BTC_USDT');
    const tick = Number(rules[0]!.orderPriceRound);
    const bidTicks = Math.round(Number(top.bid) / tick);
    t.place(intent(1, 1, OrderType.Limit, 3, { price: bidTicks - 20 }), 0, 0, 0);
    await until(() => sink.of(1).length === 1, 2000, 'ack');
    const ack = sink.of(1)[0]!;
    expect(ack).toMatchObject({ status: OrderStatus.New, execType: ExecType.Ack, cumQty: 0 });
    expect(ack.message).toMatch(/^\d{17}$/);
    expect(BigInt(ack.message)).toBeGreaterThan(2n ** 53n); // the exact id: a double would have rounded it
    t.cancel(intent(2, 1, OrderType.Limit, 0, { target: 1 }), 0, 0, 0);
    await until(() => sink.of(1).length === 2, 2000, 'cancel');
    expect(sink.of(1)[1]).toMatchObject({ status: OrderStatus.Canceled, execType: ExecType.Canceled, message: ack.message });

    t.place(intent(3, 1, OrderType.Market, 2), 0, 0, 0);
    await until(() => sink.of(3).length === 1, 2000, 'market fill');
    expect(sink.of(3)[0]).toMatchObject({ status: OrderStatus.Filled, execType: ExecType.Fill, cumQty: 2, lastQty: 2 });
    expect(sink.of(3)[0]!.avgPrice).toBeGreaterThan(0);

    const askTicks = Math.round(Number(v.top('BTC_USDT').ask) / tick);
    t.place(intent(4, 1, OrderType.Limit, 1, { price: askTicks + 5, tif: TimeInForce.Gtx }), 0, 0, 0); // post-only that would take
    t.place(intent(5, 1, OrderType.Limit, 1, { price: Math.round(bidTicks * 2) }), 0, 0, 0); // far off the mark
    t.cancel(intent(6, 1, OrderType.Limit, 0, { target: 999 }), 0, 0, 0); // never placed
    await until(() => sink.of(4).length + sink.of(5).length + sink.of(6).length === 3, 2000, 'rejects');
    expect(sink.of(4)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.Venue, code: 400 });
    expect(sink.of(4)[0]!.message).toMatch(/^ORDER_POC_IMMEDIATE: /);
    expect(sink.of(5)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.PercentPrice });
    expect(sink.of(6)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.Venue, code: 404 });
    expect(sink.of(6)[0]!.message).toMatch(/^ORDER_NOT_FOUND/);

    // the private channels saw the same orders: Ack, Canceled and the fill, under our intent ids
    // the trades come first (PartiallyFilled while the order's size is unknown), then the finished order as Dup
    await until(() => streamRecords(ring).some((r) => r.f[RP.INTENT_ID] === 3 && (r.flags & ExecFlag.Dup) !== 0), 2000, 'stream fill');
    await until(() => streamRecords(ring).some((r) => r.type === RecordType.AccountUpdate && r.sym === 0 && r.f[AU.POSITION_AMT] === 2), 2000, 'position 2');
    const recs = streamRecords(ring).filter((r) => r.type === RecordType.ExecReport);
    const one = recs.filter((r) => r.f[RP.INTENT_ID] === 1);
    expect(one.map((r) => r.f[RP.STATUS])).toEqual([OrderStatus.New, OrderStatus.Canceled]);
    expect(one.every((r) => r.msg === ack.message && (r.flags & ExecFlag.Stream) !== 0)).toBe(true);
    const fills3 = recs.filter((r) => r.f[RP.INTENT_ID] === 3 && r.f[RP.EXEC_TYPE] === ExecType.Fill && (r.flags & ExecFlag.Dup) === 0);
    expect(fills3.reduce((s, r) => s + r.f[RP.LAST_QTY]!, 0)).toBe(2);
    const final3 = recs.filter((r) => r.f[RP.INTENT_ID] === 3).at(-1)!;
    expect([final3.f[RP.STATUS], final3.f[RP.CUM_QTY], final3.f[RP.LAST_QTY], (final3.flags & ExecFlag.Dup) !== 0]).toEqual([OrderStatus.Filled, 2, 0, true]);
    expect(recs.some((r) => r.f[RP.INTENT_ID] === 4 || r.f[RP.INTENT_ID] === 5)).toBe(false);

    // a re-sent usertrades push is dropped
    const before = ring.count;
    const frame = `{"time":1,"time_ms":1000,"channel":"futures.usertrades","event":"update","result":[{"id":"777","create_time":1,"create_time_ms":1000,"contract":"ETH_USDT","order_id":"58828266000000999","size":-1,"price":"2000.5","role":"taker","text":"t-${PREFIX}90","fee":0.01,"point_fee":0}]}`;
    stream.handle(frame, 5);
    stream.handle(frame, 6);
    expect(ring.count).toBe(before + 1);
    expect(stream.counters.duplicateTrades).toBe(1);
    const last = streamRecords(ring)[before]!;
    expect(last.msg).toBe('58828266000000999');
    expect([last.f[RP.INTENT_ID], last.f[RP.SIDE], last.f[RP.LAST_QTY], last.f[RP.LAST_PRICE], last.f[RP.FEE]]).toEqual([90, -1, 1, 2000.5, 0.01]);
    await t.close();
  });

  it('IOC with fallback: an IOC limit at the premium, the unfilled rest at market, one Filled outcome', async () => {
    const sink = new Sink();
    const t = new GateOrderTransport(sink, { ...opts, iocFallback: { premium: 0 } });
    v.pause();
    const top = v.top('ETH_USDT');
    const qty = top.askSize + 3; // more than the best ask holds: the IOC leg at the ask fills only part
    t.place(intent(20, 1, OrderType.Market, qty, { flags: GATE_IOC_FALLBACK, decision: Number(top.ask) }), 1, 0, 0);
    await until(() => sink.of(20).some((r) => r.status === OrderStatus.Filled), 3000, 'fallback filled');
    v.resume();
    const rs = sink.of(20);
    expect(rs.map((r) => [r.status, r.lastQty, r.cumQty])).toEqual([
      [OrderStatus.PartiallyFilled, top.askSize, top.askSize],
      [OrderStatus.Filled, 3, qty],
    ]);
    expect(rs[0]!.avgPrice).toBe(Number(top.ask));
    expect(t.counters.fallbackLegs).toBe(2);
    // the stream reports both legs under the one intent and never an Expired for the IOC leg
    await until(() => streamRecords(ring).some((r) => r.f[RP.INTENT_ID] === 20 && r.f[RP.STATUS] === OrderStatus.Filled), 2000, 'stream filled');
    const st = streamRecords(ring).filter((r) => r.type === RecordType.ExecReport && r.f[RP.INTENT_ID] === 20);
    expect(st.some((r) => r.f[RP.STATUS] === OrderStatus.Expired)).toBe(false);
    expect(st.filter((r) => r.f[RP.EXEC_TYPE] === ExecType.Fill && (r.flags & ExecFlag.Dup) === 0).reduce((s, r) => s + r.f[RP.LAST_QTY]!, 0)).toBe(qty);
    await t.close();
  });

  it('price-triggered orders: a close-position stop fires and flattens; a far one rests and is cancelled', async () => {
    const sink = new Sink();
    const t = new GateOrderTransport(sink, opts);
    const pos = (): number => Number(v.positions().find((p) => p.symbol === 'BTC_USDT')?.positionAmt ?? 0);
    const start = pos();
    t.place(intent(30, 1, OrderType.Market, 4), 0, 0, 0);
    await until(() => sink.of(30).length === 1, 2000, 'entry');
    expect(pos()).toBe(start + 4);
    const tick = Number(rules[0]!.orderPriceRound);
    const lastTicks = Math.round(Number(v.top('BTC_USDT').bid) / tick);
    // a sell stop far below: rests
    t.place(intent(31, -1, OrderType.StopMarket, 0, { stop: lastTicks - 5000, flags: IntentFlag.ClosePosition | IntentFlag.ReduceOnly }), 0, 0, 0);
    await until(() => sink.of(31).length === 1, 2000, 'stop ack');
    expect(sink.of(31)[0]).toMatchObject({ status: OrderStatus.New, execType: ExecType.Ack });
    const stopId = t.priceOrderIdOf(31);
    expect(stopId).toBe(sink.of(31)[0]!.message);
    await sleep(50);
    expect(pos()).toBe(start + 4);
    t.cancel(intent(32, -1, OrderType.StopMarket, 0, { target: 31 }), 0, 0, 0);
    await until(() => sink.of(31).length === 2, 2000, 'stop cancelled');
    expect(sink.of(31)[1]).toMatchObject({ status: OrderStatus.Canceled, execType: ExecType.Canceled, message: stopId });
    // a sell stop above the price: its condition (price <= trigger) holds at once, the position closes
    t.place(intent(33, -1, OrderType.StopMarket, 0, { stop: lastTicks + 5000, flags: IntentFlag.ClosePosition | IntentFlag.ReduceOnly, }), 0, 0, 0);
    await until(() => pos() === 0, 3000, 'position closed by the stop');
    expect(sink.of(33)[0]).toMatchObject({ status: OrderStatus.New });
    await until(() => streamRecords(ring).some((r) => r.type === RecordType.AccountUpdate && r.sym === 0 && r.f[AU.POSITION_AMT] === 0), 2000, 'stream position 0');
    await t.close();
  });

  it('WebSocket API: place and cancel over futures.order_place / order_cancel; conditional intents go over REST', async () => {
    const sink = new Sink();
    const rest = new GateOrderTransport(sink, opts);
    const t = new GateWsOrderTransport(sink, { ...opts, wsUrl: v.wsUrl }, rest);
    t.start();
    await until(() => t.isReady(), 3000, 'logged in');
    const tick = Number(rules[1]!.orderPriceRound);
    const bidTicks = Math.round(Number(v.top('ETH_USDT').bid) / tick);
    t.place(intent(40, 1, OrderType.Limit, 2, { price: bidTicks - 10 }), 1, 0, 0);
    await until(() => sink.of(40).length === 1, 2000, 'ws ack');
    expect(sink.of(40)[0]).toMatchObject({ status: OrderStatus.New, execType: ExecType.Ack });
    t.cancel(intent(41, 1, OrderType.Limit, 0, { target: 40 }), 1, 0, 0);
    await until(() => sink.of(40).length === 2, 2000, 'ws cancel');
    expect(sink.of(40)[1]).toMatchObject({ status: OrderStatus.Canceled, message: sink.of(40)[0]!.message });
    t.place(intent(42, 1, OrderType.Limit, 1, { price: Math.round(bidTicks * 2) }), 1, 0, 0);
    await until(() => sink.of(42).length === 1, 2000, 'ws reject');
    expect(sink.of(42)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.PercentPrice });
    expect(t.counters.sent).toBe(3);
    // in flight when the connection goes: Unknown
    t.place(intent(43, 1, OrderType.Limit, 1, { price: bidTicks - 10 }), 1, 0, 0);
    t.ws.close(1000);
    await until(() => sink.of(43).length === 1, 2000, 'ws unknown');
    expect(sink.of(43)[0]).toMatchObject({ status: OrderStatus.Unknown, reason: RejectReason.Transport });
    t.place(intent(44, 1, OrderType.Limit, 1, { price: bidTicks - 10 }), 1, 0, 0);
    expect(sink.of(44)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.Transport });
    await rest.close();
    await t.close();
  });

  it('REST: an answer that never comes is Unknown (Timeout); a refused connection is a definite reject', async () => {
    const conns = new Set<net.Socket>();
    const silent = net.createServer((sock) => conns.add(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const sink = new Sink();
    const t = new GateOrderTransport(sink, { ...opts, restUrl: `http://127.0.0.1:${port}/api/v4`, requestTimeoutMs: 150 });
    t.place(intent(50, 1, OrderType.Market, 1), 0, 0, 0);
    await until(() => sink.of(50).length === 1, 3000, 'timeout');
    expect(sink.of(50)[0]).toMatchObject({ status: OrderStatus.Unknown, execType: ExecType.Reject, reason: RejectReason.Timeout });
    for (const c of conns) c.destroy();
    await t.close();
    await new Promise<void>((r) => silent.close(() => r()));
    const t2 = new GateOrderTransport(sink, { ...opts, restUrl: `http://127.0.0.1:${port}/api/v4` });
    t2.place(intent(51, 1, OrderType.Market, 1), 0, 0, 0);
    await until(() => sink.of(51).length === 1, 3000, 'refused');
    expect(sink.of(51)[0]).toMatchObject({ status: OrderStatus.Rejected, reason: RejectReason.Transport });
    await t2.close();
  });
});
