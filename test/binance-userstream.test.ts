import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { AU, AccountUpdateReason, ExecType, OrderStatus, RP, RecordType, REPORT_SLOT_BYTES, headerFlags, headerType } from '../src/ring/layout.js';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { signHex } from '../src/venues/binance/sign.js';
import { ExecFlag } from '../src/venues/binance/UserDataDecoder.js';
import {
  OrderTracker,
  UndiciUserStreamRest,
  UserDataStream,
  UserStreamRestError,
  type RestOrderState,
  type RestPosition,
  type UserDataStreamOptions,
  type UserStreamEvent,
  type UserStreamRest,
} from '../src/venues/binance/UserDataStream.js';
import { sleep, waitFor } from './helpers/wait.js';

const PREFIX = 'us1-';
const registry = new SymbolRegistry(['BTCUSDT', 'ETHUSDT']);
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function venue(): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, paused: true, symbols: ['BTCUSDT', 'ETHUSDT'] });
  cleanups.push(() => v.close());
  return v;
}

/** A signed REST call to the venue, as a test client (not the engine's path). */
async function signed(v: BinanceVenueHandle, method: 'POST' | 'DELETE' | 'GET', path: string, params: Record<string, string | number>): Promise<Record<string, unknown>> {
  let qs = Object.entries({ ...params, timestamp: Date.now() })
    .map(([k, val]) => `${k}=${encodeURIComponent(String(val))}`)
    .join('&');
  qs += `&signature=${signHex(v.apiSecret, qs)}`;
  const res = await request(`${v.restUrl}${path}?${qs}`, { method, headers: { 'x-mbx-apikey': v.apiKey } });
  const j = (await res.body.json()) as Record<string, unknown>;
  if (res.statusCode !== 200) throw new Error(`${method} ${path}: ${JSON.stringify(j)}`);
  return j;
}

function limitBuy(v: BinanceVenueHandle, id: number): Promise<Record<string, unknown>> {
  const price = (Math.round(Number(v.top('BTCUSDT').bid) * 0.9 * 10) / 10).toFixed(1);
  return signed(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price, newClientOrderId: `${PREFIX}${id}` });
}

function marketOrder(v: BinanceVenueHandle, id: number | string, side: 'BUY' | 'SELL', qty = '0.002'): Promise<Record<string, unknown>> {
  return signed(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side, type: 'MARKET', quantity: qty, newClientOrderId: typeof id === 'number' ? `${PREFIX}${id}` : id });
}

/** UserStreamRest whose createListenKey can be held (the stream stays down meanwhile). */
class GatedRest implements UserStreamRest {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  creates = 0;
  constructor(readonly inner: UndiciUserStreamRest) {}
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.gate = null;
    this.open?.();
  }
  async createListenKey(): Promise<string> {
    if (this.gate) await this.gate;
    this.creates++;
    return this.inner.createListenKey();
  }
  keepAlive(k: string): Promise<void> {
    return this.inner.keepAlive(k);
  }
  close(k: string): Promise<void> {
    return this.inner.close(k);
  }
  openOrders(): Promise<RestOrderState[]> {
    return this.inner.openOrders();
  }
  positionRisk(): Promise<RestPosition[]> {
    return this.inner.positionRisk();
  }
  queryOrder(symbol: string, orderId: number): Promise<RestOrderState | null> {
    return this.inner.queryOrder(symbol, orderId);
  }
}

interface Rec {
  type: number;
  flags: number;
  sym: number;
  // ExecReport
  intentId: number;
  status: number;
  execType: number;
  lastQty: number;
  cumQty: number;
  orderId: number;
  // AccountUpdate
  amt: number;
  reason: number;
}

function records(w: ArraySlotWriter): Rec[] {
  const out: Rec[] = [];
  for (let k = 0; k < w.count; k++) {
    const b = w.base(k);
    const f = w.f64;
    const h = w.i32[b * 2]!;
    out.push({
      type: headerType(h),
      flags: headerFlags(h),
      sym: w.i32[b * 2 + 1]!,
      intentId: f[b + RP.INTENT_ID]!,
      status: f[b + RP.STATUS]!,
      execType: f[b + RP.EXEC_TYPE]!,
      lastQty: f[b + RP.LAST_QTY]!,
      cumQty: f[b + RP.CUM_QTY]!,
      orderId: f[b + RP.ORDER_ID]!,
      amt: f[b + AU.POSITION_AMT]!,
      reason: f[b + AU.REASON]!,
    });
  }
  return out;
}

function setup(v: BinanceVenueHandle, o: Partial<UserDataStreamOptions> = {}) {
  const inner = new UndiciUserStreamRest({ restUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret });
  const rest = new GatedRest(inner);
  const ring = new ArraySlotWriter(REPORT_SLOT_BYTES, 4096);
  const events: Array<[UserStreamEvent, string]> = [];
  const stream = new UserDataStream({
    wsBaseUrl: v.wsUrl,
    rest,
    decoder: { symbols: registry, clientIdPrefix: PREFIX, now: () => performance.now() * 1e6 },
    out: ring,
    backoff: { initialMs: 10, maxMs: 100 },
    onEvent: (k, d) => events.push([k, d]),
    ...o,
  });
  cleanups.push(async () => {
    await stream.stop();
    await inner.destroy();
  });
  return { stream, rest, inner, ring, events };
}

const execs = (w: ArraySlotWriter): Rec[] => records(w).filter((r) => r.type === RecordType.ExecReport);
const accts = (w: ArraySlotWriter): Rec[] => records(w).filter((r) => r.type === RecordType.AccountUpdate);
describe('UserDataStream against the simulated venue', () => {
  it('legacy /ws/<listenKey>: acks, fills (TRADE_LITE + ORDER_TRADE_UPDATE counted once), account updates', async () => {
    const v = await venue();
    const { stream, ring, events } = setup(v);
    await stream.start();
    expect(stream.connected).toBe(true);
    expect(stream.listenKey).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(events.map((e) => e[0])).toEqual(['connected', 'reconciled']);
    expect(ring.count).toBe(0); // nothing open, no position

    const lim = await limitBuy(v, 1);
    await waitFor(() => execs(ring).length === 1, 'ack');
    expect(execs(ring)[0]).toMatchObject({ intentId: 1, status: OrderStatus.New, execType: ExecType.Ack, orderId: lim['orderId'], sym: 0 });
    expect(stream.trackedOrders).toBe(1);

    await marketOrder(v, 2, 'BUY');
    await waitFor(() => accts(ring).length >= 1 && stream.decoder.orderUpdates >= 2, 'fill and account update');
    const fills = execs(ring).filter((r) => r.execType === ExecType.Fill);
    expect(fills.length).toBe(2 * stream.decoder.tradeLites); // one lite + one Dup full record per trade
    expect(fills.filter((r) => (r.flags & ExecFlag.Lite) !== 0).length).toBe(stream.decoder.tradeLites);
    const counted = fills.filter((r) => (r.flags & ExecFlag.Dup) === 0).reduce((s, r) => s + r.lastQty, 0);
    expect(counted).toBeCloseTo(0.002, 12);
    expect(fills.at(-1)).toMatchObject({ intentId: 2, status: OrderStatus.Filled, cumQty: 0.002 });
    const au = accts(ring).at(-1)!;
    expect(au).toMatchObject({ sym: 0, amt: 0.002, reason: AccountUpdateReason.Order });
    expect(v.positions().find((p) => p.symbol === 'BTCUSDT')?.positionAmt).toBe('0.002');
    expect(stream.decoder.malformed).toBe(0);
  });

  it('listenKeyExpired: new key, reconnect, and a reconcile reports what happened meanwhile', async () => {
    const v = await venue();
    const { stream, rest, ring, events } = setup(v);
    await stream.start();
    const lim = await limitBuy(v, 10);
    await waitFor(() => execs(ring).length === 1, 'ack');
    const key1 = stream.listenKey;

    rest.hold(); // the stream cannot come back until released
    expect(v.expireListenKeys()).toBe(1);
    await waitFor(() => stream.counters.listenKeyExpired === 1, 'listenKeyExpired');
    expect(stream.connected).toBe(false);
    // while down: the resting order is cancelled and a market order moves the position
    await signed(v, 'DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: `${PREFIX}10` });
    await marketOrder(v, 11, 'SELL', '0.003');
    const before = ring.count;
    rest.release();
    await waitFor(() => stream.counters.reconciles === 2, 'reconcile after the new connection');
    expect(stream.listenKey).not.toBe(key1);
    expect(stream.connected).toBe(true);
    const after = records(ring).slice(before);
    const cancel = after.find((r) => r.type === RecordType.ExecReport);
    expect(cancel).toMatchObject({ intentId: 10, orderId: lim['orderId'], status: OrderStatus.Canceled, execType: ExecType.Canceled });
    expect(cancel!.flags).toBe(ExecFlag.Stream | ExecFlag.Reconcile);
    const pos = after.find((r) => r.type === RecordType.AccountUpdate);
    expect(pos).toMatchObject({ sym: 0, amt: -0.003, reason: AccountUpdateReason.Reconcile });
    expect(stream.trackedOrders).toBe(0);
    expect(events.filter((e) => e[0] === 'listenKeyExpired').length).toBe(1);

    // and the stream carries events again
    await marketOrder(v, 12, 'BUY', '0.003');
    await waitFor(() => execs(ring).some((r) => r.intentId === 12 && r.status === OrderStatus.Filled), 'fill after recovery');
  });

  it('a dropped connection reconnects (same key) and reconciles positions held on the stream', async () => {
    const v = await venue();
    const { stream, rest, ring } = setup(v);
    await stream.start();
    await marketOrder(v, 20, 'BUY', '0.004');
    await waitFor(() => accts(ring).length === 1, 'position on the stream');
    const key1 = stream.listenKey;
    rest.hold();
    expect(v.dropStreams()).toBeGreaterThanOrEqual(1);
    await waitFor(() => stream.counters.disconnects === 1, 'disconnect seen');
    await marketOrder(v, 21, 'SELL', '0.004'); // flat again, unseen
    const before = ring.count;
    rest.release();
    await waitFor(() => stream.counters.reconciles === 2, 'reconcile');
    expect(stream.listenKey).toBe(key1); // POST returned the live key
    expect(stream.counters.connects).toBe(2);
    // flat: positionRisk v3 no longer lists BTCUSDT, the stream held 0.004 -> a zero record
    const flat = records(ring).slice(before).filter((r) => r.type === RecordType.AccountUpdate);
    expect(flat).toEqual([expect.objectContaining({ sym: 0, amt: 0, reason: AccountUpdateReason.Reconcile })]);
  });

  it('the 2026 /private/ws?listenKey=&events= form, with an event filter', async () => {
    const v = await venue();
    const { stream, ring } = setup(v, { urlStyle: 'private', events: ['ORDER_TRADE_UPDATE'] });
    await stream.start();
    await marketOrder(v, 30, 'BUY');
    await waitFor(() => execs(ring).some((r) => r.status === OrderStatus.Filled), 'fill');
    await sleep(50);
    expect(stream.decoder.tradeLites).toBe(0); // filtered out by the venue
    expect(stream.decoder.accountUpdates).toBe(0);
    const fills = execs(ring).filter((r) => r.execType === ExecType.Fill);
    expect(fills.every((r) => (r.flags & (ExecFlag.Dup | ExecFlag.Lite)) === 0)).toBe(true);
    expect(fills.reduce((s, r) => s + r.lastQty, 0)).toBeCloseTo(0.002, 12);
  });

  it('keeps the key alive, closes it on stop, and reports foreign orders', async () => {
    const v = await venue();
    const { stream, inner, ring } = setup(v, { keepAliveMs: 30 });
    await stream.start();
    await waitFor(() => stream.counters.keepAlives >= 2, 'keep-alives');
    await marketOrder(v, 'web_manual123', 'BUY');
    await waitFor(() => execs(ring).some((r) => r.status === OrderStatus.Filled), 'manual fill');
    const manual = execs(ring).filter((r) => r.execType === ExecType.Fill);
    expect(manual.every((r) => r.intentId === -1 && (r.flags & ExecFlag.Foreign) !== 0)).toBe(true);
    const key = stream.listenKey!;
    await stream.stop();
    expect(stream.connected).toBe(false);
    await expect(inner.keepAlive(key)).rejects.toMatchObject({ code: -1125 });
    await expect(inner.keepAlive(key)).rejects.toBeInstanceOf(UserStreamRestError);
  });

  it('a full ring C: frames wait in order and are written once the consumer makes room', async () => {
    const v = await venue();
    const small = new ArraySlotWriter(REPORT_SLOT_BYTES, 2);
    const { stream: s2 } = setup(v, { out: small });
    await s2.start();
    await marketOrder(v, 40, 'BUY');
    // TRADE_LITE, ORDER_TRADE_UPDATE, ACCOUNT_UPDATE: more records than the ring holds
    await waitFor(() => s2.backlogSize > 0, 'backlog');
    const first = records(small);
    expect(first.length).toBe(2);
    small.reset(); // the consumer drained the ring
    await waitFor(() => s2.backlogSize === 0, 'backlog flushed');
    const all = [...first, ...records(small)];
    expect(all.length).toBe(s2.decoder.records);
    expect(s2.counters.backlogged).toBeGreaterThan(0);
    // arrival order kept: NEW, the lite fill, its full (Dup) update, then the account update
    expect(all.map((r) => (r.type === RecordType.AccountUpdate ? [r.type] : [r.type, r.execType, r.flags & (ExecFlag.Lite | ExecFlag.Dup)]))).toEqual([
      [RecordType.ExecReport, ExecType.Ack, 0],
      [RecordType.ExecReport, ExecType.Fill, ExecFlag.Lite],
      [RecordType.ExecReport, ExecType.Fill, ExecFlag.Dup],
      [RecordType.AccountUpdate],
    ]);
    const counted = all.filter((r) => r.type === RecordType.ExecReport && r.execType === ExecType.Fill && (r.flags & ExecFlag.Dup) === 0);
    expect(counted.reduce((x, r) => x + r.lastQty, 0)).toBeCloseTo(0.002, 12);
  });
});

describe('OrderTracker', () => {
  it('agrees with a Map under random inserts, updates and removals (colliding ids)', () => {
    const t = new OrderTracker(64);
    const model = new Map<number, number>();
    let seed = 3;
    const rnd = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    for (let step = 0; step < 6_000; step++) {
      // ids that share low bits so probe chains form and wrap
      const id = 1 + rnd(200) * 128;
      const terminal = rnd(3) === 0;
      const status = terminal ? OrderStatus.Filled : OrderStatus.New;
      const before = model.size;
      if (terminal) model.delete(id);
      else if (model.has(id) || before < 64) model.set(id, step);
      t.update(id, 0, id, 1, status, 0, 0, step);
      expect(t.size).toBe(model.size);
      if (step % 61 === 0) {
        for (const [k, stamp] of model) expect(t.venueTime[t.find(k)]).toBe(stamp);
        expect(t.ids().sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
      }
    }
    expect(t.full).toBeGreaterThan(0);
  });
});
