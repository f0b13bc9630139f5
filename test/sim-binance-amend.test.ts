import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { request, WebSocket } from 'undici';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { wsApiPayload } from '../src/sim/binance/signing.js';
import { resolveInstruments } from '../src/sim/instruments.js';
import { SyntheticMarket } from '../src/sim/market/SyntheticMarket.js';
import type { TradeEvent } from '../src/sim/market/types.js';
import { PassiveBook } from '../src/sim/matching/PassiveBook.js';
import { createQueueModel, type QueueModelSpec } from '../src/sim/matching/QueueModel.js';
import { Rng } from '../src/sim/rng.js';
import { VenueCore, type NewOrder, type OrderAmendment, type SimAccount } from '../src/sim/Venue.js';

// ---- queue priority: the passive book and the venue core -------------------------------------------------

/** A trade at `price` (ticks) of `qty` steps by a seller (it hits resting buys). */
function sellerTrade(price: number, qty: number): TradeEvent {
  return { kind: 'trade', sym: 0, id: 1, firstTradeId: 1, lastTradeId: 1, price, qty, buyerMaker: true, time: 1 };
}

function coreWith(queueModel: QueueModelSpec): { core: VenueCore; acc: SimAccount; m: SyntheticMarket } {
  const m = new SyntheticMarket(resolveInstruments(['BTCUSDT']), { seed: 5 });
  const c = new VenueCore(m, { rng: new Rng(1), queueModel });
  return { core: c, acc: c.addAccount('a', 'k', 's'), m };
}

let cid = 0;
function limitBuy(c: VenueCore, price: number, qty: number, timeInForce: NewOrder['timeInForce'] = 'GTC'): NewOrder {
  return {
    inst: c.market.instruments[0]!,
    side: 'BUY',
    type: 'LIMIT',
    timeInForce,
    qty,
    price,
    clientOrderId: `amend-${++cid}`,
    reduceOnly: false,
    positionSide: 'BOTH',
    goodTillDate: 0,
  };
}

function amendment(orderId: number, qty: number, price: number): OrderAmendment {
  return { orderId, clientOrderId: null, side: 'BUY', qty, price, priceMatch: 'NONE', percentPrice: null };
}

describe('sim amend: queue priority', () => {
  it('passive book: a requeued order goes behind the order that joined after it', () => {
    // No market queue ('none'): only the participants' own time priority decides.
    const book = new PassiveBook<string>(createQueueModel('none'));
    const first = book.add(0, 'BUY', 100, 5, 0, 'first');
    book.add(0, 'BUY', 100, 5, 0, 'second');
    book.requeue(first, 100, 4, 0);
    const n = book.apply(sellerTrade(100, 5), 100, 101);
    expect(n).toBe(1);
    expect([book.fill(0).entry.ref, book.fill(0).qty]).toEqual(['second', 5]);
    expect(first.level).toBeNull();
    expect(book.size).toBe(1);
  });

  it('without an amendment the first of two orders at a price fills first (the control case)', () => {
    const { core: c, acc, m } = coreWith('risk-averse');
    const top = m.top(0);
    const a = c.placeOrder(acc, limitBuy(c, top.bid, 10), 1);
    const b = c.placeOrder(acc, limitBuy(c, top.bid, 10), 2);
    if (!a.ok || !b.ok) throw new Error('placement refused');
    // The market queue in front of both, then 10 steps more: exactly one order's worth.
    c.matchResting(sellerTrade(top.bid, top.bidQty + 10));
    expect([a.order.status, a.order.executedQty, b.order.status, b.order.executedQty]).toEqual(['FILLED', 10, 'NEW', 0]);
  });

  it('amending the first order\'s quantity sends it to the back: the taker fill hits the other order first', () => {
    const { core: c, acc, m } = coreWith('risk-averse');
    const top = m.top(0);
    const a = c.placeOrder(acc, limitBuy(c, top.bid, 10), 1);
    const b = c.placeOrder(acc, limitBuy(c, top.bid, 10), 2);
    if (!a.ok || !b.ok) throw new Error('placement refused');
    const r = c.amendOrder(acc, 0, amendment(a.order.orderId, 8, top.bid), 3);
    expect(r.ok && !r.canceled && [r.order.qty, r.order.price, r.order.status]).toEqual([8, top.bid, 'NEW']);
    // It re-joined behind the level's market quantity (risk-averse: all of it) and behind b.
    expect(c.queueAhead(a.order.orderId)).toBe(top.bidQty);
    c.matchResting(sellerTrade(top.bid, top.bidQty + 10));
    expect([b.order.status, b.order.executedQty, a.order.status, a.order.executedQty]).toEqual(['FILLED', 10, 'NEW', 0]);
    // The next 8 steps at the price are a's.
    c.matchResting(sellerTrade(top.bid, 8));
    expect([a.order.status, a.order.executedQty]).toEqual(['FILLED', 8]);
    expect(c.fills().map((f) => [f.orderId, f.qty, f.maker])).toEqual([
      [b.order.orderId, '0.010', true],
      [a.order.orderId, '0.008', true],
    ]);
  });

  it('a new price re-queues the order at its new level behind what the market holds there', () => {
    const { core: c, acc, m } = coreWith('risk-averse');
    const [, second] = m.levels(0, 2).bids;
    const top = m.top(0);
    const a = c.placeOrder(acc, limitBuy(c, top.bid, 10), 1);
    if (!a.ok) throw new Error('placement refused');
    const r = c.amendOrder(acc, 0, amendment(a.order.orderId, 10, second![0]), 2);
    expect(r.ok && r.order.price).toBe(second![0]);
    expect(c.queueAhead(a.order.orderId)).toBe(second![1]);
    // A trade at the old price no longer concerns it.
    c.matchResting(sellerTrade(top.bid, top.bidQty + 100));
    expect(a.order.executedQty).toBe(0);
  });

  it('a GTC amended to a price through the ask takes liquidity at once as taker; the rest stays open', () => {
    const { core: c, acc, m } = coreWith('risk-averse');
    const top = m.top(0);
    const a = c.placeOrder(acc, limitBuy(c, top.bid, 3), 1);
    if (!a.ok) throw new Error('placement refused');
    const r = c.amendOrder(acc, 0, amendment(a.order.orderId, 3, top.ask), 2);
    if (!r.ok) throw new Error(`amend refused: ${r.reason}`);
    expect([r.canceled, r.order.status, r.order.executedQty, r.fills.map((f) => [f.qty, f.maker])]).toEqual([false, 'FILLED', 3, [['0.003', false]]]);
    expect(c.hasResting(0)).toBe(false);
    expect(m.top(0).askQty).toBe(top.askQty - 3);
  });
});

// ---- REST, user stream and WebSocket API ----------------------------------------------------------------

const venues: BinanceVenueHandle[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) {
    try {
      ws.close();
    } catch {
      /* already closed */
    }
  }
  for (const v of venues.splice(0)) await v.close();
});

/** A venue whose market stands still (paused, no flow), so the book is what the tests read. */
async function venue(): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, rate: 2000, paused: true, seed: 7 });
  venues.push(v);
  return v;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred: () => boolean, timeoutMs = 4000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for condition');
    await sleep(5);
  }
}

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  obj: Json;
  headers: Record<string, string | string[] | undefined>;
}

function hmac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/** A REST call: GET/DELETE parameters in the query, POST/PUT in the body; signed unless `key`. */
async function call(v: BinanceVenueHandle, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: Record<string, string> = {}, signed = true): Promise<Reply> {
  const p = new URLSearchParams(params);
  if (signed) p.set('timestamp', String(Date.now()));
  let payload = p.toString();
  if (signed) payload += `${payload ? '&' : ''}signature=${hmac(v.apiSecret, payload)}`;
  const inBody = method === 'POST' || method === 'PUT';
  const r = await request(`${v.restUrl}${path}${!inBody && payload ? `?${payload}` : ''}`, {
    method,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-mbx-apikey': v.apiKey },
    body: inBody ? payload : undefined,
  });
  return { status: r.statusCode, obj: (await r.body.json()) as Json, headers: r.headers };
}

/** Order updates of a user-data socket (`o` of each ORDER_TRADE_UPDATE). */
async function userStream(v: BinanceVenueHandle): Promise<() => Json[]> {
  const key = (await call(v, 'POST', '/fapi/v1/listenKey', {}, false)).obj['listenKey'] as string;
  const ws = new WebSocket(`${v.wsUrl}/ws/${key}`);
  sockets.push(ws);
  const events: Json[] = [];
  ws.addEventListener('message', (e) => events.push(JSON.parse(String(e.data)) as Json));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('cannot connect the user stream')));
  });
  return () => events.filter((e) => e['e'] === 'ORDER_TRADE_UPDATE').map((e) => e['o'] as Json);
}

// BTCUSDT: tick 0.10 (prices print with 2 decimals), step 0.001.
const ticks = (s: string): number => Math.round(Number(s) * 10);
const px = (t: number): string => (t / 10).toFixed(2);
const steps = (s: string): number => Math.round(Number(s) * 1000);
const qty = (n: number): string => (n / 1000).toFixed(3);

async function placeLimit(v: BinanceVenueHandle, side: 'BUY' | 'SELL', price: string, quantity: string, timeInForce = 'GTC', clientId?: string): Promise<Json> {
  const params: Record<string, string> = { symbol: 'BTCUSDT', side, type: 'LIMIT', timeInForce, quantity, price };
  if (clientId !== undefined) params['newClientOrderId'] = clientId;
  const r = await call(v, 'POST', '/fapi/v1/order', params);
  expect(r.status).toBe(200);
  return r.obj;
}

describe('sim amend: PUT /fapi/v1/order', () => {
  it('changes price and quantity: the order object with the new values, counted as an order, AMENDMENT on the user stream', async () => {
    const v = await venue();
    const updates = await userStream(v);
    const bid = ticks(v.top('BTCUSDT').bid);
    const placed = await placeLimit(v, 'BUY', px(bid - 10), '0.002', 'GTC', 'amend-me');
    const r = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(placed['orderId']), side: 'BUY', quantity: '0.003', price: px(bid - 20) });
    expect(r.status).toBe(200);
    expect(r.obj).toMatchObject({
      orderId: placed['orderId'],
      symbol: 'BTCUSDT',
      status: 'NEW',
      clientOrderId: 'amend-me',
      price: px(bid - 20),
      origQty: '0.003',
      executedQty: '0.000',
      type: 'LIMIT',
      timeInForce: 'GTC',
      side: 'BUY',
      priceMatch: 'NONE',
    });
    expect(Object.keys(r.obj)).toEqual(Object.keys(placed));
    // One order for the placement, one for the amendment; IP weight 1.
    expect([r.headers['x-mbx-order-count-10s'], r.headers['x-mbx-order-count-1m']]).toEqual(['2', '2']);
    const q = await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'amend-me' });
    expect(q.obj).toMatchObject({ status: 'NEW', price: px(bid - 20), origQty: '0.003' });

    // By client order id, quantity only.
    const byCid = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'amend-me', side: 'BUY', quantity: '0.004', price: px(bid - 20) });
    expect(byCid.obj).toMatchObject({ status: 'NEW', origQty: '0.004', price: px(bid - 20) });

    await waitFor(() => updates().length >= 3);
    expect(updates().map((o) => [o['x'], o['X'], o['p'], o['q']])).toEqual([
      ['NEW', 'NEW', px(bid - 10), '0.002'],
      ['AMENDMENT', 'NEW', px(bid - 20), '0.003'],
      ['AMENDMENT', 'NEW', px(bid - 20), '0.004'],
    ]);
    expect(updates()[1]).toMatchObject({ s: 'BTCUSDT', c: 'amend-me', S: 'BUY', o: 'LIMIT', f: 'GTC', i: placed['orderId'], l: '0', z: '0', t: 0 });
  });

  it('refusals leave the order as it was: -5027 nothing to change, filters (LOT_SIZE, PRICE_FILTER, PERCENT_PRICE), side, parameters', async () => {
    const v = await venue();
    const updates = await userStream(v);
    const top = v.top('BTCUSDT');
    const bid = ticks(top.bid);
    const ask = ticks(top.ask);
    // Pin the mark price at the mid: PERCENT_PRICE bounds are mark x 1.05 (BUY) and mark x 0.95 (SELL).
    const mark = Math.round((bid + ask) / 2);
    v.setMarkPrice('BTCUSDT', px(mark));
    const buy = await placeLimit(v, 'BUY', px(bid - 10), '0.002');
    const sell = await placeLimit(v, 'SELL', px(ask + 10), '0.002');
    const amend = (o: Json, side: string, quantity: string, price: string): Promise<Reply> =>
      call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(o['orderId']), side, quantity, price });
    const cases: Array<[Promise<Reply>, number, string]> = [
      [amend(buy, 'BUY', '0.002', px(bid - 10)), -5027, 'No need to modify the order.'],
      [amend(buy, 'BUY', '1001.000', px(bid - 10)), -4005, 'Quantity greater than max quantity.'],
      [amend(buy, 'BUY', '0.0025', px(bid - 10)), -1111, 'Precision is over the maximum defined for this asset.'],
      [amend(buy, 'BUY', '0.002', '100000.05'), -4014, 'Price not increased by tick size.'],
      [amend(buy, 'BUY', '0.002', '100.00'), -4013, 'Price less than min price.'],
      [amend(buy, 'BUY', '0.002', '900000.00'), -4002, 'Price greater than max price.'],
      [amend(buy, 'BUY', '0.002', px(Math.floor((mark * 105) / 100) + 1)), -4016, `Limit price can't be higher than ${px(Math.floor((mark * 105) / 100))}.`],
      [amend(sell, 'SELL', '0.002', px(Math.ceil((mark * 95) / 100) - 1)), -4024, `Limit price can't be lower than ${px(Math.ceil((mark * 95) / 100))}.`],
      [amend(buy, 'SELL', '0.003', px(bid - 10)), -1117, 'Invalid side.'],
    ];
    for (const [p, code, msg] of cases) {
      const r = await p;
      expect([r.status, r.obj]).toEqual([400, { code, msg }]);
    }
    const missing = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(buy['orderId']), side: 'BUY', quantity: '0.003' });
    expect(missing.obj).toEqual({ code: -1102, msg: "Mandatory parameter 'price' was not sent, was empty/null, or malformed." });
    const both = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(buy['orderId']), side: 'BUY', quantity: '0.003', price: px(bid), priceMatch: 'QUEUE' });
    expect(both.obj).toEqual({ code: -1106, msg: "Parameter 'price' sent when not required." });
    const noId = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', quantity: '0.003', price: px(bid) });
    expect(noId.obj).toEqual({ code: -1102, msg: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!" });

    for (const [o, price] of [[buy, px(bid - 10)], [sell, px(ask + 10)]] as const) {
      const q = await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(o['orderId']) });
      expect(q.obj).toMatchObject({ status: 'NEW', price, origQty: '0.002', executedQty: '0.000' });
    }
    await sleep(50);
    expect(updates().map((o) => o['x'])).toEqual(['NEW', 'NEW']);
  });

  it('an unknown or finished order: -2013 Order does not exist.', async () => {
    const v = await venue();
    const bid = ticks(v.top('BTCUSDT').bid);
    const unknown = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: '1', side: 'BUY', quantity: '0.002', price: px(bid) });
    expect([unknown.status, unknown.obj]).toEqual([400, { code: -2013, msg: 'Order does not exist.' }]);
    const byCid = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'nobody', side: 'BUY', quantity: '0.002', price: px(bid) });
    expect(byCid.obj).toEqual({ code: -2013, msg: 'Order does not exist.' });
    const placed = await placeLimit(v, 'BUY', px(bid - 10), '0.002');
    await call(v, 'DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(placed['orderId']) });
    const finished = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(placed['orderId']), side: 'BUY', quantity: '0.003', price: px(bid - 10) });
    expect(finished.obj).toEqual({ code: -2013, msg: 'Order does not exist.' });
  });

  it('a post-only (GTX) order whose new price would take is CANCELED by the amendment', async () => {
    const v = await venue();
    const updates = await userStream(v);
    const top = v.top('BTCUSDT');
    const placed = await placeLimit(v, 'BUY', px(ticks(top.bid) - 10), '0.002', 'GTX');
    expect(placed['status']).toBe('NEW');
    const r = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(placed['orderId']), side: 'BUY', quantity: '0.002', price: top.ask });
    expect(r.status).toBe(200);
    // Cancelled as it stood: its price and quantity are the ones before the amendment.
    expect(r.obj).toMatchObject({ orderId: placed['orderId'], status: 'CANCELED', timeInForce: 'GTX', price: px(ticks(top.bid) - 10), origQty: '0.002', executedQty: '0.000' });
    expect(v.top('BTCUSDT')).toEqual(top);
    expect((await call(v, 'GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' })).obj).toEqual([]);
    await waitFor(() => updates().length >= 2);
    expect(updates().map((o) => [o['x'], o['X']])).toEqual([
      ['NEW', 'NEW'],
      ['CANCELED', 'CANCELED'],
    ]);
    // A GTX amended to a price that does not take is simply amended.
    const other = await placeLimit(v, 'BUY', px(ticks(top.bid) - 10), '0.002', 'GTX');
    const ok = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(other['orderId']), side: 'BUY', quantity: '0.002', price: top.bid });
    expect(ok.obj).toMatchObject({ status: 'NEW', price: top.bid, timeInForce: 'GTX' });
  });

  it('a partially filled order: amended above the filled quantity stays PARTIALLY_FILLED; at or below it, CANCELED', async () => {
    const v = await venue();
    const updates = await userStream(v);
    const top = v.top('BTCUSDT');
    const filled = steps(top.askQty);
    // A buy at the ask for 5 steps more than the level holds: takes the level, rests the rest.
    const placed = await call(v, 'POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: qty(filled + 5), price: top.ask, newOrderRespType: 'RESULT',
    });
    expect(placed.obj).toMatchObject({ status: 'PARTIALLY_FILLED', executedQty: qty(filled), origQty: qty(filled + 5) });
    const id = String(placed.obj['orderId']);
    const more = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: id, side: 'BUY', quantity: qty(filled + 2), price: top.ask });
    expect(more.obj).toMatchObject({ status: 'PARTIALLY_FILLED', origQty: qty(filled + 2), executedQty: qty(filled), price: top.ask });
    const cut = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: id, side: 'BUY', quantity: qty(filled), price: top.ask });
    expect(cut.status).toBe(200);
    expect(cut.obj).toMatchObject({ status: 'CANCELED', origQty: qty(filled + 2), executedQty: qty(filled) });
    await waitFor(() => updates().some((o) => o['x'] === 'CANCELED'));
    expect(updates().filter((o) => o['x'] !== 'TRADE').map((o) => [o['x'], o['X'], o['q'], o['z']])).toEqual([
      ['NEW', 'NEW', qty(filled + 5), '0'],
      ['AMENDMENT', 'PARTIALLY_FILLED', qty(filled + 2), qty(filled)],
      ['CANCELED', 'CANCELED', qty(filled + 2), qty(filled)],
    ]);
    // The position keeps what was filled.
    expect(v.positions()).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', positionAmt: qty(filled) })]);
  });

  it('priceMatch QUEUE prices the amendment at the best price of its own side', async () => {
    const v = await venue();
    const top = v.top('BTCUSDT');
    const placed = await placeLimit(v, 'BUY', px(ticks(top.bid) - 10), '0.002');
    const r = await call(v, 'PUT', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(placed['orderId']), side: 'BUY', quantity: '0.002', priceMatch: 'QUEUE' });
    expect(r.obj).toMatchObject({ status: 'NEW', price: top.bid, priceMatch: 'QUEUE' });
  });
});

describe('sim amend: WebSocket API order.modify', () => {
  it('same parameters and result as the REST call, errors in the envelope, counted on the order counters', async () => {
    const v = await venue();
    const ws = new WebSocket(v.wsApiUrl);
    sockets.push(ws);
    const frames: string[] = [];
    ws.addEventListener('message', (e) => frames.push(String(e.data)));
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('cannot connect the WebSocket API')));
    });
    let n = 0;
    const send = async (method: string, params: Record<string, unknown>): Promise<Json> => {
      const id = `m${++n}`;
      const p: Record<string, unknown> = { apiKey: v.apiKey, ...params, timestamp: Date.now() };
      p['signature'] = hmac(v.apiSecret, wsApiPayload(p));
      const from = frames.length;
      ws.send(JSON.stringify({ id, method, params: p }));
      await waitFor(() => frames.length > from);
      const r = JSON.parse(frames[from]!) as Json;
      expect(r['id']).toBe(id);
      return r;
    };
    const bid = ticks(v.top('BTCUSDT').bid);
    const placed = await send('order.place', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price: px(bid - 10), newClientOrderId: 'ws-amend' });
    const orderId = (placed['result'] as Json)['orderId'];
    const modified = await send('order.modify', { symbol: 'BTCUSDT', orderId, side: 'BUY', quantity: '0.005', price: px(bid - 30) });
    expect(modified).toMatchObject({
      status: 200,
      result: { orderId, clientOrderId: 'ws-amend', status: 'NEW', price: px(bid - 30), origQty: '0.005', executedQty: '0.000', type: 'LIMIT' },
    });
    expect(Object.keys(modified['result'] as Json)).toEqual(Object.keys(placed['result'] as Json));
    expect((modified['rateLimits'] as Json[]).filter((l) => l['rateLimitType'] === 'ORDERS').map((l) => l['count'])).toEqual([2, 2]);
    const rest = await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'ws-amend' });
    expect(rest.obj).toMatchObject({ price: px(bid - 30), origQty: '0.005' });

    const same = await send('order.modify', { symbol: 'BTCUSDT', origClientOrderId: 'ws-amend', side: 'BUY', quantity: '0.005', price: px(bid - 30) });
    expect(same).toMatchObject({ status: 400, error: { code: -5027, msg: 'No need to modify the order.' } });
    const unknown = await send('order.modify', { symbol: 'BTCUSDT', orderId: 1, side: 'BUY', quantity: '0.005', price: px(bid - 30) });
    expect(unknown).toMatchObject({ status: 400, error: { code: -2013, msg: 'Order does not exist.' } });
  });
});
